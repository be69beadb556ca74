"""Open files: a daemon with one connection per account needs more than the usual 1,024."""

from __future__ import annotations

import contextlib
import resource


def raise_open_files_limit() -> int:
    """Raise the soft limit on open files to the hard limit; return the limit now in force.

    A burst over 5,000 accounts holds 5,000 sockets at once, and the common soft default
    (1,024) would turn the rest into connection errors. The hard limit is the
    administrator's word, so it is never exceeded."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        with contextlib.suppress(ValueError, OSError):  # a sandboxed system may refuse
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]
