"""What each social network accepts, as data plus small checks.

The schema knows shapes; these rules know providers: which entry kinds go where, which
fields a provider uses, text limits (tweets count links as 23 characters), media types,
Facebook's link-or-attachments rule, a Pinterest pin's board, a YouTube upload's title.
Each check yields `(path, message, hint)` relative to the entry; the builder places it.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from runner.calendar.model import Account, Entry, Kind, Medium
from runner.calendar.tweets import URL_WEIGHT, weighted_length

Finding = tuple[tuple[str | int, ...], str, str]

KINDS = {
    "facebook": {Kind.POST, Kind.PICTURE, Kind.VIDEO},
    "linkedin": {Kind.POST},
    "twitter": {Kind.POST, Kind.VIDEO},
    "pinterest": {Kind.PIN, Kind.BOARD},
    "youtube": {Kind.VIDEO, Kind.PLAYLIST, Kind.PLAYLIST_ITEM, Kind.CHANNEL_SECTION},
}
POST_FIELDS = {  # which optional post fields each provider has a place for
    "facebook": {"message", "link", "media"},
    "linkedin": {"message", "link", "media", "title", "description"},
    "twitter": {"message", "link", "media", "location"},
}
TEXT_LIMITS = {  # (provider, field) -> characters
    ("facebook", "message"): 63206,
    ("linkedin", "message"): 3000,
    ("linkedin", "title"): 200,
    ("twitter", "message"): 280,
    ("pinterest", "description"): 500,
    ("youtube", "title"): 100,
    ("youtube", "description"): 5000,
}
TWEET_URL_LENGTH = URL_WEIGHT
TWEET_MAX_PICTURES = 4
EXTENSIONS = {
    "picture": {"jpg", "jpeg", "png", "gif", "bmp", "tif", "tiff"},
    "video": {"mp4", "mov", "m4v", "avi", "wmv", "flv", "mkv", "webm", "3gp", "mpg", "mpeg"},
}


def tweet_length(text: str) -> int:
    """Twitter's weighted length, exactly as twitter-text v3 counts it (`runner.calendar.tweets`)."""
    return weighted_length(text)


def tweet_text(fields: Mapping[str, Any]) -> str:
    """A tweet has no link field: the link goes at the end of the message."""
    message, link = fields.get("message", ""), fields.get("link")
    return f"{message} {link}".strip() if link else message


def check_medium(medium: Medium) -> Iterator[Finding]:
    """A medium whose URL ends in another type's extension is a mistake worth catching."""
    ext = urlsplit(medium.url).path.rsplit(".", 1)[-1].lower() if "." in urlsplit(
        medium.url).path.rsplit("/", 1)[-1] else ""
    if not ext:
        return
    for kind, known in EXTENSIONS.items():
        if ext in known and kind != medium.type:
            yield ("url",), f"'.{ext}' is a {kind} file but the medium says type: {medium.type}", (
                f"set `type: {kind}` or fix the URL")
    if medium.type == "picture" and ext not in EXTENSIONS["picture"] | EXTENSIONS["video"]:
        yield ("url",), f"'.{ext}' pictures are not accepted by OneAll", (
            "use jpeg, png, gif, bmp or tiff")


def check_entry(entry: Entry, accounts: Mapping[str, Account | None],
                media: Mapping[str, Medium | None]) -> Iterator[Finding]:
    """Every provider rule for one entry, for each of its accounts. A name mapped to None is
    defined but already reported broken: it is neither unknown nor checked further."""
    usable = {k: v for k, v in media.items() if v is not None}
    yield from _media_refs(entry, media)
    for account_name in entry.overrides:
        if account_name not in entry.to:
            yield ("overrides", account_name), f"override for '{account_name}', which is not in `to`", (
                f"add it to `to` or remove the override; `to` is {', '.join(entry.to)}")
    for index, name in enumerate(entry.to):
        account = accounts.get(name)
        if account is None:
            if name not in accounts:
                yield ("to", index), f"unknown account '{name}'", _known(name, accounts, "accounts")
            continue
        if entry.kind not in KINDS[account.provider]:
            yield ("to", index), (
                f"'{name}' is a {account.provider} account, which takes no {entry.kind.value}"), (
                f"{entry.kind.value} go to {_providers_for(entry.kind)} accounts")
            continue
        yield from _CHECKS[entry.kind](entry, account, usable)


