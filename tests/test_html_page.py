"""`pushcal calendar --html` in a real headless Chromium: cards in the right day cells of the
month and week views, ledger states with the post's link and the failure's reason, filters
and views from the address, a script-injection text shown as text, and a phone-width
screenshot. The DOM is read back with the standard library's HTML parser."""

# ruff: noqa: E501  -- calendar lines are written out whole.

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import browser
import pytest
from conftest import PHOTO, TWO_ACCOUNTS, run_pushcal

from runner.ledger import ClaimRequest, SqliteLedger, State

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
EVIL = "</p><script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">&amp;"
CALENDAR = TWO_ACCOUNTS + PHOTO + f"""\
posts:
  - {{id: launch, at: "2026-12-01 09:00", to: [page, x], message: "We're live!", media: [photo]}}
  - {{id: evil, at: "2026-12-01 23:30", to: [x], message: {json.dumps(EVIL)}}}
  - {{id: late, at: "2026-12-02 08:00", to: [x], message: "Missed it"}}
  - {{id: gone, at: "2026-12-09 08:00", to: [x], message: "Cancelled"}}
  - {{id: later, at: "2027-01-05 10:00", to: [page], message: "Next month"}}
"""


@dataclass
class Card:
    key: str
    account: str
    state: str
    hidden: bool
    text: str = ""
    link: str = ""
    reason: str = ""
    imgs: int = 0


@dataclass
class Dom(HTMLParser):
    """Sections (view, id, hidden) -> day cell date -> cards; and the document title."""

    sections: dict[tuple[str, str], tuple[bool, dict[str, list[Card]]]] = field(default_factory=dict)
    title: str = ""
    _where: list[str] = field(default_factory=list)
    _section: tuple[str, str] | None = None
    _day: str = ""
    _card: Card | None = None
    _part: str = ""

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "section":
            self._section = (a["data-view"] or "", a["data-id"] or "")
            self.sections[self._section] = ("hidden" in a, {})
        elif "day" in classes and self._section:
            self._day = a["data-date"] or ""
            self.sections[self._section][1][self._day] = []
        elif tag == "article" and self._section:
            self._card = Card(a["data-key"] or "", a["data-account"] or "", a["data-state"] or "", "hidden" in a)
            self.sections[self._section][1][self._day].append(self._card)
        elif self._card is not None:
            if tag == "img":
                self._card.imgs += 1
            if tag == "a" and self._part == "post":
                self._card.link = a["href"] or ""
            if {"text", "reason", "post"} & set(classes):
                self._part = ({"text", "reason", "post"} & set(classes)).pop()
        if tag == "title":
            self._part = "title"

    def handle_endtag(self, tag: str) -> None:
        if tag == "article":
            self._card = None
        if tag in ("p", "span", "title"):
            self._part = "" if tag != "span" or self._part in ("reason",) else self._part

    def handle_data(self, data: str) -> None:
        if self._part == "title":
            self.title += data
        elif self._card is not None and self._part in ("text", "reason"):
            setattr(self._card, self._part, getattr(self._card, self._part) + data)


def read(dom: str) -> Dom:
    parsed = Dom()
    parsed.feed(dom)
    return parsed


@pytest.fixture(name="page", scope="module")
def page_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    browser.browser()  # skip (or fail in CI) before building anything
    folder = tmp_path_factory.mktemp("page")
    cal = folder / "cal.yaml"
    cal.write_text(CALENDAR, "utf-8")
    ledger = folder / "ledger.sqlite"
    with SqliteLedger(ledger, clock=lambda: NOW) as rows:
        for key, account, state, extra in (
                ("launch", "page", State.SENT, {"location": "https://facebook.example/4563453_1"}),
                ("launch", "x", State.FAILED, {"info": "Status is a duplicate", "http_status": 403}),
                ("evil", "x", State.UNKNOWN, {"info": "read timeout"})):
            assert rows.claim(ClaimRequest(key, key, account, datetime(2026, 12, 1, 8, tzinfo=UTC), "twitter/post", "", None))
            rows.finish(key, account, state, **extra)
        rows.mark("late", entry="late", account="x", scheduled=datetime(2026, 12, 2, 7, tzinfo=UTC),
                  endpoint="twitter/post", state=State.MISSED, info="3 h late; grace 15 min")
        rows.mark("gone", entry="gone", account="x", scheduled=datetime(2026, 12, 9, 7, tzinfo=UTC),
                  endpoint="twitter/post", state=State.CANCELLED, info="removed")
    out = folder / "calendar.html"
    done = run_pushcal(["calendar", str(cal), "--html", str(out), "--state", str(ledger), "--from",
                        "2026-11-30T00:00Z", "--to", "2027-01-31T00:00Z", "--title", "Acme <social>"], now=NOW)
    assert done.code == 0 and done.err == f"wrote {out}: 6 cards\n", done
    return out


