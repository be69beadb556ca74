"""A tweet's length as Twitter counts it: twitter-text v3's weighted length, exactly.

The rules (twitter-text's `config/v3.json` and its `parseTweet`): the text is NFC-normalised;
each URL counts 23 whatever its length, with or without a scheme (a bare domain counts only
when its top-level domain is on twitter-text's list, `data/tlds.txt`, and a bare country-code
domain only with a path, except `.co` and `.tv`); each emoji sequence (a flag, a keycap, a
ZWJ family, a skin tone) counts 2 as one; any other code point counts 1 in the light ranges
(U+0000-U+10FF, U+2000-U+200D, U+2010-U+201F, U+2032-U+2037) and 2 elsewhere. The limit is
280. Plain ASCII without a dot (most tweets) takes the fast path: its length is its size.

Emoji sequences come from the `emoji` package (Unicode's emoji data), imported on first need.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import cache
from importlib import resources

URL_WEIGHT = 23
MAX_URL_LENGTH = 4096
MAX_LABEL = 63
MAX_TCO_SLUG = 40


def weighted_length(text: str) -> int:
    """The length Twitter gives `text` (the limit is 280)."""
    if text.isascii() and "." not in text:
        return len(text)  # no URL without a dot, no emoji in ASCII, every character light
    return counted(text)


def counted(text: str) -> int:
    """The weighted length the long way, for any text (`weighted_length`'s general path).

    Links and emoji are found first; the text between them is counted in C (its size plus
    one per heavy character), not character by character in Python."""
    text = unicodedata.normalize("NFC", text)
    weighed = {start: (end, URL_WEIGHT) for start, end in url_spans(text)}
    if not text.isascii():
        for start, end in _emoji_spans(text):
            weighed.setdefault(start, (end, 2))  # a link starting here wins, as in twitter-text
    total, index = 0, 0
    for start in sorted(weighed):
        if start < index:
            continue  # inside a link or an emoji already counted
        end, weight = weighed[start]
        total += _plain(text[index:start]) + weight
        index = end
    return total + _plain(text[index:])


def _plain(text: str) -> int:
    return len(text) if text.isascii() else len(text) + len(_HEAVY.findall(text))


# Code points that weigh 2: all but U+0000-U+10FF, U+2000-U+200D, U+2010-U+201F, U+2032-U+2037.
_HEAVY = re.compile("[\u1100-\u1fff\u200e\u200f\u2020-\u2031\u2038-\U0010ffff]")
# A link needs a dot followed by the first letter of a top-level domain.
_MAYBE_URL = re.compile(r"\.[^\W\d_]")


def url_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each URL twitter-text extracts from `text`, in order."""
    if not _MAYBE_URL.search(text):
        return
    pattern = _patterns()
    for match in pattern.url.finditer(text):
        before, url, scheme, domain, path = match.group("before", "url", "scheme", "domain",
                                                        "path")
        start, end = match.start("url"), match.end("url")
        if not _valid(url, scheme or "https://", domain):
            continue
        if scheme:
            tco = pattern.tco.match(url)
            if tco and len(tco.group(1)) > MAX_TCO_SLUG:
                continue
            yield start, (start + tco.end()) if tco else end
            continue
        if re.search(r"[-_./]$", before):
            continue
        # Only the ASCII parts of a bare domain are links; the path belongs to the last one.
        found = [(start + part.start(), start + part.end())
                 for part in pattern.ascii_domain.finditer(domain)]
        if found and path:
            found[-1] = (found[-1][0], end)
        yield from found


def _valid(url: str, scheme: str, domain: str) -> bool:
    """twitter-text's isValidUrl: every label 1-63 characters once punycode-encoded, the
    encoded URL within 4096, and an `xn--` domain ASCII."""
    if domain[:4].lower() == "xn--" and not _patterns().ascii_domain.search(domain):
        return False
    labels = [label if label.isascii() else "xn--" + label.encode("punycode").decode()
              for label in domain.split(".")]
    if any(not 1 <= len(label) <= MAX_LABEL for label in labels):
        return False
    encoded = len(".".join(labels))
    return len(scheme) + len(url) + encoded - len(domain) <= MAX_URL_LENGTH


def _emoji_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each emoji sequence, longest first, left to right."""
    sequences, longest, first = _emoji()
    index, size = 0, len(text)
    for candidate in first.finditer(text):
        start = candidate.start()
        if start < index:
            continue
        for length in range(min(longest, size - start), 0, -1):
            if text[start:start + length] in sequences:
                index = start + length
                yield start, index
                break


@cache
def _emoji() -> tuple[frozenset[str], int, re.Pattern[str]]:
    import emoji  # Unicode's emoji sequences; only tweets with non-ASCII text need them

    # Digits, # and * alone, and bare (c) (r), are text, not emoji: twemoji only takes them
    # as keycaps or with the emoji variation selector.
    sequences = frozenset(s for s in emoji.EMOJI_DATA if len(s) > 1 or ord(s) > 0xFF)
    first = "".join(sorted({re.escape(s[0]) for s in sequences}))
    return sequences, max(map(len, sequences)), re.compile(f"[{first}]")


class _Patterns:
    """twitter-text's URL expressions, compiled once on first use."""

    def __init__(self) -> None:
        lines = resources.files("runner.calendar").joinpath("data/tlds.txt").read_text("utf-8")
        tlds: dict[str, list[str]] = {"c": [], "g": []}
        for line in lines.splitlines():
            if line and not line.startswith("#"):
                kind, name = line.split(" ", 1)
                tlds[kind].append(re.escape(name))
        country, generic = ("|".join(sorted(tlds[k], key=len, reverse=True)) for k in "cg")
        end = r"(?=[^a-z0-9@+\-]|$)"
        gtld, cctld, puny = f"(?:(?:{generic}){end})", f"(?:(?:{country}){end})", r"(?:xn--[\-0-9a-z]+)"
        punct = r"!'#%&()*+,\\\-./:;<=>?@\[\]^_{|}~$"
        spaces = "\t-\r \x85\xa0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
        invalid, marks = "\ufffe\ufeff\uffff", "\u202a-\u202e\u061c\u200e\u200f\u2066-\u2069"
        dc = f"[^{punct}{spaces}{invalid}{marks}]"
        sub, name = rf"(?:(?:{dc}(?:[_\-]|{dc})*)?{dc}\.)", rf"(?:(?:{dc}(?:-|{dc})*)?{dc}\.)"
        latin = ("\xc0-\xd6\xd8-\xf6\xf8-\xff\u0100-\u024f\u0253\u0254\u0256\u0257\u0259\u025b"
                 "\u0263\u0268\u026f\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff")
        general = rf"[a-z\u0400-\u04ff0-9!*';:=+,.$/%#\[\]\-\u2013_~&|@{latin}]"
        parens = rf"\((?:{general}+|(?:{general}*\({general}+\){general}*))\)"
        path_end = rf"(?:[+\-a-z\u0400-\u04ff0-9=_#/{latin}]|{parens})"
        path = rf"(?:(?:{general}*(?:{parens}{general}*)*{path_end})|(?:@{general}+/))"
        query, query_end = r"[a-z0-9!?*'@();:&=+$/%#\[\]\-_.,~|]", r"[a-z0-9\-_&=#/]"
        before = rf"(?:[^A-Za-z0-9@\uff20$#\uff03{invalid}]|[{marks}]|^)"
        self.url = re.compile(
            rf"(?P<before>{before})(?P<url>(?P<scheme>https?://)?"
            rf"(?P<domain>{sub}*{name}(?:{gtld}|{cctld}|{puny}))(?::[0-9]+)?"
            rf"(?P<path>/{path}*)?(?:\?{query}*{query_end})?)", re.IGNORECASE)
        self.ascii_domain = re.compile(rf"(?:[\-a-z0-9{latin}]+\.)+(?:{gtld}|{cctld}|{puny})",
                                       re.IGNORECASE)
        self.tco = re.compile(rf"^https?://t\.co/([a-z0-9]+)(?:\?{query}*{query_end})?",
                              re.IGNORECASE)


@cache
def _patterns() -> _Patterns:
    return _Patterns()
