"""`pushcal diff` for machines: stable JSON (documented in the README) and GitHub Actions
notices on the changed lines. Pure: a `Review` in, text out."""

from __future__ import annotations

import json
from typing import Any

from runner.clock import utc_text
from runner.errors import Problem
from runner.review.changes import Change, counts
from runner.review.lines import PLAIN, details, target
from runner.review.review import Review
from runner.review.schedule import Slot


def as_json(review: Review) -> str:
    """The review as JSON: window, summary counts, new problems, one record per delivery."""
    data = {
        "base": review.base, "head": review.head or None,
        "from": utc_text(review.start), "to": utc_text(review.end),
        "summary": {str(what): n for what, n in counts(review.changes).items()},
        "problems": [_problem(p) for p in review.problems],
        "changes": [_change(review, c) for c in review.changes],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _change(review: Review, change: Change) -> dict[str, Any]:
    slot = change.slot
    row = review.rows.get(change.key) if review.rows is not None else None
    return {
        "key": slot.occurrence.key, "entry": slot.occurrence.entry,
        "account": slot.occurrence.account, "provider": slot.provider, "kind": slot.kind,
        "changes": [str(w) for w in change.what],
        "before": _side(change.before), "after": _side(change.after),
        "state": str(row.state) if row is not None else None,
        "note": review.notes.get(change.key),
    }


def _side(slot: Slot | None) -> dict[str, Any] | None:
    if slot is None:
        return None
    return {"at": utc_text(slot.occurrence.due), "local": slot.local.isoformat(timespec="seconds"),
            "file": slot.file, "line": slot.line, "enabled": slot.enabled, "text": slot.text,
            "media": list(slot.media), "details": dict(sorted(slot.details.items()))}


def _problem(p: Problem) -> dict[str, Any]:
    return {"file": p.file, "line": p.line, "col": p.col, "path": p.path, "message": p.message,
            "hint": p.hint}


def github(review: Review) -> str:
    """Workflow commands: an error per new problem, a notice per change on its entry's line."""
    out = []
    for p in review.problems:
        place = f"file={_prop(p.file)}" + (f",line={p.line},col={p.col}" if p.line else "")
        message = f"{p.path}: {p.message}" if p.path else p.message
        out.append(f"::error {place},title=pushcal::{_data(message + (f' ({p.hint})' if p.hint else ''))}")
    for change in review.changes:
        slot = change.slot
        what = ", ".join(str(w) for w in change.what)
        said = "; ".join(f"{label}: {line}" for label, line in details(change, PLAIN))
        note = review.notes.get(change.key)
        message = f"{target(slot)}: {what}" + (f"; {said}" if said else "") + (f" ({note})" if note else "")
        line = f",line={slot.line}" if change.after is not None else ""  # gone from the head
        out.append(f"::notice file={_prop(slot.file)}{line},"
                   f"title={_prop('pushcal diff: ' + what)}::{_data(message)}")
    return "".join(line + "\n" for line in out)


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
