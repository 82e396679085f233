"""With the binary log on, DML on queue tables works and is logged as plain row changes;
consumption through the queue functions is not logged (engine/README.md, "Binary log")."""

from __future__ import annotations

import pytest

from .engine_helpers import execute, one, rows
from q4m_testserver import PrivateServer


@pytest.fixture
def binlog_server(tmp_path):
    server = PrivateServer(
        datadir=tmp_path / "binlog-server",
        mariadbd_args=(f"--log-bin={tmp_path / 'binlog-server' / 'binlog'}", "--server-id=1"),
    )
    server.start()
    yield server
    server.stop()


def logged_events(conn) -> list[tuple[str, str]]:
    """(event type, info) of every event in the current binary log."""
    log_file = rows(conn, "SHOW MASTER STATUS")[0][0]
    return [(r[2], r[5]) for r in rows(conn, f"SHOW BINLOG EVENTS IN '{log_file}'")]


@pytest.mark.timeout(120)
def test_statement_logging_records_inserts_and_deletes_but_not_consumption(binlog_server):
    conn = binlog_server.connect()
    assert one(conn, "SELECT @@log_bin") == 1
    execute(conn, "SET SESSION binlog_format = 'STATEMENT'")
    execute(conn, "CREATE TABLE bl (id INT NOT NULL) ENGINE=QUEUE")
    execute(conn, "INSERT INTO bl VALUES (1), (2), (3)")
    assert one(conn, "SELECT queue_wait('bl', 0)") == 1
    assert one(conn, "SELECT queue_end()") == 1
    before = len(logged_events(conn))
    execute(conn, "DELETE FROM bl WHERE id = 3")
    events = logged_events(conn)
    queries = [info for kind, info in events if kind == "Query"]
    assert any("INSERT INTO bl VALUES (1), (2), (3)" in q for q in queries)
    assert any("DELETE FROM bl WHERE id = 3" in info for _, info in events[before:])
    assert not any("queue_wait(" in q or "queue_end(" in q for q in queries), (
        "consumption is not logged"
    )
    assert [r[0] for r in rows(conn, "SELECT id FROM bl")] == [2]


@pytest.mark.timeout(120)
def test_row_logging_records_plain_row_events(binlog_server):
    conn = binlog_server.connect()
    execute(conn, "SET SESSION binlog_format = 'ROW'")
    execute(conn, "CREATE TABLE blr (id INT NOT NULL, v VARCHAR(10)) ENGINE=QUEUE")
    execute(conn, "INSERT INTO blr VALUES (1, 'a'), (2, 'b')")
    execute(conn, "DELETE FROM blr WHERE id = 1")
    kinds = [kind for kind, _ in logged_events(conn)]
    assert "Write_rows_v1" in kinds or "Write_rows" in kinds
    assert "Delete_rows_v1" in kinds or "Delete_rows" in kinds
    assert [tuple(r) for r in rows(conn, "SELECT id, v FROM blr")] == [(2, "b")]
