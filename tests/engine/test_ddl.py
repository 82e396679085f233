"""CREATE / UPDATE rules and the exact round trip of every column type (spec 1.1, 1.3, A)."""

from __future__ import annotations

import pytest

from .engine_helpers import (
    ER_ILLEGAL_HA,
    ER_TOO_MANY_KEYS,
    count,
    execute,
    one,
    rows,
    sql_error,
    unique_name,
)

pytestmark = pytest.mark.timeout(60)


def test_engine_is_registered_as_queue(conn):
    support = one(conn, "SELECT SUPPORT FROM information_schema.ENGINES WHERE ENGINE = 'QUEUE'")
    assert support in ("YES", "DEFAULT")


def test_queue_functions_are_installed(conn):
    names = {r[0] for r in rows(conn, "SELECT name FROM mysql.func")}
    assert {"queue_wait", "queue_end", "queue_abort", "queue_rowid"} <= names


def test_create_table_engine_queue_is_reported_by_show_create(conn, make_queue):
    t = make_queue()
    ddl = rows(conn, f"SHOW CREATE TABLE {t}")[0][1]
    assert "ENGINE=QUEUE" in ddl.upper()
    assert (
        one(
            conn,
            "SELECT ENGINE FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
            (t,),
        )
        == "QUEUE"
    )


def test_engine_name_is_case_insensitive(conn):
    t = unique_name("lowercase_engine")
    try:
        execute(conn, f"CREATE TABLE {t} (id INT) ENGINE=queue")
        assert (
            one(
                conn,
                "SELECT ENGINE FROM information_schema.TABLES "
                "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
                (t,),
            )
            == "QUEUE"
        )
    finally:
        execute(conn, f"DROP TABLE IF EXISTS {t}")


@pytest.mark.parametrize(
    "key_sql",
    [
        "id INT NOT NULL PRIMARY KEY",
        "id INT NOT NULL, PRIMARY KEY (id)",
        "id INT NOT NULL, UNIQUE KEY (id)",
        "id INT NOT NULL, KEY (id)",
        "id INT NOT NULL, INDEX ix (id)",
        "id INT NOT NULL, v VARCHAR(20), FULLTEXT (v)",
    ],
    ids=["inline-primary", "primary", "unique", "key", "index", "fulltext"],
)
def test_create_with_any_index_fails_with_too_many_keys(conn, key_sql):
    t = unique_name("with_index")
    try:
        code, _ = sql_error(conn, f"CREATE TABLE {t} ({key_sql}) ENGINE=QUEUE")
        assert code == ER_TOO_MANY_KEYS
        assert rows(conn, "SHOW TABLES LIKE %s", (t,)) == []
    finally:
        execute(conn, f"DROP TABLE IF EXISTS {t}")


def test_adding_an_index_with_alter_fails_with_too_many_keys(conn, make_queue):
    t = make_queue()
    code, _ = sql_error(conn, f"ALTER TABLE {t} ADD INDEX ix (id)")
    assert code == ER_TOO_MANY_KEYS


def test_create_with_auto_increment_fails(conn):
    t = unique_name("auto_inc")
    try:
        sql_error(conn, f"CREATE TABLE {t} (id INT NOT NULL AUTO_INCREMENT) ENGINE=QUEUE")
        assert rows(conn, "SHOW TABLES LIKE %s", (t,)) == []
    finally:
        execute(conn, f"DROP TABLE IF EXISTS {t}")


def test_update_of_a_row_is_refused_with_illegal_ha(conn, make_queue):
    t = make_queue()
    execute(conn, f"INSERT INTO {t} VALUES (1, 'a'), (2, 'b')")
    code, _ = sql_error(conn, f"UPDATE {t} SET v = 'z' WHERE id = 1")
    assert code == ER_ILLEGAL_HA
    assert rows(conn, f"SELECT id, v FROM {t}") == [(1, "a"), (2, "b")]


def test_update_without_where_is_refused_and_changes_nothing(conn, make_queue):
    t = make_queue()
    execute(conn, f"INSERT INTO {t} VALUES (1, 'a'), (2, 'b')")
    code, _ = sql_error(conn, f"UPDATE {t} SET v = 'z'")
    assert code == ER_ILLEGAL_HA
    assert rows(conn, f"SELECT id, v FROM {t}") == [(1, "a"), (2, "b")]


def test_update_matching_zero_rows_succeeds(conn, make_queue):
    t = make_queue()
    execute(conn, f"INSERT INTO {t} VALUES (1, 'a')")
    assert execute(conn, f"UPDATE {t} SET v = 'z' WHERE id = 999") == 0
    assert rows(conn, f"SELECT id, v FROM {t}") == [(1, "a")]


