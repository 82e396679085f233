"""The q4m-fast command, end to end, with real worker processes and real signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

import q4m_fast

from conftest import HERE, count, eventually, rows_of, visible
from library_jobs import LOG, LOG_COLUMNS, QUEUE, QUEUE_COLUMNS

CONSOLE_SCRIPT = Path(sys.executable).with_name("q4m-fast")
WAIT_FOR_EXIT = 60  # only so that a broken test cannot hang: never a timing assertion


@pytest.fixture
def cli_tables(fresh_queue: Any, conn: Any) -> None:
    fresh_queue(QUEUE, QUEUE_COLUMNS)
    cursor = conn.cursor()
    cursor.execute(f"DROP TABLE IF EXISTS {LOG}")
    cursor.execute(f"CREATE TABLE {LOG} ({LOG_COLUMNS}) ENGINE=InnoDB")
    yield
    cursor.execute(f"DROP TABLE IF EXISTS {LOG}")


def _phases(conn: Any, phase: str) -> list[int]:
    return [
        row[0]
        for row in rows_of(conn, f"SELECT id FROM {LOG} WHERE phase = %s ORDER BY id", (phase,))
    ]


class Worker:
    """A ``q4m-fast work`` process whose output is collected as it comes."""

    def __init__(self, dsn: str, *options: str) -> None:
        self.process = subprocess.Popen(
            [
                str(CONSOLE_SCRIPT),
                "work",
                "library_jobs:LoggedJob",
                "--dsn",
                dsn,
                "--timeout",
                "1",
                *options,
            ],
            cwd=HERE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def send(self, signum: int, expect_in_output: str | None = None) -> None:
        """Send ``signum``; with ``expect_in_output``, wait until the process has handled it
        (two signals sent back to back may reach Python's handler as one)."""
        self.process.send_signal(signum)
        if expect_in_output is not None:
            eventually(
                lambda: expect_in_output in self.output, f"{expect_in_output!r} in the output"
            )

    def signal_twice(self, signum: int = signal.SIGTERM) -> None:
        name = signal.Signals(signum).name
        self.send(signum, f"{name}: ")
        self.send(signum)

    def finish(self) -> tuple[int, str]:
        self.process.wait(timeout=WAIT_FOR_EXIT)
        self._reader.join(WAIT_FOR_EXIT)
        return self.process.returncode, self.output

    def kill(self) -> None:
        self.process.kill()
        self.finish()


def _start_worker(dsn: str, *options: str) -> Worker:
    return Worker(dsn, *options)


def _finish(worker: Worker) -> tuple[int, str]:
    return worker.finish()


def test_version_is_printed() -> None:
    done = subprocess.run([str(CONSOLE_SCRIPT), "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == f"q4m-fast {q4m_fast.__version__}"


def test_python_dash_m_runs_the_same_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "q4m_fast", "--version"], capture_output=True, text=True
    )
    assert done.stdout.strip() == f"q4m-fast {q4m_fast.__version__}"


def test_enqueue_command_inserts_json_rows(dsn: str, conn: Any, cli_tables: None) -> None:
    done = subprocess.run(
        [
            str(CONSOLE_SCRIPT),
            "enqueue",
            QUEUE,
            '{"id": 1, "sleep_seconds": 0}',
            "[2, 0.5]",
            "--dsn",
            dsn,
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert visible(conn, QUEUE) == [(1, 0.0), (2, 0.5)]


def test_enqueue_command_reads_rows_from_stdin(dsn: str, conn: Any, cli_tables: None) -> None:
    done = subprocess.run(
        [str(CONSOLE_SCRIPT), "enqueue", QUEUE, "--dsn", dsn],
        input='{"id": 3, "sleep_seconds": 0}\n\n[4, 0]\n',
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert [row[0] for row in visible(conn, QUEUE)] == [3, 4]


def test_work_with_threads_and_processes_runs_every_job_once(
    dsn: str, conn: Any, cli_tables: None
) -> None:
    q4m_fast.enqueue_many(conn, QUEUE, [(i, 0) for i in range(300)])
    process = _start_worker(dsn, "--threads", "3", "--processes", "2", "--stop-when-idle")
    code, output = _finish(process)
    assert code == 0, output
    assert _phases(conn, "end") == list(range(300))
    assert count(conn, QUEUE) == 0
    assert len({row[0] for row in rows_of(conn, f"SELECT pid FROM {LOG}")}) <= 2  # two processes


def test_max_jobs_stops_each_worker_after_that_many(dsn: str, conn: Any, cli_tables: None) -> None:
    q4m_fast.enqueue_many(conn, QUEUE, [(i, 0) for i in range(10)])
    code, output = _finish(_start_worker(dsn, "--threads", "2", "--max-jobs", "3"))
    assert code == 0, output
    assert len(_phases(conn, "end")) == 6
    assert count(conn, QUEUE) == 4


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_finishes_the_current_job_then_exits_0(
    dsn: str, conn: Any, cli_tables: None, signum: int
) -> None:
    q4m_fast.enqueue_many(conn, QUEUE, [(1, 1.5), (2, 0)])
    process = _start_worker(dsn)
    eventually(lambda: _phases(conn, "start") == [1], "job 1 to start")
    process.send(signum)
    code, output = _finish(process)
    assert code == 0, output
    assert _phases(conn, "end") == [1]  # the current job was finished ...
    assert visible(conn, QUEUE) == [(2, 0.0)]  # ... and consumed; no new one was taken


def test_a_second_signal_returns_the_current_job_and_exits_at_once(
    dsn: str, conn: Any, cli_tables: None
) -> None:
    q4m_fast.enqueue(conn, QUEUE, (1, 600))
    process = _start_worker(dsn, "--threads", "2")
    eventually(lambda: _phases(conn, "start") == [1], "job 1 to start")
    process.signal_twice(signal.SIGTERM)
    code, output = _finish(process)
    assert code == 128 + signal.SIGTERM, output
    assert "second SIGTERM" in output
    assert _phases(conn, "end") == []
    eventually(lambda: visible(conn, QUEUE) == [(1, 600.0)], "the row to be back in the queue")


def test_a_killed_worker_process_returns_its_row(dsn: str, conn: Any, cli_tables: None) -> None:
    q4m_fast.enqueue(conn, QUEUE, (1, 600))
    process = _start_worker(dsn)
    eventually(lambda: _phases(conn, "start") == [1], "job 1 to start")
    assert visible(conn, QUEUE) == []  # owned by the worker: nobody else sees it
    process.kill()
    eventually(lambda: visible(conn, QUEUE) == [(1, 600.0)], "the row to be back in the queue")


def test_a_killed_child_process_is_replaced(dsn: str, conn: Any, cli_tables: None) -> None:
    q4m_fast.enqueue(conn, QUEUE, (1, 600))
    process = _start_worker(dsn, "--processes", "2")
    (victim,) = eventually(
        lambda: [r[0] for r in rows_of(conn, f"SELECT pid FROM {LOG}")], "job 1 to start"
    )
    os.kill(victim, signal.SIGKILL)
    # the row comes back, and a worker (the other child, or the replacement) takes it again
    eventually(
        lambda: [r[0] for r in rows_of(conn, f"SELECT pid FROM {LOG} WHERE pid <> %s", (victim,))],
        "job 1 to start again in another process",
    )
    eventually(lambda: "exited with signal SIGKILL; restarting it" in process.output, "a restart")
    eventually(lambda: process.output.count("working off") == 3, "the new child to start")
    process.signal_twice(signal.SIGTERM)  # twice: do not wait 600 s for the job
    code, _ = _finish(process)
    assert code == 128 + signal.SIGTERM


def test_an_unknown_table_exits_2_with_a_clear_message(dsn: str, fresh_queue: Any) -> None:
    code, output = _finish(_start_worker(dsn))  # lib_cli_jobs does not exist here
    assert code == 2, output
    assert f"table test.{QUEUE} does not exist" in output


def test_a_bad_target_exits_2(dsn: str) -> None:
    done = subprocess.run(
        [str(CONSOLE_SCRIPT), "work", "library_jobs:NoSuchClass", "--dsn", dsn],
        cwd=HERE,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "NoSuchClass" in done.stderr


def test_no_dsn_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {k: v for k, v in os.environ.items() if k != "Q4M_DSN"}
    done = subprocess.run(
        [str(CONSOLE_SCRIPT), "work", "library_jobs:LoggedJob"],
        cwd=HERE,
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 2 and "no DSN" in done.stderr
