"""TRUNCATE, DROP, RENAME and ALTER on queue tables, also while rows are owned or waiters are
blocked (spec 1.3, 5.6, A)."""

from __future__ import annotations

import glob
import os
import time

import pytest

from .engine_helpers import (
    ER_NO_SUCH_TABLE,
    assert_server_alive,
    column,
    count,
    execute,
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


def _files_named(server, db: str, table: str) -> list[str]:
    return glob.glob(os.path.join(server.datadir, db, table + ".*"))


# --------------------------------------------------------------------------- TRUNCATE


def test_truncate_empties_the_queue(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, range(100))
    execute(conn, f"TRUNCATE TABLE {t}")
    assert count(conn, t) == 0
    assert rows(conn, f"SELECT * FROM {t}") == []
    assert wait(conn, t, timeout=0) == 0


def test_truncate_restarts_row_ids_at_one(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1, 2, 3])
    execute(conn, f"TRUNCATE TABLE {t}")
    insert_ids(conn, t, [9])
    assert wait(conn, t) == 1
    assert queue_rowid(conn) == 1


def test_owner_sees_nothing_after_truncate(connect, make_queue):
    owner, other = connect(), connect()
    t = make_queue()
    insert_ids(other, t, [1, 2])
    assert wait(owner, t) == 1
    execute(other, f"TRUNCATE TABLE {t}")
    insert_ids(other, t, [10, 11])
    assert rows(owner, f"SELECT * FROM {t}") == []


def test_owner_queue_end_after_truncate_does_not_touch_the_new_table(connect, make_queue):
    owner, other = connect(), connect()
    t = make_queue()
    insert_ids(other, t, [1, 2])
    assert wait(owner, t) == 1  # owns row id 1 of the old table
    execute(other, f"TRUNCATE TABLE {t}")
    insert_ids(other, t, [10, 11])  # new row ids 1 and 2
    assert queue_end(owner) == 1
    assert column(other, f"SELECT id FROM {t}") == [10, 11]
    assert count(other, t) == 2


def test_owner_queue_abort_after_truncate_does_not_touch_the_new_table(connect, make_queue):
    owner, other = connect(), connect()
    t = make_queue()
    insert_ids(other, t, [1, 2])
    assert wait(owner, t) == 1
    execute(other, f"TRUNCATE TABLE {t}")
    insert_ids(other, t, [10, 11])
    assert queue_abort(owner) == 1
    assert column(other, f"SELECT id FROM {t}") == [10, 11]
    assert count(other, t) == 2


def test_owner_next_wait_after_truncate_takes_a_new_row(connect, make_queue):
    owner, other = connect(), connect()
    t = make_queue()
    insert_ids(other, t, [1])
    assert wait(owner, t) == 1
    execute(other, f"TRUNCATE TABLE {t}")
    insert_ids(other, t, [10, 11])
    assert wait(owner, t) == 1
    assert column(owner, f"SELECT id FROM {t}") == [10]
    assert column(other, f"SELECT id FROM {t}") == [11]


# --------------------------------------------------------------------------- DROP


def test_drop_table_removes_its_files(q4m_server, conn):
    t = unique_name("drop_files")
    execute(conn, f"CREATE TABLE {t} (id INT) ENGINE=QUEUE")
    execute(conn, f"INSERT INTO {t} VALUES (1)")
    assert _files_named(q4m_server, "test", t), "no file for the table in the datadir"
    execute(conn, f"DROP TABLE {t}")
    assert _files_named(q4m_server, "test", t) == []


def test_recreate_after_drop_gives_an_empty_queue(conn):
    t = unique_name("recreate")
    try:
        execute(conn, f"CREATE TABLE {t} (id INT) ENGINE=QUEUE")
        execute(conn, f"INSERT INTO {t} VALUES (1), (2)")
        execute(conn, f"DROP TABLE {t}")
        execute(conn, f"CREATE TABLE {t} (id INT) ENGINE=QUEUE")
        assert count(conn, t) == 0
        assert rows(conn, f"SELECT * FROM {t}") == []
        execute(conn, f"INSERT INTO {t} VALUES (3)")
        assert wait(conn, t) == 1
        assert queue_rowid(conn) == 1
    finally:
        execute(conn, f"DROP TABLE IF EXISTS {t}")


