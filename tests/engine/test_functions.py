"""queue_end(), queue_abort(), queue_rowid() and the queue_sync variable (spec 5.3-5.5, A)."""

from __future__ import annotations

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
    wait,
)

pytestmark = pytest.mark.timeout(60)


# --------------------------------------------------------------------------- queue_end


def test_queue_end_outside_owner_mode_returns_one(conn):
    assert queue_end(conn) == 1
    assert queue_end(conn) == 1


def test_queue_end_after_zero_result_returns_one_and_leaves_owner_mode(conn, make_queue):
    t = make_queue()
    assert wait(conn, t, timeout=0) == 0
    assert queue_end(conn) == 1
    assert not in_owner_mode(conn)


def test_queue_end_ignores_its_arguments(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1, 2])
    assert wait(conn, t) == 1
    assert one(conn, "SELECT queue_end('whatever', 42, NULL)") == 1
    assert column(conn, f"SELECT id FROM {t}") == [2]


def test_queue_end_removal_is_counted(connect, make_queue):
    c, other = connect(), connect()
    t = make_queue()
    insert_ids(other, t, [1, 2, 3])
    assert wait(c, t) == 1
    assert queue_end(c) == 1
    assert count(other, t) == 2


# --------------------------------------------------------------------------- queue_abort


def test_queue_abort_outside_owner_mode_is_error_not_in_owner_mode(conn):
    code, msg = sql_error(conn, "SELECT queue_abort()")
    assert code == ER_CANT_INITIALIZE_UDF
    assert "not in owner mode" in msg


def test_queue_abort_twice_fails_the_second_time(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1])
    assert wait(conn, t) == 1
    assert queue_abort(conn) == 1
    code, msg = sql_error(conn, "SELECT queue_abort()")
    assert code == ER_CANT_INITIALIZE_UDF
    assert "not in owner mode" in msg


def test_queue_abort_after_queue_end_is_error(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1])
    assert wait(conn, t) == 1
    assert queue_end(conn) == 1
    code, _ = sql_error(conn, "SELECT queue_abort()")
    assert code == ER_CANT_INITIALIZE_UDF


def test_queue_abort_returns_row_to_its_original_fifo_position(connect, make_queue):
    c, other = connect(), connect()
    t = make_queue()
    insert_ids(other, t, [1, 2, 3])
    assert wait(c, t) == 1
    assert queue_abort(c) == 1
    assert column(other, f"SELECT id FROM {t}") == [1, 2, 3]
    assert count(other, t) == 3


def test_queue_abort_of_a_middle_row_returns_it_to_its_position(connect, make_queue):
    a, b, other = connect(), connect(), connect()
    t = make_queue()
    insert_ids(other, t, [1, 2, 3, 4])
    assert wait(a, t) == 1  # 1
    assert wait(b, t) == 1  # 2
    assert queue_end(a) == 1
    assert queue_abort(b) == 1
    assert column(other, f"SELECT id FROM {t}") == [2, 3, 4]
    assert wait(other, t) == 1
    assert one(other, f"SELECT id FROM {t}") == 2


def test_queue_abort_after_zero_result_returns_one(conn, make_queue):
    t = make_queue()
    assert wait(conn, t, timeout=0) == 0
    assert queue_abort(conn) == 1
    assert not in_owner_mode(conn)


def test_queue_abort_ignores_its_arguments(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1])
    assert wait(conn, t) == 1
    assert one(conn, "SELECT queue_abort('x', 1)") == 1
    assert column(conn, f"SELECT id FROM {t}") == [1]


def test_aborted_row_keeps_its_row_id(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1, 2])
    assert wait(conn, t) == 1
    first = queue_rowid(conn)
    assert queue_abort(conn) == 1
    assert wait(conn, t) == 1
    assert queue_rowid(conn) == first


# --------------------------------------------------------------------------- queue_rowid


