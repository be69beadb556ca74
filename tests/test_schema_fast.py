"""The compiled schema check only ever says "valid" where jsonschema finds nothing.

It answers for large calendars (past `WORTH_IT` items); whatever it does not call valid goes
to jsonschema, which words the problems. So the one thing it must never do is call a
document valid that jsonschema would fault: checked here on every case of the corpus, and
end to end on a calendar large enough to take the fast path.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from runner.calendar import files, schema
from runner.calendar.schema_fast import WORTH_IT, FastCheck
from runner.cli import Context, main
from runner.errors import InvalidCalendar

CASES = Path(__file__).resolve().parent / "cases"
DOCUMENTS = sorted(CASES.rglob("*.yaml"))


def _warm() -> FastCheck:
    check = FastCheck(schema.calendar_schema)
    check.valid({"posts": [{}] * WORTH_IT})  # past the threshold from now on
    return check


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(CASES)))
def test_fast_valid_means_jsonschema_finds_nothing(path: Path) -> None:
    try:
        doc = files.load_file(path)
    except InvalidCalendar:
        pytest.skip("not YAML the schema is ever asked about")
    jsonschema_faults = list(schema._validator().iter_errors(doc.data))
    assert _warm().valid(doc.data) == (not jsonschema_faults), path


def test_small_documents_never_pay_for_compiling() -> None:
    check = FastCheck(schema.calendar_schema)
    assert not check.valid({"version": 1, "posts": [{}] * 3})


def _post(n: int, at: str) -> dict[str, object]:
    return {"id": f"post-{n}", "at": at, "to": ["acme-x"], "message": f"Post number {n}"}


def test_a_problem_in_a_large_calendar_is_still_found_and_worded(tmp_path: Path) -> None:
    accounts = {"acme-x": {"provider": "twitter",
                           "identity": "1b0e3c7a-55f1-4d0e-9d55-0c1f7f2e8a11"}}
    for part in range(2):
        posts = [_post(part * 1000 + n, "2026-12-01 09:00") for n in range(WORTH_IT)]
        if part == 1:
            posts[-1]["colour"] = "blue"  # an unknown key, after the fast path is warm
        doc = {"version": 1, "timezone": "UTC", "posts": posts,
               **({"accounts": accounts} if part == 0 else {})}
        (tmp_path / f"part-{part}.yaml").write_text(json.dumps(doc, indent=1), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    assert main(["validate", str(tmp_path)], Context(env={}, out=out, err=err)) == 1
    shown = out.getvalue() + err.getvalue()
    assert f"part-1.yaml:{12 + 8 * (WORTH_IT - 1)}:4: $.posts[{WORTH_IT - 1}].colour: unknown key " \
           "'colour'" in shown, shown
    assert shown.endswith("pushcal: 1 problem in 1 file\n"), shown