def _known(name: str, names: Mapping[str, object], section: str) -> str:
    """A close match, else some of the names there are, else where to define one.

    Bounded: each search compares one name with every known one, so hundreds of stale names
    against hundreds of accounts grew quadratically (700 of each: 16 s). The same search is
    made once (cached), at most `SUGGESTIONS` different ones per set of names, and a list
    of names is cut to ten."""
    options = tuple(sorted(names))
    close = _close(name, options) if _budget(name, options) else None
    if close:
        return f"did you mean '{close}'?"
    if not options:
        return f"define it under `{section}:`"
    more = f" and {len(options) - 10} more" if len(options) > 10 else ""
    return f"known: {', '.join(options[:10])}{more}"


SUGGESTIONS = 100  # different close-match searches per set of known names


@functools.lru_cache(maxsize=4096)
def _close(name: str, options: tuple[str, ...]) -> str | None:
    found = difflib.get_close_matches(name, options, n=1)
    return found[0] if found else None


_searches: dict[tuple[str, ...], set[str]] = {}


def _budget(name: str, options: tuple[str, ...]) -> bool:
    """True while `name` may be searched for among `options` (a repeat costs nothing)."""
    if len(_searches) > 64:  # a long-running daemon reloads: keep only recent sets
        _searches.clear()
    seen = _searches.setdefault(options, set())
    if name in seen or len(seen) < SUGGESTIONS:
        seen.add(name)
        return True
    return False


def _providers_for(kind: Kind) -> str:
    return " or ".join(p for p, kinds in KINDS.items() if kind in kinds)


def _media_refs(entry: Entry, media: Mapping[str, Medium | None]) -> Iterator[Finding]:
    places: list[tuple[tuple[str | int, ...], str]] = []
    for key in ("media", "thumbnail"):
        value = entry.fields.get(key)
        if isinstance(value, tuple):
            places += [((key, i), name) for i, name in enumerate(value)]
        elif isinstance(value, str):
            places.append(((key,), value))
    for account, override in entry.overrides.items():
        places += [(("overrides", account, "media", i), n)
                   for i, n in enumerate(override.get("media", ()))]
    for path, name in places:
        if name not in media:
            yield path, f"unknown medium '{name}'", _known(name, media, "media")


def _source(entry: Entry, account: str, key: str) -> tuple[str | int, ...]:
    """Where a field an account sees was written: its override, or the entry itself."""
    if key in entry.overrides.get(account, {}):
        return ("overrides", account, key)
    return (key,)


def _limit(entry: Entry, account: Account, key: str, text: str | None,
           length: int | None = None) -> Iterator[Finding]:
    limit = TEXT_LIMITS.get((account.provider, key))
    if text is None or limit is None:
        return
    size = len(text) if length is None else length
    # A weighted length differs from what an editor shows; say why, or the number looks wrong.
    counted = "" if length is None else f", counting each link as {TWEET_URL_LENGTH}"
    if size > limit:
        place = _source(entry, account.name, key)
        hint = "shorten it" if place[0] == "overrides" else (
            "shorten it, or override it for this account under `overrides:`")
        yield place, (f"{size} characters is too long for {account.provider} ({account.name}); "
                      f"the limit is {limit}{counted}"), hint


def _typed(names: tuple[str, ...] | str | None, media: Mapping[str, Medium]) -> list[Medium]:
    if names is None:
        return []
    items = (names,) if isinstance(names, str) else names
    return [media[n] for n in items if n in media]


