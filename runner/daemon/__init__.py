"""The daemon room: the only APScheduler user, and what keeps a long-running pushcal alive.

`Daemon` (service) schedules; `horizon` decides, purely, which jobs should exist; `workers`
send per account; `watch` notices edits; `heartbeat` and `events` tell the outside.
"""

from runner.daemon.events import CapturedLog, EventLog, route_library_logs
from runner.daemon.options import DaemonOptions
from runner.daemon.service import Daemon
from runner.daemon.signals import EarlySignals

__all__ = ["CapturedLog", "Daemon", "DaemonOptions", "EarlySignals", "EventLog",
           "route_library_logs"]
