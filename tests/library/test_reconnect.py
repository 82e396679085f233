"""A server restart under a running worker: it reconnects and goes on (at least once)."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest

import q4m_fast

from conftest import eventually, rows_of

TABLE = "lib_restart"


class Remembering(q4m_fast.Job):
    table_name = TABLE

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ids: list[int] = []
        self.reconnects: list[Exception] = []
        self.release = threading.Event()
        self.release.set()
        self.started = threading.Event()

    def execute(self, job: Any) -> None:
        self.started.set()
        self.release.wait(60)
        self.ids.append(job.id)

    def on_reconnect(self, exception: Exception) -> None:
        self.reconnects.append(exception)


def _create_queue(server: Any) -> None:
    conn = server.connect()
    conn.cursor().execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (id INT NOT NULL) ENGINE=QUEUE")
    conn.close()


def _enqueue(server: Any, ids: range) -> None:
    conn = server.connect()
    q4m_fast.enqueue_many(conn, TABLE, [(i,) for i in ids])
    conn.close()


def _in_thread(worker: Remembering) -> threading.Thread:
    thread = threading.Thread(target=worker.work, daemon=True)
    thread.start()
    return thread


@pytest.mark.timeout(180)
def test_a_worker_reconnects_after_a_server_restart_and_goes_on(
    crash_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    _create_queue(crash_server)
    worker = Remembering(crash_server.dsn, timeout=1)
    caplog.set_level(logging.WARNING, logger="q4m_fast")
    thread = _in_thread(worker)
    _enqueue(crash_server, range(10))
    eventually(lambda: len(worker.ids) == 10, "the first ten jobs")
    crash_server.kill9()
    crash_server.start()
    _enqueue(crash_server, range(10, 20))
    eventually(lambda: len(set(worker.ids)) == 20, "the next ten jobs, after the restart")
    worker.stop()
    thread.join(30)
    assert not thread.is_alive()
    assert worker.reconnects and isinstance(worker.reconnects[0], q4m_fast.errors.ServerGoneError)
    messages = [record.getMessage() for record in caplog.records]
    assert any(message.startswith("reconnected to") for message in messages)
    conn = crash_server.connect()
    assert rows_of(conn, f"SELECT COUNT(*) FROM {TABLE}") == [(0,)]
    conn.close()


@pytest.mark.timeout(180)
def test_a_job_whose_connection_died_during_execute_runs_again(
    crash_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    _create_queue(crash_server)
    worker = Remembering(crash_server.dsn, timeout=1)
    worker.release.clear()  # the first job blocks until we let it go
    caplog.set_level(logging.WARNING, logger="q4m_fast")
    _enqueue(crash_server, range(1))
    thread = _in_thread(worker)
    assert worker.started.wait(60)
    crash_server.kill9()  # the row was owned, never consumed: it survives the crash
    crash_server.start()
    worker.release.set()  # execute returns; ending the job fails: the connection is gone
    eventually(lambda: worker.ids == [0, 0], "job 0 to run a second time")
    worker.stop()
    thread.join(30)
    assert any("will run again (at-least-once)" in r.getMessage() for r in caplog.records)


def test_wait_for_server_connects_once_the_server_is_up(crash_server: Any) -> None:
    _create_queue(crash_server)
    crash_server.stop()
    worker = Remembering(crash_server.dsn, timeout=1, wait_for_server=120)
    _starter = threading.Timer(1.0, crash_server.start)
    _starter.start()
    try:
        assert worker.run() is False  # connected (eventually), waited, nothing there
    finally:
        _starter.join()
        worker.close()
