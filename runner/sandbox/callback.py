"""Delivering asynchronous upload results to `callback_url`, but only ever on loopback.

OneAll answers Twitter and YouTube video uploads with "queued" and later POSTs the final
envelope to the caller's `callback_url`. The sandbox does the same after a short delay, with
one hard rule: it never opens a connection to anything but a loopback address, whatever URL
a calendar holds. `http.client` is used directly so that no proxy setting can reroute it.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

CALLBACK_DELAY_S = 0.05
CALLBACK_TIMEOUT_S = 5.0


def loopback_target(url: str) -> tuple[str, int, str] | str:
    """(ip, port, path) of a loopback http URL, or the reason it will not be contacted."""
    try:
        parts = urlsplit(url)
        port = parts.port or 80
    except ValueError as exc:
        return f"skipped: invalid URL ({exc})"
    if parts.scheme != "http":
        return f"skipped: only http callbacks are delivered, not {parts.scheme or 'no scheme'}"
    host = "127.0.0.1" if parts.hostname == "localhost" else (parts.hostname or "")
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        return f"skipped: {parts.hostname or 'no host'} is not a loopback address"
    target = parts.path or "/"
    return host, port, target + (f"?{parts.query}" if parts.query else "")


def deliver_later(url: str, document: Any, done: Callable[[str], None],
                  stopping: threading.Event) -> str:
    """Schedule the POST of `document` to `url`; returns "pending" or why it was skipped.

    `done` receives the outcome ("delivered 200", "failed: ...") from the background thread.
    """
    target = loopback_target(url)
    if isinstance(target, str):
        return target
    body = json.dumps(document).encode("utf-8")
    thread = threading.Thread(target=_post, args=(target, body, done, stopping), daemon=True,
                              name="sandbox-callback")
    thread.start()
    return "pending"


def _post(target: tuple[str, int, str], body: bytes, done: Callable[[str], None],
          stopping: threading.Event) -> None:
    if stopping.wait(CALLBACK_DELAY_S):
        done("failed: the sandbox stopped before delivery")
        return
    host, port, path = target
    connection = http.client.HTTPConnection(host, port, timeout=CALLBACK_TIMEOUT_S)
    try:
        connection.request("POST", path, body, {"Content-Type": "application/json"})
        status = connection.getresponse().status
        done(f"delivered {status}")
    except (OSError, http.client.HTTPException) as exc:
        done(f"failed: {type(exc).__name__}: {exc}")
    finally:
        connection.close()
