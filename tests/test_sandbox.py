"""The OneAll sandbox, tested over real HTTP on a free loopback port.

Endpoint facts come from `runner.oneall.endpoints`, so every row of the table is exercised: a
minimal valid request is accepted with the table's result fields, and one missing a required
field is refused naming it. The rest covers what the daemon and the chaos runs rely on:
attachments, identities, duplicates, faults, async callbacks and introspection.
"""

from __future__ import annotations

import asyncio
import io
import json
import queue
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import httpx
import pytest

from runner.oneall import Client, Credentials, Reply, Verdict
from runner.oneall.endpoints import (
    ATTACHMENTS_FIELD,
    ENDPOINTS,
    LOCATIONS,
    PARAM_SHAPES,
    PULL_LISTINGS,
    QUEUED_FIELD,
    QUEUED_VALUE,
    Endpoint,
    Listing,
)
from runner.sandbox import (
    SANDBOX_PRIVATE_KEY,
    SANDBOX_PUBLIC_KEY,
    Faults,
    Received,
    Sandbox,
    serve_forever,
)

AUTH = (SANDBOX_PUBLIC_KEY, SANDBOX_PRIVATE_KEY)
PARAMS = {"board": "549755813888", "playlist": "PLsandboxPlaylist0001"}
ENUMERATED = {"type": "singlePlaylist", "style": "horizontalRow", "privacy_status": "public"}
PAGE = "104598372910345"


class Clock:
    """A settable clock for the sandbox (Twitter picture expiry)."""

    def __init__(self, now: float = 1_790_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sandbox(clock: Clock) -> Iterator[Sandbox]:
    with Sandbox(clock=clock) as running:
        yield running


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, auth=AUTH, timeout=5.0) as http:
        yield http


def identity() -> str:
    return str(uuid.uuid4())


def value(name: str, kind: str) -> Any:
    if kind == "str":
        if name in ENUMERATED:
            return ENUMERATED[name]
        url_like = name in ("url", "link", "picture") or name.endswith("_url")
        return f"https://cdn.example.com/{name}.jpg" if url_like else f"Launch {name}"
    return {"bool": False, "int": 1, "ids": []}[kind]


def minimal(endpoint: Endpoint) -> dict[str, Any]:
    names = list(endpoint.required)
    if endpoint.any_of and not set(names) & set(endpoint.any_of):
        names.append(endpoint.any_of[0])
    return {name: value(name, endpoint.fields[name]) for name in names}


def wrap(endpoint: Endpoint, fields: dict[str, Any]) -> dict[str, Any]:
    node: dict[str, Any] = fields
    for key in reversed(endpoint.object_key):
        node = {key: node}
    return {"request": {"push": node}}


def push(client: httpx.Client, key: str, who: str, fields: dict[str, Any]) -> httpx.Response:
    endpoint = ENDPOINTS[key]
    params = {name: PARAMS[name] for name in endpoint.path_params}
    return client.post(endpoint.full_path(who, **params), json=wrap(endpoint, fields))


def status(response: httpx.Response) -> dict[str, Any]:
    return dict(response.json()["response"]["request"]["status"])


def data(response: httpx.Response) -> dict[str, Any]:
    return dict(response.json()["response"]["result"]["data"])


def eventually(check: Callable[[], bool], what: str) -> None:
    """Wait for something a background thread does; a deadline, not a speed claim."""
    deadline = time.monotonic() + 10.0
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"never happened: {what}")
        time.sleep(0.01)


# --- every endpoint of the table ----------------------------------------------------------


@pytest.mark.parametrize("key", sorted(ENDPOINTS))
def test_minimal_valid_request_is_accepted_with_the_tables_result(
        client: httpx.Client, sandbox: Sandbox, key: str) -> None:
    endpoint = ENDPOINTS[key]
    response = push(client, key, identity(), minimal(endpoint))
    assert response.status_code == 200, response.text
    assert status(response) == {"flag": "success", "code": 200, "info": status(response)["info"]}
    result = data(response)
    assert result["provider"] == endpoint.provider
    [record] = sandbox.created()
    if endpoint.asynchronous:
        assert result == {"provider": endpoint.provider, "object": "video",
                          QUEUED_FIELD: QUEUED_VALUE}
        return
    assert set(result) == {"provider", "object", *endpoint.result}
    assert record.created is not None and record.created.isdigit()
    assert result[endpoint.id_field] == record.created
    if endpoint.location_field:
        assert result[endpoint.location_field].startswith("https://")
        assert record.created in result[endpoint.location_field]


