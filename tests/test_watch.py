"""The calendar watcher: the kernel's events (or watchfiles' polling) lead to one callback
per settled change. The safety look is set to an hour here, so only events can call back."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from runner.daemon.watch import Watcher

HOUR = 3600.0
CAL = "version: 1\ntimezone: UTC\n"


async def _noticed(watcher: Watcher, edit: Callable[[], None], *, count: int = 1,
                   bound: float = 20.0) -> list[str]:
    """Run the watcher, make the edit once it watches, and return the callbacks seen until
    `count` arrived (or `bound` seconds passed: only a broken watcher gets there)."""
    seen: list[str] = []

    async def on_change(reason: str) -> None:
        seen.append(reason)

    task = asyncio.create_task(watcher.run(on_change))
    await asyncio.sleep(0.5)  # the first snapshot and the kernel's watch are in place
    edit()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + bound
    while len(seen) < count and loop.time() < deadline:
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.3)  # anything more than asked for would show up now
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    return seen


def _run(coroutine: Awaitable[list[str]]) -> list[str]:
    async def main() -> list[str]:
        return await coroutine
    return asyncio.run(main())


@pytest.mark.parametrize("polling", [False, True], ids=["inotify", "polling"])
def test_an_edit_in_a_calendar_folder_is_noticed_once(tmp_path: Path, polling: bool) -> None:
    (tmp_path / "a.yaml").write_text(CAL)
    # Written a while ago: watchfiles' polling compares whole-second times.
    os.utime(tmp_path / "a.yaml", (time.time() - 10, time.time() - 10))
    watcher = Watcher([str(tmp_path)], interval=0.1, settle=0.1, polling=polling, safety=HOUR)

    def edit() -> None:
        (tmp_path / "a.yaml").write_text(CAL + "# edited\n")

    assert _run(_noticed(watcher, edit)) == ["file change"]


def test_a_file_replaced_by_rename_is_noticed(tmp_path: Path) -> None:
    calendar = tmp_path / "calendar.yaml"
    calendar.write_text(CAL)
    watcher = Watcher([str(calendar)], interval=0.1, settle=0.1, safety=HOUR)

    def edit() -> None:  # as editors and `git checkout` do
        draft = tmp_path / ".calendar.yaml.swp"
        draft.write_text(CAL + "# saved\n")
        draft.replace(calendar)

    assert _run(_noticed(watcher, edit)) == ["file change"]


def test_other_files_in_the_folder_call_nothing_back(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(CAL)
    watcher = Watcher([str(tmp_path)], interval=0.1, settle=0.1, safety=HOUR)

    def edit() -> None:
        (tmp_path / "notes.txt").write_text("not a calendar")

    assert _run(_noticed(watcher, edit, bound=1.0)) == []


def test_a_calendar_folder_deleted_and_made_again_is_still_watched(tmp_path: Path) -> None:
    folder = tmp_path / "calendar"
    folder.mkdir()
    (folder / "a.yaml").write_text(CAL)
    watcher = Watcher([str(folder)], interval=0.1, settle=0.1, safety=HOUR)

    def edit() -> None:
        shutil.rmtree(folder)
        folder.mkdir()
        (folder / "a.yaml").write_text(CAL + "# new\n")

    assert _run(_noticed(watcher, edit))[:1] == ["file change"]
