"""A word-level diff of two texts, as segments each view marks up its own way. Pure."""

from __future__ import annotations

import difflib
import re
from typing import Literal

Segment = tuple[Literal["=", "-", "+"], str]
# Words, runs of space, and runs of punctuation apart: "live!" -> "live now!" adds one word.
_TOKENS = re.compile(r"\w+|\s+|[^\w\s]+")


def word_diff(old: str, new: str) -> list[Segment]:
    """Segments that rebuild `old` from the "=" and "-" parts and `new` from "=" and "+"."""
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    found: list[Segment] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            _add(found, "=", "".join(a[i1:i2]))
            continue
        _add(found, "-", "".join(a[i1:i2]))
        _add(found, "+", "".join(b[j1:j2]))
    return found


def _add(found: list[Segment], mark: Literal["=", "-", "+"], text: str) -> None:
    if not text:
        return
    if found and found[-1][0] == mark:
        found[-1] = (mark, found[-1][1] + text)
    else:
        found.append((mark, text))