@pytest.mark.parametrize("key", sorted(ENDPOINTS))
def test_request_missing_a_required_field_is_refused_naming_it(
        client: httpx.Client, sandbox: Sandbox, key: str) -> None:
    endpoint = ENDPOINTS[key]
    fields = minimal(endpoint)
    missing = endpoint.required[0] if endpoint.required else None
    fields.pop(missing or endpoint.any_of[0])
    if not missing:
        assert fields == {}, "the any_of case must leave nothing of the group"
    response = push(client, key, identity(), fields)
    assert response.status_code == 400
    info = status(response)["info"]
    assert status(response)["flag"] == "error" and "result" not in response.json()["response"]
    if missing:
        assert f"missing required field '{missing}'" in info
    else:
        assert "at least one of " + ", ".join(f"'{n}'" for n in endpoint.any_of) in info
    assert sandbox.created() == []


# --- bodies --------------------------------------------------------------------------------


def test_unknown_fields_are_refused_by_name(client: httpx.Client) -> None:
    response = push(client, "twitter/post", identity(), {"message": "hi", "mesage": "typo"})
    assert response.status_code == 400
    assert "unknown field 'mesage'" in status(response)["info"]


@pytest.mark.parametrize(("key", "fields", "expected"), [
    ("twitter/post", {"message": 5}, "'message' must be a non-empty string, got a number"),
    ("twitter/post", {"message": "  "}, "'message' must be a non-empty string, got an empty"),
    ("facebook/picture", {"url": "https://x.example/a.jpg", "create_post": "no"},
     "'create_post' must be true or false, got a string"),
    ("youtube/playlist/video", {"id": "abc", "position": "3"},
     "'position' must be an integer, got a string"),
    ("youtube/playlist/video", {"id": "abc", "position": True},
     "'position' must be an integer, got a boolean"),
    ("twitter/post", {"message": "hi", "attachments": [7]},
     "'attachments' must be a list of non-empty id strings, got a list holding a number"),
    ("youtube/playlist", {"title": "T", "privacy_status": "secret"},
     "'privacy_status' must be one of public, private, unlisted"),
    ("facebook/picture", {"url": "launch.jpg"}, "'url' must be an absolute http(s) URL"),
])
def test_wrong_types_are_refused(client: httpx.Client, key: str, fields: dict[str, Any],
                                 expected: str) -> None:
    response = push(client, key, identity(), fields)
    assert response.status_code == 400
    assert expected in status(response)["info"]


def test_link_and_attachments_together_are_refused(client: httpx.Client) -> None:
    fields = {"id": PAGE, "link": "https://example.com/", "attachments": ["1"]}
    response = push(client, "facebook/page/post", identity(), fields)
    assert response.status_code == 400
    assert "'link', 'attachments' cannot be used together" in status(response)["info"]


@pytest.mark.parametrize(("content_type", "body", "expected"), [
    ("text/plain", b"{}", "Content-Type must be application/json, got 'text/plain'"),
    ("application/json", b"", "the request body is empty"),
    ("application/json", b"{nope", "the request body is not valid JSON"),
    ("application/json", b'{"request": {"push": {"tweet": {}}}}',
     "$.request.push must hold exactly the key 'post', found 'tweet'"),
    ("application/json", b'{"request": {"push": {"post": {}}}, "extra": 1}',
     "$ must hold exactly the key 'request'"),
    ("application/json", b'{"request": {"push": {"post": ["hi"]}}}',
     "$.request.push.post must be an object of fields, got a list"),
])
def test_malformed_bodies_are_refused_precisely(client: httpx.Client, content_type: str,
                                                body: bytes, expected: str) -> None:
    path = ENDPOINTS["twitter/post"].full_path(identity())
    response = client.post(path, content=body, headers={"Content-Type": content_type})
    assert response.status_code == 400
    assert expected in status(response)["info"]


def test_nested_object_key_is_required_for_channel_sections(client: httpx.Client) -> None:
    path = ENDPOINTS["youtube/channel/section"].full_path(identity())
    response = client.post(path, json={"request": {"push": {"section": {"type": "likes"}}}})
    assert response.status_code == 400
    assert '{"request": {"push": {"channel": {"section": {...}}}}}' in status(response)["info"]


# --- attachments ---------------------------------------------------------------------------


