"""OneAll site credentials from the environment, checked before any request is made.

The private key stays out of every repr, str and message: a mistyped key is still mostly
the key, so values are never echoed.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from runner.errors import PushcalError

_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_SUBDOMAIN = re.compile(r"[a-z0-9-]+")
_REQUIRED = ("ONEALL_SUBDOMAIN", "ONEALL_PUBLIC_KEY", "ONEALL_PRIVATE_KEY")


class CredentialsError(PushcalError):
    """OneAll credentials are missing or malformed; the message says which and how to fix."""


@dataclass(frozen=True)
class Credentials:
    """A OneAll site's API keys and where to reach it; `private_key` stays out of repr/str."""

    subdomain: str
    public_key: str
    private_key: str = field(repr=False)
    base_url: str = ""  # empty: https://<subdomain>.api.oneall.com

    def __post_init__(self) -> None:
        problems = _key_problems(self) + (_url_problems(self.base_url) if self.base_url else [])
        if problems:
            raise CredentialsError("; ".join(problems))
        url = self.base_url.rstrip("/") or f"https://{self.subdomain}.api.oneall.com"
        object.__setattr__(self, "base_url", url)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Credentials:
        """Read ONEALL_SUBDOMAIN, ONEALL_PUBLIC_KEY, ONEALL_PRIVATE_KEY and ONEALL_BASE_URL."""
        missing = [name for name in _REQUIRED if not env.get(name)]
        if missing:
            names = ", ".join(missing)
            raise CredentialsError(
                f"missing environment variable{'s' if len(missing) > 1 else ''} {names}: "
                f"export {' '.join(f'{n}=...' for n in missing)} with your OneAll site's "
                "subdomain and API keys (`--sandbox` needs none)"
            )
        return cls(
            subdomain=env["ONEALL_SUBDOMAIN"],
            public_key=env["ONEALL_PUBLIC_KEY"],
            private_key=env["ONEALL_PRIVATE_KEY"],
            base_url=env.get("ONEALL_BASE_URL", ""),
        )


def _key_problems(creds: Credentials) -> list[str]:
    # Values are never echoed: a mistyped private key is still mostly the private key.
    problems = []
    if not _SUBDOMAIN.fullmatch(creds.subdomain):
        problems.append("ONEALL_SUBDOMAIN must be lowercase letters, digits and '-' only")
    for name, value in (("ONEALL_PUBLIC_KEY", creds.public_key),
                        ("ONEALL_PRIVATE_KEY", creds.private_key)):
        if not _UUID.fullmatch(value):
            problems.append(f"{name} is not UUID-shaped (8-4-4-4-12 hex digits; "
                            "check for quotes or spaces around it)")
    return problems


def _url_problems(url: str) -> list[str]:
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        # Not echoed: whatever sits before the '@' may be a key.
        return ["ONEALL_BASE_URL must not carry credentials; they come from the keys"]
    if not parts.hostname:
        return ["ONEALL_BASE_URL has no host (write e.g. 'https://example.api.oneall.com')"]
    # Only the scheme and host are named: a path or query may hold a token, and a URL that
    # is rejected is exactly one that was pasted wrong.
    shown = repr(f"{parts.scheme}://{parts.netloc}")  # no user info: refused above
    if parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(parts.hostname)):
        return []
    if parts.scheme == "http":
        return [f"ONEALL_BASE_URL {shown} uses plain http, allowed only for loopback hosts "
                "(127.0.0.1, ::1, localhost): the keys would travel in clear text"]
    return [f"ONEALL_BASE_URL {shown} must start with https://"]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
