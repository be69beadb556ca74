"""A real, throwaway PostgreSQL server for tests and benchmarks: initdb into a temporary
folder, listen on a free loopback port (password auth) and a unix socket (trust).

The server binaries come from $PUSHCAL_PG_BIN, else Debian's /usr/lib/postgresql/N/bin
(newest N), else `initdb` on PATH. PostgreSQL refuses to run as root, so as root the server
runs as `nobody` (setpriv), with its folder in /tmp owned by that user. `find_binaries`
says why there is no server when there is none, for a skip reason or a CI failure.
"""

from __future__ import annotations

import os
import pathlib
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from typing import IO

PASSWORD = "s3cret-Pg-pass"  # the superuser's; tests check it never shows in any output
USER = "pushcal"


def find_binaries() -> tuple[pathlib.Path | None, str]:
    """The folder with initdb and postgres, or None and the reason. $PUSHCAL_PG_BIN, when
    set, is the only place looked at."""
    candidates = []
    if os.environ.get("PUSHCAL_PG_BIN"):
        candidates.append(pathlib.Path(os.environ["PUSHCAL_PG_BIN"]))
    else:
        debian = sorted(pathlib.Path("/usr/lib/postgresql").glob("*/bin"),
                        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
        candidates += reversed(debian)
        on_path = shutil.which("initdb")
        if on_path:
            candidates.append(pathlib.Path(on_path).parent)
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "postgres").exists():
            if os.geteuid() == 0 and shutil.which("setpriv") is None:
                return None, "running as root and setpriv (util-linux) is missing"
            return folder, ""
    return None, ("no PostgreSQL server binaries (install Debian's `postgresql` package or"
                  " set PUSHCAL_PG_BIN to the folder holding initdb and postgres)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """One running server; `url(db)` connects over TCP with the password."""

    bin: pathlib.Path
    folder: pathlib.Path = field(default_factory=lambda: pathlib.Path(
        tempfile.mkdtemp(prefix="pushcal-pg-")))
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    created: int = 0

    def url(self, database: str = "postgres", *, password: bool = True) -> str:
        secret = f":{PASSWORD}" if password else ""
        return f"postgresql://{USER}{secret}@127.0.0.1:{self.port}/{database}"

    def _as_server(self, argv: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return argv
        return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *argv]

    def init(self) -> None:
        if os.geteuid() == 0:
            user = pwd.getpwnam("nobody")
            os.chown(self.folder, user.pw_uid, user.pw_gid)
        os.chmod(self.folder, 0o755)
        (self.folder / "pw").write_text(PASSWORD + "\n")
        os.chmod(self.folder / "pw", 0o644)
        subprocess.run(self._as_server([
            str(self.bin / "initdb"), "-D", str(self.folder / "data"), "-U", USER,
            "--pwfile", str(self.folder / "pw"), "--auth-local=trust",
            "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync", "--no-instructions"]),
            check=True, capture_output=True)

    def start(self) -> None:
        with (self.folder / "server.log").open("ab") as log:
            self.process = self._spawn(log)
        deadline = time.monotonic() + 30
        while not self._ready():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("PostgreSQL did not start:\n" + self.log_tail())
            time.sleep(0.05)

    def _spawn(self, log: IO[bytes]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self._as_server([
            str(self.bin / "postgres"), "-D", str(self.folder / "data"), "-p", str(self.port),
            "-k", str(self.folder), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
            "-c", "full_page_writes=off", "-c", "max_connections=200"]),
            stdout=log, stderr=log, start_new_session=True)

    def _ready(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                pass
        except OSError:
            return False
        done = subprocess.run([str(self.bin / "pg_isready"), "-h", str(self.folder), "-p",
                               str(self.port), "-U", USER], capture_output=True)
        return done.returncode == 0

    def stop(self, how: signal.Signals = signal.SIGINT) -> None:
        """SIGINT: fast shutdown (sessions cut, as a restart does); SIGQUIT: immediate."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(how)
            self.process.wait(timeout=30)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def psql(self, sql: str, database: str = "postgres") -> str:
        done = subprocess.run([str(self.bin / "psql"), "-h", str(self.folder), "-p",
                               str(self.port), "-U", USER, "-d", database, "-XAtq",
                               "-v", "ON_ERROR_STOP=1", "-c", sql],
                              capture_output=True, text=True, check=True)
        return done.stdout

    def new_database(self) -> str:
        """A fresh, empty database; its URL (with the password)."""
        self.created += 1
        name = f"t{os.getpid()}_{self.created}"
        self.psql(f"CREATE DATABASE {name}")
        return self.url(name)

    def log_tail(self) -> str:
        path = self.folder / "server.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def launch() -> Server:
    """Start a server, or raise RuntimeError saying why none can run here."""
    folder, why = find_binaries()
    if folder is None:
        raise RuntimeError(why)
    server = Server(folder)
    try:
        server.init()
        server.start()
    except BaseException:
        server.cleanup()
        raise
    return server
