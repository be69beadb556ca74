"""Delivery: claim, send each request in order, record the outcome; retry only what is safe.

Each test runs `deliver` with a real SQLite ledger under tmp_path, an injected clock and a
real `Client` whose transport is an `httpx.MockTransport` playing OneAll from a script. The
script is consumed in order and an unexpected request fails the test, so every test also
proves exactly which requests went out.
"""

from __future__ import annotations

import asyncio
import json
import random
import textwrap
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from runner.calendar import Calendar, Occurrence, expand
from runner.calendar.build import build
from runner.calendar.files import load_text
from runner.delivery.deliver import Delivery, claim_request, deliver, reusable
from runner.ledger import Row, SqliteLedger, State
from runner.oneall import Client, Credentials, Request

PUBLIC = "0f1e2d3c-4b5a-4978-8a9b-acbdcedf0a1b"
PRIVATE = "5ec2e7aa-d00d-4bad-beef-c0ffee15ec2e"
CREDS = Credentials("acme", PUBLIC, PRIVATE, base_url="http://127.0.0.1:9")
FB = "923843ec-1749-4cc1-988f-d6963f3b1baa"
PAGE = f"/push/identities/{FB}/facebook/page"
DUE = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
POST_ID = "1122334455_10213097383563000"
POST_URL = f"https://www.facebook.com/{POST_ID}"

CALENDAR = textwrap.dedent(f"""\
    version: 1
    timezone: Europe/Berlin
    accounts:
      page: {{provider: facebook, identity: {FB}, page: "4563453"}}
    media:
      photo:  {{url: "https://cdn.example.com/photo.jpg", type: picture, description: "A photo"}}
      photo2: {{url: "https://cdn.example.com/photo2.png", type: picture}}
    posts:
      - {{id: launch, at: "2026-12-01 09:00", to: [page], message: "We're live!", media: [photo, photo2]}}
      - {{id: text, at: "2026-12-01 09:00", to: [page], message: "Just text"}}
""")

UPLOAD_PHOTO = ("POST", f"{PAGE}/picture.json", {"request": {"push": {"page": {
    "id": "4563453", "url": "https://cdn.example.com/photo.jpg", "description": "A photo",
    "create_post": False}}}})
UPLOAD_PHOTO2 = ("POST", f"{PAGE}/picture.json", {"request": {"push": {"page": {
    "id": "4563453", "url": "https://cdn.example.com/photo2.png", "create_post": False}}}})
PUBLISH = ("POST", f"{PAGE}/post.json", {"request": {"push": {"page": {
    "id": "4563453", "message": "We're live!",
    "attachments": ["10213097383563001", "10213097383563002"]}}}})
PUBLISH_TEXT = ("POST", f"{PAGE}/post.json", {"request": {"push": {"page": {
    "id": "4563453", "message": "Just text"}}}})

Answer = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]


def envelope(code: int, info: str, data: str | None = None) -> bytes:
    """OneAll's answer as raw text: numbers stay as the server wrote them."""
    flag = "success" if code < 400 else "error"
    status = json.dumps({"flag": flag, "code": code, "info": info})
    result = "" if data is None else f', "result": {{"data": {data}}}'
    return f'{{"response": {{"request": {{"status": {status}}}{result}}}}}'.encode()


def ok(data: str) -> Answer:
    return lambda request: httpx.Response(200, content=envelope(200, "done", data))


def error(code: int, info: str, headers: dict[str, str] | None = None) -> Answer:
    return lambda request: httpx.Response(code, content=envelope(code, info), headers=headers)


def raises(kind: type[httpx.RequestError]) -> Answer:
    def answer(request: httpx.Request) -> httpx.Response:
        raise kind("simulated", request=request)
    return answer


PICTURE_1 = ok('{"provider": "facebook", "object": "picture", "picture_id": 10213097383563001}')
PICTURE_2 = ok('{"provider": "facebook", "object": "picture", "picture_id": "10213097383563002"}')
POSTED = ok(f'{{"provider": "facebook", "object": "post", "post_id": "{POST_ID}", '
            f'"post_location": "{POST_URL}"}}')


