"""The benchmarks' private server: one MariaDB with the QUEUE engine, started through
`scripts/q4m-server` (via the tests' `PrivateServer` helper), plus the few server-side
readings the benchmarks report (engine status counters, versions, settings).
"""

from __future__ import annotations

import contextlib
import re
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests"))
from cpuwatch import process_cpu  # noqa: E402

from q4m_testserver import PrivateServer, free_port  # noqa: E402

MAX_CONNECTIONS = 1000   # the server's default of 151 is too few for 32 threads x helpers


class BenchServer(PrivateServer):
    """A PrivateServer whose settings the benchmarks switch at run time."""

    def sql(self, *statements: str) -> list:
        """Run statements on a fresh connection; the rows of the last one."""
        conn = self.connect()
        try:
            cur = conn.cursor()
            rows: list = []
            for statement in statements:
                cur.execute(statement)
                rows = list(cur.fetchall()) if cur.description else []
            return rows
        finally:
            conn.close()

    def set_sync(self, on: bool) -> None:
        """Durability of both engines at once: queue_sync for QUEUE and, so that the InnoDB
        comparison is like for like, innodb_flush_log_at_trx_commit (1 = fsync at every
        commit; 2 = write to the OS at commit, flush once a second)."""
        self.sql(f"SET GLOBAL queue_sync = {'ON' if on else 'OFF'}",
                 f"SET GLOBAL innodb_flush_log_at_trx_commit = {1 if on else 2}")

    def queue_status(self) -> dict[str, int]:
        """SHOW ENGINE QUEUE STATUS as {counter: value}."""
        text = self.sql("SHOW ENGINE QUEUE STATUS")[0][2]
        return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", text, re.M)}

    def cpu_seconds(self) -> float:
        """User + system CPU time the mariadbd process (all threads) has used so far."""
        return process_cpu(self.pid)

    def version(self) -> str:
        return self.sql("SELECT VERSION()")[0][0]

    def recreate(self, table: str, engine: str) -> None:
        """An empty table of the benchmarks' row shape: an INT and a VARCHAR."""
        key = " PRIMARY KEY" if engine.upper() != "QUEUE" else ""
        self.sql(f"DROP TABLE IF EXISTS {table}",
                 f"CREATE TABLE {table} (id INT NOT NULL{key}, v VARCHAR(64)) ENGINE={engine}")

    def fill(self, table: str, rows: int, batch: int = 1000) -> None:
        """rows rows (id 0..rows-1, v 'payload-<id>'), in multi-row INSERTs."""
        conn = self.connect()
        try:
            cur = conn.cursor()
            for start in range(0, rows, batch):
                values = ",".join(f"({i},'payload-{i}')"
                                  for i in range(start, min(rows, start + batch)))
                cur.execute(f"INSERT INTO {table} (id, v) VALUES {values}")
        finally:
            conn.close()


@contextlib.contextmanager
def bench_server(port: int | None = None, datadir: str | None = None):
    """Start a private server (new temporary datadir unless one is given), raise
    max_connections, yield it, stop it and remove a temporary datadir."""
    temporary = datadir is None
    path = Path(datadir) if datadir else Path(tempfile.mkdtemp(prefix="q4m-bench-"))
    server = BenchServer(port=port or free_port(), datadir=path, sync=None)
    server.start()
    try:
        server.sql(f"SET GLOBAL max_connections = {MAX_CONNECTIONS}")
        yield server
    finally:
        server.stop()
        if temporary:
            shutil.rmtree(path, ignore_errors=True)
