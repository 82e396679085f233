"""run() and work(): taking rows, finishing them, stopping."""

from __future__ import annotations

import threading
from typing import Any

import pytest

import q4m_fast

from conftest import count, rows_of, visible


class Recorder(q4m_fast.Job):
    table_name = "lib_jobs"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen: list[Any] = []

    def execute(self, job: Any) -> None:
        self.seen.append(job)


def test_run_processes_one_job_and_deletes_its_row(dsn: str, jobs_table: str, conn: Any) -> None:
    q4m_fast.enqueue(conn, jobs_table, {"id": 1, "v": "one"})
    q4m_fast.enqueue(conn, jobs_table, {"id": 2, "v": "two"})
    with Recorder(dsn, timeout=1) as worker:
        assert worker.run() is True
        assert [tuple(row) for row in worker.seen] == [(1, "one")]
        # finished before run() returns: gone for good, not merely owned
        assert count(conn, jobs_table) == 1
        assert visible(conn, jobs_table) == [(2, "two")]


def test_run_returns_false_when_no_job_comes_within_the_timeout(dsn: str, jobs_table: str) -> None:
    with Recorder(dsn, timeout=1) as worker:
        assert worker.run() is False
        assert worker.seen == []


def test_the_row_is_a_tuple_readable_by_column_name(dsn: str, jobs_table: str, conn: Any) -> None:
    q4m_fast.enqueue(conn, jobs_table, {"id": 7, "v": "seven"})
    with Recorder(dsn, timeout=1) as worker:
        worker.run()
    (row,) = worker.seen
    assert isinstance(row, tuple) and row == (7, "seven")
    assert (row[0], row.id, row["id"], row.v, row["v"]) == (7, 7, 7, "seven", "seven")
    assert row._fields == ("id", "v") and row._asdict() == {"id": 7, "v": "seven"}
    assert repr(row) == "lib_jobs(id=7, v='seven')"


def test_work_processes_every_job_in_fifo_order(dsn: str, jobs_table: str, conn: Any) -> None:
    q4m_fast.enqueue_many(conn, jobs_table, [(i, f"v{i}") for i in range(50)])
    with Recorder(dsn, timeout=1) as worker:
        assert worker.work(stop_when_idle=True) == 50
    assert [row.id for row in worker.seen] == list(range(50))
    assert count(conn, jobs_table) == 0


def test_work_stops_after_max_jobs_and_leaves_the_rest(
    dsn: str, jobs_table: str, conn: Any
) -> None:
    q4m_fast.enqueue_many(conn, jobs_table, [(i, "x") for i in range(10)])
    with Recorder(dsn, timeout=1) as worker:
        assert worker.work(max_jobs=4) == 4
    assert [row.id for row in worker.seen] == [0, 1, 2, 3]
    assert [row[0] for row in visible(conn, jobs_table)] == [4, 5, 6, 7, 8, 9]


def test_work_stops_after_idle_timeout(dsn: str, jobs_table: str, conn: Any) -> None:
    q4m_fast.enqueue(conn, jobs_table, (1, "x"))
    with Recorder(dsn, timeout=1) as worker:
        assert worker.work(idle_timeout=1.5) == 1


def test_stop_from_another_thread_ends_work(dsn: str, jobs_table: str) -> None:
    worker = Recorder(dsn, timeout=1)
    stopper = threading.Timer(0.5, worker.stop)
    stopper.start()
    try:
        assert worker.work() == 0  # returns although no limit was given
    finally:
        stopper.cancel()
        worker.close()


def test_a_job_can_stop_the_worker_and_its_row_is_still_finished(
    dsn: str, jobs_table: str, conn: Any
) -> None:
    class StopAtThree(Recorder):
        def execute(self, job: Any) -> None:
            super().execute(job)
            if job.id == 3:
                self.stop()

    q4m_fast.enqueue_many(conn, jobs_table, [(i, "x") for i in range(1, 6)])
    with StopAtThree(dsn, timeout=1) as worker:
        assert worker.work() == 3
    assert [row[0] for row in visible(conn, jobs_table)] == [4, 5]


def test_the_connection_is_usable_by_mysqldb_after_work(
    dsn: str, jobs_table: str, conn: Any
) -> None:
    q4m_fast.enqueue_many(conn, jobs_table, [(1, "a"), (2, "b")])
    with Recorder(dsn, timeout=1) as worker:
        worker.work(max_jobs=1)
        # no "Commands out of sync": every result of the loop's batches was read
        assert rows_of(worker.connection, "SELECT 1, 'still fine'") == [(1, "still fine")]
        worker.work(max_jobs=1)
    assert [row.id for row in worker.seen] == [1, 2]


def test_a_mysqldb_connection_can_be_handed_in_and_stays_open(
    jobs_table: str, conn: Any, connect: Any
) -> None:
    mine = connect()
    q4m_fast.enqueue(conn, jobs_table, (5, "e"))
    worker = Recorder(mine, timeout=1)
    assert worker.run() is True
    worker.close()
    assert rows_of(mine, "SELECT 2") == [(2,)]  # not closed: it is the caller's
    assert count(conn, jobs_table) == 0


def test_a_job_can_enqueue_follow_up_jobs_on_the_worker_connection(
    dsn: str, jobs_table: str, fresh_queue: Any, conn: Any
) -> None:
    follow_ups = fresh_queue("lib_follow_ups", "id INT NOT NULL")

    class Spawner(Recorder):
        def execute(self, job: Any) -> None:
            super().execute(job)
            q4m_fast.enqueue(self.connection, follow_ups, (job.id * 10,))

    q4m_fast.enqueue_many(conn, jobs_table, [(1, "a"), (2, "b")])
    with Spawner(dsn, timeout=1) as worker:
        assert worker.work(stop_when_idle=True) == 2
    assert visible(conn, follow_ups) == [(10,), (20,)]


def test_work_counts_jobs_executed(dsn: str, jobs_table: str, conn: Any) -> None:
    q4m_fast.enqueue_many(conn, jobs_table, [(i, "x") for i in range(3)])
    with Recorder(dsn, timeout=1) as worker:
        worker.work(stop_when_idle=True)
        assert worker.jobs_executed == 3


def test_negative_max_jobs_is_refused(dsn: str, jobs_table: str) -> None:
    with pytest.raises(ValueError):
        Recorder(dsn).work(max_jobs=-1)