def test_update_of_empty_table_succeeds(conn, make_queue):
    t = make_queue()
    assert execute(conn, f"UPDATE {t} SET v = 'z'") == 0
    assert count(conn, t) == 0


# --------------------------------------------------------------------------- column types
#
# Each type is checked against an InnoDB twin holding the same literals: the server's own
# conversion of the literal is the oracle, so the test hard-codes no result.

COLUMN_TYPES = {
    "tinyint": ("TINYINT", ["-128", "127", "0"]),
    "tinyint_unsigned": ("TINYINT UNSIGNED", ["0", "255"]),
    "smallint": ("SMALLINT", ["-32768", "32767"]),
    "smallint_unsigned": ("SMALLINT UNSIGNED", ["65535", "0"]),
    "mediumint": ("MEDIUMINT", ["-8388608", "8388607"]),
    "mediumint_unsigned": ("MEDIUMINT UNSIGNED", ["16777215"]),
    "int": ("INT", ["-2147483648", "2147483647", "0"]),
    "int_unsigned": ("INT UNSIGNED", ["4294967295"]),
    "bigint": ("BIGINT", ["-9223372036854775808", "9223372036854775807"]),
    "bigint_unsigned": ("BIGINT UNSIGNED", ["18446744073709551615", "0"]),
    "bool": ("BOOL", ["TRUE", "FALSE"]),
    "float": ("FLOAT", ["3.14159", "-1.5e30", "1.17549e-38", "0"]),
    "double": ("DOUBLE", ["2.718281828459045", "-1.7976931348623157e308", "4.9e-324"]),
    "decimal": ("DECIMAL(30,10)", ["12345678901234567890.0123456789", "-0.0000000001", "0"]),
    "decimal_max": ("DECIMAL(65,30)", ["-" + "9" * 35 + "." + "9" * 30]),
    "char": ("CHAR(10)", ["'abc'", "''", "'0123456789'"]),
    "char_utf8mb4": ("CHAR(5) CHARACTER SET utf8mb4", ["'h\u00e9\U0001f600'"]),
    "varchar": ("VARCHAR(300)", ["'hello'", "''", "REPEAT('x', 300)", "'trailing  '"]),
    "varchar_utf8mb4": (
        "VARCHAR(20) CHARACTER SET utf8mb4",
        ["'\u65e5\u672c\u8a9e \U0001f680'", "'\u00e9\u00e8'"],
    ),
    "binary": ("BINARY(8)", ["x'0001020304050607'", "x'00'"]),
    "varbinary": ("VARBINARY(1000)", ["x'00ff00ff'", "''", "UNHEX(REPEAT('ab', 500))"]),
    "tinyblob": ("TINYBLOB", ["x'00'", "UNHEX(REPEAT('fe', 255))"]),
    "blob": ("BLOB", ["UNHEX(REPEAT('00ff', 30000))", "''"]),
    "mediumblob": ("MEDIUMBLOB", ["UNHEX(REPEAT('0a0d', 300000))"]),
    "longblob": ("LONGBLOB", ["UNHEX(REPEAT('c3a9', 600000))", "x'00'"]),
    "tinytext": ("TINYTEXT", ["REPEAT('t', 255)", "''"]),
    "text": ("TEXT", ["REPEAT('text ', 10000)"]),
    "mediumtext": ("MEDIUMTEXT CHARACTER SET utf8mb4", ["REPEAT('\u00e9\U0001f600', 50000)"]),
    "longtext": ("LONGTEXT", ["REPEAT('L', 1000000)"]),
    "enum": ("ENUM('red','green','blue')", ["'green'", "'blue'", "'red'"]),
    "set": ("SET('a','b','c','d')", ["'a,c'", "''", "'a,b,c,d'"]),
    "bit1": ("BIT(1)", ["b'1'", "b'0'"]),
    "bit13": ("BIT(13)", ["b'1010101010101'"]),
    "bit64": ("BIT(64)", ["x'FFFFFFFFFFFFFFFF'", "x'8000000000000001'"]),
    "date": ("DATE", ["'2024-02-29'", "'1000-01-01'", "'9999-12-31'"]),
    "time": ("TIME", ["'-838:59:59'", "'838:59:59'", "'12:34:56'"]),
    "time6": ("TIME(6)", ["'01:02:03.456789'"]),
    "datetime": ("DATETIME", ["'2024-01-02 03:04:05'", "'1000-01-01 00:00:00'"]),
    "datetime6": ("DATETIME(6)", ["'9999-12-31 23:59:59.999999'"]),
    "timestamp": (
        "TIMESTAMP NULL DEFAULT NULL",
        ["'2037-12-31 23:59:59'", "'1970-01-02 00:00:00'"],
    ),
    "timestamp6": ("TIMESTAMP(6) NULL DEFAULT NULL", ["'2020-06-15 12:00:00.123456'"]),
    "year": ("YEAR", ["1901", "2155", "2024"]),
    "geometry": (
        "GEOMETRY",
        [
            "ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 10,0 0))')",
            "ST_GeomFromText('POINT(1.5 -2.25)')",
        ],
    ),
    "point": ("POINT", ["POINT(3, 4)"]),
    "linestring": ("LINESTRING", ["ST_GeomFromText('LINESTRING(0 0,1 1,2 4)')"]),
    "json": ("JSON", ['\'{"a": [1, 2, {"b": null}]}\'']),
    "inet6": ("INET6", ["'2001:db8::1'", "'::ffff:1.2.3.4'"]),
    "uuid": ("UUID", ["'123e4567-e89b-12d3-a456-426614174000'"]),
}


