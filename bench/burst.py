"""Benchmark 4: a burst: 1,000 posts due at the same instant across 100 accounts.

`pushcal run` (a subprocess) publishes to the sandbox (another process) answering each push
after 100 ms. Every account's posts go out one after another (the daemon's per-account
workers), so the floor is about 10 x 100 ms. Measured: arrival - due from the sandbox's
records, and completion (the last `finished` in the ledger) - due. Baseline in the same
run, each with the same shape (100 accounts in parallel, each account's posts in sequence)
starting exactly at its due time: bare httpx through one shared pool (what
`runner.oneall.client.Client` does), bare httpx with one client per account, and http.client with
one thread per account (no httpx at all: the floor of this machine and sandbox). Target:
every post arrives within 3 s of its due time. `--small`: 50 posts across 10 accounts.

    /work/venv/bin/python bench/burst.py [--small]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import http.client
import json
import pstats
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import calgen
import harness
import httpx
from harness import Broken, Result
from procs import PUSHCAL, PYTHON, DaemonProcess, SandboxProcess, run_timed

from runner.calendar import load
from runner.oneall import Credentials
from runner.oneall.render import render

TARGET_S = 3.0
LATENCY_MS = 100.0


@dataclass(frozen=True)
class Shape:
    """How big the burst is, and how long the daemon gets to start before it is due."""

    posts: int
    accounts: int
    lead: float


FULL, SMALL = Shape(1000, 100, 5.0), Shape(50, 10, 3.0)


def write_calendar(folder: Path, due: float, posts: int, accounts: int) -> Path:
    """The burst calendar: `posts` one-off text posts at `due`, accounts round-robin."""
    moment = datetime.fromtimestamp(due, UTC)
    cal = calgen.text_posts(calgen.accounts(accounts), [moment] * posts, "burst")
    (path,) = calgen.write(folder, [cal])
    return path


def completion(state: Path) -> tuple[int, float]:
    """(rows sent, the latest `finished` as epoch seconds), read from the daemon's ledger
    through `pushcal history --format json`, the surface that outlives ledger internals."""
    done = run_timed([*PUSHCAL, "history", "--format", "json", "--state", str(state)])
    if done.returncode != 0:
        raise Broken(f"pushcal history exited {done.returncode}: {done.stderr[-500:]}")
    sent = [row["finished"] for row in json.loads(done.stdout) if row["state"] == "sent"]
    latest = max((datetime.fromisoformat(f.replace("Z", "+00:00")) for f in sent if f),
                 default=None)
    return len(sent), latest.timestamp() if latest else 0.0


def daemon_run(work: Path, sandbox: SandboxProcess, shape: Shape,
               prefix: list[str] | None = None, database: str | None = None) -> dict[str, float]:
    """The burst through `pushcal run`: arrivals from the sandbox, completion from the ledger
    (an SQLite file, or the PostgreSQL `database` URL)."""
    due = float(int(time.time() + shape.lead) + 1)  # a whole second, as people write it
    path = write_calendar(work / "calendar", due, shape.posts, shape.accounts)
    state: Any = database or work / "ledger.sqlite"
    if database is None:
        state.unlink(missing_ok=True)
    daemon = DaemonProcess([path], state, sandbox.env(), prefix=prefix).start()
    try:
        started, _ = daemon.wait_for("started", shape.lead + 20)
        if started > due:
            raise Broken(f"the daemon started {started - due:.2f} s after the due time")
        while time.time() < due + 30 and len(sandbox.received()) < shape.posts:
            time.sleep(0.25)
        time.sleep(2 * LATENCY_MS / 1000)  # let the last answers be recorded
    finally:
        code = daemon.stop()
    if code != 0:
        raise Broken(f"pushcal run exited {code}: {daemon.tail()}")
    records = sandbox.received()
    sent, finished = completion(state)
    return {"received": len(records), "sent": sent,
            "max_arrival_s": max((r["at"] for r in records), default=due) - due,
            "first_arrival_s": min((r["at"] for r in records), default=due) - due,
            "completion_s": finished - due}


Streams = list[list[tuple[str, bytes]]]  # per account: (path, body) in sending order


async def _httpx(url: str, creds: Credentials, due: float, streams: Streams, *,
                 shared: bool) -> float:
    """Each stream's posts in sequence, all streams at once from `due`, through one shared
    httpx pool (as `runner.oneall.client.Client` does) or one client per account; returns the time
    of the last answer. Clients are built before `due`; connections open at `due`."""
    def client() -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=url, auth=(creds.public_key, creds.private_key),
                                 trust_env=False, limits=httpx.Limits(max_connections=200),
                                 headers={"Content-Type": "application/json"})

    clients = [client()] if shared else [client() for _ in streams]

    async def stream(sender: httpx.AsyncClient, posts: list[tuple[str, bytes]]) -> None:
        for path, body in posts:
            answer = await sender.post(path, content=body)
            if answer.status_code != 200:
                raise Broken(f"a baseline post was refused: HTTP {answer.status_code}")

    await asyncio.sleep(max(0.0, due - time.time()))
    await asyncio.gather(*(stream(clients[i % len(clients)], s) for i, s in enumerate(streams)))
    done = time.time()
    for each in clients:
        await each.aclose()
    return done


def _threads(url: str, creds: Credentials, due: float, streams: Streams) -> float:
    """The same shape without httpx: one thread and one http.client connection per account."""
    host, port = urlsplit(url).hostname or "", urlsplit(url).port
    token = base64.b64encode(f"{creds.public_key}:{creds.private_key}".encode()).decode()
    headers = {"Content-Type": "application/json", "Authorization": f"Basic {token}"}
    refused: list[int] = []

    def stream(posts: list[tuple[str, bytes]]) -> None:
        connection = http.client.HTTPConnection(host, port, timeout=30)
        time.sleep(max(0.0, due - time.time()))
        for path, body in posts:
            connection.request("POST", path, body=body, headers=headers)
            answer = connection.getresponse()
            answer.read()
            if answer.status != 200:
                refused.append(answer.status)
        connection.close()

    return _one_thread_each(stream, [(s,) for s in streams], refused)


def _httpx_threads(url: str, creds: Credentials, due: float, streams: Streams) -> float:
    """The thread shape through httpx's synchronous Client (httpcore sync: no anyio): one
    thread and one client per account, clients built before `due`, connections opened at it."""
    verify = httpx.create_ssl_context()  # one for all: loading CA certificates is slow
    clients = [httpx.Client(base_url=url, auth=(creds.public_key, creds.private_key),
                            trust_env=False, verify=verify,
                            headers={"Content-Type": "application/json"}) for _ in streams]
    refused: list[int] = []

    def stream(client: httpx.Client, posts: list[tuple[str, bytes]]) -> None:
        time.sleep(max(0.0, due - time.time()))
        for path, body in posts:
            answer = client.post(path, content=body)
            if answer.status_code != 200:
                refused.append(answer.status_code)
        client.close()

    return _one_thread_each(stream, list(zip(clients, streams, strict=True)), refused)


def _one_thread_each(stream: Callable[..., None], each: list[tuple[Any, ...]],
                     refused: list[int]) -> float:
    """Run `stream` in one thread per argument tuple, all at once; the time the last one
    ended. Broken if any post was refused (`stream` notes their statuses in `refused`)."""
    threads = [threading.Thread(target=stream, args=args) for args in each]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if refused:
        raise Broken(f"baseline posts were refused: {refused[:5]}")
    return time.time()


def floor_run(work: Path, sandbox: SandboxProcess, shape: Shape, how: str) -> dict[str, float]:
    """One baseline sender (`how`: shared, per-account, threads or httpx-threads) on a fresh
    burst."""
    path = write_calendar(work / f"floor-{how}", time.time() + 60, shape.posts, shape.accounts)
    cal = load([str(path)])
    streams: dict[str, list[tuple[str, bytes]]] = defaultdict(list)
    for entry in cal.entries.values():
        (request,) = render(cal, entry, cal.accounts[entry.to[0]])
        streams[entry.to[0]].append(
            (request.path, json.dumps(request.body, separators=(",", ":")).encode()))
    sandbox.reset()
    creds = Credentials.from_env(sandbox.env())
    # Set once the posts are rendered (5,000 take seconds), with time to build the senders
    # first: a baseline that started late would flatter pushcal.
    due = time.time() + 1.0 + shape.posts / 2500
    if how == "threads":
        done = _threads(sandbox.url, creds, due, list(streams.values()))
    elif how == "httpx-threads":
        done = _httpx_threads(sandbox.url, creds, due, list(streams.values()))
    else:
        done = asyncio.run(_httpx(sandbox.url, creds, due, list(streams.values()),
                                  shared=how == "shared"))
    records = sandbox.received()
    return {"received": len(records), "sent": len(records),
            "max_arrival_s": max(r["at"] for r in records) - due,
            "first_arrival_s": min(r["at"] for r in records) - due, "completion_s": done - due}


def profile(work: Path, sandbox: SandboxProcess, shape: Shape) -> None:
    """The daemon's burst again, under cProfile (its event loop thread)."""
    stats_file = work / "daemon.prof"
    sandbox.reset()
    daemon_run(work, sandbox, Shape(shape.posts, shape.accounts, shape.lead + 2),
               [PYTHON, "-m", "cProfile", "-o", str(stats_file), "-m", "runner"])
    stats = pstats.Stats(str(stats_file), stream=sys.stdout)
    print("\nprofile of the daemon through the burst, by own time:")
    stats.sort_stats("tottime").print_stats(20)
    print("by cumulative time (runner, httpx, httpcore, sqlite):")
    stats.sort_stats("cumulative").print_stats(r"runner/|httpx/|httpcore/|sqlite", 30)


