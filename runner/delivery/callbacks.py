"""Per-delivery callback URLs for asynchronous uploads, and telling a genuine callback.

OneAll answers a Twitter or YouTube video upload with "queued" and later POSTs the result
to the request's `callback_url`. Anyone who learns that address could post a fake result,
so each delivery's URL carries its own token: 32 random bytes, of which the ledger keeps
only the SHA-256 (under `CALLBACK_STEP` in the row's steps, recorded before the request
leaves). A callback is genuine when its token hashes to that; the row must then still be
`accepted`, so a replay of a genuine callback changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from runner.ledger import CALLBACK_STEP, Row


@dataclass(frozen=True)
class CallbackUrls:
    """Where callbacks reach this daemon: `base`, unless the calendar's `callback_url` says."""

    base: str | None = None  # the public URL of `--callback-listen`, from `--callback-url`

    def issue(self, key: str, account: str, configured: str | None) -> tuple[str, str] | None:
        """(the URL to send, the digest to record) for one delivery; None with no base."""
        base = configured or self.base
        if not base:
            return None
        token = secrets.token_urlsafe(32)
        parts = urlsplit(base)
        query = "&".join(q for q in (parts.query, urlencode(
            {"key": key, "account": account, "token": token})) if q)
        return urlunsplit(parts._replace(query=query)), digest(token)


@dataclass(frozen=True)
class Claim:
    """Which delivery a callback says it is for, and the token it shows."""

    key: str
    account: str
    token: str


def claim_of(query: str) -> Claim | None:
    """The key, account and token in a callback's query string; None when one is missing."""
    fields = parse_qs(query)
    values = [fields.get(name, [""])[-1] for name in ("key", "account", "token")]
    return Claim(*values) if all(values) else None


def digest(token: str) -> str:
    """What the ledger keeps of a token: its SHA-256, in hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def genuine(row: Row, token: str) -> bool:
    """Whether `token` is the one issued for this row (compared in constant time)."""
    kept = row.steps.get(CALLBACK_STEP)
    return kept is not None and hmac.compare_digest(kept, digest(token))
