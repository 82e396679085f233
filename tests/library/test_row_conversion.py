"""A worker's rows are exactly what MySQLdb returns for the same row, for every column type."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import MySQLdb
import pytest

import q4m_fast

from conftest import rows_of

COLUMNS = {
    "i_tiny": "TINYINT",
    "i_small": "SMALLINT UNSIGNED",
    "i_medium": "MEDIUMINT",
    "i_int": "INT",
    "i_big": "BIGINT",
    "i_ubig": "BIGINT UNSIGNED",
    "f_float": "FLOAT",
    "f_double": "DOUBLE",
    "d_decimal": "DECIMAL(20,6)",
    "s_char": "CHAR(10)",
    "s_varchar": "VARCHAR(50)",
    "s_bin_collation": "VARCHAR(20) COLLATE utf8mb4_bin",
    "s_latin1": "VARCHAR(20) CHARACTER SET latin1",
    "s_text": "TEXT",
    "b_binary": "BINARY(4)",
    "b_varbinary": "VARBINARY(20)",
    "b_blob": "BLOB",
    "b_longblob": "LONGBLOB",
    "t_date": "DATE",
    "t_datetime": "DATETIME",
    "t_datetime6": "DATETIME(6)",
    "t_timestamp": "TIMESTAMP NULL",
    "t_time": "TIME(3)",
    "t_year": "YEAR",
    "e_enum": "ENUM('red','green')",
    "e_set": "SET('a','b','c')",
    "x_bit": "BIT(10)",
    "j_json": "JSON",
}

VALUES = [
    {
        "i_tiny": -128,
        "i_small": 65535,
        "i_medium": -8388608,
        "i_int": 2147483647,
        "i_big": -9223372036854775808,
        "i_ubig": 18446744073709551615,
        "f_float": 1.5,
        "f_double": -2.25e100,
        "d_decimal": Decimal("-12345678901234.123456"),
        "s_char": "char",
        "s_varchar": "ünïcødé 😀",
        "s_bin_collation": "Case",
        "s_latin1": "café",
        "s_text": "long text " * 100,
        "b_binary": b"\x00\x01\xff\x02",
        "b_varbinary": b"\xff\xfe'\\",
        "b_blob": bytes(range(256)),
        "b_longblob": b"\x00" * 100000,
        "t_date": datetime.date(2024, 2, 29),
        "t_datetime": datetime.datetime(1999, 12, 31, 23, 59, 59),
        "t_datetime6": datetime.datetime(2024, 1, 2, 3, 4, 5, 123456),
        "t_timestamp": datetime.datetime(2030, 6, 1, 12, 0, 0),
        "t_time": datetime.timedelta(hours=-838, minutes=-59, seconds=-58, milliseconds=-500),
        "t_year": 2155,
        "e_enum": "green",
        "e_set": "a,c",
        "x_bit": b"\x03\xff",
        "j_json": '{"k": [1, 2]}',
    },
    dict.fromkeys(COLUMNS),  # every column NULL
]


@pytest.fixture
def typed_table(fresh_queue: Any) -> str:
    columns = ", ".join(f"{name} {kind} NULL" for name, kind in COLUMNS.items())
    return fresh_queue("lib_types", f"id INT NOT NULL, {columns}")


def test_every_column_type_converts_as_mysqldb_does(dsn: str, conn: Any, typed_table: str) -> None:
    for i, row in enumerate(VALUES):
        q4m_fast.enqueue(conn, typed_table, {"id": i, **row})
    expected = rows_of(conn, f"SELECT * FROM `{typed_table}`")  # MySQLdb's own conversion
    received: list[tuple[Any, ...]] = []

    class Reader(q4m_fast.Job):
        table_name = typed_table

        def execute(self, job: Any) -> None:
            received.append(tuple(job))

    with Reader(dsn, timeout=1) as worker:
        worker.work(stop_when_idle=True)
    assert received == expected
    assert [type(v) for v in received[0]] == [type(v) for v in expected[0]]
    # and what MySQLdb gives is what went in (so the comparison above means something)
    assert dict(zip(["id", *COLUMNS], received[0])) == {"id": 0, **VALUES[0]}


def test_a_custom_mysqldb_converter_applies_to_worker_rows(
    q4m_server: Any, fresh_queue: Any
) -> None:
    table = fresh_queue("lib_conv", "id INT NOT NULL, amount DECIMAL(10,2), at DATE")
    conversions = MySQLdb.converters.conversions.copy()
    conversions[MySQLdb.constants.FIELD_TYPE.NEWDECIMAL] = float
    conversions[MySQLdb.constants.FIELD_TYPE.LONG] = lambda b: int(b) * 100
    conversions[MySQLdb.constants.FIELD_TYPE.DATE] = lambda s: f"date {s}"

    def connect() -> Any:
        return q4m_server.connect(conv=conversions)

    setup = connect()
    q4m_fast.enqueue(setup, table, (3, Decimal("1.25"), datetime.date(2020, 1, 2)))
    received: list[tuple[Any, ...]] = []

    class Reader(q4m_fast.Job):
        table_name = table

        def execute(self, job: Any) -> None:
            received.append(tuple(job))

    with Reader(connect, timeout=1) as worker:
        worker.run()
    setup.close()
    assert received == [(300, 1.25, "date 2020-01-02")]


def test_a_column_added_while_working_shows_in_the_next_rows(
    dsn: str, conn: Any, fresh_queue: Any
) -> None:
    table = fresh_queue("lib_alter", "id INT NOT NULL")
    received: list[Any] = []

    class Reader(q4m_fast.Job):
        table_name = table

        def execute(self, job: Any) -> None:
            received.append(job._asdict())

    q4m_fast.enqueue(conn, table, (1,))
    with Reader(dsn, timeout=1) as worker:
        worker.work(max_jobs=1)
        conn.cursor().execute(f"ALTER TABLE `{table}` ADD COLUMN note VARCHAR(10) NULL")
        q4m_fast.enqueue(conn, table, (2, "new"))
        worker.work(max_jobs=1)
    assert received == [{"id": 1}, {"id": 2, "note": "new"}]


def test_a_column_named_like_a_keyword_or_a_tuple_method_is_reachable_by_key(
    dsn: str, conn: Any, fresh_queue: Any
) -> None:
    table = fresh_queue(
        "lib_names", "`class` INT NOT NULL, `count` INT NOT NULL, `two words` INT NOT NULL"
    )
    received: list[Any] = []

    class Reader(q4m_fast.Job):
        table_name = table

        def execute(self, job: Any) -> None:
            received.append(job)

    q4m_fast.enqueue(conn, table, (1, 2, 3))
    with Reader(dsn, timeout=1) as worker:
        worker.run()
    (row,) = received
    assert (row["class"], row["count"], row["two words"]) == (1, 2, 3)
    assert row.count(2) == 1  # still the tuple method
