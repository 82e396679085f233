"""queue_wait(): arguments, results, implicit end, timeouts and wake-ups (spec 4, 6, 9)."""

from __future__ import annotations

import statistics
import time

import pytest

from .engine_helpers import (
    ER_CANT_INITIALIZE_UDF,
    column,
    count,
    execute,
    in_owner_mode,
    insert_ids,
    one,
    queue_abort,
    queue_end,
    queue_rowid,
    rows,
    sql_error,
    start_wait,
    unique_name,
    wait,
    wait_until_blocked,
)

pytestmark = pytest.mark.timeout(60)


# --------------------------------------------------------------------------- basic results


def test_wait_returns_one_and_owns_the_oldest_row(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [4, 2, 9])
    assert wait(conn, t) == 1
    assert in_owner_mode(conn)
    assert column(conn, f"SELECT id FROM {t}") == [4]


def test_wait_with_db_qualified_name(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1])
    assert wait(conn, f"test.{t}") == 1
    assert column(conn, f"SELECT id FROM {t}") == [1]


def test_wait_with_db_qualified_name_from_another_default_database(conn, make_queue, other_db):
    t = make_queue()
    insert_ids(conn, t, [1])
    execute(conn, f"USE {other_db}")
    assert wait(conn, f"test.{t}") == 1
    assert column(conn, f"SELECT id FROM test.{t}") == [1]


def test_wait_unqualified_name_uses_current_database(conn, other_db):
    execute(conn, f"USE {other_db}")
    t = unique_name("in_other_db")
    execute(conn, f"CREATE TABLE {t} (id INT) ENGINE=QUEUE")
    execute(conn, f"INSERT INTO {t} VALUES (42)")
    assert wait(conn, t) == 1
    assert one(conn, f"SELECT id FROM {t}") == 42


def test_wait_unqualified_name_without_default_database_returns_null(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1])
    scratch = unique_name("scratch_db")
    execute(conn, f"CREATE DATABASE {scratch}")
    execute(conn, f"USE {scratch}")
    execute(conn, f"DROP DATABASE {scratch}")
    assert one(conn, "SELECT DATABASE()") is None
    assert wait(conn, t, timeout=0) is None
    assert count(conn, f"test.{t}") == 1


def test_wait_in_first_of_several_tables_returns_one(conn, make_queue):
    a, b, c = make_queue(), make_queue(), make_queue()
    insert_ids(conn, a, [1])
    insert_ids(conn, b, [2])
    insert_ids(conn, c, [3])
    assert wait(conn, a, b, c, timeout=0) == 1
    assert column(conn, f"SELECT id FROM {a}") == [1]


def test_wait_on_several_tables_returns_index_of_first_table_with_a_row(conn, make_queue):
    a, b, c = make_queue(), make_queue(), make_queue()
    insert_ids(conn, c, [3])
    insert_ids(conn, b, [2])
    assert wait(conn, a, b, c, timeout=0) == 2
    assert column(conn, f"SELECT id FROM {b}") == [2]
    assert rows(conn, f"SELECT * FROM {c}") == []


def test_wait_priority_follows_argument_order_not_insertion_time(conn, make_queue):
    a, b = make_queue(), make_queue()
    insert_ids(conn, b, [20])  # older row in the lower-priority table
    insert_ids(conn, a, [10])
    assert wait(conn, a, b, timeout=0) == 1
    assert wait(conn, b, a, timeout=0) == 1
    assert column(conn, f"SELECT id FROM {b}") == [20]


def test_wait_on_several_tables_drains_them_in_priority_order(conn, make_queue):
    hi, lo = make_queue(), make_queue()
    insert_ids(conn, lo, [101, 102])
    insert_ids(conn, hi, [1, 2])
    got = []
    while True:
        r = wait(conn, hi, lo, timeout=0)
        if r == 0:
            break
        got.append((r, one(conn, f"SELECT id FROM {hi if r == 1 else lo}")))
    assert got == [(1, 1), (1, 2), (2, 101), (2, 102)]


def test_wait_index_counts_the_same_table_listed_twice(conn, make_queue):
    a, b = make_queue(), make_queue()
    insert_ids(conn, b, [5])
    assert wait(conn, a, a, b, timeout=0) == 3


