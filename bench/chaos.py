"""Chaos run: `pushcal run` under faults and SIGKILLs; nothing posted twice, nothing lost unsaid.

1,000 one-off posts (`--small`: 60) to 20 accounts (6), spread over two minutes (8 s), are
published by the daemon (`python -m runner run CAL --state LEDGER`, a real process) to a
sandbox in its own process, so the sandbox and what it created outlive every daemon. The
sandbox draws a fault for each push: 20% 503, 5% 429 (both with Retry-After), 2% "timeout"
(the post is created, the answer never comes: a read timeout for the client, whose default
is 30 s, so the sandbox holds it 32 s; `--small` holds 1 s, then closes without answering),
and 2% "refuse" (answered, then the port closes for a moment so new connections get
ECONNREFUSED; with keep-alive off every request needs a new connection, so a share of
requests close to 5% is refused). The daemon is killed with SIGKILL at 10 random moments (3)
and restarted at once each time; grace is 1 h so a kill never makes a post `missed`.

At the end the sandbox's records are compared with the ledger: duplicates, occurrences lost
without a record, the final states, what the sandbox created for each `unknown` and why each
`unknown` is one (a kill: the daemon logged "recovered"; or an unanswered request).

Every daemon posts its alerts (`PUSHCAL_NOTIFY_JSON`, signed with `PUSHCAL_NOTIFY_SECRET`)
to a loopback collector in this process, and the calendar also holds a few posts already
hours past their grace (`stale-*`), which become `missed`: at the end every `unknown` and
`missed` row must have had an alert, every signature must verify, and no body may hold
the OneAll private key or the webhook secret.

    /work/venv/bin/python bench/chaos.py [--small] [--seed N] [--json PATH] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import calgen
import harness
from harness import REPO, Broken, Result, percentile
from procs import PUSHCAL, DaemonProcess, SandboxProcess
from sinks import AlertSink

SWALLOWED = ("timeout", "reset-after", "drop")  # sandbox faults that leave no answer
OPEN = ("planned", "sending", "retry_wait")
NOTIFY_SECRET = "chaos-webhook-secret-0123456789"
ALERTED_AS = {"unknown": ("unknown", "recovered", "error"), "missed": ("missed",)}
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class Plan:
    """The size and fault settings of one run."""

    posts: int
    span_s: float  # the posts' times spread over this
    accounts: int
    kills: int
    lead_s: float  # from writing the calendar to the first post
    settle_s: float  # after the last post, how long retries may take to end
    hang_s: float  # how long a "timeout" holds its answer
    refuse_s: float  # how long a "refuse" closes the port
    latency_ms: float = 20.0  # so that kills often land while a request is in flight
    stale: int = 0  # posts already beyond their grace at the first start: `missed`

    def faults(self, seed: int) -> dict[str, Any]:
        """The sandbox's settings: weights by repetition (the dice pick uniformly)."""
        codes = ["503"] * 20 + ["429"] * 5 + ["timeout"] * 2 + ["refuse"] * 2
        return {"latency_ms": self.latency_ms, "fail_rate": len(codes) / 100,
                "fail_codes": codes, "hang_s": self.hang_s, "refuse_s": self.refuse_s,
                "keep_alive": False, "seed": seed}


FULL = Plan(posts=1000, span_s=120.0, accounts=20, kills=10, lead_s=6.0, settle_s=480.0,
            hang_s=32.0, refuse_s=0.16, stale=20)
SMALL = Plan(posts=60, span_s=8.0, accounts=6, kills=3, lead_s=3.0, settle_s=11.0,
             hang_s=1.0, refuse_s=0.15, stale=3)


def write_calendar(folder: Path, plan: Plan, rng: random.Random) -> tuple[list[Path], float]:
    """The posts at random millisecond times; returns the files and the last post's epoch."""
    start = time.time() + plan.lead_s
    times = sorted(start + round(rng.uniform(0, plan.span_s), 3) for _ in range(plan.posts))
    cal = calgen.text_posts(calgen.accounts(plan.accounts),
                            [datetime.fromtimestamp(t, UTC) for t in times], "chaos")
    cal.grace = "1h"
    past = [datetime.fromtimestamp(time.time() - 3 * 3600 - i, UTC) for i in range(plan.stale)]
    stale = calgen.text_posts(calgen.accounts(plan.accounts), past, "stale")
    stale.accounts = {}  # the accounts are defined once, in the first file
    return calgen.write(folder, [cal, stale] if plan.stale else [cal]), times[-1]


