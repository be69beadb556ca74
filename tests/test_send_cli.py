"""`pushcal send` against the loopback sandbox: every entry of examples/every-endpoint.yaml is
accepted and together they reach all 20 Push endpoints; nothing is sent twice; credentials are
required and never printed.

Most tests start their own `Sandbox` and hand its environment to the command (no --sandbox),
so they can read what the server received.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import Run, run_pushcal

from runner.calendar import load
from runner.ledger import SqliteLedger, State
from runner.sandbox import SANDBOX_PRIVATE_KEY, Faults, Sandbox

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "every-endpoint.yaml"
NOW = datetime(2027, 1, 1, tzinfo=UTC)  # the example's entries are on 2027-01-04
ENTRIES = list(load([str(EXAMPLE)]).entries)

ALL_20 = {
    "facebook/post", "facebook/picture", "facebook/video",
    "facebook/group/post", "facebook/group/picture", "facebook/group/video",
    "facebook/page/post", "facebook/page/picture", "facebook/page/video",
    "linkedin/post", "linkedin/company/post",
    "pinterest/pin", "pinterest/board",
    "twitter/post", "twitter/picture", "twitter/video",
    "youtube/video", "youtube/playlist/video", "youtube/playlist", "youtube/channel/section",
}




def pushcal(*argv: str | Path, env: dict[str, str]) -> Run:
    return run_pushcal([str(a) for a in argv], now=NOW, env=env)


@pytest.fixture
def box() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "ledger.sqlite"


def send(box: Sandbox, state: Path, entry: str, *options: str) -> Run:
    return pushcal("send", EXAMPLE, entry, "--state", state, *options, env=box.env())


SENT_LINE = re.compile(r"(?P<key>\S+) -> (?P<account>\S+): (sent|accepted) (?P<endpoint>\S+)(  .*)?")


def test_every_entry_is_accepted_and_together_they_hit_all_20_endpoints(
        box: Sandbox, state: Path) -> None:
    assert len(ENTRIES) == 19
    outputs = []
    for entry in ENTRIES:
        result = send(box, state, entry)
        assert (result.code, result.err) == (0, ""), f"{entry}: {result}"
        outputs.append(result.out)
        for line in result.out.splitlines():
            match = SENT_LINE.fullmatch(line)
            assert match is not None and match["key"] == entry, f"{entry}: {result}"
    received = box.received()
    assert {r.endpoint for r in received} == ALL_20
    assert all(r.status == 200 and r.fault is None and r.duplicate_of is None for r in received)
    assert len(received) == 31  # 23 deliveries, 8 of them after uploads
    with SqliteLedger(state, clock=lambda: NOW) as ledger:
        # The two video uploads (Twitter, YouTube) are queued: accepted, awaiting a result.
        assert (ledger.counts()[State.SENT], ledger.counts()[State.ACCEPTED]) == (21, 2)
        assert sum(ledger.counts().values()) == 23
    assert not any(SANDBOX_PRIVATE_KEY in text for text in outputs)


def test_posts_attach_exactly_the_ids_their_uploads_got(box: Sandbox, state: Path) -> None:
    assert send(box, state, "tweet").code == 0
    assert send(box, state, "fb-page-post").code == 0
    received = box.received()
    assert [r.endpoint for r in received] == [
        "twitter/picture", "twitter/picture", "twitter/post",
        "facebook/page/picture", "facebook/page/video", "facebook/page/post"]
    tweet, page_post = received[2].body, received[5].body
    assert tweet == {"request": {"push": {"post": {
        "message": "A tweet with two pictures",
        "attachments": [received[0].created, received[1].created]}}}}
    assert page_post == {"request": {"push": {"page": {
        "id": "100000000000001", "message": "Page post with media",
        "attachments": [received[3].created, received[4].created]}}}}


def test_the_result_line_shows_id_location_and_info(box: Sandbox, state: Path) -> None:
    result = send(box, state, "li-company-post")
    (created,) = [r.created for r in box.received()]
    assert result.out == (
        f"li-company-post -> li-company: sent linkedin/company/post  {created}  "
        f"https://www.linkedin.com/feed/update/urn:li:activity:{created}/  "
        "The request has been processed\n"), result


def test_sending_the_same_entry_twice_sends_nothing_the_second_time(
        box: Sandbox, state: Path) -> None:
    assert send(box, state, "fb-link-post").code == 0
    before = len(box.received())
    again = send(box, state, "fb-link-post")
    assert (again.code, again.err) == (1, ""), again
    assert again.out == ("fb-link-post -> fb-page: not sent: already sent\n"
                         "fb-link-post -> fb-profile: not sent: already sent\n"
                         "fb-link-post -> fb-group: not sent: already sent\n"), again
    forced = send(box, state, "fb-link-post", "--force")
    assert forced.code == 1, forced
    assert len(box.received()) == before == 3


def test_account_sends_to_that_account_only(box: Sandbox, state: Path) -> None:
    result = send(box, state, "fb-page-video", "--account", "fb-group")
    assert result.code == 0, result
    assert [r.endpoint for r in box.received()] == ["facebook/group/video"]
    rest = send(box, state, "fb-page-video")
    assert rest.code == 1, rest  # fb-group was sent already; the other two go now
    assert [r.endpoint for r in box.received()][1:] == ["facebook/page/video", "facebook/video"]


def test_503_waits_and_a_later_send_completes_it(box: Sandbox, state: Path) -> None:
    box.set_faults(Faults(fail_rate=1.0, fail_codes=("503",)))
    busy = send(box, state, "board")
    assert busy.code == 1, busy
    assert busy.out.startswith("board -> pinterest: retry_wait pinterest/board"), busy
    box.set_faults(Faults())
    done = send(box, state, "board")
    assert done.code == 0, done
    assert [(r.endpoint, r.status) for r in box.received()] == [
        ("pinterest/board", 503), ("pinterest/board", 200)]


def test_a_connection_reset_after_posting_is_unknown_and_never_resent(
        box: Sandbox, state: Path) -> None:
    box.set_faults(Faults(fail_rate=1.0, fail_codes=("reset-after",)))
    lost = send(box, state, "playlist")
    assert lost.code == 1, lost
    assert lost.out.startswith("playlist -> youtube: unknown youtube/playlist"), lost
    assert "may have been acted on" in lost.out
    box.set_faults(Faults())
    again = send(box, state, "playlist")
    assert (again.code, again.out) == (1, (
        "playlist -> youtube: not sent: already unknown (it may have been posted): pushcal check "
        f"{EXAMPLE}, then pushcal resolve playlist --account youtube\n")), again
    assert len(box.created()) == 1  # the sandbox did create it, once


def test_the_sandbox_flag_needs_no_credentials(tmp_path: Path) -> None:
    result = pushcal("send", EXAMPLE, "board", "--sandbox", "--state", tmp_path / "l.sqlite",
                     env={})
    assert result.code == 0, result
    assert result.out.startswith("board -> pinterest: sent pinterest/board  "), result
    assert re.fullmatch(r"sandbox: listening on http://127\.0\.0\.1:\d+\n", result.err), result
    assert SANDBOX_PRIVATE_KEY not in result.out + result.err


def test_missing_credentials_exit_1_naming_the_variables(tmp_path: Path) -> None:
    state = tmp_path / "ledger.sqlite"
    none = pushcal("send", EXAMPLE, "board", "--state", state, env={})
    assert (none.code, none.out) == (1, ""), none
    assert none.err == (
        "pushcal: missing environment variables ONEALL_SUBDOMAIN, ONEALL_PUBLIC_KEY, "
        "ONEALL_PRIVATE_KEY: export ONEALL_SUBDOMAIN=... ONEALL_PUBLIC_KEY=... "
        "ONEALL_PRIVATE_KEY=... with your OneAll site's subdomain and API keys "
        "(`--sandbox` needs none)\n"), none
    some = pushcal("send", EXAMPLE, "board", "--state", state,
                   env={"ONEALL_SUBDOMAIN": "acme", "ONEALL_PUBLIC_KEY": "x"})
    assert some.code == 1, some
    assert some.err.startswith("pushcal: missing environment variable ONEALL_PRIVATE_KEY: "), some
    assert not state.exists()  # refused before the ledger was opened


def test_a_malformed_private_key_is_refused_without_being_echoed(tmp_path: Path) -> None:
    secret = "not-a-uuid-but-very-secret"
    env = {"ONEALL_SUBDOMAIN": "acme", "ONEALL_PUBLIC_KEY": "0f1e2d3c-4b5a-4978-8a9b-acbdcedf0a1b",
           "ONEALL_PRIVATE_KEY": secret}
    result = pushcal("send", EXAMPLE, "board", "--state", tmp_path / "l.sqlite", env=env)
    assert result.code == 1, result
    assert "ONEALL_PRIVATE_KEY is not UUID-shaped" in result.err, result
    assert secret not in result.out + result.err


def test_a_wrong_private_key_fails_and_appears_nowhere(box: Sandbox, state: Path) -> None:
    wrong = "0badc0de-0000-4000-8000-00000000dead"
    env = {**box.env(), "ONEALL_PRIVATE_KEY": wrong}
    result = pushcal("send", EXAMPLE, "board", "--state", state, env=env)
    assert result.code == 1, result
    assert result.out.startswith("board -> pinterest: failed pinterest/board"), result
    assert "check ONEALL_PUBLIC_KEY and ONEALL_PRIVATE_KEY" in result.out, result
    assert wrong not in result.out + result.err
    with SqliteLedger(state, clock=lambda: NOW) as ledger:
        (row,) = ledger.rows()
        assert (row.state, row.http_status) == (State.FAILED, 401)
        assert wrong not in row.info
        assert all(wrong not in event.info for event in ledger.history())
    assert all(wrong.encode() not in f.read_bytes() for f in state.parent.glob(state.name + "*"))


def test_an_unknown_entry_is_a_clean_failure(box: Sandbox, state: Path) -> None:
    result = send(box, state, "nope")
    assert (result.code, result.out, result.err) == (
        1, "", "pushcal: no entry 'nope' in the calendar\n"), result
    assert box.received() == []


def test_a_one_off_whose_time_has_passed_can_still_be_sent_by_hand(box: Sandbox,
                                                                   state: Path) -> None:
    late = run_pushcal(["send", str(EXAMPLE), "tweet", "--state", str(state)],
                       now=datetime(2027, 3, 1, tzinfo=UTC), env=box.env())
    assert late.code == 0, late
    assert late.out.startswith("tweet -> twitter: sent twitter/post"), late
    with SqliteLedger(state, clock=lambda: NOW) as ledger:
        row = ledger.get("tweet", "twitter")
    assert row is not None and row.scheduled == datetime(2027, 1, 4, 9, 6, tzinfo=UTC)
