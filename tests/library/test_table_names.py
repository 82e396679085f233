"""Which table a job class works off."""

from __future__ import annotations

import pytest

import q4m_fast
from q4m_fast.errors import TableNameError
from q4m_fast.job import default_table_name

DSN = "mysql://root@127.0.0.1:1/test"  # never connected to: naming needs no server


class ShellJob(q4m_fast.Job):
    pass


class HTTPRequestJob(q4m_fast.Job):
    pass


class Mail2Job(q4m_fast.Job):
    pass


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        (ShellJob, "shell_jobs"),
        (HTTPRequestJob, "http_request_jobs"),
        (Mail2Job, "mail2_jobs"),
        (q4m_fast.Job, "jobs"),
    ],
)
def test_default_table_is_the_class_name_in_snake_case_plus_s(cls: type, expected: str) -> None:
    assert default_table_name(cls) == expected
    assert [spec.text for spec in cls(DSN).specs] == [expected]


def test_table_name_class_attribute_overrides_the_default() -> None:
    class Mailer(q4m_fast.Job):
        table_name = "outbox"

    assert [spec.text for spec in Mailer(DSN).specs] == ["outbox"]


def test_table_name_method_overrides_the_default() -> None:
    class Mailer(q4m_fast.Job):
        def table_name(self) -> str:
            return "outbox_" + "eu"

    assert [spec.text for spec in Mailer(DSN).specs] == ["outbox_eu"]


def test_tables_lists_several_in_priority_order() -> None:
    class Mailer(q4m_fast.Job):
        tables = ("urgent", "normal")

    assert [spec.text for spec in Mailer(DSN).specs] == ["urgent", "normal"]


def test_database_qualified_names_and_conditions_are_kept_as_written() -> None:
    class Mailer(q4m_fast.Job):
        tables = ("other_db.jobs", "jobs:prio=0 AND `kind`<3")

    specs = Mailer(DSN).specs
    assert [spec.text for spec in specs] == ["other_db.jobs", "jobs:prio=0 AND `kind`<3"]
    assert (specs[0].database, specs[0].table, specs[0].condition) == ("other_db", "jobs", None)
    assert (specs[1].database, specs[1].table, specs[1].condition) == (
        None,
        "jobs",
        "prio=0 AND `kind`<3",
    )


@pytest.mark.parametrize(
    "name", ["", "jobs; DROP TABLE x", "jo`bs", "a.b.c", "123", "x" * 65, "jobs:", "jöbs", "a b"]
)
def test_a_table_name_that_is_not_a_plain_identifier_is_refused(name: str) -> None:
    class Bad(q4m_fast.Job):
        table_name = name

    with pytest.raises(TableNameError):
        Bad(DSN)
