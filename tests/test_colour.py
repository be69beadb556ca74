"""Colour on a terminal only: none when piped, with NO_COLOR, or on a dumb terminal."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from conftest import NOW
from daemon_kit import calendar, post

from runner.cli import Context, main


class Terminal(StringIO):
    """Captured output that says it is a terminal, as a real tty would."""

    def isatty(self) -> bool:
        return True


def validate(cal: Path, out: StringIO, env: dict[str, str]) -> str:
    main(["validate", str(cal)], Context(env=env, clock=lambda: NOW, out=out, err=StringIO()))
    return out.getvalue()


@pytest.fixture
def cal(tmp_path: Path) -> Path:
    path = tmp_path / "cal.yaml"
    path.write_text(calendar([post("tip", "2026-12-01 09:00", ["nobody"])]))
    return path


def test_problems_are_coloured_on_a_terminal(cal: Path) -> None:
    assert validate(cal, Terminal(), {}) == (
        f"\x1b[1m{cal}:25:9\x1b[0m: \x1b[31m$.posts[0].to[0]: unknown account 'nobody'\x1b[0m"
        " (known: group, page, tw)\n")


@pytest.mark.parametrize(("out", "env"), [
    (StringIO(), {}), (Terminal(), {"NO_COLOR": "1"}), (Terminal(), {"TERM": "dumb"})])
def test_no_colour_when_piped_or_asked(cal: Path, out: StringIO, env: dict[str, str]) -> None:
    assert "\x1b[" not in validate(cal, out, env)