@dataclass
class Clock:
    now: datetime = DUE

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    """The calendar, the ledger, the clock and a scripted OneAll."""

    cal: Calendar
    ledger: SqliteLedger
    clock: Clock
    script: list[Answer] = field(default_factory=list)
    seen: list[tuple[str, str, Any]] = field(default_factory=list)

    def handler(self, request: httpx.Request) -> httpx.Response | Awaitable[httpx.Response]:
        self.seen.append((request.method, request.url.path, json.loads(request.content)))
        assert self.script, f"unexpected request {request.method} {request.url.path}"
        return self.script.pop(0)(request)

    def occurrence(self, entry: str = "launch") -> Occurrence:
        (occ,) = [o for o in expand(self.cal, DUE, DUE + timedelta(minutes=1)) if o.entry == entry]
        return occ

    def deliver(self, *answers: Answer, entry: str = "launch", **options: Any) -> Delivery | None:
        """Deliver with these answers; every one of them must have been asked for."""
        self.script, self.seen = list(answers), []
        result = asyncio.run(self._deliver(self.occurrence(entry), **options))
        assert self.script == [], "the script expected more requests"
        return result

    async def _deliver(self, occ: Occurrence, **options: Any) -> Delivery | None:
        transport = httpx.MockTransport(self.handler)  # type: ignore[arg-type]  # sync or async answers
        async with Client(CREDS, transport=transport, clock=self.clock) as client:
            return await deliver(self.cal, occ, ledger=self.ledger, client=client,
                                 clock=self.clock, rng=random.Random(7), **options)

    def row(self, key: str = "launch") -> Row:
        row = self.ledger.get(key, "page")
        assert row is not None
        return row


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    clock = Clock()
    cal = build([load_text(CALENDAR, "cal.yaml")])
    with SqliteLedger(tmp_path / "ledger.sqlite", clock=clock) as ledger:
        yield World(cal, ledger, clock)


def sent(delivery: Delivery | None) -> Row:
    assert delivery is not None
    return delivery.row


# -- the happy path --------------------------------------------------------------------------

def test_two_pictures_upload_upload_publish_with_the_ids_filled_in(world: World) -> None:
    delivery = world.deliver(PICTURE_1, PICTURE_2, POSTED)
    assert world.seen == [UPLOAD_PHOTO, UPLOAD_PHOTO2, PUBLISH]
    assert delivery is not None and delivery.endpoint == "facebook/page/post"
    row = world.row()
    assert (row.state, row.attempts, row.http_status) == (State.SENT, 1, 200)
    assert (row.remote_id, row.location) == (POST_ID, POST_URL)
    assert dict(row.steps) == {"upload photo": "10213097383563001",
                               "upload photo2": "10213097383563002"}
    assert (row.entry, row.endpoint, row.scheduled) == ("launch", "facebook/page/post", DUE)
    assert delivery.row == row


def test_the_ledger_records_the_claim_each_step_and_the_outcome_in_order(world: World) -> None:
    world.deliver(PICTURE_1, PICTURE_2, POSTED)
    events = [(e.from_state, e.to_state, e.info) for e in world.ledger.history(key="launch")]
    assert [(old, new) for old, new, _ in events] == [
        (None, State.SENDING), (State.SENDING, State.SENDING), (State.SENDING, State.SENDING),
        (State.SENDING, State.SENT)]
    assert [info for _, _, info in events[1:3]] == ["step upload photo: 10213097383563001",
                                                    "step upload photo2: 10213097383563002"]


def test_a_post_without_media_is_one_request(world: World) -> None:
    delivery = world.deliver(POSTED, entry="text")
    assert world.seen == [PUBLISH_TEXT]
    assert sent(delivery).state is State.SENT
    assert dict(world.row("text").steps) == {}


def test_a_row_the_caller_already_claimed_is_sent_without_claiming_again(world: World) -> None:
    requests, claim = claim_request(world.cal, world.occurrence("text"), commit="abc123")
    claimed = world.ledger.claim(claim)
    assert claimed is not None
    row = sent(world.deliver(POSTED, entry="text", claimed=claimed))
    assert world.seen == [PUBLISH_TEXT]
    assert (row.state, row.attempts, row.commit) == (State.SENT, 1, "abc123")
    assert [r.step for r in requests] == ["publish"]


# -- nothing is sent twice -------------------------------------------------------------------

def test_an_occurrence_claimed_elsewhere_is_not_sent(world: World) -> None:
    _, claim = claim_request(world.cal, world.occurrence())
    assert world.ledger.claim(claim) is not None
    assert world.deliver() is None
    assert world.seen == []
    assert world.row().state is State.SENDING


