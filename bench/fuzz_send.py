"""Fuzzing past validation: every calendar that validates plans, renders and sends cleanly.

What validates must render and send (issue 9): a value the schema accepts that then breaks
`plan` or a send (`interval: 2.0`, `rate_limit: "20/h\\n"`) stops the daemon. Cases are the
valid corpus (tests/cases/valid, examples/, calendar.example.yaml) with their values
mutated towards the edges while staying plausible: texts with emoji, right-to-left letters,
combining marks, control characters, escapes and trailing newlines; numbers as floats,
huge, zero or negative; times with offsets and odd zones; names with dots and dashes; plus
the text mutations of `fuzz_checker.py`. Each case runs `pushcal validate`; those that exit 0
then run `pushcal plan` (must exit 0), and each entry's next occurrence is delivered through
the real `deliver` (claim, render, send, record) to one in-process sandbox on loopback
with a throwaway ledger. A case fails on any exception, any plan exit but 0, or a send
that ends in a state other than sent, failed or retry_wait (an exception settles `unknown`).

    /work/venv/bin/python bench/fuzz_send.py [--small] [--cases N] [--seed N] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import random
import time
import traceback
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import harness
from fuzz_checker import CORPUS, MUTATIONS
from harness import Result

from runner.calendar import Calendar, Occurrence, instants, load
from runner.cli import Context, main
from runner.delivery import deliver
from runner.ledger import SqliteLedger, State
from runner.oneall import Client, Credentials
from runner.sandbox import Sandbox

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
TEXTS = ["🚀🎉 launch", "مرحبا بالعالم", "שלום", "e\u0301\u0301\u0301", "tab\there", "line\n",
         "\\n literal", "ünïcödé " * 40, "#tag @who https://example.com/ä?q=1", "\u200d\u200c",
         "x" * 3000, "", " ", "\"quoted\"", "a: b", "- item", "{braces}", "null"]
NUMBERS = [0, 1, 2, 7, 366, 999999, -1, 2.0, 1.5, 10 ** 12]
ENDED = {State.SENT, State.ACCEPTED, State.FAILED, State.RETRY_WAIT}  # not unknown


def leaves(node: Any) -> int:
    if isinstance(node, dict):
        return sum(leaves(v) for v in node.values())
    if isinstance(node, list):
        return sum(leaves(v) for v in node)
    return 1


def mutate_values(rng: random.Random, node: Any, chance: float) -> Any:
    """A copy of `node` with about two leaves pushed to the edges."""
    if isinstance(node, dict):
        return {k: mutate_values(rng, v, chance) for k, v in node.items()}
    if isinstance(node, list):
        return [mutate_values(rng, v, chance) for v in node]
    if rng.random() > chance:
        return node
    if isinstance(node, str):
        return rng.choice([rng.choice(TEXTS), node + rng.choice(TEXTS), node + "\n",
                           node.upper(), node.replace("-", "."), node + "Z"])
    if isinstance(node, bool):
        return not node
    if isinstance(node, int | float):
        return rng.choice(NUMBERS)
    return node


def cases(rng: random.Random, count: int) -> list[str]:
    docs = []
    for path in CORPUS:
        try:
            docs.append(json.loads(json.dumps(_data(path))))
        except (ValueError, TypeError):
            continue
    texts = [p.read_text(encoding="utf-8") for p in CORPUS]
    found = []
    for index in range(count):
        if index % 4 == 3:
            found.append(rng.choice(MUTATIONS)(rng, rng.choice(texts), texts)
                         if texts else "")
        else:
            doc = rng.choice(docs)
            mutated = mutate_values(rng, doc, 2 / max(1, leaves(doc)))
            found.append(json.dumps(mutated, ensure_ascii=rng.random() < 0.5))
    return [c.decode("utf-8", "replace") if isinstance(c, bytes) else c for c in found]


def _data(path: Path) -> Any:
    from runner.calendar.files import load_file

    return load_file(path).data


def _cli(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, Context(env={}, clock=lambda: NOW, out=out, err=err))
    return code, out.getvalue() + err.getvalue()


async def send_all(cal: Calendar, box: Sandbox, ledger: SqliteLedger, limit: int) -> list[str]:
    """Deliver each entry's next occurrence; the problems found."""
    problems = []
    async with Client(Credentials.from_env(box.env()), clock=lambda: NOW) as client:
        for entry in list(cal.entries.values())[:limit]:
            if not entry.enabled:
                continue
            since = NOW - timedelta(days=3650)
            first = next(instants(entry, since, since + timedelta(days=36500)), None)
            if first is None:
                continue
            key, local = first
            for account in entry.to:
                occ = Occurrence(local.astimezone(UTC), key, account, entry.id, local,
                                 entry.grace)
                delivery = await deliver(cal, occ, ledger=ledger, client=client,
                                         clock=lambda: NOW)
                if delivery is not None and delivery.row.state not in ENDED:
                    problems.append(f"{key} -> {account}: {delivery.row.state}:"
                                    f" {delivery.row.info[:200]}")
    return problems


def run(args: argparse.Namespace) -> Result:
    total = args.cases or (60 if args.small else 3000)
    rng = random.Random(args.seed)
    counts: Counter[str] = Counter()
    failures: list[str] = []
    started = time.perf_counter()
    with harness.workdir("fuzz_send", args.keep) as work, Sandbox() as box:
        for index, text in enumerate(cases(rng, total)):
            path = work / f"case-{index:05d}.yaml"
            path.write_text(text, encoding="utf-8")
            code, _ = _cli(["validate", str(path)])
            counts[f"validate exit {code}"] += 1
            if code != 0:
                path.unlink()
                continue
            plan_code, plan_said = _cli(["plan", str(path), "--format", "json"])
            if plan_code != 0:
                failures.append(f"{path}: plan exit {plan_code}: {plan_said[-300:]}")
                continue
            try:
                cal = load([str(path)])
                with SqliteLedger(work / f"ledger-{index:05d}.sqlite", clock=lambda: NOW) as led:
                    found = asyncio.run(send_all(cal, box, led, 20))
            except Exception:  # any exception past validation is the bug this hunts
                found = [traceback.format_exc(limit=3)]
            counts["sent"] += 1
            failures += [f"{path}: {p}" for p in found]
            if not found and not args.keep:
                path.unlink()
    elapsed = time.perf_counter() - started
    print(harness.table(("outcome", "cases"), sorted(counts.items())))
    for failure in failures[:20]:
        print("FAILED", failure)
    result = Result("fuzz_send")
    result.figures = {"cases": total, "counts": dict(counts), "failures": failures[:50],
                      "elapsed_s": round(elapsed, 1)}
    result.target(f"{counts['sent']} valid calendars plan, render and send with no"
                  f" exception ({len(failures)} failed)", not failures and counts["sent"] > 0)
    return result


if __name__ == "__main__":
    parser = harness.options(__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--cases", type=int, help="how many cases (default 3,000; --small 60)")
    parser.add_argument("--seed", type=int, default=1, help="seeds the mutations")
    raise SystemExit(harness.main(run, parser))
