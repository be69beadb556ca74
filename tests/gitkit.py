"""Real git repositories in tmp_path for the review tests: write files, commit, branch."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

# A fixed author and date so commits are reproducible; no user config, no hooks, no signing.
ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
       "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_AUTHOR_DATE": "2026-11-01T00:00:00Z",
       "GIT_COMMITTER_DATE": "2026-11-01T00:00:00Z", "GIT_CONFIG_GLOBAL": os.devnull,
       "GIT_CONFIG_NOSYSTEM": "1", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}


class GitRepo:
    """A repository at `root` with helpers that fail loudly."""

    def __init__(self, root: Path, *, init: bool = True) -> None:
        self.root = root
        if init:
            root.mkdir(parents=True, exist_ok=True)
            self.git("init", "-q", "-b", "main")

    @classmethod
    def clone(cls, origin: GitRepo, root: Path) -> GitRepo:
        """A clone of `origin` at `root`, with `origin` as its remote."""
        origin.git("clone", "-q", str(origin.root), str(root))
        return cls(root, init=False)

    def git(self, *args: str) -> str:
        done = subprocess.run(["git", *args], cwd=self.root, env=ENV, capture_output=True, text=True)
        assert done.returncode == 0, f"git {args}: {done.stderr}"
        return done.stdout.strip()

    def write(self, files: dict[str, str]) -> None:
        for name, text in files.items():
            path = self.root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, "utf-8")

    def commit(self, message: str, files: dict[str, str] | None = None) -> str:
        self.write(files or {})
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")