@pytest.mark.timeout(60)
def test_blocked_waiters_time_out_with_zero_when_table_is_dropped(q4m_server, connect):
    w1, w2, other = connect(), connect(), connect()
    t = unique_name("drop_waited")
    execute(other, f"CREATE TABLE {t} (id INT) ENGINE=QUEUE")
    bgs = [start_wait(w, t, timeout=3) for w in (w1, w2)]
    wait_until_blocked(other, [w1, w2])
    execute(other, f"DROP TABLE {t}")
    for bg in bgs:
        bg.join(20)
        assert bg.error is None
        assert bg.result == 0
    assert_server_alive(q4m_server)


def test_waiter_on_dropped_and_recreated_table_does_not_crash(q4m_server, connect):
    waiter, other = connect(), connect()
    t = unique_name("drop_recreate_waited")
    execute(other, f"CREATE TABLE {t} (id INT) ENGINE=QUEUE")
    try:
        bg = start_wait(waiter, t, timeout=3)
        wait_until_blocked(other, [waiter])
        execute(other, f"DROP TABLE {t}")
        execute(other, f"CREATE TABLE {t} (id INT) ENGINE=QUEUE")
        execute(other, f"INSERT INTO {t} VALUES (1)")
        bg.join(20)
        assert bg.error is None
        assert bg.result in (0, 1)
        visible = count(other, t)
        assert visible == 1  # either still there or owned by the waiter
        assert queue_end(waiter) == 1
        assert count(other, t) == (0 if bg.result == 1 else 1)
        assert_server_alive(q4m_server)
    finally:
        execute(other, f"DROP TABLE IF EXISTS {t}")


def test_owner_select_after_drop_is_no_such_table(connect):
    owner, other = connect(), connect()
    t = unique_name("drop_owned")
    execute(other, f"CREATE TABLE {t} (id INT) ENGINE=QUEUE")
    execute(other, f"INSERT INTO {t} VALUES (1), (2)")
    assert wait(owner, t) == 1
    execute(other, f"DROP TABLE {t}")
    code, _ = sql_error(owner, f"SELECT * FROM {t}")
    assert code == ER_NO_SUCH_TABLE


def test_owner_of_dropped_table_can_end_and_wait_on_another_table(q4m_server, connect, make_queue):
    owner, other = connect(), connect()
    t = unique_name("drop_owned_end")
    nxt = make_queue()
    execute(other, f"CREATE TABLE {t} (id INT) ENGINE=QUEUE")
    execute(other, f"INSERT INTO {t} VALUES (1)")
    insert_ids(other, nxt, [5])
    assert wait(owner, t) == 1
    execute(other, f"DROP TABLE {t}")
    assert queue_end(owner) == 1
    assert wait(owner, nxt) == 1
    assert column(owner, f"SELECT id FROM {nxt}") == [5]
    assert_server_alive(q4m_server)


def test_owner_of_dropped_table_can_abort(q4m_server, connect):
    owner, other = connect(), connect()
    t = unique_name("drop_owned_abort")
    execute(other, f"CREATE TABLE {t} (id INT) ENGINE=QUEUE")
    execute(other, f"INSERT INTO {t} VALUES (1)")
    assert wait(owner, t) == 1
    execute(other, f"DROP TABLE {t}")
    assert queue_abort(owner) == 1
    execute(other, f"CREATE TABLE {t} (id INT) ENGINE=QUEUE")
    try:
        assert count(other, t) == 0
    finally:
        execute(other, f"DROP TABLE {t}")
    assert_server_alive(q4m_server)


# --------------------------------------------------------------------------- RENAME


