"""Which git commit the calendar was read from, when it lives in a git repository."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path


def head_commit(paths: Sequence[str]) -> str | None:
    """HEAD of the repository holding the first path, or None (no git, not a repository)."""
    if not paths:
        return None
    first = Path(paths[0])
    folder = first if first.is_dir() else first.parent
    try:
        done = subprocess.run(["git", "-C", str(folder), "rev-parse", "HEAD"], check=False,
                              capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and len(commit) == 40 else None
