"""Is the pushcal daemon alive? Reads its heartbeat file (`pushcal run --heartbeat FILE`).

    python healthcheck.py FILE [--max-age SECONDS]

Exit 0 when the file was rewritten within the last SECONDS (default 30; the daemon rewrites
it every 5 s), 1 otherwise, with one line saying why. Liveness only: deliveries that need a
human (`attention` > 0) are reported on the line but do not fail the check, because a
restart cannot settle an `unknown` post; alert on them instead (`pushcal status --check`).
Standard library only, so a container HEALTHCHECK or a monitoring agent can run it as is.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path


def verdict(path: Path, max_age: float, now: datetime) -> tuple[bool, str]:
    """(healthy, the line to print) for the heartbeat at `path`."""
    try:
        beat = json.loads(path.read_text(encoding="utf-8"))
        alive_at = datetime.fromisoformat(str(beat["alive_at"]).replace("Z", "+00:00"))
    except (OSError, ValueError, KeyError, TypeError) as error:
        return False, f"unhealthy: no readable heartbeat at {path}: {error}"
    age = (now - alive_at).total_seconds()
    facts = (f"pid {beat.get('pid')}, last fire {beat.get('last_fire') or 'none yet'}, "
             f"attention {beat.get('attention')}")
    if age > max_age:
        return False, f"unhealthy: heartbeat {age:.0f} s old (limit {max_age:g} s); {facts}"
    if beat.get("healthy") is False:  # a background task is failing, or a miss unrecorded
        failing = ", ".join(sorted(beat.get("failing") or {})) or "none"
        return False, (f"unhealthy: failing tasks: {failing}; unrecorded misses: "
                       f"{beat.get('unrecorded', 0)}; {facts}")
    return True, f"healthy: heartbeat {age:.0f} s old; {facts}"


def main(argv: list[str] | None = None) -> int:
    """Check the heartbeat file named on the command line; return the exit code."""
    parser = argparse.ArgumentParser(description="pushcal liveness check")
    parser.add_argument("file", type=Path)
    parser.add_argument("--max-age", type=float, default=30.0, metavar="SECONDS")
    args = parser.parse_args(argv)
    healthy, line = verdict(args.file, args.max_age, datetime.now(UTC))
    print(line)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