def upload(client: httpx.Client, key: str, who: str, **extra: Any) -> str:
    response = push(client, key, who, {"url": "https://cdn.example.com/a.jpg", **extra})
    assert response.status_code == 200, response.text
    return str(data(response)[ENDPOINTS[key].id_field])


def test_attachment_ids_must_have_been_issued_to_the_same_identity(
        client: httpx.Client) -> None:
    owner, other = identity(), identity()
    picture = upload(client, "facebook/picture", owner, create_post=False)
    for who, ids in ((owner, ["123456"]), (other, [picture])):
        response = push(client, "facebook/post", who, {"attachments": ids})
        assert response.status_code == 400
        assert f"unknown attachment id '{ids[0]}'" in status(response)["info"]


def test_issued_upload_can_be_attached(client: httpx.Client, sandbox: Sandbox) -> None:
    who = identity()
    picture = upload(client, "facebook/page/picture", who, id=PAGE, create_post=False)
    video = upload(client, "facebook/page/video", who, id=PAGE, create_post=False)
    response = push(client, "facebook/page/post", who,
                    {"id": PAGE, "message": "Launch", "attachments": [picture, video]})
    assert response.status_code == 200, response.text
    assert len(sandbox.created()) == 3


def test_published_facebook_picture_is_not_attachable(client: httpx.Client) -> None:
    who = identity()
    picture = upload(client, "facebook/picture", who)  # create_post defaults to true
    response = push(client, "facebook/post", who, {"attachments": [picture]})
    assert response.status_code == 400
    assert "create_post false" in status(response)["info"]


def test_twitter_pictures_expire_after_24_hours(client: httpx.Client, clock: Clock) -> None:
    who = identity()
    fresh = upload(client, "twitter/picture", who)
    clock.now += 23.9 * 3600
    assert push(client, "twitter/post", who,
                {"message": "in time", "attachments": [fresh]}).status_code == 200
    stale = upload(client, "twitter/picture", who)
    clock.now += 24 * 3600 + 1
    response = push(client, "twitter/post", who, {"message": "late", "attachments": [stale]})
    assert response.status_code == 400
    assert f"attachment id '{stale}' has expired" in status(response)["info"]


# --- auth, identities, routes --------------------------------------------------------------


@pytest.mark.parametrize("auth", [None, (SANDBOX_PUBLIC_KEY, "wrong-private-key-1234")])
def test_bad_credentials_get_401_without_echoing_them(
        sandbox: Sandbox, auth: tuple[str, str] | None) -> None:
    with httpx.Client(base_url=sandbox.url, auth=auth) as http:
        response = push(http, "twitter/post", identity(), {"message": "hi"})
    assert response.status_code == 401
    assert status(response)["info"].startswith("Authentication failed")
    assert "wrong-private-key" not in response.text and SANDBOX_PRIVATE_KEY not in response.text
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert sandbox.created() == []


def test_custom_keys_are_the_only_ones_accepted(clock: Clock) -> None:
    keys = ("11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222")
    with Sandbox(public_key=keys[0], private_key=keys[1], clock=clock) as own:
        env = own.env()
        with httpx.Client(base_url=env["ONEALL_BASE_URL"], auth=keys) as http:
            assert push(http, "twitter/post", identity(), {"message": "hi"}).status_code == 200
        with httpx.Client(base_url=own.url, auth=AUTH) as http:
            assert push(http, "twitter/post", identity(), {"message": "hi"}).status_code == 401
    assert env["ONEALL_PUBLIC_KEY"] == keys[0] and env["ONEALL_SUBDOMAIN"] == "sandbox"


def test_identity_belongs_to_the_first_provider_used(client: httpx.Client) -> None:
    who = identity()
    assert push(client, "twitter/post", who, {"message": "hi"}).status_code == 200
    response = push(client, "linkedin/post", who, {"link": "https://example.com/"})
    assert response.status_code == 404
    assert f"identity {who} is a twitter identity" in status(response)["info"]


@pytest.mark.parametrize(("method", "path", "code", "expected"), [
    ("POST", "/push/identities/{who}/twitter/status.json", 404, "unknown resource"),
    ("POST", "/push/identities/not-a-uuid/twitter/post.json", 404, "unknown identity"),
    ("POST", "/push/identities/{who}/pinterest/board/my-board/pin.json", 404,
     "Pinterest board ids are digits"),
    ("GET", "/somewhere/else", 404, "unknown resource"),
    ("GET", "/push/identities/{who}/twitter/post.json", 405, "only accepts POST"),
    ("POST", "/pull/identities/{who}/twitter/tweets.json", 405, "only accepts GET"),
])
def test_unknown_resources_and_wrong_methods(client: httpx.Client, method: str, path: str,
                                             code: int, expected: str) -> None:
    response = client.request(method, path.format(who=identity()), json={})
    assert response.status_code == code
    assert status(response)["flag"] == "error" and expected in status(response)["info"]


