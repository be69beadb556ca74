"""Alerts never delay publishing: fire lateness with a webhook that hangs, against none.

The posts of bench/fire_precision.py (500 over 30 s to 20 accounts; `--small`: 50 over 5 s),
with the sandbox refusing 20% of them (HTTP 400, so each refusal is a `failed` delivery and
an alert), published twice by `pushcal run`, alternately: without alerts, and with
`PUSHCAL_NOTIFY_JSON` pointing at a loopback webhook that accepts the connection and never
answers (each request hangs until the client's 5 s timeout). Both arms run twice, in the
order none, hang, none, hang, in the same run on the same sandbox. Arrival - scheduled per
post comes from the sandbox's records; the target is p99 with the hanging webhook within
1.5x (or 5 ms) of p99 without it, and the daemon logging what it dropped or could not send.

    .venv/bin/python bench/alert_load.py [--small]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import harness
from chaos import set_faults
from fire_precision import daemon_run, offsets, stats
from harness import Result
from procs import DaemonProcess, SandboxProcess
from sinks import AlertSink

REFUSED = {"fail_rate": 0.2, "fail_codes": ["400"], "seed": 5}
RATIO, SLACK_MS = 1.5, 5.0


def arm(work: Path, sandbox: SandboxProcess, times: list[float], lead: float,
        hook: str | None, settle: float) -> tuple[list[float], dict[str, int]]:
    """One publication of the posts; (lateness ms, counts of the daemon's alert-* events)."""
    sandbox.reset()
    set_faults(sandbox.url, REFUSED)
    daemons: list[DaemonProcess] = []
    env = {"PUSHCAL_NOTIFY_JSON": hook} if hook else {}
    late, _, _ = daemon_run(work, sandbox, times, lead, settle=settle, env=env, daemons=daemons)
    told = {name: len(daemons[0].named(name))
            for name in ("alert-dropped", "alert-failed", "alert-unsent")}
    told["failed"] = sum(e.get("state") == "failed" for e in daemons[0].named("delivered"))
    return late, told


def run(args: argparse.Namespace) -> Result:
    # More lead than fire_precision: four daemon starts on a busy machine, each must be up
    # before its first occurrence.
    count, span, lead = (50, 5.0, 8.0) if args.small else (500, 30.0, 10.0)
    # The smoke run (--small) only shows the script works: each arm once, a shorter settle.
    arms = ("none", "hang") if args.small else ("none", "hang", "none", "hang")
    settle = 4.0 if args.small else 10.0
    times = offsets(count, span)
    result = Result("alert_load")
    lateness: dict[str, list[float]] = {"none": [], "hang": []}
    logged: dict[str, Any] = {}
    with (harness.workdir("alert_load", args.keep) as work, SandboxProcess(work) as sandbox,
          AlertSink(hang=3600.0) as hanging):
        for n, name in enumerate(arms):
            late, told = arm(work / f"{n}-{name}", sandbox, times, lead,
                             hanging.url if name == "hang" else None, settle)
            lateness[name] += late
            logged[f"{n}-{name}"] = told
    none, hang = stats(lateness["none"]), stats(lateness["hang"])
    rows = [("no webhook", *_row(none)), ("webhook that hangs", *_row(hang))]
    print(f"{count} occurrences over {span:g} s, 20% refused (400, each alerted), "
          f"each arm {len(arms) // 2} time(s)")
    print(harness.table(("alerts to", "n", "p50 ms", "p99 ms", "max ms"), rows))
    for name, told in logged.items():
        print(f"  run {name}: " + ", ".join(f"{k} {v}" for k, v in told.items()))
    result.figures = {"count": count, "span_s": span, "none": none, "hang": hang, "logged": logged}
    result.target(f"every occurrence delivered in each arm ({none['n']:g} + {hang['n']:g} of "
                  f"{len(arms) * count})", none["n"] == hang["n"] == len(arms) // 2 * count)
    if none["n"] and hang["n"]:
        bound = max(none["p99"] * RATIO, none["p99"] + SLACK_MS)
        result.target(f"p99 with a hanging webhook {hang['p99']:.2f} ms <= {bound:.2f} ms "
                      f"(p99 without {none['p99']:.2f} ms; ratio {hang['p99'] / none['p99']:.2f}x)",
                      hang["p99"] <= bound)
    hung = [told for name, told in logged.items() if name.endswith("hang")]
    result.target("the hanging runs logged what they could not send",
                  all(t["alert-failed"] + t["alert-dropped"] + t["alert-unsent"] > 0 for t in hung))
    return result


def _row(found: dict[str, float]) -> tuple[Any, ...]:
    return (int(found["n"]), *(round(found[k], 2) if k in found else "-"
                               for k in ("p50", "p99", "max")))


if __name__ == "__main__":
    sys.exit(harness.main(run, harness.options(__doc__.split("\n")[0])))
