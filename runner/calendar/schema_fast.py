"""A fast yes/no answer to "is this document valid?", for large calendars.

jsonschema interprets the schema for every value, which made it about half of `pushcal
validate` on a 10,000-entry calendar. fastjsonschema compiles the same schema to Python once
(about 0.1 s, so it is only worth it past a few hundred entries) and answers in a fraction
of the time. It only ever says "valid": any other answer, or any surprise, sends the document
to jsonschema, which finds and words every problem. Its patterns end in `\\Z` where
jsonschema's `$` also allows a final newline, so it is never more lenient.

The only user of fastjsonschema.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import cache
from typing import Any

import fastjsonschema

WORTH_IT = 300  # items (entries, accounts, media) seen before compiling pays off


class FastCheck:
    """Counts the items it is shown; once they pass `WORTH_IT`, `valid` answers quickly."""

    def __init__(self, schema: Callable[[], dict[str, Any]]) -> None:
        self._schema = schema
        self._seen = 0

    def valid(self, data: Any) -> bool:
        """True only if `data` surely satisfies the schema; False means "ask jsonschema"."""
        if isinstance(data, dict):
            self._seen += sum(len(v) for v in data.values() if isinstance(v, list | dict))
        if self._seen < WORTH_IT or _whole_float(data):
            return False
        try:
            _compiled(self._schema)(data)
        except Exception:  # invalid, or anything unforeseen: jsonschema decides
            return False
        return True


@cache
def _compiled(schema: Callable[[], dict[str, Any]]) -> Callable[[Any], Any]:
    # A copy: compiling writes into the schema it is given, which others read as it is.
    check: Callable[[Any], Any] = fastjsonschema.compile(copy.deepcopy(schema()))
    return check


def _whole_float(data: Any) -> bool:
    """True if a number like 2.0 is anywhere in `data`: fastjsonschema counts it as an
    integer, the calendar's schema does not (only jsonschema, told so, may answer)."""
    if isinstance(data, float):
        return data.is_integer()
    if isinstance(data, dict):
        return any(_whole_float(v) for v in data.values())
    if isinstance(data, list):
        return any(_whole_float(v) for v in data)
    return False