# --- records and duplicates ----------------------------------------------------------------


def test_identical_creations_are_flagged_as_duplicates(client: httpx.Client,
                                                       sandbox: Sandbox) -> None:
    who = identity()
    first = push(client, "twitter/post", who, {"message": "Once"})
    second = push(client, "twitter/post", who, {"message": "Once"})
    other = push(client, "twitter/post", who, {"message": "Twice"})
    assert [r.status_code for r in (first, second, other)] == [200, 200, 200]
    one, two, three = sandbox.created()
    assert (one.duplicate_of, two.duplicate_of, three.duplicate_of) == (None, one.seq, None)
    assert one.created != two.created
    assert two.endpoint == "twitter/post" and two.identity == who
    assert two.body == {"request": {"push": {"post": {"message": "Once"}}}}


def test_a_hundred_keep_alive_connections_at_once_get_unique_ids(sandbox: Sandbox) -> None:
    all_open = threading.Barrier(100, timeout=30)
    results: list[list[str]] = []

    def send(n: int) -> None:
        with httpx.Client(base_url=sandbox.url, auth=AUTH, timeout=30) as http:
            ids = [data(push(http, "twitter/post", identity(), {"message": f"{n}/0"}))["post_id"]]
            all_open.wait()  # every client now holds its own keep-alive connection
            ids += [data(push(http, "twitter/post", identity(), {"message": f"{n}/{i}"}))
                    ["post_id"] for i in (1, 2)]
        results.append(ids)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [post for batch in results for post in batch]
    assert len(ids) == len(set(ids)) == 300
    assert sorted(r.seq for r in sandbox.received()) == list(range(1, 301))


# --- faults --------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "retry_after"), [("503", "1"), ("429", "1"), ("500", None)])
def test_http_faults_answer_the_code_and_create_nothing(
        client: httpx.Client, sandbox: Sandbox, code: str, retry_after: str | None) -> None:
    sandbox.set_faults(Faults(fail_rate=1.0, fail_codes=(code,)))
    response = push(client, "twitter/post", identity(), {"message": "hi"})
    assert response.status_code == int(code)
    assert response.headers.get("Retry-After") == retry_after
    assert status(response)["flag"] == "error"
    [record] = sandbox.received()
    assert (record.fault, record.status, record.created) == (code, int(code), None)


def test_timeout_fault_creates_the_object_but_never_answers(sandbox: Sandbox) -> None:
    sandbox.set_faults(Faults(fail_rate=1.0, fail_codes=("timeout",), hang_s=2.0))
    with httpx.Client(base_url=sandbox.url, auth=AUTH, timeout=0.3) as http, \
            pytest.raises(httpx.ReadTimeout):
        push(http, "twitter/post", identity(), {"message": "posted but unanswered"})
    [record] = sandbox.created()
    assert (record.fault, record.status) == ("timeout", 0)