def test_rename_moves_rows_with_the_table(conn, make_queue):
    t = make_queue()
    new = unique_name("renamed")
    insert_ids(conn, t, [3, 1, 2])
    execute(conn, f"RENAME TABLE {t} TO {new}")
    try:
        assert column(conn, f"SELECT id FROM {new}") == [3, 1, 2]
        assert count(conn, new) == 3
        code, _ = sql_error(conn, f"SELECT * FROM {t}")
        assert code == ER_NO_SUCH_TABLE
    finally:
        execute(conn, f"DROP TABLE IF EXISTS {new}")


def test_queue_wait_works_on_renamed_table_and_not_on_old_name(conn, make_queue):
    t = make_queue()
    new = unique_name("renamed_wait")
    insert_ids(conn, t, [1, 2])
    execute(conn, f"RENAME TABLE {t} TO {new}")
    try:
        assert wait(conn, t, timeout=0) is None
        assert wait(conn, new, timeout=0) == 1
        assert queue_rowid(conn) == 1
        assert column(conn, f"SELECT id FROM {new}") == [1]
    finally:
        execute(conn, f"DROP TABLE IF EXISTS {new}")


def test_rename_moves_the_files(q4m_server, conn, make_queue):
    t = make_queue()
    new = unique_name("renamed_files")
    insert_ids(conn, t, [1])
    execute(conn, f"RENAME TABLE {t} TO {new}")
    try:
        assert _files_named(q4m_server, "test", t) == []
        assert _files_named(q4m_server, "test", new)
    finally:
        execute(conn, f"DROP TABLE IF EXISTS {new}")


def test_rename_into_another_database_moves_rows(conn, make_queue, other_db):
    t = make_queue()
    insert_ids(conn, t, [1, 2])
    execute(conn, f"RENAME TABLE test.{t} TO {other_db}.{t}")
    assert column(conn, f"SELECT id FROM {other_db}.{t}") == [1, 2]
    assert wait(conn, f"{other_db}.{t}", timeout=0) == 1
    assert column(conn, f"SELECT id FROM {other_db}.{t}") == [1]


def test_recreating_the_old_name_after_rename_gives_an_empty_queue(conn, make_queue):
    t = make_queue()
    new = unique_name("renamed_away")
    insert_ids(conn, t, [1, 2])
    execute(conn, f"RENAME TABLE {t} TO {new}")
    try:
        execute(conn, f"CREATE TABLE {t} (id INT NOT NULL, v VARCHAR(64)) ENGINE=QUEUE")
        assert count(conn, t) == 0
        assert count(conn, new) == 2
    finally:
        execute(conn, f"DROP TABLE IF EXISTS {new}")


# --------------------------------------------------------------------------- ALTER (no owner)


def test_alter_add_column_keeps_rows_in_order_with_null_new_column(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [3, 1, 2])
    execute(conn, f"ALTER TABLE {t} ADD COLUMN extra INT NULL")
    assert rows(conn, f"SELECT id, v, extra FROM {t}") == [
        (3, "v3", None),
        (1, "v1", None),
        (2, "v2", None),
    ]


def test_alter_drop_column_keeps_rows_in_order(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [3, 1, 2])
    execute(conn, f"ALTER TABLE {t} DROP COLUMN v")
    assert rows(conn, f"SELECT * FROM {t}") == [(3,), (1,), (2,)]


def test_alter_table_engine_queue_rebuild_keeps_rows(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [5, 4])
    execute(conn, f"ALTER TABLE {t} ENGINE=QUEUE")
    assert column(conn, f"SELECT id FROM {t}") == [5, 4]
    assert wait(conn, t) == 1
    assert one(conn, f"SELECT id FROM {t}") == 5


def test_alter_from_innodb_to_queue_copies_rows(conn, make_innodb):
    t = make_innodb()
    execute(conn, f"INSERT INTO {t} VALUES (1, 'a'), (2, 'b')")
    execute(conn, f"ALTER TABLE {t} DROP PRIMARY KEY, ENGINE=QUEUE")
    assert rows(conn, f"SELECT id, v FROM {t}") == [(1, "a"), (2, "b")]
    assert wait(conn, t) == 1


