"""A demonstration: enqueue N no-op jobs, work them off with several threads, print the rates.

::

    python -m q4m_fast.demo --dsn mysql://root@127.0.0.1:3307/test --jobs 100000 --threads 4

It (re)creates the queue table ``q4m_fast_demo_jobs`` in the DSN's database and drops it at the
end. The rates depend on the server (flushing each consumption to disk or not) far more than on
this library.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from typing import Any, Sequence

from . import __version__, _impl
from .connection import connect
from .enqueue import enqueue_many
from .job import Job

TABLE = "q4m_fast_demo_jobs"


class DemoJob(Job):
    table_name = TABLE

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.executed = 0
        self.last_finished = 0.0

    def execute(self, job: Any) -> None:
        self.executed += 1  # per instance: every thread has its own, no lock needed
        self.last_finished = time.perf_counter()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m q4m_fast.demo", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--dsn", default=os.environ.get("Q4M_DSN"), help="default: $Q4M_DSN")
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=4)
    options = parser.parse_args(argv)
    if not options.dsn:
        parser.error("no DSN: pass --dsn or set Q4M_DSN")
    if options.jobs < 1 or options.threads < 1:
        parser.error("--jobs and --threads must be at least 1")

    connection = connect(options.dsn)
    cursor = connection.cursor()
    cursor.execute(f"DROP TABLE IF EXISTS `{TABLE}`")
    cursor.execute(
        f"CREATE TABLE `{TABLE}` (id BIGINT NOT NULL, payload VARCHAR(64) NOT NULL) ENGINE=QUEUE"
    )
    print(f"q4m_fast {__version__}, job loop: {_impl.name()}, {options.threads} thread(s)")

    started = time.perf_counter()
    enqueued = enqueue_many(
        connection, TABLE, ((i, f"job {i}") for i in range(options.jobs)), batch_size=1000
    )
    enqueue_seconds = time.perf_counter() - started
    print(
        f"enqueued  {enqueued:>9,} jobs in {enqueue_seconds:7.2f} s: "
        f"{enqueued / enqueue_seconds:>10,.0f} jobs/s (multi-row INSERTs of 1,000)"
    )

    workers = [DemoJob(options.dsn, timeout=1) for _ in range(options.threads)]
    threads = [
        threading.Thread(
            target=worker.work, kwargs={"stop_when_idle": True, "handle_signals": False}
        )
        for worker in workers
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    executed = sum(worker.executed for worker in workers)
    # up to the last job's end, not the idle wait each thread needs to notice the queue is empty
    work_seconds = max(worker.last_finished for worker in workers) - started
    for worker in workers:
        worker.close()
    print(
        f"processed {executed:>9,} jobs in {work_seconds:7.2f} s: "
        f"{executed / work_seconds:>10,.0f} jobs/s ({options.threads} worker thread(s))"
    )
    cursor.execute(f"SELECT COUNT(*) FROM `{TABLE}`")
    (left,) = cursor.fetchone()
    cursor.execute(f"DROP TABLE `{TABLE}`")
    connection.close()
    if executed != enqueued or left:
        print(f"error: {enqueued} enqueued, {executed} processed, {left} left", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
