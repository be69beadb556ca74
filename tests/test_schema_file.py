"""The JSON Schema as other tools see it: a valid draft-07 schema, documented for editors,
and accepted by check-jsonschema on the same calendars pushcal accepts."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "schema" / "calendar.schema.json"
VALID = [ROOT / "calendar.example.yaml", ROOT / "examples" / "every-endpoint.yaml",
         *sorted((ROOT / "tests" / "cases" / "valid").glob("*.yaml"))]


def _schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return data


def _objects(node: Any, path: str = "$") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        if node.get("type") == "object":
            yield path, node
        for key, value in node.items():
            yield from _objects(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _objects(value, f"{path}[{index}]")


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = schema["definitions"][name]
    return node


def _check_jsonschema() -> str:
    tool = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    assert tool, "check-jsonschema is a test dependency (pyproject [test])"
    return tool


def test_the_schema_is_a_valid_draft_07_schema() -> None:
    schema = _schema()
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(schema)


def test_every_object_forbids_unknown_keys() -> None:
    objects = list(_objects(_schema()))
    assert len(objects) > 10
    open_ones = [path for path, node in objects if node.get("additionalProperties") is not False
                 and not isinstance(node.get("additionalProperties"), dict)]
    assert open_ones == []


def test_every_property_has_a_description_for_editors() -> None:
    schema = _schema()
    missing = [f"{path}.{name}" for path, node in _objects(schema)
               for name, prop in node.get("properties", {}).items()
               if not _resolve(schema, prop).get("description")]
    assert missing == []


def test_the_package_ships_the_same_schema() -> None:
    from runner.calendar.schema import calendar_schema

    assert calendar_schema() == _schema()


@pytest.mark.parametrize("calendar", VALID, ids=lambda p: p.name)
def test_check_jsonschema_accepts_what_pushcal_accepts(calendar: Path) -> None:
    tool = _check_jsonschema()
    done = subprocess.run([tool, "--schemafile", str(SCHEMA), str(calendar)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_check_jsonschema_refuses_an_unknown_key(tmp_path: Path) -> None:
    tool = _check_jsonschema()
    bad = tmp_path / "typo.yaml"
    bad.write_text('version: 1\ntimezone: UTC\nposts:\n  - {id: a, at: "2027-01-01 09:00", '
                   'to: [x], mesage: hi}\n', encoding="utf-8")
    done = subprocess.run([tool, "--schemafile", str(SCHEMA), str(bad)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "mesage" in done.stdout + done.stderr


def test_every_pattern_of_the_schema_is_explained_in_words() -> None:
    from runner.calendar.schema import _PATTERNS

    patterns: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "pattern" in node:
                patterns.add(node["pattern"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(_schema())
    assert patterns == set(_PATTERNS)
