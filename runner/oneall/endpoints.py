"""The 20 OneAll Push endpoints and the Pull listings, as tables of data.

Each row says where an object goes, how its body is keyed, which fields it takes (and their
JSON types), which are required, which must be URLs or one of a few values, what the
answer's `result.data` carries, and how sure we are: `doc` (docs.oneall.com), `sdk`
(OneAll's own PHP SDK) or `inferred` (our best reading), with `notes` where a row's facts
are not all equally sure. The small tables below the rows (id shapes in paths, object
locations, Pull listings) carry the same tag per entry. Correcting a shape is a one-line
change here; the renderer and the sandbox both read these tables, and nothing else
hard-codes an endpoint.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Source = Literal["doc", "sdk", "inferred"]
FieldType = Literal["str", "bool", "int", "ids"]  # "ids": list of id strings
# Whether an upload's id may go in a later post's attachments: "always" (Twitter media),
# "upload_only" (Facebook media sent with create_post false), or "no".
Attachable = Literal["no", "always", "upload_only"]

PUSH_PREFIX = "/push/identities/{identity}/"
PULL_PREFIX = "/pull/identities/{identity}/"
ATTACHMENTS_FIELD = "attachments"  # doc: a post lists its uploaded media ids here
CREATE_POST_FIELD = "create_post"  # doc: false uploads Facebook media without posting it
ENVELOPE = ("request", "push")  # doc, sdk: every push body is {"request": {"push": {...}}}


@dataclass(frozen=True)
class Endpoint:
    """One Push endpoint: `path` is relative to PUSH_PREFIX and may hold `{param}` slots."""

    key: str
    provider: str
    path: str
    object_key: tuple[str, ...]  # nesting under request.push: ("page",) or ("channel", "section")
    fields: dict[str, FieldType]
    required: tuple[str, ...]
    result: tuple[str, ...]  # result.data fields: the remote id first, then the location if any
    source: Source
    any_of: tuple[str, ...] = ()  # at least one of these must be present
    exclusive: tuple[str, ...] = ()  # at most one of these may be present
    path_params: tuple[str, ...] = ()  # their shapes: PARAM_SHAPES
    url_fields: tuple[str, ...] = ()  # absolute http(s) URLs, which OneAll fetches or links
    enums: dict[str, tuple[str, ...]] = field(default_factory=dict)  # a "str" field's values
    # Asynchronous uploads: the first answer only says "queued" (QUEUED_RESULT); the result
    # is posted later to the URL given in this field.
    callback_field: str | None = None
    attachable: Attachable = "no"
    expires_after_s: float | None = None  # an upload never attached vanishes after this
    notes: str = ""  # which of the row's facts are less sure than `source` says

    def full_path(self, identity: str, **params: str) -> str:
        """The request path for one identity (and path parameters such as a board id)."""
        return (PUSH_PREFIX + self.path).format(identity=identity, **params)

    @property
    def nesting(self) -> tuple[str, ...]:
        """The keys from the body's root down to the fields: ("request", "push", "page")."""
        return (*ENVELOPE, *self.object_key)

    def wrap(self, fields: dict[str, Any]) -> dict[str, Any]:
        """The request body that carries `fields` for this endpoint."""
        body: dict[str, Any] = fields
        for key in reversed(self.nesting):
            body = {key: body}
        return body

    def fields_of(self, body: Mapping[str, Any]) -> Any:
        """The fields inside a body `wrap` made (KeyError if it is not nested so)."""
        node: Any = body
        for key in self.nesting:
            node = node[key]
        return node

    @property
    def id_field(self) -> str:
        return self.result[0]

    @property
    def location_field(self) -> str | None:
        return self.result[1] if len(self.result) > 1 else None

    @property
    def asynchronous(self) -> bool:
        """Whether the result arrives later at `callback_field` instead of in the reply."""
        return self.callback_field is not None


