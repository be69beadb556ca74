"""The OneAll client: one request per call, answers classified per docs/design.md, keys never leak.

Every test talks to an `httpx.MockTransport`; the handler records each request so the tests
can prove the client never retried on its own.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import httpx
import pytest

from runner.oneall import Client, Credentials, CredentialsError, Reply, Verdict

PUBLIC = "0f1e2d3c-4b5a-6978-8a9b-acbdcedf0a1b"
PRIVATE = "5ec2e7aa-d00d-4bad-beef-c0ffee15ec2e"
TOKEN = base64.b64encode(f"{PUBLIC}:{PRIVATE}".encode()).decode()
CREDS = Credentials("acme", PUBLIC, PRIVATE)
PATH = "/push/identities/923843ec-1749-4cc1-988f-d6963f3b1baa/facebook/page/post.json"
BODY = {"request": {"push": {"page": {"id": "4563453", "message": "We're live! 🚀"}}}}
NOW = datetime(2026, 12, 1, 9, 0, 0, tzinfo=UTC)
MAY = "the request may have been acted on"

Handler = Callable[[httpx.Request], httpx.Response]


def envelope(code: int, info: str, data: str | None = None) -> bytes:
    """A OneAll answer as raw text, so numbers arrive exactly as a server would write them."""
    flag = "success" if code < 400 else "error"
    status = json.dumps({"flag": flag, "code": code, "info": info})
    result = "" if data is None else f', "result": {{"data": {data}}}'
    return (f'{{"response": {{"request": {{"resource": "{PATH}", "status": {status}}}'
            f"{result}}}}}").encode()


def answer(status: int, content: bytes, headers: Mapping[str, str] | None = None) -> Handler:
    return lambda request: httpx.Response(status, content=content, headers=headers)


def failing(kind: type[httpx.RequestError], message: str) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise kind(message, request=request)
    return handler


def exchange(
    handler: Handler, *, method: str = "POST", path: str = PATH,
    body: Mapping[str, Any] | None = BODY, **options: Any,
) -> tuple[Reply, list[httpx.Request]]:
    """Run one `send` against `handler`; return the outcome and every request that arrived."""
    seen: list[httpx.Request] = []

    def recording(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    async def go() -> Reply:
        transport = httpx.MockTransport(recording)
        async with Client(CREDS, transport=transport, clock=lambda: NOW, **options) as client:
            return await client.send(method, path, body)

    return asyncio.run(go()), seen


POST_DATA = '{"provider": "facebook", "object": "post", "post_id": 112233445510213097383563000}'
CASES = {
    "200 with data": (
        answer(200, envelope(200, "Post published", POST_DATA)),
        Reply(Verdict.SENT, 200, "Post published", {
            "provider": "facebook", "object": "post", "post_id": "112233445510213097383563000"}),
    ),
    "201": (
        answer(201, envelope(201, "Created", '{"picture_id": "998877"}')),
        Reply(Verdict.SENT, 201, "Created", {"picture_id": "998877"}),
    ),
    "207 partial": (
        answer(207, envelope(207, "1 of 2 attachments failed", '{"post_id": "1_2"}')),
        Reply(Verdict.SENT, 207, "partial success: 1 of 2 attachments failed",
                {"post_id": "1_2"}),
    ),
    "400": (
        answer(400, envelope(400, "Invalid request: link and attachments are exclusive")),
        Reply(Verdict.FAILED, 400, "Invalid request: link and attachments are exclusive"),
    ),
    "401": (
        answer(401, envelope(401, "Authentication failed")),
        Reply(Verdict.FAILED, 401,
                "Authentication failed (check ONEALL_PUBLIC_KEY and ONEALL_PRIVATE_KEY)"),
    ),
    "403": (
        answer(403, envelope(403, "Publish Pages permission missing")),
        Reply(Verdict.FAILED, 403, "Publish Pages permission missing"),
    ),
    "404": (
        answer(404, envelope(404, "Unknown identity_token")),
        Reply(Verdict.FAILED, 404, "Unknown identity_token"),
    ),
    "409": (
        answer(409, envelope(409, "Duplicate status")),
        Reply(Verdict.FAILED, 409, "Duplicate status"),
    ),
    "429 with seconds": (
        answer(429, envelope(429, "Too many requests"), {"Retry-After": "42"}),
        Reply(Verdict.RETRY, 429, "Too many requests", retry_after=42.0),
    ),
    "429 with an HTTP-date": (
        answer(429, envelope(429, "Too many requests"),
               {"Retry-After": "Tue, 01 Dec 2026 09:02:30 GMT"}),
        Reply(Verdict.RETRY, 429, "Too many requests", retry_after=150.0),
    ),
    "429 with a date already past": (
        answer(429, envelope(429, "Slow down"), {"Retry-After": "Tue, 01 Dec 2026 08:00:00 GMT"}),
        Reply(Verdict.RETRY, 429, "Slow down", retry_after=0.0),
    ),
    "429 with garbage Retry-After": (
        answer(429, envelope(429, "Slow down"), {"Retry-After": "soon"}),
        Reply(Verdict.RETRY, 429, "Slow down"),
    ),
    "429 without Retry-After": (
        answer(429, envelope(429, "Too many requests")),
        Reply(Verdict.RETRY, 429, "Too many requests"),
    ),
    "500": (
        answer(500, envelope(500, "Internal error")),
        Reply(Verdict.UNKNOWN, 500, f"Internal error: {MAY}"),
    ),
    "502": (
        answer(502, envelope(502, "API down for maintenance")),
        Reply(Verdict.UNKNOWN, 502, f"API down for maintenance: {MAY}"),
    ),
    "503 with Retry-After": (
        answer(503, envelope(503, "Overloaded"), {"Retry-After": "5"}),
        Reply(Verdict.RETRY, 503, "Overloaded", retry_after=5.0),
    ),
    "503 without Retry-After": (
        answer(503, envelope(503, "Overloaded")),
        Reply(Verdict.RETRY, 503, "Overloaded"),
    ),
    "504": (
        answer(504, b"<html>Gateway Timeout</html>"),
        Reply(Verdict.UNKNOWN, 504, "HTTP 504 with a body that is not a OneAll envelope: "
                f"'<html>Gateway Timeout</html>': {MAY}"),
    ),
    "408": (
        answer(408, envelope(408, "Request timeout")),
        Reply(Verdict.UNKNOWN, 408, f"Request timeout: {MAY}"),
    ),
    "418 other 4xx": (
        answer(418, envelope(418, "I'm a teapot")),
        Reply(Verdict.FAILED, 418, "I'm a teapot"),
    ),
    "connection refused": (
        failing(httpx.ConnectError, "[Errno 111] Connection refused"),
        Reply(Verdict.RETRY, None,
                "could not connect ([Errno 111] Connection refused): nothing was sent"),
    ),
    "connect timeout": (
        failing(httpx.ConnectTimeout, "timed out"),
        Reply(Verdict.RETRY, None, "connect timeout after 15.0 s: nothing was sent"),
    ),
    "pool timeout": (
        failing(httpx.PoolTimeout, ""),
        Reply(Verdict.RETRY, None, "no free connection after 15.0 s: nothing was sent"),
    ),
    "read timeout": (
        failing(httpx.ReadTimeout, "timed out"),
        Reply(Verdict.UNKNOWN, None, f"read timeout after 30.0 s: {MAY}"),
    ),
    "write timeout": (
        failing(httpx.WriteTimeout, "timed out"),
        Reply(Verdict.UNKNOWN, None, f"write timeout after 30.0 s: {MAY}"),
    ),
    "write error": (
        failing(httpx.WriteError, "[Errno 32] Broken pipe"),
        Reply(Verdict.UNKNOWN, None,
                f"the connection broke while sending ([Errno 32] Broken pipe): {MAY}"),
    ),
    "server dropped the connection": (
        failing(httpx.RemoteProtocolError, "Server disconnected without sending a response."),
        Reply(Verdict.UNKNOWN, None, "the server dropped the connection mid-answer "
                f"(Server disconnected without sending a response.): {MAY}"),
    ),
    "read error": (
        failing(httpx.ReadError, "[Errno 104] Connection reset by peer"),
        Reply(Verdict.UNKNOWN, None, "the connection broke before the answer arrived "
                f"([Errno 104] Connection reset by peer): {MAY}"),
    ),
    "other transport error": (
        failing(httpx.ProxyError, "ProxyError"),
        Reply(Verdict.UNKNOWN, None, f"ProxyError: {MAY}"),
    ),
    "200 with a non-JSON body": (
        answer(200, b"OK"),
        Reply(Verdict.UNKNOWN, 200,
                f"HTTP 200 with a body that is not a OneAll envelope: 'OK': {MAY}"),
    ),
    "200 with an empty body": (
        answer(200, b""),
        Reply(Verdict.UNKNOWN, 200, f"HTTP 200 with an empty body: {MAY}"),
    ),
    "400 with JSON that is not an envelope": (
        answer(400, b'{"error": "bad"}'),
        Reply(Verdict.FAILED, 400,
                "HTTP 400 with a body that is not a OneAll envelope: '{\"error\": \"bad\"}'"),
    ),
    "403 envelope without info": (
        answer(403, b'{"response": {"request": {"status": {"flag": "error", "code": 403}}}}'),
        Reply(Verdict.FAILED, 403, "HTTP 403 Forbidden"),
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_each_answer_is_classified_after_exactly_one_request(case: str) -> None:
    handler, expected = CASES[case]
    outcome, seen = exchange(handler)
    assert outcome == expected
    assert len(seen) == 1, "the client must never retry by itself"


def test_long_garbage_is_truncated_to_200_characters() -> None:
    outcome, _ = exchange(answer(502, b"x" * 5000))
    assert outcome.info == (f"HTTP 502 with a body that is not a OneAll envelope: "
                            f"'{'x' * 200}...': {MAY}")


def test_undecodable_bytes_do_not_crash() -> None:
    outcome, _ = exchange(answer(500, b"\xff\xfe\x00broken"))
    assert outcome.verdict is Verdict.UNKNOWN
    assert outcome.info == (
        f"HTTP 500 with a body that is not a OneAll envelope: '\ufffd\ufffd\\x00broken': {MAY}"
    )


def test_numbers_keep_their_exact_digits_and_nested_values_their_json() -> None:
    data = '{"post_id": 10213097383563000123456789, "score": 0.1000000000000000055, ' \
           '"ok": true, "pages": [{"id": 4563453, "name": "Acme"}], "none": null}'
    outcome, _ = exchange(answer(200, envelope(200, "ok", data)))
    assert outcome.data == {
        "post_id": "10213097383563000123456789",
        "score": "0.1000000000000000055",
        "ok": "true",
        "pages": '[{"id":"4563453","name":"Acme"}]',
        "none": "null",
    }


def test_request_carries_auth_headers_and_the_body_exactly() -> None:
    body = MappingProxyType({"request": {"push": {"post": {"message": "Grüße \"quoted\" ✓"}}}})
    outcome, seen = exchange(answer(200, envelope(200, "ok")), body=body)
    request = seen[0]
    assert outcome == Reply(Verdict.SENT, 200, "ok")
    assert request.method == "POST"
    assert str(request.url) == f"https://acme.api.oneall.com{PATH}"
    assert request.headers["Authorization"] == f"Basic {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"] == "pushcal/0.1.0"
    assert json.loads(request.content) == {"request": {"push": {"post": {
        "message": "Grüße \"quoted\" ✓"}}}}


def test_timeouts_are_explicit_for_every_phase() -> None:
    _, seen = exchange(answer(200, envelope(200, "ok")), connect_timeout=3.0, read_timeout=9.0)
    assert seen[0].extensions["timeout"] == {"connect": 3.0, "read": 9.0, "write": 9.0,
                                             "pool": 3.0}


def test_read_timeout_info_names_the_configured_timeout() -> None:
    outcome, _ = exchange(failing(httpx.ReadTimeout, "timed out"), read_timeout=12.5)
    assert outcome.info == f"read timeout after 12.5 s: {MAY}"


def test_pull_is_one_get_without_a_body() -> None:
    listing = '{"pages": [{"id": "4563453", "name": "Acme"}]}'
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=envelope(200, "2 pages", listing))

    async def go() -> Reply:
        async with Client(CREDS, transport=httpx.MockTransport(handler)) as client:
            return await client.pull("/pull/identities/abc/facebook/pages.json")

    outcome = asyncio.run(go())
    assert outcome == Reply(Verdict.SENT, 200, "2 pages",
                              {"pages": '[{"id":"4563453","name":"Acme"}]'})
    assert [(r.method, r.url.path, r.content) for r in seen] == [
        ("GET", "/pull/identities/abc/facebook/pages.json", b"")]


def test_one_client_serves_many_concurrent_sends() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=envelope(200, "ok", '{"post_id": 1}'))

    async def go() -> list[Reply]:
        async with Client(CREDS, transport=httpx.MockTransport(handler)) as client:
            return await asyncio.gather(*(client.send("POST", PATH, BODY) for _ in range(100)))

    outcomes = asyncio.run(go())
    assert {o.verdict for o in outcomes} == {Verdict.SENT}
    assert len(seen) == 100


def test_base_url_from_env_is_used_for_requests() -> None:
    creds = Credentials.from_env(env(ONEALL_BASE_URL="http://127.0.0.1:8765/oneall/"))
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=envelope(200, "ok"))

    async def go() -> Reply:
        async with Client(creds, transport=httpx.MockTransport(handler)) as client:
            return await client.send("POST", PATH, BODY)

    assert asyncio.run(go()).verdict is Verdict.SENT
    assert str(seen[0].url) == f"http://127.0.0.1:8765/oneall{PATH}"


# --- credentials ---------------------------------------------------------------------------


def env(**overrides: str) -> dict[str, str]:
    base = {"ONEALL_SUBDOMAIN": "acme", "ONEALL_PUBLIC_KEY": PUBLIC, "ONEALL_PRIVATE_KEY": PRIVATE}
    return {**base, **overrides}


def test_from_env_reads_the_keys_and_defaults_the_base_url() -> None:
    creds = Credentials.from_env(env())
    assert creds == Credentials("acme", PUBLIC, PRIVATE, "https://acme.api.oneall.com")


def test_from_env_names_exactly_the_missing_variables() -> None:
    with pytest.raises(CredentialsError) as caught:
        Credentials.from_env({"ONEALL_SUBDOMAIN": "acme", "ONEALL_PUBLIC_KEY": ""})
    assert str(caught.value) == (
        "missing environment variables ONEALL_PUBLIC_KEY, ONEALL_PRIVATE_KEY: "
        "export ONEALL_PUBLIC_KEY=... ONEALL_PRIVATE_KEY=... with your OneAll site's "
        "subdomain and API keys (`--sandbox` needs none)"
    )


def test_from_env_names_a_single_missing_variable() -> None:
    with pytest.raises(CredentialsError, match=r"^missing environment variable ONEALL_SUBDOMAIN: "
                       r"export ONEALL_SUBDOMAIN=\.\.\. "):
        Credentials.from_env({"ONEALL_PUBLIC_KEY": PUBLIC, "ONEALL_PRIVATE_KEY": PRIVATE})


@pytest.mark.parametrize("url", ["http://acme.example.com", "http://10.0.0.1:8000",
                                 "http://127.0.0.1.evil.com"])
def test_plain_http_is_refused_for_other_hosts(url: str) -> None:
    with pytest.raises(CredentialsError) as caught:
        Credentials.from_env(env(ONEALL_BASE_URL=url))
    assert str(caught.value) == (
        f"ONEALL_BASE_URL {url!r} uses plain http, allowed only for loopback hosts "
        "(127.0.0.1, ::1, localhost): the keys would travel in clear text"
    )


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000", "http://127.3.2.1", "http://[::1]:9",
                                 "http://localhost:8000", "https://oneall.example.com"])
def test_plain_http_is_allowed_for_loopback(url: str) -> None:
    assert Credentials.from_env(env(ONEALL_BASE_URL=url)).base_url == url


def test_other_schemes_are_refused() -> None:
    with pytest.raises(CredentialsError, match=r"^ONEALL_BASE_URL 'ftp://x' must start with"):
        Credentials.from_env(env(ONEALL_BASE_URL="ftp://x"))


def test_subdomain_is_validated() -> None:
    with pytest.raises(CredentialsError) as caught:
        Credentials.from_env(env(ONEALL_SUBDOMAIN="Acme.evil"))
    assert str(caught.value) == "ONEALL_SUBDOMAIN must be lowercase letters, digits and '-' only"


def test_malformed_keys_are_named_but_never_echoed() -> None:
    secret = "my-secret-private-value"
    with pytest.raises(CredentialsError) as caught:
        Credentials.from_env(env(ONEALL_PUBLIC_KEY="pub", ONEALL_PRIVATE_KEY=secret))
    assert str(caught.value) == (
        "ONEALL_PUBLIC_KEY is not UUID-shaped (8-4-4-4-12 hex digits; check for quotes or "
        "spaces around it); ONEALL_PRIVATE_KEY is not UUID-shaped (8-4-4-4-12 hex digits; "
        "check for quotes or spaces around it)"
    )
    assert secret not in repr(caught.value)


def test_credentials_in_the_base_url_are_refused_without_echo() -> None:
    with pytest.raises(CredentialsError) as caught:
        Credentials.from_env(env(ONEALL_BASE_URL=f"https://{PUBLIC}:{PRIVATE}@acme.example.com"))
    assert str(caught.value) == (
        "ONEALL_BASE_URL must not carry credentials; they come from the keys")


# --- secrets never leak --------------------------------------------------------------------


def test_repr_and_str_hide_the_private_key() -> None:
    client = Client(CREDS, transport=httpx.MockTransport(answer(200, b"")))
    shown = [repr(CREDS), str(CREDS), repr(client), str(client)]
    assert shown[0] == ("Credentials(subdomain='acme', public_key='0f1e2d3c-4b5a-6978-8a9b-"
                        "acbdcedf0a1b', base_url='https://acme.api.oneall.com')")
    assert repr(client) == "Client(base_url='https://acme.api.oneall.com')"
    for text in shown:
        assert PRIVATE not in text
        assert TOKEN not in text
    asyncio.run(client.aclose())


@pytest.mark.parametrize("case", CASES)
def test_no_outcome_contains_a_key(case: str) -> None:
    outcome, _ = exchange(CASES[case][0])
    assert PRIVATE not in repr(outcome)
    assert TOKEN not in repr(outcome)


def test_keys_echoed_by_the_server_or_an_exception_are_scrubbed() -> None:
    echoed, _ = exchange(answer(401, envelope(401, f"bad key {PRIVATE} / Basic {TOKEN}")))
    assert echoed.info == ("bad key *** / Basic *** "
                           "(check ONEALL_PUBLIC_KEY and ONEALL_PRIVATE_KEY)")
    raised, _ = exchange(failing(httpx.ConnectError, f"proxy said {PRIVATE}"))
    assert raised.info == "could not connect (proxy said ***): nothing was sent"
