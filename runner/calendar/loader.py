"""Loading a calendar from its files, again and again, reusing what did not change."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import pathlib
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from runner.calendar import files as source
from runner.calendar import schema
from runner.calendar.build import Fresh, NeedsReading, Part, assemble, build, build_records
from runner.calendar.model import Calendar
from runner.calendar.records import FileRecord, Store
from runner.errors import InvalidCalendar, Problem, PushcalError

Source = tuple[str, bytes]  # a calendar file's display name and its bytes


def load(paths: Sequence[str], store: Store | None = None) -> Calendar:
    """Read, check and build the calendar at `paths` (files or directories)."""
    return Loader(paths, store).load()


def check(paths: Sequence[str]) -> Calendar:
    """Every file read, parsed, checked and built now, and nothing recorded: `validate`'s
    load, the answer records are tested against."""
    sources, problems = read_sources(paths)
    docs = []
    for name, raw in sources:
        try:
            docs.append(source.load_text(raw, name))
        except InvalidCalendar as error:
            problems.extend(error.problems)
    if problems:
        raise InvalidCalendar(problems)
    with collector_paused():
        return build(docs, [schema.validate(d) for d in docs],
                     [hashlib.sha256(raw).hexdigest() for _, raw in sources])


def read_sources(paths: Sequence[str]) -> tuple[list[Source], list[Problem]]:
    """The name and bytes of every calendar file at `paths`, and what could not be read."""
    problems: list[Problem] = []
    found = [(name, raw) for _, name, raw in _each_file(paths, problems)]
    return found, problems


def _each_file(paths: Sequence[str],
               problems: list[Problem]) -> Iterator[tuple[pathlib.Path, str, bytes]]:
    """Each calendar file at `paths` with its name and bytes, one at a time (so a caller
    need not hold them all); what cannot be found or read is added to `problems`."""
    files, missing = source.files_and_problems(paths)
    problems.extend(missing)
    for path, name in files:
        try:
            raw = source.read_file(path, name)
        except InvalidCalendar as error:
            problems.extend(error.problems)
            continue
        yield path, name, raw


@dataclass(frozen=True)
class _Read:
    name: str
    sha: str  # SHA-256 of its bytes
    raw: bytes | None  # None when recorded: read again only if needed
    path: pathlib.Path | None  # where it was read; None for bytes given (from git, say)
    recorded: FileRecord | None  # of these bytes, checked before


def _held_still(one: tuple[list[_Read], list[Problem]],
                other: tuple[list[_Read], list[Problem]]) -> bool:
    return ([(r.name, r.sha) for r in one[0]] == [(r.name, r.sha) for r in other[0]]
            and one[1] == other[1])


class Loader:
    """Loads the calendar at `paths` again and again (the daemon's reloads, and with a
    `store` every command). A file whose name and bytes were checked before, in this process
    or (with a store) in an earlier one, is not parsed, schema-checked or built again: its
    record is checked with the others for names and ids, and for rules when an account or
    medium changed. So an edit to one file of four hundred costs about one file's work, and
    a command on an unchanged calendar reads only its records."""

    def __init__(self, paths: Sequence[str], store: Store | None = None) -> None:
        self.paths = list(paths)
        self.store = store
        self._records: dict[str, FileRecord] = {}  # by file name, as last loaded

    def load(self) -> Calendar:
        """The calendar as the files are now; InvalidCalendar with every problem otherwise."""
        with collector_paused():  # reading records makes millions of objects too
            return self._load(*self._read())

    def load_settled(self, settle: float, tries: int = 20) -> Calendar:
        """Like `load`, but only from content that held still: the files are read, then
        read again `settle` seconds later, until two reads agree. A file saved in place
        (truncated, then written) is otherwise read half-written, and a truncated message
        is what would go out. PushcalError if they keep changing for `tries` reads."""
        with collector_paused():
            found = self._read()
        for _ in range(tries):
            time.sleep(settle)
            with collector_paused():
                again = self._read()
                if _held_still(found, again):
                    return self._load(*again)
            found = again
        raise PushcalError(f"the calendar files kept changing for {settle * tries:g} s;"
                           " the last valid calendar is kept until they hold still")

    def load_sources(self, sources: Sequence[Source], problems: Sequence[Problem] = ()) -> Calendar:
        """The calendar these files' bytes make (read from git, say), reusing the records of
        files whose name and bytes were checked before; InvalidCalendar otherwise."""
        shas = [hashlib.sha256(raw).hexdigest() for _, raw in sources]
        with collector_paused():
            return self._load([_Read(name, sha, raw, None, self._recorded(name, sha))
                           for (name, raw), sha in zip(sources, shas, strict=True)], problems)

    def _read(self) -> tuple[list[_Read], list[Problem]]:
        """Each file's name and hash, and its bytes unless a record of them exists (a large
        calendar's bytes are not all held at once when most files are recorded)."""
        problems: list[Problem] = []
        found = []
        for path, name, raw in _each_file(self.paths, problems):
            sha = hashlib.sha256(raw).hexdigest()
            recorded = self._recorded(name, sha)
            found.append(_Read(name, sha, None if recorded else raw, path, recorded))
        return found, problems

    def _load(self, reads: Sequence[_Read], problems: Sequence[Problem]) -> Calendar:
        records = self._check(reads, list(problems))
        self._keep(records)
        return assemble(records)

    def _check(self, reads: Sequence[_Read], problems: list[Problem]) -> list[FileRecord]:
        parts: list[Part | None] = [r.recorded for r in reads]
        while True:
            for index, read in enumerate(reads):
                if parts[index] is None:
                    try:
                        raw, sha = self._bytes(read)
                        doc = source.load_text(raw, read.name)
                        parts[index] = Fresh(doc, schema.validate(doc), sha)
                    except InvalidCalendar as error:
                        problems.extend(error.problems)
            if problems:
                raise InvalidCalendar(problems)
            try:
                return build_records([p for p in parts if p is not None])
            except NeedsReading as stale:  # their problems need their positions: parse them
                parts = [None if isinstance(p, FileRecord) and p.name in stale.names else p
                         for p in parts]

    @staticmethod
    def _bytes(read: _Read) -> tuple[bytes, str]:
        """A file's bytes and their hash, read again when its record held them (its entries
        now break a rule, and their problems need the file's places). If it was saved since,
        the newer bytes are what is checked, under their own hash."""
        if read.raw is not None:
            return read.raw, read.sha
        assert read.path is not None  # given sources always carry their bytes
        raw = source.read_file(read.path, read.name)
        return raw, hashlib.sha256(raw).hexdigest()

    def _recorded(self, name: str, sha: str) -> FileRecord | None:
        held = self._records.get(name)
        if held is not None and held.sha == sha:
            return held
        found = self.store.get(name, sha) if self.store is not None else None
        if found is not None:
            self._records[name] = found  # read once, however many times it is asked for
        return found

    def _keep(self, records: Sequence[FileRecord]) -> None:
        """Hold the records for the next load (and store those that are new); forget what
        files used to hold."""
        before = self._records
        self._records = {r.name: r for r in records}
        if self.store is None:
            return
        for record in records:
            old = before.get(record.name)
            if old is not record:
                self.store.put(record)
                if old is not None and old.sha != record.sha:
                    self.store.forget(old)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Building a calendar allocates millions of containers that all live on (documents,
    positions, entries). The cyclic collector would scan them again and again and free
    nothing: 18% of loading a million occurrences (BENCHMARKS.md 9.4). Reference counting
    still frees what dies; the collector resumes, as it was, once the calendar is built."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
