"""The job loop's protocol, read from the server's general log: one round trip per job."""

from __future__ import annotations

from typing import Any

import q4m_fast

from conftest import StatementLog

WAIT = "SELECT queue_wait('lib_jobs', 1); SELECT * FROM `lib_jobs` LIMIT 1"


class Flaky(q4m_fast.Job):
    table_name = "lib_jobs"

    def execute(self, job: Any) -> None:
        if job.v == "abort":
            self.queue_abort()


def _loop_queries(worker: Flaky, log: StatementLog, connection_id: int) -> list[str]:
    queries = log.queries_of(connection_id)
    layout = queries.index("SELECT * FROM `lib_jobs` LIMIT 0")  # learnt once, at connect
    return queries[layout + 1 :]


def test_steady_state_is_one_round_trip_per_job(
    dsn: str, jobs_table: str, conn: Any, statement_log: StatementLog
) -> None:
    q4m_fast.enqueue_many(conn, jobs_table, [(i, "ok") for i in range(5)])
    with statement_log as log:
        worker = Flaky(dsn, timeout=1)
        connection_id = worker.connection.thread_id()
        worker.work(max_jobs=5)
        worker.close()
    # each wait also ends the previous job; the last one is ended when work() stops
    assert _loop_queries(worker, log, connection_id) == [WAIT] * 5 + ["SELECT queue_end()"]


def test_after_an_abort_the_next_round_trip_returns_the_row_first(
    dsn: str, jobs_table: str, conn: Any, statement_log: StatementLog
) -> None:
    q4m_fast.enqueue_many(conn, jobs_table, [(1, "abort"), (2, "ok")])
    with statement_log as log:
        worker = Flaky(dsn, timeout=1)
        connection_id = worker.connection.thread_id()
        worker.work(max_jobs=2)  # 1 aborted, then 1 again (aborted again), ...
        worker.close()
    assert _loop_queries(worker, log, connection_id) == [
        WAIT,
        "SELECT queue_abort(); " + WAIT,
        "SELECT queue_abort()",
    ]


def test_several_tables_share_one_round_trip(
    dsn: str, fresh_queue: Any, conn: Any, statement_log: StatementLog
) -> None:
    fresh_queue("lib_a", "id INT NOT NULL")
    fresh_queue("lib_b", "id INT NOT NULL")

    class Two(q4m_fast.Job):
        tables = ("lib_a", "lib_b")

        def execute(self, job: Any) -> None:
            pass

    q4m_fast.enqueue(conn, "lib_b", (1,))
    with statement_log as log:
        worker = Two(dsn, timeout=2)
        connection_id = worker.connection.thread_id()
        worker.work(max_jobs=1)
        worker.close()
    assert (
        "SELECT queue_wait('lib_a', 'lib_b', 2); SELECT * FROM `lib_a` LIMIT 1; "
        "SELECT * FROM `lib_b` LIMIT 1"
    ) in log.queries_of(connection_id)
