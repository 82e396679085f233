"""What a connection in owner mode sees and does (spec 5.1, 5.2 table, 5.3, 5.4)."""

from __future__ import annotations

import pytest

from .engine_helpers import (
    column,
    count,
    execute,
    in_owner_mode,
    insert_ids,
    queue_abort,
    queue_end,
    rows,
    wait,
)

pytestmark = pytest.mark.timeout(60)


def test_owner_select_sees_exactly_its_owned_row(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1, 2, 3])
    assert wait(conn, t) == 1
    assert rows(conn, f"SELECT id, v FROM {t}") == [(1, "v1")]


def test_owner_select_with_where_not_matching_owned_row_is_empty(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1, 2, 3])
    assert wait(conn, t) == 1
    assert rows(conn, f"SELECT id FROM {t} WHERE id = 2") == []


def test_owner_sees_no_rows_on_other_queue_tables(conn, make_queue):
    a, b = make_queue(), make_queue()
    insert_ids(conn, a, [1])
    insert_ids(conn, b, [10, 11])
    assert wait(conn, a) == 1
    assert rows(conn, f"SELECT * FROM {b}") == []


def test_after_zero_result_owner_sees_nothing_even_rows_it_inserted(conn, make_queue):
    t, other = make_queue(), make_queue()
    insert_ids(conn, other, [5])
    assert wait(conn, t, timeout=0) == 0
    execute(conn, f"INSERT INTO {t} VALUES (1, 'mine')")
    assert rows(conn, f"SELECT * FROM {t}") == []
    assert rows(conn, f"SELECT * FROM {other}") == []


def test_after_zero_result_rows_become_visible_again_after_queue_end(conn, make_queue):
    t = make_queue()
    assert wait(conn, t, timeout=0) == 0
    execute(conn, f"INSERT INTO {t} VALUES (1, 'mine')")
    assert queue_end(conn) == 1
    assert rows(conn, f"SELECT id, v FROM {t}") == [(1, "mine")]


def test_after_zero_result_rows_become_visible_again_after_queue_abort(conn, make_queue):
    t = make_queue()
    assert wait(conn, t, timeout=0) == 0
    execute(conn, f"INSERT INTO {t} VALUES (1, 'mine')")
    assert queue_abort(conn) == 1
    assert rows(conn, f"SELECT id, v FROM {t}") == [(1, "mine")]


def test_owner_count_star_is_one_on_owned_table(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1, 2, 3])
    assert wait(conn, t) == 1
    assert count(conn, t) == 1


def test_owner_count_star_is_zero_on_other_queue_tables(conn, make_queue):
    a, b = make_queue(), make_queue()
    insert_ids(conn, a, [1])
    insert_ids(conn, b, [1, 2])
    assert wait(conn, a) == 1
    assert count(conn, b) == 0


def test_count_star_is_zero_after_zero_result(conn, make_queue):
    t = make_queue()
    assert wait(conn, t, timeout=0) == 0
    insert_ids(conn, t, [1, 2])
    assert count(conn, t) == 0


def test_owner_count_star_is_zero_after_deleting_its_own_row(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1, 2])
    assert wait(conn, t) == 1
    assert execute(conn, f"DELETE FROM {t}") == 1
    assert count(conn, t) == 0
    assert rows(conn, f"SELECT * FROM {t}") == []


def test_owner_delete_deletes_only_the_owned_row(connect, make_queue):
    owner, other = connect(), connect()
    t = make_queue()
    insert_ids(owner, t, [1, 2, 3])
    assert wait(owner, t) == 1
    assert execute(owner, f"DELETE FROM {t}") == 1
    assert column(other, f"SELECT id FROM {t}") == [2, 3]


def test_owner_delete_with_where_not_matching_owned_row_deletes_nothing(connect, make_queue):
    owner, other = connect(), connect()
    t = make_queue()
    insert_ids(owner, t, [1, 2, 3])
    assert wait(owner, t) == 1
    assert execute(owner, f"DELETE FROM {t} WHERE id = 2") == 0
    assert column(owner, f"SELECT id FROM {t}") == [1]
    assert column(other, f"SELECT id FROM {t}") == [2, 3]


def test_owner_delete_on_another_queue_table_deletes_nothing(connect, make_queue):
    owner, other = connect(), connect()
    a, b = make_queue(), make_queue()
    insert_ids(owner, a, [1])
    insert_ids(owner, b, [10, 11])
    assert wait(owner, a) == 1
    assert execute(owner, f"DELETE FROM {b}") == 0
    assert column(other, f"SELECT id FROM {b}") == [10, 11]


def test_delete_after_zero_result_deletes_nothing(connect, make_queue):
    owner, other = connect(), connect()
    t = make_queue()
    e = make_queue()
    insert_ids(owner, t, [1, 2])
    assert wait(owner, e, timeout=0) == 0
    assert execute(owner, f"DELETE FROM {t}") == 0
    assert column(other, f"SELECT id FROM {t}") == [1, 2]


def test_owner_insert_is_visible_to_others_at_once(connect, make_queue):
    owner, other = connect(), connect()
    t = make_queue()
    insert_ids(owner, t, [1])
    assert wait(owner, t) == 1
    assert execute(owner, f"INSERT INTO {t} VALUES (2, 'new')") == 1
    assert rows(other, f"SELECT id, v FROM {t}") == [(2, "new")]


