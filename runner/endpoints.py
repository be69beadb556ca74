"""The 20 OneAll Push endpoints as one table of data.

Each row says where an object goes, how its body is keyed, which fields it takes (and their
JSON types), which are required, what the answer's `result.data` carries, and how sure we
are: `doc` (docs.oneall.com), `sdk` (OneAll's own PHP SDK) or `inferred` (our best reading).
Correcting an inferred shape is a one-line change here; the renderer and the sandbox both
read this table, and nothing else hard-codes an endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Source = Literal["doc", "sdk", "inferred"]
FieldType = Literal["str", "bool", "int", "ids"]  # "ids": list of id strings

PUSH_PREFIX = "/push/identities/{identity}/"


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
    asynchronous: bool = False  # the first answer only says "queued"; the outcome goes to callback_url
    path_params: tuple[str, ...] = ()

    def full_path(self, identity: str, **params: str) -> str:
        """The request path for one identity (and path parameters such as a board id)."""
        return (PUSH_PREFIX + self.path).format(identity=identity, **params)

    @property
    def id_field(self) -> str:
        return self.result[0]

    @property
    def location_field(self) -> str | None:
        return self.result[1] if len(self.result) > 1 else None


_POST = ("post_id", "post_location")
_FB_POST: dict[str, FieldType] = {"message": "str", "link": "str", "attachments": "ids"}
_FB_MEDIA: dict[str, FieldType] = {"url": "str", "description": "str", "create_post": "bool"}
_LINKEDIN: dict[str, FieldType] = {
    "message": "str", "link": "str", "title": "str", "description": "str", "picture": "str",
}

_ROWS = (
    Endpoint("facebook/post", "facebook", "facebook/post.json", ("post",), _FB_POST, (), _POST,
             "sdk", any_of=("message", "link", "attachments"), exclusive=("link", "attachments")),
    Endpoint("facebook/picture", "facebook", "facebook/picture.json", ("picture",), _FB_MEDIA,
             ("url",), ("picture_id",), "doc"),
    Endpoint("facebook/video", "facebook", "facebook/video.json", ("video",), _FB_MEDIA,
             ("url",), ("video_id",), "sdk"),
    Endpoint("facebook/group/post", "facebook", "facebook/group/post.json", ("group",),
             {"id": "str", **_FB_POST}, ("id",), _POST, "inferred",
             any_of=("message", "link", "attachments"), exclusive=("link", "attachments")),
    Endpoint("facebook/group/picture", "facebook", "facebook/group/picture.json", ("group",),
             {"id": "str", **_FB_MEDIA}, ("id", "url"), ("picture_id",), "inferred"),
    Endpoint("facebook/group/video", "facebook", "facebook/group/video.json", ("group",),
             {"id": "str", **_FB_MEDIA}, ("id", "url"), ("video_id",), "inferred"),
    Endpoint("facebook/page/post", "facebook", "facebook/page/post.json", ("page",),
             {"id": "str", **_FB_POST}, ("id",), _POST, "doc",
             any_of=("message", "link", "attachments"), exclusive=("link", "attachments")),
    Endpoint("facebook/page/picture", "facebook", "facebook/page/picture.json", ("page",),
             {"id": "str", **_FB_MEDIA}, ("id", "url"), ("picture_id",), "sdk"),
    Endpoint("facebook/page/video", "facebook", "facebook/page/video.json", ("page",),
             {"id": "str", **_FB_MEDIA}, ("id", "url"), ("video_id",), "inferred"),
    Endpoint("linkedin/post", "linkedin", "linkedin/post.json", ("post",), _LINKEDIN,
             ("link",), _POST, "sdk"),
    Endpoint("linkedin/company/post", "linkedin", "linkedin/company/post.json", ("post",),
             {"company": "str", **_LINKEDIN}, ("company",), _POST, "sdk"),
    Endpoint("pinterest/pin", "pinterest", "pinterest/board/{board}/pin.json", ("pin",),
             {"picture": "str", "description": "str", "link": "str"}, ("picture",),
             ("pin_id", "pin_location"), "inferred", path_params=("board",)),
    Endpoint("pinterest/board", "pinterest", "pinterest/board.json", ("board",),
             {"name": "str", "description": "str"}, ("name",), ("board_id",), "inferred"),
    Endpoint("twitter/post", "twitter", "twitter/post.json", ("post",),
             {"message": "str", "attachments": "ids", "location": "str"}, ("message",), _POST,
             "sdk"),
    Endpoint("twitter/picture", "twitter", "twitter/picture.json", ("picture",),
             {"url": "str", "description": "str"}, ("url",), ("picture_id",), "doc"),
    Endpoint("twitter/video", "twitter", "twitter/video.json", ("video",),
             {"video_url": "str", "callback_url": "str"}, ("video_url",), ("video_id",), "doc",
             asynchronous=True),
    Endpoint("youtube/video", "youtube", "youtube/video.json", ("video",),
             {"video_url": "str", "title": "str", "description": "str", "thumbnail_url": "str",
              "callback_url": "str"}, ("video_url", "title"), ("video_id",), "doc",
             asynchronous=True),
    Endpoint("youtube/playlist/video", "youtube", "youtube/playlist/{playlist}/video.json",
             ("video",), {"id": "str", "position": "int"}, ("id",), ("playlist_item_id",),
             "inferred", path_params=("playlist",)),
    Endpoint("youtube/playlist", "youtube", "youtube/playlist.json", ("playlist",),
             {"title": "str", "description": "str", "privacy_status": "str",
              "default_language": "str"}, ("title",), ("playlist_id",), "inferred"),
    Endpoint("youtube/channel/section", "youtube", "youtube/channel/section.json",
             ("channel", "section"), {"type": "str", "style": "str", "title": "str",
                                      "position": "int", "defaultLanguage": "str",
                                      "playlists": "ids"}, ("type",), ("section_id",),
             "inferred"),
)

ENDPOINTS: dict[str, Endpoint] = {row.key: row for row in _ROWS}

# Async uploads (16, 17): the first answer is the normal envelope saying the job was queued;
# the callback later carries the same envelope with the final id. Both shapes are inferred.
QUEUED_FIELD = "status"
QUEUED_VALUE = "queued"

# Values of enumerated fields that the table above types only as "str" (inferred from the
# YouTube Data API that OneAll forwards to).
PRIVACY_STATUSES = ("public", "private", "unlisted")
SECTION_TYPES = (
    "singlePlaylist", "multiplePlaylists", "recentUploads", "popularUploads",
    "allPlaylists", "multipleChannels", "subscriptions", "likes", "completedEvents",
    "liveEvents", "upcomingEvents",
)
SECTION_STYLES = ("horizontalRow", "verticalList")
