"""The schedule as one self-contained HTML page: month and week views of cards. Pure.

Everything is rendered here, escaped with `html.escape`, so the page reads without its
script and no text a calendar can hold becomes markup; the inline script (page.js) only
switches views, pages through months and weeks, filters by account and provider, and moves
the focus with the keyboard. No CDN, no fonts, no network: it works offline, as a CI
artifact or a GitHub Pages page. A link is made only of an http(s) URL.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta, tzinfo
from importlib import resources

from runner.ledger.contract import Row, State
from runner.review.schedule import Slot, SlotKey
from runner.review.states import KIND_NAMES, shown_state

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def page(slots: Sequence[Slot], tz: tzinfo | None, rows: Mapping[SlotKey, Row] | None,
         title: str, start: datetime, end: datetime, now: datetime) -> str:
    """The whole page; `slots` sorted by time, shown in the calendar's zone `tz`."""
    def local(slot: Slot) -> datetime:
        return slot.local.astimezone(tz) if tz is not None else slot.local

    by_day: dict[date, list[str]] = {}
    for slot in slots:
        by_day.setdefault(local(slot).date(), []).append(_card(slot, local(slot), rows, now))
    first, last = local_day(start, tz), local_day(end - timedelta(microseconds=1), tz)
    today = local_day(now, tz)
    opening = today if first <= today <= last else first  # the views open on today, or the start
    months = _months(first, last, by_day, opening)
    weeks = _weeks(first, last, by_day, opening)
    accounts = sorted({(s.occurrence.account, s.provider) for s in slots})
    providers = sorted({p for _, p in accounts})
    zone = str(tz) if tz is not None else "each entry's zone"
    asset = resources.files("runner.review")
    return _PAGE.format(
        title=_e(title), zone=_e(zone), css=asset.joinpath("page.css").read_text("utf-8"),
        js=asset.joinpath("page.js").read_text("utf-8"),
        window=_e(f"{first:%Y-%m-%d} to {last:%Y-%m-%d}"), count=len(slots),
        accounts="".join(f'<option value="{_e(a)}">{_e(a)} ({_e(p)})</option>' for a, p in accounts),
        providers="".join(f'<option value="{_e(p)}">{_e(p)}</option>' for p in providers),
        legend=_legend() if rows is not None else "", months=months, weeks=weeks, csp=_CSP)


def local_day(moment: datetime, tz: tzinfo | None) -> date:
    return (moment.astimezone(tz) if tz is not None else moment).date()


def _card(slot: Slot, when: datetime, rows: Mapping[SlotKey, Row] | None, now: datetime) -> str:
    occ = slot.occurrence
    state = shown_state(slot, rows, now) if rows is not None else ""
    row = rows.get(slot.key) if rows is not None else None
    media = "".join(f"<li>{_link(url)}</li>" for url in slot.media)
    tint = f" state-{state.replace(' ', '-')}" if state else ""
    parts = [
        f'<article class="card{tint}" tabindex="0" '
        f'data-key="{_e(occ.key)}" data-account="{_e(occ.account)}" '
        f'data-provider="{_e(slot.provider)}" data-state="{_e(state)}">',
        f'<time datetime="{when.isoformat(timespec="seconds")}">'
        f'{when:%H:%M} {_e(when.tzname() or "")}</time>',
        f'<span class="who">{_e(occ.account)} <small>({_e(slot.provider)})</small></span>',
        f'<span class="kind">{_e(KIND_NAMES.get(slot.kind, slot.kind))} {_e(occ.key)}</span>',
        f'<p class="text">{_e(slot.text)}</p>',
        f'<ul class="media">{media}</ul>' if media else "",
        _state(state, row) if state else "",
        "</article>",
    ]
    return "".join(parts)


def _state(state: str, row: Row | None) -> str:
    said = f'<span class="state">{_e(state)}</span>'
    if row is not None and row.state is State.SENT and row.location:
        said += f' <span class="post">{_link(row.location, "the post")}</span>'
    elif row is not None and row.state in (State.FAILED, State.MISSED, State.UNKNOWN) and row.info:
        said += f' <span class="reason">{_e(row.info)}</span>'
    return f'<p class="ledger">{said}</p>'


