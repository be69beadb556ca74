"""One mistake, one problem; and a provider's exact rules, in the words a user can act on."""

from __future__ import annotations

from pathlib import Path

from conftest import RunPushcal

TW = "  tw: {provider: twitter, identity: 1b0e3c7a-55f1-4d0e-9d55-0c1f7f2e8a11}\n"


def posts(count: int, *, last: str = "hello") -> str:
    return "posts:\n" + "".join(
        f"  - id: p{i}\n    at: \"2026-12-0{i + 1} 09:00\"\n    to: [tw]\n"
        f"    message: {last if i == count - 1 else 'hello'}\n" for i in range(count))


def validate(pushcal: RunPushcal, path: Path, text: str) -> str:
    path.write_text(text)
    run = pushcal(["validate", str(path)])
    assert run.code == 1, run
    return str(run.out)


def test_a_misspelled_timezone_is_one_problem(pushcal: RunPushcal, tmp_path: Path) -> None:
    cal = tmp_path / "cal.yaml"
    out = validate(pushcal, cal, "version: 1\ntimezon: Europe/Berlin\naccounts:\n" + TW + posts(3))
    assert out == f"{cal}:2:1: $.timezon: unknown key 'timezon' (did you mean 'timezone'?)\n"


def test_a_misspelled_accounts_is_one_problem(pushcal: RunPushcal, tmp_path: Path) -> None:
    cal = tmp_path / "cal.yaml"
    out = validate(pushcal, cal, "version: 1\ntimezone: Europe/Berlin\nacounts:\n" + TW + posts(3))
    assert out == f"{cal}:3:1: $.acounts: unknown key 'acounts' (did you mean 'accounts'?)\n"


def test_an_unterminated_quote_is_reported_at_the_quote(pushcal: RunPushcal,
                                                        tmp_path: Path) -> None:
    cal = tmp_path / "cal.yaml"
    out = validate(pushcal, cal, "version: 1\ntimezone: Europe/Berlin\naccounts:\n" + TW
                   + posts(3, last='"hello'))
    assert out == f'{cal}:17:14: this " is never closed (end the value with ")\n'


def test_the_zone_hint_names_the_zone_the_other_files_use(pushcal: RunPushcal,
                                                         tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("version: 1\ntimezone: America/New_York\naccounts:\n" + TW)
    (tmp_path / "b.yaml").write_text("version: 1\n" + posts(1))
    run = pushcal(["validate", str(tmp_path)])
    assert run.out == (
        f"{tmp_path}/b.yaml:4:9: $.posts[0].at: no time zone for '2026-12-01 09:00' (add "
        f"`timezone: America/New_York` (as in {tmp_path}/a.yaml) at the top of the file or on "
        "the entry, or write the time with an offset)\n"), run


def test_an_except_on_the_wrong_weekday_says_when_it_runs(pushcal: RunPushcal,
                                                         tmp_path: Path) -> None:
    cal = tmp_path / "cal.yaml"
    out = validate(pushcal, cal, "version: 1\ntimezone: Europe/Berlin\naccounts:\n" + TW + (
        "posts:\n  - id: tip\n    at: \"2026-12-07 09:00\"\n    to: [tw]\n    message: hi\n"
        "    repeat: {every: week, on: [mon, fri], forever: true, except: [\"2026-12-09\"]}\n"))
    assert out == (f"{cal}:10:67: $.posts[0].repeat.except[0]: '2026-12-09' is not an occurrence "
                   "of this entry, so skipping it changes nothing (2026-12-09 is a Wednesday; "
                   "this entry runs on mon, fri at 09:00)\n")


def test_provider_x_suggests_twitter(pushcal: RunPushcal, tmp_path: Path) -> None:
    cal = tmp_path / "cal.yaml"
    out = validate(pushcal, cal, "version: 1\ntimezone: Europe/Berlin\naccounts:\n"
                   "  tw: {provider: x, identity: 1b0e3c7a-55f1-4d0e-9d55-0c1f7f2e8a11}\n")
    assert out.endswith("$.accounts.tw.provider: 'x' is not one of: facebook, linkedin, "
                        "pinterest, twitter, youtube (did you mean 'twitter'?)\n"), out