def _round_trip(conn, make_queue, make_innodb, type_sql, literals):
    q = make_queue(f"seq INT NOT NULL, c {type_sql} NULL")
    ref = make_innodb(f"seq INT NOT NULL PRIMARY KEY, c {type_sql} NULL")
    values = [*literals, "NULL"]
    for i, lit in enumerate(values):
        for t in (q, ref):
            execute(conn, f"INSERT INTO {t} (seq, c) VALUES ({i}, {lit})")
    got = rows(conn, f"SELECT seq, c, HEX(c), c IS NULL FROM {q}")
    want = rows(conn, f"SELECT seq, c, HEX(c), c IS NULL FROM {ref} ORDER BY seq")
    return got, want


@pytest.mark.parametrize("type_sql,literals", list(COLUMN_TYPES.values()), ids=list(COLUMN_TYPES))
def test_column_type_round_trips_exactly_including_null(
    conn, make_queue, make_innodb, type_sql, literals
):
    got, want = _round_trip(conn, make_queue, make_innodb, type_sql, literals)
    assert len(got) == len(literals) + 1
    assert got == want
    assert got[-1][3] == 1  # the NULL stays NULL


def test_not_null_column_with_default_round_trips(conn, make_queue, make_innodb):
    cols = "a INT NOT NULL DEFAULT 7, b VARCHAR(10) NOT NULL DEFAULT 'dflt', c INT"
    q = make_queue(cols)
    ref = make_innodb(cols + ", k INT AUTO_INCREMENT PRIMARY KEY")
    for t in (q, ref):
        execute(conn, f"INSERT INTO {t} (c) VALUES (1)")
        execute(conn, f"INSERT INTO {t} (a, c) VALUES (8, 2)")
    want = rows(conn, f"SELECT a, b, c FROM {ref} ORDER BY k")
    assert rows(conn, f"SELECT a, b, c FROM {q}") == want


def test_wide_row_mixing_every_kind_of_column_round_trips(conn, make_queue, make_innodb):
    """Fixed, variable, BLOB, BIT and NULL columns interleaved in one record."""
    names = list(COLUMN_TYPES)
    cols = ", ".join(f"c_{n} {COLUMN_TYPES[n][0]} NULL" for n in names)
    q = make_queue("seq INT NOT NULL, " + cols)
    ref = make_innodb("seq INT NOT NULL PRIMARY KEY, " + cols)
    full = ", ".join(COLUMN_TYPES[n][1][0] for n in names)
    # every other column NULL, then the opposite pattern, then all NULL
    alt1 = ", ".join(COLUMN_TYPES[n][1][-1] if i % 2 else "NULL" for i, n in enumerate(names))
    alt2 = ", ".join("NULL" if i % 2 else COLUMN_TYPES[n][1][0] for i, n in enumerate(names))
    nulls = ", ".join("NULL" for _ in names)
    col_list = ", ".join(f"c_{n}" for n in names)
    for seq, vals in enumerate([full, alt1, alt2, nulls]):
        for t in (q, ref):
            execute(conn, f"INSERT INTO {t} (seq, {col_list}) VALUES ({seq}, {vals})")
    assert rows(conn, f"SELECT * FROM {q}") == rows(conn, f"SELECT * FROM {ref} ORDER BY seq")


def test_row_of_only_nullable_columns_all_null_round_trips(conn, make_queue):
    q = make_queue("a INT NULL, b VARCHAR(10) NULL, c BLOB NULL")
    execute(
        conn, f"INSERT INTO {q} VALUES (NULL, NULL, NULL), (1, NULL, NULL), (NULL, NULL, x'00')"
    )
    assert rows(conn, f"SELECT a, b, c FROM {q}") == [
        (None, None, None),
        (1, None, None),
        (None, None, b"\x00"),
    ]


def test_single_column_table_works(conn, make_queue):
    q = make_queue("x TINYINT")
    execute(conn, f"INSERT INTO {q} VALUES (1), (2), (NULL)")
    assert rows(conn, f"SELECT x FROM {q}") == [(1,), (2,), (None,)]
