"""`pushcal validate` as users and CI call it: output formats, exit codes, several files and
folders, and hostile input (binary, empty, huge, deeply nested, alias bombs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

X = "1b0e3c7a-55f1-4d0e-9d55-0c1f7f2e8a11"
FB = "923843ec-1749-4cc1-988f-d6963f3b1baa"
ACCOUNTS = f"""\
version: 1
timezone: Europe/Berlin
accounts:
  acme-x: {{provider: twitter, identity: {X}}}
  acme-page: {{provider: facebook, identity: {FB}, page: "50%"}}
"""
POSTS = """\
version: 1
timezone: Europe/Berlin
posts:
  - id: launch
    at: "2026-12-01 09:00"
    to: [acme-tw]
    message: "We're live!"
"""
GOOD = f"""\
version: 1
timezone: Europe/Berlin
accounts:
  acme-x: {{provider: twitter, identity: {X}}}
posts:
  - {{id: launch, at: "2026-12-01 09:00", to: [acme-x], message: "We're live!"}}
"""


def write(path: Path, text: str | bytes) -> str:
    """Create the file (and its folders); return its name as given on the command line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture
def two_broken_files(tmp_path: Path) -> Path:
    """A folder whose two files each hold one problem; one file name needs escaping."""
    write(tmp_path / "cal" / "a,b.yaml", ACCOUNTS)
    write(tmp_path / "cal" / "sub" / "posts.yaml", POSTS)
    return tmp_path / "cal"


# -- formats -----------------------------------------------------------------------------

ID_HINT = ("pages, groups, companies and boards are given by their numeric id, quoted, not by "
           "their name; the Pull API lists them")


def test_json_lists_every_problem_as_an_object(pushcal: Any, two_broken_files: Path) -> None:
    run = pushcal(["validate", "--format", "json", str(two_broken_files)])
    assert run.code == 1, str(run)
    assert json.loads(run.out) == [
        {"file": f"{two_broken_files}/a,b.yaml", "line": 5, "col": 89,
         "path": "$.accounts.acme-page.page", "message": "'50%' is not a numeric id",
         "hint": ID_HINT},
        {"file": f"{two_broken_files}/sub/posts.yaml", "line": 6, "col": 10,
         "path": "$.posts[0].to[0]", "message": "unknown account 'acme-tw'",
         "hint": "did you mean 'acme-x'?"},
    ], str(run)
    assert run.err == "", str(run)  # machines read stdout; nothing else is said


def test_github_annotations_escape_data_and_properties(pushcal: Any, two_broken_files: Path) -> None:
    run = pushcal(["validate", "--format", "github", str(two_broken_files)])
    assert run.code == 1, str(run)
    assert run.out == (
        f"::error file={two_broken_files}/a%2Cb.yaml,line=5,col=89,title=pushcal::"
        f"$.accounts.acme-page.page: '50%25' is not a numeric id ({ID_HINT})\n"
        f"::error file={two_broken_files}/sub/posts.yaml,line=6,col=10,title=pushcal::"
        "$.posts[0].to[0]: unknown account 'acme-tw' (did you mean 'acme-x'?)\n"
    ), str(run)


def test_github_annotation_of_a_whole_file_problem_has_no_line(pushcal: Any, tmp_path: Path) -> None:
    missing = str(tmp_path / "gone.yaml")
    run = pushcal(["validate", "--format", "github", missing])
    assert (run.code, run.out) == (1, f"::error file={missing},title=pushcal::no such file or directory\n")


def test_text_format_is_one_line_per_problem_and_a_count(pushcal: Any, two_broken_files: Path) -> None:
    run = pushcal(["validate", str(two_broken_files)])
    assert run.code == 1, str(run)
    assert run.out == (
        f"{two_broken_files}/a,b.yaml:5:89: $.accounts.acme-page.page: '50%' is not a numeric id "
        f"({ID_HINT})\n"
        f"{two_broken_files}/sub/posts.yaml:6:10: $.posts[0].to[0]: unknown account 'acme-tw' "
        "(did you mean 'acme-x'?)\n"
    ), str(run)
    assert run.err == "pushcal: 2 problems in 2 files\n", str(run)


@pytest.mark.parametrize(("fmt", "out"), [
    ("text", "ok: 1 file, 1 entry of 1 kind, 1 account, 0 media\n"),
    ("json", "[]\n"),
    ("github", ""),
])
def test_a_valid_calendar_exits_0_in_every_format(pushcal: Any, tmp_path: Path, fmt: str,
                                                  out: str) -> None:
    run = pushcal(["validate", "--format", fmt, write(tmp_path / "cal.yaml", GOOD)])
    assert (run.code, run.out, run.err) == (0, out, ""), str(run)


# -- exit codes and arguments ----------------------------------------------------------------


@pytest.mark.parametrize("argv", [
    ["validate"],
    ["validate", "--format", "xml", "cal.yaml"],
    ["validate", "--strict", "cal.yaml"],
])
def test_usage_errors_exit_2(pushcal: Any, capsys: pytest.CaptureFixture[str],
                             argv: list[str]) -> None:
    run = pushcal(argv)
    assert run.code == 2, str(run)
    assert run.out == "", str(run)
    assert run.err.splitlines()[-1].startswith("pushcal validate: "), str(run)
    assert run.err.endswith(" (see 'pushcal validate --help')\n"), str(run)
    assert capsys.readouterr().err == ""  # nothing leaks past the Context's streams


