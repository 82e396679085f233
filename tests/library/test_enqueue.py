"""enqueue() and enqueue_many(): rows as mappings or sequences, odd values, batches."""

from __future__ import annotations

from typing import Any

import pytest

import q4m_fast
from q4m_fast.errors import ServerGoneError, TableNameError

from conftest import rows_of, visible


@pytest.fixture
def odd_table(fresh_queue: Any) -> str:
    return fresh_queue(
        "lib_odd",
        "id INT NOT NULL, txt VARCHAR(100) NULL, bin VARBINARY(100) NULL, big LONGBLOB NULL",
    )


def test_enqueue_a_mapping(conn: Any, odd_table: str) -> None:
    q4m_fast.enqueue(conn, odd_table, {"id": 1, "txt": "hello"})
    assert visible(conn, odd_table) == [(1, "hello", None, None)]


def test_enqueue_a_sequence_gives_every_column_in_order(conn: Any, odd_table: str) -> None:
    q4m_fast.enqueue(conn, odd_table, (1, "a", b"b", b"c"))
    assert visible(conn, odd_table) == [(1, "a", b"b", b"c")]


def test_enqueue_with_a_dsn_opens_and_closes_its_own_connection(
    dsn: str, conn: Any, odd_table: str
) -> None:
    q4m_fast.enqueue(dsn, odd_table, {"id": 2})
    assert q4m_fast.enqueue_many(dsn, odd_table, [{"id": 3}, {"id": 4}]) == 2
    assert [row[0] for row in visible(conn, odd_table)] == [2, 3, 4]


def test_odd_values_arrive_unchanged(dsn: str, conn: Any, odd_table: str) -> None:
    binary = bytes(range(256))[:100]  # NUL, quotes, backslash, invalid UTF-8
    text = "naïve 'quoted' \\ \"double\" 😀 漢字 -- ; DROP TABLE x"
    large = bytes(range(256)) * 16384  # 4 MiB
    q4m_fast.enqueue_many(
        conn,
        odd_table,
        [(1, None, None, None), (2, text, binary, large), {"id": 3, "txt": "", "bin": b""}],
    )
    assert visible(conn, odd_table) == [
        (1, None, None, None),
        (2, text, binary, large),
        (3, "", b"", None),
    ]
    # and a worker receives them as they went in
    received: list[Any] = []

    class Reader(q4m_fast.Job):
        table_name = odd_table

        def execute(self, job: Any) -> None:
            received.append(tuple(job))

    with Reader(dsn, timeout=1) as worker:
        worker.work(stop_when_idle=True)
    assert received == [(1, None, None, None), (2, text, binary, large), (3, "", b"", None)]


def test_enqueue_many_uses_multi_row_inserts_in_batches(
    conn: Any, odd_table: str, statement_log: Any
) -> None:
    with statement_log as log:
        count = q4m_fast.enqueue_many(
            conn, odd_table, ({"id": i} for i in range(2500)), batch_size=1000
        )
    assert count == 2500
    inserts = [q for q in log.queries_of(conn.thread_id()) if q.startswith("INSERT")]
    assert [q.count("),(") + 1 for q in inserts] == [1000, 1000, 500]
    assert [row[0] for row in visible(conn, odd_table)] == list(range(2500))


def test_a_change_of_keys_starts_a_new_statement(conn: Any, odd_table: str) -> None:
    rows = [
        {"id": 1, "txt": "a"},
        {"id": 2, "txt": "b"},
        {"id": 3, "bin": b"c"},
        (4, "d", None, None),
    ]
    assert q4m_fast.enqueue_many(conn, odd_table, rows) == 4
    assert visible(conn, odd_table) == [
        (1, "a", None, None),
        (2, "b", None, None),
        (3, None, b"c", None),
        (4, "d", None, None),
    ]


def test_enqueue_many_of_nothing_inserts_nothing(conn: Any, odd_table: str) -> None:
    assert q4m_fast.enqueue_many(conn, odd_table, []) == 0


@pytest.mark.parametrize("table", ["lib_odd; DROP TABLE lib_odd", "`lib_odd`", "lib_odd:id=1"])
def test_a_bad_table_name_is_refused_before_anything_is_sent(
    conn: Any, odd_table: str, table: str
) -> None:
    with pytest.raises(TableNameError):
        q4m_fast.enqueue(conn, table, {"id": 1})
    assert visible(conn, odd_table) == []


def test_a_bad_column_name_is_refused(conn: Any, odd_table: str) -> None:
    with pytest.raises(TableNameError, match="column name"):
        q4m_fast.enqueue(conn, odd_table, {"id) VALUES (1); --": 1})
    assert visible(conn, odd_table) == []


def test_a_row_that_is_neither_mapping_nor_sequence_is_refused(conn: Any, odd_table: str) -> None:
    with pytest.raises(TypeError):
        q4m_fast.enqueue(conn, odd_table, "1, 'a'")  # type: ignore[arg-type]


def test_enqueue_into_a_database_qualified_table(conn: Any, odd_table: str) -> None:
    q4m_fast.enqueue(conn, f"test.{odd_table}", {"id": 9})
    assert rows_of(conn, f"SELECT id FROM test.{odd_table}") == [(9,)]


def test_enqueue_to_an_unreachable_server_raises_server_gone(odd_table: str) -> None:
    from q4m_testserver import free_port

    with pytest.raises(ServerGoneError, match=r"cannot connect to mysql://root@127\.0\.0\.1"):
        q4m_fast.enqueue(f"mysql://root@127.0.0.1:{free_port()}/test", odd_table, {"id": 1})
