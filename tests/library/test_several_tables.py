"""Several tables in priority order, and Q4M conditions passed through."""

from __future__ import annotations

from typing import Any

import pytest

import q4m_fast
from q4m_fast.errors import ConditionError

from conftest import visible


class Prioritised(q4m_fast.Job):
    tables = ("lib_urgent", "lib_normal")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen: list[tuple[str | None, Any]] = []

    def execute(self, job: Any) -> None:
        self.seen.append((self.current_table, tuple(job)))


@pytest.fixture
def two_tables(fresh_queue: Any) -> None:
    fresh_queue("lib_urgent", "id INT NOT NULL, reason VARCHAR(20)")
    fresh_queue("lib_normal", "id INT NOT NULL, payload VARBINARY(20), extra INT")


def test_the_first_table_wins_whenever_both_have_rows(
    dsn: str, two_tables: None, conn: Any
) -> None:
    q4m_fast.enqueue_many(conn, "lib_normal", [(1, b"n1", None), (2, b"n2", 5)])
    q4m_fast.enqueue_many(conn, "lib_urgent", [(10, "u1"), (11, "u2")])
    with Prioritised(dsn, timeout=1) as worker:
        assert worker.work(stop_when_idle=True) == 4
    assert worker.seen == [
        ("lib_urgent", (10, "u1")),
        ("lib_urgent", (11, "u2")),
        ("lib_normal", (1, b"n1", None)),
        ("lib_normal", (2, b"n2", 5)),
    ]


def test_each_table_gives_rows_of_its_own_columns(dsn: str, two_tables: None, conn: Any) -> None:
    q4m_fast.enqueue(conn, "lib_normal", {"id": 1, "payload": b"p", "extra": 3})
    q4m_fast.enqueue(conn, "lib_urgent", {"id": 2, "reason": "fire"})
    rows: list[Any] = []

    class Both(Prioritised):
        def execute(self, job: Any) -> None:
            rows.append(job)

    with Both(dsn, timeout=1) as worker:
        worker.work(stop_when_idle=True)
    assert [row._fields for row in rows] == [("id", "reason"), ("id", "payload", "extra")]
    assert rows[0].reason == "fire" and rows[1].payload == b"p"


def test_a_failed_job_of_the_second_table_goes_back_to_it(
    dsn: str, two_tables: None, conn: Any
) -> None:
    class AbortNormal(Prioritised):
        def execute(self, job: Any) -> None:
            super().execute(job)
            if self.current_table == "lib_normal":
                self.queue_abort()

    q4m_fast.enqueue(conn, "lib_normal", (1, b"x", None))
    with AbortNormal(dsn, timeout=1) as worker:
        worker.run()
    assert visible(conn, "lib_normal") == [(1, b"x", None)]


def test_a_condition_is_passed_to_queue_wait_unchanged(
    dsn: str, fresh_queue: Any, statement_log: Any
) -> None:
    """The server's general log shows the exact text queue_wait received."""
    fresh_queue("lib_prio", "id INT NOT NULL, prio INT NOT NULL")

    class Conditional(q4m_fast.Job):
        tables = ("lib_prio:prio=0 AND id>=0", "lib_prio:prio=1")

        def execute(self, job: Any) -> None:
            pass

    with statement_log as log, Conditional(dsn, timeout=0) as worker:
        connection_id = worker.connection.thread_id()
        worker.run()
    (sent,) = [q for q in log.queries_of(connection_id) if "queue_wait" in q]
    assert sent.startswith("SELECT queue_wait('lib_prio:prio=0 AND id>=0', 'lib_prio:prio=1', 0)")


def test_a_refused_condition_raises_condition_error_naming_it(dsn: str, fresh_queue: Any) -> None:
    fresh_queue("lib_prio", "id INT NOT NULL, prio INT NOT NULL")

    class Bad(q4m_fast.Job):
        table_name = "lib_prio:no_such_column=1"

        def execute(self, job: Any) -> None:
            pass

    with Bad(dsn, timeout=0) as worker, pytest.raises(ConditionError) as caught:
        worker.run()
    assert "'no_such_column=1'" in str(caught.value) and "test.lib_prio" in str(caught.value)
    assert caught.value.table == "test.lib_prio"


def test_conditions_select_rows_in_priority_order(dsn: str, fresh_queue: Any, conn: Any) -> None:
    fresh_queue("lib_prio", "id INT NOT NULL, prio INT NOT NULL")
    seen: list[int] = []

    class Conditional(q4m_fast.Job):
        tables = ("lib_prio:prio=0", "lib_prio:prio=1")

        def execute(self, job: Any) -> None:
            seen.append(job.id)

    q4m_fast.enqueue_many(conn, "lib_prio", [(1, 1), (2, 0), (3, 1), (4, 0)])
    with Conditional(dsn, timeout=0) as worker:
        worker.work(stop_when_idle=True)
    assert seen == [2, 4, 1, 3]
