"""The only httpx user: one request per call, and the answer classified.

`Client.send` puts exactly one request on the wire and turns whatever comes back (or the
lack of an answer) into a `runner.oneall.wire.Reply`. It never retries: whether a request may be
sent again is the daemon's decision, made from the `Verdict` (see docs/design.md, "Delivery
semantics"). The private key never appears in a repr, a message or an `Reply`.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any

import httpx

from runner import __version__
from runner.oneall.credentials import Credentials
from runner.oneall.wire import Reply, Verdict

_SNIPPET = 200
# Seconds: a Retry-After beyond a day is absurd (or hostile); a day is what we believe. The
# retry window ends long before, so the row fails cleanly instead of overflowing a date.
MAX_RETRY_AFTER = 86400.0
_MAY_HAVE_POSTED = "the request may have been acted on"
_NOT_SENT = "nothing was sent"

# Only failures before the first byte left are provably unsent (RETRY); any other transport
# failure may have reached OneAll (UNKNOWN). Order matters: first match wins.
_TRANSPORT_FAILURES: tuple[tuple[type[httpx.RequestError], Verdict, str], ...] = (
    (httpx.ConnectTimeout, Verdict.RETRY, "connect timeout after {connect} s: " + _NOT_SENT),
    (httpx.PoolTimeout, Verdict.RETRY, "no free connection after {connect} s: " + _NOT_SENT),
    (httpx.ConnectError, Verdict.RETRY, "could not connect{detail}: " + _NOT_SENT),
    (httpx.ReadTimeout, Verdict.UNKNOWN, "read timeout after {read} s: " + _MAY_HAVE_POSTED),
    (httpx.WriteTimeout, Verdict.UNKNOWN, "write timeout after {read} s: " + _MAY_HAVE_POSTED),
    (httpx.WriteError, Verdict.UNKNOWN,
     "the connection broke while sending{detail}: " + _MAY_HAVE_POSTED),
    (httpx.ReadError, Verdict.UNKNOWN,
     "the connection broke before the answer arrived{detail}: " + _MAY_HAVE_POSTED),
    (httpx.RemoteProtocolError, Verdict.UNKNOWN,
     "the server dropped the connection mid-answer{detail}: " + _MAY_HAVE_POSTED),
)


_LANE = "pushcal.lane"  # the request extension naming its connection pool


class _Lanes(httpx.AsyncBaseTransport):
    """One connection pool per lane (an account). httpcore's pool slows down badly with ~100
    requests waiting in one pool (encode/httpcore#1035); a pool per account keeps each one
    short, and one account's connections never queue behind another's.

    httpcore closes an expired keep-alive connection only when its pool is used again, so
    with ~1,000 accounts every lane used once kept its sockets open for good and the daemon
    ran out of file descriptors. A lane idle for `idle_s` is closed (its sockets with it) by
    the next request on any lane; a lane is made again when it is needed."""

    def __init__(self, make: Callable[[], httpx.AsyncBaseTransport], idle_s: float) -> None:
        self._make, self._idle_s = make, idle_s
        self._pools: dict[str, httpx.AsyncBaseTransport] = {}
        self._used: dict[str, float] = {}
        self._busy: dict[str, int] = {}
        self._swept = time.monotonic()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        lane = str(request.extensions.get(_LANE, ""))
        await self._reap()
        pool = self._pools.get(lane)
        if pool is None:
            pool = self._pools[lane] = self._make()
        self._busy[lane] = self._busy.get(lane, 0) + 1
        try:
            return await pool.handle_async_request(request)
        finally:
            self._busy[lane] -= 1
            self._used[lane] = time.monotonic()

    def open_lanes(self) -> int:
        """How many lanes hold a pool now."""
        return len(self._pools)

    async def _reap(self) -> None:
        now = time.monotonic()
        if now - self._swept < min(1.0, self._idle_s):
            return
        self._swept = now
        idle = [lane for lane, used in self._used.items()
                if now - used >= self._idle_s and not self._busy.get(lane)]
        for lane in idle:
            pool = self._pools.pop(lane, None)
            self._used.pop(lane, None)
            if pool is not None and pool not in self._pools.values():
                await pool.aclose()

    async def aclose(self) -> None:
        for pool in {id(p): p for p in self._pools.values()}.values():
            await pool.aclose()


class Client:
    """An asynchronous OneAll Push/Pull API client; one call puts at most one request on the wire.

    Build it once and share it: it holds the keep-alive connection pool. `clock` (UTC, aware)
    is only used to turn a Retry-After HTTP-date into seconds.
    """

    def __init__(
        self,
        credentials: Credentials,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        connect_timeout: float = 15.0,
        read_timeout: float = 30.0,
        max_connections: int = 200,
        idle_lane_s: float = 60.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._credentials = credentials
        self._clock = clock
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        token = f"{credentials.public_key}:{credentials.private_key}".encode()
        self._secrets = (credentials.private_key, base64.b64encode(token).decode())
        limits = httpx.Limits(  # every keep-alive slot is kept: a burst reuses warm connections
            max_connections=max_connections, max_keepalive_connections=max_connections)
        # One TLS context for all lanes (loading CA certificates is slow); none for a fake.
        verify: Any = True if transport is not None else httpx.create_ssl_context()
        self._lanes = _Lanes(lambda: transport or httpx.AsyncHTTPTransport(
            verify=verify, limits=limits), idle_lane_s)
        # One client (its settings, proxies from the environment, read once) over one
        # connection pool per lane: a burst over 5,000 accounts builds 5,000 light pools,
        # not 5,000 clients that each read the environment.
        self._http = httpx.AsyncClient(
            base_url=credentials.base_url,
            auth=httpx.BasicAuth(credentials.public_key, credentials.private_key),
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": f"pushcal/{__version__}",
            },
            timeout=httpx.Timeout(
                connect=connect_timeout, read=read_timeout, write=read_timeout,
                pool=connect_timeout,
            ),
            limits=limits, verify=verify, transport=self._lanes,
            follow_redirects=False,  # a redirected POST could be replayed elsewhere
        )

    def __repr__(self) -> str:
        return f"Client(base_url={self._credentials.base_url!r})"

    async def send(self, method: str, path: str, body: Mapping[str, Any] | None, *,
                   lane: str = "") -> Reply:
        """Send one request (body is the whole JSON document, `request` root included).
        `lane` names the connection pool to use: the daemon passes the account."""
        content = None if body is None else _encode(body)
        try:
            response = await self._http.request(method, path, content=content,
                                                extensions={_LANE: lane})
        except httpx.RequestError as exc:
            return self._scrubbed(self._transport_reply(exc))
        return self._scrubbed(self._classify(response, self._scrub_bytes(response.content)))

    async def pull(self, path: str) -> Reply:
        """GET a Pull API listing (`/pull/identities/<token>/...`), classified like `send`."""
        return await self.send("GET", path, None)

    def open_lanes(self) -> int:
        """How many per-account connection pools are open now (idle ones are closed)."""
        return self._lanes.open_lanes()

    async def aclose(self) -> None:
        """Close every connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _transport_reply(self, exc: httpx.RequestError) -> Reply:
        # httpx often repeats the class name as the message; that says nothing new.
        text = str(exc)
        detail = f" ({text})" if text and text != type(exc).__name__ else ""
        verdict, template = next(
            ((v, t) for kind, v, t in _TRANSPORT_FAILURES if isinstance(exc, kind)),
            (Verdict.UNKNOWN, "{name}{detail}: " + _MAY_HAVE_POSTED),
        )
        info = template.format(name=type(exc).__name__, detail=detail,
                               connect=self._connect_timeout, read=self._read_timeout)
        return Reply(verdict, None, info)

    def _classify(self, response: httpx.Response, content: bytes) -> Reply:
        """`content` is the body with the keys already scrubbed out: before it is parsed,
        cut to a snippet or stored, so no part of a key survives the cut."""
        status = response.status_code
        envelope = _parse_envelope(content)
        verdict = _verdict_for(status)
        data: Mapping[str, str] = {}
        if isinstance(envelope, str):
            info = f"HTTP {status} with {envelope}"
            if verdict is Verdict.SENT:  # a 2xx we cannot read gives no ids to go on
                verdict = Verdict.UNKNOWN
        else:
            info, data = envelope
            info = info or f"HTTP {status} {response.reason_phrase}".rstrip()
        retry_after = self._retry_after(response) if verdict is Verdict.RETRY else None
        data = data if verdict is Verdict.SENT else {}
        return Reply(verdict, status, _explain(verdict, status, info), data, retry_after)

    def _retry_after(self, response: httpx.Response) -> float | None:
        value = response.headers.get("Retry-After", "").strip()
        if value.isascii() and value.isdigit():
            return min(float(value), MAX_RETRY_AFTER)  # float('9' * 400) is inf
        try:
            when = parsedate_to_datetime(value)
            if when.tzinfo is None:  # RFC 9110 dates are GMT
                when = when.replace(tzinfo=UTC)
            seconds = (when - self._clock()).total_seconds()
        except (TypeError, ValueError, OverflowError):
            return None
        return min(max(0.0, seconds), MAX_RETRY_AFTER)

    def _scrub_bytes(self, raw: bytes) -> bytes:
        for secret in self._secrets:
            raw = raw.replace(secret.encode(), b"***")
        return raw

    def _scrubbed(self, reply: Reply) -> Reply:
        # Defence in depth: exception texts and server echoes (in JSON escapes the bytes
        # did not show) must not leak the keys, in the info or in any result field.
        info = self._scrub(reply.info)
        data = {key: self._scrub(value) for key, value in reply.data.items()}
        if info == reply.info and data == dict(reply.data):
            return reply
        return Reply(reply.verdict, reply.status, info, data, reply.retry_after)

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def _verdict_for(status: int) -> Verdict:
    if 200 <= status < 300:
        return Verdict.SENT
    if status in (429, 503):  # OneAll turned it away before acting on it
        return Verdict.RETRY
    if 400 <= status < 500 and status != 408:
        return Verdict.FAILED
    return Verdict.UNKNOWN  # 5xx and 408 may come after the post was made; 1xx/3xx are odd


def _explain(verdict: Verdict, status: int, info: str) -> str:
    if status == 207:
        return f"partial success: {info}"
    if status == 401:
        return f"{info} (check ONEALL_PUBLIC_KEY and ONEALL_PRIVATE_KEY)"
    if verdict is Verdict.UNKNOWN:
        return f"{info}: {_MAY_HAVE_POSTED}"
    return info


def _encode(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=_plain).encode()


def _plain(value: object) -> object:
    # Rendered bodies may hold read-only mappings; anything else (an unfilled Ref) is a bug.
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"cannot send {value!r} ({type(value).__name__}) as JSON")