def test_reset_after_fault_creates_the_object_then_cuts_the_connection(
        client: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.set_faults(Faults(fail_rate=1.0, fail_codes=("reset-after",)))
    with pytest.raises(httpx.TransportError):
        push(client, "twitter/post", identity(), {"message": "posted, then reset"})
    [record] = sandbox.created()
    assert record.fault == "reset-after"


def test_drop_fault_creates_nothing(client: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.set_faults(Faults(fail_rate=1.0, fail_codes=("drop",)))
    with pytest.raises(httpx.TransportError):
        push(client, "twitter/post", identity(), {"message": "never arrives"})
    [record] = sandbox.received()
    assert (record.fault, record.status, record.created) == ("drop", 0, None)
    sandbox.set_faults(Faults())
    assert push(client, "twitter/post", identity(), {"message": "ok"}).status_code == 200


def refused_by_pushcal(url: str) -> Reply:
    """What `runner.oneall.client` makes of a push sent to `url` (the sandbox's keys)."""
    creds = Credentials("sandbox", SANDBOX_PUBLIC_KEY, SANDBOX_PRIVATE_KEY, url)

    async def send() -> Reply:
        async with Client(creds, connect_timeout=5.0, read_timeout=5.0) as pushcal:
            endpoint = ENDPOINTS["twitter/post"]
            body = wrap(endpoint, {"message": "knocks on a closed port"})
            return await pushcal.send("POST", endpoint.full_path(identity()), body)

    return asyncio.run(send())


def test_refuse_fault_answers_then_the_port_refuses_new_connections(sandbox: Sandbox) -> None:
    sandbox.set_faults(Faults(fail_rate=1.0, fail_codes=("refuse",), refuse_s=60.0))
    with httpx.Client(base_url=sandbox.url, auth=AUTH, timeout=5.0) as http:
        answered = push(http, "twitter/post", identity(), {"message": "answered, then closed"})
    assert (answered.status_code, answered.headers["Connection"]) == (200, "close")
    # The port closed before that answer left, so this new connection is refused: provably
    # unsent, which pushcal's client classifies as safe to retry.
    outcome = refused_by_pushcal(sandbox.url)
    assert outcome.verdict is Verdict.RETRY, outcome
    assert outcome.status is None and "could not connect" in outcome.info
    [record] = sandbox.received()
    assert (record.fault, record.status) == ("refuse", 200) and record.created is not None
    sandbox.stop()  # ends the outage at once instead of waiting out its 60 s


def test_after_a_refusal_the_same_port_listens_again(sandbox: Sandbox) -> None:
    url = sandbox.url
    sandbox.set_faults(Faults(fail_rate=1.0, fail_codes=("refuse",), refuse_s=0.2))
    with httpx.Client(base_url=url, auth=AUTH, timeout=5.0) as http:
        assert push(http, "twitter/post", identity(), {"message": "first"}).status_code == 200
    sandbox.set_faults(Faults())
    answers: list[int] = []

    def reachable() -> bool:
        try:
            with httpx.Client(base_url=url, auth=AUTH, timeout=5.0) as http:
                answers.append(push(http, "twitter/post", identity(), {"message": "x"}).status_code)
        except httpx.ConnectError:
            return False
        return True

    eventually(reachable, "the port listens again")
    assert sandbox.url == url and answers == [200]


def test_without_keep_alive_every_answer_closes_its_connection(client: httpx.Client,
                                                               sandbox: Sandbox) -> None:
    sandbox.set_faults(Faults(keep_alive=False))
    pushed = push(client, "twitter/post", identity(), {"message": "one connection each"})
    listed = client.get("/_sandbox/received")
    assert [pushed.headers["Connection"], listed.headers["Connection"]] == ["close", "close"]
    sandbox.set_faults(Faults())
    assert "Connection" not in client.get("/_sandbox/received").headers


def test_seeded_faults_repeat_and_mix(clock: Clock) -> None:
    faults = Faults(fail_rate=0.5, fail_codes=("503", "429"), seed=7)
    runs = []
    for _ in range(2):
        with Sandbox(faults=faults, clock=clock) as box, \
                httpx.Client(base_url=box.url, auth=AUTH) as http:
            runs.append([push(http, "twitter/post", identity(), {"message": "x"}).status_code
                         for _ in range(30)])
    assert runs[0] == runs[1]
    assert {200, 503, 429} == set(runs[0])


def test_invalid_fault_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown fault 'explode'"):
        Faults(fail_codes=("explode",))
    with pytest.raises(ValueError, match="fail_rate"):
        Faults(fail_rate=1.5)


# --- asynchronous uploads ------------------------------------------------------------------


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.got.put((self.path, json.loads(body)))  # type: ignore[attr-defined]
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, queue.Queue[Any]]]:
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    server.got = queue.Queue()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", server.got  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.mark.parametrize("key", ["twitter/video", "youtube/video"])
def test_async_video_result_is_posted_to_a_loopback_callback(
        client: httpx.Client, sandbox: Sandbox, receiver: tuple[str, queue.Queue[Any]],
        key: str) -> None:
    base, got = receiver
    fields = {**minimal(ENDPOINTS[key]), "callback_url": f"{base}/done?job=1"}
    response = push(client, key, identity(), fields)
    assert data(response)[QUEUED_FIELD] == QUEUED_VALUE
    path, document = got.get(timeout=10)
    [record] = sandbox.created()
    assert path == "/done?job=1"
    assert document["response"]["request"]["status"]["flag"] == "success"
    assert document["response"]["result"]["data"]["video_id"] == record.created
    eventually(lambda: sandbox.received()[0].callback == "delivered 204", "callback recorded")


