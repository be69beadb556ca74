"""Where a ledger lives: a file path (SQLite) or a `postgresql://` URL, and how to open it.

`--state` and `$PUSHCAL_STATE` take either. A `DatabaseUrl` prints without its password
(`postgresql://ana:***@db/pushcal`), so no message, log line or status output can leak it;
the password itself is only ever handed to the driver. Opening loads the backend's module
on first use, so a SQLite user never imports psycopg and the reverse.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from runner.ledger.contract import Ledger

SCHEMES = ("postgresql://", "postgres://")


@dataclass(frozen=True)
class DatabaseUrl:
    """A PostgreSQL connection URL; `str()` is the redacted form."""

    url: str = field(repr=False)

    def __str__(self) -> str:
        return redact(self.url)

    def __repr__(self) -> str:
        return f"DatabaseUrl({redact(self.url)!r})"

    def secrets(self) -> list[str]:
        """Every password this URL may make the driver use: to scrub from messages."""
        parts = urlsplit(self.url)
        found = [unquote(parts.password)] if parts.password else []
        found += re.findall(r"(?:^|&)password=([^&]+)", parts.query)
        if os.environ.get("PGPASSWORD"):
            found.append(os.environ["PGPASSWORD"])
        return [secret for secret in found if secret]


StateLocation = Path | DatabaseUrl


def parse(text: str) -> StateLocation:
    """`--state`'s value: a URL when it starts with postgresql:// or postgres://."""
    if text.startswith(SCHEMES):
        return DatabaseUrl(text)
    return Path(text)


def redact(url: str) -> str:
    """The URL with any password (in the authority or as ?password=) replaced by ***."""
    url = re.sub(r"^([a-z]+://[^/@:]*):[^/@]*@", r"\1:***@", url)
    return re.sub(r"([?&]password=)[^&]*", r"\1***", url)


def scrub(text: str, secrets: list[str]) -> str:
    """`text` with every secret replaced by ***."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def open_ledger(where: StateLocation, clock: Callable[[], datetime], *,
                create: bool = True) -> Ledger | None:
    """The ledger at `where`; None when it does not exist and `create` is off."""
    if isinstance(where, DatabaseUrl):
        from runner.ledger.postgres import PostgresLedger

        return PostgresLedger.open(where, clock=clock, create=create)
    from runner.ledger.sqlite import SqliteLedger

    if not create and not where.exists():
        return None
    return SqliteLedger(where, clock=clock)