def set_faults(url: str, faults: dict[str, Any]) -> None:
    """POST the fault settings to the sandbox (retrying while an outage refuses us)."""
    request = urllib.request.Request(url + "/_sandbox/faults", data=json.dumps(faults).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    for _ in range(50):
        try:
            with _NO_PROXY.open(request, timeout=30):
                return
        except ConnectionRefusedError:
            time.sleep(0.1)
        except urllib.error.URLError as error:
            if not isinstance(error.reason, ConnectionRefusedError):
                raise
            time.sleep(0.1)
    raise Broken("the sandbox kept refusing its own fault settings")


class Daemons:
    """The succession of `pushcal run` processes on one ledger, each killed or stopped."""

    def __init__(self, paths: list[Path], state: Path, env: dict[str, str], logs: Path) -> None:
        self.paths, self.state, self.env, self.logs = paths, state, env, logs
        self.finished: list[DaemonProcess] = []
        self.current = DaemonProcess(paths, state, env).start()

    def kill_and_restart(self) -> None:
        os.kill(self.current.pid, signal.SIGKILL)
        if self.current.stop() != -signal.SIGKILL:
            raise Broken(f"the daemon did not die of SIGKILL: {self.current.tail()}")
        self.finished.append(self.current)
        self.current = DaemonProcess(self.paths, self.state, self.env).start()

    def stop(self) -> int:
        code = self.current.stop()
        self.finished.append(self.current)
        for index, daemon in enumerate(self.finished):
            lines = [json.dumps(event) for _, event in daemon.events]
            (self.logs / f"daemon-{index:02d}.log").write_text("\n".join(lines) + "\n")
        return code

    def named(self, name: str) -> list[dict[str, Any]]:
        return [e for daemon in self.finished for e in daemon.named(name)]


def ledger_rows(state: Path) -> list[dict[str, Any]]:
    """Every ledger row, through `pushcal history --format json` (the public contract)."""
    done = subprocess.run([*PUSHCAL, "history", "--format", "json", "--state", str(state)],
                          capture_output=True, text=True, cwd=REPO, check=False)
    if done.returncode != 0:
        raise Broken(f"pushcal history exited {done.returncode}: {done.stderr[-500:]}")
    rows: list[dict[str, Any]] = json.loads(done.stdout)
    return rows


def settled(state: Path, posts: int) -> bool:
    """Every post has a row and none is planned, sending or waiting for a retry."""
    rows = ledger_rows(state)
    return len(rows) >= posts and not any(r["state"] in OPEN for r in rows)


def unleash(plan: Plan, work: Path, sandbox: SandboxProcess, rng: random.Random,
            sink: AlertSink) -> Daemons:
    """Run the daemons through the kills; return them stopped, everything settled or given up."""
    paths, last = write_calendar(work / "calendar", plan, rng)
    state = work / "ledger.sqlite"
    env = {**sandbox.env(), "PUSHCAL_NOTIFY_JSON": sink.url, "PUSHCAL_NOTIFY_SECRET": NOTIFY_SECRET}
    daemons = Daemons(paths, state, env, work)
    daemons.current.wait_for("started", 30)
    began = time.time()
    kills = sorted(rng.uniform(began + 1.0, last + 5.0) for _ in range(plan.kills))
    for moment in kills:
        time.sleep(max(0.0, moment - time.time()))
        daemons.kill_and_restart()
    deadline = last + plan.settle_s
    while time.time() < deadline and not (time.time() > last
                                          and settled(state, plan.posts + plan.stale)):
        time.sleep(0.5)
    code = daemons.stop()
    if code != 0:
        raise Broken(f"the last daemon exited {code} on SIGTERM: {daemons.current.tail()}")
    return daemons


def received(url: str) -> list[dict[str, Any]]:
    with _NO_PROXY.open(url + "/_sandbox/received", timeout=60) as answer:
        records: list[dict[str, Any]] = json.load(answer)
    return records


def unknown_cause(row: dict[str, Any], recovered: set[tuple[str, str]],
                  swallowed: dict[str, str]) -> str:
    """Why a row is `unknown`: a kill, a request the sandbox never answered, or untraced."""
    if (row["key"], row["account"]) in recovered:
        return "kill (recovered)"
    if row["entry"] in swallowed:
        return f"no answer (sandbox fault {swallowed[row['entry']]})"
    return "untraced"


def tally(state: Path, records: list[dict[str, Any]], daemons: Daemons,
          plan: Plan) -> dict[str, Any]:
    """Compare what the sandbox created with what the ledger says."""
    every = ledger_rows(state)
    rows = {r["entry"]: r for r in every if r["entry"].startswith("chaos-")}
    created = Counter(calgen.entry_id(r) for r in records if r["created"])
    ids = {r["created"] for r in records if r["created"]}
    swallowed = {calgen.entry_id(r) or "": r["fault"] for r in records
                 if r["fault"] in SWALLOWED}
    recovered = {(e["key"], e["account"]) for e in daemons.named("recovered")}
    expected = [f"chaos-{i:05d}" for i in range(plan.posts)]
    lost = [e for e in expected if e not in rows or rows[e]["state"] == "planned"]
    settled_silently = [e for e in created if e not in rows or rows[e]["state"] not in
                        ("sent", "unknown")]
    unproven = [r["entry"] for r in rows.values()
                if r["state"] == "sent" and r["remote_id"] not in ids]
    unknowns = [{"entry": r["entry"], "created_by_sandbox": created[r["entry"]] > 0,
                 "cause": unknown_cause(r, recovered, swallowed), "info": r["info"]}
                for r in rows.values() if r["state"] == "unknown"]
    # Refusals never reach the sandbox: the daemons' logs count them.
    refused = sum("could not connect" in str(e.get("info")) for e in daemons.named("delivered"))
    attempts = len(records) + refused
    return {
        "posts": plan.posts, "kills": plan.kills,
        "daemons": len(daemons.finished), "recovered": len(recovered),
        "requests_received": len(records), "connections_refused": refused,
        "refused_share": round(refused / attempts, 4) if attempts else 0.0,
        "faults": dict(Counter(r["fault"] or "none" for r in records)),
        "duplicates": sum(r["duplicate_of"] is not None for r in records),
        "entries_created_twice": sum(c > 1 for c in created.values()),
        "lost_without_record": lost,
        "created_but_not_sent_or_unknown": settled_silently,
        "sent_without_a_created_id": unproven,
        "states": dict(Counter(r["state"] for r in rows.values())),
        "last_claim_late_s": _lateness(rows.values()),
        "unknown": unknowns,
        "unknown_causes": dict(Counter(u["cause"] for u in unknowns)),
        "stale_states": dict(Counter(r["state"] for r in every if r["entry"].startswith("stale-"))),
    }


def alert_tally(state: Path, sink: AlertSink, secrets: Iterable[str]) -> dict[str, Any]:
    """Which `unknown` and `missed` rows had an alert, and whether any body held a key."""
    alerts = sink.alerts()
    told = {(a["key"], a["account"], a["kind"]) for a in alerts}
    need = [r for r in ledger_rows(state) if r["state"] in ALERTED_AS]
    silent = [f"{r['key']} on {r['account']} ({r['state']})" for r in need
              if not any((r["key"], r["account"], kind) in told for kind in ALERTED_AS[r["state"]])]
    leaked = sum(any(secret.encode() in body for secret in secrets) for body in sink.bodies)
    return {"messages": len(sink.bodies), "alerts": len(alerts),
            "alert_kinds": dict(Counter(a["kind"] for a in alerts)),
            "rows_needing_alerts": len(need), "rows_never_alerted": silent,
            "bad_signatures": sink.bad_signatures, "bodies_with_a_key": leaked}


def _lateness(rows: Iterable[dict[str, Any]]) -> dict[str, float]:
    """Last claim - scheduled over the sent rows: what kills, retries and timeouts cost."""
    late = [(_at(r["claimed"]) - _at(r["scheduled"])) for r in rows
            if r["state"] == "sent" and r["claimed"]]
    if not late:
        return {}
    return {"p50": round(percentile(late, 50), 3), "p99": round(percentile(late, 99), 3),
            "max": round(max(late), 3)}


def _at(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def report(figures: dict[str, Any], result: Result) -> None:
    """Print the tally and set the targets."""
    print(f"{figures['posts']} posts, {figures['kills']} SIGKILLs ({figures['daemons']} daemons, "
          f"{figures['recovered']} rows recovered as unknown), {figures['requests_received']} "
          f"push requests received, {figures['connections_refused']} connections refused "
          f"({figures['refused_share']:.1%} of attempts)")
    print("faults drawn: " + ", ".join(f"{k} {v}" for k, v in sorted(figures["faults"].items())))
    late = figures["last_claim_late_s"]
    if late:
        print(f"sent rows, last claim - scheduled: p50 {late['p50']:.3f} s, p99 {late['p99']:.1f} s, "
              f"max {late['max']:.1f} s (grace 1 h)")
    print(harness.table(("final state", "occurrences"), sorted(figures["states"].items())))
    rows = [(u["entry"], "yes" if u["created_by_sandbox"] else "no", u["cause"])
            for u in figures["unknown"]]
    if rows:
        print(harness.table(("unknown entry", "sandbox created it", "why unknown"), rows))
    untraced = figures["unknown_causes"].get("untraced", 0)
    result.target(f"no duplicates ({figures['duplicates']} duplicate_of, "
                  f"{figures['entries_created_twice']} entries created twice)",
                  figures["duplicates"] == 0 and figures["entries_created_twice"] == 0)
    result.target(f"nothing lost without a record ({len(figures['lost_without_record'])})",
                  not figures["lost_without_record"])
    result.target("every created post is recorded sent or unknown "
                  f"({len(figures['created_but_not_sent_or_unknown'])} are not)",
                  not figures["created_but_not_sent_or_unknown"])
    result.target("every sent row names an id the sandbox created "
                  f"({len(figures['sent_without_a_created_id'])} do not)",
                  not figures["sent_without_a_created_id"])
    result.target(f"every unknown traced to a kill or an unanswered request ({untraced} untraced)",
                  untraced == 0)
    told = figures["alerting"]
    print(f"alerts: {told['messages']} messages, {told['alerts']} alerts "
          f"({', '.join(f'{k} {v}' for k, v in sorted(told['alert_kinds'].items()))}); "
          f"{told['rows_needing_alerts']} rows unknown or missed")
    result.target(f"every unknown and missed row alerted ({len(told['rows_never_alerted'])} "
                  "never were)", not told["rows_never_alerted"] and told["rows_needing_alerts"] > 0)
    result.target(f"every alert signed ({told['bad_signatures']} bad signatures) and none holds "
                  f"a key ({told['bodies_with_a_key']} do)",
                  told["bad_signatures"] == 0 and told["bodies_with_a_key"] == 0)


def run(args: argparse.Namespace) -> Result:
    """Run the daemons through faults and kills, then compare sandbox and ledger."""
    plan = SMALL if args.small else FULL
    rng = random.Random(args.seed)
    result = Result("chaos")
    with (harness.workdir("chaos", args.keep) as work, SandboxProcess(work) as sandbox,
          AlertSink(secret=NOTIFY_SECRET.encode()) as sink):
        set_faults(sandbox.url, plan.faults(args.seed))
        daemons = unleash(plan, work, sandbox, rng, sink)
        set_faults(sandbox.url, {})
        figures = tally(work / "ledger.sqlite", received(sandbox.url), daemons, plan)
        figures["alerting"] = alert_tally(work / "ledger.sqlite", sink,
                                          [sandbox.env()["ONEALL_PRIVATE_KEY"], NOTIFY_SECRET])
    figures["plan"] = asdict(plan)
    figures["seed"] = args.seed
    report(figures, result)
    result.figures = figures
    return result


if __name__ == "__main__":
    parser = harness.options(__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1, help="seeds post times, kills and faults")
    raise SystemExit(harness.main(run, parser))
