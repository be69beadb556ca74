"""A calendar's schedule in a window, one `Slot` per (occurrence key, account).

Built from the one expansion (`runner.calendar.expand`) and the one rendering
(`runner.oneall.render`) that `plan` and the daemon use, so what a review shows is what would
be sent. A slot keeps what a person reviews: the local time, the text, the media URLs and the
other request fields, taken from the rendered requests rather than from the YAML.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from runner.calendar import Calendar, Entry, Occurrence, expand
from runner.oneall.render import render, shown
from runner.oneall.wire import Request

SlotKey = tuple[str, str]  # (occurrence key, account)
TEXT_FIELDS = ("title", "name", "message", "description")
MEDIA_FIELDS = ("url", "picture", "video_url", "thumbnail_url")
_NOT_DETAILS = frozenset({*TEXT_FIELDS, *MEDIA_FIELDS, "attachments", "create_post"})


@dataclass(frozen=True)
class Slot:
    """One (occurrence, account) as one revision of the calendar schedules it."""

    occurrence: Occurrence
    provider: str
    kind: str  # the entry list's key: posts, pictures, ...
    file: str
    line: int
    text: str  # the published text fields, one per line
    media: tuple[str, ...]  # URLs OneAll downloads, in sending order
    details: Mapping[str, str]  # every other field of the publish request, as JSON-ish text
    enabled: bool

    @property
    def key(self) -> SlotKey:
        return self.occurrence.key, self.occurrence.account

    @property
    def local(self) -> datetime:
        return self.occurrence.local


def slots(cal: Calendar, start: datetime, end: datetime,
          entries: Iterable[Entry] | None = None) -> dict[SlotKey, Slot]:
    """Every (occurrence, account) of `entries` (default: all) due in [start, end), disabled
    entries included (with `enabled=False`): a review says "disabled", not "removed"."""
    chosen = list(cal.entries.near(start, end) if entries is None else entries)
    live = {e.id: e for e in chosen}
    woken = (e if e.enabled else dataclasses.replace(e, enabled=True) for e in chosen)
    found: dict[SlotKey, Slot] = {}
    contents: dict[tuple[str, str], tuple[str, tuple[str, ...], dict[str, str]]] = {}
    for occ in expand(cal, start, end, entries=woken):
        entry = live[occ.entry]
        account = cal.accounts[occ.account]
        content = contents.get((entry.id, account.name))  # the same for every occurrence
        if content is None:
            content = contents[(entry.id, account.name)] = _content(render(cal, entry, account))
        text, media, details = content
        found[(occ.key, occ.account)] = Slot(occ, account.provider, entry.kind.value, entry.file,
                                             entry.line, text, media, details, entry.enabled)
    return found


def first_line(text: str) -> str:
    """The first non-empty line of a text, for one-line views."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _content(requests: list[Request]) -> tuple[str, tuple[str, ...], dict[str, str]]:
    texts: list[str] = []
    media: list[str] = []
    details: dict[str, str] = {}
    for number, request in enumerate(requests):
        payload = _payload(request.body)
        publish = number == len(requests) - 1
        media += [v for k, v in payload.items() if k in MEDIA_FIELDS and isinstance(v, str)]
        if publish:
            texts += [v for k in TEXT_FIELDS if isinstance(v := payload.get(k), str)]
            details.update({k: _scalar(v) for k, v in payload.items() if k not in _NOT_DETAILS})
    return "\n".join(texts), tuple(media), details


def _payload(body: Any) -> Mapping[str, Any]:
    """The object inside `{"request": {"push": {...}}}`, through single-key wrappers."""
    inner = body.get("request", {}).get("push", {}) if isinstance(body, Mapping) else {}
    while isinstance(inner, Mapping) and len(inner) == 1:
        (only,) = inner.values()
        if not isinstance(only, Mapping):
            break
        inner = only
    return inner if isinstance(inner, Mapping) else {}


def _scalar(value: Any) -> str:
    shown_value = shown(value)
    return shown_value if isinstance(shown_value, str) else repr(shown_value)
