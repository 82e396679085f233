"""INSERT forms and the plain-SQL view outside owner mode (spec 2.1, 3, 6)."""

from __future__ import annotations

import pytest

from .engine_helpers import (
    column,
    count,
    execute,
    insert_ids,
    one,
    queue_abort,
    queue_end,
    rows,
    wait,
)

pytestmark = pytest.mark.timeout(60)


# --------------------------------------------------------------------------- INSERT forms


def test_single_row_insert_reports_one_row_and_is_visible(conn, make_queue):
    t = make_queue()
    assert execute(conn, f"INSERT INTO {t} VALUES (1, 'one')") == 1
    assert rows(conn, f"SELECT id, v FROM {t}") == [(1, "one")]


def test_multi_row_insert_reports_all_rows_and_keeps_statement_order(conn, make_queue):
    t = make_queue()
    assert execute(conn, f"INSERT INTO {t} VALUES (3, 'c'), (1, 'a'), (2, 'b')") == 3
    assert rows(conn, f"SELECT id, v FROM {t}") == [(3, "c"), (1, "a"), (2, "b")]


def test_insert_with_column_list_in_other_order(conn, make_queue):
    t = make_queue()
    execute(conn, f"INSERT INTO {t} (v, id) VALUES ('x', 10)")
    assert rows(conn, f"SELECT id, v FROM {t}") == [(10, "x")]


def test_insert_set_form(conn, make_queue):
    t = make_queue()
    assert execute(conn, f"INSERT INTO {t} SET id = 5, v = 'five'") == 1
    assert rows(conn, f"SELECT id, v FROM {t}") == [(5, "five")]


def test_insert_select_from_innodb_keeps_select_order(conn, make_queue, make_innodb):
    src = make_innodb()
    t = make_queue()
    execute(conn, f"INSERT INTO {src} VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')")
    assert execute(conn, f"INSERT INTO {t} SELECT id, v FROM {src} ORDER BY id DESC") == 4
    assert column(conn, f"SELECT id FROM {t}") == [4, 3, 2, 1]


def test_insert_select_from_queue_into_another_queue(conn, make_queue):
    a = make_queue()
    b = make_queue()
    insert_ids(conn, a, range(1, 101))
    assert execute(conn, f"INSERT INTO {b} SELECT * FROM {a}") == 100
    assert column(conn, f"SELECT id FROM {b}") == list(range(1, 101))
    assert count(conn, a) == 100  # the source is read, not consumed


def test_insert_select_from_a_queue_into_itself_does_not_loop(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, range(1, 11))
    assert execute(conn, f"INSERT INTO {t} SELECT id + 100, v FROM {t}") == 10
    assert column(conn, f"SELECT id FROM {t}") == list(range(1, 11)) + list(range(101, 111))


def test_trigger_on_innodb_table_inserts_into_queue(conn, make_queue, make_innodb):
    src = make_innodb()
    t = make_queue()
    trg = f"trg_{src}"[:64]
    execute(
        conn,
        f"CREATE TRIGGER {trg} AFTER INSERT ON {src} FOR EACH ROW "
        f"INSERT INTO {t} (id, v) VALUES (NEW.id, CONCAT('job-', NEW.v))",
    )
    try:
        execute(conn, f"INSERT INTO {src} VALUES (1, 'a'), (2, 'b')")
        execute(conn, f"INSERT INTO {src} VALUES (3, 'c')")
        assert rows(conn, f"SELECT id, v FROM {t}") == [(1, "job-a"), (2, "job-b"), (3, "job-c")]
    finally:
        execute(conn, f"DROP TRIGGER IF EXISTS {trg}")


def test_server_side_prepared_insert(conn, make_queue):
    t = make_queue()
    execute(conn, f"PREPARE ins FROM 'INSERT INTO {t} VALUES (?, ?)'")
    for i in range(3):
        execute(conn, f"SET @i = {i}, @v = 'p{i}'")
        execute(conn, "EXECUTE ins USING @i, @v")
    execute(conn, "DEALLOCATE PREPARE ins")
    assert rows(conn, f"SELECT id, v FROM {t}") == [(0, "p0"), (1, "p1"), (2, "p2")]


