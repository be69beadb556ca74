"""Issue 9, class 7 (connections): idle per-account pools are closed, so ~1,000 accounts do
not keep ~1,000 sockets open, and the shipped unit allows what the daemon needs."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

from runner.oneall import Client, Credentials
from runner.sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent
PATH = "/push/identities/923843ec-1749-4cc1-988f-d6963f3b1baa/facebook/page/post.json"
BODY = {"request": {"push": {"page": {"id": "4563453", "message": "hello"}}}}


def sockets() -> int:
    return sum(os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
               for fd in os.listdir("/proc/self/fd") if os.path.exists(f"/proc/self/fd/{fd}"))


def test_idle_account_pools_are_closed_with_their_sockets() -> None:
    async def go() -> tuple[int, int, int, int]:
        with Sandbox() as box:
            async with Client(Credentials.from_env(box.env()), idle_lane_s=0.5) as client:
                before = sockets()
                await asyncio.gather(*(client.send("POST", PATH, BODY, lane=f"acct-{n}")
                                       for n in range(300)))
                busy, lanes = sockets() - before, client.open_lanes()
                await asyncio.sleep(1.2)
                await client.send("POST", PATH, BODY, lane="another")  # any use sweeps
                return busy, lanes, sockets() - before, client.open_lanes()

    busy, lanes, after, left = asyncio.run(go())
    assert lanes == 300 and busy >= 250  # each account kept its connection alive
    assert left == 1 and after <= 5  # closed with their pools; only the last lane's is open


def test_the_unit_allows_the_file_descriptors_the_daemon_needs() -> None:
    unit = (ROOT / "deploy" / "pushcal.service").read_text()
    found = re.search(r"^LimitNOFILE=(\d+)$", unit, re.MULTILINE)
    assert found is not None and int(found.group(1)) >= 8192
