"""What the sandbox remembers: identities, created objects, uploads, and every push received.

One `World` per sandbox, shared by all server threads; every method takes the one lock, so a
request's checks and its creation are atomic. Ids are big decimal strings, unique per world
(and, since they start from the wall clock, distinct across runs sharing a ledger).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from runner.oneall.endpoints import ATTACHMENTS_FIELD, CREATE_POST_FIELD, Endpoint, location_of
from runner.sandbox.envelope import Refused
from runner.sandbox.faults import FaultDice, Faults


@dataclass(frozen=True)
class Received:
    """One push request as the sandbox saw it; `status` is 0 when no answer was sent."""

    seq: int
    at: float
    method: str
    path: str
    endpoint: str | None
    identity: str | None
    body: Any
    status: int
    fault: str | None
    created: str | None
    duplicate_of: int | None
    callback: str | None = None  # async uploads: "pending", "delivered 200", "skipped: ..."


@dataclass(frozen=True)
class Stored:
    """One object the sandbox created, with what is needed to list and attach it."""

    seq: int
    object_id: str
    endpoint: Endpoint
    identity: str
    params: Mapping[str, str]
    fields: Mapping[str, Any]
    at: float  # the injected clock at creation
    upload_only: bool  # Facebook media with create_post false: attachable, not a post

    @property
    def location(self) -> str:
        """Where the object would be seen on its network."""
        return location_of(self.endpoint, self.object_id)

    @property
    def attachable(self) -> bool:
        """An upload that a later post may list in `attachments`."""
        kind = self.endpoint.attachable
        return kind == "always" or (kind == "upload_only" and self.upload_only)


def object_kind(endpoint: Endpoint) -> str:
    """What an endpoint creates, named after its id field: `post_id` -> "post"."""
    return endpoint.id_field.removesuffix("_id")


class World:
    """The sandbox's state behind one lock."""

    def __init__(self, faults: Faults, clock: Callable[[], float]) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._seq = itertools.count(1)  # never restarts, so late callbacks cannot hit a new record
        self._ids = itertools.count(10**17 + time.time_ns() // 1000 % 10**16)
        self._dice = FaultDice(faults)
        self._clear()

    def _clear(self) -> None:
        self._providers: dict[str, str] = {}
        self._objects: dict[str, Stored] = {}
        self._creators: dict[str, int] = {}  # identical request -> seq that first created it
        self._received: dict[int, Received] = {}
        self._early: dict[int, str] = {}  # callback outcomes that beat their request's record

    @property
    def faults(self) -> Faults:
        """The fault settings in force."""
        return self._dice.faults

    def set_faults(self, faults: Faults) -> None:
        """Replace the fault settings (and restart the dice from their seed)."""
        with self._lock:
            self._dice = FaultDice(faults)

    def reset(self) -> None:
        """Forget everything received and created; fault settings stay."""
        with self._lock:
            self._clear()

    def next_seq(self) -> int:
        """The next request's sequence number (never reused, even after a reset)."""
        with self._lock:
            return next(self._seq)

    def roll_fault(self) -> str | None:
        """The fault for the next push request, or None."""
        with self._lock:
            return self._dice.roll()

    def bind(self, identity: str, provider: str) -> None:
        """The first provider used with an identity owns it; another one is a 404."""
        with self._lock:
            owner = self._providers.setdefault(identity, provider)
        if owner != provider:
            raise Refused(404, f"identity {identity} is a {owner} identity, not {provider}")

    def create(self, seq: int, endpoint: Endpoint, identity: str, params: Mapping[str, str],
               document: Any, fields: Mapping[str, Any]) -> tuple[Stored, int | None]:
        """Store a new object after checking its attachments; returns it and `duplicate_of`."""
        key = json.dumps([endpoint.key, identity, sorted(params.items()), document],
                         sort_keys=True)
        with self._lock:
            self._check_attachments(identity, fields.get(ATTACHMENTS_FIELD, ()))
            stored = Stored(seq, str(next(self._ids)), endpoint, identity, dict(params),
                            dict(fields), self._clock(), fields.get(CREATE_POST_FIELD) is False)
            self._objects[stored.object_id] = stored
            first = self._creators.setdefault(key, seq)
        return stored, (first if first != seq else None)

    def _check_attachments(self, identity: str, ids: Any) -> None:
        for object_id in ids:
            media = self._objects.get(object_id)
            if media is None or media.identity != identity or media.endpoint.attachable == "no":
                raise Refused(400, f"unknown attachment id {object_id!r}: not a picture or "
                                   f"video uploaded through identity {identity}")
            if not media.attachable:
                raise Refused(400, f"attachment id {object_id!r} was published with "
                                   "create_post true; upload with create_post false to attach")
            self._check_expiry(media)

    def _check_expiry(self, media: Stored) -> None:
        limit = media.endpoint.expires_after_s
        age = self._clock() - media.at
        if limit is not None and age > limit:
            raise Refused(400, f"attachment id {media.object_id!r} has expired: unattached "
                               f"{media.endpoint.provider} pictures vanish after "
                               f"{limit / 3600:g} h (uploaded {age / 3600:.1f} h ago)")

    def record(self, received: Received) -> None:
        """Keep a push request's record (with its callback outcome if that came first)."""
        with self._lock:
            outcome = self._early.pop(received.seq, None)
            if outcome is not None:
                received = dataclasses.replace(received, callback=outcome)
            self._received[received.seq] = received

    def note_callback(self, seq: int, outcome: str) -> None:
        """Record how an async upload's callback went, if its request is still remembered."""
        with self._lock:
            if seq in self._received:
                self._received[seq] = dataclasses.replace(self._received[seq], callback=outcome)
            else:
                self._early[seq] = outcome

    def received(self) -> list[Received]:
        """A snapshot of every record, by sequence number."""
        with self._lock:
            return sorted(self._received.values(), key=lambda r: r.seq)

    def objects(self, identity: str) -> list[Stored]:
        """The objects created through one identity, oldest first."""
        with self._lock:
            return sorted((o for o in self._objects.values() if o.identity == identity),
                          key=lambda o: o.seq)