# Values of enumerated fields that the rows type only as "str" (inferred from the YouTube
# Data API that OneAll forwards to).
PRIVACY_STATUSES = ("public", "private", "unlisted")
SECTION_TYPES = (
    "singlePlaylist", "multiplePlaylists", "recentUploads", "popularUploads",
    "allPlaylists", "multipleChannels", "subscriptions", "likes", "completedEvents",
    "liveEvents", "upcomingEvents",
)
SECTION_STYLES = ("horizontalRow", "verticalList")

_POST = ("post_id", "post_location")
_FB_POST: dict[str, FieldType] = {"message": "str", "link": "str", "attachments": "ids"}
_FB_MEDIA: dict[str, FieldType] = {"url": "str", "description": "str", "create_post": "bool"}
_LINKEDIN: dict[str, FieldType] = {
    "message": "str", "link": "str", "title": "str", "description": "str", "picture": "str",
}
_FB_ANY = ("message", "link", "attachments")
_FB_EXCLUSIVE = ("link", "attachments")
_CREATE_POST_INFERRED = ("create_post inferred: the doc lists only id, url, description; we "
                         "rely on create_post false to attach uploads to page posts")
_ASYNC_NOTE = "asynchronous: doc; fields: sdk; the queued answer and the callback: inferred"

_ROWS = (
    Endpoint("facebook/post", "facebook", "facebook/post.json", ("post",), _FB_POST, (), _POST,
             "sdk", any_of=_FB_ANY, exclusive=_FB_EXCLUSIVE, url_fields=("link",),
             notes="result inferred"),
    Endpoint("facebook/picture", "facebook", "facebook/picture.json", ("picture",), _FB_MEDIA,
             ("url",), ("picture_id",), "doc", url_fields=("url",), attachable="upload_only"),
    Endpoint("facebook/video", "facebook", "facebook/video.json", ("video",), _FB_MEDIA,
             ("url",), ("video_id",), "sdk", url_fields=("url",), attachable="upload_only",
             notes="limits unknown"),
    Endpoint("facebook/group/post", "facebook", "facebook/group/post.json", ("group",),
             {"id": "str", **_FB_POST}, ("id",), _POST, "inferred",
             any_of=_FB_ANY, exclusive=_FB_EXCLUSIVE, url_fields=("link",),
             notes="inferred from the page endpoints"),
    Endpoint("facebook/group/picture", "facebook", "facebook/group/picture.json", ("group",),
             {"id": "str", **_FB_MEDIA}, ("id", "url"), ("picture_id",), "inferred",
             url_fields=("url",), attachable="upload_only", notes=_CREATE_POST_INFERRED),
    Endpoint("facebook/group/video", "facebook", "facebook/group/video.json", ("group",),
             {"id": "str", **_FB_MEDIA}, ("id", "url"), ("video_id",), "inferred",
             url_fields=("url",), attachable="upload_only", notes=_CREATE_POST_INFERRED),
    Endpoint("facebook/page/post", "facebook", "facebook/page/post.json", ("page",),
             {"id": "str", **_FB_POST}, ("id",), _POST, "doc",
             any_of=_FB_ANY, exclusive=_FB_EXCLUSIVE, url_fields=("link",)),
    Endpoint("facebook/page/picture", "facebook", "facebook/page/picture.json", ("page",),
             {"id": "str", **_FB_MEDIA}, ("id", "url"), ("picture_id",), "sdk",
             url_fields=("url",), attachable="upload_only", notes=_CREATE_POST_INFERRED),
    Endpoint("facebook/page/video", "facebook", "facebook/page/video.json", ("page",),
             {"id": "str", **_FB_MEDIA}, ("id", "url"), ("video_id",), "inferred",
             url_fields=("url",), attachable="upload_only", notes=_CREATE_POST_INFERRED),
    Endpoint("linkedin/post", "linkedin", "linkedin/post.json", ("post",), _LINKEDIN,
             ("link",), _POST, "sdk", url_fields=("link", "picture")),
    Endpoint("linkedin/company/post", "linkedin", "linkedin/company/post.json", ("post",),
             {"company": "str", **_LINKEDIN}, ("company",), _POST, "sdk",
             url_fields=("link", "picture")),
    Endpoint("pinterest/pin", "pinterest", "pinterest/board/{board}/pin.json", ("pin",),
             {"picture": "str", "description": "str", "link": "str"}, ("picture",),
             ("pin_id", "pin_location"), "inferred", path_params=("board",),
             url_fields=("picture", "link"),
             notes="path: doc; body inferred from the sdk (older SDK used note / image_url)"),
    Endpoint("pinterest/board", "pinterest", "pinterest/board.json", ("board",),
             {"name": "str", "description": "str"}, ("name",), ("board_id",), "inferred"),
    Endpoint("twitter/post", "twitter", "twitter/post.json", ("post",),
             {"message": "str", "attachments": "ids", "location": "str"}, ("message",), _POST,
             "sdk"),
    Endpoint("twitter/picture", "twitter", "twitter/picture.json", ("picture",),
             {"url": "str", "description": "str"}, ("url",), ("picture_id",), "doc",
             url_fields=("url",), attachable="always", expires_after_s=24 * 3600.0),
    Endpoint("twitter/video", "twitter", "twitter/video.json", ("video",),
             {"video_url": "str", "callback_url": "str"}, ("video_url",), ("video_id",), "doc",
             url_fields=("video_url", "callback_url"), callback_field="callback_url",
             attachable="always", notes=_ASYNC_NOTE),
    Endpoint("youtube/video", "youtube", "youtube/video.json", ("video",),
             {"video_url": "str", "title": "str", "description": "str", "thumbnail_url": "str",
              "callback_url": "str"}, ("video_url", "title"), ("video_id",), "doc",
             url_fields=("video_url", "thumbnail_url", "callback_url"),
             callback_field="callback_url", notes=_ASYNC_NOTE),
    Endpoint("youtube/playlist/video", "youtube", "youtube/playlist/{playlist}/video.json",
             ("video",), {"id": "str", "position": "int"}, ("id",), ("playlist_item_id",),
             "inferred", path_params=("playlist",)),
    Endpoint("youtube/playlist", "youtube", "youtube/playlist.json", ("playlist",),
             {"title": "str", "description": "str", "privacy_status": "str",
              "default_language": "str"}, ("title",), ("playlist_id",), "inferred",
             enums={"privacy_status": PRIVACY_STATUSES},
             notes="inferred from the YouTube update API's body"),
    Endpoint("youtube/channel/section", "youtube", "youtube/channel/section.json",
             ("channel", "section"), {"type": "str", "style": "str", "title": "str",
                                      "position": "int", "defaultLanguage": "str",
                                      "playlists": "ids"}, ("type",), ("section_id",),
             "inferred", enums={"type": SECTION_TYPES, "style": SECTION_STYLES},
             notes="inferred from the YouTube update API's body"),
)