def test_replace_behaves_like_insert(conn, make_queue):
    t = make_queue()
    execute(conn, f"INSERT INTO {t} VALUES (1, 'a')")
    execute(conn, f"REPLACE INTO {t} VALUES (1, 'a')")
    assert rows(conn, f"SELECT id, v FROM {t}") == [(1, "a"), (1, "a")]


def test_insert_is_not_undone_by_rollback(conn, make_queue):
    t = make_queue()
    execute(conn, "BEGIN")
    execute(conn, f"INSERT INTO {t} VALUES (1, 'a')")
    execute(conn, "ROLLBACK")
    assert rows(conn, f"SELECT id, v FROM {t}") == [(1, "a")]


def test_insert_of_ten_thousand_rows_in_one_statement(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, range(10000), width=10000)
    assert count(conn, t) == 10000
    assert column(conn, f"SELECT id FROM {t}") == list(range(10000))


def test_rows_inserted_by_another_connection_are_visible_at_once(connect, make_queue):
    a, b = connect(), connect()
    t = make_queue()
    execute(a, f"INSERT INTO {t} VALUES (1, 'a')")
    assert rows(b, f"SELECT id, v FROM {t}") == [(1, "a")]


# --------------------------------------------------------------------------- plain SELECT


def test_select_returns_rows_in_insertion_order(conn, make_queue):
    t = make_queue()
    ids = [7, 3, 9, 1, 5, 2, 8]
    for i in ids:
        execute(conn, f"INSERT INTO {t} VALUES ({i}, 'x')")
    assert column(conn, f"SELECT id FROM {t}") == ids


def test_select_with_where_order_by_and_limit(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [5, 1, 4, 2, 3])
    assert column(conn, f"SELECT id FROM {t} WHERE id > 1 ORDER BY id DESC LIMIT 2") == [5, 4]
    assert column(conn, f"SELECT id FROM {t} LIMIT 2") == [5, 1]


def test_select_join_with_innodb_table(conn, make_queue, make_innodb):
    t = make_queue()
    ref = make_innodb("id INT PRIMARY KEY, name VARCHAR(10)")
    insert_ids(conn, t, [1, 2, 3])
    execute(conn, f"INSERT INTO {ref} VALUES (2, 'two'), (3, 'three')")
    assert rows(
        conn, f"SELECT q.id, r.name FROM {t} q JOIN {ref} r ON r.id = q.id ORDER BY q.id"
    ) == [(2, "two"), (3, "three")]


def test_select_in_subquery(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1, 2, 3])
    assert one(conn, f"SELECT COUNT(*) FROM (SELECT id FROM {t} WHERE id >= 2) s") == 2


def test_select_aggregates(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, range(1, 11))
    assert rows(conn, f"SELECT SUM(id), MIN(id), MAX(id) FROM {t}") == [(55, 1, 10)]


def test_owned_row_is_hidden_from_other_connections_select(connect, make_queue):
    owner, other = connect(), connect()
    t = make_queue()
    insert_ids(owner, t, [1, 2, 3])
    assert wait(owner, t) == 1
    assert column(other, f"SELECT id FROM {t}") == [2, 3]


def test_count_star_without_where_includes_rows_owned_by_others(connect, make_queue):
    owner, other = connect(), connect()
    t = make_queue()
    insert_ids(owner, t, [1, 2, 3])
    assert wait(owner, t) == 1
    assert count(other, t) == 3


def test_count_star_with_where_excludes_rows_owned_by_others(connect, make_queue):
    owner, other = connect(), connect()
    t = make_queue()
    insert_ids(owner, t, [1, 2, 3])
    assert wait(owner, t) == 1
    assert one(other, f"SELECT COUNT(*) FROM {t} WHERE id > 0") == 2


def test_count_star_is_exact_after_inserts_deletes_and_consumption(connect, make_queue):
    a, b = connect(), connect()
    t = make_queue()
    insert_ids(a, t, range(1, 21))
    execute(a, f"DELETE FROM {t} WHERE id <= 5")
    assert wait(b, t) == 1
    assert queue_end(b) == 1
    assert count(a, t) == 14
    assert one(a, f"SELECT COUNT(*) FROM {t} WHERE id > 0") == 14


