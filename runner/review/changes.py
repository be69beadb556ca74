"""Two schedules in, what changed per (occurrence key, account) out. Pure.

Only entries that may differ are expanded and rendered: an entry whose content hash, accounts
and media are the same on both sides schedules the same slots, so a pull request that edits
one file of fifty costs about one file's rendering.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from runner.calendar import Calendar, Entry
from runner.review.schedule import Slot, SlotKey, slots


class What(enum.StrEnum):
    """One kind of change to a slot; a slot may show several (retimed and text)."""

    ADDED = "added"  # a new occurrence
    REMOVED = "removed"
    TARGET_ADDED = "target added"  # the occurrence was there; this account is new to it
    TARGET_REMOVED = "target removed"
    ENABLED = "enabled"
    DISABLED = "disabled"
    RETIMED = "retimed"
    TEXT = "text changed"
    MEDIA = "media changed"
    DETAILS = "details changed"  # another request field: a link, a page id


@dataclass(frozen=True)
class Change:
    """What one change does to one (occurrence, account); `before`/`after` None when absent."""

    what: tuple[What, ...]
    before: Slot | None
    after: Slot | None

    @property
    def slot(self) -> Slot:
        """The side that says where it is now (the new one, else the old)."""
        found = self.after or self.before
        assert found is not None
        return found

    @property
    def key(self) -> SlotKey:
        return self.slot.key

    @property
    def when(self) -> datetime:
        return self.slot.local


def compare(base: Calendar | None, head: Calendar, start: datetime, end: datetime) -> list[Change]:
    """Every change from `base` (None: nothing scheduled) to `head` in [start, end), by time."""
    old_entries, new_entries = _touched(base, head)
    before = slots(base, start, end, old_entries) if base is not None else {}
    after = slots(head, start, end, new_entries)
    occurrences_before = {k for k, _ in before}
    occurrences_after = {k for k, _ in after}
    found = []
    for key in before.keys() | after.keys():
        what = _what(before.get(key), after.get(key), key[0] in occurrences_before,
                     key[0] in occurrences_after)
        if what:
            found.append(Change(what, before.get(key), after.get(key)))
    found.sort(key=lambda c: (c.slot.occurrence.due, c.key))
    return found


def _touched(base: Calendar | None, head: Calendar) -> tuple[list[Entry], list[Entry]]:
    """The entries of each side that may schedule differently from the other side."""
    if base is None:
        return [], list(head.entries.values())
    accounts = _changed(base.accounts, head.accounts)
    media = _changed(base.media, head.media)

    def same(entry: Entry, other: Entry | None) -> bool:
        return (other is not None and other.digest == entry.digest
                and not accounts.intersection(entry.to) and not media.intersection(_names(entry)))

    old = [e for e in base.entries.values() if not same(e, head.entries.get(e.id))]
    new = [e for e in head.entries.values() if not same(e, base.entries.get(e.id))]
    return old, new


def _changed(old: Mapping[str, object], new: Mapping[str, object]) -> set[str]:
    return {name for name in old.keys() | new.keys() if old.get(name) != new.get(name)}


def _names(entry: Entry) -> set[str]:
    """Every text an entry's fields hold: a superset of the media names it uses."""
    found: set[str] = set()
    for fields in (entry.fields, *entry.overrides.values()):
        for value in fields.values():
            found.update(v for v in (value if isinstance(value, tuple) else (value,))
                         if isinstance(v, str))
    return found


def _what(old: Slot | None, new: Slot | None, was: bool, is_: bool) -> tuple[What, ...]:
    if old is None:
        assert new is not None
        if not new.enabled:
            return ()  # added disabled: nothing more will be sent
        return (What.TARGET_ADDED if was else What.ADDED,)
    if new is None:
        if not old.enabled:
            return ()  # it was not going to be sent anyway
        return (What.TARGET_REMOVED if is_ else What.REMOVED,)
    found: list[What] = []
    if old.enabled != new.enabled:
        found.append(What.ENABLED if new.enabled else What.DISABLED)
    checks: Sequence[tuple[What, bool]] = (
        (What.RETIMED, old.occurrence.due != new.occurrence.due or old.local != new.local),
        (What.TEXT, old.text != new.text), (What.MEDIA, old.media != new.media),
        (What.DETAILS, old.details != new.details))
    found += [what for what, differs in checks if differs]
    return tuple(found)


def counts(changes: Iterable[Change]) -> dict[What, int]:
    """How many slots show each kind of change, in `What` order, zeros left out."""
    tally = {what: 0 for what in What}
    for change in changes:
        for what in change.what:
            tally[what] += 1
    return {what: n for what, n in tally.items() if n}