def test_owner_insert_is_invisible_to_the_owner_until_it_leaves_owner_mode(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1])
    assert wait(conn, t) == 1
    execute(conn, f"INSERT INTO {t} VALUES (2, 'new')")
    assert column(conn, f"SELECT id FROM {t}") == [1]
    assert queue_end(conn) == 1
    assert column(conn, f"SELECT id FROM {t}") == [2]


def test_owner_insert_into_another_queue_table_is_visible_to_others(connect, make_queue):
    owner, other = connect(), connect()
    a, b = make_queue(), make_queue()
    insert_ids(owner, a, [1])
    assert wait(owner, a) == 1
    execute(owner, f"INSERT INTO {b} VALUES (7, 'x')")
    assert column(other, f"SELECT id FROM {b}") == [7]
    assert rows(owner, f"SELECT * FROM {b}") == []


def test_owner_mode_does_not_affect_innodb_tables(conn, make_queue, make_innodb):
    t = make_queue()
    ref = make_innodb()
    execute(conn, f"INSERT INTO {ref} VALUES (1, 'a'), (2, 'b')")
    insert_ids(conn, t, [1])
    assert wait(conn, t) == 1
    assert rows(conn, f"SELECT id, v FROM {ref} ORDER BY id") == [(1, "a"), (2, "b")]
    assert execute(conn, f"DELETE FROM {ref} WHERE id = 1") == 1
    assert column(conn, f"SELECT id FROM {ref}") == [2]


def test_owner_mode_survives_commit_rollback_and_use(conn, make_queue, other_db):
    t = make_queue()
    insert_ids(conn, t, [1, 2])
    assert wait(conn, t) == 1
    execute(conn, "BEGIN")
    execute(conn, "COMMIT")
    execute(conn, "ROLLBACK")
    execute(conn, f"USE {other_db}")
    assert in_owner_mode(conn)
    execute(conn, "USE test")
    assert column(conn, f"SELECT id FROM {t}") == [1]


def test_owner_owns_at_most_one_row_across_tables(connect, make_queue):
    """A second queue_wait on another table consumes the first table's row."""
    owner, other = connect(), connect()
    a, b = make_queue(), make_queue()
    insert_ids(owner, a, [1, 2])
    insert_ids(owner, b, [10])
    assert wait(owner, a) == 1
    assert wait(owner, b) == 1
    assert column(owner, f"SELECT id FROM {b}") == [10]
    assert rows(owner, f"SELECT * FROM {a}") == []
    assert column(other, f"SELECT id FROM {a}") == [2]


# --------------------------------------------------------------------------- queue_end


def test_queue_end_deletes_the_owned_row_and_leaves_owner_mode(connect, make_queue):
    owner, other = connect(), connect()
    t = make_queue()
    insert_ids(owner, t, [1, 2])
    assert wait(owner, t) == 1
    assert queue_end(owner) == 1
    assert not in_owner_mode(owner)
    assert column(other, f"SELECT id FROM {t}") == [2]
    assert column(owner, f"SELECT id FROM {t}") == [2]
    assert count(other, t) == 1


def test_queue_end_after_owner_deleted_its_row_deletes_nothing_more(connect, make_queue):
    owner, other = connect(), connect()
    t = make_queue()
    insert_ids(owner, t, [1, 2, 3])
    assert wait(owner, t) == 1
    execute(owner, f"DELETE FROM {t}")
    assert queue_end(owner) == 1
    assert column(other, f"SELECT id FROM {t}") == [2, 3]


def test_count_does_not_drift_when_owner_deletes_its_row_then_ends(connect, make_queue):
    """Spec A: each removal counted once, also when the owned row is not the oldest live row."""
    first, second, other = connect(), connect(), connect()
    t = make_queue()
    insert_ids(other, t, [1, 2, 3, 4, 5])
    assert wait(first, t) == 1  # owns row 1
    assert wait(second, t) == 1  # owns row 2, not the oldest live row
    assert execute(second, f"DELETE FROM {t}") == 1
    assert queue_end(second) == 1
    assert queue_abort(first) == 1
    assert count(other, t) == 4
    assert column(other, f"SELECT id FROM {t}") == [1, 3, 4, 5]


def test_count_does_not_drift_when_owner_deletes_its_row_then_waits_again(connect, make_queue):
    first, second, other = connect(), connect(), connect()
    t = make_queue()
    insert_ids(other, t, [1, 2, 3, 4, 5])
    assert wait(first, t) == 1
    assert wait(second, t) == 1
    execute(second, f"DELETE FROM {t}")
    assert wait(second, t) == 1  # implicit end of the already deleted row, takes row 3
    assert queue_abort(second) == 1
    assert queue_abort(first) == 1
    assert count(other, t) == 4


# --------------------------------------------------------------------------- queue_abort


def test_queue_abort_after_owner_deleted_its_row_does_not_resurrect_it(connect, make_queue):
    owner, other = connect(), connect()
    t = make_queue()
    insert_ids(owner, t, [1, 2])
    assert wait(owner, t) == 1
    execute(owner, f"DELETE FROM {t}")
    assert queue_abort(owner) == 1
    assert column(other, f"SELECT id FROM {t}") == [2]
    assert count(other, t) == 1


def test_queue_abort_leaves_owner_mode(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1, 2])
    assert wait(conn, t) == 1
    assert queue_abort(conn) == 1
    assert not in_owner_mode(conn)
    assert column(conn, f"SELECT id FROM {t}") == [1, 2]