def test_a_sent_occurrence_is_never_sent_again_even_forced(world: World) -> None:
    world.deliver(PICTURE_1, PICTURE_2, POSTED)
    assert world.deliver() is None
    assert world.deliver(force=True) is None
    assert world.seen == []
    assert world.row().attempts == 1


# -- retryable answers: 503, 429, connection failures ----------------------------------------

def test_503_on_publish_waits_at_least_retry_after_and_never_uploads_again(world: World) -> None:
    row = sent(world.deliver(PICTURE_1, PICTURE_2,
                             error(503, "Service overloaded", {"Retry-After": "120"})))
    assert world.seen == [UPLOAD_PHOTO, UPLOAD_PHOTO2, PUBLISH]
    assert (row.state, row.http_status, row.info) == (State.RETRY_WAIT, 503, "Service overloaded")
    assert row.next_attempt is not None and row.next_attempt >= DUE + timedelta(seconds=120)
    assert [r.key for r in world.ledger.rows(states=[State.RETRY_WAIT])] == ["launch"]

    world.clock.now = row.next_attempt
    again = sent(world.deliver(POSTED))
    assert world.seen == [PUBLISH]  # the ids come from the ledger, not from new uploads
    assert (again.state, again.attempts, again.remote_id) == (State.SENT, 2, POST_ID)


def test_429_with_an_http_date_waits_until_that_date(world: World) -> None:
    later = {"Retry-After": "Tue, 01 Dec 2026 08:05:00 GMT"}
    row = sent(world.deliver(PICTURE_1, PICTURE_2, error(429, "Too many requests", later)))
    assert (row.state, row.http_status) == (State.RETRY_WAIT, 429)
    assert row.next_attempt is not None and row.next_attempt >= DUE + timedelta(minutes=5)

    world.clock.now = row.next_attempt
    assert sent(world.deliver(POSTED)).state is State.SENT
    assert world.seen == [PUBLISH]


def test_503_on_the_second_upload_keeps_the_first_upload(world: World) -> None:
    row = sent(world.deliver(PICTURE_1, error(503, "Service overloaded")))
    assert world.seen == [UPLOAD_PHOTO, UPLOAD_PHOTO2]
    assert row.state is State.RETRY_WAIT
    assert row.info == "upload photo2: Service overloaded"
    assert dict(row.steps) == {"upload photo": "10213097383563001"}

    assert row.next_attempt is not None
    world.clock.now = row.next_attempt
    assert sent(world.deliver(PICTURE_2, POSTED)).state is State.SENT
    assert world.seen == [UPLOAD_PHOTO2, PUBLISH]


def test_without_retry_after_the_first_wait_is_the_jittered_backoff(world: World) -> None:
    row = sent(world.deliver(error(503, "busy"), entry="text"))
    assert row.next_attempt is not None
    assert DUE + timedelta(seconds=2.5) <= row.next_attempt <= DUE + timedelta(seconds=5)


def test_a_connection_failure_is_retried_later(world: World) -> None:
    row = sent(world.deliver(raises(httpx.ConnectError), entry="text"))
    assert world.seen == [PUBLISH_TEXT]
    assert row.state is State.RETRY_WAIT and row.http_status is None
    assert "nothing was sent" in row.info


def test_retries_that_would_land_past_the_deadline_fail(world: World) -> None:
    # Default grace is 15 minutes: a retry due 19 minutes after the post's time is too late.
    world.clock.now = DUE + timedelta(minutes=9)
    row = sent(world.deliver(error(503, "Service overloaded", {"Retry-After": "600"}), entry="text"))
    assert (row.state, row.http_status) == (State.FAILED, 503)
    assert row.info == "gave up after 1 attempts: Service overloaded"
    assert row.next_attempt is None
    assert world.deliver(entry="text") is None


# -- permanent refusals and uncertain answers ------------------------------------------------

def test_400_fails_with_oneall_info_and_is_not_retried(world: World) -> None:
    info = "Invalid request: the attachment 10213097383563001 is not a picture of this page"
    row = sent(world.deliver(PICTURE_1, PICTURE_2, error(400, info)))
    assert (row.state, row.http_status, row.info) == (State.FAILED, 400, info)
    assert world.deliver() is None
    assert world.seen == []
    assert world.ledger.rows(states=[State.RETRY_WAIT]) == []


