"""`pushcal calendar --ics`: the feed read back by two parsers, the `icalendar` library and a
small strict RFC 5545 reader written here (CRLF lines of at most 75 octets, unfolded, TEXT
unescaped), which must agree with each other and with what the calendar says."""

# ruff: noqa: E501  -- calendar lines and expected texts are written out whole.

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import icalendar
from conftest import PHOTO, TWO_ACCOUNTS, run_pushcal

from runner.ledger import ClaimRequest, SqliteLedger, State

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
WINDOW = ("--from", "2026-11-30T00:00Z", "--to", "2027-07-31T00:00Z")
CALENDAR = TWO_ACCOUNTS + PHOTO + f"""\
posts:
  - {{id: launch, at: "2026-12-01 09:00", to: [page, x], message: "We're live; really, truly!\\n<script>alert(1)</script> \\\\o/", media: [photo]}}
  - {{id: summer, at: "2027-07-01 18:30", to: [x], message: "Summer time: ☀️ {'é' * 80}"}}
"""

Event = dict[str, Any]


def strict_read(data: bytes) -> list[Event]:
    """VEVENTs as {NAME: value} with NAME;PARAM kept as `NAME;PARAM`, by RFC 5545 section 3.1."""
    assert data.endswith(b"\r\n"), "content lines end with CRLF"
    physical = data[:-2].split(b"\r\n")
    for line in physical:
        assert b"\n" not in line and b"\r" not in line, f"bare line break in {line!r}"
        assert len(line) <= 75, f"line of {len(line)} octets: {line!r}"
    raw: list[bytes] = []  # unfolded as bytes: a fold may split a UTF-8 sequence
    for line in physical:
        if line[:1] in (b" ", b"\t"):
            raw[-1] += line[1:]
        else:
            raw.append(line)
    logical = [line.decode("utf-8") for line in raw]
    events: list[Event] = []
    stack: list[str] = []
    for text in logical:
        match = re.fullmatch(r"([A-Za-z0-9-]+)((?:;[A-Za-z0-9-]+=[^:;]*)*):(.*)", text)
        assert match, f"not a content line: {text!r}"
        name, params, value = match[1].upper(), match[2], match[3]
        if name == "BEGIN":
            stack.append(value)
            if value == "VEVENT":
                events.append({})
        elif name == "END":
            assert stack.pop() == value, f"END:{value} closes something else"
        elif stack[-1] == "VEVENT":
            events[-1][name + params] = _unescape(value) if name in ("SUMMARY", "DESCRIPTION") else value
    assert stack == [], "unclosed components"
    return events


def _unescape(text: str) -> str:
    assert not re.search(r"(?<!\\)(?:\\\\)*[;,]", text.replace("\\\\", "")), f"unescaped ; or , in {text!r}"
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], text)


def library_read(data: bytes) -> list[Event]:
    cal = icalendar.Calendar.from_ical(data)
    found = []
    for event in cal.walk("VEVENT"):
        start = event.decoded("dtstart")
        found.append({"UID": str(event["uid"]), "start": start, "summary": str(event["summary"]),
                      "description": str(event["description"]), "url": str(event.get("url", "")),
                      "status": str(event["status"])})
    return found


def feed(tmp_path: Path, cal: str, *extra: str) -> bytes:
    path = tmp_path / "cal.yaml"
    path.write_text(cal, "utf-8")
    out = tmp_path / "feed.ics"
    done = run_pushcal(["calendar", str(path), "--ics", str(out), *WINDOW, *extra], now=NOW)
    assert done.code == 0 and done.err == f"wrote {out}: 3 events\n", done
    return out.read_bytes()


def test_both_parsers_read_the_same_events_with_times_in_the_calendar_zone(tmp_path: Path) -> None:
    data = feed(tmp_path, CALENDAR)
    strict = strict_read(data)
    library = library_read(data)
    text = "We're live; really, truly!\n<script>alert(1)</script> \\o/"
    assert [e["UID"] for e in strict] == [e["UID"] for e in library] == [
        "launch/page@pushcal", "launch/x@pushcal", "summer/x@pushcal"]
    assert [e["DTSTART;TZID=Europe/Berlin"] for e in strict] == [
        "20261201T090000", "20261201T090000", "20270701T183000"]
    assert [e["start"].isoformat() for e in library] == [
        "2026-12-01T09:00:00+01:00", "2026-12-01T09:00:00+01:00", "2027-07-01T18:30:00+02:00"]
    assert [e["SUMMARY"] for e in strict] == [e["summary"] for e in library]
    assert strict[1]["SUMMARY"] == "x (twitter): We're live; really, truly!"
    assert strict[2]["SUMMARY"] == "x (twitter): Summer time: ☀️ " + "é" * 63 + "…"
    assert [e["DESCRIPTION"] for e in strict] == [e["description"] for e in library]
    assert strict[0]["DESCRIPTION"] == (f"{text}\n\nmedia: https://cdn.example.com/photo.jpg\n"
                                        f"id: 4563453\npost launch to page (facebook), {tmp_path / 'cal.yaml'}:9")
    assert {e["status"] for e in library} == {"CONFIRMED"}
    zones = icalendar.Calendar.from_ical(data).walk("VTIMEZONE")
    assert [str(z["tzid"]) for z in zones] == ["Europe/Berlin"]
    names = {str(sub["tzname"]) for z in zones for sub in z.subcomponents}
    assert names == {"CET", "CEST"}  # both sides of the summer change are in the window


def test_uids_stay_when_times_and_texts_change_and_a_sent_post_links_to_itself(tmp_path: Path) -> None:
    before = {e["UID"] for e in strict_read(feed(tmp_path, CALENDAR))}
    edited = CALENDAR.replace("2026-12-01 09:00", "2026-12-02 10:15").replace("We're live", "We are live")
    ledger = tmp_path / "ledger.sqlite"
    with SqliteLedger(ledger, clock=lambda: NOW) as rows:
        assert rows.claim(ClaimRequest("launch", "launch", "x", datetime(2026, 12, 1, 8, tzinfo=UTC),
                                       "twitter/post", "", None))
        rows.finish("launch", "x", State.SENT, info="ok", remote_id="17",
                    location="https://twitter.example/acme/status/17")
        rows.mark("summer", entry="summer", account="x", scheduled=datetime(2027, 7, 1, 16, 30, tzinfo=UTC),
                  endpoint="twitter/post", state=State.CANCELLED, info="removed")
    after = strict_read(feed(tmp_path, edited, "--state", str(ledger)))
    assert {e["UID"] for e in after} == before
    assert after[1]["DTSTART;TZID=Europe/Berlin"] == "20261202T101500"
    assert after[1]["URL"] == "https://twitter.example/acme/status/17"
    assert "URL" not in after[0]
    assert [e["STATUS"] for e in after] == ["CONFIRMED", "CONFIRMED", "CANCELLED"]
    assert after[1]["DESCRIPTION"].endswith("\nstate: sent")


def test_calendar_needs_something_to_write(tmp_path: Path) -> None:
    path = tmp_path / "cal.yaml"
    path.write_text(CALENDAR, "utf-8")
    done = run_pushcal(["calendar", str(path)], now=NOW)
    assert (done.code, done.out, done.err) == (2, "", "pushcal: say what to write: --html FILE, --ics FILE, or both\n"), done
    done = run_pushcal(["calendar", str(path), "--ics", str(tmp_path / "no" / "such" / "feed.ics")], now=NOW)
    assert (done.code, done.err) == (1, f"pushcal: cannot write {tmp_path}/no/such/feed.ics: No such file or directory\n"), done
