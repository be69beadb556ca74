"""What one checked calendar file holds, kept so that it is never parsed again unchanged.

A `FileRecord` is a file's accounts, media and built entries (each packed), the places of
its names and ids (for a duplicate's message), and what it was checked against. It is made
only from a file that had no problem in a calendar that had none, and is reused only for the
same name, the same bytes and the same calendar code, so a file read from one says exactly
what building it again would.

`Store` keeps records on disk between commands, one file each under a directory of the
user's own (`$XDG_CACHE_HOME/pushcal`): a pickle runs code when read, so records are read
only from a directory that this user owns and nobody else can write. Anything unexpected
there (a truncated record, another version's, a directory with loose permissions) means the
file is read and checked again, never an error. A record neither read nor written for `KEEP_DAYS` is
removed the next time the store is written, so old versions of edited files do not pile up.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import sys
import time
import zoneinfo
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from runner.calendar.files import Document, Path_, Position
from runner.calendar.model import Account, Medium
from runner.calendar.table import Row

KEEP_DAYS = 30  # a record unused this long is removed when the store is next written
_VERSION_DIR = re.compile("[0-9a-f]{24}")
Place = tuple[Path_, Position]


@dataclass(frozen=True)
class FileRecord:
    name: str  # as the calendar names the file
    sha: str  # SHA-256 of its bytes
    zone: Any  # tzinfo | None: the file's `timezone`, built
    timezone: str | None  # as written, for the hint to an entry without a zone
    accounts: tuple[Account, ...]
    media: tuple[Medium, ...]
    entries: tuple[Row, ...]  # packed, each with the place of its id
    places: tuple[Place, ...]  # where each account and medium is named
    names: str  # digest of every account and medium its rules were checked against
    zones: tuple[tuple[str, str], ...]  # each zone it uses, and the digest of its rules

    def stand_in(self) -> Document:
        """The file as far as checking other files needs it: its zone and the places of its
        names, for a duplicate's message."""
        data = {"timezone": self.timezone} if self.timezone is not None else {}
        return Document(self.name, data, {}, _Places(self))

    def current(self) -> bool:
        """Whether the zone rules it was built with are still the ones installed."""
        return all(zone_digest(key) == digest for key, digest in self.zones)


class _Places(Mapping[Path_, Position]):
    """Where a recorded file names its accounts, media and ids: worked out only when a
    message needs one, since a large calendar has hundreds of thousands."""

    def __init__(self, record: FileRecord) -> None:
        self._record = record
        self._found: dict[Path_, Position] | None = None

    def _all(self) -> dict[Path_, Position]:
        if self._found is None:
            self._found = dict(self._record.places)
            self._found.update(((*row.path, "id"), (row.place >> 32, row.place & 0xFFFFFFFF))
                               for row in self._record.entries)
        return self._found

    def __getitem__(self, path: Path_) -> Position:
        return self._all()[path]

    def __iter__(self) -> Iterator[Path_]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


def names_digest(accounts: dict[str, Any], media: dict[str, Any]) -> str:
    """A digest of the accounts and media every file can refer to (stable across runs)."""
    text = repr((sorted(accounts.items()), sorted(media.items())))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@cache
def zone_digest(key: str) -> str:
    """A digest of the rules of zone `key` as zoneinfo finds them (system or tzdata)."""
    for root in zoneinfo.TZPATH:
        path = os.path.join(root, key)
        if os.path.isfile(path):
            with open(path, "rb") as rules:
                return hashlib.sha256(rules.read()).hexdigest()
    try:
        import importlib.resources

        found = importlib.resources.files("tzdata.zoneinfo").joinpath(*key.split("/"))
        return hashlib.sha256(found.read_bytes()).hexdigest()
    except (ImportError, OSError, ValueError):
        return "missing"


@cache
def code_digest() -> str:
    """A digest of everything that decides what a file builds into: this room's code and
    schema, the Python and the libraries it reads and checks with."""
    import importlib.metadata  # here: `pushcal validate` keeps no records

    here = Path(__file__).parent
    digest = hashlib.sha256(sys.version.encode())
    for name in ("pyyaml", "jsonschema", "tzdata"):
        try:
            digest.update(f"{name}={importlib.metadata.version(name)}".encode())
        except importlib.metadata.PackageNotFoundError:
            digest.update(f"{name}=none".encode())
    for path in sorted(p for p in here.rglob("*") if p.is_file() and p.suffix != ".pyc"):
        digest.update(str(path.relative_to(here)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


class Store:
    """Records on disk, one file each, under `directory/<code digest>/`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._usable: bool | None = None
        self._pruned = False

    @property
    def here(self) -> Path:
        return self.directory / code_digest()[:24]

    def get(self, name: str, sha: str) -> FileRecord | None:
        if not self._ready(create=False):
            return None
        import pickle  # here, as the others: only commands that keep records load them

        path = self._path(name, sha)
        try:
            with open(path, "rb") as held:
                record = pickle.load(held)
        except Exception:  # missing, truncated, another format: a missing record
            return None
        if not isinstance(record, FileRecord) or (record.name, record.sha) != (name, sha):
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # used: kept another KEEP_DAYS
        return record if record.current() else None

    def put(self, record: FileRecord) -> None:
        if not self._ready(create=True):
            return
        import pickle
        import tempfile

        if not self._pruned:
            self._pruned = True
            self._forget_unused()
        try:
            handle, temporary = tempfile.mkstemp(dir=self.here, prefix=".record-")
            with os.fdopen(handle, "wb") as out:
                pickle.dump(record, out, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, self._path(record.name, record.sha))
        except OSError:
            return  # a full disk makes the next command slower, nothing else

    def forget(self, record: FileRecord) -> None:
        """Remove a record that a newer one of the same file replaced."""
        with contextlib.suppress(OSError):
            self._path(record.name, record.sha).unlink()

    def _forget_unused(self) -> None:
        """Records neither read nor written for KEEP_DAYS (old versions of edited files,
        files of calendars long gone) are removed, so the directory does not grow forever."""
        oldest = time.time() - KEEP_DAYS * 86400
        for path in self.here.glob("*.record"):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < oldest:
                    path.unlink()

    def _forget_other_versions(self) -> None:
        """Records of another pushcal or Python are never read again: remove them (only
        directories named as this class names them)."""
        import shutil

        for other in self.directory.iterdir():
            if (other.name != self.here.name and _VERSION_DIR.fullmatch(other.name)
                    and other.is_dir() and not other.is_symlink()):
                shutil.rmtree(other, ignore_errors=True)

    def _path(self, name: str, sha: str) -> Path:
        key = hashlib.sha256(f"{name}\0{sha}".encode()).hexdigest()[:40]
        return self.here / f"{key}.record"

    def _ready(self, *, create: bool) -> bool:
        """Whether the directory exists (made when `create`), is this user's and is closed
        to everyone else, at every level from the store's own directory down."""
        if self._usable:
            return True
        try:
            if create and not self.here.exists():
                self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
                self.here.mkdir(mode=0o700, exist_ok=True)
                self._forget_other_versions()
            self._usable = all(_private(path) for path in (self.directory, self.here))
        except OSError:
            self._usable = False
        return bool(self._usable)


def _private(path: Path) -> bool:
    found = os.lstat(path)
    return (stat.S_ISDIR(found.st_mode) and found.st_uid == os.getuid()
            and not found.st_mode & 0o077)
