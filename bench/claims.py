"""Claims per second: the PostgreSQL ledger against the SQLite one, in the same run.

Each backend takes 2,000 claims (`--small`: 200) one transaction each, as a lone daemon
worker makes them, then the same number in batches of 50 (`claim_many`, as a burst makes
them), then finishes every row `sent`. SQLite is a file in the work folder (WAL,
synchronous=FULL); PostgreSQL is a local server this script starts (tests/pg_server.py),
reached over loopback TCP, with fsync off as the test server runs: so the ratio measures
round trips and locking, not the disk. Reported as PostgreSQL / SQLite.

    /work/venv/bin/python bench/claims.py [--small] [--json PATH] [--keep]
"""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import closing
from datetime import UTC, datetime
from typing import Any

import harness
from harness import REPO, Result

from runner.ledger import ClaimRequest, Ledger, State
from runner.ledger.location import StateLocation, open_ledger, parse

sys.path.insert(0, str(REPO / "tests"))
import pg_server

DUE = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def measure(where: StateLocation, count: int) -> dict[str, float]:
    """Claims/s one at a time and in batches of 50, and finishes/s, on one backend."""
    opened: Ledger | None = open_ledger(where, lambda: datetime.now(UTC))
    assert opened is not None
    with closing(opened) as ledger:
        items = [ClaimRequest(f"one-{n}", f"one-{n}", "acme", DUE, "x", "h", None)
                 for n in range(count)]
        began = time.perf_counter()
        for item in items:
            ledger.claim(item)
        single = count / (time.perf_counter() - began)
        batched_items = [ClaimRequest(f"many-{n}", f"many-{n}", "acme", DUE, "x", "h", None)
                         for n in range(count)]
        began = time.perf_counter()
        for start in range(0, count, 50):
            ledger.claim_many(batched_items[start:start + 50])
        batched = count / (time.perf_counter() - began)
        began = time.perf_counter()
        for item in items:
            ledger.finish(item.key, item.account, State.SENT, remote_id="1")
        finished = count / (time.perf_counter() - began)
    return {"claims_per_s": round(single, 1), "batched_claims_per_s": round(batched, 1),
            "finishes_per_s": round(finished, 1)}


def run(args: argparse.Namespace) -> Result:
    count = 200 if args.small else 2000
    result = Result("claims")
    server = pg_server.launch()
    try:
        with harness.workdir("claims", args.keep) as work:
            sqlite = measure(work / "ledger.sqlite", count)
            postgres = measure(parse(server.new_database()), count)
    finally:
        server.cleanup()
    figures: dict[str, Any] = {"count": count, "sqlite": sqlite, "postgres": postgres}
    rows = []
    for name in ("claims_per_s", "batched_claims_per_s", "finishes_per_s"):
        ratio = postgres[name] / sqlite[name]
        figures[f"{name}_ratio"] = round(ratio, 2)
        rows.append((name.replace("_", " "), f"{sqlite[name]:.0f}", f"{postgres[name]:.0f}",
                     f"{ratio:.2f}x"))
    print(harness.table(("operation", "SQLite /s", "PostgreSQL /s", "PostgreSQL / SQLite"), rows))
    result.target(f"PostgreSQL claims at least 100/s ({postgres['claims_per_s']:.0f})",
                  postgres["claims_per_s"] >= 100)
    result.figures = figures
    return result


if __name__ == "__main__":
    raise SystemExit(harness.main(run, harness.options(__doc__.splitlines()[0])))
