"""Benchmark 2: render-and-send throughput, and our CPU cost per post.

The sandbox runs in its own process at zero latency. This process renders each post with
`runner.oneall.render.render` and sends it with `runner.oneall.client.Client`, a few requests in
flight, and `time.process_time()` around N posts is our CPU alone (the sandbox's is in
another process). Baseline, in the same run and alternating with it: the same number of
bare `httpx` POSTs of the same bodies, pre-encoded, so the difference is what our layers
(render, fill, encode, classify, envelope parsing) add. Target: <= 2 ms of our CPU per post.

    /work/venv/bin/python bench/send_throughput.py [--small] [--posts N] [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import calgen
import harness
import httpx
from harness import Broken, Result
from procs import SandboxProcess

from runner.calendar import Account, Calendar, Entry, load
from runner.oneall import Client, Credentials, Verdict
from runner.oneall.render import fill, render

TARGET_MS = 2.0
CONCURRENCY = 4
Work = list[tuple[Entry, Account]]


@dataclass(frozen=True)
class Round:
    """One timed batch: posts sent, wall seconds, our process CPU seconds."""

    posts: int
    wall: float
    cpu: float

    @property
    def cpu_ms(self) -> float:
        """Our CPU milliseconds per post."""
        return self.cpu / self.posts * 1000

    @property
    def per_second(self) -> float:
        """Posts per wall-clock second."""
        return self.posts / self.wall


def calendar(folder: Path) -> tuple[Calendar, Work]:
    """Text posts to Facebook pages, Twitter and LinkedIn companies, one request each."""
    accts = calgen.accounts(6)
    start = datetime.now(UTC) + timedelta(days=1)
    cal_file = calgen.text_posts(accts, [start + timedelta(minutes=i) for i in range(300)], "tp")
    paths = calgen.write(folder / "calendar", [cal_file])
    cal = load([str(p) for p in paths])
    work = [(entry, cal.accounts[name]) for entry in cal.entries.values() for name in entry.to]
    return cal, work


async def _pool(count: int, concurrency: int, one: Callable[[int], Awaitable[bool]]) -> int:
    """Run `one(i)` for i in range(count), `concurrency` at a time; return the failures."""
    numbers: Iterator[int] = iter(range(count))
    failures = 0

    async def worker() -> None:
        nonlocal failures
        for index in numbers:  # shared: each index is taken by exactly one worker
            failures += not await one(index)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return failures


def ours(cal: Calendar, work: Work, client: Client) -> Callable[[int], Awaitable[bool]]:
    """Send one post the daemon's way: render, fill upload ids, `Client.send`."""
    async def one(index: int) -> bool:
        entry, account = work[index % len(work)]
        results: dict[str, dict[str, str]] = {}
        for request in render(cal, entry, account):
            outcome = await client.send(request.method, request.path, fill(request.body, results))
            if outcome.verdict is not Verdict.SENT:
                return False
            results[request.step] = {request.result_field: outcome.data[request.result_field]}
        return True

    return one


def bare(cal: Calendar, work: Work, http: httpx.AsyncClient) -> Callable[[int], Awaitable[bool]]:
    """Send one post as bare httpx would: the same path and body, encoded beforehand."""
    bodies = []
    for entry, account in work:
        (request,) = render(cal, entry, account)
        bodies.append((request.path, json.dumps(request.body, separators=(",", ":")).encode()))

    async def one(index: int) -> bool:
        path, body = bodies[index % len(bodies)]
        response = await http.post(path, content=body)
        return response.status_code == 200

    return one


async def timed(count: int, one: Callable[[int], Awaitable[bool]]) -> Round:
    """Send `count` posts with `one`; our wall and CPU seconds around them."""
    cpu, wall = time.process_time(), time.perf_counter()
    failures = await _pool(count, CONCURRENCY, one)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if failures:
        raise Broken(f"{failures} of {count} posts were not accepted by the sandbox")
    return Round(count, wall, cpu)


async def measure(sandbox: SandboxProcess, cal: Calendar, work: Work, posts: int,
                  rounds: int) -> dict[str, list[Round]]:
    """Warm both senders up, then alternate timed rounds, checking the sandbox got every post."""
    env = sandbox.env()
    creds = Credentials.from_env(env)
    found: dict[str, list[Round]] = {"bare httpx (baseline)": [], "render + Client": []}
    async with Client(creds) as client, httpx.AsyncClient(
            base_url=env["ONEALL_BASE_URL"], trust_env=False,
            auth=(creds.public_key, creds.private_key),
            headers={"Content-Type": "application/json", "Accept": "application/json"}) as http:
        senders = {"bare httpx (baseline)": bare(cal, work, http),
                   "render + Client": ours(cal, work, client)}
        for one in senders.values():  # warm up: connections, caches, first-call imports
            await timed(50, one)
        await asyncio.to_thread(sandbox.reset)
        for _, (name, one) in itertools.product(range(rounds), senders.items()):
            found[name].append(await timed(posts, one))
            received = await asyncio.to_thread(sandbox.received)
            if len(received) != posts:
                raise Broken(f"{name}: the sandbox received {len(received)} of {posts} posts")
            await asyncio.to_thread(sandbox.reset)
    return found


def run(args: argparse.Namespace) -> Result:
    """Generate the posts, start the sandbox, measure, judge."""
    posts = args.posts or (100 if args.small else 3000)
    rounds = args.rounds or (1 if args.small else 3)
    result = Result("send_throughput")
    with harness.workdir("send_throughput", args.keep) as work_dir:
        cal, work = calendar(work_dir)
        with SandboxProcess(work_dir) as sandbox:
            found = asyncio.run(measure(sandbox, cal, work, posts, rounds))
    best = {name: min(rs, key=lambda r: r.cpu) for name, rs in found.items()}
    base, mine = best["bare httpx (baseline)"], best["render + Client"]
    rows = [(name, r.posts, max(x.per_second for x in found[name]), r.cpu_ms,
             r.cpu_ms / base.cpu_ms) for name, r in best.items()]
    print(f"{posts} text posts per round, {rounds} round(s) each, {CONCURRENCY} in flight, "
          "sandbox in another process at zero latency; best round by CPU")
    print(harness.table(("sender", "posts", "best posts/s", "CPU ms/post", "x baseline"), rows))
    added = mine.cpu_ms - base.cpu_ms
    print(f"our layers add {added:.3f} ms of CPU per post over bare httpx "
          f"({mine.cpu_ms / base.cpu_ms:.2f}x)")
    result.figures = {"posts": posts, "rounds": rounds, "concurrency": CONCURRENCY,
                      "rounds_detail": {n: [r.__dict__ for r in rs] for n, rs in found.items()},
                      "cpu_ms_per_post": mine.cpu_ms, "baseline_cpu_ms_per_post": base.cpu_ms,
                      "ratio": mine.cpu_ms / base.cpu_ms, "added_ms": added}
    result.target(f"our CPU per post <= {TARGET_MS:g} ms (got {mine.cpu_ms:.3f} ms)",
                  mine.cpu_ms <= TARGET_MS)
    return result


if __name__ == "__main__":
    parser = harness.options(__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, help="posts per timed round")
    parser.add_argument("--rounds", type=int, help="timed rounds of each sender")
    sys.exit(harness.main(run, parser))
