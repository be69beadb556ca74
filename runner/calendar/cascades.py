"""Keeping one mistake one problem: a misspelled top-level key, and the zone to suggest.

A file whose `timezone` is misspelled (`timezon:`) would otherwise report "no time zone"
once per entry, and a misspelled `accounts` or `media` an "unknown account" per use; the
schema already reports the misspelled key itself, at its place, which is the one problem.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from runner.calendar.files import Document
from runner.calendar.model import Kind

TOP_LEVEL = frozenset({"version", "timezone", "grace", "accounts", "media",
                       *(kind.value for kind in Kind)})
WATCHED = ("timezone", "accounts", "media")
CONSEQUENCES = {"accounts": "unknown account '", "media": "unknown medium '"}


def misspelled(doc: Document) -> frozenset[str]:
    """The watched keys this file misspells at its top level (and does not also spell right)."""
    data = doc.data if isinstance(doc.data, dict) else {}
    found = set()
    for key in data:
        if isinstance(key, str) and key not in TOP_LEVEL:
            found.update(difflib.get_close_matches(key, WATCHED, n=1, cutoff=0.7))
    return frozenset(found - set(data))


def zone_hint(docs: Sequence[Document]) -> str:
    """The fix for an entry without a zone, naming the zone the other files use."""
    for doc in docs:
        zone = doc.data.get("timezone") if isinstance(doc.data, dict) else None
        if isinstance(zone, str):
            return (f"add `timezone: {zone}` (as in {doc.file}) at the top of the file or on "
                    "the entry, or write the time with an offset")
    return ("add `timezone: Europe/Berlin` (your zone) at the top of the file or on the "
            "entry, or write the time with an offset")


def hidden(message: str, typos: frozenset[str]) -> bool:
    """Whether a finding only follows from a misspelled key already reported."""
    return any(message.startswith(CONSEQUENCES[key]) for key in typos if key in CONSEQUENCES)
