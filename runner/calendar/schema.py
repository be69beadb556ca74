"""Validate loaded calendar documents against `schema/calendar.schema.json`.

The schema is the contract editors and other tools see; this module runs it (jsonschema is
imported here only) and turns each error into a `Problem` at the `file:line:col` of the
offending key or value, with a message written for people and a hint where we know the fix.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

from runner.calendar.files import Document
from runner.calendar.schema_fast import FastCheck
from runner.errors import Problem

_TYPE_NAMES = {
    "string": "text", "integer": "a whole number", "number": "a number", "boolean": "true or false",
    "object": "a mapping of keys to values", "array": "a list", "null": "nothing",
}
# A sentence ends at ". ", but not inside "e.g. " or "i.e. ".
_FIRST_SENTENCE = re.compile(r"(?<!e\.g)(?<!i\.e)\. ")
_PROVIDER_ONLY = {
    "page": "facebook", "group": "facebook", "company": "linkedin", "board": "pinterest",
    "callback_url": "twitter or youtube",
}


@cache
def calendar_schema() -> dict[str, Any]:
    """The calendar JSON Schema, read once from the package."""
    text = resources.files("runner.calendar").joinpath("calendar.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


_FAST = FastCheck(calendar_schema)  # large calendars: a compiled check first


@cache
def anchored(pattern: str) -> re.Pattern[str]:
    r"""A schema pattern as the schema means it (ECMA-262): in Python `$` also matches
    before a trailing newline, so `"20/h\n"` would pass `^...$` and then break whatever
    reads the value. `\Z` is the end of the text and nothing else."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


def matches(pattern: str, text: str) -> bool:
    """True if `text` matches the schema `pattern`, anchored as the schema means it."""
    return anchored(pattern).search(text) is not None


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    if validator.is_type(instance, "string") and not matches(pattern, instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


def _is_integer(checker: Any, instance: Any) -> bool:
    # Draft 7 counts 2.0 as an integer; the calendar's readers (interval, count, ...) use
    # it as a count of things, so only a whole number written without a point is one.
    return isinstance(instance, int) and not isinstance(instance, bool)


@cache
def _validator() -> Any:
    # Resolving `$ref` for every value of every file is most of jsonschema's time; the
    # schema has no recursion, so inline its definitions once (same checks, same errors).
    schema = calendar_schema()
    strict = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
        jsonschema.Draft7Validator, {"pattern": _pattern},
        type_checker=jsonschema.Draft7Validator.TYPE_CHECKER.redefine("integer", _is_integer))
    return strict(_inline(schema, schema.get("definitions", {})))


