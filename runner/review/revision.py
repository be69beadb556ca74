"""A calendar's files at a git revision, or in the working tree, named from the repository top.

Revisions are read with `git ls-tree` and `git cat-file --batch` only: nothing is checked out,
the user's working tree and index are never touched, and `GIT_OPTIONAL_LOCKS=0` keeps git from
even refreshing the index. A revision's files are found as `runner.calendar` finds them on
disk (`*.yaml`/`*.yml` under a folder, recursively, hidden ones skipped, sorted by path
components; a file named directly is taken whatever its suffix).
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from runner.calendar import Source, read_sources
from runner.errors import Problem, PushcalError

_SUFFIXES = (".yaml", ".yml")
_ENV = {"GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}


class GitError(PushcalError):
    """git could not answer: not a repository, an unknown revision, no upstream."""


@dataclass(frozen=True)
class Repo:
    """A git repository seen from a directory inside it (`cwd`, where paths are relative to)."""

    root: Path
    cwd: Path

    def git(self, *args: str, stdin: bytes | None = None) -> bytes:
        """git's output; GitError with git's own first line of complaint on failure."""
        done = subprocess.run(["git", "-c", "core.quotepath=off", *args], cwd=self.cwd,
                              input=stdin, capture_output=True, env={**os.environ, **_ENV})
        if done.returncode != 0:
            said = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise GitError(f"git {args[0]}: {said[0] if said else 'failed'}")
        return done.stdout

    def commit(self, revision: str) -> str | None:
        """The commit `revision` names, or None when it names none."""
        try:
            return self.git("rev-parse", "--verify", "--quiet", "--end-of-options",
                            f"{revision}^{{commit}}").decode().strip()
        except GitError:
            return None

    def relative(self, argument: str) -> str:
        """An argument (relative to cwd) as a path from the repository top, `.` for the top."""
        return Path(os.path.relpath((self.cwd / argument).resolve(), self.root)).as_posix()


def open_repo(cwd: Path) -> Repo:
    """The repository `cwd` is in; GitError when it is in none."""
    try:
        top = Repo(cwd, cwd).git("rev-parse", "--show-toplevel").decode().strip()
    except (GitError, OSError):
        raise GitError(f"{cwd} is not inside a git repository: pushcal diff compares git "
                       "revisions (run it in the calendar's repository, or give -C DIR)") from None
    return Repo(Path(top).resolve(), cwd.resolve())


def upstream_base(repo: Repo) -> str:
    """The merge base of HEAD with its upstream branch: what a pull request is compared with."""
    if repo.commit("@{upstream}") is None:
        raise GitError("this branch has no upstream to compare with: name the base revision, "
                       "e.g. `pushcal diff origin/main`")
    try:
        return repo.git("merge-base", "HEAD", "@{upstream}").decode().strip()
    except GitError:
        raise GitError("HEAD and its upstream branch share no commit: name the base revision, "
                       "e.g. `pushcal diff origin/main`") from None


def at_revision(repo: Repo, commit: str, paths: Sequence[str]) -> tuple[list[Source], list[Problem]]:
    """The calendar files at `paths` as of `commit`, with what could not be found there."""
    listing = repo.git("ls-tree", "-r", "-z", "--full-name", commit).split(b"\0")
    blobs: dict[str, str] = {}
    for line in filter(None, listing):
        meta, _, name = line.decode("utf-8", "surrogateescape").partition("\t")
        mode, kind, sha = meta.split()
        if kind == "blob" and mode in ("100644", "100755"):
            blobs[name] = sha
    chosen: dict[str, str] = {}
    problems: list[Problem] = []
    for argument in paths:
        found = _matching(blobs, repo.relative(argument))
        if found is None:
            problems.append(Problem(argument, message=f"no such file or directory at {commit[:12]}"))
        elif not found:
            problems.append(Problem(argument, message="no calendar files (*.yaml, *.yml) in this "
                                                      f"directory at {commit[:12]}"))
        for name in found or ():
            chosen.setdefault(name, blobs[name])
    return list(zip(chosen, _blobs(repo, list(chosen.values())), strict=True)), problems


def in_worktree(repo: Repo, paths: Sequence[str]) -> tuple[list[Source], list[Problem]]:
    """The calendar files at `paths` as they are on disk, named like `at_revision` names them."""
    sources, problems = read_sources([str(repo.cwd / p) for p in paths])
    renamed = [(_from_top(repo, name), raw) for name, raw in sources]
    return renamed, [dataclasses.replace(p, file=_from_top(repo, p.file)) for p in problems]


def _from_top(repo: Repo, name: str) -> str:
    return Path(os.path.relpath(Path(name).resolve(), repo.root)).as_posix()


def _matching(blobs: dict[str, str], rel: str) -> list[str] | None:
    """The files an argument names: itself, or a folder's calendar files; None if nothing."""
    if rel in blobs:
        return [rel]
    prefix = "" if rel == "." else rel.rstrip("/") + "/"
    inside = [n for n in blobs if n.startswith(prefix)]
    if not inside:
        return None
    shown = [n for n in inside if n.endswith(_SUFFIXES)
             and not any(part.startswith(".") for part in PurePosixPath(n[len(prefix):]).parts)]
    return sorted(shown, key=lambda n: PurePosixPath(n).parts)


def _blobs(repo: Repo, shas: list[str]) -> list[bytes]:
    """The contents of these blobs, in order, from one `git cat-file --batch`."""
    if not shas:
        return []
    out = repo.git("cat-file", "--batch", stdin="".join(s + "\n" for s in shas).encode())
    found, at = [], 0
    for _ in shas:
        header_end = out.index(b"\n", at)
        size = int(out[at:header_end].split()[2])
        found.append(out[header_end + 1:header_end + 1 + size])
        at = header_end + 1 + size + 1
    return found
