"""Look through OneAll's Pull API for a post whose state is `unknown`.

A read timeout or a dropped connection leaves a delivery `unknown`: it may have gone out.
The Pull listing of the account (its tweets, its page's posts, its board's pins...) can
show whether it did. This never changes the ledger: it tells the person who then runs
`pushcal resolve`. The listing paths are documented; their answers' shape is inferred
(see `endpoints.Listing`), so a miss is "not seen", never proof.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from runner.calendar.model import Account, Calendar
from runner.ledger.contract import Row
from runner.oneall.endpoints import ENDPOINTS, LISTED_TEXT_FIELDS, PULL_LISTINGS, PULL_PREFIX, Listing
from runner.oneall.render import PUBLISH, render
from runner.oneall.wire import Reply, Verdict


@dataclass(frozen=True)
class Finding:
    """What the listing said about one unknown delivery."""

    row: Row
    listing: str | None  # the path asked, or None when no listing shows this endpoint
    seen: dict[str, Any] | None  # the matching listed object, if any
    note: str  # a line for the person who resolves it


def listing_for(endpoint: str, account: Account,
                fields: Mapping[str, Any]) -> tuple[Listing, str] | None:
    """The listing that shows what `endpoint` creates for `account` (and the entry's own
    board or playlist), and its path."""
    params = {"page": account.page, "group": account.group, "company": account.company,
              "board": fields.get("board", account.board), "playlist": fields.get("playlist")}
    for listing in PULL_LISTINGS:
        needs = listing.scope[0] if listing.scope else None
        if endpoint in listing.lists and (needs is None or params.get(needs) is not None):
            known = {k: str(v) for k, v in params.items() if v is not None}
            return listing, (PULL_PREFIX + listing.path).format(identity=account.identity,
                                                                **known)
    return None


def expected_texts(cal: Calendar, row: Row) -> dict[str, str]:
    """The text fields the published object carries, from the entry as it is now."""
    entry, account = cal.entries.get(row.entry), cal.accounts.get(row.account)
    if entry is None or account is None:
        return {}
    publish = next(r for r in render(cal, entry, account) if r.step == PUBLISH)
    inner = ENDPOINTS[publish.endpoint].fields_of(publish.body)
    return {k: v for k, v in inner.items() if k in LISTED_TEXT_FIELDS and isinstance(v, str)}


def match(reply: Reply, listing: Listing, texts: dict[str, str]) -> dict[str, Any] | None:
    """The listed object whose text fields equal `texts`, if the answer holds one."""
    raw = reply.data.get(listing.name)
    try:
        entries = json.loads(raw)["entries"] if raw else []
    except (ValueError, KeyError, TypeError):
        return None
    for item in entries if isinstance(entries, list) else []:
        if isinstance(item, dict) and texts and all(item.get(k) == v for k, v in texts.items()):
            return item
    return None


def explain(row: Row, reply: Reply, listing: Listing, path: str,
            texts: dict[str, str]) -> Finding:
    """Turn the listing's answer into advice for `pushcal resolve`."""
    if reply.verdict is not Verdict.SENT:
        return Finding(row, path, None, f"the listing could not be read: {reply.info}")
    if not texts:
        return Finding(row, path, None, "the entry has no text to look for; check by hand")
    seen = match(reply, listing, texts)
    if seen is not None:
        where = seen.get("location") or seen.get("id") or "?"
        keep = f" --location {seen['location']}" if seen.get("location") else ""
        return Finding(row, path, seen, f"seen at {where}: it went out "
                                        f"(pushcal resolve {row.key} --account {row.account} "
                                        f"--sent{keep})")
    return Finding(row, path, None, "not seen in the listing: it probably did not go out "
                                    f"(check, then pushcal resolve {row.key} --account "
                                    f"{row.account} --not-sent)")


class Puller(Protocol):
    async def pull(self, path: str) -> Reply: ...


async def check(cal: Calendar, rows: Sequence[Row], client: Puller) -> list[Finding]:
    """Ask the Pull API about each unknown delivery, one listing request each."""
    findings = []
    for row in rows:
        entry, account = cal.entries.get(row.entry), cal.accounts.get(row.account)
        if entry is None or account is None:
            findings.append(Finding(row, None, None, "no longer in the calendar: check by hand"))
            continue
        found = listing_for(row.endpoint, account, entry.fields_for(row.account))
        if found is None:
            findings.append(Finding(row, None, None,
                                    f"no Pull listing shows {row.endpoint}: check by hand"))
            continue
        listing, path = found
        reply = await client.pull(path)
        findings.append(explain(row, reply, listing, path, expected_texts(cal, row)))
    return findings
