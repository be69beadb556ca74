"""The review room: a calendar seen as a schedule, for people reviewing and planning it.

Reading a calendar at a git revision (never touching the working tree or index), comparing
two schedules per (occurrence, account), and the views: diff text, Markdown, JSON and GitHub
notices, agenda lines, an HTML calendar, an ICS feed. Pure but for running git; it reads
ledger rows it is given and never writes one.
"""

from runner.review.changes import Change, What, compare, counts
from runner.review.notes import note
from runner.review.review import Review, introduced
from runner.review.revision import GitError, Repo, at_revision, in_worktree, open_repo, upstream_base
from runner.review.schedule import Slot, SlotKey, first_line, slots

__all__ = [
    "Change", "GitError", "Repo", "Review", "Slot", "SlotKey", "What", "at_revision", "compare",
    "counts", "first_line", "in_worktree", "introduced", "note", "open_repo", "slots",
    "upstream_base",
]