def test_cards_sit_in_their_day_cells_with_their_states(page: Path, tmp_path: Path) -> None:
    dom = read(browser.dump_dom(page, tmp_path / "profile"))
    assert dom.title == "Acme <social>"
    hidden, december = dom.sections[("month", "2026-12")]
    assert not hidden
    assert all(dom.sections[s][0] for s in dom.sections if s != ("month", "2026-12"))
    assert [(c.key, c.account, c.state) for c in december["2026-12-01"]] == [
        ("launch", "page", "sent"), ("launch", "x", "failed"), ("evil", "x", "unknown")]
    assert [(c.key, c.state) for c in december["2026-12-02"]] == [("late", "missed")]
    assert [(c.key, c.state) for c in december["2026-12-09"]] == [("gone", "cancelled")]
    assert [(c.key, c.state) for c in dom.sections[("month", "2027-01")][1]["2027-01-05"]] == [("later", "planned")]
    sent, failed = december["2026-12-01"][:2]
    assert sent.link == "https://facebook.example/4563453_1"
    assert failed.reason == "Status is a duplicate"
    assert december["2026-12-02"][0].reason == "3 h late; grace 15 min"
    assert sum(len(cards) for _, days in dom.sections.values() for cards in days.values()) == 12  # month + week


def test_a_script_injection_text_is_shown_as_text(page: Path, tmp_path: Path) -> None:
    dom = read(browser.dump_dom(page, tmp_path / "profile"))
    evil = [c for _, days in dom.sections.values() for cards in days.values() for c in cards if c.key == "evil"]
    assert len(evil) == 2
    for card in evil:
        assert card.text == EVIL
        assert card.imgs == 0
    assert dom.title == "Acme <social>"  # no injected script ran


def test_views_and_filters_follow_the_address(page: Path, tmp_path: Path) -> None:
    dom = read(browser.dump_dom(page, tmp_path / "profile", "#view=week&week=2026-W49&account=x"))
    shown = [s for s, (hidden, _) in dom.sections.items() if not hidden]
    assert shown == [("week", "2026-W49")]
    week = dom.sections[("week", "2026-W49")][1]
    assert sorted(week) == [f"2026-11-{d}" for d in (30,)] + [f"2026-12-0{d}" for d in range(1, 7)]
    assert [(c.key, c.account, c.hidden) for c in week["2026-12-01"]] == [
        ("launch", "page", True), ("launch", "x", False), ("evil", "x", False)]


def test_the_provider_filter_and_the_month_from_the_address(page: Path, tmp_path: Path) -> None:
    dom = read(browser.dump_dom(page, tmp_path / "profile", "#view=month&month=2027-01&provider=facebook"))
    assert [s for s, (hidden, _) in dom.sections.items() if not hidden] == [("month", "2027-01")]
    cards = [c for _, days in dom.sections.values() for cards in days.values() for c in cards]
    assert {(c.account, c.hidden) for c in cards} == {("page", False), ("x", True)}


def test_a_phone_width_screenshot(page: Path, tmp_path: Path) -> None:
    browser.screenshot(page, tmp_path / "profile", tmp_path / "phone.png", "390,844")


def test_the_keyboard_pages_switches_views_and_walks_the_days(page: Path, tmp_path: Path) -> None:
    from devtools import Page

    tab = Page(page.as_uri(), tmp_path / "profile")
    try:
        shown = "[...document.querySelectorAll('section.view')].filter(s => !s.hidden).map(s => s.dataset.id)"
        assert tab.evaluate(shown) == ["2026-12"]
        tab.evaluate("document.querySelector('section.month:not([hidden]) [data-date=\"2026-12-01\"] article').focus()")
        tab.press("ArrowRight", "ArrowRight", 39)  # to the next day: its first card
        focused = "[document.activeElement.dataset.key, document.activeElement.closest('.day').dataset.date]"
        assert tab.evaluate(focused) == ["late", "2026-12-02"]
        tab.press("ArrowDown", "ArrowDown", 40)  # a week on: 2026-12-09
        assert tab.evaluate(focused) == ["gone", "2026-12-09"]
        tab.press("n", "KeyN", 78, "n")
        assert tab.evaluate(shown) == ["2027-01"]
        tab.press("w", "KeyW", 87, "w")  # the week view keeps the days in sight
        assert tab.evaluate(shown) == ["2026-W53"]
        assert tab.evaluate("location.hash") == "#view=week&week=2026-W53"
        tab.press("p", "KeyP", 80, "p")
        assert tab.evaluate(shown) == ["2026-W52"]
        layout = ("[getComputedStyle(document.querySelector('section.view:not([hidden]) .grid')).display,"
                  " getComputedStyle(document.querySelector('section.view:not([hidden]) .heads')).display]")
        assert tab.evaluate(layout) == ["grid", "grid"]
        tab.call("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)
        assert tab.evaluate(layout) == ["block", "none"]  # at phone width: one column of days
        assert tab.evaluate("document.documentElement.scrollWidth <= 390")  # nothing wider than the phone
    finally:
        tab.close()
