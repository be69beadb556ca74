"""Notice calendar edits: poll the files' sizes and times, debounce, then call back.

Polling a few dozen `stat` calls a second costs nothing and needs no extra dependency;
it also sees files added to or removed from a calendar directory.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from runner.calendar.files import find_calendar_files
from runner.errors import PushcalError

Snapshot = frozenset[tuple[str, int, int]]


class Watcher:
    def __init__(self, paths: Sequence[str], *, interval: float = 1.0,
                 settle: float = 0.5) -> None:
        self.paths, self.interval, self.settle = list(paths), interval, settle

    def snapshot(self) -> Snapshot:
        """(file, mtime_ns, size) of every calendar file now; empty if none can be found."""
        try:
            found = find_calendar_files(self.paths)
        except PushcalError:
            return frozenset()
        items = set()
        for path, _ in found:
            try:
                info = os.stat(path)
            except OSError:
                continue
            items.add((str(Path(path)), info.st_mtime_ns, info.st_size))
        return frozenset(items)

    async def run(self, on_change: Callable[[str], Awaitable[object]]) -> None:
        """Call `on_change("file change")` once per settled change, forever."""
        last = await asyncio.to_thread(self.snapshot)
        while True:
            await asyncio.sleep(self.interval)
            now = await asyncio.to_thread(self.snapshot)
            if now == last:
                continue
            while True:  # wait until the editor or `git checkout` has finished writing
                await asyncio.sleep(self.settle)
                settled = await asyncio.to_thread(self.snapshot)
                if settled == now:
                    break
                now = settled
            last = now
            await on_change("file change")
