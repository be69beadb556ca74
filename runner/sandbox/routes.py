"""Which OneAll resource a request path names: a push endpoint or a pull listing.

Push paths come from the endpoint table's templates (`PUSH_PREFIX` + `Endpoint.path`),
pull paths from its listing table (`PULL_PREFIX` + `Listing.path`); both capture the identity
token and the `{param}` slots, whose values must have the table's `PARAM_SHAPES`. A path
that names nothing answers 404, like OneAll's unknown resource.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from runner.oneall.endpoints import ENDPOINTS, PARAM_SHAPES, PUSH_PREFIX, Endpoint
from runner.sandbox.envelope import Refused

_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\Z")
_SHAPES = {name: re.compile(shape.pattern) for name, shape in PARAM_SHAPES.items()}


@dataclass(frozen=True)
class Route:
    """A matched path: the table row's key, the identity token and the captured parameters."""

    key: str
    identity: str
    params: dict[str, str]


def compile_template(prefix: str, template: str) -> re.Pattern[str]:
    """A regex for `prefix + template`, with a named group per `{slot}` (one path segment)."""
    pieces = re.split(r"\{(\w+)\}", prefix + template)
    pattern = "".join(
        re.escape(piece) if index % 2 == 0 else f"(?P<{piece}>[^/]+)"
        for index, piece in enumerate(pieces)
    )
    return re.compile(pattern + r"\Z")


_PUSH = [(key, compile_template(PUSH_PREFIX, row.path)) for key, row in ENDPOINTS.items()]


def match_push(path: str) -> tuple[Endpoint, Route]:
    """The push endpoint a path names, or a 404 `Refused`."""
    route = match(path, _PUSH)
    return ENDPOINTS[route.key], route


def match(path: str, table: Iterable[tuple[str, re.Pattern[str]]]) -> Route:
    """The first table row whose pattern matches the whole path; checks identity and params."""
    for key, pattern in table:
        found = pattern.match(path)
        if found:
            params = found.groupdict()
            identity = params.pop("identity")
            _check_identity(identity)
            _check_params(params)
            return Route(key, identity, params)
    raise Refused(404, f"unknown resource {path}")


def _check_identity(identity: str) -> None:
    if not _UUID.match(identity):
        raise Refused(404, f"unknown identity {identity!r}: identity tokens are UUIDs")


def _check_params(params: dict[str, str]) -> None:
    for name, value in params.items():
        shape = _SHAPES.get(name)
        if shape and not shape.fullmatch(value):
            raise Refused(404, f"unknown {name} {value!r}: {PARAM_SHAPES[name].why}")
