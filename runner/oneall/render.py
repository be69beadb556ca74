"""Render one occurrence for one account into its ordered OneAll requests.

Media are uploaded first (Facebook with `create_post: false`), then the post is published
with `attachments` holding `Ref` placeholders for the ids those uploads return. `plan` and
the daemon both render through here, so what `plan` prints is what will be sent. Endpoint
facts come from the `endpoints` table only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from runner.calendar import rules
from runner.calendar.model import Account, Calendar, Entry, Kind, Medium
from runner.oneall.endpoints import ENDPOINTS
from runner.oneall.wire import Ref, Request

Fields = Mapping[str, Any]
PUBLISH = "publish"


def render(cal: Calendar, entry: Entry, account: Account) -> list[Request]:
    """The requests that publish `entry` to `account`, in sending order."""
    return _RENDERERS[entry.kind](cal, entry, account, entry.fields_for(account.name))


def fill(body: Any, results: Mapping[str, Mapping[str, str]]) -> Any:
    """`body` with every Ref replaced by the id its step returned (KeyError if missing)."""
    if isinstance(body, Ref):
        return results[body.step][body.field]
    if isinstance(body, Mapping):
        return {k: fill(v, results) for k, v in body.items()}
    if isinstance(body, list | tuple):
        return [fill(v, results) for v in body]
    return body


def shown(body: Any) -> Any:
    """`body` as JSON-ready data for `plan`, with each Ref as a readable placeholder."""
    if isinstance(body, Ref):
        return str(body)
    if isinstance(body, Mapping):
        return {k: shown(v) for k, v in body.items()}
    if isinstance(body, list | tuple):
        return [shown(v) for v in body]
    return body


def _request(step: str, key: str, account: Account, fields: Fields, **params: str) -> Request:
    endpoint = ENDPOINTS[key]
    payload = {k: v for k, v in fields.items() if v is not None}
    unknown = set(payload) - set(endpoint.fields)
    if unknown:
        raise AssertionError(f"renderer bug: {key} has no fields {sorted(unknown)}")
    return Request(step, key, "POST", endpoint.full_path(account.identity, **params),
                   endpoint.wrap(payload), endpoint.id_field, endpoint.asynchronous)


def _facebook_base(account: Account) -> tuple[str, dict[str, Any]]:
    if account.page:
        return "facebook/page", {"id": account.page}
    if account.group:
        return "facebook/group", {"id": account.group}
    return "facebook", {}


def _media(cal: Calendar, names: Any) -> list[Medium]:
    return [cal.media[name] for name in (names or ())]


def _uploads(cal: Calendar, account: Account, fields: Fields) -> tuple[list[Request], list[Ref]]:
    requests, refs = [], []
    for medium in _media(cal, fields.get("media")):
        step = f"upload {medium.name}"
        if account.provider == "facebook":
            base, target = _facebook_base(account)
            body = {**target, "url": medium.url, "description": medium.description,
                    "create_post": False}
            request = _request(step, f"{base}/{medium.type}", account, body)
        else:
            body = {"url": medium.url, "description": medium.description}
            request = _request(step, "twitter/picture", account, body)
        requests.append(request)
        refs.append(Ref(step, request.result_field))
    return requests, refs


def _post(cal: Calendar, entry: Entry, account: Account, fields: Fields) -> list[Request]:
    if account.provider == "linkedin":
        pictures = _media(cal, fields.get("media"))
        body = {"company": account.company, "message": fields.get("message"),
                "link": fields.get("link"), "title": fields.get("title"),
                "description": fields.get("description"),
                "picture": pictures[0].url if pictures else None}
        key = "linkedin/company/post" if account.company else "linkedin/post"
        return [_request(PUBLISH, key, account, body)]
    uploads, refs = _uploads(cal, account, fields)
    attachments = refs or None
    if account.provider == "twitter":
        body = {"message": rules.tweet_text(fields), "attachments": attachments,
                "location": fields.get("location")}
        return [*uploads, _request(PUBLISH, "twitter/post", account, body)]
    base, target = _facebook_base(account)
    body = {**target, "message": fields.get("message"), "link": fields.get("link"),
            "attachments": attachments}
    return [*uploads, _request(PUBLISH, f"{base}/post", account, body)]


def _picture(cal: Calendar, entry: Entry, account: Account, fields: Fields) -> list[Request]:
    medium = cal.media[fields["media"]]
    base, target = _facebook_base(account)
    body = {**target, "url": medium.url,
            "description": fields.get("description", medium.description)}
    return [_request(PUBLISH, f"{base}/picture", account, body)]


def _video(cal: Calendar, entry: Entry, account: Account, fields: Fields) -> list[Request]:
    medium = cal.media[fields["media"]]
    description = fields.get("description", medium.description)
    callback = fields.get("callback_url", account.callback_url)
    if account.provider == "facebook":
        base, target = _facebook_base(account)
        body = {**target, "url": medium.url, "description": description}
        return [_request(PUBLISH, f"{base}/video", account, body)]
    if account.provider == "twitter":
        body = {"video_url": medium.url, "callback_url": callback}
        return [_request(PUBLISH, "twitter/video", account, body)]
    thumbnail = cal.media[fields["thumbnail"]].url if "thumbnail" in fields else None
    body = {"video_url": medium.url, "title": fields.get("title", medium.title),
            "description": description, "thumbnail_url": thumbnail, "callback_url": callback}
    return [_request(PUBLISH, "youtube/video", account, body)]


def _pin(cal: Calendar, entry: Entry, account: Account, fields: Fields) -> list[Request]:
    board = fields.get("board", account.board)
    body = {"picture": cal.media[fields["media"]].url, "description": fields.get("description"),
            "link": fields.get("link")}
    return [_request(PUBLISH, "pinterest/pin", account, body, board=str(board))]


def _table(key: str, names: Mapping[str, str]) -> Callable[..., list[Request]]:
    """A renderer that copies calendar fields to request fields, `names[calendar] = request`."""

    def render_one(cal: Calendar, entry: Entry, account: Account, fields: Fields) -> list[Request]:
        body = {wire: fields.get(mine) for mine, wire in names.items()}
        params = {p: fields[p] for p in ENDPOINTS[key].path_params}
        return [_request(PUBLISH, key, account, body, **params)]

    return render_one


_RENDERERS: dict[Kind, Callable[[Calendar, Entry, Account, Fields], list[Request]]] = {
    Kind.POST: _post,
    Kind.PICTURE: _picture,
    Kind.VIDEO: _video,
    Kind.PIN: _pin,
    Kind.BOARD: _table("pinterest/board", {"name": "name", "description": "description"}),
    Kind.PLAYLIST: _table("youtube/playlist", {
        "title": "title", "description": "description", "privacy": "privacy_status",
        "language": "default_language"}),
    Kind.PLAYLIST_ITEM: _table("youtube/playlist/video", {"video": "id", "position": "position"}),
    Kind.CHANNEL_SECTION: _table("youtube/channel/section", {
        "type": "type", "style": "style", "title": "title", "position": "position",
        "language": "defaultLanguage", "playlists": "playlists"}),
}
