"""The Pull API listings the sandbox serves, as one table of data, and how they are filled.

A listing shows a few fixed, plausible objects (the page or board a new user can target)
plus every object created through the identity by the push endpoints it names, so that an
`unknown` outcome can be checked: did that post really go out? Result shapes are inferred
(oneall-push-api.md): `result.data.<name>.entries`, each entry at least `id` and a text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runner.sandbox_routes import PULL_PREFIX, Route, compile_template, match
from runner.sandbox_world import Stored

_TEXT_FIELDS = ("message", "title", "name", "description", "link")


@dataclass(frozen=True)
class Listing:
    """One pull path: what it lists (`sources`: push endpoint keys) and where (`scope`)."""

    path: str
    provider: str
    name: str
    sources: tuple[str, ...] = ()
    scope: tuple[str, str] | None = None  # (path param, the object's field or param it must equal)
    fixed: tuple[Mapping[str, str], ...] = ()


_FB_POSTS = ("post", "picture", "video")  # pictures and videos posted with create_post true

LISTINGS = (
    Listing("facebook/pages.json", "facebook", "pages",
            fixed=({"id": "104598372910345", "name": "Sandbox Page"},)),
    Listing("facebook/groups.json", "facebook", "groups",
            fixed=({"id": "203948576102938", "name": "Sandbox Group"},)),
    Listing("facebook/posts.json", "facebook", "posts", tuple(f"facebook/{k}" for k in _FB_POSTS)),
    Listing("facebook/page/{page}/posts.json", "facebook", "posts",
            tuple(f"facebook/page/{k}" for k in _FB_POSTS), scope=("page", "id")),
    Listing("facebook/group/{group}/posts.json", "facebook", "posts",
            tuple(f"facebook/group/{k}" for k in _FB_POSTS), scope=("group", "id")),
    Listing("linkedin/companies.json", "linkedin", "companies",
            fixed=({"id": "12345678", "name": "Sandbox Company"},)),
    Listing("linkedin/posts.json", "linkedin", "posts", ("linkedin/post",)),
    Listing("linkedin/company/{company}/posts.json", "linkedin", "posts",
            ("linkedin/company/post",), scope=("company", "company")),
    Listing("pinterest/boards.json", "pinterest", "boards", ("pinterest/board",),
            fixed=({"id": "549755813888", "name": "Sandbox Board"},)),
    Listing("pinterest/board/{board}/pins.json", "pinterest", "pins", ("pinterest/pin",),
            scope=("board", "board")),
    Listing("twitter/tweets.json", "twitter", "tweets", ("twitter/post",)),
    Listing("youtube/channels.json", "youtube", "channels",
            fixed=({"id": "UCsandboxChannel00000001", "title": "Sandbox Channel"},)),
    Listing("youtube/playlists.json", "youtube", "playlists", ("youtube/playlist",),
            fixed=({"id": "PLsandboxPlaylist0001", "title": "Sandbox Playlist"},)),
    Listing("youtube/playlist/{playlist}/videos.json", "youtube", "videos",
            ("youtube/playlist/video",), scope=("playlist", "playlist")),
    Listing("youtube/videos.json", "youtube", "videos", ("youtube/video",)),
    Listing("youtube/channel/sections.json", "youtube", "sections", ("youtube/channel/section",)),
)

_BY_PATH = {listing.path: listing for listing in LISTINGS}
_PULL = [(row.path, compile_template(PULL_PREFIX, row.path)) for row in LISTINGS]


def match_pull(path: str) -> tuple[Listing, Route]:
    """The listing a pull path names, or a 404 `Refused`."""
    route = match(path, _PULL)
    return _BY_PATH[route.key], route


def listing_data(listing: Listing, route: Route, objects: list[Stored]) -> dict[str, Any]:
    """`result.data` for a listing, given every object created through the identity."""
    entries = [dict(entry) for entry in listing.fixed]
    entries += [_entry(o) for o in objects if _belongs(listing, route, o)]
    return {"provider": listing.provider, "object": listing.name,
            listing.name: {"count": len(entries), "entries": entries}}


def _belongs(listing: Listing, route: Route, stored: Stored) -> bool:
    if stored.endpoint.key not in listing.sources or stored.upload_only:
        return False
    if listing.scope is None:
        return True
    param, field = listing.scope
    return {**stored.fields, **stored.params}.get(field) == route.params[param]


def _entry(stored: Stored) -> dict[str, Any]:
    texts = {name: stored.fields[name] for name in _TEXT_FIELDS if name in stored.fields}
    return {"id": stored.object_id, "location": stored.location, **texts}


def is_pull_path(path: str) -> bool:
    """Whether a path is under the Pull API at all (for 404 versus 405 decisions)."""
    return re.match(r"/pull/identities/[^/]+/", path) is not None
