"""Telling a pushcal calendar file from another tool's YAML (a workflow, a compose file),
for the pre-commit hook, which is handed every staged YAML file of a repository.

A file is a calendar when its top level holds any of our sections (`accounts`, `posts`, ...),
or holds `version` and nothing but our keys. So a calendar with a misspelt key or a missing
`version` still counts as one (and fails validation, as it must), while a compose file's
`version: "3.8"` beside `services` does not. A file that is not even YAML counts as a
calendar: the strict reader then says where it breaks.
"""

from __future__ import annotations

from runner.calendar.model import Kind
from runner.calendar.strict_yaml import top_keys

SECTIONS = frozenset({"timezone", "grace", "accounts", "media", *(k.value for k in Kind)})
KEYS = SECTIONS | {"version"}
NOT_A_CALENDAR = "not a pushcal calendar"


def is_calendar(raw: bytes) -> bool:
    """Whether these bytes are meant as a calendar file (see the module docstring)."""
    keys = top_keys(raw)
    if keys is None:
        return True
    return bool(keys & SECTIONS) or ("version" in keys and keys <= KEYS)


def why_not(raw: bytes) -> str:
    """What a non-calendar file lacks, for the message that skips or refuses it."""
    keys = top_keys(raw) or frozenset()
    if not keys:
        return "its top level is not a mapping"
    if "version" not in keys:
        return "no `version:` key and none of accounts, media, posts, ..."
    return f"`version:` beside keys a calendar does not have ({', '.join(sorted(keys - KEYS))})"
