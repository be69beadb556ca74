"""The OneAll private key never leaves the environment: not in output, logs, ledger or WAL.

One scenario runs every command that can touch the keys, in process, with a distinctive fake
key pair in the environment and a sandbox that accepts exactly that pair: validate, plan,
send, run (text and JSON logs, with a heartbeat file), status and history; then the error
paths: a 401 from a sandbox holding other keys (send and run), missing variables, a key
with a stray space, a base URL carrying the key. Every stdout, stderr, daemon log, the
heartbeat, the ledger and its write-ahead log (kept alive by a reader holding the database
open) are then searched for the private key and for the Basic-auth token that carries it.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from daemon_kit import calendar, post, stamp

from runner.cli import Context, main
from runner.ledger import SqliteLedger, State
from runner.sandbox import Sandbox

PUBLIC = "0b5e55ed-0a11-4c0d-9e5e-00000000c0de"
PRIVATE = "5ec2e7c0-de5e-4c2e-9a11-d15711c7f00d"  # distinctive: found only if leaked
BASIC = base64.b64encode(f"{PUBLIC}:{PRIVATE}".encode()).decode()
SECRETS = {"private key": PRIVATE, "Basic token": BASIC}


@dataclass
class Scenario:
    """Everything the commands wrote, by name, and the ledger path."""

    folder: Path
    texts: dict[str, str] = field(default_factory=dict)
    codes: dict[str, int] = field(default_factory=dict)

    def pushcal(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        out, err = StringIO(), StringIO()
        ctx = Context(env=env, clock=lambda: datetime.now(UTC), out=out, err=err)
        self.codes[name] = main(argv, ctx)
        self.texts[f"{name} stdout"], self.texts[f"{name} stderr"] = out.getvalue(), err.getvalue()


def keys_env(box: Sandbox, **changes: str) -> dict[str, str]:
    env = {**box.env(), "ONEALL_PUBLIC_KEY": PUBLIC, "ONEALL_PRIVATE_KEY": PRIVATE, **changes}
    return {name: value for name, value in env.items() if value}


def play(s: Scenario, box: Sandbox, stranger: Sandbox) -> None:
    start = datetime.now(UTC)
    at = {name: stamp(start + timedelta(seconds=offset))
          for name, offset in (("alpha", 600), ("beta", 1.0), ("gamma", 2.5), ("delta", 4.0))}
    cal = s.folder / "cal.yaml"
    cal.write_text(calendar([post("alpha", at["alpha"], ["page", "tw"]),
                             post("beta", at["beta"], ["tw"]),
                             post("gamma", at["gamma"], ["page"]),
                             post("delta", at["delta"], ["tw"])]), encoding="utf-8")
    state, beat = str(s.folder / "ledger.sqlite"), str(s.folder / "heartbeat.json")
    good, wrong = keys_env(box), keys_env(stranger)
    until = {name: stamp(start + timedelta(seconds=offset))
             for name, offset in (("text", 1.8), ("json", 3.3), ("401", 4.8))}
    s.pushcal("validate", ["validate", str(cal)], good)
    s.pushcal("validate json", ["validate", str(cal), "--format", "json"], good)
    s.pushcal("plan", ["plan", str(cal), "--state", state], good)
    s.pushcal("plan json", ["plan", str(cal), "--state", state, "--format", "json"], good)
    s.pushcal("send", ["send", str(cal), "alpha", "--state", state], good)
    common = ["run", str(cal), "--state", state, "--heartbeat", beat]
    s.pushcal("run text", [*common, "--until", until["text"]], good)
    s.pushcal("run json", [*common, "--until", until["json"], "--log-format", "json"], good)
    s.pushcal("run 401", [*common, "--until", until["401"], "--log-format", "json"], wrong)
    s.pushcal("send 401", ["send", str(cal), "alpha", "--state", state, "--force"], wrong)
    s.pushcal("status", ["status", str(cal), "--state", state], good)
    s.pushcal("history", ["history", "--state", state], good)
    s.pushcal("history json", ["history", "--state", state, "--format", "json"], good)
    s.pushcal("missing", ["send", str(cal), "alpha", "--state", state],
              keys_env(box, ONEALL_PUBLIC_KEY="", ONEALL_SUBDOMAIN=""))
    s.pushcal("stray space", ["run", str(cal), "--state", state],
              keys_env(box, ONEALL_PRIVATE_KEY=f" {PRIVATE}"))
    s.pushcal("key in url", ["send", str(cal), "alpha", "--state", state],
              keys_env(box, ONEALL_BASE_URL=box.url.replace("//", f"//{PUBLIC}:{PRIVATE}@")))
    s.texts["heartbeat"] = Path(beat).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Scenario, list[str]]]:
    folder = tmp_path_factory.mktemp("secrets")
    s = Scenario(folder)
    ledger_path = folder / "ledger.sqlite"
    # A reader holds the database open from the start, so no command's close is the last
    # one, which would checkpoint the write-ahead log into the file and delete it.
    with Sandbox(public_key=PUBLIC, private_key=PRIVATE) as box, Sandbox() as stranger, \
            SqliteLedger(ledger_path, clock=lambda: datetime.now(UTC)) as reader:
        play(s, box, stranger)
        for path in sorted(folder.iterdir()):
            if path.name.startswith("ledger.sqlite"):
                s.texts[path.name] = path.read_bytes().decode("latin-1")
        rows = [f"{r.entry} {r.account} {r.state} {r.info}" for r in reader.rows()]
    yield s, rows


def test_the_commands_did_what_the_search_relies_on(scenario: tuple[Scenario, list[str]]) -> None:
    s, rows = scenario
    assert {name: s.codes[name] for name in ("validate", "plan", "send", "run text", "run json",
                                             "status", "history")} == dict.fromkeys(
        ("validate", "plan", "send", "run text", "run json", "status", "history"), 0), s.texts
    assert {s.codes[n] for n in ("send 401", "missing", "stray space", "key in url")} == {1}
    states = {tuple(r.split()[:2]): r.split()[2] for r in rows}
    assert states == {("alpha", "page"): State.SENT, ("alpha", "tw"): State.SENT,
                      ("beta", "tw"): State.SENT, ("gamma", "page"): State.SENT,
                      ("delta", "tw"): State.FAILED}, rows
    assert "check ONEALL_PUBLIC_KEY and ONEALL_PRIVATE_KEY" in s.texts["run 401 stderr"]
    assert "ONEALL_PUBLIC_KEY" in s.texts["missing stderr"]
    assert "ONEALL_PRIVATE_KEY is not UUID-shaped" in s.texts["stray space stderr"]
    assert "must not carry credentials" in s.texts["key in url stderr"]
    assert '"event": "delivered"' in s.texts["run json stderr"]
    # The WAL was kept and holds the rows: a search of it means something.
    assert "ledger.sqlite-wal" in s.texts and "gamma" in s.texts["ledger.sqlite-wal"]


def test_no_output_log_heartbeat_ledger_or_wal_holds_the_key(
        scenario: tuple[Scenario, list[str]]) -> None:
    s, _ = scenario
    leaks = [f"{what} in {name}" for name, text in s.texts.items()
             for what, secret in SECRETS.items() if secret in text]
    assert leaks == []
    assert len(s.texts) >= 30  # every command's two streams, the heartbeat and the files
