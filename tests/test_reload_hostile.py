"""Issue 9, class 5: reloads apply in order, by content, from settled files, through symlinks.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_pushcal
from daemon_kit import Rig, calendar, post, soon

from runner.calendar import Loader
from runner.daemon import Daemon
from runner.daemon.watch import Watcher
from runner.sandbox import Sandbox


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    with Sandbox() as sandbox:
        yield Rig(tmp_path, sandbox)


def test_overlapping_reloads_apply_in_order_the_newest_last(rig: Rig) -> None:
    at = soon(3600)
    rig.write(calendar([post("p", at, ["tw"], text="v0")]))
    final: list[str] = []

    async def race(daemon: Daemon) -> None:
        for n in range(1, 9):
            rig.write(calendar([post("p", at, ["tw"], text=f"v{n}a")]))
            first = asyncio.create_task(daemon.reload("SIGHUP"))
            await asyncio.sleep(0)
            rig.write(calendar([post("p", at, ["tw"], text=f"v{n}b")]))
            second = asyncio.create_task(daemon.reload("file change"))
            await asyncio.gather(first, second)
            final.append(str(daemon.calendar.entries["p"].fields["message"]))

    asyncio.run(rig.run(lambda: len(final) == 8, script=race, watch_interval=0.05))
    assert final == [f"[p] v{n}b" for n in range(1, 9)]


def test_a_deploy_that_keeps_sizes_and_times_is_seen(tmp_path: Path) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text(calendar([post("p", "2030-01-01 09:00", ["tw"], text="AAAA")]))
    before = os.stat(path)
    watcher = Watcher([str(path)])
    first = watcher.snapshot()
    path.write_text(calendar([post("p", "2030-01-01 09:00", ["tw"], text="BBBB")]))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(path).st_size == before.st_size
    assert watcher.snapshot() != first


def test_a_file_saved_in_place_is_read_only_once_it_is_whole(tmp_path: Path) -> None:
    path = tmp_path / "calendar.yaml"
    whole = calendar([post("p", "2030-01-01 09:00", ["page"], text="x" * 2000 + " END")])
    path.write_text(whole)
    loader = Loader([str(path)])
    loader.load()
    cut = whole.index("x" * 1000) + 1000
    half = whole[:cut] + '"}]}\n'  # valid on its own: a truncated message
    path.write_text(half)

    def finish_writing() -> None:
        time.sleep(0.3)
        path.write_text(whole)

    writer = threading.Thread(target=finish_writing)
    writer.start()
    try:
        cal = loader.load_settled(0.5)
    finally:
        writer.join()
    assert str(cal.entries["p"].fields["message"]).endswith(" END")


def test_a_symlinked_sub_folder_is_followed_and_a_loop_ends(tmp_path: Path) -> None:
    root, elsewhere = tmp_path / "cal", tmp_path / "shared"
    root.mkdir()
    elsewhere.mkdir()
    main = json.loads(calendar([post("a", "2030-01-01 09:00", ["tw"])]))
    (root / "main.yaml").write_text(json.dumps(main))
    (elsewhere / "more.yaml").write_text(json.dumps(
        {"version": 1, "timezone": "UTC", "posts": [post("b", "2030-01-02 09:00", ["tw"])]}))
    (root / "linked").symlink_to(elsewhere)
    (elsewhere / "loop").symlink_to(root)
    result = run_pushcal(["validate", str(root)])
    assert result.code == 0, result
    assert "2 entries" in result.out
