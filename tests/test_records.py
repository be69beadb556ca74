"""Records of checked files: a calendar read from them is exactly the calendar a fresh build
of the same files gives, and every problem is the one a fresh build reports, at its place."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runner.calendar import Calendar, Entry, Kind, Loader, Repeat, check, expand
from runner.calendar.packing import pack, unpack
from runner.calendar.records import FileRecord, Store
from runner.calendar.table import Entries
from runner.cli.context import Context
from runner.daemon.horizon import changed_entries
from runner.errors import InvalidCalendar

CASES = Path(__file__).resolve().parent / "cases"
BASES = [CASES / "valid" / "minimal.yaml", CASES / "valid" / "facebook.yaml"]


class CountingStore(Store):
    """A real store that also says which lookups it answered."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.hits: list[str] = []
        self.misses: list[str] = []

    def get(self, name: str, sha: str) -> FileRecord | None:
        found = super().get(name, sha)
        (self.hits if found is not None else self.misses).append(Path(name).name)
        return found


def _copy(case: Path, folder: Path) -> None:
    if case.is_dir():
        for part in sorted(case.iterdir()):
            shutil.copy(part, folder / f"case-{part.name}")
    else:
        shutil.copy(case, folder / "case.yaml")


def _same(one: Calendar, other: Calendar) -> None:
    assert one.digest == other.digest
    assert one.files == other.files
    assert one.tz == other.tz
    assert one.accounts == other.accounts and list(one.accounts) == list(other.accounts)
    assert one.media == other.media
    assert list(one.entries) == list(other.entries)  # file order kept
    assert one.entries == other.entries
    assert [one.entries.summary(i) for i in one.entries] == \
        [other.entries.summary(i) for i in other.entries]


def _outcome(paths: list[str], store: Store | None) -> Calendar | list[object]:
    """What a Loader with `store` says; with none, what a check from scratch says (`check`:
    no records at all, the calendar built whole)."""
    try:
        return Loader(paths, store).load() if store is not None else check(paths)
    except InvalidCalendar as error:
        return list(error.problems)


def _cases() -> list[Path]:
    invalid = sorted(p for p in (CASES / "invalid").iterdir() if p.suffix == ".yaml" or p.is_dir())
    return sorted((CASES / "valid").glob("*.yaml")) + invalid


@pytest.mark.parametrize("base", BASES, ids=lambda p: p.stem)
def test_every_case_beside_a_recorded_file_answers_as_a_fresh_build(tmp_path: Path,
                                                                     base: Path) -> None:
    """Each corpus case (valid or not) is added beside a file whose record is on disk: the
    outcome, calendar or problems with their places, is the fresh build's."""
    checked = 0
    for index, case in enumerate(_cases()):
        folder = tmp_path / f"c{index}"
        folder.mkdir()
        shutil.copy(base, folder / "base.yaml")
        store = CountingStore(tmp_path / f"store{index}")
        assert isinstance(_outcome([str(folder)], store), Calendar)  # records base.yaml
        _copy(case, folder)
        second = CountingStore(store.directory)
        outcome, fresh = _outcome([str(folder)], second), _outcome([str(folder)], None)
        assert second.hits == ["base.yaml"], case
        if isinstance(fresh, Calendar):
            assert isinstance(outcome, Calendar), (case, outcome)
            _same(outcome, fresh)
        else:
            assert outcome == fresh, case
        checked += 1
    assert checked == len(_cases()) > 100


def test_a_calendar_read_from_records_is_the_built_one_and_parses_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "cal"
    folder.mkdir()
    for case in ("facebook.yaml", "minimal.yaml"):
        shutil.copy(CASES / "valid" / case, folder / case)
    (folder / "more.yaml").write_text(
        'version: 1\ntimezone: America/New_York\nposts:\n  - {id: m, at: "2027-03-08 02:30", '
        'to: [fb-page], message: "hi", repeat: {every: week, count: 5}}\n', encoding="utf-8")
    store = CountingStore(tmp_path / "store")
    cold = Loader([str(folder)], store).load()
    assert store.hits == [] and len(store.misses) == 3
    warm_store = CountingStore(store.directory)
    warm = Loader([str(folder)], warm_store).load()
    assert sorted(warm_store.hits) == sorted(p.name for p in folder.iterdir())
    _same(warm, cold)
    _same(warm, check([str(folder)]))


