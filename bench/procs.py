"""The processes a benchmark starts: timed one-shot commands, the sandbox, and the daemon.

The sandbox and the daemon each run in their own process, so the CPU they burn is not
counted as ours and a Python-level stall in one cannot hide in the other. Everything talks
over 127.0.0.1 only, and no HTTP client here honours proxy settings from the environment.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from harness import REPO, Broken

from runner.sandbox import SANDBOX_PRIVATE_KEY, SANDBOX_PUBLIC_KEY

PYTHON = sys.executable
# An installed pushcal has its bytecode cached; without it every process compiles every
# module first, which is no figure of ours. Children may write the caches, then reuse them.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
# The records of checked files that commands keep go to a directory of this run's, not the
# user's ~/.cache; a benchmark that measures commands with records names its own (scale).
os.environ["PUSHCAL_CACHE"] = tempfile.mkdtemp(prefix="pushcal-bench-records-")
atexit.register(shutil.rmtree, os.environ["PUSHCAL_CACHE"], ignore_errors=True)
PUSHCAL = [PYTHON, "-m", "runner"]
_LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:\d+)")
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class Timed:
    """One finished command: wall seconds, its CPU seconds (user + system), and its output."""

    wall: float
    cpu: float
    returncode: int
    stdout: str
    stderr: str


def run_timed(argv: Sequence[str], env: Mapping[str, str] | None = None) -> Timed:
    """Run a command to completion. Its CPU time comes from the children's rusage, so only
    one command may run at a time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(list(argv), capture_output=True, text=True, env=env, cwd=REPO,
                          check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timed(wall, cpu, done.returncode, done.stdout, done.stderr)


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set (VmHWM) in MiB, while it is still alive."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise Broken(f"no VmHWM in /proc/{pid}/status")


def _stop(proc: subprocess.Popen[Any], timeout: float) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.wait()


class SandboxProcess:
    """`pushcal sandbox` on a free loopback port, in its own process; a context manager."""

    def __init__(self, folder: Path, *, latency_ms: float = 0.0) -> None:
        self.folder, self.latency_ms = folder, latency_ms
        self.url = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: TextIO | None = None

    def __enter__(self) -> SandboxProcess:
        log_path = self.folder / "sandbox.log"
        self._log = log_path.open("w")
        self._proc = subprocess.Popen(
            [*PUSHCAL, "sandbox", "--port", "0", "--latency-ms", str(self.latency_ms)],
            stdout=self._log, stderr=subprocess.STDOUT, cwd=REPO)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and self._proc.poll() is None:
            found = _LISTENING.search(log_path.read_text())
            if found:
                self.url = found.group(1)
                return self
            time.sleep(0.05)
        self.__exit__(None, None, None)
        raise Broken(f"the sandbox did not start; its output: {log_path.read_text()[-500:]}")

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._proc is not None:
            _stop(self._proc, 10)
        if self._log is not None:
            self._log.close()

    def env(self) -> dict[str, str]:
        """The process environment plus the ONEALL_* settings that point at this sandbox."""
        return {**os.environ, "ONEALL_SUBDOMAIN": "sandbox",
                "ONEALL_PUBLIC_KEY": SANDBOX_PUBLIC_KEY, "ONEALL_PRIVATE_KEY": SANDBOX_PRIVATE_KEY,
                "ONEALL_BASE_URL": self.url}

    def received(self) -> list[dict[str, Any]]:
        """Every push request the sandbox received (`at` is its arrival, time.time())."""
        with _NO_PROXY.open(self.url + "/_sandbox/received", timeout=30) as answer:
            records: list[dict[str, Any]] = json.load(answer)
        return records

    def reset(self) -> None:
        """Forget every request and object (between a run and its baseline)."""
        request = urllib.request.Request(self.url + "/_sandbox/reset", data=b"", method="POST")
        with _NO_PROXY.open(request, timeout=30):
            pass


@dataclass
class DaemonProcess:
    """`pushcal run` with JSON logs, its stderr events timestamped as they arrive."""

    paths: Sequence[Path]
    state: Path
    env: Mapping[str, str]
    horizon_hours: float | None = None
    prefix: Sequence[str] | None = None  # how to start pushcal, e.g. under cProfile
    events: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    launched: float = 0.0
    _proc: subprocess.Popen[str] | None = None
    _reader: threading.Thread | None = None
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def start(self) -> DaemonProcess:
        """Launch the daemon and start reading its log lines."""
        argv = [*(self.prefix or PUSHCAL), "run", *map(str, self.paths), "--state", str(self.state),
                "--log-format", "json"]
        if self.horizon_hours is not None:
            argv += ["--horizon", str(self.horizon_hours)]
        self.launched = time.time()
        self._proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                      text=True, env=dict(self.env), cwd=REPO)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    @property
    def pid(self) -> int:
        """The daemon's process id."""
        assert self._proc is not None
        return self._proc.pid

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        for line in self._proc.stderr:
            arrived = time.time()
            try:
                event = json.loads(line)
            except ValueError:  # a traceback or another non-event line
                event = {"event": "raw", "text": line.rstrip()}
            with self._changed:
                self.events.append((arrived, event))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, name: str, timeout: float, after: int = 0) -> tuple[float, dict[str, Any]]:
        """The first event called `name` at index >= `after`, with its arrival time."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for arrived, event in self.events[after:]:
                    if event.get("event") == name:
                        return arrived, event
                left = deadline - time.monotonic()
                if left <= 0 or (self._proc is not None and self._proc.poll() is not None
                                 and not self._reader_alive()):
                    raise Broken(f"the daemon logged no '{name}' within {timeout:g} s; "
                                 f"its last lines: {self.tail()}")
                self._changed.wait(min(left, 0.2))

    def _reader_alive(self) -> bool:
        return self._reader is not None and self._reader.is_alive()

    def tail(self, count: int = 5) -> list[dict[str, Any]]:
        """The last `count` events, for error messages."""
        with self._changed:
            return [event for _, event in self.events[-count:]]

    def named(self, name: str) -> list[dict[str, Any]]:
        """Every event called `name` so far."""
        with self._changed:
            return [event for _, event in self.events if event.get("event") == name]

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM (the daemon finishes what is in flight), then wait; returns the exit code."""
        assert self._proc is not None
        code = _stop(self._proc, timeout)
        if self._reader is not None:
            self._reader.join(10)
        return code


def timed_rounds(cmds: dict[str, list[str]], rounds: int) -> dict[str, list[Timed]]:
    """Every command `rounds` times, in rotation; any failure breaks the run."""
    runs: dict[str, list[Timed]] = {name: [] for name in cmds}
    for _ in range(rounds):
        for name, argv in cmds.items():
            done = run_timed(argv)
            if done.returncode != 0:
                raise Broken(f"{name} exited {done.returncode}: {(done.stdout + done.stderr)[-800:]}")
            runs[name].append(done)
    return runs
