"""Two or three worked examples per command, shown at the end of its `--help`."""

from __future__ import annotations


def _block(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


EXAMPLES = {
    "pushcal": _block(
        "pushcal validate calendar/            # check every file; exit 1 on a problem",
        "pushcal plan calendar/ --to 2026-12-31  # every request until then",
        "pushcal run calendar/ --rehearse --sandbox  # a week on virtual time, nothing real",
        "pushcal COMMAND --help                # each command's options and examples"),
    "validate": _block(
        "pushcal validate calendar.yaml",
        "pushcal validate calendar/ --format github   # annotations in a pull request",
        "pushcal validate calendar/ --format json | jq length"),
    "plan": _block(
        "pushcal plan calendar/",
        "pushcal plan calendar/ --from '2026-12-01 00:00' --to 2027-01-01",
        "pushcal plan calendar/ --format json --state ledger.sqlite"),
    "send": _block(
        "pushcal send calendar/ winter-blend-launch",
        "pushcal send calendar/ brew-tip@2026-12-08 --account fernweh-x",
        "pushcal send calendar/ brew-tip --sandbox        # try it against the emulator"),
    "status": _block(
        "pushcal status",
        "pushcal status calendar/            # with the next firings in local time",
        "pushcal status --check --state /var/lib/pushcal/ledger.sqlite   # for monitoring"),
    "history": _block(
        "pushcal history --entry brew-tip",
        "pushcal history calendar/ --since '2026-12-01 09:00'   # a wall time in its zone",
        "pushcal history --entry brew-tip@2026-12-08 --format json"),
    "resolve": _block(
        "pushcal resolve winter-blend-launch --account fernweh-x --sent",
        "pushcal resolve brew-tip@2026-12-08 --account fernweh-x --not-sent"),
    "check": _block(
        "pushcal check calendar/",
        "pushcal check calendar/ --entry winter-blend-launch"),
    "sandbox": _block(
        "pushcal sandbox",
        "pushcal sandbox --port 9000 --fail-rate 0.2 --fail-codes 503,timeout --seed 1"),
    "diff": _block(
        "pushcal diff                           # this branch against its upstream",
        "pushcal diff main HEAD calendar/ --format markdown",
        "pushcal diff --format github --state   # in CI, with the ledger's states"),
    "agenda": _block(
        "pushcal agenda calendar/",
        "pushcal agenda calendar/ --from 2026-12-01 --to 2027-01-01 --account fernweh-x"),
    "calendar": _block(
        "pushcal calendar calendar/ --html schedule.html",
        "pushcal calendar calendar/ --ics team.ics --title 'Fernweh social'"),
    "schema": _block(
        "pushcal schema > calendar.schema.json",
        "pushcal schema | jq '.properties | keys'"),
    "init": _block(
        "pushcal init my-calendar",
        "pushcal init .                         # here; existing files are kept"),
    "ledger": _block(
        "pushcal ledger copy ledger.sqlite postgresql://pushcal@db/pushcal",
        "pushcal ledger copy postgresql://pushcal@db/pushcal backup.sqlite"),
    "run": _block(
        "pushcal run calendar/ --heartbeat /run/pushcal/heartbeat.json",
        "pushcal run calendar/ --rehearse --sandbox --from 2026-12-01 --until 2026-12-08",
        "pushcal run calendar/ --sandbox --state /tmp/try.sqlite   # real time, fake OneAll"),
}
