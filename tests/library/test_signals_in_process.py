"""work() called in the main thread handles SIGTERM/SIGINT itself."""

from __future__ import annotations

import os
import signal
from typing import Any

import pytest

import q4m_fast

from conftest import visible


class SelfSignalling(q4m_fast.Job):
    """Sends its own process ``signals`` signals while running job 1."""

    table_name = "lib_jobs"
    signals = 1

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.finished: list[int] = []

    def execute(self, job: Any) -> None:
        if job.id == 1:
            for _ in range(self.signals):
                os.kill(os.getpid(), self.signum)
                for _ in range(1000):  # let the handler run between the two signals
                    pass
        self.finished.append(job.id)

    signum = signal.SIGTERM


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_work_after_the_current_job(
    dsn: str, jobs_table: str, conn: Any, signum: int
) -> None:
    q4m_fast.enqueue_many(conn, jobs_table, [(1, "a"), (2, "b")])
    previous = signal.getsignal(signum)
    with SelfSignalling(dsn, timeout=1) as worker:
        worker.signum = signum
        assert worker.work() == 1
    assert worker.finished == [1]
    assert visible(conn, jobs_table) == [(2, "b")]
    assert signal.getsignal(signum) is previous  # the handler was put back


def test_a_second_signal_interrupts_the_job_and_returns_its_row(
    dsn: str, jobs_table: str, conn: Any
) -> None:
    q4m_fast.enqueue(conn, jobs_table, (1, "a"))
    with SelfSignalling(dsn, timeout=1) as worker:
        worker.signals = 2
        with pytest.raises(SystemExit) as caught:
            worker.work()
    assert caught.value.code == 128 + signal.SIGTERM
    assert worker.finished == []
    assert visible(conn, jobs_table) == [(1, "a")]


def test_handle_signals_false_leaves_the_handlers_alone(dsn: str, jobs_table: str) -> None:
    previous = signal.getsignal(signal.SIGTERM)
    seen: list[Any] = []

    class Checking(q4m_fast.Job):
        table_name = "lib_jobs"

        def execute(self, job: Any) -> None:
            pass

        def on_idle(self) -> None:
            seen.append(signal.getsignal(signal.SIGTERM))

    with Checking(dsn, timeout=0) as worker:
        worker.work(stop_when_idle=True, handle_signals=False)
    assert seen == [previous]