def test_alter_from_queue_to_innodb_copies_rows(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1, 2])
    execute(conn, f"ALTER TABLE {t} ENGINE=InnoDB")
    assert rows(conn, f"SELECT id, v FROM {t} ORDER BY id") == [(1, "v1"), (2, "v2")]


# --------------------------------------------------------------------------- ALTER while owned


def _owned_alter(connect, make_queue, alter_sql):
    owner, other = connect(), connect()
    t = make_queue()
    insert_ids(other, t, [1, 2, 3, 4])
    assert wait(owner, t) == 1
    assert wait(owner, t) == 1  # consumes 1, owns 2
    start = time.monotonic()
    execute(other, alter_sql.format(t=t))
    assert time.monotonic() - start < 10, "ALTER was blocked by the owner"
    return owner, other, t


def test_alter_add_column_while_owned_keeps_unowned_rows_in_order(connect, make_queue):
    _, other, t = _owned_alter(connect, make_queue, "ALTER TABLE {t} ADD COLUMN extra INT NULL")
    assert rows(other, f"SELECT id, v, extra FROM {t}") == [(3, "v3", None), (4, "v4", None)]


def test_owner_sees_its_row_in_the_new_layout_after_alter_add_column(connect, make_queue):
    owner, _, t = _owned_alter(connect, make_queue, "ALTER TABLE {t} ADD COLUMN extra INT NULL")
    assert rows(owner, f"SELECT * FROM {t}") == [(2, "v2", None)]


def test_owner_sees_its_row_in_the_new_layout_after_alter_drop_column(connect, make_queue):
    owner, other, t = _owned_alter(connect, make_queue, "ALTER TABLE {t} DROP COLUMN v")
    assert rows(owner, f"SELECT * FROM {t}") == [(2,)]
    assert rows(other, f"SELECT * FROM {t}") == [(3,), (4,)]


def test_owned_row_stays_hidden_from_others_after_alter(connect, make_queue):
    _, other, t = _owned_alter(connect, make_queue, "ALTER TABLE {t} ADD COLUMN extra INT NULL")
    assert column(other, f"SELECT id FROM {t}") == [3, 4]
    assert wait(other, t, timeout=0) == 1
    assert one(other, f"SELECT id FROM {t}") == 3


def test_count_after_alter_includes_the_owned_row(connect, make_queue):
    _, other, t = _owned_alter(connect, make_queue, "ALTER TABLE {t} ADD COLUMN extra INT NULL")
    assert count(other, t) == 3


def test_owner_queue_end_after_alter_deletes_the_carried_row(connect, make_queue):
    owner, other, t = _owned_alter(connect, make_queue, "ALTER TABLE {t} ADD COLUMN extra INT NULL")
    assert queue_end(owner) == 1
    assert column(other, f"SELECT id FROM {t}") == [3, 4]
    assert count(other, t) == 2
    assert column(owner, f"SELECT id FROM {t}") == [3, 4]


def test_owner_queue_abort_after_alter_returns_the_carried_row(connect, make_queue):
    owner, other, t = _owned_alter(connect, make_queue, "ALTER TABLE {t} ADD COLUMN extra INT NULL")
    assert queue_abort(owner) == 1
    assert sorted(column(other, f"SELECT id FROM {t}")) == [2, 3, 4]
    assert count(other, t) == 3


def test_aborted_row_after_alter_is_back_at_its_fifo_position(connect, make_queue):
    owner, other, t = _owned_alter(connect, make_queue, "ALTER TABLE {t} ADD COLUMN extra INT NULL")
    assert queue_abort(owner) == 1
    assert rows(other, f"SELECT id, v, extra FROM {t}") == [
        (2, "v2", None),
        (3, "v3", None),
        (4, "v4", None),
    ]


