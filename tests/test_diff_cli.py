"""`pushcal diff`: real git repositories in tmp_path; every kind of change, a rename, one file
of a directory calendar, a force-pushed upstream, the ledger's notes, and exact Markdown, JSON,
text and GitHub output. Reading revisions never touches the working tree or the index."""

# ruff: noqa: E501  -- expected output is written out whole.

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import PHOTO, TWO_ACCOUNTS, Run, run_pushcal
from gitkit import GitRepo

from runner.ledger import ClaimRequest, SqliteLedger, State

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
WINDOW = ("--from", "2026-11-30T00:00Z", "--to", "2026-12-31T00:00Z")
ACCOUNTS = TWO_ACCOUNTS + PHOTO + """\
  photo2: {url: "https://cdn.example.com/photo2.jpg", type: picture, description: "Another"}
"""
POSTS = """\
version: 1
timezone: Europe/Berlin
posts:
  - {id: launch, at: "2026-12-01 09:00", to: [page, x], message: "We're live!", media: [photo]}
  - {id: moved, at: "2026-12-02 10:00", to: [x], message: "Moving on"}
  - {id: gone, at: "2026-12-02 11:00", to: [x], message: "Soon gone"}
  - {id: reach, at: "2026-12-03 12:00", to: [page], message: "More reach"}
  - {id: narrow, at: "2026-12-03 13:00", to: [page, x], message: "Less reach"}
  - {id: paused, at: "2026-12-04 09:00", to: [x], message: "Pause me"}
  - {id: waking, at: "2026-12-04 10:00", to: [x], message: "Wake me", enabled: false}
  - {id: linked, at: "2026-12-05 09:00", to: [page], message: "Read this", link: "https://example.com/a"}
"""
EDITED = """\
version: 1
timezone: Europe/Berlin
posts:
  - {id: launch, at: "2026-12-01 09:00", to: [page, x], message: "We're live now!", media: [photo2]}
  - {id: moved, at: "2026-12-02 10:30", to: [x], message: "Moving on"}
  - {id: reach, at: "2026-12-03 12:00", to: [page, x], message: "More reach"}
  - {id: narrow, at: "2026-12-03 13:00", to: [page], message: "Less reach"}
  - {id: paused, at: "2026-12-04 09:00", to: [x], message: "Pause me", enabled: false}
  - {id: waking, at: "2026-12-04 10:00", to: [x], message: "Wake me"}
  - {id: linked, at: "2026-12-05 09:00", to: [page], message: "Read this", link: "https://example.com/b"}
  - {id: fresh, at: "2026-12-06 09:00", to: [x], message: "Brand *new* for @team"}
"""


def diff(repo: GitRepo, *args: str, env: dict[str, str] | None = None) -> Run:
    return run_pushcal(["diff", "-C", str(repo.root), *args, *WINDOW], now=NOW, env=env)