def _post(entry: Entry, account: Account, media: Mapping[str, Medium]) -> Iterator[Finding]:
    fields = entry.fields_for(account.name)
    provider, name = account.provider, account.name
    for key in sorted(set(fields) - POST_FIELDS[provider]):
        yield _source(entry, name, key), f"{provider} posts have no `{key}` ({name})", (
            "remove it, or set it in `overrides:` for the accounts that use it")
    items = _typed(fields.get("media"), media)
    if provider == "facebook":
        if not ({"message", "link", "media"} & set(fields)):
            yield (), f"a Facebook post needs a message, a link or media ({name})", ""
        if "link" in fields and "media" in fields:
            yield _source(entry, name, "link"), (
                f"a Facebook post takes a link or media, not both ({name})"), (
                "put the link in the message, or post the media separately")
    elif provider == "linkedin":
        if account.company is None and "link" not in fields:
            yield (), f"a LinkedIn profile post needs a `link` ({name})", (
                "OneAll's linkedin/post.json requires it")
        if len(items) > 1 or any(m.type != "picture" for m in items):
            yield _source(entry, name, "media"), (
                f"LinkedIn takes one picture, used as the link preview ({name})"), ""
    else:
        if "message" not in fields:
            yield (), f"a tweet needs a `message` ({name})", ""
        yield from _limit(entry, account, "message", tweet_text(fields),
                          tweet_length(tweet_text(fields)))
        if any(m.type == "video" for m in items):
            yield _source(entry, name, "media"), f"a tweet cannot attach a video ({name})", (
                "Twitter video uploads are asynchronous: publish it as a `videos:` entry")
        elif len(items) > TWEET_MAX_PICTURES:
            yield _source(entry, name, "media"), (
                f"a tweet takes at most {TWEET_MAX_PICTURES} pictures ({name})"), ""
        return
    yield from _limit(entry, account, "message", fields.get("message"))
    yield from _limit(entry, account, "title", fields.get("title"))


def _picture(entry: Entry, account: Account, media: Mapping[str, Medium]) -> Iterator[Finding]:
    yield from _media_type(entry, "media", "picture", media)


def _video(entry: Entry, account: Account, media: Mapping[str, Medium]) -> Iterator[Finding]:
    yield from _media_type(entry, "media", "video", media)
    medium = media.get(entry.fields["media"])
    if account.provider == "youtube":
        title = entry.fields.get("title") or (medium.title if medium else None)
        if not title:
            yield (), f"a YouTube upload needs a `title` ({account.name})", (
                "set `title:` on the entry or on the medium")
        yield from _limit(entry, account, "title", title)
        yield from _limit(entry, account, "description", entry.fields.get("description"))
    else:
        for key in ("title", "thumbnail"):
            if key in entry.fields:
                yield (key,), f"only YouTube uploads use `{key}` ({account.name})", ""
        if account.provider == "twitter" and "description" in entry.fields:
            yield ("description",), f"Twitter video uploads take no description ({account.name})", (
                "OneAll's twitter/video.json has only video_url and callback_url")
    if "callback_url" in entry.fields and account.provider == "facebook":
        yield ("callback_url",), "Facebook uploads have no callback", ""
    if "thumbnail" in entry.fields:
        yield from _media_type(entry, "thumbnail", "picture", media)


def _pin(entry: Entry, account: Account, media: Mapping[str, Medium]) -> Iterator[Finding]:
    yield from _media_type(entry, "media", "picture", media)
    if "board" not in entry.fields and account.board is None:
        yield (), f"a pin needs a board ({account.name})", (
            "set `board:` on the entry or on the account (its numeric id, not its name)")
    yield from _limit(entry, account, "description", entry.fields.get("description"))


def _nothing(entry: Entry, account: Account, media: Mapping[str, Medium]) -> Iterator[Finding]:
    return iter(())


def _section(entry: Entry, account: Account, media: Mapping[str, Medium]) -> Iterator[Finding]:
    kind = entry.fields["type"]
    if kind in ("singlePlaylist", "multiplePlaylists") and "playlists" not in entry.fields:
        yield ("type",), f"a {kind} section needs `playlists`", ""
    if kind == "singlePlaylist" and len(entry.fields.get("playlists", ())) > 1:
        yield ("playlists",), "a singlePlaylist section takes one playlist", (
            "use type: multiplePlaylists")
    if kind == "multiplePlaylists" and "title" not in entry.fields:
        yield ("type",), "a multiplePlaylists section needs a `title`", ""


def _media_type(entry: Entry, key: str, wanted: str,
                media: Mapping[str, Medium]) -> Iterator[Finding]:
    medium = media.get(entry.fields.get(key, ""))
    if medium is not None and medium.type != wanted:
        yield (key,), f"'{medium.name}' is a {medium.type}; {entry.kind.value} need a {wanted}", ""


_CHECKS = {
    Kind.POST: _post, Kind.PICTURE: _picture, Kind.VIDEO: _video, Kind.PIN: _pin,
    Kind.BOARD: _nothing, Kind.PLAYLIST: _nothing, Kind.PLAYLIST_ITEM: _nothing,
    Kind.CHANNEL_SECTION: _section,
}
