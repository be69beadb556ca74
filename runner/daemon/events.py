"""One line per event, for people (`text`) or machines (`json`), and a capturing log for tests.

Every field is passed explicitly by the caller; nothing here reads the environment, so a
secret can only appear in a log line if a caller hands it over, and none does. Moments are
written one way (`clock.utc_text`), durations the way a calendar writes them (`2h`, `15m`).
The standard `logging` records of the libraries we run on (APScheduler, httpx) are routed
here too (`route_library_logs`), so `--log-format json` holds every line the daemon writes.

The log is also the daemon's observer interface: `observe` adds a function that receives
every event (name and plain fields) as it is written. Alerts, metrics and the dead-man ping
listen there, so the daemon tells them nothing it does not also tell the log, and a new
event (`ledger-lost` from a server ledger, say) reaches them without touching the daemon.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from runner.clock import duration_text, utc_text

Observer = Callable[[str, Mapping[str, Any]], None]

LIBRARY_LOGGERS = ("apscheduler", "httpx", "httpcore")


class EventLog:
    """Writes events as `2026-12-01T08:00:00.001Z event key=value ...` or JSON lines."""

    def __init__(self, stream: TextIO | None, *, fmt: str = "text",
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._stream = stream
        self._json = fmt == "json"
        self._clock = clock
        self._observers: list[Observer] = []

    def observe(self, observer: Observer) -> None:
        """Call `observer(event, fields)` for every event from now on. It must be quick and
        never block (hand work to a thread); an exception it raises is logged, not raised."""
        self._observers.append(observer)

    def __call__(self, event: str, **fields: Any) -> None:
        present = {k: plain(v) for k, v in fields.items() if v is not None and v != ""}
        self.emit(event, present)
        for observer in self._observers:
            try:
                observer(event, present)
            except Exception as error:  # an observer's bug must never stop a delivery
                if event != "observer-error":
                    self.emit("observer-error", {"event": event, "error": repr(error)})

    def emit(self, event: str, fields: dict[str, Any]) -> None:
        """Write one event whose fields are already plain values."""
        if self._stream is None:
            return
        stamp = utc_text(self._clock())
        if self._json:
            line = json.dumps({"time": stamp, "event": event, **fields}, ensure_ascii=False,
                              default=str)
        else:
            parts = " ".join(f"{k}={_text(v)}" for k, v in fields.items())
            line = f"{stamp} {event} {parts}".rstrip()
        self._stream.write(line + "\n")
        self._stream.flush()


class CapturedLog(EventLog):
    """An event log that keeps `(event, fields)` pairs, for tests to assert on events
    instead of parsing rendered lines (structlog's `capture_logs` is the model)."""

    def __init__(self, stream: TextIO | None = None, **options: Any) -> None:
        super().__init__(stream, **options)
        self.events: list[tuple[str, dict[str, Any]]] = []

    def emit(self, event: str, fields: dict[str, Any]) -> None:
        self.events.append((event, fields))
        super().emit(event, fields)

    def named(self, event: str) -> list[dict[str, Any]]:
        """The fields of every event called `event`, in order."""
        return [fields for name, fields in self.events if name == event]

    def has(self, event: str, **fields: Any) -> bool:
        """Whether some `event` carries all of these fields with these values."""
        wanted = {k: plain(v) for k, v in fields.items()}
        return any(all(got.get(k) == v for k, v in wanted.items()) for got in self.named(event))


def plain(value: Any) -> Any:
    """A field value as it is logged: moments in UTC to the millisecond, durations as `2h`."""
    if isinstance(value, datetime):
        return utc_text(value)
    if isinstance(value, timedelta):
        return duration_text(value)
    return value


class _ToEventLog(logging.Handler):
    def __init__(self, log: EventLog) -> None:
        super().__init__(logging.INFO)
        self._log = log

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a library's malformed format string must not stop the daemon
            message = str(record.msg)
        self._log("library", logger=record.name, level=record.levelname.lower(), message=message)


@contextmanager
def route_library_logs(log: EventLog, level: int = logging.WARNING) -> Iterator[None]:
    """While inside, records of APScheduler and httpx at `level` or above go to `log`
    (and not to Python's last-resort stderr handler, which bypasses the log format)."""
    handler = _ToEventLog(log)
    handler.setLevel(level)
    saved = []
    for name in LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.propagate, logger.level))
        logger.addHandler(handler)
        logger.propagate = False
        if logger.level == logging.NOTSET or logger.level > level:
            logger.setLevel(level)
    try:
        yield
    finally:
        for logger, propagate, old_level in saved:
            logger.removeHandler(handler)
            logger.propagate, logger.level = propagate, old_level


def _text(value: Any) -> str:
    text = str(value)
    if not text or any(c in text for c in " \"=\n"):
        return json.dumps(text, ensure_ascii=False)
    return text
