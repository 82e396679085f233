"""Running workers for real: N threads in a process, M such processes, and shutdown by signal.

Signals (SIGTERM from an orchestrator, SIGINT from a terminal):

* the first: every worker stops taking jobs, finishes the one it has, ends it, and the process
  exits 0;
* a second: exit at once (status 128 + signal). Rows being worked on go back to the queue because
  the server releases the rows of a connection that closes (Q4M's disconnect rule).

With several processes the parent forwards signals to its children, which run in their own
session so that a terminal's Ctrl-C reaches only the parent (else every child would see the first
signal twice: from the terminal and from the parent). A child whose parent dies stops by itself.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import suppress
from typing import Any, Callable

from .backoff import Backoff
from .errors import Q4MError, ServerGoneError
from .job import Job

__all__ = [
    "run_threads",
    "supervise_processes",
    "child_command",
    "EXIT_OK",
    "EXIT_CRASHED",
    "EXIT_CONFIG",
]

EXIT_OK = 0
EXIT_CRASHED = 1  # a worker died of an unexpected exception
EXIT_CONFIG = 2  # a worker cannot work at all: bad DSN, unknown table, not a queue table...

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
POLL_SECONDS = 0.2


def _forced_exit(signum: int, logger: logging.Logger) -> None:
    logger.warning(
        "second %s: exiting now; the rows in progress go back to the queue",
        signal.Signals(signum).name,
    )
    logging.shutdown()  # flush the log handlers: os._exit skips that
    os._exit(128 + signum)


def run_threads(
    make_job: Callable[[], Job],
    threads: int,
    work_options: dict[str, Any],
    logger: logging.Logger,
    parent_pid: int | None = None,
) -> int:
    """Run ``threads`` workers, each with its own job instance and connection; an exit status."""
    jobs = [make_job() for _ in range(threads)]
    failures: list[BaseException] = []
    received: list[int] = []

    def stop_all() -> None:
        for job in jobs:
            job.stop()

    def on_signal(signum: int, frame: Any) -> None:
        received.append(signum)
        if len(received) > 1:
            _forced_exit(signum, logger)
        logger.info("%s: finishing the current jobs, then exiting", signal.Signals(signum).name)
        stop_all()

    def work(job: Job) -> None:
        # signals go to the main thread only: a worker blocked in a read must not get EINTR
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            job.work(handle_signals=False, **work_options)
        except BaseException as exc:
            logger.exception("worker %s stopped by an error", threading.current_thread().name)
            failures.append(exc)
            stop_all()
        finally:
            job.close()

    previous = {signum: signal.signal(signum, on_signal) for signum in STOP_SIGNALS}
    try:
        workers = [
            threading.Thread(target=work, args=(job,), name=f"worker-{i}", daemon=True)
            for i, job in enumerate(jobs)
        ]
        for thread in workers:
            thread.start()
        for thread in workers:
            while thread.is_alive():
                thread.join(POLL_SECONDS)
                if parent_pid is not None and os.getppid() != parent_pid and not received:
                    logger.warning("the parent process is gone; stopping")
                    received.append(signal.SIGTERM)
                    stop_all()
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
    if not failures:
        return EXIT_OK
    if all(isinstance(exc, Q4MError) and not isinstance(exc, ServerGoneError) for exc in failures):
        return EXIT_CONFIG
    return EXIT_CRASHED


class _Child:
    def __init__(self, slot: int, argv: list[str]) -> None:
        self.slot = slot
        self.argv = argv
        self.backoff = Backoff(initial=0.5, cap=30.0)
        self.process: subprocess.Popen[bytes] | None = None
        self.started = 0.0
        self.restart_at: float | None = None
        self.finished = False

    def start(self) -> None:
        self.process = subprocess.Popen(self.argv, start_new_session=True)
        self.started = time.monotonic()
        self.restart_at = None


def supervise_processes(child_argv: list[str], processes: int, logger: logging.Logger) -> int:
    """Run ``processes`` copies of ``child_argv``; restart the ones that die; an exit status.

    A child that exits 0 (max jobs, idle) or with EXIT_CONFIG is not restarted; EXIT_CONFIG
    stops the others too, since they would fail the same way.
    """
    children = [_Child(slot, child_argv) for slot in range(processes)]
    received: list[int] = []
    status = EXIT_OK

    def forward(signum: int) -> None:
        for child in children:
            if child.process is not None and child.process.poll() is None:
                with suppress(ProcessLookupError):
                    child.process.send_signal(signum)

    def on_signal(signum: int, frame: Any) -> None:
        received.append(signum)
        if len(received) == 1:
            logger.info("%s: stopping the worker processes", signal.Signals(signum).name)
        forward(signum)

    previous = {signum: signal.signal(signum, on_signal) for signum in STOP_SIGNALS}
    try:
        for child in children:
            child.start()
        while not all(child.finished for child in children):
            time.sleep(POLL_SECONDS)
            for child in children:
                if child.finished:
                    continue
                if child.restart_at is not None:
                    if received:
                        child.finished = True
                    elif time.monotonic() >= child.restart_at:
                        child.start()
                    continue
                assert child.process is not None
                code = child.process.poll()
                if code is None:
                    continue
                if received or code == EXIT_OK:
                    child.finished = True
                    if code != EXIT_OK and len(received) < 2:
                        status = max(status, EXIT_CRASHED)
                elif code == EXIT_CONFIG:
                    logger.error(
                        "worker process %d cannot work (exit %d); stopping", child.slot, code
                    )
                    child.finished = True
                    status = EXIT_CONFIG
                    received.append(signal.SIGTERM)
                    forward(signal.SIGTERM)
                else:
                    if time.monotonic() - child.started > 60:
                        child.backoff.reset()  # it had been running well: restart promptly
                    delay = child.backoff.next_delay()
                    logger.error(
                        "worker process %d (pid %d) exited with %s; restarting it in %.1f s",
                        child.slot,
                        child.process.pid,
                        _describe_exit(code),
                        delay,
                    )
                    child.restart_at = time.monotonic() + delay
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
    if len(received) > 1:
        return 128 + received[-1]
    return status


def _describe_exit(code: int) -> str:
    if code < 0:
        return f"signal {signal.Signals(-code).name}"
    return f"status {code}"


def child_command(arguments: list[str]) -> list[str]:
    """The command line that runs one worker process of ours with ``arguments``."""
    return [sys.executable, "-m", "q4m_fast", *arguments]
