"""Help that teaches: every command and option described, defaults shown, examples given."""

from __future__ import annotations

import argparse

import pytest
from conftest import RunPushcal

from runner.cli import parser as arguments

PARSER = arguments.build()
COMMANDS = {name: arguments.subcommand(PARSER, name) for name in arguments.MODULES}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_option_is_described(name: str) -> None:
    command = COMMANDS[name]
    assert command.description, name
    missing = [a.dest for a in command._actions
               if not isinstance(a, argparse._HelpAction) and not a.help]
    assert missing == [], f"{name}: {missing}"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_examples(pushcal: RunPushcal, name: str) -> None:
    run = pushcal([name, "--help"])
    assert run.code == 0, run
    examples = run.out.split("examples:\n")[1].splitlines()
    assert 2 <= len(examples) <= 4 and all(e.startswith("  pushcal ") for e in examples), run


def test_defaults_are_shown(pushcal: RunPushcal) -> None:
    out = pushcal(["run", "--help"]).out
    assert "(default: 36000.0)" in out and "(default: 48.0)" in out and "(default: 30.0)" in out
