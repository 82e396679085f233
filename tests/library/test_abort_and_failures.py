"""queue_abort() inside execute, and execute raising: the row goes back, the worker goes on."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import q4m_fast

from conftest import count, visible


class FailingOnce(q4m_fast.Job):
    """Fails (or aborts) the first time it sees each id, succeeds the second time."""

    table_name = "lib_jobs"
    how = "raise"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.attempts: list[int] = []

    def execute(self, job: Any) -> None:
        first = job.id not in self.attempts
        self.attempts.append(job.id)
        if first and self.how == "raise":
            raise RuntimeError(f"boom on {job.id}")
        if first:
            self.queue_abort()


def test_queue_abort_returns_the_row_to_the_queue(dsn: str, jobs_table: str, conn: Any) -> None:
    q4m_fast.enqueue(conn, jobs_table, (1, "a"))
    with FailingOnce(dsn, timeout=1) as worker:
        worker.how = "abort"
        assert worker.run() is True
        assert visible(conn, jobs_table) == [(1, "a")]  # back, and visible to everybody


def test_an_aborted_row_comes_back_first_and_runs_again(
    dsn: str, jobs_table: str, conn: Any
) -> None:
    q4m_fast.enqueue_many(conn, jobs_table, [(1, "a"), (2, "b")])
    with FailingOnce(dsn, timeout=1) as worker:
        worker.how = "abort"
        assert worker.work(stop_when_idle=True) == 4
    # Q4M keeps an aborted row at its place: it is the oldest, so it is next
    assert worker.attempts == [1, 1, 2, 2]
    assert count(conn, jobs_table) == 0


def test_an_exception_in_execute_returns_the_row_and_the_worker_goes_on(
    dsn: str, jobs_table: str, conn: Any
) -> None:
    q4m_fast.enqueue_many(conn, jobs_table, [(1, "a"), (2, "b")])
    with FailingOnce(dsn, timeout=1) as worker:
        assert worker.work(stop_when_idle=True) == 4
    assert worker.attempts == [1, 1, 2, 2]
    assert count(conn, jobs_table) == 0


def test_an_exception_in_execute_is_logged_with_its_traceback(
    dsn: str, jobs_table: str, conn: Any, caplog: pytest.LogCaptureFixture
) -> None:
    q4m_fast.enqueue(conn, jobs_table, (1, "a"))
    with (
        caplog.at_level(logging.ERROR, logger="jobs"),
        FailingOnce(dsn, timeout=1, logger=logging.getLogger("jobs")) as worker,
    ):
        worker.run()
    (record,) = [r for r in caplog.records if r.name == "jobs"]
    assert "lib_jobs" in record.getMessage() and "goes back to the queue" in record.getMessage()
    assert record.exc_info is not None and str(record.exc_info[1]) == "boom on 1"
    assert visible(conn, jobs_table) == [(1, "a")]


def test_queue_abort_outside_execute_is_an_error(dsn: str, jobs_table: str) -> None:
    with pytest.raises(RuntimeError, match="inside execute"):
        FailingOnce(dsn).queue_abort()


def test_keyboard_interrupt_in_execute_returns_the_row_and_propagates(
    dsn: str, jobs_table: str, conn: Any
) -> None:
    class Interrupted(q4m_fast.Job):
        table_name = "lib_jobs"

        def execute(self, job: Any) -> None:
            raise KeyboardInterrupt

    q4m_fast.enqueue(conn, jobs_table, (1, "a"))
    with Interrupted(dsn, timeout=1) as worker, pytest.raises(KeyboardInterrupt):
        worker.work()
    assert visible(conn, jobs_table) == [(1, "a")]
