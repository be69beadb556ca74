"""Line and column of a point in a calendar file, counted as libyaml counts them; tab checks.

Pure text work, apart from the YAML reader so that the reader holds only what needs libyaml.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator

from runner.errors import Problem

Position = tuple[int, int]
TABS = "tab characters are not allowed outside quoted strings"

# libyaml's own idea of a line break; used for every position we compute, so that ours
# agree with the ones libyaml reports for the same file.
_BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def place(before: str) -> Position:
    """Line and column just after `before`, the text preceding some point of the file."""
    line, start = 1, 0
    for match in _BREAKS.finditer(before):
        line, start = line + 1, match.end()
    return line, len(before) - start + 1


def byte_place(raw: bytes, offset: int) -> Position:
    """Line and column of a byte offset into UTF-8 text."""
    return place(raw[:offset].decode("utf-8", "replace"))


def _outside(spans: list[tuple[int, int]], offsets: Iterable[int]) -> Iterator[int]:
    starts = [start for start, _ in spans]
    for offset in offsets:
        inside = bisect.bisect_right(starts, offset) - 1
        if inside < 0 or offset >= spans[inside][1]:
            yield offset


def tab_problems(raw: bytes, file: str, until: int, quoted: list[tuple[int, int]]) -> list[Problem]:
    """A problem for the first tab outside the `quoted` byte spans on each line, up to byte
    `until`."""
    if b"\t" not in raw[: until + 1]:
        return []
    tabs = (match.start() for match in re.finditer(b"\t", raw[: until + 1]))
    problems: dict[int, Problem] = {}
    line, col, last = 1, 1, 0
    for offset in _outside(quoted, tabs):  # counted on from the last tab: linear time
        segment = raw[last:offset].decode("utf-8", "replace")
        breaks = list(_BREAKS.finditer(segment))
        col = len(segment) - breaks[-1].end() + 1 if breaks else col + len(segment)
        line, last = line + len(breaks), offset
        problems.setdefault(line, Problem(file, line, col, message=TABS, hint="indent with spaces"))
    return list(problems.values())