@pytest.fixture(name="repo")
def repo_fixture(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("base", {"cal/accounts.yaml": ACCOUNTS, "cal/posts.yaml": POSTS})
    return repo


MARKDOWN = """\
**pushcal diff**: 10 deliveries changed (1 added, 1 removed, 1 target added, 1 target removed, 1 enabled, 1 disabled, 1 retimed, 2 text changed, 2 media changed, 1 details changed) between BASE and the working tree, 2026-11-30 to 2026-12-31

#### Tue 2026-12-01

- **09:00 CET** `launch` → **page** (facebook): text changed, media changed
  - text: We're live **now**!
  - media: ~~https://cdn.example.com/photo.jpg~~ **https://cdn.example.com/photo2.jpg**
- **09:00 CET** `launch` → **x** (twitter): text changed, media changed
  - text: We're live **now**!
  - media: ~~https://cdn.example.com/photo.jpg~~ **https://cdn.example.com/photo2.jpg**

#### Wed 2026-12-02

- **10:30 CET** `moved` → **x** (twitter): retimed
  - time: ~~Wed 2026-12-02 10:00 CET~~ → **Wed 2026-12-02 10:30 CET**
- **11:00 CET** `gone` → **x** (twitter): removed
  - text: Soon gone

#### Thu 2026-12-03

- **12:00 CET** `reach` → **x** (twitter): target added
  - text: More reach
- **13:00 CET** `narrow` → **x** (twitter): target removed
  - text: Less reach

#### Fri 2026-12-04

- **09:00 CET** `paused` → **x** (twitter): disabled
  - text: Pause me
- **10:00 CET** `waking` → **x** (twitter): enabled
  - text: Wake me

#### Sat 2026-12-05

- **09:00 CET** `linked` → **page** (facebook): details changed
  - link: ~~https://example.com/a~~ → **https://example.com/b**

#### Sun 2026-12-06

- **09:00 CET** `fresh` → **x** (twitter): added
  - text: Brand \\*new\\* for @<!-- -->team
"""


def test_every_kind_of_change_as_markdown_grouped_by_day(repo: GitRepo) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.write({"cal/posts.yaml": EDITED})
    done = diff(repo, "HEAD", "cal", "--format", "markdown")
    assert done.code == 0, done
    assert done.out == MARKDOWN.replace("BASE", base[:12]), done


TEXT = """\
Tue 2026-12-01
  09:00 CET  launch -> page (facebook)  text changed, media changed
      text: We're live{+ now+}!
      media: [-https://cdn.example.com/photo.jpg-] {+https://cdn.example.com/photo2.jpg+}
  09:00 CET  launch -> x (twitter)  text changed, media changed
      text: We're live{+ now+}!
      media: [-https://cdn.example.com/photo.jpg-] {+https://cdn.example.com/photo2.jpg+}
Wed 2026-12-02
  10:30 CET  moved -> x (twitter)  retimed
      time: [-Wed 2026-12-02 10:00 CET-] -> {+Wed 2026-12-02 10:30 CET+}
  11:00 CET  gone -> x (twitter)  removed
      text: Soon gone
Thu 2026-12-03
  12:00 CET  reach -> x (twitter)  target added
      text: More reach
  13:00 CET  narrow -> x (twitter)  target removed
      text: Less reach
Fri 2026-12-04
  09:00 CET  paused -> x (twitter)  disabled
      text: Pause me
  10:00 CET  waking -> x (twitter)  enabled
      text: Wake me
Sat 2026-12-05
  09:00 CET  linked -> page (facebook)  details changed
      link: [-https://example.com/a-] -> {+https://example.com/b+}
Sun 2026-12-06
  09:00 CET  fresh -> x (twitter)  added
      text: Brand *new* for @team
10 deliveries changed (1 added, 1 removed, 1 target added, 1 target removed, 1 enabled, 1 disabled, 1 retimed, 2 text changed, 2 media changed, 1 details changed) between BASE and the working tree, 2026-11-30 to 2026-12-31
"""


def test_the_same_as_text_without_colour_unless_asked(repo: GitRepo) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.write({"cal/posts.yaml": EDITED})
    plain = diff(repo, "HEAD", "cal")
    assert plain.out == TEXT.replace("BASE", base[:12]), plain
    coloured = diff(repo, "HEAD", "cal", "--color", "always")
    assert "      text: We're live\x1b[32m now\x1b[0m!\n" in coloured.out, coloured
    assert "  \x1b[1mTue 2026-12-01\x1b[0m\n" not in coloured.out and "\x1b[1mTue 2026-12-01\x1b[0m\n" in coloured.out
    assert diff(repo, "HEAD", "cal", "--color", "auto", env={"NO_COLOR": "1"}).out == plain.out
    assert diff(repo, "HEAD", "cal", "--color", "never").out == plain.out


def test_github_notices_sit_on_the_head_lines_and_the_summary_is_the_markdown(repo: GitRepo, tmp_path: Path) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.write({"cal/posts.yaml": EDITED})
    summary = tmp_path / "summary.md"
    done = diff(repo, "HEAD", "cal", "--format", "github", env={"GITHUB_STEP_SUMMARY": str(summary)})
    lines = done.out.splitlines()
    assert lines[2] == "::notice file=cal/posts.yaml,line=5,title=pushcal diff%3A retimed::moved -> x (twitter): retimed; time: [-Wed 2026-12-02 10:00 CET-] -> {+Wed 2026-12-02 10:30 CET+}", done
    assert lines[3] == "::notice file=cal/posts.yaml,title=pushcal diff%3A removed::gone -> x (twitter): removed; text: Soon gone", done
    assert lines[9] == "::notice file=cal/posts.yaml,line=11,title=pushcal diff%3A added::fresh -> x (twitter): added; text: Brand *new* for @team", done
    assert len(lines) == 10
    assert summary.read_text("utf-8") == MARKDOWN.replace("BASE", base[:12])


def test_json_is_stable_and_says_what_the_ledger_makes_of_each_change(repo: GitRepo, tmp_path: Path) -> None:
    base = repo.git("rev-parse", "HEAD")
    head = repo.commit("retime and reword", {"cal/posts.yaml": POSTS.replace(
        '"2026-12-01 09:00", to: [page, x], message: "We\'re live!"',
        '"2026-12-01 10:00", to: [page, x], message: "We\'re live!"').replace(
        '"2026-12-02 10:00", to: [x], message: "Moving on"', '"2026-12-02 10:00", to: [x], message: "Moving on, slowly"')})
    ledger = tmp_path / "ledger.sqlite"
    with SqliteLedger(ledger, clock=lambda: NOW) as rows:
        assert rows.claim(ClaimRequest("launch", "launch", "page", datetime(2026, 12, 1, 8, tzinfo=UTC),
                                       "facebook/page/post", "", None))
        rows.finish("launch", "page", State.SENT, info="done", remote_id="1_2")
        rows.mark("launch", entry="launch", account="x", scheduled=datetime(2026, 12, 1, 8, tzinfo=UTC),
                  endpoint="twitter/post", state=State.MISSED, info="too late")
    done = diff(repo, base, head, "cal", "--format", "json", "--state", str(ledger))
    assert done.code == 0, done
    data = json.loads(done.out)

    def side(at: str, local: str, text: str, line: int, media: list[str], details: dict[str, str]) -> dict[str, object]:
        return {"at": at, "local": local, "file": "cal/posts.yaml", "line": line, "enabled": True,
                "text": text, "media": media, "details": details}

    photo = ["https://cdn.example.com/photo.jpg"]
    assert data == {
        "base": base, "head": head, "from": "2026-11-30T00:00:00.000Z", "to": "2026-12-31T00:00:00.000Z",
        "summary": {"retimed": 2, "text changed": 1}, "problems": [],
        "changes": [
            {"key": "launch", "entry": "launch", "account": "page", "provider": "facebook", "kind": "posts",
             "changes": ["retimed"],
             "before": side("2026-12-01T08:00:00.000Z", "2026-12-01T09:00:00+01:00", "We're live!", 4, photo, {"id": "4563453"}),
             "after": side("2026-12-01T09:00:00.000Z", "2026-12-01T10:00:00+01:00", "We're live!", 4, photo, {"id": "4563453"}),
             "state": "sent", "note": "moved after it was sent: will not be sent again"},
            {"key": "launch", "entry": "launch", "account": "x", "provider": "twitter", "kind": "posts",
             "changes": ["retimed"],
             "before": side("2026-12-01T08:00:00.000Z", "2026-12-01T09:00:00+01:00", "We're live!", 4, photo, {}),
             "after": side("2026-12-01T09:00:00.000Z", "2026-12-01T10:00:00+01:00", "We're live!", 4, photo, {}),
             "state": "missed", "note": "was missed; the new time is in the future, but a missed delivery is only sent again by `pushcal send --force`"},
            {"key": "moved", "entry": "moved", "account": "x", "provider": "twitter", "kind": "posts",
             "changes": ["text changed"],
             "before": side("2026-12-02T09:00:00.000Z", "2026-12-02T10:00:00+01:00", "Moving on", 5, [], {}),
             "after": side("2026-12-02T09:00:00.000Z", "2026-12-02T10:00:00+01:00", "Moving on, slowly", 5, [], {}),
             "state": None, "note": None},
        ],
    }
    text = diff(repo, base, head, "cal", "--state", str(ledger))
    assert "      ledger: sent: moved after it was sent: will not be sent again\n" in text.out, text
    assert "      ledger: not recorded yet\n" in text.out, text


def test_an_edit_to_a_sent_post_changes_nothing_on_the_network(repo: GitRepo, tmp_path: Path) -> None:
    repo.write({"cal/posts.yaml": POSTS.replace("We're live!", "We are live!")})
    ledger = tmp_path / "ledger.sqlite"
    with SqliteLedger(ledger, clock=lambda: NOW) as rows:
        assert rows.claim(ClaimRequest("launch", "launch", "x", datetime(2026, 12, 1, 8, tzinfo=UTC),
                                       "twitter/post", "", None))
        rows.finish("launch", "x", State.SENT, info="done", remote_id="9")
    done = diff(repo, "HEAD", "cal", "--format", "markdown", "--state", str(ledger))
    assert "  - ledger: sent: already sent: this edit changes nothing on the network\n" in done.out, done


def test_renaming_a_file_changes_nothing_and_an_edit_to_one_file_shows_only_its_change(repo: GitRepo) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.git("mv", "cal/posts.yaml", "cal/december.yaml")
    renamed = repo.commit("rename")
    done = diff(repo, base, renamed, "cal")
    assert done.out == f"no change to the schedule between {base[:12]} and {renamed[:12]}, 2026-11-30 to 2026-12-31\n", done
    edited = repo.commit("one file", {"cal/accounts.yaml": ACCOUNTS.replace("photo.jpg", "photo-v2.jpg")})
    done = diff(repo, renamed, edited, "cal", "--format", "json")
    changes = json.loads(done.out)["changes"]
    assert [(c["key"], c["account"], c["changes"]) for c in changes] == [
        ("launch", "page", ["media changed"]), ("launch", "x", ["media changed"])], done


def test_the_default_base_is_the_merge_base_even_after_the_upstream_was_force_pushed(tmp_path: Path) -> None:
    origin = GitRepo(tmp_path / "origin")
    first = origin.commit("base", {"cal/accounts.yaml": ACCOUNTS, "cal/posts.yaml": POSTS})
    dropped = origin.commit("extra", {"cal/extra.yaml": "version: 1\nposts: []\n"})
    work = GitRepo.clone(origin, tmp_path / "clone")
    work.git("checkout", "-q", "-b", "feature", "--track", "origin/main")
    work.commit("retime", {"cal/posts.yaml": POSTS.replace("2026-12-02 10:00", "2026-12-02 10:30")})
    origin.git("reset", "-q", "--hard", first)  # upstream drops `dropped` and force-pushes
    origin.commit("other", {"cal/posts.yaml": POSTS.replace("Soon gone", "Gone soon")})
    work.git("fetch", "-q", "origin", "+main:refs/remotes/origin/main")
    done = run_pushcal(["diff", "-C", str(work.root), "--format", "json", *WINDOW], now=NOW)
    assert done.code == 0, done
    data = json.loads(done.out)
    assert data["base"] == first
    assert [(c["key"], c["changes"]) for c in data["changes"]] == [("moved", ["retimed"])], done
    gone = run_pushcal(["diff", "-C", str(work.root), "0" * 40, *WINDOW], now=NOW)
    assert (gone.code, gone.out) == (1, ""), gone
    assert gone.err == (f"pushcal: '{'0' * 40}' is neither a file here nor a commit in this repository (fetch "
                        "it first, e.g. `git fetch origin`; after a force-push, name the new base)\n"), gone
    assert dropped


def test_a_branch_without_upstream_or_a_folder_outside_git_is_a_clear_error(repo: GitRepo, tmp_path: Path) -> None:
    done = run_pushcal(["diff", "-C", str(repo.root)], now=NOW)
    assert (done.code, done.err) == (1, "pushcal: this branch has no upstream to compare with: name the "
                                        "base revision, e.g. `pushcal diff origin/main`\n"), done
    (tmp_path / "plain").mkdir()
    done = run_pushcal(["diff", "-C", str(tmp_path / "plain"), "HEAD"], now=NOW)
    assert done.code == 1 and "is not inside a git repository" in done.err, done


def test_problems_the_change_introduces_are_reported_and_exit_1(repo: GitRepo) -> None:
    repo.commit("an old problem", {"cal/old.yaml": "version: 1\nposts: [{id: bad}]\n"})
    repo.write({"cal/posts.yaml": POSTS.replace("to: [x], message: \"Moving on\"", "to: [nobody], message: \"Moving on\"")})
    done = diff(repo, "HEAD", "cal", "--format", "markdown")
    assert done.code == 1, done
    base = repo.git("rev-parse", "HEAD")
    assert done.out == (
        f"**pushcal diff**: the working tree does not validate (3 problems, 1 new): there is no schedule to compare between {base[:12]} and the working tree, 2026-11-30 to 2026-12-31\n"
        "\n"
        "**Validation problems (this change introduces): 1**\n"
        "- cal/posts.yaml:5:46: $.posts\\[1\\].to\\[0\\]: unknown account 'nobody' (known: page, x)\n"), done


def test_reading_revisions_touches_neither_the_working_tree_nor_the_index(repo: GitRepo) -> None:
    base = repo.git("rev-parse", "HEAD")
    head = repo.commit("edit", {"cal/posts.yaml": EDITED})
    repo.write({"cal/posts.yaml": POSTS + "# local, unstaged\n"})
    status = repo.git("status", "--porcelain")  # refreshes the index: before we take its bytes
    index = (repo.root / ".git" / "index").read_bytes()
    index_time = (repo.root / ".git" / "index").stat().st_mtime_ns
    assert diff(repo, base, head, "cal").code == 0
    assert (repo.root / ".git" / "index").read_bytes() == index
    assert (repo.root / ".git" / "index").stat().st_mtime_ns == index_time
    assert repo.git("status", "--porcelain") == status == "M cal/posts.yaml"


def test_a_base_that_did_not_validate_is_compared_as_an_empty_schedule(repo: GitRepo) -> None:
    broken = repo.commit("broken", {"cal/posts.yaml": POSTS.replace("to: [x], message: \"Moving on\"", "to: [nobody], message: \"Moving on\"")})
    fixed = repo.commit("fixed", {"cal/posts.yaml": POSTS})
    done = diff(repo, broken, fixed, "cal", "--format", "json")
    assert done.code == 0, done
    assert done.err == f"pushcal: the calendar at {broken[:12]} does not validate (1 problem): everything is shown as added\n"
    assert json.loads(done.out)["summary"] == {"added": 9}  # the disabled entry is not among them


def test_a_bare_state_reads_the_default_ledger(repo: GitRepo, tmp_path: Path) -> None:
    repo.write({"cal/posts.yaml": POSTS.replace("Moving on", "Moving off")})
    ledger = tmp_path / "default.sqlite"
    missing = diff(repo, "HEAD", "cal", "--state", env={"PUSHCAL_STATE": str(ledger)})
    assert (missing.code, missing.err) == (1, f"pushcal: no ledger at {ledger}; give --state FILE, or run something first\n"), missing
    with SqliteLedger(ledger, clock=lambda: NOW) as rows:
        assert rows.claim(ClaimRequest("moved", "moved", "x", datetime(2026, 12, 2, 9, tzinfo=UTC), "twitter/post", "", None))
        rows.finish("moved", "x", State.SENT, info="ok", remote_id="5")
    done = diff(repo, "HEAD", "cal", "--state", env={"PUSHCAL_STATE": str(ledger)})
    assert "      ledger: sent: already sent: this edit changes nothing on the network\n" in done.out, done


def test_a_long_markdown_comment_stops_at_its_limit_and_counts_the_rest(repo: GitRepo) -> None:
    from runner.review.diffview import markdown
    from runner.review.review import Review

    repo.write({"cal/posts.yaml": EDITED})
    data = diff(repo, "HEAD", "cal", "--format", "markdown").out
    assert data.count("\n- **") == 10
    # the same review, rendered with a limit of 3 items
    from runner.calendar import Loader
    from runner.review import at_revision, compare, in_worktree, open_repo

    git = open_repo(repo.root)
    loader = Loader([])
    old = loader.load_sources(*at_revision(git, git.commit("HEAD") or "", ["cal"]))
    new = loader.load_sources(*in_worktree(git, ["cal"]))
    start, end = datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 31, tzinfo=UTC)
    short = markdown(Review("b" * 40, "", start, end, compare(old, new, start, end)), limit=3)
    assert short.count("\n- **") == 3
    assert short.endswith("\n…and 7 more; `pushcal diff --format json` lists every one.\n"), short


