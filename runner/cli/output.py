"""How results look on the terminal and to machines: problems, plans, ledger rows.

Pure formatting: records in, text out. Each view has a human text form and a JSON form
with stable keys; problems also have GitHub Actions annotations for pull requests.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from runner.clock import local_text, utc_text
from runner.errors import Problem

if TYPE_CHECKING:  # types only: `pushcal validate` imports this module and needs neither
    from runner.calendar.expansion import Occurrence
    from runner.ledger.contract import Row
    from runner.oneall.wire import Request


def local(moment: datetime) -> str:
    """`2026-12-01 09:00:00 CET (+01:00)`: the wall time people wrote, with its zone."""
    return local_text(moment)


def when(moment: datetime, tz: tzinfo | None) -> str:
    """A moment for people: the calendar's local time and zone beside the UTC instant."""
    if tz is None:
        return utc_text(moment)
    return f"{local(moment.astimezone(tz))}  {utc_text(moment)}"


def count(n: int, one: str, many: str | None = None) -> str:
    """`1 entry`, `2 entries`."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def problems_text(problems: Sequence[Problem]) -> str:
    return "".join(p.render() + "\n" for p in problems)


def problems_json(problems: Sequence[Problem]) -> str:
    items = [{"file": p.file, "line": p.line, "col": p.col, "path": p.path,
              "message": p.message, "hint": p.hint} for p in problems]
    return json.dumps(items, indent=2, ensure_ascii=False) + "\n"


def problems_github(problems: Sequence[Problem]) -> str:
    """GitHub Actions workflow commands: each problem is shown on its line in the PR."""
    lines = []
    for p in problems:
        text = f"{p.path}: {p.message}" if p.path else p.message
        if p.hint:
            text += f" ({p.hint})"
        place = f"file={_gh_prop(p.file)}"
        if p.line:
            place += f",line={p.line},col={p.col}"
        lines.append(f"::error {place},title=pushcal::{_gh_data(text)}\n")
    return "".join(lines)


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


@dataclass(frozen=True)
class PlanItem:
    """One occurrence for one account with its requests, as `plan` shows it."""

    occurrence: Occurrence
    provider: str
    kind: str
    requests: Sequence[Request]
    state: str | None  # the ledger's state, when there is a ledger and a row


def plan_json(items: Iterable[PlanItem]) -> str:
    """The plan as one JSON document (see `plan_json_chunks`)."""
    return "".join(plan_json_chunks(items))


def plan_json_chunks(items: Iterable[PlanItem]) -> Iterator[str]:
    """The plan's JSON a piece at a time, item by item, exactly as `json.dumps(list,
    indent=2)` would write it: a 100-year plan is written as it is rendered, never held
    whole (it needed a gigabyte)."""
    first = True
    for item in items:
        occ = item.occurrence
        shown = json.dumps({
            "entry": occ.entry, "key": occ.key, "account": occ.account,
            "provider": item.provider, "kind": item.kind, "at": utc_text(occ.due),
            "local": occ.local.isoformat(timespec="seconds"), "state": item.state,
            "requests": [{"step": r.step, "method": r.method, "path": r.path,
                          "body": _shown(r.body)} for r in item.requests],
        }, indent=2, ensure_ascii=False)
        yield ("[\n" if first else ",\n") + "\n".join("  " + line for line in shown.split("\n"))
        first = False
    yield "[]\n" if first else "\n]\n"


def plan_text(items: Sequence[PlanItem], start: datetime, end: datetime) -> str:
    lines = []
    shown: dict[int, list[str]] = {}  # by the requests list: occurrences of one entry share it
    for item in items:
        occ = item.occurrence
        state = f"  [{item.state}]" if item.state else ""
        lines.append(f"{local(occ.local)}  {utc_text(occ.due)}  {occ.key} -> {occ.account}{state}")
        said = shown.get(id(item.requests))
        if said is None:
            said = shown[id(item.requests)] = list(_request_lines(item.requests))
        lines.extend(said)
    entries = len({i.occurrence.entry for i in items})
    requests = sum(len(i.requests) for i in items)
    lines.append(f"{_count(len(items), 'delivery', 'deliveries')} of "
                 f"{_count(entries, 'entry', 'entries')}, {_count(requests, 'request', 'requests')}, "
                 f"from {utc_text(start)} to {utc_text(end)}")
    return "\n".join(lines) + "\n"


def _request_lines(requests: Sequence[Request]) -> Iterator[str]:
    for number, req in enumerate(requests, 1):
        body = json.dumps(_shown(req.body), ensure_ascii=False, separators=(",", ":"))
        yield f"  {number}. {req.method} {req.path}  ({req.step})"
        yield f"     {body}"


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def row_dict(row: Row) -> dict[str, Any]:
    """A ledger row with stable keys, for JSON output."""
    return {
        "entry": row.entry, "account": row.account, "key": row.key, "state": str(row.state),
        "scheduled": utc_text(row.scheduled), "claimed": row.claimed and utc_text(row.claimed),
        "sent": row.finished and utc_text(row.finished) if str(row.state) == "sent" else None,
        "finished": row.finished and utc_text(row.finished), "attempts": row.attempts,
        "endpoint": row.endpoint, "remote_id": row.remote_id, "location": row.location,
        "http_status": row.http_status, "info": row.info,
        "next_attempt": row.next_attempt and utc_text(row.next_attempt),
        "calendar_hash": row.calendar_hash, "commit": row.commit,
    }


def rows_json(rows: Iterable[Row], *, sandbox: bool = False) -> str:
    """Rows as a JSON list; `sandbox` marks rows a sandbox wrote (never really published)."""
    items = [{**row_dict(r), "sandbox": sandbox} for r in rows]
    return json.dumps(items, indent=2, ensure_ascii=False) + "\n"


def row_line(row: Row, tz: tzinfo | None = None,
             tint: Callable[[str], str] = str) -> str:
    """One line per row: when, what, where, state, and the remote id or the reason."""
    detail = row.location or row.remote_id or row.info
    return (f"{when(row.scheduled, tz)}  {row.key} -> {row.account}  {tint(str(row.state))}  "
            f"{detail}").rstrip()


def counts_line(counts: Mapping[Any, int]) -> str:
    parts = [f"{state}: {n}" for state, n in sorted(counts.items(), key=lambda kv: str(kv[0])) if n]
    return ", ".join(parts) if parts else "no deliveries recorded"


def _shown(body: Any) -> Any:
    """The body as a plan shows it; the renderer loads with the first plan, not with validate."""
    from runner.oneall.render import shown

    return shown(body)
