"""Private MariaDB servers with the QUEUE engine, for tests.

`PrivateServer` drives `scripts/q4m-server` (which builds the engine if needed, creates the
datadir, starts the private mariadbd and installs the engine). It adds what tests need on
top: free ports, MySQLdb connections and a hard kill for crash-recovery tests.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "q4m-server"


class ServerError(RuntimeError):
    """scripts/q4m-server failed; the message carries its output."""


def free_port() -> int:
    """A TCP port nobody listens on right now (the kernel's choice, so it is never 3306
    or another well-known port in use)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _process_alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie (a killed mariadbd is not our child:
    whoever reaps it may take a moment, and a zombie is as dead as it gets)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class PrivateServer:
    """One private server. `datadir` defaults to a new temporary directory, `port` to a
    free one; `sync` sets the engine's queue_sync (flush every commit) at every start,
    None leaves the engine's own default."""

    def __init__(self, port: int | None = None, datadir: str | os.PathLike | None = None,
                 sync: bool | None = True, mariadbd_args: tuple[str, ...] = ()):
        self.port = port or free_port()
        self.mariadbd_args = tuple(mariadbd_args)  # extra options, e.g. to turn the binlog on
        self.datadir = Path(datadir) if datadir else Path(tempfile.mkdtemp(prefix="q4m-data-"))
        self.sync = sync
        self.host = "127.0.0.1"

    # ---------------------------------------------------------------- lifecycle

    def _run(self, command: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        # The instance options go right after the subcommand: anything after `--`
        # in args is passed to mariadbd.
        cmd = [sys.executable, str(SCRIPT), command, "--port", str(self.port),
               "--datadir", str(self.datadir), *args]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise ServerError(f"{' '.join(cmd)} failed (exit {proc.returncode}):\n"
                              f"{proc.stderr}{proc.stdout}")
        return proc

    def start(self) -> PrivateServer:
        """Start (building and initialising as needed); a no-op when already running."""
        sync = [] if self.sync is None else ["--sync", "on" if self.sync else "off"]
        extra = ["--", *self.mariadbd_args] if self.mariadbd_args else []
        proc = self._run("start", *sync, *extra)
        last = proc.stdout.strip().splitlines()[-1]
        if not last.startswith("Q4M_DSN="):
            raise ServerError(f"unexpected output from q4m-server start:\n{proc.stdout}")
        return self

    def stop(self) -> None:
        """Clean shutdown; waits until the process is gone. A no-op when not running."""
        self._run("stop")

    def restart(self) -> PrivateServer:
        self.stop()
        return self.start()

    def status(self) -> dict:
        """The script's `status --json`: running, pid, port, version, dsn, engine, ..."""
        return json.loads(self._run("status", "--json", check=False).stdout)

    @property
    def running(self) -> bool:
        return self.pid is not None

    @property
    def pid(self) -> int | None:
        """Pid of the running mariadbd, read from its pid file (no subprocess: tests ask
        often). None when not running, including a stale pid file after kill9()."""
        try:
            pid = int((self.datadir / "q4m-server.pid").read_text().split()[0])
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                args = fh.read().split(b"\0")
        except (OSError, ValueError, IndexError):
            return None
        datadir_arg = f"--datadir={self.datadir.resolve()}".encode()
        return pid if datadir_arg in args and _process_alive(pid) else None

    def kill9(self, timeout: float = 30.0) -> None:
        """SIGKILL the mariadbd (a crash: no shutdown, no flush) and wait until it is dead."""
        pid = self.pid
        if pid is None:
            raise ServerError(f"kill9: no server running for {self.datadir}")
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + timeout
        while _process_alive(pid):
            if time.monotonic() > deadline:
                raise ServerError(f"kill9: pid {pid} still alive after {timeout} s")
            time.sleep(0.01)

    # ---------------------------------------------------------------- access

    @property
    def dsn(self) -> str:
        return f"mysql://root@{self.host}:{self.port}/test"

    def connect(self, **kw):
        """A new MySQLdb connection to database `test`, autocommit on (keywords override)."""
        import MySQLdb  # imported here so the helper loads even without the driver

        args = dict(host=self.host, port=self.port, user="root", database="test",
                    charset="utf8mb4", autocommit=True)
        args.update(kw)
        return MySQLdb.connect(**args)

    def error_log(self) -> str:
        try:
            return (self.datadir / "q4m-server.err").read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def __repr__(self) -> str:
        return f"PrivateServer(port={self.port}, datadir={str(self.datadir)!r}, sync={self.sync})"