def test_two_arguments_means_table_and_timeout(connect, make_queue):
    """queue_wait('a','b'): 'b' is a timeout (integer value 0 -> poll), never a table."""
    c, other = connect(), connect()
    a, b = make_queue(), make_queue()
    insert_ids(other, b, [1])
    start = time.monotonic()
    assert wait(c, a, b) == 0
    assert time.monotonic() - start < 2.0
    assert column(other, f"SELECT id FROM {b}") == [1]  # b's row was not taken


def test_two_arguments_with_a_row_in_the_first_table_returns_one(conn, make_queue):
    a, b = make_queue(), make_queue()
    insert_ids(conn, a, [1])
    assert wait(conn, a, b) == 1


def test_zero_result_enters_owner_mode_without_a_row(conn, make_queue):
    t = make_queue()
    assert wait(conn, t, timeout=0) == 0
    assert in_owner_mode(conn)
    assert queue_rowid(conn) is None


# --------------------------------------------------------------------------- timeouts


def test_zero_timeout_on_empty_queue_returns_zero_without_blocking(conn, make_queue):
    t = make_queue()
    start = time.monotonic()
    assert wait(conn, t, timeout=0) == 0
    assert time.monotonic() - start < 0.9


def test_negative_timeout_on_empty_queue_returns_zero_without_blocking(conn, make_queue):
    t = make_queue()
    start = time.monotonic()
    assert wait(conn, t, timeout=-5) == 0
    assert time.monotonic() - start < 0.9


def test_zero_timeout_with_a_row_returns_it(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1])
    assert wait(conn, t, timeout=0) == 1


def test_timeout_returns_zero_after_the_timeout_not_before(conn, make_queue):
    t = make_queue()
    start = time.monotonic()
    assert wait(conn, t, timeout=2) == 0
    elapsed = time.monotonic() - start
    assert 1.95 <= elapsed < 4.0


def test_multi_table_timeout_returns_zero_after_the_timeout(conn, make_queue):
    a, b = make_queue(), make_queue()
    start = time.monotonic()
    assert wait(conn, a, b, timeout=1) == 0
    assert 0.95 <= time.monotonic() - start < 3.0


def test_default_timeout_blocks_until_a_row_arrives(connect, make_queue):
    waiter, producer = connect(), connect()
    t = make_queue()
    bg = start_wait(waiter, t, fetch_owned_from=t)
    wait_until_blocked(producer, [waiter])
    time.sleep(2.0)
    assert not bg.done, "one-argument queue_wait returned before any row existed"
    insert_ids(producer, t, [7])
    bg.join(10)
    assert bg.error is None
    assert bg.result == 1
    assert bg.owned_rows == [(7, "v7")]


# --------------------------------------------------------------------------- implicit end


def test_each_wait_consumes_the_previously_owned_row(connect, make_queue):
    c, other = connect(), connect()
    t = make_queue()
    insert_ids(other, t, [1, 2, 3])
    assert wait(c, t) == 1
    assert wait(c, t) == 1
    assert column(c, f"SELECT id FROM {t}") == [2]
    assert column(other, f"SELECT id FROM {t}") == [3]
    assert count(other, t) == 2


def test_wait_returning_zero_still_consumes_the_previous_row(connect, make_queue):
    c, other = connect(), connect()
    t, empty = make_queue(), make_queue()
    insert_ids(other, t, [1, 2])
    assert wait(c, t) == 1
    assert wait(c, empty, timeout=0) == 0
    assert column(other, f"SELECT id FROM {t}") == [2]


def test_wait_on_unknown_table_returns_null(conn):
    assert wait(conn, unique_name("no_such_table"), timeout=0) is None


def test_wait_on_unknown_database_returns_null(conn):
    assert wait(conn, unique_name("no_such_db") + ".t", timeout=0) is None


def test_wait_on_innodb_table_returns_null(conn, make_innodb):
    ref = make_innodb()
    execute(conn, f"INSERT INTO {ref} VALUES (1, 'a')")
    assert wait(conn, ref, timeout=0) is None
    assert count(conn, ref) == 1