def test_owner_next_wait_after_alter_consumes_the_carried_row(connect, make_queue):
    owner, other, t = _owned_alter(connect, make_queue, "ALTER TABLE {t} ADD COLUMN extra INT NULL")
    assert wait(owner, t) == 1
    assert column(owner, f"SELECT id FROM {t}") == [3]
    assert queue_end(owner) == 1
    assert column(other, f"SELECT id FROM {t}") == [4]
    assert count(other, t) == 1


def test_owner_can_insert_after_alter(connect, make_queue):
    owner, other, t = _owned_alter(connect, make_queue, "ALTER TABLE {t} ADD COLUMN extra INT NULL")
    execute(owner, f"INSERT INTO {t} VALUES (9, 'new', 99)")
    assert rows(other, f"SELECT id, extra FROM {t}") == [(3, None), (4, None), (9, 99)]
    assert column(owner, f"SELECT id FROM {t}") == [2]


def test_nothing_lost_or_duplicated_by_alter_with_several_owners(connect, make_queue):
    owners = [connect() for _ in range(3)]
    other = connect()
    t = make_queue()
    insert_ids(other, t, range(1, 11))
    held = []
    for o in owners:
        assert wait(o, t) == 1
        held.append(one(o, f"SELECT id FROM {t}"))
    execute(other, f"ALTER TABLE {t} ADD COLUMN extra INT NULL")
    assert queue_end(owners[0]) == 1
    assert queue_abort(owners[1]) == 1
    owners[2].close()  # disconnect releases the third
    expected = sorted(set(range(1, 11)) - {held[0]})
    got = []
    for _ in range(100):
        got = column(other, f"SELECT id FROM {t}")
        if len(got) == len(expected):
            break
        time.sleep(0.05)
    assert sorted(got) == expected
    assert count(other, t) == len(expected)


def test_alter_while_waiters_are_blocked(q4m_server, connect, make_queue):
    """ALTER is not blocked by waiters, nobody crashes, and the inserted row is not lost:
    the waiter either gets it or times out with the row still queued."""
    waiter, other = connect(), connect()
    t = make_queue()
    bg = start_wait(waiter, t, timeout=3, fetch_owned_from=t)
    wait_until_blocked(other, [waiter])
    start = time.monotonic()
    execute(other, f"ALTER TABLE {t} ADD COLUMN extra INT NULL")
    assert time.monotonic() - start < 3, "ALTER waited for the blocked queue_wait"
    execute(other, f"INSERT INTO {t} VALUES (1, 'a', 7)")
    bg.join(20)
    assert bg.error is None
    assert bg.result in (0, 1)
    if bg.result == 1:
        assert bg.owned_rows == [(1, "a", 7)]
        assert rows(other, f"SELECT * FROM {t}") == []
    else:
        assert rows(other, f"SELECT * FROM {t}") == [(1, "a", 7)]
    assert count(other, t) == 1
    assert_server_alive(q4m_server)


def test_new_waiter_after_alter_gets_rows_of_the_new_table(connect, make_queue):
    waiter, other = connect(), connect()
    t = make_queue()
    execute(other, f"ALTER TABLE {t} ADD COLUMN extra INT NULL")
    bg = start_wait(waiter, t, timeout=20, fetch_owned_from=t)
    wait_until_blocked(other, [waiter])
    execute(other, f"INSERT INTO {t} VALUES (1, 'a', 7)")
    bg.join(20)
    assert bg.result == 1
    assert bg.owned_rows == [(1, "a", 7)]


def test_drop_database_with_queue_tables_removes_them(q4m_server, conn):
    db = unique_name("dropdb")
    execute(conn, f"CREATE DATABASE {db}")
    execute(conn, f"CREATE TABLE {db}.q1 (id INT) ENGINE=QUEUE")
    execute(conn, f"CREATE TABLE {db}.q2 (id INT) ENGINE=QUEUE")
    execute(conn, f"INSERT INTO {db}.q1 VALUES (1)")
    execute(conn, f"DROP DATABASE {db}")
    assert not os.path.exists(os.path.join(q4m_server.datadir, db))
    assert wait(conn, f"{db}.q1", timeout=0) is None
    assert_server_alive(q4m_server)


