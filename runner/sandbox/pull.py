"""The Pull API listings the sandbox serves, and how they are filled.

Which listings exist, which push endpoints' creations each shows and how it is scoped come
from `runner.oneall.endpoints.PULL_LISTINGS`. A listing shows a few fixed, plausible objects (the
page or board a new user can target) plus every object created through the identity by the
push endpoints it names, so that an `unknown` outcome can be checked: did that post really
go out? Result shapes are inferred (oneall-push-api.md): `result.data.<name>.entries`, each
entry at least `id` and a text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runner.oneall.endpoints import LISTED_TEXT_FIELDS, PULL_LISTINGS, PULL_PREFIX, Listing
from runner.sandbox.routes import Route, compile_template, match
from runner.sandbox.world import Stored

_TEXT_FIELDS = LISTED_TEXT_FIELDS

# The sandbox's own sample objects, listed for every identity: not facts about OneAll.
_FIXTURES: dict[str, tuple[Mapping[str, str], ...]] = {
    "facebook/pages.json": ({"id": "104598372910345", "name": "Sandbox Page"},),
    "facebook/groups.json": ({"id": "203948576102938", "name": "Sandbox Group"},),
    "linkedin/companies.json": ({"id": "12345678", "name": "Sandbox Company"},),
    "pinterest/boards.json": ({"id": "549755813888", "name": "Sandbox Board"},),
    "youtube/channels.json": ({"id": "UCsandboxChannel00000001", "title": "Sandbox Channel"},),
    "youtube/playlists.json": ({"id": "PLsandboxPlaylist0001", "title": "Sandbox Playlist"},),
}

_BY_PATH = {listing.path: listing for listing in PULL_LISTINGS}
_PULL = [(row.path, compile_template(PULL_PREFIX, row.path)) for row in PULL_LISTINGS]


def match_pull(path: str) -> tuple[Listing, Route]:
    """The listing a pull path names, or a 404 `Refused`."""
    route = match(path, _PULL)
    return _BY_PATH[route.key], route


def listing_data(listing: Listing, route: Route, objects: list[Stored]) -> dict[str, Any]:
    """`result.data` for a listing, given every object created through the identity."""
    entries = [dict(entry) for entry in _FIXTURES.get(listing.path, ())]
    entries += [_entry(o) for o in objects if _belongs(listing, route, o)]
    return {"provider": listing.provider, "object": listing.name,
            listing.name: {"count": len(entries), "entries": entries}}


def _belongs(listing: Listing, route: Route, stored: Stored) -> bool:
    if stored.endpoint.key not in listing.lists or stored.upload_only:
        return False
    if listing.scope is None:
        return True
    param, field = listing.scope
    return {**stored.fields, **stored.params}.get(field) == route.params[param]


def _entry(stored: Stored) -> dict[str, Any]:
    texts = {name: stored.fields[name] for name in _TEXT_FIELDS if name in stored.fields}
    return {"id": stored.object_id, "location": stored.location, **texts}
