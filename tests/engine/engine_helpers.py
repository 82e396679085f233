"""Small helpers shared by the QUEUE engine acceptance tests.

Everything here talks to a real server through MySQLdb; nothing is mocked.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import threading
import time

import MySQLdb

# MariaDB / MySQL error codes the tests look for.
ER_TOO_MANY_KEYS = 1069
ER_ILLEGAL_HA = 1031
ER_CANT_INITIALIZE_UDF = 1123
ER_NO_SUCH_TABLE = 1146
ER_QUERY_INTERRUPTED = 1317
# Error codes a client sees when its connection was killed or dropped.
CONNECTION_GONE = {2006, 2013, 1927, 4031}

_counter = itertools.count(1)


def unique_name(hint: str = "q") -> str:
    """A table name unique within this test session (and across concurrent sessions)."""
    base = re.sub(r"[^a-z0-9_]+", "_", hint.lower()).strip("_")[:36]
    if not base or not base[0].isalpha():
        base = "q_" + base
    return f"{base}_{os.getpid() % 100000}_{next(_counter)}"


# --------------------------------------------------------------------------- queries


def rows(conn, sql: str, args=None) -> list[tuple]:
    """Run one statement and return all its rows as a list of tuples."""
    cur = conn.cursor()
    try:
        cur.execute(sql, args)
        return list(cur.fetchall() or [])
    finally:
        cur.close()


def one(conn, sql: str, args=None):
    """Run one statement and return the first column of its only row."""
    result = rows(conn, sql, args)
    assert len(result) == 1, f"{sql!r} returned {len(result)} rows, expected 1"
    return result[0][0]


def execute(conn, sql: str, args=None) -> int:
    """Run one statement and return its affected-rows count."""
    cur = conn.cursor()
    try:
        return cur.execute(sql, args)
    finally:
        cur.close()


def column(conn, sql: str, args=None) -> list:
    """Run one statement and return its first column as a list."""
    return [r[0] for r in rows(conn, sql, args)]


def sql_error(conn, sql: str, args=None) -> tuple[int, str]:
    """Run a statement that must fail and return (errno, message)."""
    cur = conn.cursor()
    try:
        cur.execute(sql, args)
        result = cur.fetchall()
    except MySQLdb.MySQLError as e:
        return e.args[0], (e.args[1] if len(e.args) > 1 else "")
    finally:
        cur.close()
    raise AssertionError(f"{sql!r} succeeded (returned {result!r}); an error was expected")


def wait(conn, *specs, timeout=None):
    """SELECT queue_wait(spec, ..., timeout) and return its value (None for NULL)."""
    args = list(specs)
    if timeout is not None:
        args.append(timeout)
    marks = ", ".join(["%s"] * len(args))
    return one(conn, f"SELECT queue_wait({marks})", args)


def queue_end(conn):
    return one(conn, "SELECT queue_end()")


def queue_abort(conn):
    return one(conn, "SELECT queue_abort()")


def queue_rowid(conn):
    return one(conn, "SELECT queue_rowid()")


def in_owner_mode(conn) -> bool:
    """True when the connection is in owner mode (queue_rowid() does not refuse)."""
    cur = conn.cursor()
    try:
        cur.execute("SELECT queue_rowid()")
        cur.fetchall()
        return True
    except MySQLdb.MySQLError as e:
        if e.args[0] == ER_CANT_INITIALIZE_UDF and "not in owner mode" in str(e.args[1]):
            return False
        raise
    finally:
        cur.close()


def count(conn, table: str) -> int:
    return one(conn, f"SELECT COUNT(*) FROM {table}")


def create_queue(conn, name: str, columns_sql: str = "id INT NOT NULL, v VARCHAR(64)") -> str:
    execute(conn, f"DROP TABLE IF EXISTS {name}")
    execute(conn, f"CREATE TABLE {name} ({columns_sql}) ENGINE=QUEUE")
    return name


def insert_ids(conn, table: str, ids, width: int = 1000) -> None:
    """Insert rows (id, 'v<id>') with multi-row INSERTs of up to `width` rows."""
    ids = list(ids)
    for start in range(0, len(ids), width):
        chunk = ids[start : start + width]
        values = ",".join(f"({i},'v{i}')" for i in chunk)
        execute(conn, f"INSERT INTO {table} (id, v) VALUES {values}")


def thread_id(conn) -> int:
    """Server connection id; cached because MySQLdb refuses calls on a connection that
    another thread is using (a blocked queue_wait)."""
    tid = getattr(conn, "_q4m_thread_id", None)
    if tid is None:
        tid = conn.thread_id()
        conn._q4m_thread_id = tid
    return tid


def kill_connection(observer, target, query_only: bool = False) -> None:
    execute(observer, f"KILL {'QUERY' if query_only else 'CONNECTION'} {thread_id(target)}")


# --------------------------------------------------------------------------- waiting


def eventually(predicate, timeout: float = 10.0, interval: float = 0.02, message: str = ""):
    """Poll predicate() until it returns a truthy value; return that value or fail."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"condition not reached within {timeout}s: {message} (last={last!r})"
            )
        time.sleep(interval)


