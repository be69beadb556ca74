"""The files `pushcal init` writes: a starter calendar repository. Plain text templates."""

from __future__ import annotations

from datetime import datetime

from runner import __version__

SCHEMA_URL = ("https://raw.githubusercontent.com/YOUR-ORG/pushcal/"
              f"v{__version__}/schema/calendar.schema.json")
MODELINE = f"# yaml-language-server: $schema={SCHEMA_URL}"

CALENDAR = MODELINE + """
# A pushcal calendar: see https://github.com/YOUR-ORG/pushcal#the-calendar
version: 1
timezone: UTC                      # your IANA zone, e.g. Europe/Berlin
accounts:
  my-x:                            # a name of your choice; posts go `to:` it
    provider: twitter
    identity: 00000000-0000-4000-8000-000000000000   # the OneAll identity token to post as
posts:
  - id: hello-world                # unique and stable: the ledger key
    at: "{at}"
    to: [my-x]
    message: "Hello from our calendar in git!"
"""

PRE_COMMIT = """\
# pre-commit install  # then every commit that touches calendar/ is checked
repos:
  - repo: https://github.com/YOUR-ORG/pushcal
    rev: v{version}
    hooks:
      - id: pushcal-validate
        args: [--calendar, calendar/]   # the calendar directory the files belong to
""".replace("{version}", __version__)

WORKFLOW = """\
name: calendar
on: [pull_request]
permissions: {contents: read, pull-requests: write}
jobs:
  check:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with: {fetch-depth: 0}          # pushcal diff reads the base commit
      - uses: actions/setup-python@v5
        with: {python-version: "3.12"}
      - run: pip install "pushcal @ git+https://github.com/YOUR-ORG/pushcal@vVERSION"
      - name: validate
        run: pushcal validate calendar/ --format github
      - name: diff
        run: |
          base=$(git merge-base "origin/${{ github.base_ref }}" HEAD)
          pushcal diff "$base" HEAD calendar/ --format github
          pushcal diff "$base" HEAD calendar/ --format markdown > diff.md
      - name: comment
        run: |
          gh pr comment "$PR" --edit-last --body-file diff.md || gh pr comment "$PR" --body-file diff.md
        env: {GH_TOKEN: "${{ github.token }}", PR: "${{ github.event.pull_request.number }}"}
""".replace("VERSION", __version__)


def files(now: datetime) -> dict[str, str]:
    """Path (relative to the new repository) -> text. The post is due tomorrow at 09:00 UTC."""
    tomorrow = now.date().toordinal() + 1
    at = datetime.fromordinal(tomorrow).replace(hour=9)
    return {
        "calendar/main.yaml": CALENDAR.replace("{at}", f"{at:%Y-%m-%d %H:%M}"),
        ".pre-commit-config.yaml": PRE_COMMIT,
        ".github/workflows/calendar.yml": WORKFLOW,
    }
