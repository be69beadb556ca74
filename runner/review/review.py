"""A review: the changes between two revisions of a calendar in a window, with the ledger's
word on each when asked, and the validation problems the change brings. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from runner.errors import Problem
from runner.ledger.contract import Row
from runner.review.changes import Change, counts
from runner.review.schedule import SlotKey


@dataclass(frozen=True)
class Review:
    """What `pushcal diff` found: every view (text, markdown, JSON, GitHub) renders this."""

    base: str  # the base commit
    head: str  # the head commit, or "" for the working tree
    start: datetime
    end: datetime
    changes: Sequence[Change]
    problems: Sequence[Problem] = ()  # the head's problems that the base had not (see `older`)
    rows: Mapping[SlotKey, Row] | None = None  # the ledger's rows, with --state
    notes: Mapping[SlotKey, str] = field(default_factory=dict)
    invalid: int = 0  # how many problems the head has, when it does not validate
    older: bool = False  # `problems` are all the head's, none new: the base has them too

    @property
    def head_name(self) -> str:
        return self.head[:12] if self.head else "the working tree"

    def summary(self) -> str:
        """One line: how many deliveries change, how, between what, in which window."""
        tally = counts(self.changes)
        between = f"between {self.base[:12]} and {self.head_name}, {self.start:%Y-%m-%d} to " \
                  f"{self.end:%Y-%m-%d}"
        if self.invalid:
            return (f"{self.head_name} does not validate ({_count(self.invalid, 'problem')}, "
                    f"{0 if self.older else len(self.problems)} new): there is no schedule to "
                    f"compare {between}")
        problems = f"; {_count(len(self.problems), 'new validation problem')}" if self.problems else ""
        if not self.changes:
            return f"no change to the schedule {between}{problems}"
        kinds = ", ".join(f"{n} {what}" for what, n in tally.items())
        return (f"{_count(len(self.changes), 'delivery', 'deliveries')} changed ({kinds}) "
                f"{between}{problems}")

    def by_day(self) -> list[tuple[date, list[Change]]]:
        """The changes grouped by local day (the new time's, else the old one's), in order."""
        days: dict[date, list[Change]] = {}
        for change in self.changes:
            days.setdefault(change.when.date(), []).append(change)
        return sorted(days.items())


def introduced(before: Sequence[Problem], after: Sequence[Problem]) -> list[Problem]:
    """The problems of `after` that `before` did not have; lines may shift, so a problem is
    the same when its file, JSON path and message are."""
    seen = {(p.file, p.path, p.message) for p in before}
    return [p for p in after if (p.file, p.path, p.message) not in seen]


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"
