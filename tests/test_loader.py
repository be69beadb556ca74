"""The daemon's Loader reuses unchanged files between reloads, yet always answers exactly
as a fresh load of the same files would."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from runner.calendar import Loader, load
from runner.errors import InvalidCalendar

ACCOUNTS = """version: 1
timezone: Europe/Berlin
accounts:
  x: {provider: twitter, identity: 1b0e3c7a-55f1-4d0e-9d55-0c1f7f2e8a11}
"""
POSTS = """version: 1
timezone: Europe/Berlin
posts:
  - {id: a, at: "2027-01-04 09:00", to: [x], message: "first"}
  - {id: b, at: "2027-01-05 09:00", to: [x], message: "second",
     repeat: {every: day, count: 3}}
"""


def _write(folder: Path, accounts: str = ACCOUNTS, posts: str = POSTS) -> None:
    (folder / "accounts.yaml").write_text(accounts, encoding="utf-8")
    (folder / "posts.yaml").write_text(posts, encoding="utf-8")


def _same_as_fresh(loader: Loader, folder: Path) -> None:
    again, fresh = loader.load(), load([str(folder)])
    assert again.digest == fresh.digest
    assert again.entries == fresh.entries
    assert again.accounts == fresh.accounts


OTHER = ('version: 1\ntimezone: UTC\nposts:\n  - {id: c, at: "2027-02-01 10:00", to: [x], '
         'message: "more"}\n')


def test_an_edit_is_seen_and_a_revert_is_seen(tmp_path: Path) -> None:
    _write(tmp_path)
    (tmp_path / "other.yaml").write_text(OTHER, encoding="utf-8")
    loader = Loader([str(tmp_path)])
    first = loader.load()
    _write(tmp_path, posts=POSTS.replace('"first"', '"first, edited"'))
    edited = loader.load()
    assert edited.entries["a"].fields["message"] == "first, edited"
    # another file: its record is reused, not rebuilt
    assert edited.entries.summary("c") is first.entries.summary("c")
    _same_as_fresh(loader, tmp_path)
    _write(tmp_path)
    assert loader.load().digest == first.digest


def test_a_change_of_account_rechecks_the_rules_of_unchanged_files(tmp_path: Path) -> None:
    _write(tmp_path)
    loader = Loader([str(tmp_path)])
    loader.load()
    _write(tmp_path, accounts=ACCOUNTS.replace("provider: twitter", "provider: pinterest"))
    with pytest.raises(InvalidCalendar) as cached:
        loader.load()
    with pytest.raises(InvalidCalendar) as fresh:
        load([str(tmp_path)])
    assert cached.value.problems == fresh.value.problems
    assert any("pinterest account, which takes no posts" in p.message
               for p in cached.value.problems)


def test_a_broken_file_is_reported_and_its_fix_is_seen(tmp_path: Path) -> None:
    _write(tmp_path)
    loader = Loader([str(tmp_path)])
    loader.load()
    _write(tmp_path, posts=POSTS.replace("message:", "mesage:", 1))
    with pytest.raises(InvalidCalendar) as caught:
        loader.load()
    assert [p.message for p in caught.value.problems] == ["unknown key 'mesage'"]
    _write(tmp_path)
    _same_as_fresh(loader, tmp_path)


def test_a_new_file_and_a_removed_file_are_seen(tmp_path: Path) -> None:
    _write(tmp_path)
    loader = Loader([str(tmp_path)])
    loader.load()
    (tmp_path / "more.yaml").write_text(OTHER, encoding="utf-8")
    assert set(loader.load().entries) == {"a", "b", "c"}
    (tmp_path / "more.yaml").unlink()
    assert set(loader.load().entries) == {"a", "b"}
    _same_as_fresh(loader, tmp_path)


def _many_posts(count: int) -> str:
    lines = [f'  - {{id: p{i}, at: "2027-03-01 09:00", to: [x], message: "post {i}"}}'
             for i in range(count)]
    return "version: 1\ntimezone: Europe/Berlin\nposts:\n" + "\n".join(lines) + "\n"


def test_loading_runs_no_cyclic_collection_and_leaves_the_collector_as_it_was(
        tmp_path: Path) -> None:
    """Thousands of entries allocate far past the collector's thresholds; every object they
    make lives on, so a collection during the load is pure cost (BENCHMARKS.md 9.4).
    Without the pause this load runs 151 collections."""
    _write(tmp_path, posts=_many_posts(3_000))
    collections: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    gc.callbacks.append(count)
    try:
        cal = load([str(tmp_path)])
    finally:
        gc.callbacks.remove(count)
    assert len(cal.entries) == 3_000
    assert len(collections) <= 1  # the young generation's, once the collector resumes
    assert gc.isenabled()
    (tmp_path / "posts.yaml").write_text("version: 1\nposts: [{id: 7}]\n", encoding="utf-8")
    with pytest.raises(InvalidCalendar):
        load([str(tmp_path)])
    assert gc.isenabled()


def test_entries_share_one_copy_of_each_account_name(tmp_path: Path) -> None:
    _write(tmp_path, posts=_many_posts(3))
    first, *rest = load([str(tmp_path)]).entries.values()
    assert all(entry.to[0] is first.to[0] for entry in rest)