def test_an_account_change_rechecks_recorded_entries_and_reports_them_at_their_place(
        tmp_path: Path) -> None:
    """The posts' file is recorded; its account turns into a Pinterest one in another file.
    The posts now break a rule, reported at the line of the recorded file, as fresh."""
    (tmp_path / "accounts.yaml").write_text(
        "version: 1\naccounts:\n  x: {provider: twitter, identity: 1b0e3c7a-55f1-4d0e-9d55-0c1f7f2e8a11}\n",
        encoding="utf-8")
    (tmp_path / "posts.yaml").write_text(
        'version: 1\ntimezone: UTC\nposts:\n  - {id: a, at: "2027-01-04 09:00", to: [x], '
        'message: "hi"}\n', encoding="utf-8")
    store = Store(tmp_path / "store")
    Loader([str(tmp_path)], store).load()
    (tmp_path / "accounts.yaml").write_text((tmp_path / "accounts.yaml").read_text().replace(
        "provider: twitter", "provider: pinterest, board: '1'"), encoding="utf-8")
    second = CountingStore(store.directory)
    with pytest.raises(InvalidCalendar) as recorded:
        Loader([str(tmp_path)], second).load()
    with pytest.raises(InvalidCalendar) as fresh:
        check([str(tmp_path)])
    assert "posts.yaml" in second.hits
    assert recorded.value.problems == fresh.value.problems
    assert any(p.file.endswith("posts.yaml") and p.line == 4 for p in recorded.value.problems)


def test_a_duplicate_id_between_recorded_files_names_both_places(tmp_path: Path) -> None:
    """Two files each valid on its own, recorded in different calendars, then together."""
    post = 'version: 1\ntimezone: UTC\naccounts:\n  {name}: {{provider: twitter, identity: ' \
           '1b0e3c7a-55f1-4d0e-9d55-0c1f7f2e8a11}}\nposts:\n\n  - {{id: same, at: "2027-01-04 ' \
           '09:00", to: [{name}], message: "hi"}}\n'
    store = Store(tmp_path / "store")
    for name in ("a", "b"):
        alone = tmp_path / name
        alone.mkdir()
        (alone / f"{name}.yaml").write_text(post.format(name=name), encoding="utf-8")
        Loader([str(alone)], store).load()
    both = [str(tmp_path / "a" / "a.yaml"), str(tmp_path / "b" / "b.yaml")]
    with pytest.raises(InvalidCalendar) as recorded:
        Loader(both, store).load()
    with pytest.raises(InvalidCalendar) as fresh:
        check(both)
    assert recorded.value.problems == fresh.value.problems
    assert any("also at " in p.hint and ":7:" in p.hint for p in recorded.value.problems)


def _one_file(tmp_path: Path) -> tuple[Path, Store]:
    folder = tmp_path / "cal"
    folder.mkdir(exist_ok=True)
    shutil.copy(CASES / "valid" / "facebook.yaml", folder / "facebook.yaml")
    store = Store(tmp_path / "store")
    Loader([str(folder)], store).load()
    return folder, store


def _hits(folder: Path, store: Store) -> list[str]:
    counting = CountingStore(store.directory)
    _same(Loader([str(folder)], counting).load(), check([str(folder)]))
    return counting.hits


def test_records_are_kept_private_and_read_only_from_a_private_directory(tmp_path: Path) -> None:
    folder, store = _one_file(tmp_path)
    for path in (store.directory, store.here):
        assert os.stat(path).st_mode & 0o777 == 0o700
    assert _hits(folder, store) == ["facebook.yaml"]
    os.chmod(store.directory, 0o777)  # anyone could now plant a record
    assert _hits(folder, store) == []
    os.chmod(store.directory, 0o700)
    os.chmod(store.here, 0o770)
    assert _hits(folder, store) == []


