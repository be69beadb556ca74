"""Asynchronous uploads: `accepted` in the ledger, concluded by the sandbox's real callback
through the receiver, forged and replayed callbacks refused, and a result that never comes
turned `unknown` after the timeout, never uploaded again."""

from __future__ import annotations

import asyncio
import http.client
import io
import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from daemon_kit import ACCOUNTS, Rig, soon
from receivers import receiving

from runner.cli import Context, main
from runner.daemon import CapturedLog
from runner.daemon.alerts import Commands
from runner.daemon.callback_server import serve
from runner.daemon.notify import Notifier, Settings, Target
from runner.daemon.results import Results
from runner.delivery import CallbackUrls
from runner.ledger import CALLBACK_STEP, ClaimRequest, SqliteLedger, State
from runner.sandbox import Sandbox

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def video_calendar(*entries: tuple[str, str], callback_url: str | None = None) -> str:
    accounts: dict[str, Any] = {"tw": dict(ACCOUNTS["tw"])}
    if callback_url:
        accounts["tw"]["callback_url"] = callback_url
    return json.dumps({
        "version": 1, "timezone": "UTC", "accounts": accounts,
        "media": {"reel": {"url": "https://cdn.example.com/reel.mp4", "type": "video"}},
        "videos": [{"id": entry, "at": at, "to": ["tw"], "media": "reel"} for entry, at in entries]})


def post_to(url: str, body: bytes) -> int:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=5)
    try:
        connection.request("POST", f"{parts.path}?{parts.query}", body,
                           {"Content-Type": "application/json"})
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[SqliteLedger]:
    with SqliteLedger(tmp_path / "ledger.sqlite", clock=lambda: NOW) as opened:
        yield opened


def accepted(ledger: SqliteLedger, key: str = "reel", kept: str = "0" * 64) -> None:
    """A row as `deliver` leaves a queued upload: the token's digest recorded, then accepted."""
    ledger.claim(ClaimRequest(key, key, "tw", NOW, "twitter/video", "h", None))
    ledger.record_step(key, "tw", CALLBACK_STEP, kept)
    ledger.finish(key, "tw", State.ACCEPTED, info="accepted by OneAll, waiting for the result",
                  http_status=200)


def test_an_accepted_row_is_concluded_once_and_never_claimed_again(ledger: SqliteLedger) -> None:
    accepted(ledger)
    again = ClaimRequest("reel", "reel", "tw", NOW, "twitter/video", "h", None, force_retry=True)
    assert ledger.claim(again) is None  # not even a forced send uploads it again
    done = ledger.conclude("reel", "tw", State.SENT, info="callback", remote_id="v1",
                           location="https://twitter.com/i/web/status/v1")
    assert done is not None and (done.state, done.remote_id, done.http_status) == (
        State.SENT, "v1", 200)
    assert ledger.conclude("reel", "tw", State.FAILED, info="a replay") is None
    assert ledger.conclude("nothing", "tw", State.SENT, info="x") is None
    assert [e.to_state for e in ledger.history(key="reel")] == [
        State.SENDING, State.SENDING, State.ACCEPTED, State.SENT]


def test_a_version_1_ledger_is_migrated_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with SqliteLedger(path, clock=lambda: NOW) as fresh:
        fresh.claim(ClaimRequest("a", "a", "tw", NOW, "twitter/post", "h", None))
        fresh.finish("a", "tw", State.SENT, info="ok", remote_id="1")
    # Make it what a pushcal of schema 1 wrote: no `accepted` in the CHECK constraints.
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("UPDATE sqlite_master SET sql = replace(sql, ', ''accepted''', '')")
    conn.execute("PRAGMA writable_schema = OFF")
    conn.execute("DELETE FROM schema_version")
    conn.execute("INSERT INTO schema_version VALUES (1, 'then')")
    conn.close()
    with SqliteLedger(path, clock=lambda: NOW) as migrated:
        assert migrated.get("a", "tw") is not None and len(migrated.history(key="a")) == 2
        accepted(migrated, "b")
        assert migrated.counts()[State.ACCEPTED] == 1
    conn = sqlite3.connect(path)
    assert [v for (v,) in conn.execute("SELECT version FROM schema_version")] == [1, 2]
    conn.close()


