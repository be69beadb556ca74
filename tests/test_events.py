"""The event log: one format per moment and duration, a capturing log for tests, and the
libraries' own log records routed into it."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta, timezone
from io import StringIO

import pytest

from runner.clock import duration_text
from runner.daemon import CapturedLog, EventLog, route_library_logs

T = datetime(2026, 12, 1, 9, 0, 0, 1000, tzinfo=timezone(timedelta(hours=1)))


def test_moments_are_written_in_utc_to_the_millisecond_and_durations_as_a_calendar_does() -> None:
    out = StringIO()
    EventLog(out, clock=lambda: T)("missed", due=T, grace=timedelta(minutes=15), note="a b")
    assert out.getvalue() == ("2026-12-01T08:00:00.001Z missed due=2026-12-01T08:00:00.001Z "
                              'grace=15m note="a b"\n')


def test_json_lines_carry_the_same_plain_values() -> None:
    out = StringIO()
    EventLog(out, fmt="json", clock=lambda: T)("started", horizon=timedelta(hours=48), jobs=3)
    assert json.loads(out.getvalue()) == {"time": "2026-12-01T08:00:00.001Z", "event": "started",
                                          "horizon": "2d", "jobs": 3}


@pytest.mark.parametrize("span, text", [
    (timedelta(0), "0s"), (timedelta(hours=2), "2h"), (timedelta(minutes=15), "15m"),
    (timedelta(hours=1, minutes=30), "1h30m"), (timedelta(days=2), "2d"),
    (timedelta(seconds=90), "1m30s"), (timedelta(milliseconds=250), "250ms"),
    (timedelta(seconds=-30), "-30s"), (timedelta(seconds=61, milliseconds=500), "61.5s"),
])
def test_duration_text(span: timedelta, text: str) -> None:
    assert duration_text(span) == text


def test_a_captured_log_answers_questions_about_events() -> None:
    log = CapturedLog(clock=lambda: T)
    log("delivered", entry="launch", state="unknown", remote_id=None)
    log("delivered", entry="tip", state="sent")
    assert log.has("delivered", entry="launch", state="unknown")
    assert not log.has("delivered", entry="launch", state="sent")
    assert [f["entry"] for f in log.named("delivered")] == ["launch", "tip"]
    assert log.named("delivered")[0] == {"entry": "launch", "state": "unknown"}  # None left out


def test_library_warnings_go_through_the_event_log_in_its_format() -> None:
    out = StringIO()
    log = EventLog(out, fmt="json", clock=lambda: T)
    scheduler = logging.getLogger("apscheduler.scheduler")
    with route_library_logs(log):
        scheduler.warning("Run time of job %r was missed by %s", "at 09:00", "0:00:01")
        logging.getLogger("httpx").info("below the level: not shown")
    scheduler.warning("after the block: not routed")
    [line] = out.getvalue().splitlines()
    assert json.loads(line) == {"time": "2026-12-01T08:00:00.001Z", "event": "library",
                                "logger": "apscheduler.scheduler", "level": "warning",
                                "message": "Run time of job 'at 09:00' was missed by 0:00:01"}
    assert logging.getLogger("apscheduler").propagate is True  # restored


def test_an_event_log_without_a_stream_writes_nothing() -> None:
    EventLog(None, clock=lambda: datetime.now(UTC))("anything", x=1)  # must not raise
    captured = CapturedLog()
    captured("x", at=T)
    assert captured.named("x") == [{"at": "2026-12-01T08:00:00.001Z"}]
