"""What only the PostgreSQL ledger has: a schema it owns, passwords kept out of every
message, peers whose claims are theirs until they are certainly dead, a calendar gate, a
rate limit shared by all daemons, and a connection that can be lost and regained.

Everything runs against the real server `pg_server` starts (tests/pg_server.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest
from conftest import ROOT, RunPushcal
from ledger_kit import T0, Clock, claim, put
from pg_server import PASSWORD, Server

from runner.ledger import LedgerError, LedgerUnavailable, Row, State
from runner.ledger.location import DatabaseUrl, parse, redact
from runner.ledger.postgres import PostgresLedger


def open_pg(url: str, clock: Clock | None = None) -> PostgresLedger:
    return PostgresLedger(DatabaseUrl(url), clock=clock or (lambda: T0))


def beat_until_reaped(ledger: PostgresLedger) -> list[Row]:
    """Beat until something is reaped: a closed session's backend exits a moment later."""
    for _ in range(200):
        reaped = ledger.beat()
        if reaped:
            return reaped
        time.sleep(0.05)
    return []


def test_a_url_prints_without_its_password() -> None:
    where = parse("postgresql://ana:p%40ss@db.example:5432/pushcal?sslmode=require&password=x2")
    assert str(where) == "postgresql://ana:***@db.example:5432/pushcal?sslmode=require&password=***"
    assert "p%40ss" not in repr(where) and "x2" not in repr(where)
    assert redact("postgres://db/pushcal") == "postgres://db/pushcal"
    assert parse("ledger.sqlite") == parse("./ledger.sqlite")


def test_status_on_a_database_never_shows_the_password(pushcal: RunPushcal, pg_url: str) -> None:
    with closing(open_pg(pg_url)) as ledger:
        put(ledger, State.UNKNOWN, "launch")
    shown = pg_url.replace(PASSWORD, "***")
    done = pushcal(["status", "--state", pg_url])
    assert (done.code, done.err) == (0, "")
    assert done.out == (f"ledger {shown}: unknown: 1\n"
                        "needs attention:\n"
                        "  2026-12-01T08:00:00.000Z  launch -> acme-page  unknown  went unknown\n"
                        "    next: pushcal check CALENDAR --entry launch, then pushcal resolve"
                        " launch --account acme-page --sent (or --not-sent)\n"
                        "daemons: none alive: nothing will be sent on time\n")
    assert pushcal(["status", "--check"], env={"PUSHCAL_STATE": pg_url}).code == 1


def test_a_wrong_password_is_a_clean_error_without_it(pushcal: RunPushcal, pg_server: Server) -> None:
    url = pg_server.url().replace(PASSWORD, "not-the-Password-42")
    done = pushcal(["history", "--state", url])
    assert done.code == 1 and done.out == ""
    assert done.err.startswith("pushcal: ledger postgresql://pushcal:***@127.0.0.1:")
    assert "password authentication failed" in done.err
    assert "not-the-Password-42" not in done.err and "Traceback" not in done.err


