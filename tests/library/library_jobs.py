"""Job classes that the CLI tests start in real worker processes (``library_jobs:LoggedJob``).

Each job notes its start and end in an InnoDB table, on the worker's own connection, so a test
can see from outside what ran, where, and how far it got.
"""

from __future__ import annotations

import os
import time
from typing import Any

import q4m_fast

QUEUE = "lib_cli_jobs"
LOG = "lib_cli_log"
QUEUE_COLUMNS = "id INT NOT NULL, sleep_seconds DOUBLE NOT NULL"
LOG_COLUMNS = "id INT NOT NULL, phase VARCHAR(5) NOT NULL, pid INT NOT NULL"


class LoggedJob(q4m_fast.Job):
    table_name = QUEUE

    def execute(self, job: Any) -> None:
        self._note(job.id, "start")
        time.sleep(job.sleep_seconds)
        self._note(job.id, "end")

    def _note(self, job_id: int, phase: str) -> None:
        cursor = self.connection.cursor()
        cursor.execute(f"INSERT INTO {LOG} VALUES (%s, %s, %s)", (job_id, phase, os.getpid()))
        cursor.close()