def test_select_after_owner_aborts_shows_row_again(connect, make_queue):
    owner, other = connect(), connect()
    t = make_queue()
    insert_ids(owner, t, [1, 2])
    assert wait(owner, t) == 1
    assert column(other, f"SELECT id FROM {t}") == [2]
    assert queue_abort(owner) == 1
    assert column(other, f"SELECT id FROM {t}") == [1, 2]


# --------------------------------------------------------------------------- plain DELETE


def test_delete_with_where_removes_matching_rows(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, range(1, 7))
    assert execute(conn, f"DELETE FROM {t} WHERE id % 2 = 0") == 3
    assert column(conn, f"SELECT id FROM {t}") == [1, 3, 5]
    assert count(conn, t) == 3


def test_delete_without_where_empties_the_queue(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, range(1, 51))
    assert execute(conn, f"DELETE FROM {t}") == 50
    assert count(conn, t) == 0
    assert rows(conn, f"SELECT * FROM {t}") == []


def test_delete_skips_rows_owned_by_other_connections(connect, make_queue):
    owner, other = connect(), connect()
    t = make_queue()
    insert_ids(owner, t, [1, 2, 3])
    assert wait(owner, t) == 1
    assert execute(other, f"DELETE FROM {t}") == 2
    assert column(owner, f"SELECT id FROM {t}") == [1]  # still owned and live
    assert count(other, t) == 1
    assert queue_abort(owner) == 1
    assert column(other, f"SELECT id FROM {t}") == [1]


def test_row_owned_during_delete_can_still_be_consumed_by_owner(connect, make_queue):
    owner, other = connect(), connect()
    t = make_queue()
    insert_ids(owner, t, [1, 2, 3])
    assert wait(owner, t) == 1
    execute(other, f"DELETE FROM {t}")
    assert queue_end(owner) == 1
    assert count(other, t) == 0
    assert rows(other, f"SELECT * FROM {t}") == []


def test_delete_limit_removes_the_n_oldest_rows(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [9, 4, 7, 1, 8])
    assert execute(conn, f"DELETE FROM {t} LIMIT 3") == 3
    assert column(conn, f"SELECT id FROM {t}") == [1, 8]


def test_delete_where_limit_removes_the_n_oldest_matching_rows(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [9, 4, 7, 1, 8, 6])
    assert execute(conn, f"DELETE FROM {t} WHERE id > 5 LIMIT 2") == 2
    assert column(conn, f"SELECT id FROM {t}") == [4, 1, 8, 6]


def test_delete_order_by_limit(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [9, 4, 7, 1, 8])
    assert execute(conn, f"DELETE FROM {t} ORDER BY id DESC LIMIT 2") == 2
    assert column(conn, f"SELECT id FROM {t}") == [4, 7, 1]


def test_delete_is_not_undone_by_rollback(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1, 2])
    execute(conn, "BEGIN")
    execute(conn, f"DELETE FROM {t} WHERE id = 1")
    execute(conn, "ROLLBACK")
    assert column(conn, f"SELECT id FROM {t}") == [2]


def test_deleted_rows_are_never_delivered_by_queue_wait(connect, make_queue):
    a, b = connect(), connect()
    t = make_queue()
    insert_ids(a, t, [1, 2, 3, 4])
    execute(a, f"DELETE FROM {t} WHERE id IN (1, 3)")
    got = []
    while wait(b, t, timeout=0) == 1:
        got.append(one(b, f"SELECT id FROM {t}"))
    assert got == [2, 4]


def test_delete_join_with_innodb_table(conn, make_queue, make_innodb):
    t = make_queue()
    ref = make_innodb("id INT PRIMARY KEY")
    insert_ids(conn, t, [1, 2, 3, 4])
    execute(conn, f"INSERT INTO {ref} VALUES (2), (4)")
    execute(conn, f"DELETE q FROM {t} q JOIN {ref} r ON r.id = q.id")
    assert column(conn, f"SELECT id FROM {t}") == [1, 3]