@pytest.mark.parametrize("password", [PASSWORD, "wrong-PGPASSWORD-value"])
def test_pgpassword_from_the_environment_never_shows(pg_server: Server, pg_url: str,
                                                    password: str) -> None:
    url = pg_url.replace(f":{PASSWORD}@", "@")  # the password comes from PGPASSWORD only
    env = {**os.environ, "PGPASSWORD": password, "PUSHCAL_STATE": url}
    done = subprocess.run([sys.executable, "-m", "runner", "status"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert password not in done.stdout + done.stderr
    if password == PASSWORD:
        assert (done.returncode, done.stdout) == (0, f"no ledger at {url} yet: nothing has been sent\n")
    else:
        assert done.returncode == 1 and "password authentication failed" in done.stderr


def test_a_schema_newer_than_this_pushcal_is_refused(pushcal: RunPushcal, pg_server: Server,
                                                     pg_url: str) -> None:
    open_pg(pg_url).close()
    database = pg_url.rsplit("/", 1)[1]
    pg_server.psql("INSERT INTO pushcal.ledger_schema VALUES ('pushcal ledger', 2, now())", database)
    done = pushcal(["status", "--state", pg_url])
    shown = pg_url.replace(PASSWORD, "***")
    assert (done.code, done.out) == (1, "")
    assert done.err == (f"pushcal: {shown} has ledger schema version 2; this pushcal knows"
                        " version 1: upgrade pushcal\n")


def test_a_schema_of_someone_else_is_refused_and_left_alone(pushcal: RunPushcal, pg_server: Server,
                                                           pg_url: str) -> None:
    database = pg_url.rsplit("/", 1)[1]
    pg_server.psql("CREATE SCHEMA pushcal; CREATE TABLE pushcal.orders (id int)", database)
    done = pushcal(["resolve", "launch", "--account", "acme-page", "--sent", "--state", pg_url])
    shown = pg_url.replace(PASSWORD, "***")
    assert done.code == 1
    assert done.err.endswith(f"pushcal: {shown} is not a pushcal ledger: its schema 'pushcal' holds"
                             " other tables; give pushcal a database of its own\n")
    assert pg_server.psql("SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid ="
                          " c.relnamespace WHERE nspname = 'pushcal'", database) == "orders\n"


def test_a_starting_daemon_never_takes_a_live_peers_rows(pg_url: str) -> None:
    with closing(open_pg(pg_url)) as peer, closing(open_pg(pg_url)) as starting:
        peer.acquire_daemon_lock()
        put(peer, State.SENDING, "in-flight")
        starting.acquire_daemon_lock()
        assert starting.recover() == [] and starting.beat() == []
        row = peer.finish("in-flight", "acme-page", State.SENT, remote_id="9")
        assert row.state is State.SENT


def test_a_dead_peers_rows_become_unknown_once_its_session_is_gone(pg_url: str) -> None:
    with closing(open_pg(pg_url)) as survivor:
        survivor.acquire_daemon_lock()
        dead = open_pg(pg_url)
        dead.acquire_daemon_lock()
        put(dead, State.SENDING, "a")
        put(dead, State.SENT, "b")
        assert [p.pid for p in survivor.daemons()] == [os.getpid(), os.getpid()]
        assert survivor.beat() == []
        dead.close()  # the process dying closes its session the same way
        [reaped] = beat_until_reaped(survivor)
        assert (reaped.key, reaped.state) == ("a", State.UNKNOWN)
        assert "session ended" in reaped.info
        assert len(survivor.daemons()) == 1


def test_a_lost_connection_refuses_everything_until_reconnected(pg_server: Server, pg_url: str) -> None:
    database = pg_url.rsplit("/", 1)[1]
    with closing(open_pg(pg_url)) as ledger, closing(open_pg(pg_url)) as peer:
        ledger.acquire_daemon_lock()
        put(ledger, State.SENDING, "cut-off")
        pg_server.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE"
                       f" datname = '{database}' AND pid <> pg_backend_pid()", database)
        with pytest.raises(LedgerUnavailable, match=r"^ledger postgresql://pushcal:\*\*\*@"):
            claim(ledger, "after-the-cut")
        with pytest.raises(LedgerUnavailable, match="connection is lost"):
            claim(ledger, "after-the-cut")  # refused at once, without touching the network
        ledger.reconnect()
        peer.reconnect()
        [reaped] = beat_until_reaped(ledger)  # its old session's claim: nobody can finish it
        assert (reaped.key, reaped.state) == ("cut-off", State.UNKNOWN)
        assert claim(ledger, "after-the-cut") is not None
        assert len(ledger.daemons()) == 1


def test_a_daemon_on_an_older_calendar_claims_nothing(pg_url: str) -> None:
    with closing(open_pg(pg_url)) as old, closing(open_pg(pg_url)) as new:
        for ledger in (old, new):
            ledger.acquire_daemon_lock()
            ledger.announce("calendar-v1", "c1")
        assert claim(old, "both-agree") is not None
        new.announce("calendar-v2", "c2")  # reloaded: v2 is now the newest
        assert claim(old, "edited") is None
        assert claim(old, "forced", force_retry=True) is not None  # a human's send is not gated
        assert claim(new, "edited") is not None
        old.announce("calendar-v2", "c2")  # caught up
        assert claim(old, "later") is not None
        assert {(p.calendar_hash, p.commit) for p in old.daemons()} == {("calendar-v2", "c2")}


def test_a_stale_checkout_starting_later_is_still_older(pg_url: str) -> None:
    with closing(open_pg(pg_url)) as current, closing(open_pg(pg_url)) as stale:
        current.acquire_daemon_lock()
        current.announce("calendar-v1", None)
        current.announce("calendar-v2", None)  # v1 was seen first, v2 came by a reload
        stale.acquire_daemon_lock()
        stale.announce("calendar-v1", None)  # starts late, on the old checkout
        assert claim(stale, "post") is None
        assert claim(current, "post") is not None


def test_the_rate_limit_is_shared_by_every_daemon(pg_url: str) -> None:
    clock = Clock()
    with closing(open_pg(pg_url, clock)) as one, closing(open_pg(pg_url, clock)) as two:
        assert one.reserve_send("acme-x", "a#0", 2, 60.0) == 0.0
        assert two.reserve_send("acme-x", "a#0", 2, 60.0) == 0.0  # the same post: one slot
        assert two.reserve_send("acme-x", "b#0", 2, 60.0) == 0.0
        clock.advance(10)
        assert one.reserve_send("acme-x", "c#0", 2, 60.0) == pytest.approx(50.0)
        assert two.reserve_send("acme-page", "c#0", 2, 60.0) == 0.0  # its own slots
        clock.advance(50)
        assert two.reserve_send("acme-x", "c#0", 2, 60.0) == 0.0


def test_status_lists_live_daemons_and_warns_when_calendars_differ(pushcal: RunPushcal,
                                                                  pg_url: str) -> None:
    with closing(open_pg(pg_url)) as one, closing(open_pg(pg_url)) as two:
        for ledger, digest in ((one, "a" * 64), (two, "a" * 64)):
            ledger.acquire_daemon_lock()
            ledger.announce(digest, "1234567890abcdef")
        same = pushcal(["status", "--check", "--state", pg_url])
        assert same.code == 0, same
        lines = same.out.splitlines()
        assert lines[1] == "daemons: 2 alive"
        host = os.uname().nodename
        for line in lines[2:4]:
            assert line.startswith(f"  {host} pid {os.getpid()}  since 20")
            assert line.endswith("calendar aaaaaaaaaaaa commit 1234567890ab")
        two.announce("b" * 64, "fedcba")
        differ = pushcal(["status", "--check", "--state", pg_url])
        assert differ.code == 1
        assert differ.out.splitlines()[-1] == (
            "warning: the daemons run different calendars: a reload or a pull is under way,"
            " or a machine is stuck on an old one (only the newest calendar sends)")


def test_opening_a_missing_ledger_without_creating_it_finds_none(pg_url: str) -> None:
    assert PostgresLedger.open(DatabaseUrl(pg_url), clock=lambda: T0, create=False) is None
    with pytest.raises(LedgerError, match=r"no pushcal ledger in postgresql://pushcal:\*\*\*@"):
        PostgresLedger(DatabaseUrl(pg_url), clock=lambda: T0, create=False)


@pytest.mark.parametrize("required", [False, True])
def test_without_a_server_the_tests_skip_saying_why_and_ci_fails(tmp_path: Path,
                                                                 required: bool) -> None:
    env = {**os.environ, "PUSHCAL_PG_BIN": str(tmp_path / "no-postgres-here")}
    env.pop("PUSHCAL_REQUIRE_POSTGRES", None)
    if required:
        env["PUSHCAL_REQUIRE_POSTGRES"] = "1"
    done = subprocess.run([sys.executable, "-m", "pytest", "-rs", "-p", "no:cacheprovider",
                           "tests/test_ledger_postgres.py", "-k", "status_on_a_database"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    reason = ("no PostgreSQL server binaries (install Debian's `postgresql` package or set"
              " PUSHCAL_PG_BIN to the folder holding initdb and postgres)")
    if required:
        assert done.returncode == 1 and "1 error" in done.stdout, done.stdout
        assert f"PUSHCAL_REQUIRE_POSTGRES=1 but no PostgreSQL server could start: {reason}" in done.stdout
    else:
        assert done.returncode == 0 and "1 skipped" in done.stdout, done.stdout
        assert f"PostgreSQL tests need a server: {reason}" in done.stdout
