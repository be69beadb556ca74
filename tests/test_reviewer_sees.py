"""Issue 9, class 9: what a reviewer sees is what is sent. Characters that reorder text
(a right-to-left override in a link) are refused, escaped or not, with their place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_pushcal
from daemon_kit import calendar, post


@pytest.mark.parametrize("char", ["\u202e", "\u2066", "\u202a"])
def test_a_reordering_character_in_a_link_is_refused(tmp_path: Path, char: str) -> None:
    path = tmp_path / "calendar.yaml"
    doc = json.loads(calendar([post("a", "2030-01-01 09:00", ["page"],
                                    link=f"https://example.com/{char}gpj.exe")]))
    path.write_text(json.dumps(doc, ensure_ascii=True))  # as a "\u202e" escape
    for args in (["validate", str(path)], ["plan", str(path)]):
        result = run_pushcal(args)
        assert result.code == 1
        assert f"U+{ord(char):04X} changes the order text is shown in" in result.out
        assert char not in result.out + result.err


def test_the_raw_character_is_refused_too(tmp_path: Path) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text(calendar([post("a", "2030-01-01 09:00", ["page"], text="ok \u202e txt")]))
    result = run_pushcal(["validate", str(path)])
    assert result.code == 1 and ":message" not in result.out
    assert "U+202E changes the order" in result.out
