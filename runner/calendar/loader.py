"""Loading a calendar from its files, again and again, reusing what did not change."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from runner.calendar import files as source
from runner.calendar import schema
from runner.calendar.build import Memo, build
from runner.calendar.builder import Findings
from runner.calendar.files import Document
from runner.calendar.model import Calendar
from runner.errors import InvalidCalendar, Problem, PushcalError

Source = tuple[str, bytes]  # a calendar file's display name and its bytes


def load(paths: Sequence[str]) -> Calendar:
    """Read, check and build the calendar at `paths` (files or directories)."""
    return Loader(paths).load()


def read_sources(paths: Sequence[str]) -> tuple[list[Source], list[Problem]]:
    """The name and bytes of every calendar file at `paths`, and what could not be read."""
    files, problems = source.files_and_problems(paths)
    found: list[Source] = []
    for path, name in files:
        try:
            found.append((name, source.read_file(path, name)))
        except InvalidCalendar as error:
            problems.extend(error.problems)
    return found, problems


@dataclass(frozen=True)
class _Loaded:
    digest: str  # of the file's bytes
    doc: Document
    findings: Findings


class Loader:
    """Loads the calendar at `paths` again and again (the daemon's reloads). A file whose
    bytes did not change is not parsed, schema-checked or built again, so an edit to one
    file of forty costs about one file's work; names and ids are still checked across all
    files, and rules again wherever an account or medium changed."""

    def __init__(self, paths: Sequence[str]) -> None:
        self.paths = list(paths)
        self._files: dict[str, _Loaded] = {}
        self._memo = Memo()

    def load(self) -> Calendar:
        """The calendar as the files are now; InvalidCalendar with every problem otherwise."""
        return self.load_sources(*read_sources(self.paths))

    def load_settled(self, settle: float, tries: int = 20) -> Calendar:
        """Like `load`, but only from content that held still: the files are read, then
        read again `settle` seconds later, until two reads agree. A file saved in place
        (truncated, then written) is otherwise read half-written, and a truncated message
        is what would go out. PushcalError if they keep changing for `tries` reads."""
        found = read_sources(self.paths)
        for _ in range(tries):
            time.sleep(settle)
            again = read_sources(self.paths)
            if again == found:
                return self.load_sources(*found)
            found = again
        raise PushcalError(f"the calendar files kept changing for {settle * tries:g} s;"
                           " the last valid calendar is kept until they hold still")

    def load_sources(self, sources: Sequence[Source], problems: Sequence[Problem] = ()) -> Calendar:
        """The calendar these files' bytes make (read from git, say), reusing the work done
        for any file whose name and bytes were loaded before; InvalidCalendar otherwise."""
        with _collector_paused():
            return self._load_sources(sources, problems)

    def _load_sources(self, sources: Sequence[Source], problems: Sequence[Problem]) -> Calendar:
        problems = list(problems)
        loaded: list[_Loaded] = []
        for name, raw in sources:
            try:
                loaded.append(self._file(raw, name))
            except InvalidCalendar as error:
                problems.extend(error.problems)
        if problems:
            raise InvalidCalendar(problems)
        live = {f.digest for f in loaded}  # forget what files used to hold
        self._files = {name: f for name, f in self._files.items() if f.digest in live}
        self._memo.entries = {k: v for k, v in self._memo.entries.items() if k[0] in live}
        self._memo.findings = {k: v for k, v in self._memo.findings.items() if k[0] in live}
        return build([f.doc for f in loaded], [f.findings for f in loaded],
                     [f.digest for f in loaded], self._memo)

    def _file(self, raw: bytes, name: str) -> _Loaded:
        digest = hashlib.sha256(raw).hexdigest()
        cached = self._files.get(name)
        if cached is None or cached.digest != digest:
            doc = source.load_text(raw, name)
            cached = self._files[name] = _Loaded(digest, doc, schema.validate(doc))
        return cached


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
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