def test_wait_on_view_returns_null(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1])
    v = unique_name("view")
    execute(conn, f"CREATE VIEW {v} AS SELECT * FROM {t}")
    try:
        assert wait(conn, v, timeout=0) is None
    finally:
        execute(conn, f"DROP VIEW {v}")


def test_null_result_leaves_non_owner_mode(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1])
    assert wait(conn, t) == 1
    assert wait(conn, unique_name("missing"), timeout=0) is None
    assert not in_owner_mode(conn)


def test_null_result_still_consumes_the_previous_row(connect, make_queue):
    c, other = connect(), connect()
    t = make_queue()
    insert_ids(other, t, [1, 2])
    assert wait(c, t) == 1
    assert wait(c, unique_name("missing"), timeout=0) is None
    assert column(other, f"SELECT id FROM {t}") == [2]
    assert count(other, t) == 1


def test_null_result_for_innodb_table_still_consumes_the_previous_row(
    connect, make_queue, make_innodb
):
    c, other = connect(), connect()
    t = make_queue()
    ref = make_innodb()
    insert_ids(other, t, [1, 2])
    assert wait(c, t) == 1
    assert wait(c, ref, timeout=0) is None
    assert column(other, f"SELECT id FROM {t}") == [2]


def test_null_if_any_listed_table_is_unknown(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1])
    assert wait(conn, t, unique_name("missing"), timeout=0) is None
    assert count(conn, t) == 1
    assert not in_owner_mode(conn)


def test_wait_without_arguments_is_error_1123(conn):
    code, msg = sql_error(conn, "SELECT queue_wait()")
    assert code == ER_CANT_INITIALIZE_UDF
    assert "queue_wait" in msg


def test_conditional_subscription_applies_the_condition(conn, make_queue):
    """'tbl:cond' delivers only a row matching cond, and 0 when none does (the condition
    language itself is covered in test_conditions.py)."""
    t = make_queue()
    insert_ids(conn, t, [1, 2, 3])
    assert wait(conn, f"{t}:id=2", timeout=0) == 1
    assert column(conn, f"SELECT id FROM {t}") == [2]
    assert wait(conn, f"{t}:id=9", timeout=0) == 0
    assert queue_end(conn) == 1
    assert column(conn, f"SELECT id FROM {t}") == [1, 3]


def test_empty_condition_returns_null(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1])
    assert wait(conn, f"{t}:", timeout=0) is None
    assert count(conn, t) == 1


# --------------------------------------------------------------------------- FROM refusal


def test_wait_in_select_with_from_innodb_table_is_refused(conn, make_queue, make_innodb):
    t = make_queue()
    ref = make_innodb()
    insert_ids(conn, t, [1])
    execute(conn, f"INSERT INTO {ref} VALUES (1, 'a')")
    code, msg = sql_error(conn, f"SELECT queue_wait('{t}') FROM {ref}")
    assert code == ER_CANT_INITIALIZE_UDF
    assert "queue_wait" in msg
    assert not in_owner_mode(conn)
    assert count(conn, t) == 1


def test_wait_in_where_clause_of_queue_select_is_refused(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1])
    code, msg = sql_error(conn, f"SELECT * FROM {t} WHERE queue_wait('{t}')")
    assert code == ER_CANT_INITIALIZE_UDF
    assert "queue_wait" in msg
    assert column(conn, f"SELECT id FROM {t}") == [1]


def test_wait_from_dual_is_allowed(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1])
    assert one(conn, f"SELECT queue_wait('{t}', 0) FROM DUAL") == 1


# --------------------------------------------------------------------------- FIFO


def test_strict_fifo_delivery_of_a_thousand_rows(connect, make_queue):
    producer, consumer = connect(), connect()
    t = make_queue()
    ids = list(range(1000, 0, -1))
    for start in range(0, 1000, 100):
        insert_ids(producer, t, ids[start : start + 100])
    got = []
    while wait(consumer, t, timeout=0) == 1:
        got.append(one(consumer, f"SELECT id FROM {t}"))
    assert got == ids


