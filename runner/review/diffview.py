"""`pushcal diff` for people: text for the terminal (colour optional) and Markdown for a
pull-request comment, both grouped by local day. Pure: a `Review` in, text out."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from runner.review.changes import Change, What
from runner.review.lines import PLAIN, Style, clock, details, target
from runner.review.review import Review
from runner.review.runs import Run, run_details, runs

_RED, _GREEN, _YELLOW, _BOLD, _DIM, _OFF = "\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[1m", "\x1b[2m", "\x1b[0m"
_COLOURED = Style(lambda t: f"{_RED}{t}{_OFF}", lambda t: f"{_GREEN}{t}{_OFF}")
_TINT = {What.ADDED: _GREEN, What.TARGET_ADDED: _GREEN, What.ENABLED: _GREEN,
         What.REMOVED: _RED, What.TARGET_REMOVED: _RED, What.DISABLED: _RED}


def text(review: Review, colour: bool = False) -> str:
    """Day headers, one line per changed delivery with its details below, a summary last."""
    style = _COLOURED if colour else PLAIN

    def paint(code: str, words: str) -> str:
        return f"{code}{words}{_OFF}" if colour else words

    out = [paint(_RED, p.render()) for p in review.problems]
    for when, changes in review.by_day():
        out.append(paint(_BOLD, f"{when:%a %Y-%m-%d}"))
        for change in changes:
            what = ", ".join(paint(_TINT.get(w, _YELLOW), str(w)) for w in change.what)
            out.append(f"  {clock(change.when)}  {target(change.slot)}  {what}")
            out += [f"      {label}: {line}" for label, line in details(change, style)]
            out += [f"      {paint(_DIM, 'ledger')}: {line}" for line in _ledger(review, change)]
    out.append(review.summary())
    return "\n".join(out) + "\n"


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")


def _wrap(mark: str) -> Callable[[str], str]:
    """Markdown emphasis around the words only: `** now**` would not render as bold."""
    def wrapped(words: str) -> str:
        core = words.strip()
        if not core:
            return words
        lead = words[:len(words) - len(words.lstrip())]
        return f"{lead}{mark}{core}{mark}{words[len(lead) + len(core):]}"
    return wrapped


_MD = Style(_wrap("~~"), _wrap("**"), lambda t: _escape(t), "→")


MARKDOWN_ITEMS = 300  # a GitHub comment holds at most 65,536 characters


def markdown(review: Review, limit: int = MARKDOWN_ITEMS) -> str:
    """A pull-request comment: the summary first, then each day's changes as a list (the
    first `limit` of them; the rest are counted, the JSON has them all)."""
    out = [f"**pushcal diff**: {review.summary()}", ""]
    shown = 0
    if review.problems:
        heading = "none new, the base has them too" if review.older else "this change introduces"
        out.append(f"**Validation problems ({heading}): {len(review.problems)}**")
        out += [f"- {_escape(p.render())}" for p in review.problems]
        out.append("")
    folded = runs(review.changes, review.notes, review.rows)
    days: dict[date, list[Run]] = {}
    for run in folded:
        days.setdefault(run.first.when.date(), []).append(run)
    for when, day_runs in sorted(days.items()):
        if shown >= limit:
            break
        out += [f"#### {when:%a %Y-%m-%d}", ""]
        for run in day_runs[:limit - shown]:
            shown += 1
            out.append(_item(run))
            out += [f"  - {label}: {line}" for label, line in run_details(run, _MD)]
            out += [f"  - ledger: {_escape(line)}" for line in _ledger(review, run.first)]
        out.append("")
    if shown < len(folded):
        out.append(f"…and {len(folded) - shown} more; `pushcal diff --format json` lists "
                   "every one.")
    return "\n".join(out).rstrip("\n") + "\n"


def _item(run: Run) -> str:
    """`- **09:00 CET** `key` → **account** (provider): what`, or for a run, its span."""
    change, slot = run.first, run.first.slot
    what = ", ".join(str(w) for w in change.what)
    name = f"`{slot.occurrence.key}`"
    if run.count > 1:
        name = (f"`{slot.occurrence.entry}` ({run.count} occurrences, {change.when:%a %Y-%m-%d} to "
                f"{run.last:%a %Y-%m-%d})")
    return (f"- **{clock(change.when)}** {name} → **{_escape(slot.occurrence.account)}** "
            f"({slot.provider}): {what}")


def _ledger(review: Review, change: Change) -> list[str]:
    """`sent: already sent: ...`, when --state was given and the ledger has a row."""
    if review.rows is None:
        return []
    row = review.rows.get(change.key)
    if row is None:
        return ["not recorded yet"]
    note = review.notes.get(change.key)
    return [f"{row.state}: {note}" if note else str(row.state)]


def _escape(words: str) -> str:
    """Markdown-inert text; `@name` would notify a GitHub user, so the @ is split off."""
    return _MD_SPECIAL.sub(r"\\\1", words).replace("@", "@<!-- -->")