def _inline(node: Any, definitions: dict[str, Any]) -> Any:
    """`node` with every local `#/definitions/NAME` reference replaced by its target."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            return _inline(definitions[ref.removeprefix("#/definitions/")], definitions)
        return {k: _inline(v, definitions) for k, v in node.items() if k != "definitions"}
    if isinstance(node, list):
        return [_inline(v, definitions) for v in node]
    return node


def validate(doc: Document) -> list[tuple[tuple[str | int, ...], Problem]]:
    """Every schema problem of one document, each placed at its key or value, with the
    path of the part it makes invalid."""
    if _FAST.valid(doc.data):
        return []
    found: list[tuple[tuple[str | int, ...], Problem]] = []
    for error in _validator().iter_errors(doc.data):
        path = _target(error)
        found.extend((path, problem) for problem in _problems(doc, error))
    return found


def _target(error: jsonschema.ValidationError) -> tuple[str | int, ...]:
    """The path of the part an error makes invalid. jsonschema gives a bad property name
    the path of its mapping, which would condemn every sibling: point at the name instead."""
    path = tuple(error.absolute_path)
    if "propertyNames" in error.relative_schema_path:
        return (*path, str(error.instance))
    return path


def json_path(path: tuple[str | int, ...]) -> str:
    """`("posts", 0, "at")` -> `$.posts[0].at`."""
    text = "$"
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _problems(doc: Document, error: jsonschema.ValidationError) -> Iterator[Problem]:
    path = _target(error)
    validator = error.validator
    schema: Any = error.schema
    if validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(schema.get("properties", {}))
        for key in sorted(set(error.instance) - set(allowed)):
            yield _at(doc, (*path, key), f"unknown key '{key}'", _did_you_mean(key, allowed),
                      key=True)
        return
    if validator == "required":
        missing: Any = error.validator_value
        for key in missing:
            if isinstance(error.instance, dict) and key not in error.instance:
                yield _at(doc, path, f"missing required key '{key}'", "", key=True)
        return
    if "propertyNames" in error.relative_schema_path:
        yield _at(doc, path, f"'{error.instance}' is not a valid name",
                  "use lower case letters, digits, '-', '_' and '.'", key=True)
        return
    # The schema forbids a key with `not: {}` rather than `false`: jsonschema drops the
    # key from the path of a `false` schema's error, and we need it to place the problem.
    if validator == "not" and error.validator_value == {} and path and \
            str(path[-1]) in _PROVIDER_ONLY:
        key = str(path[-1])
        yield _at(doc, path, f"'{key}' applies only to {_PROVIDER_ONLY[key]} accounts",
                  "remove it or change `provider`", key=True)
        return
    message, hint = _describe(error)
    yield _at(doc, path, message, hint, key=validator in ("not", "minProperties"))


def _describe(error: jsonschema.ValidationError) -> tuple[str, str]:
    validator = error.validator
    value: Any = error.validator_value
    instance: Any = error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    if validator == "type":
        expected = _TYPE_NAMES.get(str(value), str(value))
        hint = ""
        if value == "string" and isinstance(instance, int | float | bool):
            hint = _quote_it(_yaml_text(instance), schema)
        elif value == "boolean" and isinstance(instance, str):
            hint = "write true or false; yes, no, on and off are text in YAML 1.2"
        elif value == "array" and isinstance(instance, str):
            hint = f"write a list, even of one: [{instance}]"
        return f"expected {expected}, got {_kind(instance)}", hint
    if validator == "pattern":
        known = _PATTERNS.get(str(value))
        if known is None:
            return f"'{instance}' is not valid here", _example_hint(schema)
        noun, hint = known
        return f"'{instance}' is not {noun}", _suggestion(str(instance), str(value)) or hint
    if validator == "enum":
        options = [str(v) for v in value]
        # The message already lists the options; the hint adds only a close match.
        return f"'{instance}' is not one of: {', '.join(options)}", _close(str(instance), options)
    if validator == "const":
        quoted = isinstance(instance, str) and instance == json.dumps(value)
        return f"must be {json.dumps(value)}", f"without quotes: {json.dumps(value)}" if quoted else ""
    if validator == "not" and isinstance(instance, dict) and {"page", "group"} <= set(instance):
        return "an account takes `page` or `group`, not both", "one account per page or group"
    if validator == "minItems":
        return "the list is empty", "give at least one item or remove the key"
    if validator == "uniqueItems":
        return "the list has an item twice", "remove the repeated item"
    if validator == "minLength":
        return "the text is empty", "write something or remove the key"
    if validator == "maxLength":
        return f"the text is {len(instance)} characters long; the limit is {value}", ""
    if validator == "minimum":
        return f"{instance} is too small; the least allowed is {value}", ""
    if validator == "maximum":
        return f"{instance} is too large; the most allowed is {value}", ""
    if validator == "minProperties":
        return "the mapping is empty", "give at least one key or remove it"
    return error.message, ""


def _at(doc: Document, path: tuple[str | int, ...], message: str, hint: str, *,
        key: bool = False) -> Problem:
    line, col = doc.where(path, key=key)
    return Problem(doc.file, line, col, json_path(path), message, hint)


def _did_you_mean(word: str, options: list[str]) -> str:
    close = _close(word, options)
    if close:
        return close
    return f"allowed here: {', '.join(options)}" if options else ""


# What people call a provider that OneAll names otherwise.
_ALIASES = {"x": "twitter", "x.com": "twitter", "tw": "twitter", "fb": "facebook",
            "meta": "facebook", "li": "linkedin", "yt": "youtube"}


def _close(word: str, options: list[str]) -> str:
    alias = _ALIASES.get(word.lower())
    if alias in options:
        return f"did you mean '{alias}'?"
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


def _quote_it(text: str, schema: dict[str, Any]) -> str:
    """Quoting turns a number into text; say so only where that text would then be valid."""
    pattern = schema.get("pattern")
    if pattern is None or matches(pattern, text):
        return f"quote it: '{text}'"
    return _example_hint(schema)


_TIME_HINT = ("write 'YYYY-MM-DD HH:MM' (wall time in the zone) or ISO 8601 with an offset, "
              "e.g. '2026-12-01 09:00' or '2026-12-01T09:00:00+01:00'")
_NAME_HINT = "lower case letters, digits, '-', '_' and '.', starting with a letter or digit"
# What each pattern of the schema stands for, to say so in words (keyed by the pattern).
_PATTERNS = {
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})?$": ("a time", _TIME_HINT),
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2})?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})?)?$": ("a day or a time", "a day 'YYYY-MM-DD' or a time; "
                                        + _TIME_HINT[0].lower() + _TIME_HINT[1:]),
    r"^(UTC|[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2})$": (
        "a time zone name", "an IANA name such as 'Europe/Berlin' or 'America/New_York'"),
    r"^[0-9]+(s|m|h|d)$": ("a duration", "a whole number and s, m, h or d, e.g. '15m'"),
    r"^[a-z0-9][a-z0-9._-]{0,63}$": ("a valid name", _NAME_HINT),
    r"^[a-z0-9][a-z0-9._-]{0,99}$": ("a valid id", _NAME_HINT),
    r"^https?://[^\s]+$": ("an http(s) URL", "a full address, e.g. 'https://example.com/page'"),
    r"^[0-9]{1,30}$": ("a numeric id", "pages, groups, companies and boards are given by "
                       "their numeric id, quoted, not by their name; the Pull API lists them"),
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$": (
        "an identity token", "the identity_token (a UUID) of the connected account in OneAll"),
    r"^[1-9][0-9]*/(s|m|h|d)$": ("a rate", "sends per unit, e.g. '30/h'"),
    r"^[A-Za-z0-9_-]{11}$": ("a YouTube video id", "11 characters, e.g. 'dQw4w9WgXcQ'"),
    r"^[A-Za-z0-9_-]{2,64}$": ("a YouTube playlist id",
                               "e.g. 'PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG'"),
    r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$": ("a language tag", "a BCP 47 tag such as 'en' or 'de-DE'"),
}
_YOUTUBE_URL = re.compile(r"(?:youtu\.be/|[?&]v=|/shorts/|/embed/)([A-Za-z0-9_-]{11})")
_YOUTUBE_LIST = re.compile(r"[?&]list=([A-Za-z0-9_-]{2,64})")
_LOOSE_TIME = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:([ T])(\d{1,2}):(\d{2})(.*))?")


def _suggestion(text: str, pattern: str) -> str:
    """`did you mean ...?` when the intended value is plain to see: a time missing its
    leading zeros, or a YouTube address where its id belongs."""
    noun = _PATTERNS.get(pattern, ("",))[0]
    for noun_wanted, address in (("a YouTube video id", _YOUTUBE_URL),
                                 ("a YouTube playlist id", _YOUTUBE_LIST)):
        found = address.search(text) if noun == noun_wanted else None
        if found:
            return f"the id, not the address: '{found.group(1)}'"
    return _padded(text, pattern)


def _padded(text: str, pattern: str) -> str:
    """`did you mean '2026-12-01 09:00'?` for a date or time missing its leading zeros."""
    match = _LOOSE_TIME.fullmatch(text.strip())
    if not match or _PATTERNS.get(pattern, ("",))[0] not in ("a time", "a day or a time"):
        return ""
    year, month, day, sep, hour, minute, rest = match.groups()
    fixed = f"{year}-{int(month):02}-{int(day):02}"
    if sep:
        fixed += f"{sep}{int(hour):02}:{minute}{rest}"
    return f"did you mean '{fixed}'?" if fixed != text and matches(pattern, fixed) else ""


def _example_hint(schema: dict[str, Any]) -> str:
    """The description's first sentence, and an example unless that sentence gives one."""
    description = _FIRST_SENTENCE.split(str(schema.get("description", "")), maxsplit=1)[0]
    description = description.rstrip(".")
    examples = schema.get("examples")
    if examples and "e.g." not in description:
        return f"{description}, e.g. '{examples[0]}'"
    return description


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return f"the number {_yaml_text(value)}"
    if value is None:
        return "nothing"
    return _TYPE_NAMES.get(type(value).__name__, "") or {
        "str": "text", "dict": "a mapping", "list": "a list"}.get(type(value).__name__, "a value")


def _yaml_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
