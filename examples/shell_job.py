"""The README's example: shell commands from a queue table, run by a worker.

    CREATE TABLE shell_jobs (command VARCHAR(1024) NOT NULL) ENGINE=QUEUE;

    q4m-fast enqueue shell_jobs '{"command": "echo hello"}' --dsn mysql://root@127.0.0.1:3307/test
    python examples/shell_job.py --dsn mysql://root@127.0.0.1:3307/test
    # or, from this directory, with threads and processes:
    q4m-fast work shell_job:ShellJob --dsn mysql://root@127.0.0.1:3307/test --threads 4

A command that fails (non-zero exit) goes back to the queue and is tried again: nothing is lost.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess

import q4m_fast


class ShellJob(q4m_fast.Job):  # table defaults to "shell_jobs"
    def execute(self, job):  # job = the owned row: a tuple, also readable by column name
        if subprocess.call(job.command, shell=True) != 0:
            self.queue_abort()  # the row goes back to the queue; nothing is lost


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the shell commands queued in shell_jobs.")
    parser.add_argument("--dsn", default=os.environ.get("Q4M_DSN"), help="default: $Q4M_DSN")
    parser.add_argument(
        "--stop-when-idle", action="store_true", help="exit once the queue is empty"
    )
    options = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    worker = ShellJob(options.dsn, logger=logging.getLogger("jobs"), timeout=5)
    with worker:
        done = worker.work(stop_when_idle=options.stop_when_idle)  # until SIGINT/SIGTERM
    logging.getLogger("jobs").info("%d job(s) run", done)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
