"""The daemon's liveness signal: a small JSON file rewritten every few seconds.

A supervisor (systemd, a container HEALTHCHECK, a monitoring agent) reads it to tell that
the daemon is alive (`alive_at` is recent), when it last fired, and how many deliveries
need a human (`attention`: unknown, failed, missed). Written atomically (temp file, then
rename), so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from runner.clock import utc_text


def write(path: Path, fields: Mapping[str, Any]) -> None:
    """Replace `path` with `fields` as JSON, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o644)  # monitoring agents read it as another user; it holds no secret
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            json.dump(dict(fields), stream, indent=2, default=_text)
            stream.write("\n")
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def beat(path: Path, *, clock: Callable[[], datetime], last_fire: datetime | None,
         next_fire: datetime | None, attention: int, backlog: int, fired: int,
         failing: Mapping[str, str] | None = None, unrecorded: int = 0) -> None:
    """One heartbeat with what a supervisor wants to know. `healthy` is false while a
    background task is failing or an occurrence could not be recorded."""
    failing = dict(failing or {})
    write(path, {
        "pid": os.getpid(), "alive_at": clock(), "last_fire": last_fire, "next_fire": next_fire,
        "fired": fired, "attention": attention, "backlog": backlog,
        "healthy": not failing and not unrecorded, "failing": failing, "unrecorded": unrecorded,
    })


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return utc_text(value)
    return str(value)