def test_fifo_across_statements_from_several_connections(connect, make_queue):
    a, b, consumer = connect(), connect(), connect()
    t = make_queue()
    order = []
    for i in range(20):
        who = a if i % 3 else b
        execute(who, f"INSERT INTO {t} VALUES ({i}, 'x')")
        order.append(i)
    got = []
    while wait(consumer, t, timeout=0) == 1:
        got.append(one(consumer, f"SELECT id FROM {t}"))
    assert got == order


def test_aborted_row_is_delivered_next(connect, make_queue):
    c, other = connect(), connect()
    t = make_queue()
    insert_ids(other, t, [1, 2, 3])
    assert wait(c, t) == 1
    assert queue_abort(c) == 1
    assert wait(other, t) == 1
    assert one(other, f"SELECT id FROM {t}") == 1


def test_skips_rows_owned_by_others(connect, make_queue):
    a, b = connect(), connect()
    t = make_queue()
    insert_ids(a, t, [1, 2])
    assert wait(a, t) == 1
    assert wait(b, t) == 1
    assert one(a, f"SELECT id FROM {t}") == 1
    assert one(b, f"SELECT id FROM {t}") == 2
    assert wait(b, t, timeout=0) == 0  # row 1 is owned by a


# --------------------------------------------------------------------------- wake-ups


@pytest.mark.timeout(120)
def test_blocked_wait_is_handed_a_row_promptly_after_insert(connect, make_queue):
    """Latency from issuing the INSERT to the waiter's return, over 15 samples."""
    waiter, producer = connect(), connect()
    t = make_queue()
    latencies = []
    for i in range(15):
        bg = start_wait(waiter, t, timeout=30)
        wait_until_blocked(producer, [waiter], settle=0.05)
        sent = time.monotonic()
        execute(producer, f"INSERT INTO {t} VALUES ({i}, 'x')")
        bg.join(30)
        assert bg.error is None and bg.result == 1
        latencies.append(bg.finished_at - sent)
    assert one(waiter, f"SELECT id FROM {t}") == 14
    print("wake-up latencies (ms):", sorted(round(x * 1000, 1) for x in latencies))
    assert statistics.median(latencies) < 0.5, latencies
    assert max(latencies) < 2.0, latencies


def test_multi_table_waiter_woken_by_insert_into_second_table_returns_two(connect, make_queue):
    waiter, producer = connect(), connect()
    a, b = make_queue(), make_queue()
    bg = start_wait(waiter, a, b, timeout=30, fetch_owned_from=b)
    wait_until_blocked(producer, [waiter])
    insert_ids(producer, b, [5])
    bg.join(10)
    assert bg.error is None
    assert bg.result == 2
    assert bg.owned_rows == [(5, "v5")]


def test_multi_table_waiter_woken_by_insert_into_first_table_returns_one(connect, make_queue):
    waiter, producer = connect(), connect()
    a, b = make_queue(), make_queue()
    bg = start_wait(waiter, a, b, timeout=30, fetch_owned_from=a)
    wait_until_blocked(producer, [waiter])
    insert_ids(producer, a, [6])
    bg.join(10)
    assert bg.error is None
    assert bg.result == 1
    assert bg.owned_rows == [(6, "v6")]


def test_blocked_waiters_are_served_in_arrival_order(connect, make_queue):
    first, second, producer = connect(), connect(), connect()
    t = make_queue()
    bg1 = start_wait(first, t, timeout=4)
    wait_until_blocked(producer, [first])
    bg2 = start_wait(second, t, timeout=4)
    wait_until_blocked(producer, [second])
    insert_ids(producer, t, [1])
    bg1.join(10)
    bg2.join(10)
    assert (bg1.result, bg2.result) == (1, 0)


def test_aborted_row_wakes_a_blocked_waiter(connect, make_queue):
    owner, waiter, observer = connect(), connect(), connect()
    t = make_queue()
    insert_ids(owner, t, [1])
    assert wait(owner, t) == 1
    bg = start_wait(waiter, t, timeout=30, fetch_owned_from=t)
    wait_until_blocked(observer, [waiter])
    released = time.monotonic()
    assert queue_abort(owner) == 1
    bg.join(10)
    assert bg.result == 1
    assert bg.owned_rows == [(1, "v1")]
    assert bg.finished_at - released < 2.0