def test_a_refused_upload_stops_before_the_post(world: World) -> None:
    row = sent(world.deliver(error(404, "Unknown identity")))
    assert world.seen == [UPLOAD_PHOTO]
    assert (row.state, row.info) == (State.FAILED, "upload photo: Unknown identity")


@pytest.mark.parametrize("answer", [
    error(500, "Internal error"), error(502, "API down for maintenance"), error(504, "Timeout"),
    raises(httpx.ReadTimeout), raises(httpx.RemoteProtocolError),
], ids=["500", "502", "504", "read-timeout", "dropped"])
def test_answers_that_may_have_posted_become_unknown_and_are_never_retried(
        world: World, answer: Answer) -> None:
    row = sent(world.deliver(answer, entry="text"))
    assert world.seen == [PUBLISH_TEXT]
    assert row.state is State.UNKNOWN
    assert "may have been acted on" in row.info
    assert row.next_attempt is None
    assert world.ledger.rows(states=[State.RETRY_WAIT]) == []
    assert world.deliver(entry="text") is None
    assert world.deliver(entry="text", force=True) is None
    assert world.seen == []


def test_a_2xx_upload_without_an_id_fails_without_posting(world: World) -> None:
    row = sent(world.deliver(ok('{"provider": "facebook", "object": "picture"}')))
    assert world.seen == [UPLOAD_PHOTO]
    assert (row.state, row.http_status) == (State.FAILED, 200)
    assert row.info == "upload photo: OneAll answered without picture_id"
    assert dict(row.steps) == {}


def test_a_failed_occurrence_can_be_forced_and_reuses_nothing_it_lacks(world: World) -> None:
    world.deliver(PICTURE_1, error(400, "Bad picture"))
    row = sent(world.deliver(PICTURE_2, POSTED, force=True))
    assert world.seen == [UPLOAD_PHOTO2, PUBLISH]
    assert (row.state, row.attempts) == (State.SENT, 2)


def test_the_private_key_echoed_by_the_server_is_not_stored(world: World) -> None:
    row = sent(world.deliver(error(401, f"Wrong key {PRIVATE}"), entry="text"))
    assert row.state is State.FAILED
    assert PRIVATE not in row.info
    assert all(PRIVATE not in e.info for e in world.ledger.history())


def test_cancelled_while_waiting_for_the_answer_becomes_unknown(world: World) -> None:
    entered = asyncio.Event()

    async def hang(request: httpx.Request) -> httpx.Response:
        entered.set()
        await asyncio.Event().wait()
        raise AssertionError("never answered")

    async def scenario() -> None:
        task = asyncio.create_task(world._deliver(world.occurrence("text")))
        await entered.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    world.script = [hang]
    asyncio.run(scenario())
    row = world.row("text")
    assert row.state is State.UNKNOWN
    assert row.info == "interrupted while sending: the request may have been acted on"


def test_a_bug_while_sending_leaves_the_row_unknown_not_sending(world: World) -> None:
    async def broken(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("a bug in a transport")

    world.script = [broken]
    with pytest.raises(RuntimeError):
        asyncio.run(world._deliver(world.occurrence("text")))
    row = world.row("text")
    assert row.state is State.UNKNOWN
    assert row.info == ("internal error RuntimeError('a bug in a transport') while sending: "
                        "the request may have been acted on")


def _row_with_upload(scheduled: datetime) -> Row:
    return Row(key="k", entry="k", account="x", state=State.SENDING, scheduled=scheduled,
               endpoint="twitter/post", attempts=2, claimed=None, finished=None,
               next_attempt=None, remote_id=None, location=None, http_status=None, info="",
               calendar_hash="h", commit=None, steps={"upload photo": "1"})


@pytest.mark.parametrize(("endpoint", "hours_late", "reused"), [
    ("twitter/picture", 1, True),       # a retry within the hour attaches the upload
    ("twitter/picture", 23.5, False),   # a day late: it may have expired unattached
    ("facebook/page/picture", 72, True),  # Facebook uploads do not expire
])
def test_an_upload_that_may_have_expired_is_made_again(endpoint: str, hours_late: float,
                                                       reused: bool) -> None:
    upload = Request("upload photo", endpoint, "POST", "/p", {}, "picture_id")
    row = _row_with_upload(DUE)
    assert reusable(upload, row, DUE + timedelta(hours=hours_late)) is reused
