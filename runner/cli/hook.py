"""`pushcal validate --hook [--calendar DIR]... FILE...`: the pre-commit hook's check.

pre-commit hands over the staged YAML files, of the calendar or of anything else. A file
under a `--calendar` directory is part of that calendar: the whole directory is validated
(its files refer to each other's accounts and media), and a file there that is not a
calendar is an error, because `pushcal run` loads every *.yaml under the directory. Any
other file is checked on its own when it is a calendar, and skipped with a note when not.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from runner.calendar import check, read_sources
from runner.calendar.shape import NOT_A_CALENDAR, is_calendar, why_not
from runner.cli import output
from runner.cli.context import Context
from runner.errors import InvalidCalendar, Problem


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Validate what the given files belong to; raise InvalidCalendar with every problem."""
    roots = [Path(c) for c in args.calendar or ()]
    owned: dict[Path, list[str]] = {}
    alone: list[str] = []
    for name in args.paths:
        owner = next((r for r in roots if _under(Path(name), r)), None)
        if owner is None:
            alone.append(name)
        else:
            owned.setdefault(owner, []).append(name)
    problems: list[Problem] = []
    checked = skipped = 0
    for root, names in owned.items():
        strangers: dict[str, str] = {}
        for name in names:
            raw = _raw(name, problems)
            if raw is not None and not is_calendar(raw):
                strangers[name] = why_not(raw)
        problems += [Problem(name, 1, 1, message=f"{NOT_A_CALENDAR} ({why}), but it is inside the "
                             f"calendar directory {root}, where every *.yaml and *.yml is loaded",
                             hint=f"move it out of {root}, or make it a calendar file")
                     for name, why in sorted(strangers.items())]
        problems += [p for p in _check([str(root)]) if p.file not in strangers]
        checked += len(names)
    for name in alone:
        raw = _raw(name, problems)
        if raw is not None and not is_calendar(raw):
            print(f"{name}: {NOT_A_CALENDAR} ({why_not(raw)}); skipped", file=ctx.err)
            skipped += 1
        elif raw is not None:
            problems += _check([name])
            checked += 1
    if problems:
        raise InvalidCalendar(problems)
    if args.format == "json":
        ctx.out.write("[]\n")
    elif args.format == "text":
        print(f"ok: {output.count(checked, 'calendar file')} checked, "
              f"{output.count(skipped, 'other YAML file')} skipped", file=ctx.out)
    return 0


def _under(path: Path, root: Path) -> bool:
    path, root = path.resolve(), root.resolve()
    return path == root or root in path.parents


def _raw(name: str, problems: list[Problem]) -> bytes | None:
    sources, missing = read_sources([name])
    problems += missing
    return sources[0][1] if sources else None


def _check(paths: list[str]) -> list[Problem]:
    try:
        check(paths)
    except InvalidCalendar as error:
        return list(error.problems)
    return []
