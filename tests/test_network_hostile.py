"""Issue 9, class 8: what the network sends back is parsed defensively and scrubbed first.

An absurd Retry-After must not crash a send (and leave its row in `sending`); a server that
echoes the keys must not get any part of one into the ledger, whether in the info (cut to a
snippet) or in a result field such as a post id; a rejected base URL is never printed whole.
"""

from __future__ import annotations

import asyncio
import random

import httpx
import pytest
from test_client import CREDS, PRIVATE, PUBLIC, answer, envelope, exchange

from runner.delivery import backoff
from runner.oneall import Client, Credentials, CredentialsError, Verdict


@pytest.mark.parametrize("header", ["9" * 400, "Fri, 31 Dec 9999 23:59:59 GMT"])
def test_an_absurd_retry_after_is_a_day_at_most(header: str) -> None:
    reply, _ = exchange(answer(429, envelope(429, "slow down"), {"Retry-After": header}))
    assert reply.verdict is Verdict.RETRY and reply.retry_after == 86400.0
    assert backoff(1, float("inf"), random.Random(1)) == 86400.0


def test_a_key_echoed_across_the_snippet_cut_leaves_no_part_of_it() -> None:
    body = b"<html>" + b"x" * 180 + PRIVATE.encode() + b"</html>"  # the cut falls in the key
    reply, _ = exchange(answer(500, body))
    assert PRIVATE[:8] not in reply.info and "***" in reply.info


def test_a_key_echoed_in_a_result_field_is_scrubbed() -> None:
    data = f'{{"id": "{PRIVATE}", "location": "https://x.example/{PRIVATE[:36]}"}}'
    reply, _ = exchange(answer(200, envelope(200, f"ok {PRIVATE}", data)))
    assert reply.verdict is Verdict.SENT
    assert PRIVATE not in str(reply.data) and PRIVATE not in reply.info
    assert reply.data["id"] == "***"


def test_a_key_in_json_escapes_is_scrubbed_too() -> None:
    escaped = "".join(f"\\u{ord(c):04x}" for c in PRIVATE)
    reply, _ = exchange(answer(400, envelope(400, "x").replace(b'"x"', f'"{escaped}"'.encode())))
    assert PRIVATE not in reply.info


@pytest.mark.parametrize("url", ["ftp://oneall.example/p?token=SECRETTOKEN",
                                 "http://oneall.example/SECRETTOKEN",
                                 "https:///SECRETTOKEN"])
def test_a_rejected_base_url_is_not_printed_whole(url: str) -> None:
    with pytest.raises(CredentialsError) as refused:
        Credentials("acme", PUBLIC, PRIVATE, base_url=url)
    assert "SECRETTOKEN" not in str(refused.value)
    assert "ONEALL_BASE_URL" in str(refused.value)


def test_the_client_survives_a_garbage_answer() -> None:
    async def go() -> None:
        transport = httpx.MockTransport(answer(200, b"\xff\xfe{not json"))
        async with Client(CREDS, transport=transport) as client:
            reply = await client.send("POST", "/x.json", {"request": {}})
            assert reply.verdict is Verdict.UNKNOWN
    asyncio.run(go())
