"""`pushcal ledger copy`: every row and every event arrive exactly, and a ledger that already
holds deliveries is never written to. Real SQLite files and a real PostgreSQL database."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

from conftest import RunPushcal
from ledger_kit import T0, Clock, claim, mark, put
from pg_server import PASSWORD

from runner.ledger import SqliteLedger, State
from runner.ledger.location import open_ledger, parse


def a_busy_ledger(path: Path) -> None:
    clock = Clock()
    with SqliteLedger(path, clock=clock) as ledger:
        for state in (State.SENT, State.RETRY_WAIT, State.FAILED, State.UNKNOWN, State.SENDING):
            put(ledger, state, f"post-{state}", "acme-page")
            clock.advance(1.25)
        claim(ledger, "media", "acme-x", calendar_hash="h2", commit=None)
        ledger.record_step("media", "acme-x", "upload photo", "1122")
        ledger.finish("media", "acme-x", State.SENT, http_status=200, remote_id="77_88",
                      location="https://x.example/77_88", info="ok")
        mark(ledger, State.MISSED, "late")
        mark(ledger, State.CANCELLED, "gone", "acme-x")
        ledger.resolve("post-unknown", "acme-page", sent=True)


def test_a_copy_into_postgresql_keeps_every_row_and_event(pushcal: RunPushcal, tmp_path: Path,
                                                          pg_url: str) -> None:
    source = tmp_path / "ledger.sqlite"
    a_busy_ledger(source)
    before = pushcal(["history", "--format", "json", "--state", str(source)])
    done = pushcal(["ledger", "copy", str(source), pg_url])
    shown = pg_url.replace(PASSWORD, "***")
    assert (done.code, done.err) == (0, "")
    assert done.out == f"copied 8 deliveries and 15 events from {source} to {shown}\n"
    after = pushcal(["history", "--format", "json", "--state", pg_url])
    assert after.code == 0 and after.out == before.out and before.out.count('"key"') == 8
    copied, original = open_ledger(parse(pg_url), lambda: T0), open_ledger(source, lambda: T0)
    assert copied is not None and original is not None
    with closing(copied), closing(original):
        assert copied.rows() == original.rows()
        assert copied.history() == original.history()
        assert copied.counts() == original.counts()


def test_a_copy_never_writes_into_a_ledger_that_has_deliveries(pushcal: RunPushcal,
                                                               tmp_path: Path, pg_url: str) -> None:
    source = tmp_path / "ledger.sqlite"
    a_busy_ledger(source)
    assert pushcal(["ledger", "copy", str(source), pg_url]).code == 0
    again = pushcal(["ledger", "copy", str(source), pg_url])
    shown = pg_url.replace(PASSWORD, "***")
    assert (again.code, again.out) == (1, "")
    assert again.err == (f"pushcal: {shown} already holds deliveries: copy only into an empty"
                         " ledger\n")
    back = tmp_path / "back.sqlite"
    assert pushcal(["ledger", "copy", pg_url, str(back)]).code == 0  # and back again
    twice = pushcal(["ledger", "copy", pg_url, str(back)])
    assert twice.err == f"pushcal: {back} already holds deliveries: copy only into an empty ledger\n"
    original = pushcal(["history", "--format", "json", "--state", str(source)])
    assert pushcal(["history", "--format", "json", "--state", str(back)]).out == original.out


def test_copying_from_nowhere_or_onto_itself_is_refused(pushcal: RunPushcal, tmp_path: Path) -> None:
    missing = tmp_path / "none.sqlite"
    done = pushcal(["ledger", "copy", str(missing), str(tmp_path / "new.sqlite")])
    assert (done.code, done.err) == (1, f"pushcal: no ledger at {missing}\n")
    assert not (tmp_path / "new.sqlite").exists()
    same = pushcal(["ledger", "copy", str(missing), str(missing)])
    assert (same.code, same.err) == (2, "pushcal: ledger copy: SRC and DST are the same ledger\n")
