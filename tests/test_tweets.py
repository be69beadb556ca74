"""Tweet length counted exactly as twitter-text v3 counts it.

The vectors in cases/twitter-text/conformance.json are twitter-text's own conformance cases
(twitter/twitter-text, conformance/validate.yml and extract.yml, Apache License 2.0).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import RunPushcal
from daemon_kit import calendar, post
from hypothesis import given
from hypothesis import strategies as st

from runner.calendar.tweets import counted, url_spans, weighted_length

CASES = json.loads((Path(__file__).parent / "cases" / "twitter-text" / "conformance.json")
                   .read_text(encoding="utf-8"))


def _id(case: dict[str, Any]) -> str:
    return str(case["description"])[:60]


@pytest.mark.parametrize("case", CASES["weighted"], ids=_id)
def test_weighted_length_matches_twitter_text(case: dict[str, Any]) -> None:
    assert weighted_length(case["text"]) == case["weightedLength"]


@pytest.mark.parametrize("case", CASES["urls"] + CASES["urls_with_indices"], ids=_id)
def test_urls_are_found_as_twitter_text_finds_them(case: dict[str, Any]) -> None:
    text, expected = case["text"], case["expected"]
    spans = list(url_spans(text))
    if expected and isinstance(expected[0], dict):
        assert [{"url": text[a:b], "indices": [a, b]} for a, b in spans] == expected
    else:
        assert [text[a:b] for a, b in spans] == expected


@pytest.mark.parametrize(("text", "length"), [
    ("see example.com", 27),  # a bare domain is a link: 4 + 23
    ("see example.invalidtld", 22),  # not a TLD twitter-text knows: counted as text
    ("👨‍👩‍👧‍👦", 2),  # a ZWJ family is one emoji
    ("🇩🇪🇫🇷", 4),  # two flags
    ("1️⃣", 2),  # a keycap
    ("👍🏽", 2),  # a skin tone
    ("©", 1),  # text by default: a light character
    ("日本", 4),
    ("e\u0301", 1),  # NFC makes it one é
])
def test_the_rules_that_matter_for_a_calendar(text: str, length: int) -> None:
    assert weighted_length(text) == length


@given(st.text(alphabet=st.characters(max_codepoint=127, blacklist_characters=".")))
def test_the_ascii_fast_path_gives_what_the_long_way_gives(text: str) -> None:
    assert weighted_length(text) == counted(text) == len(text)


def test_validate_accepts_a_tweet_twitter_accepts(pushcal: RunPushcal, tmp_path: Path) -> None:
    cal = tmp_path / "calendar.yaml"
    # "[fam] " and 137 families: 965 code points, but 280 as Twitter counts them.
    cal.write_text(calendar([post("fam", "2026-12-01 10:00", ["tw"], text="👨‍👩‍👧‍👦" * 137)]))
    assert pushcal(["validate", str(cal)]).code == 0
    cal.write_text(calendar([post("fam", "2026-12-01 10:00", ["tw"], text="👨‍👩‍👧‍👦" * 138)]))
    run = pushcal(["validate", str(cal)])
    assert run.code == 1 and "282 characters is too long for twitter" in run.out, run
