"""`pushcal schema`: print the calendar's JSON Schema, for editors and other checkers."""

from __future__ import annotations

import argparse
from importlib import resources

from runner.cli.context import Context


def run(args: argparse.Namespace, ctx: Context) -> int:
    """The schema pushcal itself validates with, byte for byte."""
    ctx.out.write(resources.files("runner.calendar").joinpath("calendar.schema.json").read_text("utf-8"))
    return 0