def test_the_sandbox_callback_concludes_the_upload_and_forgeries_and_replays_are_refused(
        tmp_path: Path) -> None:
    log = CapturedLog()
    with Sandbox() as box, SqliteLedger(tmp_path / "ledger.sqlite",
                                        clock=lambda: datetime.now(UTC)) as reader:
        results = Results(reader, log, clock=lambda: datetime.now(UTC))
        stop, port = serve(results, "127.0.0.1", 0)
        try:
            rig = Rig(tmp_path, box)
            rig.write(video_calendar(("reel", soon(0.5))))
            base = f"http://127.0.0.1:{port}/oneall-callback"
            asyncio.run(rig.run(lambda: rig.rows().get(("reel", "tw")) is not None
                                and rig.rows()[("reel", "tw")].state is State.SENT,
                                callbacks=CallbackUrls(base)))
            (request,) = box.received()
            url = request.body["request"]["push"]["video"]["callback_url"]
            assert url.startswith(base + "?key=reel&account=tw&token=")
            row = rig.rows()[("reel", "tw")]
            video = box.created()[0].created
            assert (row.remote_id, row.location) == (video, f"https://twitter.com/i/web/status/{video}")
            moves = [e.to_state for e in reader.history(key="reel")]
            assert moves[-2:] == [State.ACCEPTED, State.SENT]
            final = json.dumps({"response": {"request": {"status": {
                "flag": "error", "code": 400, "info": "forged"}}}}).encode()
            forged = url.rsplit("token=", 1)[0] + "token=" + "A" * 43
            assert post_to(forged, final) == 403
            assert post_to(url, final) == 409  # genuine token, but concluded already: a replay
        finally:
            stop()
    assert rig.rows()[("reel", "tw")].state is State.SENT
    refused = [e["reason"] for e in log.named("callback-refused")]
    assert refused == ["no delivery has this token", "replayed: the delivery is already sent"]
    token = url.rsplit("token=", 1)[1]
    assert token not in json.dumps(log.events) and token not in rig.logged()
    assert log.has("concluded", key="reel", state="sent")


def test_a_failure_in_the_callback_is_failed_and_alerted(ledger: SqliteLedger) -> None:
    log = CapturedLog()
    with receiving() as hook:
        alerts = Notifier([Target(hook.url, "json")], commands=Commands("cal.yaml"), log=log,
                          settings=Settings(window=0.05)).start()
        log.observe(alerts)
        issued = CallbackUrls("http://127.0.0.1:1/cb").issue("reel", "tw", None)
        assert issued is not None
        url, kept = issued
        accepted(ledger, kept=kept)
        body = json.dumps({"response": {"request": {"status": {
            "flag": "error", "code": 422, "info": "The video could not be processed"}}}}).encode()
        verdict = Results(ledger, log, clock=lambda: NOW).callback(urlsplit(url).query, body)
        alerts.close()
        (message,) = hook.wait_for(1)
    assert (verdict.status, verdict.text) == (200, "recorded failed")
    row = ledger.get("reel", "tw")
    assert row is not None and (row.state, row.info) == (
        State.FAILED, "OneAll's callback: 422 The video could not be processed")
    (alert,) = message.json()["alerts"]
    assert (alert["kind"], alert["entry"]) == ("failed", "reel")


def test_a_result_that_never_comes_becomes_unknown_after_the_timeout(ledger: SqliteLedger) -> None:
    log = CapturedLog()
    accepted(ledger)
    results = Results(ledger, log, clock=lambda: NOW + timedelta(hours=23), timeout=timedelta(hours=24))
    assert results.sweep() == 0
    results = Results(ledger, log, clock=lambda: NOW + timedelta(hours=24), timeout=timedelta(hours=24))
    assert results.sweep() == 1
    row = ledger.get("reel", "tw")
    assert row is not None and row.state is State.UNKNOWN
    assert row.info == ("no result from OneAll within 1d of being accepted: look for the video "
                        "on the network, then pushcal resolve --sent or --not-sent")
    assert log.has("concluded", key="reel", state="unknown")


def test_pushcal_run_listens_for_callbacks_and_status_tells_waiting_from_needing(
        tmp_path: Path) -> None:
    path, state = tmp_path / "cal.yaml", tmp_path / "ledger.sqlite"
    due = (datetime.now(UTC) + timedelta(minutes=2)).isoformat(timespec="seconds")
    path.write_text(video_calendar(("reel", due.replace("+00:00", "Z")), ("later", "2030-01-01T09:00:00Z")))
    err = io.StringIO()
    until = (datetime.now(UTC) + timedelta(minutes=20)).isoformat(timespec="seconds")
    code = main(["run", str(path), "--sandbox", "--rehearse", "--speed", "600", "--state", str(state),
                 "--until", until.replace("+00:00", "Z"), "--callback-listen", "127.0.0.1:0"],
                Context(env={}, out=io.StringIO(), err=err))
    assert code == 0, err.getvalue()
    assert " callbacks-listening address=127.0.0.1:" in err.getvalue()
    assert " concluded entry=reel account=tw key=reel endpoint=twitter/video state=sent " in err.getvalue()
    # `send` has no receiver: the upload stays accepted, which waits and needs nobody yet.
    out = io.StringIO()
    assert main(["send", str(path), "later", "--sandbox", "--state", str(state)],
                Context(env={}, out=out, err=io.StringIO())) == 0
    out = io.StringIO()
    assert main(["status", "--state", str(state), "--check"], Context(env={}, out=out)) == 0
    lines = out.getvalue().splitlines()
    assert lines[0] == f"sandbox ledger {state}: accepted: 1, sent: 1"
    assert lines[1] == "waiting for OneAll's result:"
    assert lines[2].startswith("  2030-01-01T09:00:00.000Z  later -> tw  accepted  accepted by OneAll")
