"""Notice calendar edits: the kernel says when files change (inotify), we compare and call back.

Polling every file's size and time five times a second cost half a core at 2,000 files, to
see nothing. `watchfiles` (Rust, inotify on Linux) blocks in a thread until something under
the calendar's folders changes, so an idle daemon does no work; its events are only a hint:
what counts is the (file, content digest) snapshot, taken again after each batch of events and
compared with the last. A slow safety look every `SAFETY_S` seconds also catches what a file system
never reports (some network mounts). Where the kernel refuses more watches, or
`WATCHFILES_FORCE_POLLING` is set, watchfiles polls instead (in Rust, every `interval`); its
polling compares whole-second times, so a second write within the same second as the one
before is left to the safety look.

The only user of watchfiles.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from pathlib import Path

import watchfiles

from runner.calendar.files import SUFFIXES, find_calendar_files
from runner.errors import PushcalError

Snapshot = frozenset[tuple[str, str]]
SAFETY_S = 30.0  # seconds between looks that do not wait for an event


class Watcher:
    """`run(on_change)` calls back once per settled change of the calendar's files."""

    def __init__(self, paths: Sequence[str], *, interval: float = 1.0,
                 settle: float = 0.5, polling: bool | None = None,
                 safety: float = SAFETY_S) -> None:
        self.paths, self.interval, self.settle = list(paths), interval, settle
        self.safety = safety  # seconds between looks that wait for no event
        self.polling = polling  # None: inotify, unless WATCHFILES_FORCE_POLLING is set

    def snapshot(self) -> Snapshot:
        """(file, digest of its bytes) of every calendar file now; empty if none is found.

        By content, not by size and time: a deploy (rsync -t, a tar extract, a checkout in
        the same second) can keep both while changing what a post says."""
        try:
            found = find_calendar_files(self.paths)
        except PushcalError:
            return frozenset()
        items = set()
        for path, _ in found:
            try:
                # SHA-256: OpenSSL's is twice blake2b's speed here (80 MB in 0.04 s).
                digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
            except OSError:
                continue
            items.add((str(Path(path)), digest))
        return frozenset(items)

    async def run(self, on_change: Callable[[str], Awaitable[object]]) -> None:
        """Call `on_change("file change")` once per settled change, forever."""
        last = await asyncio.to_thread(self.snapshot)
        while True:
            roots = _roots(self.paths)
            if not roots:  # nothing to watch (yet): look every interval
                await asyncio.sleep(self.interval)
                last = await self._compare(last, on_change)
                continue
            try:
                async with contextlib.aclosing(self._events(roots)) as events:
                    async for _ in events:
                        last = await self._compare(last, on_change)
                        if _roots(self.paths) != roots:
                            break  # a folder was replaced: watch the new one
            except OSError:
                if self.polling:
                    raise
                self.polling = True  # e.g. the kernel's inotify watch limit: poll instead

    async def _compare(self, last: Snapshot, on_change: Callable[[str], Awaitable[object]]
                       ) -> Snapshot:
        now = await asyncio.to_thread(self.snapshot)
        if now != last:
            await on_change("file change")
        return now

    def _events(self, roots: Roots) -> AsyncGenerator[set[tuple[watchfiles.Change, str]], None]:
        """Batches of relevant changes, and an empty batch every `safety` s without any."""
        explicit = {os.path.abspath(p) for p in self.paths}

        def relevant(change: watchfiles.Change, path: str) -> bool:
            # A calendar file by its suffix or its name on the command line, or a folder.
            return (path.endswith(SUFFIXES) or os.path.abspath(path) in explicit
                    or os.path.isdir(path))

        return watchfiles.awatch(
            *(path for path, _ in roots), watch_filter=relevant,
            debounce=max(1, int(self.settle * 1000)), step=50,
            rust_timeout=max(1, int(self.safety * 1000)), yield_on_timeout=True,
            force_polling=self.polling, poll_delay_ms=max(1, int(self.interval * 1000)),
            recursive=any(os.path.isdir(p) for p in self.paths), ignore_permission_denied=True)


Roots = frozenset[tuple[str, int]]


def _roots(paths: Sequence[str]) -> Roots:
    """The folders to watch (a file's own folder: editors replace files by renaming), each
    with its inode, so a folder deleted and made again is noticed."""
    found = set()
    for path in paths:
        folder = path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))
        with contextlib.suppress(OSError):
            found.add((folder, os.stat(folder).st_ino))
    return frozenset(found)
