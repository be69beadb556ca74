"""The command line: `pushcal COMMAND ...`; `main` is its one entry point."""

from runner.cli.context import Context
from runner.cli.main import main

__all__ = ["Context", "main"]
