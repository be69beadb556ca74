"""`pushcal run`: what it says at start and at the end, on the rehearsal's virtual time."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

from daemon_kit import calendar, post

from runner.cli import Context, main


def rehearse(cal: Path, state: Path) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    code = main(["run", str(cal), "--rehearse", "--sandbox", "--state", str(state),
                 "--from", "2026-12-01 00:00", "--until", "2026-12-03 00:00",
                 "--speed", "100000"], Context(env={}, out=out, err=err))
    return code, out.getvalue(), err.getvalue()


def test_a_rehearsal_counts_what_this_run_did(tmp_path: Path) -> None:
    cal = tmp_path / "calendar.yaml"
    cal.write_text(calendar([post("tip", "2026-12-01 10:00", ["tw"],
                                  repeat={"every": "day", "forever": True})]))
    state = tmp_path / "try.sqlite"
    code, out, err = rehearse(cal, state)
    assert code == 0, err
    assert out.startswith("rehearsal finished at 2026-12-0") and out.endswith(
        " (virtual): sent: 2\n"), out
    rehearsing = next(line for line in err.splitlines() if " rehearsing " in line)
    assert rehearsing.split(" ", 1)[1] == (
        "rehearsing virtual_from=2026-11-30T23:00:00.000Z until=2026-12-02T23:00:00.000Z "
        'speed=100000.0 note="virtual time: every moment in this log is on the rehearsal\'s '
        'clock"')
    started = next(line for line in err.splitlines() if " started " in line)
    assert started.endswith(' next=2026-12-01T09:00:00.000Z next_local="2026-12-01 10:00:00 '
                            'CET (+01:00)"'), started
    # The same window again: everything is recorded already, and the summary says so
    # instead of repeating the ledger's totals.
    code, out, err = rehearse(cal, state)
    assert code == 0, err
    assert out.endswith(" (virtual): this run recorded nothing\n"), out
