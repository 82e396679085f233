"""Bad input never crashes the server (spec 4.1, A): NULL or absurd arguments give NULL or a
clear statement error (1123). Every test ends by checking SELECT 1 on a NEW connection."""

from __future__ import annotations

import time

import MySQLdb
import pytest

from .engine_helpers import (
    ER_CANT_INITIALIZE_UDF,
    BackgroundQuery,
    assert_server_alive,
    count,
    execute,
    in_owner_mode,
    insert_ids,
    one,
    rows,
    unique_name,
    wait_until_blocked,
)

pytestmark = pytest.mark.timeout(60)


def result_or_errno(conn, sql, args=None):
    """('ok', value) or ('error', errno)."""
    cur = conn.cursor()
    try:
        cur.execute(sql, args)
        return "ok", cur.fetchall()[0][0]
    except MySQLdb.MySQLError as e:
        return "error", e.args[0]
    finally:
        cur.close()


def assert_null_or_1123(outcome):
    assert outcome in (("ok", None), ("error", ER_CANT_INITIALIZE_UDF)), outcome


# --------------------------------------------------------------------------- table specs

BAD_NAMES = {
    "null": None,
    "empty": "",
    "quote": "'",
    "double_quote": '"',
    "backquote": "`",
    "backslash": "\\",
    "percent": "%",
    "star": "*",
    "space": " ",
    "dot": ".",
    "dotdot": "..",
    "path_traversal": "../../etc/passwd",
    "absolute_path": "/etc/passwd",
    "mysql_user_table": "mysql.user",
    "information_schema": "information_schema.TABLES",
    "performance_schema": "performance_schema.threads",
    "db_only": "test.",
    "table_only": ".t",
    "three_parts": "a.b.c",
    "nul_byte": "a\x00b",
    "only_nul": "\x00",
    "unicode": "\u65e5\u672c\u8a9e\U0001f600",
    "long_2000": "x" * 2000,
    "long_db_2000": "test." + "x" * 2000,
    "long_db_part": "y" * 2000 + ".t",
    "identifier_65": "z" * 65,
    "temp_name": "#sql-1234_5",
    "colons": ":::",
    "colon_only": ":",
    "backquoted_name": "`test`.`t`",
}


@pytest.mark.parametrize("name", list(BAD_NAMES.values()), ids=list(BAD_NAMES))
def test_bad_table_name_with_timeout_gives_null_or_error(q4m_server, conn, make_queue, name):
    bystander = make_queue()
    insert_ids(conn, bystander, [1])
    outcome = result_or_errno(conn, "SELECT queue_wait(%s, 0)", (name,))
    assert_null_or_1123(outcome)
    assert not in_owner_mode(conn)
    assert count(conn, bystander) == 1
    assert_server_alive(q4m_server)


@pytest.mark.parametrize("name", list(BAD_NAMES.values()), ids=list(BAD_NAMES))
def test_bad_table_name_alone_gives_null_or_error(q4m_server, conn, name):
    outcome = result_or_errno(conn, "SELECT queue_wait(%s)", (name,))
    assert_null_or_1123(outcome)
    assert_server_alive(q4m_server)


@pytest.mark.parametrize(
    "expr",
    [
        "123",
        "-1",
        "1.5",
        "x'00ff'",
        "NULL",
        "1e300",
        "CAST(NULL AS CHAR)",
        "(SELECT NULL)",
        "REPEAT('a', 100000)",
    ],
)
def test_non_string_table_argument_gives_null_or_error(q4m_server, conn, expr):
    assert_null_or_1123(result_or_errno(conn, f"SELECT queue_wait({expr}, 0)"))
    assert_server_alive(q4m_server)


@pytest.mark.parametrize(
    "suffix",
    [":", ":::", ":id=", ":(", ":id=1 AND", ":no_such_col=1", ":1/0", ":'str'", ":" + "(" * 5000],
)
def test_bad_condition_gives_null_or_error(q4m_server, conn, make_queue, suffix):
    t = make_queue()
    insert_ids(conn, t, [1])
    assert_null_or_1123(result_or_errno(conn, "SELECT queue_wait(%s, 0)", (t + suffix,)))
    assert count(conn, t) == 1
    assert_server_alive(q4m_server)


