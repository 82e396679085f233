"""Every error type, with a message naming the table (or server) and the cause."""

from __future__ import annotations

from typing import Any

import pytest

import q4m_fast
from q4m_fast.errors import (
    DSNError,
    NotAQueueTableError,
    Q4MError,
    ServerGoneError,
    UnknownTableError,
)

from q4m_testserver import free_port


class Nothing(q4m_fast.Job):
    def execute(self, job: Any) -> None:
        pass


def _job_on(table: str) -> type[Nothing]:
    return type("Named", (Nothing,), {"table_name": table})


def test_an_unknown_table_raises_unknown_table_error(dsn: str) -> None:
    with (
        _job_on("lib_no_such_table")(dsn, timeout=0) as worker,
        pytest.raises(UnknownTableError) as caught,
    ):
        worker.run()
    assert str(caught.value).startswith("table test.lib_no_such_table does not exist")
    assert caught.value.table == "test.lib_no_such_table"


def test_an_unknown_database_raises_unknown_table_error(dsn: str) -> None:
    with (
        _job_on("no_such_db.jobs")(dsn, timeout=0) as worker,
        pytest.raises(UnknownTableError) as caught,
    ):
        worker.run()
    assert "no_such_db.jobs does not exist" in str(caught.value)


def test_a_table_that_is_not_a_queue_raises_not_a_queue_table_error(dsn: str, conn: Any) -> None:
    cursor = conn.cursor()
    cursor.execute("DROP TABLE IF EXISTS lib_innodb")
    cursor.execute("CREATE TABLE lib_innodb (id INT) ENGINE=InnoDB")
    cursor.execute("INSERT INTO lib_innodb VALUES (1), (2)")
    try:
        with (
            _job_on("lib_innodb")(dsn, timeout=0) as worker,
            pytest.raises(NotAQueueTableError) as caught,
        ):
            worker.run()
        message = str(caught.value)
        assert "test.lib_innodb is not a queue table" in message and "ENGINE=InnoDB" in message
        assert "queue_wait('lib_innodb') returned NULL" in message
    finally:
        cursor.execute("DROP TABLE lib_innodb")


def test_the_second_of_several_tables_is_named_when_it_is_the_bad_one(
    dsn: str, jobs_table: str
) -> None:
    class Two(Nothing):
        tables = (jobs_table, "lib_missing")

    with (
        Two(dsn, timeout=0) as worker,
        pytest.raises(UnknownTableError, match=r"test\.lib_missing"),
    ):
        worker.run()


def test_a_table_dropped_while_working_raises_unknown_table_error(
    dsn: str, jobs_table: str, conn: Any
) -> None:
    with _job_on(jobs_table)(dsn, timeout=0) as worker:
        assert worker.run() is False
        conn.cursor().execute(f"DROP TABLE `{jobs_table}`")
        with pytest.raises(UnknownTableError, match=f"test.{jobs_table} does not exist"):
            worker.run()


def test_no_server_at_start_raises_server_gone_error_naming_the_server() -> None:
    port = free_port()
    worker = Nothing(f"mysql://root:secret@127.0.0.1:{port}/test", timeout=0)
    with pytest.raises(ServerGoneError) as caught:
        worker.run()
    assert f"cannot connect to mysql://root:***@127.0.0.1:{port}/test" in str(caught.value)
    assert "secret" not in str(caught.value)
    assert caught.value.errno == 2002 or caught.value.errno == 2003


def test_wait_for_server_keeps_trying_then_gives_up_with_server_gone_error() -> None:
    worker = Nothing(f"mysql://root@127.0.0.1:{free_port()}/test", timeout=0, wait_for_server=0.5)
    with pytest.raises(ServerGoneError):
        worker.run()


def test_a_lost_connection_without_reconnect_raises_server_gone_error(
    dsn: str, jobs_table: str, connect: Any
) -> None:
    worker = _job_on(jobs_table)(dsn, timeout=0, reconnect=False)
    worker.run()
    killer = connect()
    killer.cursor().execute(f"KILL {worker.connection.thread_id()}")
    with pytest.raises(ServerGoneError):
        worker.run()
    worker.close()


def test_a_handed_in_connection_once_lost_is_not_reopened(jobs_table: str, connect: Any) -> None:
    mine = connect()
    worker = _job_on(jobs_table)(mine, timeout=0)
    worker.run()
    connect().cursor().execute(f"KILL {mine.thread_id()}")
    with pytest.raises(ServerGoneError, match="cannot be reopened"):
        worker.run()


@pytest.mark.parametrize(
    "dsn",
    ["http://root@localhost/test", "mysql://root@localhost:port/test", "mysql://root@localhost"],
)
def test_a_malformed_dsn_is_refused_when_the_job_is_made(dsn: str) -> None:
    with pytest.raises(DSNError):
        Nothing(dsn)


def test_every_error_is_a_q4m_error() -> None:
    for cls in (DSNError, NotAQueueTableError, ServerGoneError, UnknownTableError):
        assert issubclass(cls, Q4MError)
