"""Generated calendars for the benchmarks: accounts, YAML text, and tagged text posts.

Every benchmark needs a calendar of a given size and shape. This module writes calendar
files as YAML text in the style people write by hand (block entries, flow values, names
plain, times quoted), and makes the one-off text posts the sending benchmarks publish: each
message carries its entry id, so a request the sandbox received names its occurrence. The
realistic mixes (validate, scale) are in `mixgen`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Providers an account can be; the text posts every benchmark sends go to the first three.
POSTING = ("facebook-page", "twitter", "linkedin-company")
_PLAIN = re.compile(r"[a-z][a-z0-9._-]*")
# Plain scalars that some YAML reader (1.1 or 1.2) would not read as text.
_KEYWORDS = frozenset({"true", "false", "null", "yes", "no", "on", "off", "y", "n"})
_TAG = re.compile(r"id=([a-z0-9._-]+)")


@dataclass(frozen=True)
class Account:
    """One calendar account: its name, provider kind (see `POSTING`) and identity token."""

    name: str
    kind: str
    index: int

    @property
    def identity(self) -> str:
        """A UUID-shaped identity token of this account's own."""
        # Distinct per account: the sandbox binds each identity to the first provider it sees.
        return f"{self.index:08x}-0000-4000-8000-{self.index:012x}"

    @property
    def provider(self) -> str:
        """The provider name (`facebook` for both page and group accounts)."""
        return self.kind.split("-")[0]

    def yaml(self) -> dict[str, Any]:
        """The account's mapping as written under `accounts:`."""
        data: dict[str, Any] = {"provider": self.provider, "identity": self.identity}
        if self.kind == "facebook-page":
            data["page"] = str(10**14 + self.index)
        elif self.kind == "facebook-group":
            data["group"] = str(7 * 10**7 + self.index)
        elif self.kind == "linkedin-company":
            data["company"] = str(10**7 + self.index)
        elif self.kind == "pinterest":
            data["board"] = str(5 * 10**11 + self.index)
        return data


def accounts(count: int, kinds: Sequence[str] = POSTING, prefix: str = "acct") -> list[Account]:
    """`count` accounts cycling through `kinds`."""
    return [Account(f"{prefix}-{i:03d}-{kinds[i % len(kinds)]}", kinds[i % len(kinds)], i + 1)
            for i in range(count)]


def flow(value: Any) -> str:
    """A value as YAML flow text, the way people write it: names and ids plain, everything
    else double-quoted (JSON strings are valid YAML double-quoted scalars), so no time or
    number is left to YAML's implicit typing."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if _PLAIN.fullmatch(text) and text not in _KEYWORDS:
        return text
    return json.dumps(text, ensure_ascii=False)


@dataclass
class CalendarFile:
    """One calendar file being assembled: header, accounts, media and entries per kind."""

    timezone: str | None = None
    grace: str | None = None
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    media: dict[str, dict[str, Any]] = field(default_factory=dict)
    entries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, kind: str, entry: dict[str, Any]) -> None:
        """Append an entry to the list `kind` (`posts`, `pins`, ...)."""
        self.entries.setdefault(kind, []).append(entry)

    def text(self) -> str:
        """The file's YAML: top-level keys in block style, each entry a block mapping."""
        lines = ["# yaml-language-server: $schema=schema/calendar.schema.json", "version: 1"]
        if self.timezone:
            lines.append(f"timezone: {self.timezone}")
        if self.grace:
            lines.append(f"grace: {self.grace}")
        for section in ("accounts", "media"):
            items: dict[str, dict[str, Any]] = getattr(self, section)
            if items:
                lines.append(f"{section}:")
                lines.extend(f"  {name}: {flow(value)}" for name, value in items.items())
        for kind, entries in self.entries.items():
            lines.append(f"{kind}:")
            for entry in entries:
                first = True
                for key, value in entry.items():
                    lines.append(f"{'  - ' if first else '    '}{key}: {flow(value)}")
                    first = False
        return "\n".join(lines) + "\n"


def write(folder: Path, files: Iterable[CalendarFile]) -> list[Path]:
    """Write the files as `folder/cal-NNN.yaml`; returns their paths in order."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, cal in enumerate(files):
        path = folder / f"cal-{index:03d}.yaml"
        path.write_text(cal.text(), encoding="utf-8")
        paths.append(path)
    return paths


def utc_stamp(moment: datetime) -> str:
    """An exact instant with milliseconds, `2026-12-01T08:00:00.123Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def text_posts(accts: Sequence[Account], times: Sequence[datetime], prefix: str) -> CalendarFile:
    """One one-off text post per time, accounts round-robin, each valid for its provider. The
    message carries the entry id (`id=...`), so a received request names its occurrence."""
    cal = CalendarFile(accounts={a.name: a.yaml() for a in accts})
    for index, moment in enumerate(times):
        acct = accts[index % len(accts)]
        entry_id = f"{prefix}-{index:05d}"
        entry: dict[str, Any] = {"id": entry_id, "at": utc_stamp(moment), "to": [acct.name],
                                 "message": f"Benchmark post id={entry_id} for {acct.name}"}
        if acct.provider == "linkedin":
            entry["link"] = f"https://example.com/{entry_id}"
        cal.add("posts", entry)
    return cal


def entry_id(record: Mapping[str, Any]) -> str | None:
    """The entry id a request received by the sandbox carries in its message (`text_posts`)."""
    found = _TAG.search(json.dumps(record.get("body")))
    return found.group(1) if found else None


def duplicates(records: Iterable[Mapping[str, Any]]) -> int:
    """How many received requests repeat an entry id received before."""
    return sum(c - 1 for c in Counter(entry_id(r) for r in records).values() if c > 1)
