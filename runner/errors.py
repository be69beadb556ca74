"""The user-facing error base class and the `Problem` record.

Two kinds of failure exist in pushcal: expected ones that the user can fix (a bad
calendar, missing credentials, a refused request), which derive from `PushcalError`
and print a clean message with exit code 1, and everything else, which is a bug.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a calendar, pointing at the place to fix it.

    `line` and `col` are 1-based; 0 means the problem has no narrower place than the file.
    `path` is the JSON path of the value (`$.posts[0].at`), empty when there is none.
    """

    file: str
    line: int = 0
    col: int = 0
    path: str = ""
    message: str = ""
    hint: str = ""

    def render(self) -> str:
        """`file:line:col: $.path: message (hint)`, the one-line form used everywhere."""
        place = self.file
        if self.line:
            place += f":{self.line}:{self.col}"
        text = f"{place}: {self.path}: {self.message}" if self.path else f"{place}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text


class PushcalError(Exception):
    """An expected failure: the user can act on its message; exit code 1."""


class InvalidCalendar(PushcalError):
    """The calendar has problems; all of them are carried, sorted by place."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(set(problems))
        count = len(self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the calendar")