def _parse_envelope(raw: bytes) -> tuple[str, dict[str, str]] | str:
    """OneAll's (info, result data), or a description of the body when it is not an envelope."""
    try:
        # Ids are big numbers: keep every number's exact digits, never pass through a float.
        doc = json.loads(raw, parse_int=str, parse_float=str)
        response = doc["response"]
        status = response["request"]["status"]
        info = status.get("info", "")
        data = (response.get("result") or {}).get("data") or {}
    except (ValueError, KeyError, TypeError, AttributeError):
        return _describe_body(raw)
    if not isinstance(data, dict):
        data = {"data": data}  # a listing that is not an object keeps its JSON text
    text = "" if info is None else _as_text(info)
    return text, {str(key): _as_text(value) for key, value in data.items()}


def _as_text(value: Any) -> str:
    # Strings (and numbers, already strings) stay as they are; anything else is its JSON text.
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def _describe_body(raw: bytes) -> str:
    if not raw.strip():
        return "an empty body"
    head = raw[: _SNIPPET * 4]  # 4 bytes per character at most in UTF-8
    text = head.decode("utf-8", errors="replace")
    snippet = text[:_SNIPPET] + ("..." if len(text) > _SNIPPET or len(raw) > len(head) else "")
    return f"a body that is not a OneAll envelope: {snippet!r}"
