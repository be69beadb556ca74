"""The rooms' walls: imports point down the layers, each library stays in its room, each
package's face exports what it means to, and `validate` starts without httpx or APScheduler.

The wall checks run the real tools (import-linter, ruff) on a copy of `runner/` with one
wrong import planted, so a contract that could never fail would fail this test.
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "runner", tmp_path / "runner",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _plant(tree: Path, module: str, line: str) -> None:
    path = tree / "runner" / module
    text = path.read_text("utf-8")
    marker = "from __future__ import annotations\n"
    assert marker in text, module
    path.write_text(text.replace(marker, marker + "\n" + line + "\n", 1), "utf-8")


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "lint-imports"), "--no-cache"], cwd=tree,
                          capture_output=True, text=True, env={"PYTHONPATH": str(tree),
                                                               "PATH": "/usr/bin:/bin"})


def test_the_tree_as_it_is_keeps_every_contract(tmp_path: Path) -> None:
    done = _lint_imports(_copy(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize("module, line, contract", [
    ("ledger/contract.py", "from runner.daemon import Daemon  # noqa: F401",
     "Rooms import downward only BROKEN"),
    ("calendar/model.py", "from runner.oneall import endpoints  # noqa: F401",
     "Rooms import downward only BROKEN"),
    ("sandbox/world.py", "from runner.calendar import model  # noqa: F401",
     "The sandbox reads the endpoint table only: no httpx, no calendar BROKEN"),
    ("cli/validate.py", "from runner.oneall import client  # noqa: F401",
     "Building the command line and validating import neither httpx nor APScheduler BROKEN"),
    ("review/schedule.py", "from runner.daemon import Daemon  # noqa: F401",
     "Rooms import downward only BROKEN"),
    ("review/changes.py", "from runner.ledger import sqlite  # noqa: F401",
     "Review reads only: no client, delivery, sandbox or ledger backend BROKEN"),
])
def test_an_upward_or_forbidden_import_breaks_a_contract(tmp_path: Path, module: str, line: str,
                                                         contract: str) -> None:
    tree = _copy(tmp_path)
    _plant(tree, module, line)
    done = _lint_imports(tree)
    assert done.returncode == 1, done.stdout + done.stderr
    assert contract in done.stdout, done.stdout


@pytest.mark.parametrize("module, library", [
    ("calendar/model.py", "yaml"), ("calendar/build.py", "jsonschema"),
    ("delivery/deliver.py", "httpx"), ("daemon/workers.py", "apscheduler"),
    ("cli/status.py", "sqlite3"), ("daemon/workers.py", "prometheus_client"),
    ("review/page.py", "icalendar"),
])
def test_a_library_outside_its_room_is_refused_by_ruff(tmp_path: Path, module: str,
                                                       library: str) -> None:
    tree = _copy(tmp_path)
    _plant(tree, module, f"import {library}  # noqa: F401")
    done = subprocess.run([str(BIN / "ruff"), "check", "--no-cache", "--select", "TID251",
                           f"runner/{module}"], cwd=tree, capture_output=True, text=True)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"TID251 `{library}` is banned" in done.stdout, done.stdout


FACES = {
    "runner.calendar": ["Account", "Calendar", "Entry", "Kind", "Loader", "Medium", "Occurrence",
                        "Repeat", "Source", "Store", "check", "expand", "instants", "load", "occurrence",
                        "read_sources"],
    "runner.ledger": ["CALLBACK_STEP", "CLAIMABLE", "NEEDS_A_HUMAN", "SETTLED", "ClaimRequest",
                      "DatabaseUrl", "Event", "Ledger", "LedgerError", "LedgerUnavailable",
                      "LedgerUntrusted", "Peer", "PostgresLedger", "Row", "SharedRateLimit",
                      "SqliteLedger", "State", "open_ledger"],
    "runner.oneall": ["ENDPOINTS", "Client", "Credentials", "CredentialsError", "Endpoint",
                      "Reply", "Ref", "Request", "Verdict", "render"],
    "runner.sandbox": ["SANDBOX_PRIVATE_KEY", "SANDBOX_PUBLIC_KEY", "Faults", "Received",
                       "Sandbox", "World", "serve_forever"],
    "runner.delivery": ["CallbackUrls", "Delivery", "Finding", "Sender", "backoff",
                        "claim_request", "deliver", "pull_check", "retry_deadline"],
    "runner.daemon": ["CapturedLog", "Daemon", "DaemonOptions", "EarlySignals", "EventLog",
                      "route_library_logs"],
    "runner.cli": ["Context", "main"],
    "runner.review": ["Change", "GitError", "Repo", "Review", "Slot", "SlotKey", "What", "at_revision",
                      "compare", "counts", "first_line", "in_worktree", "introduced", "note",
                      "open_repo", "slots", "upstream_base"],
}


@pytest.mark.parametrize("package", sorted(FACES))
def test_each_package_exports_its_intended_names(package: str) -> None:
    module = importlib.import_module(package)
    assert sorted(module.__all__) == sorted(FACES[package])
    for name in module.__all__:
        assert getattr(module, name) is not None, name


def _imported_by(*argv: str, cwd: Path) -> set[str]:
    done = subprocess.run([sys.executable, "-X", "importtime", *argv], cwd=cwd,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines()
            if line.startswith("import time:") and "|" in line}


def test_validate_imports_neither_httpx_nor_apscheduler() -> None:
    loaded = _imported_by("-m", "runner", "validate", "calendar.example.yaml", cwd=ROOT)
    assert "runner.calendar.schema" in loaded  # it did validate
    assert not {m for m in loaded if m.split(".")[0] in {"httpx", "apscheduler", "sqlite3"}}


def test_the_oneall_face_loads_neither_httpx_nor_the_calendar() -> None:
    loaded = _imported_by("-c", "import runner.oneall, runner.sandbox", cwd=ROOT)
    assert not {m for m in loaded if m.split(".")[0] == "httpx" or m.startswith("runner.calendar")}