BASELINES = {
    "shared": "bare httpx, one shared pool (baseline)",
    "per-account": "bare httpx, one client per account",
    "threads": "http.client, one thread per account (no httpx)",
}


def run(args: argparse.Namespace) -> Result:
    """Measure the daemon and the three baselines on the same burst shape."""
    shape = SMALL if args.small else FULL
    with harness.workdir("burst", args.keep) as work, \
            SandboxProcess(work, latency_ms=LATENCY_MS) as sandbox:
        ours = daemon_run(work, sandbox, shape)
        dupes = calgen.duplicates(sandbox.received())
        if args.postgres:
            on_postgres(work, sandbox, shape, ours)
        floors = {how: floor_run(work, sandbox, shape, how) for how in BASELINES}
        result = report(shape, ours, dupes, floors)
        if args.profile or not result.passed:
            profile(work, sandbox, shape)
    return result


def on_postgres(work: Path, sandbox: SandboxProcess, shape: Shape,
                on_sqlite: dict[str, float]) -> None:
    """The same burst with the ledger on PostgreSQL (a server started here), in this run."""
    sys.path.insert(0, str(harness.REPO / "tests"))
    import pg_server

    server = pg_server.launch()
    try:
        sandbox.reset()
        found = daemon_run(work, sandbox, shape, database=server.new_database())
        dupes = calgen.duplicates(sandbox.received())
        sandbox.reset()
    finally:
        server.cleanup()
    print(f"ledger on PostgreSQL: {found['sent']:g} sent, {dupes} duplicates, last arrival"
          f" {found['max_arrival_s']:.2f} s, completion {found['completion_s']:.2f} s"
          f" (SQLite, same run: {on_sqlite['max_arrival_s']:.2f} s, {on_sqlite['completion_s']:.2f} s)")


