"""`pushcal diff [BASE [HEAD]] [PATH...]`: what a change does to the schedule.

Both sides load through one `Loader`, so a file unchanged between them is parsed and built
once; only entries that differ are expanded and rendered (see runner.review.changes).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from runner.calendar import Calendar, Loader, Source
from runner.calendar.shape import is_calendar
from runner.cli import output, reviewing
from runner.cli.context import Context
from runner.errors import InvalidCalendar, Problem
from runner.review import (
    GitError,
    Repo,
    Review,
    at_revision,
    compare,
    in_worktree,
    introduced,
    note,
    open_repo,
    upstream_base,
)
from runner.review.diffdata import as_json, github
from runner.review.diffview import markdown, text

DAYS = 90


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Print the review in the asked format; exit 1 when the head does not validate."""
    repo = open_repo(Path(args.directory))
    revisions, paths = split(repo, args.args)
    base = revisions[0] if revisions else upstream_base(repo)
    head = revisions[1] if len(revisions) > 1 else ""
    # No PATH: the calendar files of the whole repository, other tools' YAML left out.
    pick = _calendars if not paths else _everything
    paths = paths or ["."]
    loader = Loader([])
    old, old_problems = _load(loader, *pick(*at_revision(repo, base, paths)))
    new, new_problems = _load(loader, *pick(*(at_revision(repo, head, paths) if head else
                                              in_worktree(repo, paths))))
    if old is None and new is not None:
        print(f"pushcal: the calendar at {base[:12]} does not validate "
              f"({output.count(len(old_problems), 'problem')}): everything is shown as added",
              file=ctx.err)
    start, end = reviewing.window(args, new or old, ctx, DAYS)
    rows = reviewing.rows(args, ctx)
    if new is None:
        new_ones = introduced(old_problems, new_problems)
        # none new: show them all anyway, or the reader would not see why there is no diff
        review = Review(base, head, start, end, [], new_ones or new_problems, rows,
                        invalid=len(new_problems), older=not new_ones)
    else:
        changes = compare(old, new, start, end)
        notes = {c.key: n for c in changes
                 if (n := note(c, rows.get(c.key), ctx.clock())) is not None} if rows else {}
        review = Review(base, head, start, end, changes, (), rows, notes)
    _show(review, args, ctx)
    return 1 if new is None else 0


def split(repo: Repo, arguments: Sequence[str]) -> tuple[list[str], list[str]]:
    """Leading arguments that are not files here are revisions (at most two); the rest are
    calendar paths. A name that is both a file and a commit is taken as the file."""
    revisions: list[str] = []
    for argument in arguments[:2]:
        if (repo.cwd / argument).exists():
            break
        revisions.append(_commit(repo, argument))
    return revisions, list(arguments[len(revisions):])


def _calendars(sources: list[Source], problems: list[Problem]) -> tuple[list[Source], list[Problem]]:
    return [s for s in sources if is_calendar(s[1])], problems


def _everything(sources: list[Source], problems: list[Problem]) -> tuple[list[Source], list[Problem]]:
    return sources, problems


def _commit(repo: Repo, revision: str) -> str:
    found = repo.commit(revision)
    if found is None:
        raise GitError(f"'{revision}' is neither a file here nor a commit in this repository "
                       "(fetch it first, e.g. `git fetch origin`; after a force-push, name the "
                       "new base)")
    return found


def _load(loader: Loader, sources: list[Source],
          missing: list[Problem]) -> tuple[Calendar | None, list[Problem]]:
    try:
        return loader.load_sources(sources, missing), []
    except InvalidCalendar as error:
        return None, list(error.problems)


def _show(review: Review, args: argparse.Namespace, ctx: Context) -> None:
    if args.format == "json":
        ctx.out.write(as_json(review))
    elif args.format == "markdown":
        ctx.out.write(markdown(review))
    elif args.format == "github":
        ctx.out.write(github(review))
        summary = ctx.env.get("GITHUB_STEP_SUMMARY")
        if summary:
            with open(summary, "a", encoding="utf-8") as stream:
                stream.write(markdown(review))
    else:
        ctx.out.write(text(review, reviewing.colour(args, ctx)))
