"""The daemon's health, written for whoever watches: the heartbeat and `<ledger>.health`.

Each file is written on its own, so one unwritable path never silences the other; both say
which background tasks are failing and how many missed occurrences could not be recorded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runner.daemon import heartbeat
from runner.errors import PushcalError
from runner.ledger import NEEDS_A_HUMAN

if TYPE_CHECKING:
    from runner.daemon.service import Daemon


async def beat(daemon: Daemon) -> None:
    """One heartbeat to each configured file; raises (for the supervisor) what failed."""
    failing = dict(daemon.supervisor.failing)
    try:
        counts = daemon.ledger.counts()
    except PushcalError as error:
        failing["ledger"] = str(error)  # still beat: the supervisor must hear of it
        counts = {}
    problem: Exception | None = None
    for path in (daemon.options.heartbeat, daemon.options.health):
        if path is None:
            continue
        try:  # each file on its own: one unwritable path must not silence the other
            heartbeat.beat(path, clock=daemon.clock.now, last_fire=daemon.last_fire,
                           next_fire=daemon.jobs.next_due(), fired=daemon.fired,
                           attention=sum(counts.get(s, 0) for s in NEEDS_A_HUMAN),
                           backlog=daemon.workers.backlog(), failing=failing,
                           unrecorded=len(daemon.workers.unrecorded))
        except OSError as error:
            problem = error
    if problem is not None:
        raise problem
    if "ledger" in failing:
        raise PushcalError(failing["ledger"])
