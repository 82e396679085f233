"""Fixtures of the library tests: every test runs once per job loop implementation.

The autouse ``impl`` fixture is parametrized over ``c`` and ``python``: it selects the loop in
this process (``q4m_fast._impl.select``) and sets ``Q4M_FAST_IMPL`` for the subprocesses a test
starts (CLI tests), so ``pytest tests/library`` runs the whole suite against both. Asking for
``c`` when the extension is not built fails the test; it is never skipped.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, Callable

import pytest

import q4m_fast
from q4m_fast import _impl

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))  # the job modules the CLI tests import (library_jobs.py)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).parents and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(120))


@pytest.fixture(params=_impl.IMPLEMENTATIONS, autouse=True)
def impl(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    name = request.param
    _impl.select(name)
    monkeypatch.setenv("Q4M_FAST_IMPL", name)
    assert q4m_fast.__impl__ == name
    yield name
    _impl._selected = None  # the next user chooses again, from the environment


@pytest.fixture
def dsn(q4m_server: Any) -> str:
    return q4m_server.dsn


def rows_of(conn: Any, sql: str, args: Any = None) -> list[tuple[Any, ...]]:
    cursor = conn.cursor()
    try:
        cursor.execute(sql, args)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def count(conn: Any, table: str) -> int:
    """Rows in the table, owned ones included (Q4M's COUNT(*) counts them)."""
    return int(rows_of(conn, f"SELECT COUNT(*) FROM `{table}`")[0][0])


def visible(conn: Any, table: str) -> list[tuple[Any, ...]]:
    """The rows nobody owns, oldest first (what a plain SELECT shows)."""
    return rows_of(conn, f"SELECT * FROM `{table}`")


def eventually(condition: Callable[[], Any], what: str, seconds: float = 30.0) -> Any:
    """Poll until ``condition()`` is true (for effects of other processes); fail after a while.

    Not a timed assertion: the limit only keeps a broken test from hanging forever.
    """
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for: {what}")
        time.sleep(0.05)


@pytest.fixture
def jobs_table(fresh_queue: Any) -> str:
    """An empty queue table ``lib_jobs`` (id INT, v VARCHAR) for one-table tests."""
    return fresh_queue("lib_jobs", "id INT NOT NULL, v VARCHAR(64)")


class StatementLog:
    """The server's general log (one entry per round trip), for protocol tests."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def __enter__(self) -> StatementLog:
        cursor = self._conn.cursor()
        cursor.execute("SET GLOBAL log_output = 'TABLE'")
        cursor.execute("TRUNCATE mysql.general_log")
        cursor.execute("SET GLOBAL general_log = ON")
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._conn.cursor().execute("SET GLOBAL general_log = OFF")

    def queries_of(self, connection_id: int) -> list[str]:
        """The COM_QUERY texts one connection sent, in order."""
        return [
            text
            for (text,) in rows_of(
                self._conn,
                "SELECT CONVERT(argument USING utf8mb4) FROM mysql.general_log "
                "WHERE thread_id = %s AND command_type = 'Query' ORDER BY event_time",
                (connection_id,),
            )
        ]


@pytest.fixture
def statement_log(conn: Any) -> StatementLog:
    return StatementLog(conn)
