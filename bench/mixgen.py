"""Realistic calendars: many accounts and providers, media, overrides, recurrences.

`realistic` is the validate benchmark's input (N entries over a year, all valid), `future`
the scale benchmark's (at least N occurrences, all within 400 days). Both draw from a seeded
`random.Random`, so two runs measure the same calendar, and both keep every rule pushcal
checks: tweets short enough, Facebook link or media, LinkedIn one picture, wall times that
exist once in every zone, exceptions that skip a real occurrence.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from calgen import Account, CalendarFile, accounts

WORDS = ("coffee", "launch", "winter", "roast", "espresso", "team", "update", "offer", "recipe",
         "event", "tasting", "beans", "filter", "brew", "guide", "news", "story", "market",
         "origin", "harvest", "grinder", "milk", "crema", "friends", "weekend", "morning")
ZONES = ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MIX_KINDS = ("facebook-page", "facebook-group", "twitter", "linkedin-company", "linkedin",
             "pinterest", "youtube")


@dataclass
class Mix:
    """Shared names for a realistic calendar: accounts by kind and media by type."""

    accounts: list[Account]
    pictures: list[str]
    videos: list[str]

    def of(self, kind: str) -> list[Account]:
        """The accounts of one kind."""
        return [a for a in self.accounts if a.kind == kind]


def mix_header(rng: random.Random, n_accounts: int = 14, n_pictures: int = 40,
               n_videos: int = 8) -> tuple[Mix, CalendarFile]:
    """The first file: accounts and media, used by every other file."""
    accts = accounts(n_accounts, MIX_KINDS, prefix="team")
    head = CalendarFile(timezone="Europe/Berlin", grace="20m",
                        accounts={a.name: a.yaml() for a in accts})
    pictures = [f"pic-{i:03d}" for i in range(n_pictures)]
    videos = [f"clip-{i:03d}" for i in range(n_videos)]
    for name in pictures:
        ext = rng.choice(("jpg", "png", "jpeg"))
        head.media[name] = {"url": f"https://cdn.example.com/img/{name}.{ext}", "type": "picture",
                            "description": sentence(rng, 5)}
    for name in videos:
        head.media[name] = {"url": f"https://cdn.example.com/vid/{name}.mp4", "type": "video",
                            "title": sentence(rng, 4), "description": sentence(rng, 8)}
    return Mix(accts, pictures, videos), head


def wall(moment: datetime) -> str:
    """A wall time as people write it: `2027-03-01 09:00`."""
    return moment.strftime("%Y-%m-%d %H:%M")


def daytime(rng: random.Random, day: datetime) -> datetime:
    """A time between 07:00 and 22:59 on `day`: never inside a DST gap or overlap."""
    return day.replace(hour=rng.randint(7, 22), minute=rng.choice((0, 5, 15, 30, 45)),
                       second=0, microsecond=0)


def mixed_entry(rng: random.Random, mix: Mix, entry_id: str, when: datetime,
                repeat: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """One entry of a realistic kind for realistic accounts: (list key, entry)."""
    roll = rng.random()
    if roll < 0.04:
        return "pictures", _base(entry_id, when, [rng.choice(mix.of("facebook-page")).name],
                                 repeat, media=rng.choice(mix.pictures),
                                 description=sentence(rng, 9))
    if roll < 0.07:
        return "pins", _base(entry_id, when, [rng.choice(mix.of("pinterest")).name], repeat,
                             media=rng.choice(mix.pictures), description=sentence(rng, 10),
                             link=f"https://example.com/pins/{entry_id}")
    if roll < 0.08:
        return "videos", _base(entry_id, when, [rng.choice(mix.of("youtube")).name], repeat,
                               media=rng.choice(mix.videos), title=sentence(rng, 4))
    return "posts", _post(rng, mix, entry_id, when, repeat)


def _base(entry_id: str, when: datetime, to: list[str], repeat: dict[str, Any] | None,
          **fields: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": entry_id, "at": wall(when), "to": to}
    if repeat:
        entry["repeat"] = repeat
    entry.update(fields)
    return entry


def _post(rng: random.Random, mix: Mix, entry_id: str, when: datetime,
          repeat: dict[str, Any] | None) -> dict[str, Any]:
    shape = rng.random()
    if shape < 0.5:  # Facebook and Twitter together, the tweet shortened by an override
        fb = rng.choice(mix.of("facebook-page") + mix.of("facebook-group"))
        tw = rng.choice(mix.of("twitter"))
        entry = _base(entry_id, when, [fb.name, tw.name], repeat, message=sentence(rng, 30))
        if rng.random() < 0.5:
            entry["media"] = rng.sample(mix.pictures, rng.randint(1, 3))
        entry["overrides"] = {tw.name: {"message": sentence(rng, 12)}}
    elif shape < 0.75:  # LinkedIn, company or profile, with a link preview
        li = rng.choice(mix.of("linkedin-company") + mix.of("linkedin"))
        entry = _base(entry_id, when, [li.name], repeat, message=sentence(rng, 25),
                      link=f"https://example.com/blog/{entry_id}", title=sentence(rng, 5),
                      description=sentence(rng, 12))
        if rng.random() < 0.3:
            entry["media"] = [rng.choice(mix.pictures)]
    else:  # a tweet, sometimes with a link or pictures
        tw = rng.choice(mix.of("twitter"))
        entry = _base(entry_id, when, [tw.name], repeat, message=sentence(rng, 14))
        if rng.random() < 0.3:
            entry["link"] = f"https://example.com/t/{entry_id}"
        elif rng.random() < 0.3:
            entry["media"] = rng.sample(mix.pictures, rng.randint(1, 4))
    if rng.random() < 0.05:
        entry["timezone"] = rng.choice(ZONES)
    if rng.random() < 0.05:
        entry["note"] = "Check the numbers with marketing first."
    if rng.random() < 0.03:
        entry["grace"] = rng.choice(("5m", "1h", "2h"))
    if rng.random() < 0.01:
        entry["enabled"] = False
    return entry


def occurrences_of(entry: Mapping[str, Any]) -> int:
    """Occurrences an entry generated here has (per account, all of them): its count, or 1."""
    if entry.get("enabled") is False:
        return 0
    count = entry.get("repeat", {}).get("count", 1)
    return int(count) * len(entry["to"])


def repetition(rng: random.Random, when: datetime, count: int, *,
               units: Sequence[str] = ("day", "day", "week", "month"),
               exceptions: bool = True) -> dict[str, Any]:
    """A count-bounded rule of a random unit; days are always at least one apart."""
    unit = rng.choice(units)
    rule: dict[str, Any] = {"every": unit}
    if unit == "day" and rng.random() < 0.3:
        rule["interval"] = 2
    if unit == "week" and rng.random() < 0.5:
        rule["on"] = sorted(rng.sample(WEEKDAYS, 2), key=WEEKDAYS.index)
    rule["count"] = count
    if exceptions and unit != "month" and "on" not in rule and count > 1 and rng.random() < 0.3:
        # Skip a day that really is an occurrence: the k-th one after the first.
        step = rule.get("interval", 1) * (7 if unit == "week" else 1)
        skipped = when + timedelta(days=step * rng.randint(1, min(5, count - 1)))
        rule["except"] = [skipped.strftime("%Y-%m-%d")]
    return rule


def realistic(files: int, entries: int, start: datetime, span_days: int, *, seed: int = 7,
              recurring: float = 0.15, count: int = 8) -> tuple[list[CalendarFile], int]:
    """`entries` mixed entries over `files` files (the first also holds accounts and media),
    first occurrences spread over `span_days` from `start`. Returns the files and the number
    of entries generated."""
    rng = random.Random(seed)
    mix, head = mix_header(rng)
    cals = [head] + [CalendarFile(timezone="Europe/Berlin") for _ in range(files - 1)]
    for index in range(entries):
        day = start + timedelta(days=rng.randrange(span_days))
        when = daytime(rng, day)
        repeat = repetition(rng, when, count) if rng.random() < recurring else None
        kind, entry = mixed_entry(rng, mix, f"e{index:06d}", when, repeat)
        cals[index * files // entries].add(kind, entry)
    return cals, entries


def future(occurrences: int, files: int, start: datetime, *, seed: int = 11,
           recurring: float = 0.035, count: int = 40) -> tuple[list[CalendarFile], int]:
    """At least `occurrences` occurrences (per account), all within 400 days of `start`:
    one-offs over 380 days, and day or week repetitions of `count` (no exceptions, so the
    count is exact) starting in the first 60 days. Returns the files and the exact count."""
    rng = random.Random(seed)
    mix, head = mix_header(rng)
    made: list[tuple[str, dict[str, Any]]] = []
    total = 0
    while total < occurrences:
        repeats = rng.random() < recurring
        when = daytime(rng, start + timedelta(days=rng.randrange(60 if repeats else 380)))
        repeat = repetition(rng, when, count, units=("day", "week"), exceptions=False) \
            if repeats else None
        made.append(mixed_entry(rng, mix, f"f{len(made):06d}", when, repeat))
        total += occurrences_of(made[-1][1])
    cals = [head] + [CalendarFile(timezone="Europe/Berlin") for _ in range(files - 1)]
    for index, (kind, entry) in enumerate(made):
        cals[index * files // len(made)].add(kind, entry)
    return cals, total


def kinds_count(cals: Iterable[CalendarFile]) -> dict[str, int]:
    """Entries per list key across files."""
    found: dict[str, int] = {}
    for cal in cals:
        for kind, entries in cal.entries.items():
            found[kind] = found.get(kind, 0) + len(entries)
    return found


def sentence(rng: random.Random, words: int) -> str:
    """A capitalised sentence of `words` random words."""
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."