def test_bad_name_among_good_ones_gives_null_and_takes_no_row(q4m_server, conn, make_queue):
    a, b = make_queue(), make_queue()
    insert_ids(conn, a, [1])
    insert_ids(conn, b, [2])
    assert_null_or_1123(
        result_or_errno(conn, "SELECT queue_wait(%s, %s, %s, 0)", (a, "../../etc/passwd", b))
    )
    assert not in_owner_mode(conn)
    assert count(conn, a) == 1 and count(conn, b) == 1
    assert_server_alive(q4m_server)


def test_many_arguments_naming_the_same_empty_table(q4m_server, conn, make_queue):
    t = make_queue()
    args = ", ".join([f"'{t}'"] * 300)
    assert one(conn, f"SELECT queue_wait({args}, 0)") == 0
    assert_server_alive(q4m_server)


def test_many_arguments_with_a_row_in_the_last_table(q4m_server, conn, make_queue):
    t, last = make_queue(), make_queue()
    insert_ids(conn, last, [1])
    args = ", ".join([f"'{t}'"] * 200 + [f"'{last}'"])
    assert one(conn, f"SELECT queue_wait({args}, 0)") == 201
    assert_server_alive(q4m_server)


# --------------------------------------------------------------------------- timeouts


def test_null_timeout_gives_null_or_error_and_takes_no_row(q4m_server, connect, make_queue):
    c, other = connect(), connect()
    t = make_queue()
    insert_ids(other, t, [1])
    outcome = result_or_errno(c, "SELECT queue_wait(%s, NULL)", (t,))
    assert_null_or_1123(outcome)
    assert rows(other, f"SELECT id FROM {t}") == [(1,)]
    assert_server_alive(q4m_server)


def test_null_timeout_on_empty_queue_does_not_block(q4m_server, conn, make_queue):
    t = make_queue()
    start = time.monotonic()
    assert_null_or_1123(result_or_errno(conn, "SELECT queue_wait(%s, NULL)", (t,)))
    assert time.monotonic() - start < 5
    assert_server_alive(q4m_server)


HUGE = [
    "1e12",
    "2147484",
    "4294968",
    "9223372036854775807",
    "18446744073709551615",
    "99999999999999999999999999",
    "'1e12'",
    "1e300",
]


@pytest.mark.parametrize("timeout", HUGE)
def test_huge_timeout_with_a_row_available_returns_it_at_once(
    q4m_server, conn, make_queue, timeout
):
    t = make_queue()
    insert_ids(conn, t, [1])
    start = time.monotonic()
    assert one(conn, f"SELECT queue_wait('{t}', {timeout})") == 1
    assert time.monotonic() - start < 2
    assert one(conn, f"SELECT id FROM {t}") == 1
    assert_server_alive(q4m_server)


@pytest.mark.parametrize("timeout", ["1e12", "2147484", "9223372036854775807"])
def test_huge_timeout_is_clamped_not_wrapped(q4m_server, connect, make_queue, timeout):
    """On an empty queue a huge timeout blocks (it must not wrap to a past deadline)."""
    waiter, producer = connect(), connect()
    t = make_queue()
    bg = BackgroundQuery(waiter, f"SELECT queue_wait('{t}', {timeout})").start()
    wait_until_blocked(producer, [waiter])
    time.sleep(1.5)
    assert not bg.done, f"queue_wait with timeout {timeout} returned {bg.result!r} at once"
    insert_ids(producer, t, [1])
    bg.join(10)
    assert bg.error is None and bg.result == 1
    assert_server_alive(q4m_server)


@pytest.mark.parametrize(
    "timeout", ["-1", "-1e12", "-9223372036854775808", "-0.5", "'-5'", "-99999999999999999999999"]
)
def test_negative_timeout_never_blocks(q4m_server, conn, make_queue, timeout):
    t = make_queue()
    start = time.monotonic()
    assert one(conn, f"SELECT queue_wait('{t}', {timeout})") == 0
    assert time.monotonic() - start < 0.9
    assert_server_alive(q4m_server)


