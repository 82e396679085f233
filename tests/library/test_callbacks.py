"""Callbacks: overridable methods, and functions registered with on()."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import q4m_fast

from conftest import visible


class Traced(q4m_fast.Job):
    """Records every callback as (event, arguments...)."""

    table_name = "lib_jobs"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.events: list[tuple[Any, ...]] = []

    def execute(self, job: Any) -> None:
        self.events.append(("execute", job.id))
        if job.v == "abort":
            self.queue_abort()
        if job.v == "raise":
            raise ValueError("bad row")

    def before_execute(self, job: Any) -> None:
        self.events.append(("before_execute", job.id))

    def after_execute(self, job: Any, duration: float) -> None:
        assert duration >= 0
        self.events.append(("after_execute", job.id))

    def on_success(self, job: Any, duration: float) -> None:
        assert duration >= 0
        self.events.append(("success", job.id))

    def on_abort(self, job: Any, duration: float) -> None:
        self.events.append(("abort", job.id))

    def on_error(self, job: Any, exception: Exception, duration: float) -> None:
        self.events.append(("error", job.id, str(exception)))

    def on_idle(self) -> None:
        self.events.append(("idle",))

    def on_start(self) -> None:
        self.events.append(("start",))

    def on_stop(self) -> None:
        self.events.append(("stop",))


def _one_job(dsn: str, conn: Any, table: str, v: str) -> list[tuple[Any, ...]]:
    q4m_fast.enqueue(conn, table, (1, v))
    with Traced(dsn, timeout=1) as worker:
        worker.work(max_jobs=1)
    return worker.events


def test_a_successful_job_calls_before_success_after(dsn: str, jobs_table: str, conn: Any) -> None:
    assert _one_job(dsn, conn, jobs_table, "ok") == [
        ("start",),
        ("before_execute", 1),
        ("execute", 1),
        ("success", 1),
        ("after_execute", 1),
        ("stop",),
    ]


def test_an_aborted_job_calls_on_abort(dsn: str, jobs_table: str, conn: Any) -> None:
    assert _one_job(dsn, conn, jobs_table, "abort") == [
        ("start",),
        ("before_execute", 1),
        ("execute", 1),
        ("abort", 1),
        ("after_execute", 1),
        ("stop",),
    ]


def test_a_failed_job_calls_on_error_with_the_exception(
    dsn: str, jobs_table: str, conn: Any
) -> None:
    assert _one_job(dsn, conn, jobs_table, "raise") == [
        ("start",),
        ("before_execute", 1),
        ("execute", 1),
        ("error", 1, "bad row"),
        ("after_execute", 1),
        ("stop",),
    ]


def test_an_empty_wait_calls_on_idle(dsn: str, jobs_table: str) -> None:
    with Traced(dsn, timeout=1) as worker:
        worker.work(stop_when_idle=True)
    assert worker.events == [("start",), ("idle",), ("stop",)]


def test_functions_registered_with_on_get_the_job_first(
    dsn: str, jobs_table: str, conn: Any
) -> None:
    calls: list[tuple[Any, ...]] = []
    q4m_fast.enqueue_many(conn, jobs_table, [(1, "ok"), (2, "raise")])
    worker = Traced(dsn, timeout=1)
    worker.on("success", lambda w, job, duration: calls.append(("success", w is worker, job.id)))

    @worker.on("error")
    def failed(w: Any, job: Any, exception: Exception, duration: float) -> None:
        calls.append(("error", w is worker, job.id, type(exception).__name__))

    worker.on(
        "after_execute", lambda w, job, duration: calls.append(("after", job.id, duration >= 0))
    )
    with worker:
        worker.work(max_jobs=2)
    assert calls == [
        ("success", True, 1),
        ("after", 1, True),
        ("error", True, 2, "ValueError"),
        ("after", 2, True),
    ]


def test_registering_an_unknown_event_is_an_error(dsn: str) -> None:
    with pytest.raises(ValueError, match="unknown event 'finish'"):
        Traced(dsn).on("finish", print)


def test_a_raising_callback_is_logged_and_the_worker_goes_on(
    dsn: str, jobs_table: str, conn: Any, caplog: pytest.LogCaptureFixture
) -> None:
    q4m_fast.enqueue_many(conn, jobs_table, [(1, "ok"), (2, "ok")])
    worker = Traced(dsn, timeout=1)

    def broken(w: Any, job: Any, duration: float) -> None:
        raise RuntimeError("callback bug")

    worker.on("success", broken)
    with caplog.at_level(logging.ERROR, logger="q4m_fast"), worker:
        assert worker.work(stop_when_idle=True) == 2
    assert visible(conn, jobs_table) == []  # the jobs still succeeded
    assert sum("callback" in r.getMessage() for r in caplog.records) == 2


def test_before_execute_raising_counts_as_the_job_failing(
    dsn: str, jobs_table: str, conn: Any
) -> None:
    class Refusing(Traced):
        def before_execute(self, job: Any) -> None:
            raise PermissionError("not now")

    q4m_fast.enqueue(conn, jobs_table, (1, "ok"))
    with Refusing(dsn, timeout=1) as worker:
        worker.run()
    assert ("execute", 1) not in worker.events
    assert ("error", 1, "not now") in worker.events
    assert visible(conn, jobs_table) == [(1, "ok")]