def test_callbacks_to_other_hosts_are_skipped_and_recorded(client: httpx.Client,
                                                           sandbox: Sandbox) -> None:
    fields = {"video_url": "https://cdn.example.com/v.mp4",
              "callback_url": "http://192.0.2.10/hook"}
    assert push(client, "twitter/video", identity(), fields).status_code == 200
    [record] = sandbox.created()
    assert record.callback == "skipped: 192.0.2.10 is not a loopback address"


# --- pull API ------------------------------------------------------------------------------


def entries(response: httpx.Response, name: str) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return list(data(response)[name]["entries"])


def test_pull_lists_what_was_created_for_the_identity(client: httpx.Client) -> None:
    who = identity()
    post = data(push(client, "facebook/page/post", who, {"id": PAGE, "message": "Hello"}))
    upload(client, "facebook/page/picture", who, id=PAGE, create_post=False)  # not a post
    pages = entries(client.get(f"/pull/identities/{who}/facebook/pages.json"), "pages")
    assert pages == [{"id": PAGE, "name": "Sandbox Page"}]
    posts = entries(client.get(f"/pull/identities/{who}/facebook/page/{PAGE}/posts.json"),
                    "posts")
    assert posts == [{"id": post["post_id"], "location": post["post_location"],
                      "message": "Hello"}]
    assert entries(client.get(f"/pull/identities/{identity()}/facebook/page/{PAGE}/posts.json"),
                   "posts") == []


def test_pull_boards_include_created_ones(client: httpx.Client) -> None:
    who = identity()
    board = data(push(client, "pinterest/board", who, {"name": "Launches"}))["board_id"]
    boards = entries(client.get(f"/pull/identities/{who}/pinterest/boards.json"), "boards")
    assert [b["name"] for b in boards] == ["Sandbox Board", "Launches"]
    assert boards[1]["id"] == board


# --- introspection, binding, the CLI entry -------------------------------------------------


def test_introspection_endpoints(client: httpx.Client, sandbox: Sandbox) -> None:
    push(client, "twitter/post", identity(), {"message": "seen"})
    with httpx.Client(base_url=sandbox.url) as anonymous:
        listed = anonymous.get("/_sandbox/received").json()
        assert [Received(**item) for item in listed] == sandbox.received()
        settings = {"latency_ms": 0, "fail_rate": 1.0, "fail_codes": ["429"], "seed": 1}
        assert anonymous.post("/_sandbox/faults", json=settings).status_code == 200
        assert push(client, "twitter/post", identity(), {"message": "x"}).status_code == 429
        refused = anonymous.post("/_sandbox/faults", json={"fail_rate": 2})
        assert refused.status_code == 400 and "fail_rate" in refused.json()["error"]
        assert anonymous.get("/_sandbox/reset").status_code == 405
        assert anonymous.post("/_sandbox/reset").json() == {"reset": True}
        assert anonymous.get("/_sandbox/received").json() == []
        assert anonymous.get("/_sandbox/faults").json()["fail_codes"] == ["429"]


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com", "::"])
def test_binding_a_non_loopback_host_is_refused(host: str) -> None:
    with pytest.raises(ValueError, match="loopback only"):
        Sandbox(host=host)


def test_localhost_binds_and_reports_its_url() -> None:
    with Sandbox(host="localhost") as box:
        assert box.url.startswith("http://127.0.0.1:")
    with pytest.raises(RuntimeError):
        _ = box.url


def test_serve_forever_logs_each_request_and_a_summary() -> None:
    out, stop = io.StringIO(), threading.Event()
    thread = threading.Thread(target=serve_forever, args=("127.0.0.1", 0, Faults(), out),
                              kwargs={"stop": stop})
    thread.start()
    eventually(lambda: "listening on" in out.getvalue(), "the URL line")
    url = out.getvalue().split("listening on ")[1].split()[0]
    who = identity()
    with httpx.Client(base_url=url, auth=AUTH) as http:
        for _ in range(2):
            push(http, "twitter/post", who, {"message": "twice"})
    stop.set()
    thread.join()
    first, one, two, last = out.getvalue().splitlines()
    assert f"ONEALL_BASE_URL={url}" in first and "ONEALL_SUBDOMAIN=sandbox" in first
    assert one.startswith(f"#1 twitter/post {who} 200 created ")
    assert two.endswith("DUPLICATE of #1")
    assert last == ("sandbox stopped: 2 push requests, 2 created, 1 duplicates, 0 faults "
                    "(answers 200: 2)")


