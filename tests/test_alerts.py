"""Alerts: what needs a person reaches a real loopback webhook, grouped, signed, keyless,
and a webhook that refuses, fails or hangs never holds up anything else."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from daemon_kit import Rig, calendar, post, soon, stamp
from receivers import receiving

from runner.cli import Context, main
from runner.daemon import CapturedLog
from runner.daemon.alerts import Commands, alert_of
from runner.daemon.notify import Notifier, Settings, Target
from runner.ledger import NEEDS_A_HUMAN, SqliteLedger, State
from runner.sandbox import SANDBOX_PRIVATE_KEY, Faults, Sandbox

COMMANDS = Commands("cal.yaml")
QUICK = Settings(window=0.3, timeout=2.0, attempts=3, backoff=0.05, flush=5.0)


def failed(entry: str, account: str = "acme-x", key: str | None = None, **more: Any) -> dict[str, Any]:
    return {"entry": entry, "account": account, "key": key or entry, "state": "failed",
            "info": "HTTP 400: The message is too long", **more}


def notifier(url: str, log: CapturedLog, fmt: str = "slack", **options: Any) -> Notifier:
    settings = options.pop("settings", QUICK)
    return Notifier([Target(url, fmt)], commands=COMMANDS, log=log,  # type: ignore[arg-type]
                    settings=settings, **options).start()


def test_a_failed_delivery_says_what_to_which_entry_and_account_and_the_fix() -> None:
    alert = alert_of("delivered", failed("launch"), COMMANDS, "2026-12-01T08:00:00.000Z")
    assert alert is not None
    assert alert.line() == (
        "delivery failed: launch on acme-x: HTTP 400: The message is too long. "
        "Fix: pushcal send cal.yaml launch --account acme-x --force")


def test_an_unknown_repetition_is_checked_then_resolved_by_its_key() -> None:
    fields = {**failed("daily", key="daily@2026-12-01"), "state": "unknown",
              "info": "read timeout after 30 s: the request may have been acted on"}
    alert = alert_of("delivered", fields, Commands("cal.yaml", " --state l.sqlite"), "t")
    assert alert is not None and alert.kind == "unknown"
    assert alert.fix == ("pushcal check cal.yaml --entry daily --state l.sqlite, then pushcal "
                         "resolve daily --account acme-x --key daily@2026-12-01 "
                         "--sent|--not-sent --state l.sqlite")


def test_what_needs_nobody_makes_no_alert() -> None:
    for event, fields in [("delivered", {**failed("a"), "state": "sent"}),
                          ("delivered", {**failed("a"), "state": "retry_wait"}),
                          ("reloaded", {"entries": 3}), ("cancelled", failed("a"))]:
        assert alert_of(event, fields, COMMANDS, "t") is None


def test_a_burst_of_failures_is_one_message_listing_the_rows() -> None:
    log = CapturedLog()
    with receiving() as hook:
        alerts = notifier(hook.url, log)
        for n in range(30):
            alerts("delivered", failed(f"post-{n:02d}"))
        alerts.close()
        got = hook.wait_for(1)
    assert len(got) == 1
    lines = got[0].json()["text"].splitlines()
    assert lines[0] == "pushcal: 30 events need attention: 30 delivery failed"
    assert lines[1].startswith("- delivery failed: post-00 on acme-x: ")
    assert len(lines) == 1 + 20 + 1
    assert lines[-1] == "... and 10 more: pushcal status lists them"


def test_the_generic_event_is_signed_as_the_readme_says_and_holds_no_key() -> None:
    secret = b"s3cret-for-hooks"
    with receiving() as hook:
        alerts = notifier(hook.url, CapturedLog(), "json", secret=secret,
                          redact=[SANDBOX_PRIVATE_KEY, secret.decode()])
        leaky = failed("launch", info=f"answer quoted {SANDBOX_PRIVATE_KEY} and {secret.decode()}")
        alerts("delivered", leaky)
        alerts.close()
        (got,) = hook.wait_for(1)
    # The README's recipe: HMAC-SHA256 over "<timestamp>.<body>" with the shared secret.
    stamp_header = got.headers["x-pushcal-timestamp"]
    expected = hmac.new(secret, stamp_header.encode() + b"." + got.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(got.headers["x-pushcal-signature"], f"sha256={expected}")
    document = got.json()
    assert (document["source"], document["version"]) == ("pushcal", 1)
    (alert,) = document["alerts"]
    assert (alert["kind"], alert["entry"], alert["account"]) == ("failed", "launch", "acme-x")
    assert SANDBOX_PRIVATE_KEY.encode() not in got.body and secret not in got.body
    assert alert["reason"] == "answer quoted *** and ***"


def test_a_failing_webhook_is_retried_and_a_refusing_one_is_not() -> None:
    log = CapturedLog()
    with receiving(script=(503,)) as flaky, receiving(status=400) as refusing:
        alerts = Notifier([Target(flaky.url), Target(refusing.url)], commands=COMMANDS, log=log,
                          settings=QUICK).start()
        alerts("delivered", failed("launch"))
        alerts.close()
        assert len(flaky.wait_for(2)) == 2 and len(refusing.got) == 1
    assert alerts.sent == 1
    assert log.named("alert-failed") == [
        {"target": "127.0.0.1", "attempts": 1, "reason": "HTTP 400"}]


def test_a_hanging_webhook_drops_alerts_with_a_log_line_and_lets_shutdown_go_on() -> None:
    log = CapturedLog()
    tight = Settings(window=0.05, timeout=0.3, attempts=1, capacity=2, flush=0.5)
    with receiving(hang=30.0) as hanging:
        alerts = notifier(hanging.url, log, settings=tight)
        hanging.wait_for(0)
        for n in range(8):  # the thread is stuck on the first: the queue fills, then drops
            alerts("delivered", failed(f"post-{n}"))
            if n == 0:
                hanging.wait_for(1)
        alerts.close()
    dropped = log.named("alert-dropped")
    assert dropped and all(d["reason"] == "2 alerts already waiting" for d in dropped)
    assert len(dropped) + 2 + 1 == 8  # dropped, queued, and the one being posted
    assert log.named("alert-failed") or log.named("alert-unsent")


def test_the_daemon_alerts_for_every_failed_and_missed_row(tmp_path: Path) -> None:
    log = CapturedLog()
    past = stamp(datetime.now(UTC) - timedelta(hours=3))
    with Sandbox(faults=Faults(fail_rate=1.0, fail_codes=("400",))) as box, receiving() as hook:
        rig = Rig(tmp_path, box)
        rig.write(calendar([post("old", past, ["tw"]), post("alpha", soon(0.5), ["tw", "page"]),
                            post("beta", soon(0.8), ["tw"])]))
        alerts = notifier(hook.url, log, "json")
        pairs = [("old", "tw"), ("alpha", "tw"), ("alpha", "page"), ("beta", "tw")]
        asyncio.run(rig.run(rig.settled(*pairs), observers=[alerts]))
        alerts.close()
        got = [a for message in hook.wait_for(1) for a in message.json()["alerts"]]
    rows = rig.rows()
    attention = {(r.key, r.account, str(r.state)) for r in rows.values()
                 if r.state in (State.FAILED, State.MISSED)}
    assert {(a["key"], a["account"], a["kind"]) for a in got if a["entry"]} == attention
    assert len(attention) == 4
    assert [a["kind"] for a in got if not a["entry"]] == ["started", "stopped"]


def test_pushcal_run_posts_to_every_notify_url_and_refuses_a_bad_one(tmp_path: Path) -> None:
    path = tmp_path / "cal.yaml"
    path.write_text(calendar([post("old", stamp(datetime.now(UTC) - timedelta(hours=3)), ["tw"])]))
    out, err = io.StringIO(), io.StringIO()
    bad = main(["run", str(path), "--sandbox", "--notify", "ftp://hooks.example/x"],
               Context(env={}, out=out, err=err))
    assert (bad, err.getvalue()) == (2, "pushcal: --notify needs an http:// or https:// URL with "
                                        "a host (got one starting 'ftp://ho'...)\n")
    with receiving() as slack, receiving() as generic:
        env = {"PUSHCAL_NOTIFY": slack.url, "PUSHCAL_NOTIFY_JSON": generic.url}
        until = stamp(datetime.now(UTC) + timedelta(minutes=1))
        code = main(["run", str(path), "--sandbox", "--rehearse", "--speed", "600", "--until", until],
                    Context(env=env, out=out, err=io.StringIO()))
        texts = [m.json()["text"] for m in slack.wait_for(1)]
        events = [a["kind"] for m in generic.wait_for(1) for a in m.json()["alerts"]]
    assert code == 0
    assert "occurrence missed: old on tw: " in "\n".join(texts)
    assert sorted(events) == ["missed", "started", "stopped"]


def test_an_untrusted_ledger_and_a_failing_task_are_alerted() -> None:
    fatal = alert_of("fatal", {"error": "ledger l.sqlite cannot be trusted: its -wal was deleted"},
                     COMMANDS, "t")
    assert fatal is not None and fatal.line() == (
        "ledger unreachable: ledger l.sqlite cannot be trusted: its -wal was deleted. Fix: bring "
        "the database back; pushcal status shows when it answers again")
    task = alert_of("error", {"task": "roll", "error": "LedgerError: disk full"}, COMMANDS, "t")
    assert task is not None and task.kind == "task-failing"
    assert task.line().startswith("a daemon task is failing: roll: LedgerError: disk full. Fix: ")


def test_a_start_reminds_of_every_row_still_needing_a_person(tmp_path: Path) -> None:
    with SqliteLedger(tmp_path / "l.sqlite", clock=lambda: datetime.now(UTC)) as ledger:
        when = datetime(2026, 12, 1, 8, tzinfo=UTC)
        ledger.mark("old", entry="old", account="tw", scheduled=when, endpoint="twitter/post",
                    state=State.MISSED, info="missed: 3h late, grace 15m")
        with receiving() as hook:
            alerts = notifier(hook.url, CapturedLog(), "json")
            alerts.remind(ledger.rows(states=NEEDS_A_HUMAN))
            alerts.close()
            (message,) = hook.wait_for(1)
    (alert,) = message.json()["alerts"]
    assert (alert["kind"], alert["key"], alert["reason"]) == (
        "missed", "old", "still missed: missed: 3h late, grace 15m")
    assert alert["fix"] == "pushcal send cal.yaml old --account tw --force"


def test_a_webhook_url_is_a_secret_the_log_never_shows(tmp_path: Path) -> None:
    path = tmp_path / "cal.yaml"
    path.write_text(calendar([post("old", stamp(datetime.now(UTC) - timedelta(hours=3)), ["tw"])]))
    err = io.StringIO()
    with receiving(status=404) as refusing:
        hook = refusing.url + "/services/T0/B0/XXSECRETXX"
        until = stamp(datetime.now(UTC) + timedelta(minutes=1))
        code = main(["run", str(path), "--sandbox", "--rehearse", "--speed", "600", "--until", until,
                     "--notify", hook, "--log-format", "json"],
                    Context(env={}, out=io.StringIO(), err=err))
        assert refusing.wait_for(1)
    assert code == 0
    assert '"event": "alert-failed", "target": "127.0.0.1", "attempts": 1, "reason": "HTTP 404"' \
        in err.getvalue()
    assert "XXSECRETXX" not in err.getvalue()
