"""Checking a push request's body against the endpoint table, as OneAll would refuse it.

Everything endpoint-specific comes from `runner.oneall.endpoints` (object key nesting, field types,
required, any_of, exclusive, URL fields, enumerated values); this module only knows what the
JSON types mean. A refusal is an HTTP 400 whose `info` names every problem found, so one
round trip tells the whole story.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from runner.oneall.endpoints import Endpoint, FieldType
from runner.sandbox.envelope import Refused


def parse_json(content_type: str | None, raw: bytes) -> Any:
    """The request body as JSON, or a 400 saying exactly why it is not."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media != "application/json":
        got = repr(content_type) if content_type else "none"
        raise Refused(400, f"Content-Type must be application/json, got {got}")
    if not raw.strip():
        raise Refused(400, "the request body is empty; expected a JSON document")
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise Refused(400, f"the request body is not UTF-8: {exc}") from None
    except json.JSONDecodeError as exc:
        raise Refused(400, f"the request body is not valid JSON: {exc}") from None


def expected_shape(endpoint: Endpoint) -> str:
    """`{"request": {"push": {"page": {...}}}}`, for messages."""
    shape = "{...}"
    for key in reversed(endpoint.nesting):
        shape = f'{{"{key}": {shape}}}'
    return shape


def unwrap(endpoint: Endpoint, document: Any) -> dict[str, Any]:
    """The object under `request.push.<object_key...>`; the nesting must be exact."""
    node, where = document, "$"
    for key in endpoint.nesting:
        if not isinstance(node, dict):
            raise Refused(400, f"{where} must be an object; the body must be "
                               f"{expected_shape(endpoint)}")
        if set(node) != {key}:
            found = ", ".join(repr(k) for k in node) or "nothing"
            raise Refused(400, f"{where} must hold exactly the key '{key}', found {found}; "
                               f"the body must be {expected_shape(endpoint)}")
        node, where = node[key], f"{where}.{key}"
    if not isinstance(node, dict):
        raise Refused(400, f"{where} must be an object of fields, got {_json_type(node)}")
    return node


def check_fields(endpoint: Endpoint, fields: Mapping[str, Any]) -> None:
    """Refuse unknown or missing fields, wrong types and broken any_of/exclusive rules."""
    problems = [
        *_unknown(endpoint, fields),
        *_missing(endpoint, fields),
        *(p for name, value in fields.items() if name in endpoint.fields
          for p in _value_problems(endpoint, name, value)),
        *_combinations(endpoint, fields),
    ]
    if problems:
        where = "$." + ".".join(endpoint.nesting)
        raise Refused(400, f"{where}: " + "; ".join(problems))


def _unknown(endpoint: Endpoint, fields: Mapping[str, Any]) -> list[str]:
    unknown = [name for name in fields if name not in endpoint.fields]
    if not unknown:
        return []
    allowed = ", ".join(endpoint.fields)
    return [f"unknown field{_s(unknown)} {_names(unknown)} (allowed: {allowed})"]


def _missing(endpoint: Endpoint, fields: Mapping[str, Any]) -> list[str]:
    missing = [name for name in endpoint.required if name not in fields]
    return [f"missing required field{_s(missing)} {_names(missing)}"] if missing else []


def _combinations(endpoint: Endpoint, fields: Mapping[str, Any]) -> list[str]:
    problems = []
    if endpoint.any_of and not any(name in fields for name in endpoint.any_of):
        problems.append(f"at least one of {_names(endpoint.any_of)} is required")
    clash = [name for name in endpoint.exclusive if name in fields]
    if len(clash) > 1:
        problems.append(f"{_names(clash)} cannot be used together: give only one")
    return problems


def _value_problems(endpoint: Endpoint, name: str, value: Any) -> list[str]:
    kind, allowed = endpoint.fields[name], endpoint.enums.get(name)
    if not _has_type(kind, value):
        return [f"'{name}' must be {_DESCRIPTIONS[kind]}, got {_json_type(value)}"]
    if allowed is not None and value not in allowed:
        return [f"'{name}' must be one of {', '.join(allowed)}, got {value!r}"]
    # OneAll fetches media by URL, so a URL that is not one fails there, not later.
    if name in endpoint.url_fields and not _is_web_url(value):
        return [f"'{name}' must be an absolute http(s) URL, got {value!r}"]
    return []


_DESCRIPTIONS: dict[FieldType, str] = {
    "str": "a non-empty string",
    "bool": "true or false",
    "int": "an integer",
    "ids": "a list of non-empty id strings",
}


def _has_type(kind: FieldType, value: Any) -> bool:
    if kind == "str":
        return isinstance(value, str) and bool(value.strip())
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)


def _is_web_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "an empty string" if not value.strip() else "a string"
    if isinstance(value, list):
        odd = [item for item in value if not isinstance(item, str) or not item.strip()]
        return f"a list holding {_json_type(odd[0])}" if odd else "a list"
    return "an object"


def _names(names: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f"'{name}'" for name in names)


def _s(items: list[str]) -> str:
    return "s" if len(items) > 1 else ""