@pytest.mark.parametrize("timeout", ["0.5", "0.4", "1.5", "'0.5'"])
def test_fractional_timeout_returns_zero_promptly_on_empty_queue(
    q4m_server, conn, make_queue, timeout
):
    t = make_queue()
    start = time.monotonic()
    assert one(conn, f"SELECT queue_wait('{t}', {timeout})") == 0
    assert time.monotonic() - start < 3.0
    assert_server_alive(q4m_server)


@pytest.mark.parametrize("timeout", ["0.5", "1.5", "'abc'", "'5abc'", "''"])
def test_odd_timeout_with_a_row_available_returns_it(q4m_server, conn, make_queue, timeout):
    t = make_queue()
    insert_ids(conn, t, [1])
    assert one(conn, f"SELECT queue_wait('{t}', {timeout})") == 1
    assert_server_alive(q4m_server)


@pytest.mark.parametrize("timeout", ["'abc'", "''", "' '", "x'00'", "'zero'"])
def test_non_numeric_string_timeout_polls(q4m_server, conn, make_queue, timeout):
    t = make_queue()
    start = time.monotonic()
    assert one(conn, f"SELECT queue_wait('{t}', {timeout})") == 0
    assert time.monotonic() - start < 0.9
    assert_server_alive(q4m_server)


# --------------------------------------------------------------------------- argument counts


def test_queue_wait_without_arguments_is_1123(q4m_server, conn):
    assert result_or_errno(conn, "SELECT queue_wait()") == ("error", ER_CANT_INITIALIZE_UDF)
    assert_server_alive(q4m_server)


@pytest.mark.parametrize("args", ["1", "NULL", "1, 2", "'a', 'b', 'c'", "NULL, NULL"])
def test_queue_end_accepts_any_arguments(q4m_server, conn, args):
    assert one(conn, f"SELECT queue_end({args})") == 1
    assert_server_alive(q4m_server)


@pytest.mark.parametrize("args", ["1", "NULL", "'x', 2"])
def test_queue_abort_with_arguments_outside_owner_mode_is_1123(q4m_server, conn, args):
    assert result_or_errno(conn, f"SELECT queue_abort({args})") == ("error", ER_CANT_INITIALIZE_UDF)
    assert_server_alive(q4m_server)


@pytest.mark.parametrize("args", ["1", "NULL", "'x'", "1, 2"])
def test_queue_rowid_with_arguments_is_1123_even_in_owner_mode(q4m_server, conn, make_queue, args):
    t = make_queue()
    insert_ids(conn, t, [1])
    assert one(conn, f"SELECT queue_wait('{t}')") == 1
    assert result_or_errno(conn, f"SELECT queue_rowid({args})") == ("error", ER_CANT_INITIALIZE_UDF)
    assert in_owner_mode(conn)
    assert_server_alive(q4m_server)


# --------------------------------------------------------------------------- odd call sites


def test_two_waits_in_one_statement_do_not_crash(q4m_server, conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1, 2, 3])
    cur = conn.cursor()
    try:
        cur.execute(f"SELECT queue_wait('{t}', 0), queue_wait('{t}', 0)")
        r = cur.fetchall()[0]
        assert all(x in (0, 1, None) for x in r)
    except MySQLdb.MySQLError as e:
        assert e.args[0] == ER_CANT_INITIALIZE_UDF
    finally:
        cur.close()
    execute(conn, "SELECT queue_end()")
    assert count(conn, t) >= 1
    assert_server_alive(q4m_server)


def test_wait_in_union_does_not_crash(q4m_server, conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1, 2])
    outcome = result_or_errno(
        conn, f"SELECT queue_wait('{t}', 0) UNION ALL SELECT queue_wait('{t}', 0)"
    )
    assert outcome[0] in ("ok", "error")
    execute(conn, "SELECT queue_end()")
    assert_server_alive(q4m_server)