# --- the table's columns, as the sandbox applies them -------------------------------------

SAMPLE_IDS = {**PARAMS, "page": PAGE, "group": "203948576102938", "company": "12345678"}
URL_FIELDS = [(key, name) for key, row in sorted(ENDPOINTS.items()) for name in row.url_fields]
ENUMS = [(key, name, allowed) for key, row in sorted(ENDPOINTS.items())
         for name, allowed in row.enums.items()]
# Facebook and Twitter posts take attachments; every endpoint of those providers is tried.
POST_WITH_ATTACHMENTS = {"facebook": "facebook/post", "twitter": "twitter/post"}
ATTACHING = sorted(key for key, row in ENDPOINTS.items() if row.provider in POST_WITH_ATTACHMENTS)


def slots(path: str) -> list[str]:
    return re.findall(r"\{(\w+)\}", path)


@pytest.mark.parametrize(("key", "name"), URL_FIELDS)
def test_url_fields_refuse_what_is_not_a_web_url(client: httpx.Client, key: str,
                                                 name: str) -> None:
    response = push(client, key, identity(), {**minimal(ENDPOINTS[key]), name: "launch.jpg"})
    assert response.status_code == 400
    assert f"'{name}' must be an absolute http(s) URL, got 'launch.jpg'" in status(response)["info"]


@pytest.mark.parametrize("key", sorted(ENDPOINTS))
def test_text_fields_outside_url_fields_take_plain_text(client: httpx.Client, key: str) -> None:
    row = ENDPOINTS[key]
    fields = {name: f"https://cdn.example.com/{name}" if name in row.url_fields else
              row.enums[name][0] if name in row.enums else f"plain {name}"
              for name, kind in row.fields.items() if kind == "str"}
    response = push(client, key, identity(), {**minimal(row), **fields})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(("key", "name", "allowed"), ENUMS)
def test_enumerated_fields_take_only_their_values(client: httpx.Client, key: str, name: str,
                                                  allowed: tuple[str, ...]) -> None:
    row, who = ENDPOINTS[key], identity()
    for good in allowed:
        assert push(client, key, who, {**minimal(row), name: good}).status_code == 200
    response = push(client, key, who, {**minimal(row), name: "other"})
    assert response.status_code == 400
    assert f"'{name}' must be one of {', '.join(allowed)}, got 'other'" in status(response)["info"]


@pytest.mark.parametrize("name", sorted(PARAM_SHAPES))
def test_path_ids_of_another_shape_name_nothing(client: httpx.Client, name: str) -> None:
    pushes = [row for row in ENDPOINTS.values() if name in row.path_params]
    pulls = [row for row in PULL_LISTINGS if name in slots(row.path)]
    assert pushes or pulls, f"PARAM_SHAPES[{name!r}] is used by no path"
    for row in pushes:
        params = {**SAMPLE_IDS, name: "x.y"}
        path = row.full_path(identity(), **{p: params[p] for p in row.path_params})
        response = client.post(path, json=wrap(row, minimal(row)))
        assert response.status_code == 404
        assert PARAM_SHAPES[name].why in status(response)["info"]
    for listing in pulls:
        path = listing.path.format(**{**SAMPLE_IDS, name: "x.y"})
        response = client.get(f"/pull/identities/{identity()}/{path}")
        assert response.status_code == 404
        assert PARAM_SHAPES[name].why in status(response)["info"]


@pytest.mark.parametrize("listing", PULL_LISTINGS, ids=lambda listing: listing.path)
def test_each_pull_listing_shows_what_its_push_endpoints_created(
        client: httpx.Client, sandbox: Sandbox, listing: Listing) -> None:
    who = identity()
    for key in listing.lists:
        row = ENDPOINTS[key]
        assert row.provider == listing.provider
        fields = minimal(row)
        if listing.scope and listing.scope[1] in row.fields:
            fields[listing.scope[1]] = SAMPLE_IDS[listing.scope[0]]
        params = {p: SAMPLE_IDS[p] for p in row.path_params}
        response = client.post(row.full_path(who, **params), json=wrap(row, fields))
        assert response.status_code == 200, response.text
    path = listing.path.format(**SAMPLE_IDS)
    listed = client.get(f"/pull/identities/{who}/{path}")
    assert data(listed)["provider"] == listing.provider
    ids = [entry["id"] for entry in entries(listed, listing.name)]
    created = [record.created for record in sandbox.created()]
    assert ids[len(ids) - len(created):] == created and len(created) == len(listing.lists)
    if listing.scope:  # the same listing for another page, board... shows none of them
        elsewhere = listing.path.format(**{**SAMPLE_IDS, listing.scope[0]: "42"})
        assert entries(client.get(f"/pull/identities/{who}/{elsewhere}"), listing.name) == []