def executing_statements(observer, like: str) -> list[int]:
    """Ids of connections whose running statement text matches the LIKE pattern."""
    return column(
        observer,
        "SELECT ID FROM information_schema.PROCESSLIST "
        "WHERE INFO LIKE %s AND ID <> CONNECTION_ID()",
        (like,),
    )


def wait_until_blocked(
    observer, conns, like: str = "%queue_wait%", timeout: float = 20.0, settle: float = 0.2
) -> None:
    """Wait until every connection in `conns` is executing a statement matching `like`."""
    wanted = {thread_id(c) for c in conns}

    def all_there():
        return wanted <= set(executing_statements(observer, like))

    eventually(all_there, timeout=timeout, message=f"{len(wanted)} connections blocked in {like}")
    time.sleep(settle)


class BackgroundQuery:
    """Runs one statement on `conn` in a thread; records result, error and timing."""

    def __init__(self, conn, sql: str, args=None, fetch_owned_from: str | None = None):
        self.conn = conn
        self.sql = sql
        self.args = args
        self.fetch_owned_from = fetch_owned_from
        thread_id(conn)  # cache it while the connection is still idle
        self.result = None
        self.owned_rows = None
        self.error: BaseException | None = None
        self.started_at = None
        self.finished_at = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        self.started_at = time.monotonic()
        try:
            r = rows(self.conn, self.sql, self.args)
            self.result = r[0][0] if r and len(r[0]) == 1 else r
            if self.fetch_owned_from and self.result:
                self.owned_rows = rows(self.conn, f"SELECT * FROM {self.fetch_owned_from}")
        except BaseException as e:  # recorded and re-checked by the test
            self.error = e
        finally:
            self.finished_at = time.monotonic()

    def start(self) -> BackgroundQuery:
        self._thread.start()
        return self

    def join(self, timeout: float) -> BackgroundQuery:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), f"{self.sql!r} still running after {timeout}s"
        return self

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    @property
    def errno(self):
        return self.error.args[0] if isinstance(self.error, MySQLdb.MySQLError) else None


def start_wait(conn, *specs, timeout=None, fetch_owned_from=None) -> BackgroundQuery:
    args = list(specs) + ([timeout] if timeout is not None else [])
    marks = ", ".join(["%s"] * len(args))
    return BackgroundQuery(
        conn, f"SELECT queue_wait({marks})", args, fetch_owned_from=fetch_owned_from
    ).start()


# --------------------------------------------------------------------------- checks


def assert_server_alive(server) -> None:
    """A NEW connection can still run SELECT 1 (the server did not crash)."""
    c = server.connect()
    try:
        assert one(c, "SELECT 1") == 1
    finally:
        c.close()


def payload_digest(*parts) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else str(p).encode())
        h.update(b"\x00")
    return h.hexdigest()


def drain(conn, table: str, column_sql: str = "id", timeout: int = 0) -> list:
    """Consume every row of `table` with queue_wait on one connection; return the values seen."""
    seen = []
    while True:
        r = wait(conn, table, timeout=timeout)
        assert r in (0, 1), f"queue_wait returned {r!r}"
        if r == 0:
            break
        owned = rows(conn, f"SELECT {column_sql} FROM {table}")
        assert len(owned) == 1, f"owner sees {len(owned)} rows"
        seen.append(owned[0][0] if len(owned[0]) == 1 else owned[0])
    assert queue_end(conn) == 1
    return seen
