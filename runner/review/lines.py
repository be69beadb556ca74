"""Pieces of text every view shares: local times, account labels, the lines that describe
one change. Pure; colour is a style passed in, so each view marks words up its own way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from runner.review.changes import Change, What
from runner.review.schedule import Slot, first_line
from runner.review.words import word_diff


def clock(moment: datetime) -> str:
    """`09:00 CET`: the wall time with its zone's abbreviation."""
    return f"{moment:%H:%M} {moment.tzname()}"


def day(moment: datetime) -> str:
    """`Tue 2026-12-01`."""
    return f"{moment:%a %Y-%m-%d}"


def stamp(moment: datetime) -> str:
    """`Tue 2026-12-01 09:00 CET`."""
    return f"{day(moment)} {clock(moment)}"


def target(slot: Slot) -> str:
    """`launch -> page (facebook)`."""
    return f"{slot.occurrence.key} -> {slot.occurrence.account} ({slot.provider})"


@dataclass(frozen=True)
class Style:
    """How a view marks removed and added words, and escapes the text around them."""

    old: Callable[[str], str]
    new: Callable[[str], str]
    plain: Callable[[str], str] = str
    arrow: str = "->"


_WHOLE = frozenset({What.ADDED, What.REMOVED, What.TARGET_ADDED, What.TARGET_REMOVED,
                    What.ENABLED, What.DISABLED})  # shown with their text's first line
PLAIN = Style(lambda t: f"[-{t}-]", lambda t: f"{{+{t}+}}")


def details(change: Change, style: Style = PLAIN) -> list[tuple[str, str]]:
    """(label, text) lines that say what changed in detail, in a fixed order."""
    old, new, what = change.before, change.after, set(change.what)
    found: list[tuple[str, str]] = []
    if old and new and What.RETIMED in what:
        found.append(("time", f"{style.old(stamp(old.local))} {style.arrow} "
                              f"{style.new(stamp(new.local))}"))
    if old and new and What.TEXT in what:
        found.append(("text", _words(old.text, new.text, style)))
    elif what & _WHOLE:
        found.append(("text", style.plain(_flat(first_line(change.slot.text)))))
    if old and new and What.MEDIA in what:
        gone = [style.old(style.plain(u)) for u in old.media if u not in new.media]
        came = [style.new(style.plain(u)) for u in new.media if u not in old.media]
        found.append(("media", " ".join(gone + came) or "reordered"))
    if old and new and What.DETAILS in what:
        for name in sorted(old.details.keys() | new.details.keys()):
            before, after = old.details.get(name, ""), new.details.get(name, "")
            if before != after:
                found.append((name, f"{style.old(style.plain(before)) if before else '(none)'} "
                                    f"{style.arrow} {style.new(style.plain(after)) if after else '(none)'}"))
    return found


def _words(old: str, new: str, style: Style) -> str:
    marks = {"=": lambda t: t, "-": style.old, "+": style.new}
    return "".join(marks[mark](style.plain(_flat(text))) for mark, text in word_diff(old, new))


def _flat(text: str) -> str:
    """Text on one line: a line break shown as ⏎."""
    return text.replace("\r\n", "\n").replace("\n", " ⏎ ")
