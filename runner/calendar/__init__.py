"""The calendar room: files in, a validated `Calendar` and its occurrences out.

Pure but for reading files (and keeping records of them, `records`). The only user of
PyYAML (`strict_yaml`) and jsonschema (`schema`).
"""

from runner.calendar.expansion import Occurrence, expand, instants, occurrence
from runner.calendar.loader import Loader, Source, check, load, read_sources
from runner.calendar.model import Account, Calendar, Entry, Kind, Medium, Repeat
from runner.calendar.records import Store

__all__ = [
    "Account", "Calendar", "Entry", "Kind", "Loader", "Medium", "Occurrence", "Repeat",
    "Source", "Store", "check", "expand", "instants", "load", "occurrence", "read_sources",
]
