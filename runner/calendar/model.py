"""The validated calendar as frozen, typed records.

`build` takes loaded documents that passed the schema and turns them into one `Calendar`,
collecting every problem the schema cannot see: names that do not resolve, ids used twice
across files, zones that do not exist, wall times that do not exist or happen twice. Provider
rules (what each network accepts) live in `rules`. No I/O, no clock.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from runner.calendar import times

if TYPE_CHECKING:
    from runner.calendar.table import Entries

DEFAULT_GRACE = timedelta(minutes=15)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Kind(enum.Enum):
    """The entry lists of a calendar file; the value is the list's key."""

    POST = "posts"
    PICTURE = "pictures"
    VIDEO = "videos"
    PIN = "pins"
    BOARD = "boards"
    PLAYLIST = "playlists"
    PLAYLIST_ITEM = "playlist_items"
    CHANNEL_SECTION = "channel_sections"


@dataclass(frozen=True)
class Account:
    name: str
    provider: str
    identity: str
    page: str | None = None
    group: str | None = None
    company: str | None = None
    board: str | None = None
    callback_url: str | None = None
    rate_limit: tuple[int, float] | None = None  # (sends, per seconds)


@dataclass(frozen=True)
class Medium:
    name: str
    url: str
    type: str  # "picture" | "video"
    description: str | None = None
    title: str | None = None


@dataclass(frozen=True, slots=True)
class Repeat:
    every: str  # "day" | "week" | "month"
    interval: int = 1
    on: tuple[int, ...] = ()  # weekdays, Monday = 0
    until: datetime | None = None  # naive wall time, inclusive
    count: int | None = None
    skip_days: frozenset[Any] = frozenset()  # dates
    skip_times: frozenset[datetime] = frozenset()  # naive wall times
    # `until` written with an offset is an instant: compared as one, never as a wall time
    # (on a fall-back night the wall 01:30 names two instants).
    until_instant: datetime | None = None


@dataclass(frozen=True, slots=True)  # no __dict__ for each of 200,000 entries
class Entry:
    """One calendar entry. `start` is the first occurrence's wall time in `tz`, checked to
    name exactly one instant; an entry written with an offset has it converted into `tz`."""

    id: str
    kind: Kind
    file: str
    line: int
    tz: tzinfo
    start: datetime  # naive wall time in tz
    to: tuple[str, ...]
    fields: Mapping[str, Any]
    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    repeat: Repeat | None = None
    grace: timedelta = DEFAULT_GRACE
    enabled: bool = True
    digest: str = ""

    def fields_for(self, account: str) -> Mapping[str, Any]:
        """The entry's fields with the account's overrides applied."""
        override = self.overrides.get(account)
        return {**self.fields, **override} if override else self.fields


@dataclass(frozen=True)
class Calendar:
    accounts: Mapping[str, Account]
    media: Mapping[str, Medium]
    entries: Entries  # by id, in file order
    digest: str  # hash of the whole calendar's content
    tz: tzinfo | None = None  # the first file's zone: how bare wall times on the command line are read
    files: tuple[str, ...] = ()

    def entry(self, entry_id: str) -> Entry | None:
        return self.entries.get(entry_id)


COMMON_KEYS = frozenset({"id", "at", "timezone", "to", "repeat", "grace", "enabled", "note",
                         "overrides"})


def digest_of(value: Any) -> str:
    """A short stable hash of JSON-able content."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def account_from(name: str, data: Mapping[str, Any]) -> Account:
    rate = data.get("rate_limit")
    return Account(
        name=name, provider=data["provider"], identity=data["identity"], page=data.get("page"),
        group=data.get("group"), company=data.get("company"), board=data.get("board"),
        callback_url=data.get("callback_url"), rate_limit=times.rate(rate) if rate else None,
    )


def medium_from(name: str, data: Mapping[str, Any]) -> Medium:
    return Medium(name, data["url"], data["type"], data.get("description"), data.get("title"))


def entry_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """The kind-specific content of an entry, lists made tuples."""
    return {k: tuple(v) if isinstance(v, list) else v
            for k, v in data.items() if k not in COMMON_KEYS}