def test_disconnect_of_owner_wakes_a_blocked_waiter(connect, make_queue):
    owner, waiter, observer = connect(), connect(), connect()
    t = make_queue()
    insert_ids(owner, t, [1])
    assert wait(owner, t) == 1
    bg = start_wait(waiter, t, timeout=30, fetch_owned_from=t)
    wait_until_blocked(observer, [waiter])
    owner.close()
    bg.join(15)
    assert bg.result == 1
    assert bg.owned_rows == [(1, "v1")]


def test_multi_row_insert_wakes_several_waiters_one_row_each(connect, make_queue):
    waiters = [connect() for _ in range(5)]
    producer = connect()
    t = make_queue()
    bgs = [start_wait(w, t, timeout=30, fetch_owned_from=t) for w in waiters]
    wait_until_blocked(producer, waiters)
    insert_ids(producer, t, [1, 2, 3, 4, 5])
    for bg in bgs:
        bg.join(15)
    assert [bg.result for bg in bgs] == [1] * 5
    assert sorted(bg.owned_rows[0][0] for bg in bgs) == [1, 2, 3, 4, 5]


def test_waiter_on_another_table_is_not_woken(connect, make_queue):
    waiter, producer = connect(), connect()
    a, b = make_queue(), make_queue()
    bg = start_wait(waiter, a, timeout=2)
    wait_until_blocked(producer, [waiter])
    insert_ids(producer, b, [1])
    bg.join(10)
    assert bg.result == 0
    assert count(producer, b) == 1


# --------------------------------------------------------------------------- names and round trips


@pytest.mark.parametrize(
    "name",
    ["MixedCase_Q", "with-dash", "with$dollar", "caf\u00e9_q", "\u65e5\u672c_q", "123numeric"],
    ids=["mixed_case", "dash", "dollar", "latin1_accent", "cjk", "leading_digit"],
)
def test_wait_finds_tables_whose_names_need_file_name_encoding(conn, name):
    """queue_wait maps the name to the table's files as the server does (spec 4.1)."""
    full = f"{name}_{unique_name('x')}"
    execute(conn, f"CREATE TABLE `{full}` (id INT) ENGINE=QUEUE")
    try:
        execute(conn, f"INSERT INTO `{full}` VALUES (1), (2)")
        assert wait(conn, full, timeout=0) == 1
        assert column(conn, f"SELECT id FROM `{full}`") == [1]
        assert wait(conn, f"test.{full}", timeout=0) == 1
        assert column(conn, f"SELECT id FROM `{full}`") == [2]
        assert queue_end(conn) == 1
        assert count(conn, f"`{full}`") == 0
    finally:
        execute(conn, f"DROP TABLE IF EXISTS `{full}`")


def test_wait_table_name_is_case_sensitive_like_the_file_system(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1])
    if one(conn, "SELECT @@lower_case_table_names") != 0:
        pytest.fail("the private server is expected to run with lower_case_table_names=0")
    assert wait(conn, t.upper(), timeout=0) is None
    assert count(conn, t) == 1


def test_wait_and_select_in_one_multi_statement_round_trip(conn, make_queue):
    """The one-round-trip job loop: SELECT queue_wait(...); SELECT * FROM t."""
    t = make_queue()
    insert_ids(conn, t, [1, 2])
    cur = conn.cursor()
    got = []
    for _ in range(3):
        cur.execute(f"SELECT queue_wait('{t}', 0); SELECT id FROM {t}")
        r = cur.fetchall()[0][0]
        cur.nextset()
        got.append((r, [x[0] for x in cur.fetchall()]))
        while cur.nextset():
            pass
    cur.close()
    assert got == [(1, [1]), (1, [2]), (0, [])]


def test_lock_tables_write_allows_insert_and_select(conn, make_queue):
    t = make_queue()
    execute(conn, f"LOCK TABLES {t} WRITE")
    try:
        insert_ids(conn, t, [1, 2])
        assert column(conn, f"SELECT id FROM {t}") == [1, 2]
        assert execute(conn, f"DELETE FROM {t} LIMIT 1") == 1
    finally:
        execute(conn, "UNLOCK TABLES")
    assert column(conn, f"SELECT id FROM {t}") == [2]