def _days(days: list[date], by_day: Mapping[date, list[str]], inside: tuple[date, date]) -> str:
    cells = []
    for day in days:
        out = " outside" if not inside[0] <= day <= inside[1] else ""
        cards = "" if out else "".join(by_day.get(day, []))  # each card once per view
        cells.append(f'<div class="day{out}" role="gridcell" data-date="{day.isoformat()}">'
                     f'<span class="date"><b>{WEEKDAYS[day.weekday()]}</b> {day.day}</span>{cards}</div>')
    return "".join(cells)


def _months(first: date, last: date, by_day: Mapping[date, list[str]], opening: date) -> str:
    out, month = [], first.replace(day=1)
    while month <= last:
        following = (month + timedelta(days=32)).replace(day=1)
        grid_start = month - timedelta(days=month.weekday())
        days = [grid_start + timedelta(days=n) for n in range((following - grid_start).days)]
        days += [days[-1] + timedelta(days=n + 1) for n in range((7 - len(days) % 7) % 7)]
        out.append(f'<section class="view month" data-view="month" data-id="{month:%Y-%m}"'
                   f'{_opens(month <= opening < following)} '
                   f'aria-label="{month:%B %Y}"><h2>{month:%B %Y}</h2>{_heads()}'
                   f'<div class="grid" role="grid">'
                   f'{_days(days, by_day, (month, following - timedelta(days=1)))}</div></section>')
        month = following
    return "".join(out)


def _weeks(first: date, last: date, by_day: Mapping[date, list[str]], opening: date) -> str:
    out, monday = [], first - timedelta(days=first.weekday())
    while monday <= last:
        year, week, _ = monday.isocalendar()
        days = [monday + timedelta(days=n) for n in range(7)]
        out.append(f'<section class="view week" data-view="week" data-id="{year}-W{week:02d}"'
                   f'{_opens(monday <= opening < monday + timedelta(days=7))} '
                   f'aria-label="week {week} of {year}"><h2>Week {week}, {monday:%d %b} to '
                   f'{days[-1]:%d %b %Y}</h2>{_heads()}'
                   f'<div class="grid" role="grid">{_days(days, by_day, (first, last))}</div></section>')
        monday += timedelta(days=7)
    return "".join(out)


def _opens(yes: bool) -> str:
    return ' data-opens=""' if yes else ""


def _heads() -> str:
    heads = "".join(f"<span>{d}</span>" for d in WEEKDAYS)
    return f'<div class="heads" aria-hidden="true">{heads}</div>'


def _legend() -> str:
    states = ("planned", "sending", "retry_wait", "sent", "failed", "unknown", "missed", "cancelled")
    return '<p class="legend">' + "".join(f'<span class="state-{s}">{s}</span>' for s in states) + "</p>"


def _link(url: str, label: str | None = None) -> str:
    if not url.startswith(("https://", "http://")):
        return _e(label or url)
    return f'<a href="{_e(url)}" rel="noopener noreferrer">{_e(label or url)}</a>'


def _e(text: str) -> str:
    return html.escape(text, quote=True)


# Nothing may load from anywhere: the page is whole as it is, and stays offline.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<title>{title}</title><style>{css}</style></head>
<body><header><h1>{title}</h1><p class="meta">{count} deliveries, {window}, times in {zone}</p>
<nav aria-label="calendar controls">
<button type="button" id="prev" title="previous (p)">&larr;</button>
<button type="button" id="next" title="next (n)">&rarr;</button>
<button type="button" id="show-month" aria-pressed="true" title="month view (m)">Month</button>
<button type="button" id="show-week" aria-pressed="false" title="week view (w)">Week</button>
<label>Account <select id="account"><option value="">all</option>{accounts}</select></label>
<label>Provider <select id="provider"><option value="">all</option>{providers}</select></label>
</nav>{legend}</header>
<main>{months}{weeks}</main>
<script>{js}</script></body></html>
"""