def test_wait_with_server_side_placeholder_for_the_table(q4m_server, conn, make_queue):
    """The table name arrives only at execution time (not constant at init)."""
    t = make_queue()
    insert_ids(conn, t, [1])
    execute(conn, "PREPARE w FROM 'SELECT queue_wait(?, 0)'")
    execute(conn, "SET @t = %s", (t,))
    r = result_or_errno(conn, "EXECUTE w USING @t")
    execute(conn, "DEALLOCATE PREPARE w")
    assert r in (("ok", 1), ("ok", None), ("error", ER_CANT_INITIALIZE_UDF)), r
    assert_server_alive(q4m_server)


def test_wait_with_table_name_from_a_user_variable_set_to_null(q4m_server, conn):
    execute(conn, "SET @nothing = NULL")
    assert_null_or_1123(result_or_errno(conn, "SELECT queue_wait(@nothing, 0)"))
    assert_server_alive(q4m_server)


def test_wait_in_insert_select_without_from_does_not_crash(
    q4m_server, conn, make_queue, make_innodb
):
    t = make_queue()
    ref = make_innodb("id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, r BIGINT NULL")
    insert_ids(conn, t, [1])
    cur = conn.cursor()
    try:
        cur.execute(f"INSERT INTO {ref} (r) SELECT queue_wait('{t}', 0)")
    except MySQLdb.MySQLError as e:
        assert e.args[0] == ER_CANT_INITIALIZE_UDF
    finally:
        cur.close()
    execute(conn, "SELECT queue_end()")
    assert_server_alive(q4m_server)


def test_wait_in_a_stored_procedure_does_not_crash(q4m_server, conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1])
    proc = unique_name("proc")
    execute(conn, f"CREATE PROCEDURE {proc}() SELECT queue_wait('{t}', 0)")
    try:
        cur = conn.cursor()
        try:
            cur.execute(f"CALL {proc}()")
            r = cur.fetchall()[0][0]
            while cur.nextset():
                pass
            assert r in (1, None)
        except MySQLdb.MySQLError as e:
            assert e.args[0] == ER_CANT_INITIALIZE_UDF
        finally:
            cur.close()
    finally:
        execute(conn, f"DROP PROCEDURE {proc}")
    execute(conn, "SELECT queue_end()")
    assert_server_alive(q4m_server)


def test_many_connections_calling_bad_arguments_at_once(q4m_server, connect, make_queue):
    t = make_queue()
    conns = [connect() for _ in range(16)]
    calls = [
        "SELECT queue_wait(NULL, 0)",
        f"SELECT queue_wait('{t}', NULL)",
        "SELECT queue_wait('../../x', 0)",
        f"SELECT queue_wait('{t}', -1)",
    ]
    for _ in range(5):
        bgs = [BackgroundQuery(c, calls[i % len(calls)]).start() for i, c in enumerate(conns)]
        for bg in bgs:
            bg.join(20)
            assert bg.error is None or bg.errno == ER_CANT_INITIALIZE_UDF, bg.error
            assert bg.result in (None, 0) or bg.error is not None
    assert_server_alive(q4m_server)


# --------------------------------------------------------------------------- odd statements