def test_without_a_path_the_repository_calendar_files_are_compared_and_other_yaml_left_out(repo: GitRepo) -> None:
    repo.commit("a compose file", {"docker-compose.yml": 'version: "3.8"\nservices: {web: {image: nginx}}\n'})
    repo.write({"cal/posts.yaml": POSTS.replace("Moving on", "Moving off")})
    done = diff(repo, "HEAD", "--format", "json")
    assert done.code == 0, done
    assert [(c["key"], c["changes"]) for c in json.loads(done.out)["changes"]] == [("moved", ["text changed"])]
    named = diff(repo, "HEAD", ".", "--format", "markdown")  # a path named: all its YAML is the calendar
    assert named.code == 1, named
    assert named.out.splitlines()[2:4] == ["**Validation problems (none new, the base has them too): 2**",
                                           "- docker-compose.yml:1:10: $.version: must be 1"], named


def test_the_same_change_to_many_occurrences_of_a_repetition_is_one_item(repo: GitRepo) -> None:
    daily = '  - {id: tip, at: "2026-12-10 08:15", to: [x], message: "Brew tip", repeat: {every: day, count: 5}}\n'
    repo.commit("a daily tip", {"cal/posts.yaml": POSTS + daily})
    base = repo.git("rev-parse", "HEAD")
    repo.write({"cal/posts.yaml": POSTS + daily.replace("08:15", "08:30").replace("count: 5", "count: 6")})
    done = diff(repo, "HEAD", "cal", "--format", "markdown")
    assert done.out == (
        f"**pushcal diff**: 6 deliveries changed (1 added, 5 retimed) between {base[:12]} and the working tree, 2026-11-30 to 2026-12-31\n"
        "\n"
        "#### Thu 2026-12-10\n"
        "\n"
        "- **08:30 CET** `tip` (5 occurrences, Thu 2026-12-10 to Mon 2026-12-14) → **x** (twitter): retimed\n"
        "  - time: ~~08:15 CET~~ → **08:30 CET**\n"
        "\n"
        "#### Tue 2026-12-15\n"
        "\n"
        "- **08:30 CET** `tip@2026-12-15` → **x** (twitter): added\n"
        "  - text: Brew tip\n"), done
    assert len(json.loads(diff(repo, "HEAD", "cal", "--format", "json").out)["changes"]) == 6  # JSON keeps each