def test_create_table_like_a_queue_gives_an_empty_queue(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1])
    copy = unique_name("like_copy")
    execute(conn, f"CREATE TABLE {copy} LIKE {t}")
    try:
        assert (
            one(
                conn,
                "SELECT ENGINE FROM information_schema.TABLES "
                "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
                (copy,),
            )
            == "QUEUE"
        )
        assert count(conn, copy) == 0
        insert_ids(conn, copy, [5])
        assert wait(conn, copy) == 1
        assert one(conn, f"SELECT id FROM {copy}") == 5
    finally:
        execute(conn, f"DROP TABLE IF EXISTS {copy}")


def test_create_table_as_select_into_a_queue(conn, make_innodb):
    src = make_innodb()
    execute(conn, f"INSERT INTO {src} VALUES (2, 'b'), (1, 'a')")
    t = unique_name("ctas")
    execute(conn, f"CREATE TABLE {t} ENGINE=QUEUE AS SELECT id, v FROM {src} ORDER BY id")
    try:
        assert rows(conn, f"SELECT id, v FROM {t}") == [(1, "a"), (2, "b")]
        assert wait(conn, t) == 1
        assert queue_rowid(conn) == 1
    finally:
        execute(conn, f"DROP TABLE IF EXISTS {t}")


# --------------------------------------------------------------------------- more DDL under load


def test_truncate_while_waiters_are_blocked(q4m_server, connect, make_queue):
    """TRUNCATE is not blocked by a waiter, nobody crashes, and a row inserted afterwards is
    either handed to the waiter or still queued."""
    waiter, other = connect(), connect()
    t = make_queue()
    bg = start_wait(waiter, t, timeout=3, fetch_owned_from=t)
    wait_until_blocked(other, [waiter])
    start = time.monotonic()
    execute(other, f"TRUNCATE TABLE {t}")
    assert time.monotonic() - start < 3, "TRUNCATE waited for the blocked queue_wait"
    execute(other, f"INSERT INTO {t} VALUES (1, 'a')")
    bg.join(20)
    assert bg.error is None
    assert bg.result in (0, 1)
    if bg.result == 1:
        assert bg.owned_rows == [(1, "a")]
    else:
        assert rows(other, f"SELECT id, v FROM {t}") == [(1, "a")]
    assert count(other, t) == 1
    assert_server_alive(q4m_server)


def _owned_rename(connect, make_queue):
    owner, other = connect(), connect()
    t = make_queue()
    new = unique_name("renamed_owned")
    insert_ids(other, t, [1, 2, 3])
    assert wait(owner, t) == 1  # owns 1
    execute(other, f"RENAME TABLE {t} TO {new}")
    return owner, other, new


def test_owner_queue_end_after_rename_deletes_the_moved_row(connect, make_queue):
    owner, other, new = _owned_rename(connect, make_queue)
    try:
        assert queue_end(owner) == 1
        assert column(other, f"SELECT id FROM {new}") == [2, 3]
        assert count(other, new) == 2
    finally:
        execute(other, f"DROP TABLE IF EXISTS {new}")


def test_owner_queue_abort_after_rename_returns_the_moved_row(connect, make_queue):
    owner, other, new = _owned_rename(connect, make_queue)
    try:
        assert queue_abort(owner) == 1
        assert column(other, f"SELECT id FROM {new}") == [1, 2, 3]
        assert count(other, new) == 3
    finally:
        execute(other, f"DROP TABLE IF EXISTS {new}")


def test_owned_row_stays_hidden_after_rename(connect, make_queue):
    _owner, other, new = _owned_rename(connect, make_queue)
    try:
        assert column(other, f"SELECT id FROM {new}") == [2, 3]
        assert count(other, new) == 3
    finally:
        execute(other, f"DROP TABLE IF EXISTS {new}")