ENDPOINTS: dict[str, Endpoint] = {row.key: row for row in _ROWS}

# Async uploads (16, 17), inferred: the first answer is the normal success envelope whose
# result.data holds provider, object and QUEUED_RESULT, no id yet; the callback later
# carries the same envelope with the endpoint's full result (the final id).
QUEUED_FIELD = "status"
QUEUED_VALUE = "queued"
QUEUED_RESULT = {QUEUED_FIELD: QUEUED_VALUE}


@dataclass(frozen=True)
class ParamShape:
    """What an id given in a path looks like; a value of another shape names nothing (404)."""

    pattern: str  # must match the whole path segment
    why: str
    source: Source


# Keyed by `{param}` name, for push and pull paths alike. Pinterest board ids are numbers, so a
# board given by name fails here, as it would at OneAll; YouTube ids are url-safe text.
PARAM_SHAPES: dict[str, ParamShape] = {
    "board": ParamShape(r"\d+", "Pinterest board ids are digits", "inferred"),
    "page": ParamShape(r"\d+", "Facebook page ids are digits", "inferred"),
    "group": ParamShape(r"\d+", "Facebook group ids are digits", "inferred"),
    "playlist": ParamShape(r"[A-Za-z0-9_-]+", "YouTube ids are letters, digits, - and _",
                           "inferred"),
}