def test_several_files_and_a_folder_make_one_calendar(pushcal: Any, tmp_path: Path) -> None:
    accounts = write(tmp_path / "accounts.yaml", ACCOUNTS.replace('"50%"', '"4563453"'))
    write(tmp_path / "posts" / "december.yml", POSTS.replace("acme-tw", "acme-x"))
    write(tmp_path / "posts" / "deep" / "january.yaml", POSTS.replace("launch", "later")
          .replace("acme-tw", "acme-page").replace("2026-12-01", "2027-01-01"))
    write(tmp_path / "posts" / "notes.txt", "not a calendar")
    write(tmp_path / "posts" / ".hidden.yaml", "this: [is not read")
    run = pushcal(["validate", accounts, str(tmp_path / "posts")])
    assert (run.code, run.out) == (0, "ok: 3 files, 2 entries of 1 kind, 2 accounts, 0 media\n"), str(run)


def test_a_file_named_twice_is_read_once(pushcal: Any, tmp_path: Path) -> None:
    cal = write(tmp_path / "cal.yaml", GOOD)
    run = pushcal(["validate", cal, cal, str(tmp_path)])
    assert (run.code, run.out) == (0, "ok: 1 file, 1 entry of 1 kind, 1 account, 0 media\n"), str(run)


def test_problems_are_sorted_by_place_across_files(pushcal: Any, tmp_path: Path) -> None:
    # Given in the order z, a; each file has a semantic problem before a schema problem.
    late = write(tmp_path / "z.yaml", GOOD.replace("to: [acme-x]", "to: [acme-y]")
                 + "grace: soon\n")
    early = write(tmp_path / "a.yaml", "version: 1\ntimezone: Europe/Berln\nnote: x\n")
    run = pushcal(["validate", late, early])
    assert run.code == 1, str(run)
    places = [line.split(": ", 1)[0] for line in run.out.splitlines()]
    assert places == [f"{early}:2:11", f"{early}:3:1", f"{late}:6:47", f"{late}:7:8"], str(run)
    assert run.err == "pushcal: 4 problems in 2 files\n", str(run)


def test_a_missing_path_is_a_problem_even_beside_a_good_file(pushcal: Any, tmp_path: Path) -> None:
    good = write(tmp_path / "cal.yaml", GOOD)
    missing = str(tmp_path / "nope.yaml")
    run = pushcal(["validate", good, missing])
    assert (run.code, run.out) == (1, f"{missing}: no such file or directory\n"), str(run)


# -- hostile input ---------------------------------------------------------------------------


def _refused(pushcal: Any, path: str) -> str:
    """Validate `path`; it must fail cleanly with exit 1. Returns stdout."""
    run = pushcal(["validate", path])
    assert run.code == 1, str(run)
    assert "Traceback" not in run.err and "unexpected error" not in run.err, str(run)
    return str(run.out)


def test_binary_file(pushcal: Any, tmp_path: Path) -> None:
    path = write(tmp_path / "logo.yaml", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert _refused(pushcal, path) == f"{path}:3:1: binary file, not a calendar\n"


def test_empty_file(pushcal: Any, tmp_path: Path) -> None:
    path = write(tmp_path / "new.yaml", b"")
    assert _refused(pushcal, path) == (
        f"{path}:1:1: empty file: a calendar file needs at least `version: 1`\n")


def test_a_50_mb_file_is_refused_by_its_size(pushcal: Any, tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as stream:  # sparse: no 50 MB written, and none should be read
        stream.truncate(50 * 1024 * 1024)
    assert _refused(pushcal, str(huge)) == (
        f"{huge}:1:1: file is 50.0 MiB; the limit is 10 MiB (split the calendar into several files)\n")


def test_100k_deep_nesting(pushcal: Any, tmp_path: Path) -> None:
    path = write(tmp_path / "deep.yaml", "version: 1\nx: " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert _refused(pushcal, path) == (
        f"{path}:2:67: nested deeper than 64 levels (look for unclosed brackets)\n")


def test_alias_bomb_is_refused_without_expanding(pushcal: Any, tmp_path: Path) -> None:
    # Nine levels of nine aliases each: 9**9 (387 million) values if expanded.
    lines = ["version: 1", "l0: &l0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, 9)]
    path = write(tmp_path / "bomb.yaml", "\n".join(lines) + "\n")
    out = _refused(pushcal, path)
    message = "anchors and aliases are not allowed in a calendar; write the value out"
    assert out.splitlines()[:2] == [f"{path}:2:5: {message}", f"{path}:3:5: {message}"]
    assert len(out.splitlines()) == 9 + 8 * 9  # each anchor and alias, once


def test_a_directory_without_calendars(pushcal: Any, tmp_path: Path) -> None:
    write(tmp_path / "drafts" / "ideas.txt", "launch posts?")
    write(tmp_path / "drafts" / ".hidden" / "old.yaml", "version: 1\n")
    folder = str(tmp_path / "drafts")
    assert _refused(pushcal, folder) == (
        f"{folder}: no calendar files (*.yaml, *.yml) in this directory\n")
