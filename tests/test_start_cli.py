"""Getting started outside this repository: `pushcal schema`, `pushcal init`, and the
pre-commit hook (`pushcal validate --hook`), which checks the staged files it is given and
tells a calendar from any other YAML file."""

# ruff: noqa: E501  -- expected messages are written out whole.

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import yaml
from conftest import ROOT, run_pushcal

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
X = "1b0e3c7a-55f1-4d0e-9d55-0c1f7f2e8a11"
ACCOUNTS = f"version: 1\ntimezone: Europe/Berlin\naccounts:\n  x: {{provider: twitter, identity: {X}}}\n"
POSTS = 'version: 1\ntimezone: Europe/Berlin\nposts:\n  - {id: hi, at: "2026-12-01 09:00", to: [x], message: "Hi"}\n'
COMPOSE = 'version: "3.8"\nservices:\n  web: &web {image: nginx}\n  copy: *web\n'
WORKFLOW = "name: ci\non: [push]\njobs: {}\n"


def test_schema_prints_the_schema_pushcal_validates_with() -> None:
    done = run_pushcal(["schema"])
    assert done.code == 0, done
    assert done.out == (ROOT / "schema" / "calendar.schema.json").read_text("utf-8")
    assert json.loads(done.out)["properties"]["version"]


def test_init_writes_a_starter_repository_that_validates(tmp_path: Path) -> None:
    target = tmp_path / "acme"
    done = run_pushcal(["init", str(target)], now=NOW)
    assert done.code == 0, done
    assert done.out == (f"wrote {target}/calendar/main.yaml\nwrote {target}/.pre-commit-config.yaml\n"
                        f"wrote {target}/.github/workflows/calendar.yml\n"
                        f"next: set the account's identity in {target}/calendar/main.yaml, then "
                        f"`pushcal validate {target}/calendar` and `pushcal plan {target}/calendar`\n"), done
    calendar = (target / "calendar" / "main.yaml").read_text("utf-8")
    assert calendar.splitlines()[0] == ("# yaml-language-server: $schema=https://raw.githubusercontent.com/"
                                        "YOUR-ORG/pushcal/v0.1.0/schema/calendar.schema.json")
    assert 'at: "2026-12-01 09:00"' in calendar  # tomorrow, 09:00
    checked = run_pushcal(["validate", str(target / "calendar")])
    assert checked.out == "ok: 1 file, 1 entry of 1 kind, 1 account, 0 media\n", checked
    planned = run_pushcal(["plan", str(target / "calendar")], now=NOW)
    assert "hello-world -> my-x" in planned.out, planned
    hook = yaml.safe_load((target / ".pre-commit-config.yaml").read_text("utf-8"))
    assert hook["repos"][0]["hooks"] == [{"id": "pushcal-validate", "args": ["--calendar", "calendar/"]}]
    workflow = yaml.safe_load((target / ".github" / "workflows" / "calendar.yml").read_text("utf-8"))
    steps = workflow["jobs"]["check"]["steps"]
    assert [s.get("name") for s in steps] == [None, None, None, "validate", "diff", "comment"]
    assert steps[3]["run"] == "pushcal validate calendar/ --format github"
    assert "pushcal diff \"$base\" HEAD calendar/ --format markdown > diff.md" in steps[4]["run"]


def test_init_never_overwrites_and_then_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / ".pre-commit-config.yaml").write_text("repos: []\n", "utf-8")
    done = run_pushcal(["init", str(tmp_path)], now=NOW)
    assert (done.code, done.out) == (1, ""), done
    assert done.err == (f"pushcal: {tmp_path}: .pre-commit-config.yaml already exists; pushcal init never "
                        "overwrites a file (move them away, or init elsewhere)\n"), done
    assert (tmp_path / ".pre-commit-config.yaml").read_text("utf-8") == "repos: []\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".pre-commit-config.yaml"]


def _repo(tmp_path: Path) -> Path:
    (tmp_path / "calendar").mkdir()
    (tmp_path / "calendar" / "accounts.yaml").write_text(ACCOUNTS, "utf-8")
    (tmp_path / "calendar" / "posts.yaml").write_text(POSTS, "utf-8")
    (tmp_path / "docker-compose.yml").write_text(COMPOSE, "utf-8")
    (tmp_path / "ci.yml").write_text(WORKFLOW, "utf-8")
    return tmp_path


def test_the_hook_checks_a_calendar_file_with_its_directory_and_skips_other_yaml(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    done = run_pushcal(["validate", "--hook", "--calendar", str(root / "calendar"), str(root / "calendar" / "posts.yaml"),
                        str(root / "docker-compose.yml"), str(root / "ci.yml")])
    assert done.code == 0, done
    assert done.out == "ok: 1 calendar file checked, 2 other YAML files skipped\n", done
    assert done.err == (
        f"{root}/docker-compose.yml: not a pushcal calendar (`version:` beside keys a calendar does not have (services)); skipped\n"
        f"{root}/ci.yml: not a pushcal calendar (no `version:` key and none of accounts, media, posts, ...); skipped\n"), done


def test_the_hook_refuses_other_yaml_inside_the_calendar_directory(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    (root / "calendar" / "notes.yaml").write_text("todo: [write more posts]\n", "utf-8")
    done = run_pushcal(["validate", "--hook", "--calendar", str(root / "calendar"), str(root / "calendar" / "notes.yaml")])
    assert done.code == 1, done
    assert done.out == (
        f"{root}/calendar/notes.yaml:1:1: not a pushcal calendar (no `version:` key and none of accounts, media, posts, ...), "
        f"but it is inside the calendar directory {root}/calendar, where every *.yaml and *.yml is loaded "
        f"(move it out of {root}/calendar, or make it a calendar file)\n"), done
    assert done.err == "pushcal: 1 problem in 1 file\n"


def test_the_hook_checks_a_lone_calendar_file_even_with_a_misspelt_version(tmp_path: Path) -> None:
    lone = tmp_path / "lone.yaml"
    lone.write_text(ACCOUNTS.replace("version: 1", "verison: 1"), "utf-8")
    done = run_pushcal(["validate", "--hook", str(lone)])
    assert done.code == 1, done
    assert f"{lone}:1:1: " in done.out and "verison" in done.out, done
    lone.write_text(ACCOUNTS, "utf-8")
    assert run_pushcal(["validate", "--hook", str(lone)]).out == "ok: 1 calendar file checked, 0 other YAML files skipped\n"