def report(shape: Shape, ours: dict[str, float], dupes: int,
           floors: dict[str, dict[str, float]]) -> Result:
    """Print the table and judge the targets."""
    keys = ("received", "first_arrival_s", "max_arrival_s", "completion_s")
    print(f"{shape.posts} posts due at one instant across {shape.accounts} accounts "
          f"({shape.posts // shape.accounts} each), sandbox latency {LATENCY_MS:g} ms")
    rows = [("pushcal run", *(ours[k] for k in keys), 1.0)]
    rows += [(BASELINES[how], *(found[k] for k in keys),
              found["max_arrival_s"] / ours["max_arrival_s"]) for how, found in floors.items()]
    print(harness.table(("sender", *keys, "x pushcal"), rows))
    ratio = ours["max_arrival_s"] / floors["shared"]["max_arrival_s"]
    print(f"pushcal / shared-pool baseline: last arrival {ratio:.2f}x; pushcal / thread floor: "
          f"{ours['max_arrival_s'] / floors['threads']['max_arrival_s']:.2f}x")
    result = Result("burst")
    result.figures = {"posts": shape.posts, "accounts": shape.accounts,
                      "latency_ms": LATENCY_MS, "pushcal": ours, "baselines": floors,
                      "ratio_max_arrival": ratio}
    result.target(f"all {shape.posts} sent once ({ours['sent']:g} sent, {ours['received']:g} "
                  f"received, {dupes} duplicates)",
                  ours["sent"] == ours["received"] == shape.posts and dupes == 0)
    result.target(f"last arrival within {TARGET_S:g} s of due (got {ours['max_arrival_s']:.2f} s)",
                  ours["max_arrival_s"] <= TARGET_S)
    return result


if __name__ == "__main__":
    parser = harness.options(__doc__.split("\n")[0])
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the daemon")
    parser.add_argument("--postgres", action="store_true",
                        help="also run the daemon with its ledger on PostgreSQL")
    sys.exit(harness.main(run, parser))
