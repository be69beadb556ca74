"""Benchmark: wide bursts: 500 and 5,000 posts due at one instant, one per account.

`pushcal run` (a subprocess) publishes to the sandbox (another process) answering each push
after 100 ms; every post is on its own account, so the floor is one round trip for all of
them at once. Baseline in the same run, on the same sandbox: bare `http.client`, one thread
and one connection per account, all released at the due time (`bench/burst.py`'s thread
floor). Target: pushcal's last arrival within 1.3x the baseline's, every post sent once.
Also in the same run, for reference: httpx's synchronous Client, one thread and one client
per account (what httpx itself reaches without anyio).
`--small`: 40 posts on 40 accounts.

    /work/venv/bin/python bench/wide_burst.py [--small] [--sizes 500,5000]
"""

from __future__ import annotations

import argparse
import sys

import burst
import calgen
import harness
from burst import LATENCY_MS, Shape
from harness import Result
from procs import SandboxProcess

TARGET_RATIO = 1.3
SIZES, SMALL_SIZES = (500, 5000), (40,)


def lead(posts: int) -> float:
    """Seconds the daemon gets to start before the burst is due (its calendar grows)."""
    return 5.0 + posts / 1000


def measure(work: harness.Path, sandbox: SandboxProcess, posts: int) -> dict[str, object]:
    """One size: the daemon, then the thread baseline, on fresh bursts."""
    sandbox.reset()
    ours = burst.daemon_run(work / f"wide-{posts}", sandbox, Shape(posts, posts, lead(posts)))
    dupes = calgen.duplicates(sandbox.received())
    floor = burst.floor_run(work / f"wide-{posts}", sandbox, Shape(posts, posts, 1.0), "threads")
    plain = burst.floor_run(work / f"wide-{posts}", sandbox, Shape(posts, posts, 1.0),
                            "httpx-threads")
    return {"posts": posts, "pushcal": ours, "threads": floor, "httpx_threads": plain,
            "duplicates": dupes, "ratio": ours["max_arrival_s"] / floor["max_arrival_s"]}


def run(args: argparse.Namespace) -> Result:
    """Each size in turn, each with its own same-run baseline."""
    sizes = SMALL_SIZES if args.small else tuple(int(s) for s in args.sizes.split(","))
    result = Result("wide_burst")
    keys = ("received", "first_arrival_s", "max_arrival_s", "completion_s")
    rows = []
    with harness.workdir("wide_burst", args.keep) as work, \
            SandboxProcess(work, latency_ms=LATENCY_MS) as sandbox:
        found = [measure(work, sandbox, posts) for posts in sizes]
    for each in found:
        ours, floor, plain = each["pushcal"], each["threads"], each["httpx_threads"]
        assert isinstance(ours, dict) and isinstance(floor, dict) and isinstance(plain, dict)
        rows.append((f"pushcal run, {each['posts']} accounts", *(ours[k] for k in keys), 1.0))
        rows.append((f"http.client threads, {each['posts']} accounts (baseline)",
                     *(floor[k] for k in keys), floor["max_arrival_s"] / ours["max_arrival_s"]))
        rows.append((f"httpx sync Client threads, {each['posts']} accounts (httpx's own reach)",
                     *(plain[k] for k in keys), plain["max_arrival_s"] / ours["max_arrival_s"]))
        posts = each["posts"]
        result.target(f"{posts} posts: all sent once ({ours['sent']:g} sent, "
                      f"{ours['received']:g} received, {each['duplicates']} duplicates)",
                      ours["sent"] == ours["received"] == posts and each["duplicates"] == 0)
        result.target(f"{posts} posts: last arrival within {TARGET_RATIO:g}x the thread baseline "
                      f"(got {ours['max_arrival_s']:.3f} s vs {floor['max_arrival_s']:.3f} s: "
                      f"{each['ratio']:.2f}x)", float(str(each["ratio"])) <= TARGET_RATIO)
    print(f"posts due at one instant, one per account, sandbox latency {LATENCY_MS:g} ms")
    print(harness.table(("sender", *keys, "x pushcal"), rows))
    result.figures = {"latency_ms": LATENCY_MS, "sizes": found}
    return result


if __name__ == "__main__":
    parser = harness.options(__doc__.split("\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)),
                        help="comma-separated burst sizes (posts = accounts)")
    sys.exit(harness.main(run, parser))