ODD_STATEMENTS = {
    "check_table": "CHECK TABLE {t}",
    "analyze_table": "ANALYZE TABLE {t}",
    "optimize_table": "OPTIMIZE TABLE {t}",
    "repair_table": "REPAIR TABLE {t}",
    "checksum_table": "CHECKSUM TABLE {t}",
    "show_table_status": "SHOW TABLE STATUS LIKE '{t}'",
    "select_for_update": "SELECT * FROM {t} FOR UPDATE",
    "select_lock_in_share_mode": "SELECT * FROM {t} LOCK IN SHARE MODE",
    "order_by_rand": "SELECT * FROM {t} ORDER BY RAND()",
    "self_join": "SELECT a.id, b.id FROM {t} a JOIN {t} b ON a.id = b.id",
    "group_by": "SELECT v, COUNT(*) FROM {t} GROUP BY v WITH ROLLUP",
    "window_function": "SELECT id, ROW_NUMBER() OVER (ORDER BY id DESC) FROM {t}",
    "insert_on_duplicate": "INSERT INTO {t} VALUES (9, 'x') ON DUPLICATE KEY UPDATE v = 'y'",
    "insert_ignore": "INSERT IGNORE INTO {t} VALUES (9, 'x')",
    "multi_table_delete": "DELETE a FROM {t} a JOIN {t} b ON a.id = b.id WHERE a.id = 1",
    "handler_read": "HANDLER {t} OPEN",
    "flush_table": "FLUSH TABLES {t}",
    "alter_add_index": "ALTER TABLE {t} ADD INDEX (id)",
    "alter_partition": "ALTER TABLE {t} PARTITION BY HASH(id) PARTITIONS 2",
    "update_join": "UPDATE {t} a JOIN {t} b ON a.id = b.id SET a.v = 'z'",
    "explain": "EXPLAIN SELECT * FROM {t} WHERE id = 1",
    "select_into_var": "SELECT id INTO @q4m_var FROM {t} LIMIT 1",
}


def _attempt(conn, sql):
    cur = conn.cursor()
    try:
        cur.execute(sql)
        cur.fetchall()
        while cur.nextset():
            cur.fetchall()
        return None
    except MySQLdb.MySQLError as e:
        return e.args[0]
    finally:
        cur.close()


@pytest.mark.parametrize("sql", list(ODD_STATEMENTS.values()), ids=list(ODD_STATEMENTS))
def test_odd_statement_on_a_queue_works_or_fails_cleanly(q4m_server, conn, make_queue, sql):
    """Works or fails with an SQL error; the server survives and the rows are still usable."""
    t = make_queue()
    insert_ids(conn, t, [1, 2, 3])
    _attempt(conn, sql.format(t=t))
    if sql.startswith("HANDLER"):
        _attempt(conn, f"HANDLER {t} READ FIRST")
        _attempt(conn, f"HANDLER {t} READ NEXT")
        _attempt(conn, f"HANDLER {t} CLOSE")
    assert_server_alive(q4m_server)
    ids = [r[0] for r in rows(conn, f"SELECT id FROM {t}")]
    assert ids[:1] in ([1], [2]) and set(ids) <= {1, 2, 3, 9}
    # A table re-partitioned by the server is no plain queue table any more: NULL is fine there.
    assert one(conn, f"SELECT queue_wait('{t}', 0)") in ((1, None) if "PARTITION" in sql else (1,))
    execute(conn, "SELECT queue_end()")


def test_temporary_queue_table_works_or_is_refused_cleanly(q4m_server, conn):
    t = unique_name("tmpq")
    err = _attempt(conn, f"CREATE TEMPORARY TABLE {t} (id INT) ENGINE=QUEUE")
    if err is None:
        try:
            execute(conn, f"INSERT INTO {t} VALUES (1), (2)")
            assert [r[0] for r in rows(conn, f"SELECT id FROM {t}")] == [1, 2]
            _attempt(conn, f"SELECT queue_wait('{t}', 0)")
            execute(conn, "SELECT queue_end()")
        finally:
            execute(conn, f"DROP TEMPORARY TABLE IF EXISTS {t}")
    assert_server_alive(q4m_server)


def test_partitioned_queue_table_works_or_is_refused_cleanly(q4m_server, conn):
    t = unique_name("partq")
    err = _attempt(
        conn, f"CREATE TABLE {t} (id INT) ENGINE=QUEUE PARTITION BY HASH(id) PARTITIONS 2"
    )
    try:
        if err is None:
            execute(conn, f"INSERT INTO {t} VALUES (1), (2), (3)")
            assert sorted(r[0] for r in rows(conn, f"SELECT id FROM {t}")) == [1, 2, 3]
            _attempt(conn, f"SELECT queue_wait('{t}', 0)")
            execute(conn, "SELECT queue_end()")
    finally:
        execute(conn, f"DROP TABLE IF EXISTS {t}")
    assert_server_alive(q4m_server)