def test_row_ids_are_one_two_three_in_insert_order(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [30, 10, 20])
    got = []
    while wait(conn, t, timeout=0) == 1:
        got.append((queue_rowid(conn), one(conn, f"SELECT id FROM {t}")))
    assert got == [(1, 30), (2, 10), (3, 20)]


def test_row_ids_of_one_multi_row_insert_are_consecutive(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1])
    insert_ids(conn, t, [2, 3, 4])
    ids = []
    while wait(conn, t, timeout=0) == 1:
        ids.append(queue_rowid(conn))
    assert ids == [1, 2, 3, 4]


def test_row_ids_are_not_reused_after_rows_are_removed(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1, 2, 3])
    execute(conn, f"DELETE FROM {t}")
    insert_ids(conn, t, [4])
    assert wait(conn, t) == 1
    assert queue_rowid(conn) == 4


def test_row_ids_continue_after_consumption(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1, 2])
    assert wait(conn, t) == 1
    assert wait(conn, t) == 1
    assert queue_end(conn) == 1
    insert_ids(conn, t, [3])
    assert wait(conn, t) == 1
    assert queue_rowid(conn) == 3


def test_row_ids_are_per_table(conn, make_queue):
    a, b = make_queue(), make_queue()
    insert_ids(conn, a, [1, 2, 3])
    insert_ids(conn, b, [1])
    assert wait(conn, b) == 1
    assert queue_rowid(conn) == 1


def test_queue_rowid_with_an_argument_is_error_1123(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1])
    assert wait(conn, t) == 1
    code, msg = sql_error(conn, "SELECT queue_rowid(1)")
    assert code == ER_CANT_INITIALIZE_UDF
    assert "queue_rowid" in msg


def test_queue_rowid_outside_owner_mode_is_error_1123(conn):
    code, msg = sql_error(conn, "SELECT queue_rowid()")
    assert code == ER_CANT_INITIALIZE_UDF
    assert "not in owner mode" in msg


def test_queue_rowid_after_zero_result_is_null(conn, make_queue):
    t = make_queue()
    assert wait(conn, t, timeout=0) == 0
    assert queue_rowid(conn) is None


def test_queue_rowid_does_not_change_owner_state(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1, 2])
    assert wait(conn, t) == 1
    assert queue_rowid(conn) == queue_rowid(conn) == 1
    assert column(conn, f"SELECT id FROM {t}") == [1]


# --------------------------------------------------------------------------- queue_sync


def test_queue_sync_variable_exists_and_is_global(conn):
    result = rows(conn, "SHOW GLOBAL VARIABLES LIKE 'queue_sync'")
    assert len(result) == 1
    assert result[0][1] in ("ON", "OFF")


def test_queue_sync_defaults_to_on(crash_server):
    """On a freshly started server (nobody has touched it)."""
    c = crash_server.connect()
    try:
        assert rows(c, "SHOW GLOBAL VARIABLES LIKE 'queue_sync'") == [("queue_sync", "ON")]
        assert one(c, "SELECT @@GLOBAL.queue_sync") == 1
    finally:
        c.close()


def test_queue_sync_can_be_turned_off_and_on(q4m_server, conn, make_queue):
    before = one(conn, "SELECT @@GLOBAL.queue_sync")
    t = make_queue()
    try:
        execute(conn, "SET GLOBAL queue_sync = OFF")
        assert one(conn, "SELECT @@GLOBAL.queue_sync") == 0
        insert_ids(conn, t, [1, 2])
        assert wait(conn, t) == 1
        assert queue_end(conn) == 1
        assert column(conn, f"SELECT id FROM {t}") == [2]
        execute(conn, "SET GLOBAL queue_sync = ON")
        assert one(conn, "SELECT @@GLOBAL.queue_sync") == 1
    finally:
        execute(conn, f"SET GLOBAL queue_sync = {int(before)}")


def test_queue_sync_rejects_invalid_values(conn):
    before = one(conn, "SELECT @@GLOBAL.queue_sync")
    sql_error(conn, "SET GLOBAL queue_sync = 'sometimes'")
    assert one(conn, "SELECT @@GLOBAL.queue_sync") == before
