"""Printing a calendar's problems in the format the command was asked for."""

from __future__ import annotations

from collections.abc import Sequence

from runner.cli import colour, output
from runner.cli.context import Context
from runner.errors import Problem


def print_problems(problems: Sequence[Problem], fmt: str, ctx: Context) -> None:
    """Problems on stdout (text, JSON or GitHub annotations); a count on stderr for text."""
    if fmt == "json":
        ctx.out.write(output.problems_json(problems))
    elif fmt == "github":
        ctx.out.write(output.problems_github(problems))
    else:
        paint = colour.painter(colour.wanted(ctx, ctx.out))
        ctx.out.write("".join(colour.problem_line(p.render(), paint) + "\n" for p in problems))
        files = len({p.file for p in problems})
        print(f"pushcal: {output.count(len(problems), 'problem')} in "
              f"{output.count(files, 'file')}", file=ctx.err)
