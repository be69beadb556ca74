"""A delivery's state as the review views show it: the ledger's row, or what its absence means."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from runner.ledger.contract import Row
from runner.review.schedule import Slot, SlotKey

KIND_NAMES = {"posts": "post", "pictures": "picture", "videos": "video", "pins": "pin",
              "boards": "board", "playlists": "playlist", "playlist_items": "playlist item",
              "channel_sections": "channel section"}


def shown_state(slot: Slot, rows: Mapping[SlotKey, Row], now: datetime) -> str:
    """The row's state; with no row, `planned` when still ahead, else `not recorded`."""
    row = rows.get(slot.key)
    if row is not None:
        return str(row.state)
    return "planned" if slot.occurrence.due > now else "not recorded"