def test_url_fields_are_the_fields_named_as_urls() -> None:
    """A new row that forgets `url_fields` would let a relative media path through."""
    for row in ENDPOINTS.values():
        named = {n for n in row.fields if n in ("url", "link", "picture") or n.endswith("_url")}
        assert set(row.url_fields) == named, row.key


def attach(client: httpx.Client, who: str, provider: str, media: str) -> httpx.Response:
    row = ENDPOINTS[POST_WITH_ATTACHMENTS[provider]]
    return push(client, row.key, who, {**minimal(row), ATTACHMENTS_FIELD: [media]})


def create(client: httpx.Client, sandbox: Sandbox, key: str, who: str,
           **extra: Any) -> str:
    row = ENDPOINTS[key]
    fields = {**minimal(row), **({"id": PAGE} if "id" in row.required else {}), **extra}
    assert push(client, key, who, fields).status_code == 200
    return str(sandbox.created()[-1].created)


@pytest.mark.parametrize("key", ATTACHING)
def test_only_the_tables_attachable_uploads_can_be_attached(
        client: httpx.Client, sandbox: Sandbox, key: str) -> None:
    row, who = ENDPOINTS[key], identity()
    media = create(client, sandbox, key, who)  # create_post left at its default (true)
    response = attach(client, who, row.provider, media)
    if row.attachable == "always":
        assert response.status_code == 200, response.text
        return
    assert response.status_code == 400
    info = status(response)["info"]
    if row.attachable == "no":
        assert f"unknown attachment id '{media}'" in info
        return
    assert "create_post false" in info
    unposted = create(client, sandbox, key, who, create_post=False)
    assert attach(client, who, row.provider, unposted).status_code == 200


@pytest.mark.parametrize("key", [key for key in ATTACHING if ENDPOINTS[key].attachable != "no"])
def test_uploads_expire_only_where_the_table_says(
        client: httpx.Client, sandbox: Sandbox, clock: Clock, key: str) -> None:
    row, who = ENDPOINTS[key], identity()
    extra = {"create_post": False} if row.attachable == "upload_only" else {}
    media = create(client, sandbox, key, who, **extra)
    clock.now += (row.expires_after_s or 30 * 24 * 3600.0) + 1
    response = attach(client, who, row.provider, media)
    if row.expires_after_s is None:
        assert response.status_code == 200, response.text
    else:
        assert response.status_code == 400
        assert f"attachment id '{media}' has expired" in status(response)["info"]


@pytest.mark.parametrize("key", sorted(ENDPOINTS))
def test_only_asynchronous_rows_have_an_optional_url_callback_field(key: str) -> None:
    row = ENDPOINTS[key]
    if not row.asynchronous:
        assert row.callback_field is None
        return
    assert row.callback_field in row.url_fields
    assert row.callback_field not in row.required


def test_every_location_key_is_a_provider_or_an_endpoint() -> None:
    providers = {row.provider for row in ENDPOINTS.values()}
    assert providers <= set(LOCATIONS)
    assert set(LOCATIONS) - providers <= set(ENDPOINTS)


@pytest.mark.parametrize("key", sorted(k for k, row in ENDPOINTS.items() if row.location_field))
def test_created_objects_are_found_where_the_table_locates_them(
        client: httpx.Client, sandbox: Sandbox, key: str) -> None:
    row = ENDPOINTS[key]
    response = push(client, key, identity(), minimal(row))
    assert response.status_code == 200, response.text
    template = (LOCATIONS.get(key) or LOCATIONS[row.provider]).template
    assert data(response)[str(row.location_field)] == template.format(
        id=sandbox.created()[0].created)


@pytest.mark.parametrize("key", ["facebook/group/picture", "facebook/group/video",
                                 "facebook/page/picture", "facebook/page/video"])
def test_inferred_create_post_on_group_and_page_media_is_noted(key: str) -> None:
    assert "create_post inferred" in ENDPOINTS[key].notes