@dataclass(frozen=True)
class Location:
    """Where a created object is seen on its network: `template` holds an `{id}` slot."""

    template: str
    source: Source


# Keyed by endpoint key, else by provider. Only Facebook's form is shown in the doc; the rest
# are plausible, not promised by OneAll.
LOCATIONS: dict[str, Location] = {
    "facebook": Location("https://www.facebook.com/{id}", "doc"),
    "linkedin": Location("https://www.linkedin.com/feed/update/urn:li:activity:{id}/",
                         "inferred"),
    "pinterest": Location("https://www.pinterest.com/pin/{id}/", "inferred"),
    "pinterest/board": Location("https://www.pinterest.com/board/{id}/", "inferred"),
    "twitter": Location("https://twitter.com/i/web/status/{id}", "inferred"),
    "youtube": Location("https://www.youtube.com/watch?v={id}", "inferred"),
    "youtube/playlist": Location("https://www.youtube.com/playlist?list={id}", "inferred"),
    "youtube/channel/section": Location("https://www.youtube.com/channel/sections/{id}",
                                        "inferred"),
}


def location_of(endpoint: Endpoint, object_id: str) -> str:
    """The public URL of an object an endpoint created, by the LOCATIONS table."""
    row = LOCATIONS.get(endpoint.key) or LOCATIONS[endpoint.provider]
    return row.template.format(id=object_id)


@dataclass(frozen=True)
class Listing:
    """One Pull listing: `GET PULL_PREFIX + path`, answered in `result.data.<name>` as
    `{"count": N, "entries": [{"id", "location", <LISTED_TEXT_FIELDS>...}]}` (inferred)."""

    path: str
    provider: str
    name: str
    source: Source  # of the path; what it lists, and the result's shape, are inferred
    lists: tuple[str, ...] = ()  # the push endpoints whose creations it shows
    scope: tuple[str, str] | None = None  # (path param, the object's field or param it equals)


LISTED_TEXT_FIELDS = ("message", "title", "name", "description", "link")  # inferred
_FB_POSTS = ("post", "picture", "video")  # pictures and videos posted with create_post true

PULL_LISTINGS = (
    Listing("facebook/pages.json", "facebook", "pages", "doc"),
    Listing("facebook/groups.json", "facebook", "groups", "doc"),
    Listing("facebook/posts.json", "facebook", "posts", "inferred",
            tuple(f"facebook/{k}" for k in _FB_POSTS)),
    Listing("facebook/page/{page}/posts.json", "facebook", "posts", "doc",
            tuple(f"facebook/page/{k}" for k in _FB_POSTS), scope=("page", "id")),
    Listing("facebook/group/{group}/posts.json", "facebook", "posts", "inferred",
            tuple(f"facebook/group/{k}" for k in _FB_POSTS), scope=("group", "id")),
    Listing("linkedin/companies.json", "linkedin", "companies", "doc"),
    Listing("linkedin/posts.json", "linkedin", "posts", "inferred", ("linkedin/post",)),
    Listing("linkedin/company/{company}/posts.json", "linkedin", "posts", "inferred",
            ("linkedin/company/post",), scope=("company", "company")),
    Listing("pinterest/boards.json", "pinterest", "boards", "doc", ("pinterest/board",)),
    Listing("pinterest/board/{board}/pins.json", "pinterest", "pins", "doc",
            ("pinterest/pin",), scope=("board", "board")),
    Listing("twitter/tweets.json", "twitter", "tweets", "doc", ("twitter/post",)),
    Listing("youtube/channels.json", "youtube", "channels", "doc"),
    Listing("youtube/playlists.json", "youtube", "playlists", "doc", ("youtube/playlist",)),
    Listing("youtube/playlist/{playlist}/videos.json", "youtube", "videos", "doc",
            ("youtube/playlist/video",), scope=("playlist", "playlist")),
    Listing("youtube/videos.json", "youtube", "videos", "inferred", ("youtube/video",)),
    Listing("youtube/channel/sections.json", "youtube", "sections", "inferred",
            ("youtube/channel/section",)),
)