def test_a_damaged_or_foreign_record_is_a_missing_one(tmp_path: Path) -> None:
    folder, store = _one_file(tmp_path)
    (record,) = store.here.glob("*.record")
    held = record.read_bytes()
    record.write_bytes(held[: len(held) // 2])
    assert _hits(folder, store) == []
    assert _hits(folder, store) == ["facebook.yaml"]  # written again, whole
    record.write_bytes(b"not a pickle at all")
    assert _hits(folder, store) == []


def test_a_record_built_with_other_zone_rules_is_not_used(tmp_path: Path) -> None:
    folder, store = _one_file(tmp_path)
    name = str(folder / "facebook.yaml")
    sha = hashlib.sha256((folder / "facebook.yaml").read_bytes()).hexdigest()
    record = store.get(name, sha)
    assert record is not None and dict(record.zones) == {
        "Europe/Berlin": dict(record.zones)["Europe/Berlin"]}
    store.put(replace(record, zones=(("Europe/Berlin", "rules of another tzdata"),)))
    assert store.get(name, sha) is None


def test_records_of_another_version_are_removed_and_nothing_else(tmp_path: Path) -> None:
    cache = tmp_path / "store"
    cache.mkdir(mode=0o700)
    (cache / ("ab" * 12)).mkdir()  # as an older pushcal names its directory
    (cache / "notes").mkdir()  # not ours to remove
    _one_file(tmp_path)
    assert sorted(p.name for p in cache.iterdir()) == sorted(["notes", Store(cache).here.name])


def test_an_edit_replaces_the_files_record_on_disk(tmp_path: Path) -> None:
    folder, store = _one_file(tmp_path)
    loader = Loader([str(folder)], store)
    loader.load()
    path = folder / "facebook.yaml"
    path.write_text(path.read_text().replace("Open from 8 today.", "Open from 9 today."))
    assert loader.load().entries["text-only"].fields["message"] == "Open from 9 today."
    assert len(list(store.here.glob("*.record"))) == 1


# -- the span index ---------------------------------------------------------------------------

ZONES = [ZoneInfo(n) for n in ("UTC", "Pacific/Kiritimati", "Etc/GMT+12", "Pacific/Apia",
                               "America/Santiago", "Europe/Berlin")]


@st.composite
def _entries(draw: st.DrawFn, index: int) -> Entry:
    start = draw(st.datetimes(datetime(2011, 12, 25), datetime(2028, 1, 1))).replace(
        second=0, microsecond=0)
    end = draw(st.sampled_from(["once", "until", "count", "forever"]))
    repeat = None if end == "once" else Repeat(
        draw(st.sampled_from(["day", "week", "month"])), draw(st.integers(1, 3)),
        until=start + draw(st.timedeltas(timedelta(0), timedelta(days=90))) if end == "until" else None,
        count=draw(st.integers(1, 30)) if end == "count" else None)
    return Entry(id=f"e{index}", kind=Kind.POST, file="p.yaml", line=1,
                 tz=draw(st.sampled_from(ZONES)), start=start, to=("x",),
                 fields={"message": "m"}, repeat=repeat)


@st.composite
def _cases_near(draw: st.DrawFn) -> tuple[tuple[Entry, ...], datetime, datetime]:
    """Entries, and a window near the start or the end of one of them (where spans cut)."""
    entries = tuple(draw(_entries(i)) for i in range(draw(st.integers(1, 4))))
    chosen = draw(st.sampled_from(entries))
    anchor = chosen.start
    if chosen.repeat is not None and chosen.repeat.until is not None and draw(st.booleans()):
        anchor = chosen.repeat.until
    start = anchor.replace(tzinfo=UTC) + draw(st.timedeltas(timedelta(days=-3), timedelta(days=3)))
    return entries, start, start + draw(st.timedeltas(timedelta(0), timedelta(days=4)))


@settings(deadline=None, max_examples=400)
@given(_cases_near())
def test_the_span_index_never_hides_an_occurrence(
        case: tuple[tuple[Entry, ...], datetime, datetime]) -> None:
    entries, start, end = case
    cal = Calendar({}, {}, Entries.of(entries), digest="test")
    assert expand(cal, start, end) == expand(cal, start, end, entries=iter(entries))


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Etc/GMT+12"])
def test_an_occurrence_far_from_its_wall_time_in_utc_is_found(zone: str) -> None:
    """+14 h and -12 h: the due instant is most of a day away from the wall time's digits."""
    one_off = Entry(id="o", kind=Kind.POST, file="p.yaml", line=1, tz=ZoneInfo(zone),
                    start=datetime(2027, 5, 1, 10, 0), to=("x",), fields={"message": "m"})
    due = datetime(2027, 5, 1, 10, 0, tzinfo=ZoneInfo(zone)).astimezone(UTC)
    cal = Calendar({}, {}, Entries.of([one_off]), digest="test")
    assert [o.due for o in expand(cal, due, due + timedelta(seconds=1))] == [due]


# -- packing --------------------------------------------------------------------------------

def _exactly(entry: Entry, back: Entry) -> None:
    assert back == entry
    assert type(back.tz) is type(entry.tz) and back.tz.utcoffset(entry.start) == \
        entry.tz.utcoffset(entry.start)
    assert back.start.fold == entry.start.fold  # equality ignores fold, the instant does not
    assert repr(back.fields) == repr(entry.fields) and repr(back.overrides) == repr(entry.overrides)
    if entry.repeat is not None:
        assert back.repeat is not None
        assert back.repeat == entry.repeat
        assert sorted((t, t.fold) for t in back.repeat.skip_times) == \
            sorted((t, t.fold) for t in entry.repeat.skip_times)
        assert repr(back.repeat.until) == repr(entry.repeat.until)
        assert repr(back.repeat.until_instant) == repr(entry.repeat.until_instant)


def test_every_corpus_entry_packs_and_unpacks_exactly() -> None:
    seen = 0
    for case in sorted((CASES / "valid").glob("*.yaml")):
        for entry in check([str(case)]).entries.values():
            _exactly(entry, unpack(pack(entry), entry.id, entry.file))
            seen += 1
    assert seen > 50


@settings(deadline=None, max_examples=200)
@given(st.datetimes(datetime(1970, 1, 2), datetime(9998, 1, 1)).map(
           lambda d: d.replace(fold=1) if d.minute % 2 else d),
       st.sampled_from([ZoneInfo("Europe/Berlin"), timezone(timedelta(hours=-3, minutes=-30)),
                        timezone(timedelta(0))]),
       st.booleans(), st.frozensets(st.dates(date(2026, 1, 1), date(2027, 1, 1)), max_size=3),
       st.dictionaries(st.sampled_from(["message", "title", "privacy", "n"]),
                       st.one_of(st.text(), st.integers(), st.floats(allow_nan=False), st.none(),
                                 st.tuples(st.text()), st.booleans()), max_size=4))
def test_any_entry_packs_and_unpacks_exactly(start: datetime, tz: tzinfo, with_until: bool,
                                             skip_days: frozenset[date],
                                             fields: dict[str, object]) -> None:
    until = start + timedelta(days=30)
    repeat = Repeat("week", 2, (0, 3), until if with_until else None,
                    None if with_until else 4, skip_days, frozenset({start.replace(fold=1)}),
                    until.replace(tzinfo=timezone(timedelta(hours=2))) if with_until else None)
    entry = Entry(id="e", kind=Kind.PIN, file="f.yaml", line=7, tz=tz, start=start,
                  to=("a", "b"), fields=fields, overrides={"a": {"message": "x"}},
                  repeat=repeat, grace=timedelta(minutes=20, microseconds=5), enabled=False,
                  digest="0123456789abcdef")
    _exactly(entry, unpack(pack(entry), "e", "f.yaml"))


class EditingStore(Store):
    """A real store; once it has answered for `posts`, that file is saved anew (as if by an
    editor at that moment)."""

    def __init__(self, directory: Path, posts: Path, edit: tuple[str, str]) -> None:
        super().__init__(directory)
        self.posts, self.edit, self.edits = posts, edit, 0

    def get(self, name: str, sha: str) -> FileRecord | None:
        found = super().get(name, sha)
        if found is not None and name == str(self.posts) and self.edits == 0:
            self.edits += 1
            self.posts.write_text(self.posts.read_text().replace(*self.edit), encoding="utf-8")
        return found


def test_a_recorded_file_saved_again_mid_load_is_recorded_under_the_bytes_checked(
        tmp_path: Path) -> None:
    """The account turns Pinterest, so the recorded posts must be parsed again for their
    problems' places; meanwhile the posts were fixed to go to a new Twitter account. What is
    checked is the fixed file, and it is recorded and hashed as the fixed file."""
    accounts, posts = tmp_path / "accounts.yaml", tmp_path / "posts.yaml"
    accounts.write_text("version: 1\naccounts:\n  x: {provider: twitter, identity: "
                        "1b0e3c7a-55f1-4d0e-9d55-0c1f7f2e8a11}\n", encoding="utf-8")
    posts.write_text('version: 1\ntimezone: UTC\nposts:\n  - {id: a, at: "2027-01-04 09:00", '
                     'to: [x], message: "hi"}\n', encoding="utf-8")
    Loader([str(tmp_path)], Store(tmp_path / "store")).load()
    accounts.write_text("version: 1\naccounts:\n  x: {provider: pinterest, board: '1', identity: "
                        "1b0e3c7a-55f1-4d0e-9d55-0c1f7f2e8a11}\n  y: {provider: twitter, "
                        "identity: 1b0e3c7a-55f1-4d0e-9d55-0c1f7f2e8a11}\n", encoding="utf-8")
    editing = EditingStore(tmp_path / "store", posts, ("to: [x]", "to: [y]"))
    loaded = Loader([str(tmp_path)], editing).load()
    assert editing.edits == 1
    _same(loaded, check([str(tmp_path)]))
    fixed = hashlib.sha256(posts.read_bytes()).hexdigest()
    record = Store(tmp_path / "store").get(str(posts), fixed)
    assert record is not None and record.entries[0].id == "a"


def test_where_commands_keep_records(tmp_path: Path) -> None:
    def chosen(env: dict[str, str]) -> Path | None:
        store = Context(env=env).records()
        return None if store is None else store.directory

    home = {"HOME": str(tmp_path)}
    assert chosen(home) == tmp_path / ".cache" / "pushcal"
    assert chosen({**home, "XDG_CACHE_HOME": str(tmp_path / "x")}) == tmp_path / "x" / "pushcal"
    assert chosen({**home, "PUSHCAL_CACHE": str(tmp_path / "mine")}) == tmp_path / "mine"
    assert chosen({**home, "PUSHCAL_CACHE": "off"}) is None
    assert chosen({}) is None  # no home, no records


def test_plan_keeps_records_and_validate_reads_and_writes_none(pushcal: Any, tmp_path: Path) -> None:
    calendar = tmp_path / "cal.yaml"
    shutil.copy(CASES / "valid" / "facebook.yaml", calendar)
    env = {"PUSHCAL_CACHE": str(tmp_path / "records")}
    assert pushcal(["validate", str(calendar)], env=env).code == 0
    assert not (tmp_path / "records").exists()
    first = pushcal(["plan", str(calendar), "--from", "2026-12-01 00:00", "--to", "2026-12-08 00:00"],
                    env=env)
    assert first.code == 0, first
    assert len(list((tmp_path / "records").rglob("*.record"))) == 1
    again = pushcal(["plan", str(calendar), "--from", "2026-12-01 00:00", "--to", "2026-12-08 00:00"],
                    env=env)
    assert again.out == first.out


def test_what_an_edit_changed_is_found_among_the_changed_files_only_and_exactly(
        tmp_path: Path) -> None:
    """Edits of every kind between two loads from records: changed_entries, which looks only
    at the files whose content changed, says what comparing every entry says."""
    def post(entry_id: str, message: str = "m", at: str = "2027-01-04 09:00") -> str:
        return f'  - {{id: {entry_id}, at: "{at}", to: [x], message: "{message}"}}\n'

    head = "version: 1\ntimezone: UTC\nposts:\n"
    accounts = ("version: 1\naccounts:\n  x: {provider: twitter, identity: "
                "1b0e3c7a-55f1-4d0e-9d55-0c1f7f2e8a11}\n")
    files = {"accounts.yaml": accounts, "a.yaml": head + post("a1") + post("a2") + post("moves"),
             "b.yaml": head + post("b1"), "c.yaml": head + post("c1"), "d.yaml": head + post("d1")}
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    loader = Loader([str(tmp_path)], Store(tmp_path / "store"))
    before = loader.load()
    (tmp_path / "a.yaml").write_text(head + post("a1", "edited") + post("a2"), encoding="utf-8")
    (tmp_path / "b.yaml").write_text(head + post("b1") + post("moves"), encoding="utf-8")
    (tmp_path / "c.yaml").unlink()
    (tmp_path / "e.yaml").write_text(head + post("e1", at="2027-02-01 10:00"), encoding="utf-8")
    after = loader.load()

    def view(cal: Calendar, entry_id: str) -> object:
        return cal.entries.summary(entry_id) and (cal.entries[entry_id].digest,
                                                  cal.entries[entry_id].grace)

    every = {i for i in before.entries.keys() | after.entries.keys()
             if view(before, i) != view(after, i)}
    assert every == {"a1", "c1", "e1"}  # "moves" moved, unchanged in what and when
    assert changed_entries(before, after) == every
    assert set(after.entries.may_differ(before.entries)) == {"a1", "a2", "moves", "b1", "c1", "e1"}


def test_records_unused_for_a_month_are_removed_and_reading_one_keeps_it(tmp_path: Path) -> None:
    folder, store = _one_file(tmp_path)
    (used,) = store.here.glob("*.record")
    long_ago = time.time() - 40 * 86400
    stale = store.here / ("0" * 40 + ".record")  # an old version of some file
    stale.write_bytes(b"")
    for path in (used, stale):
        os.utime(path, (long_ago, long_ago))
    recent = store.here / ("1" * 40 + ".record")
    recent.write_bytes(b"")
    assert _hits(folder, store) == ["facebook.yaml"]  # read: its time is now
    path = folder / "facebook.yaml"
    path.write_text(path.read_text().replace("Open from 8 today.", "Open from 7 today."))
    Loader([str(folder)], Store(store.directory)).load()  # a new process writes a record
    left = {p.name for p in store.here.glob("*.record")}
    assert used.name in left and recent.name in left and stale.name not in left
    assert len(left) == 3  # the one read, the recent one, and the edit's new record
