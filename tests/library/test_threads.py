"""Many workers at once, one connection each: no row twice, none lost."""

from __future__ import annotations

import threading
from typing import Any

import pytest

import q4m_fast

from conftest import count

THREADS = 8
JOBS_PER_THREAD = 10_000


class Collecting(q4m_fast.Job):
    table_name = "lib_many"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ids: list[int] = []

    def execute(self, job: Any) -> None:
        self.ids.append(job.id)


@pytest.mark.timeout(300)
def test_eight_threads_share_eighty_thousand_jobs_exactly_once(
    dsn: str, fresh_queue: Any, conn: Any
) -> None:
    fresh_queue("lib_many", "id INT NOT NULL, payload VARCHAR(32) NOT NULL")
    total = THREADS * JOBS_PER_THREAD
    assert (
        q4m_fast.enqueue_many(conn, "lib_many", ((i, f"payload {i}") for i in range(total)))
        == total
    )
    workers = [Collecting(dsn, timeout=1) for _ in range(THREADS)]
    threads = [
        threading.Thread(target=worker.work, kwargs={"stop_when_idle": True}) for worker in workers
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for worker in workers:
        worker.close()
    ids = [i for worker in workers for i in worker.ids]
    assert len(ids) == total  # none twice ...
    assert set(ids) == set(range(total))  # ... none lost
    assert count(conn, "lib_many") == 0
    assert sum(1 for worker in workers if worker.ids) > 1  # the work really was shared
