"""One line per event, for people (`text`) or machines (`json`).

Every field is passed explicitly by the caller; nothing here reads the environment, so a
secret can only appear in a log line if a caller hands it over, and none does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TextIO

from runner.clock import utc_text


class EventLog:
    """Writes events as `2026-12-01T08:00:00.001Z event key=value ...` or JSON lines."""

    def __init__(self, stream: TextIO, *, fmt: str = "text",
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._stream = stream
        self._json = fmt == "json"
        self._clock = clock

    def __call__(self, event: str, **fields: Any) -> None:
        stamp = utc_text(self._clock())
        present = {k: v for k, v in fields.items() if v is not None and v != ""}
        if self._json:
            line = json.dumps({"time": stamp, "event": event, **present}, ensure_ascii=False,
                              default=str)
        else:
            parts = " ".join(f"{k}={_text(v)}" for k, v in present.items())
            line = f"{stamp} {event} {parts}".rstrip()
        self._stream.write(line + "\n")
        self._stream.flush()


def _text(value: Any) -> str:
    text = str(value)
    if not text or any(c in text for c in " \"=\n"):
        return json.dumps(text, ensure_ascii=False)
    return text
