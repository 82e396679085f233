"""Relay duplicate suppression: queue_set_srcid(source, mode, rowid) (spec 7.1, 7.2).

The call tags the connection's next INSERT into a queue table. With mode 'a' the rows of that
statement are silently dropped (the INSERT still reports success) when `rowid` is not above the
last row id the destination table received from that source slot; otherwise they are appended
and the slot's last id becomes `rowid` ('w' accepts unconditionally and may move it back).

This project persists the last-received ids in the same batch as the relayed rows, so unlike the
reference they survive a crash of the destination; and a negative rowid gives NULL.
"""

from __future__ import annotations

import re
import threading

import MySQLdb
import pytest

from .engine_helpers import (
    ER_CANT_INITIALIZE_UDF,
    assert_server_alive,
    column,
    count,
    create_queue,
    eventually,
    execute,
    one,
    queue_end,
    queue_rowid,
    rows,
    sql_error,
    unique_name,
    wait,
)

pytestmark = pytest.mark.timeout(120)

ARGUMENT_ERROR = "queue_set_srcid(source,mode,rowid): argument error"


# --------------------------------------------------------------------------- helpers


def set_srcid(conn, source, mode, rowid):
    """SELECT queue_set_srcid(...) with bound values; its result (None for NULL)."""
    return one(conn, "SELECT queue_set_srcid(%s, %s, %s)", (source, mode, rowid))


def tagged_insert(conn, table, source, mode, rowid, values_sql) -> int:
    """queue_set_srcid (must return 1) then `INSERT INTO table (id, v) VALUES ...`;
    returns the INSERT's affected-rows count."""
    assert set_srcid(conn, source, mode, rowid) == 1
    return execute(conn, f"INSERT INTO {table} (id, v) VALUES {values_sql}")


def ids(conn, table) -> list:
    return column(conn, f"SELECT id FROM {table}")


def _queue(server, hint, cols="id INT NOT NULL, v VARCHAR(64)"):
    c = server.connect()
    try:
        return create_queue(c, unique_name(hint), cols)
    finally:
        c.close()


def _all_unowned(observer, table) -> bool:
    """Every row of `table` is visible to a non-owner (no connection owns one any more)."""
    return len(ids(observer, table)) == count(observer, table)


def forward(src_conn, dst_conn, src, dst, *, sender=0, reset=False, stop_after=None, stop_at=None):
    """One run of q4m-forward's loop (spec 7.2) until the source is empty.

    On src_conn: queue_wait(src) (the previous row is consumed only by this next wait),
    queue_rowid(), SELECT the owned row; on dst_conn: queue_set_srcid(sender, mode, rowid),
    INSERT by column name. `reset` uses mode 'w' for the first transfer only.
    With stop_after=n the forwarder "crashes" at its n-th row, at stop_at:
    'after_insert' (destination INSERT done, source row still owned) or 'before_insert'
    (queue_set_srcid done, INSERT not sent). Returns the source row ids it handled.
    """
    mode = "w" if reset else "a"
    handled = []
    while True:
        got = wait(src_conn, src, timeout=0)
        assert got in (0, 1), f"queue_wait returned {got!r}"
        if got == 0:
            assert queue_end(src_conn) == 1
            return handled
        rowid = queue_rowid(src_conn)
        assert rowid and rowid > 0
        ((row_id, row_v),) = rows(src_conn, f"SELECT id, v FROM {src}")
        handled.append(row_id)
        assert set_srcid(dst_conn, sender, mode, rowid) == 1
        if stop_after == len(handled) and stop_at == "before_insert":
            return handled
        execute(dst_conn, f"INSERT INTO {dst} (v, id) VALUES (%s, %s)", (row_v, row_id))
        mode = "a"
        if stop_after == len(handled) and stop_at == "after_insert":
            return handled


def writer_appends(conn) -> int:
    """Batches written so far, server-wide (SHOW ENGINE QUEUE STATUS, "Writer thread")."""
    ((_, _, status),) = rows(conn, "SHOW ENGINE QUEUE STATUS")
    status = status.decode() if isinstance(status, bytes) else status
    return int(re.search(r"^append\s+(\d+)\s*$", status, re.M).group(1))


def fill_source(conn, table, n):
    values = ",".join(f"({i},'v{i}')" for i in range(1, n + 1))
    execute(conn, f"INSERT INTO {table} (id, v) VALUES {values}")


# --------------------------------------------------------------------------- TEST 07-trans


def test_reference_07_trans_sequence(connect, make_queue):
    """The reference's t/07-trans.t: the owner of a source row relays it into another table."""
    relay, reader = connect(), connect()
    src, dst = make_queue("v INT NOT NULL"), make_queue("v INT NOT NULL")
    execute(relay, f"INSERT INTO {src} VALUES (1),(2),(3),(4),(5)")

    def relay_owned(source, mode, rowid):
        v = one(relay, f"SELECT v FROM {src}")
        assert set_srcid(relay, source, mode, rowid) == 1
        execute(relay, f"INSERT INTO {dst} VALUES ({v})")
        return column(reader, f"SELECT v FROM {dst}")

    assert wait(relay, src) == 1
    first = queue_rowid(relay)
    assert relay_owned(0, "a", first) == [1]
    assert relay_owned(0, "a", first) == [1], "same (source, rowid) again: dropped"
    assert wait(relay, src) == 1
    second = queue_rowid(relay)
    assert relay_owned(0, "a", second) == [1, 2]
    assert relay_owned(1, "a", second) == [1, 2, 2], "another source slot: accepted"
    assert relay_owned(1, "w", second) == [1, 2, 2, 2], "mode 'w': accepted"
    assert relay_owned(1, "a", second) == [1, 2, 2, 2], "'a' after 'w', same id: dropped"
    assert set_srcid(relay, -1, "a", second) is None
    assert set_srcid(relay, 64, "a", second) is None


def test_duplicate_insert_is_dropped_but_reports_success(conn, make_queue):
    t = make_queue()
    assert tagged_insert(conn, t, 0, "a", 7, "(1,'first')") == 1
    assert tagged_insert(conn, t, 0, "a", 7, "(2,'again')") == 1, "affected rows of a duplicate"
    assert ids(conn, t) == [1]
    assert count(conn, t) == 1


def test_same_rowid_from_another_source_slot_is_accepted(conn, make_queue):
    t = make_queue()
    tagged_insert(conn, t, 0, "a", 7, "(1,'slot0')")
    tagged_insert(conn, t, 1, "a", 7, "(2,'slot1')")
    tagged_insert(conn, t, 63, "a", 7, "(3,'slot63')")
    assert ids(conn, t) == [1, 2, 3]


def test_mode_w_accepts_an_already_received_rowid(conn, make_queue):
    t = make_queue()
    tagged_insert(conn, t, 2, "a", 7, "(1,'a')")
    tagged_insert(conn, t, 2, "w", 7, "(2,'w')")
    assert ids(conn, t) == [1, 2]


def test_mode_a_after_w_drops_the_same_rowid(conn, make_queue):
    t = make_queue()
    tagged_insert(conn, t, 2, "w", 7, "(1,'w')")
    tagged_insert(conn, t, 2, "a", 7, "(2,'a')")
    assert ids(conn, t) == [1]


def test_mode_a_drops_a_rowid_below_the_last_received(conn, make_queue):
    t = make_queue()
    tagged_insert(conn, t, 0, "a", 10, "(1,'ten')")
    tagged_insert(conn, t, 0, "a", 3, "(2,'three')")
    assert ids(conn, t) == [1]


def test_mode_a_accepts_any_rowid_above_the_last_received(conn, make_queue):
    t = make_queue()
    tagged_insert(conn, t, 0, "a", 10, "(1,'ten')")
    tagged_insert(conn, t, 0, "a", 11, "(2,'eleven')")
    tagged_insert(conn, t, 0, "a", 1000, "(3,'gap')")
    assert ids(conn, t) == [1, 2, 3]


def test_mode_w_moves_the_last_received_rowid_backwards(conn, make_queue):
    t = make_queue()
    tagged_insert(conn, t, 0, "a", 10, "(1,'ten')")
    tagged_insert(conn, t, 0, "w", 3, "(2,'reset to 3')")
    tagged_insert(conn, t, 0, "a", 3, "(3,'dup of 3')")
    tagged_insert(conn, t, 0, "a", 5, "(4,'five')")
    assert ids(conn, t) == [1, 2, 4]


def test_dropped_duplicate_is_logged(q4m_server, conn, make_queue):
    t = make_queue()
    tagged_insert(conn, t, 5, "a", 4242, "(1,'x')")
    tagged_insert(conn, t, 5, "a", 4242, "(2,'x')")
    log = q4m_server.error_log()
    assert re.search(rf"skipping forwarded duplicates.*{t}.*4242", log), log[-2000:]


# --------------------------------------------------------------------------- tag lifetime


def test_tag_is_cleared_after_an_accepted_insert(conn, make_queue):
    t = make_queue()
    tagged_insert(conn, t, 0, "a", 5, "(1,'tagged')")
    execute(conn, f"INSERT INTO {t} VALUES (2,'plain')")
    execute(conn, f"INSERT INTO {t} VALUES (3,'plain')")
    assert ids(conn, t) == [1, 2, 3]


def test_tag_is_cleared_after_a_dropped_insert(conn, make_queue):
    t = make_queue()
    tagged_insert(conn, t, 0, "a", 5, "(1,'tagged')")
    tagged_insert(conn, t, 0, "a", 5, "(2,'duplicate')")
    execute(conn, f"INSERT INTO {t} VALUES (3,'plain')")
    assert ids(conn, t) == [1, 3]


def test_tag_is_not_consumed_by_a_select(conn, make_queue):
    t = make_queue()
    tagged_insert(conn, t, 0, "a", 5, "(1,'tagged')")
    assert set_srcid(conn, 0, "a", 5) == 1
    assert ids(conn, t) == [1]
    execute(conn, f"INSERT INTO {t} VALUES (2,'still tagged: duplicate')")
    assert ids(conn, t) == [1]


def test_tag_is_not_consumed_by_an_insert_into_a_non_queue_table(conn, make_queue, make_innodb):
    t, inno = make_queue(), make_innodb()
    tagged_insert(conn, t, 0, "a", 5, "(1,'tagged')")
    assert set_srcid(conn, 0, "a", 5) == 1
    execute(conn, f"INSERT INTO {inno} VALUES (1,'innodb')")
    assert column(conn, f"SELECT id FROM {inno}") == [1]
    execute(conn, f"INSERT INTO {t} VALUES (2,'still tagged: duplicate')")
    assert ids(conn, t) == [1]


def test_tag_belongs_to_the_connection_that_set_it(connect, make_queue):
    a, b = connect(), connect()
    t = make_queue()
    tagged_insert(a, t, 0, "a", 5, "(1,'tagged')")
    assert set_srcid(a, 0, "a", 5) == 1
    execute(b, f"INSERT INTO {t} VALUES (2,'other connection, untagged')")
    execute(a, f"INSERT INTO {t} VALUES (3,'duplicate')")
    assert ids(b, t) == [1, 2]


def test_a_later_call_replaces_the_pending_tag(conn, make_queue):
    t = make_queue()
    tagged_insert(conn, t, 0, "a", 5, "(1,'five')")
    assert set_srcid(conn, 0, "a", 5) == 1
    assert set_srcid(conn, 0, "a", 6) == 1
    execute(conn, f"INSERT INTO {t} VALUES (2,'six')")
    assert ids(conn, t) == [1, 2]


def test_rowid_zero_is_a_plain_insert(conn, make_queue):
    t = make_queue()
    tagged_insert(conn, t, 0, "a", 5, "(1,'five')")
    assert tagged_insert(conn, t, 0, "a", 0, "(2,'no source')") == 1
    assert tagged_insert(conn, t, 0, "a", 0, "(3,'no source')") == 1
    assert ids(conn, t) == [1, 2, 3]
    tagged_insert(conn, t, 0, "a", 5, "(4,'still a duplicate of 5')")
    assert ids(conn, t) == [1, 2, 3], "rowid 0 must not change the last received id"


def test_rowid_zero_cancels_a_pending_tag(conn, make_queue):
    t = make_queue()
    tagged_insert(conn, t, 0, "a", 5, "(1,'five')")
    assert set_srcid(conn, 0, "a", 5) == 1
    assert set_srcid(conn, 0, "a", 0) == 1
    execute(conn, f"INSERT INTO {t} VALUES (2,'plain')")
    assert ids(conn, t) == [1, 2]


# --------------------------------------------------------------------------- whole statements


def test_multi_row_insert_with_a_new_rowid_stores_every_row(conn, make_queue):
    t = make_queue()
    assert tagged_insert(conn, t, 0, "a", 5, "(1,'a'),(2,'b'),(3,'c')") == 3
    assert ids(conn, t) == [1, 2, 3]
    tagged_insert(conn, t, 0, "a", 5, "(4,'d')")
    assert ids(conn, t) == [1, 2, 3], "the multi-row INSERT recorded rowid 5"


def test_multi_row_insert_of_a_duplicate_drops_every_row(conn, make_queue):
    t = make_queue()
    tagged_insert(conn, t, 0, "a", 5, "(1,'a')")
    assert tagged_insert(conn, t, 0, "a", 5, "(2,'b'),(3,'c'),(4,'d')") == 3
    assert ids(conn, t) == [1]


@pytest.fixture(params=["InnoDB", "QUEUE"])
def select_source(request, conn, make_queue, make_innodb):
    """A table (InnoDB or QUEUE) with rows 10, 11, 12 to INSERT ... SELECT from."""
    table = make_innodb() if request.param == "InnoDB" else make_queue(hint="select_source")
    execute(conn, f"INSERT INTO {table} (id, v) VALUES (10,'x'),(11,'y'),(12,'z')")
    return table


def test_insert_select_with_a_new_rowid_stores_every_row(conn, make_queue, select_source):
    t = make_queue()
    assert set_srcid(conn, 3, "a", 9) == 1
    assert execute(conn, f"INSERT INTO {t} (id, v) SELECT id, v FROM {select_source}") == 3
    assert ids(conn, t) == [10, 11, 12]
    tagged_insert(conn, t, 3, "a", 9, "(1,'dup')")
    assert ids(conn, t) == [10, 11, 12], "the INSERT ... SELECT recorded rowid 9"


def test_insert_select_of_a_duplicate_drops_every_row(conn, make_queue, select_source):
    t = make_queue()
    tagged_insert(conn, t, 3, "a", 9, "(1,'first')")
    assert set_srcid(conn, 3, "a", 9) == 1
    assert execute(conn, f"INSERT INTO {t} (id, v) SELECT id, v FROM {select_source}") == 3
    assert ids(conn, t) == [1]


def test_tag_covers_an_insert_larger_than_one_write_batch(conn, make_queue, make_innodb):
    """12 rows of 1 MiB: the engine commits them in more than one 8 MiB batch."""
    t = make_queue("id INT NOT NULL, v MEDIUMBLOB")
    seq = make_innodb("id INT NOT NULL PRIMARY KEY")
    execute(conn, f"INSERT INTO {seq} VALUES " + ",".join(f"({i})" for i in range(1, 13)))
    big_select = f"SELECT id, REPEAT('x', 1048576) FROM {seq} ORDER BY id"
    assert set_srcid(conn, 0, "a", 50) == 1
    batches_before = writer_appends(conn)
    assert execute(conn, f"INSERT INTO {t} (id, v) {big_select}") == 12
    assert writer_appends(conn) - batches_before >= 2, "the INSERT fit in one batch"
    assert ids(conn, t) == list(range(1, 13))
    assert set_srcid(conn, 0, "a", 50) == 1
    assert execute(conn, f"INSERT INTO {t} (id, v) {big_select}") == 12
    assert count(conn, t) == 12
    execute(conn, f"INSERT INTO {t} (id, v) VALUES (13, 'plain')")
    assert count(conn, t) == 13


# --------------------------------------------------------------------------- arguments


@pytest.mark.parametrize("args", ["", "0", "0, 'a'", "0, 'a', 1, 2"])
def test_wrong_argument_count_is_error_1123(conn, args):
    errno, message = sql_error(conn, f"SELECT queue_set_srcid({args})")
    assert errno == ER_CANT_INITIALIZE_UDF
    assert ARGUMENT_ERROR in message


@pytest.mark.parametrize("source", [-1, 64, 65, 1 << 40])
def test_source_outside_0_to_63_returns_null(conn, source):
    assert set_srcid(conn, source, "a", 1) is None


@pytest.mark.parametrize("source", [0, 1, 63])
@pytest.mark.parametrize("mode", ["a", "w"])
def test_valid_arguments_return_1(conn, source, mode):
    assert set_srcid(conn, source, mode, 1) == 1


@pytest.mark.parametrize("mode", ["A", "W", "aw", "", "b", " a", "a "])
def test_mode_other_than_a_or_w_returns_null(conn, mode):
    assert set_srcid(conn, 0, mode, 1) is None


@pytest.mark.parametrize("args", ["NULL, 'a', 1", "0, NULL, 1", "0, 'a', NULL", "NULL, NULL, NULL"])
def test_null_argument_returns_null(conn, args):
    assert one(conn, f"SELECT queue_set_srcid({args})") is None


def test_negative_rowid_returns_null(conn):
    assert set_srcid(conn, 0, "a", -1) is None


def test_numeric_strings_are_coerced_to_integers(conn, make_queue):
    t = make_queue()
    assert one(conn, "SELECT queue_set_srcid('3', 'a', '5')") == 1
    execute(conn, f"INSERT INTO {t} VALUES (1,'tagged by strings')")
    tagged_insert(conn, t, 3, "a", 5, "(2,'duplicate of source 3, rowid 5')")
    assert ids(conn, t) == [1]


@pytest.mark.parametrize("bad_call", ["queue_set_srcid(64, 'a', 5)", "queue_set_srcid(0, 'x', 5)"])
def test_rejected_call_leaves_the_next_insert_untagged(conn, make_queue, bad_call):
    t = make_queue()
    tagged_insert(conn, t, 0, "a", 5, "(1,'five')")
    assert one(conn, f"SELECT {bad_call}") is None
    execute(conn, f"INSERT INTO {t} VALUES (2,'plain')")
    assert ids(conn, t) == [1, 2]


def test_server_survives_bad_arguments(q4m_server, conn, make_queue):
    t = make_queue()
    calls = [
        "queue_set_srcid(9223372036854775807, 'a', 1)",
        "queue_set_srcid(-9223372036854775808, 'w', 1)",
        "queue_set_srcid(0, 'a', 9223372036854775807)",
        "queue_set_srcid(0, 'a', 18446744073709551615)",
        "queue_set_srcid(0, 'a', -9223372036854775808)",
        "queue_set_srcid(1.7, 'a', 2.5)",
        "queue_set_srcid('x', 'a', 'y')",
        "queue_set_srcid(0, REPEAT('a', 100000), 1)",
        "queue_set_srcid(0, 97, 1)",
        "queue_set_srcid(0, x'00', 1)",
        "queue_set_srcid(0, 'a', 1e30)",
        "queue_set_srcid(queue_set_srcid(0, 'a', 1), 'w', queue_set_srcid(1, 'w', 1))",
    ]
    for call in calls:
        result = one(conn, f"SELECT {call}")
        assert result in (None, 1), f"{call} -> {result!r}"
    for args in ["", "1", "1, 2", "1, 2, 3, 4, 5"]:
        with pytest.raises(MySQLdb.MySQLError):
            rows(conn, f"SELECT queue_set_srcid({args})")
    execute(conn, f"INSERT INTO {t} VALUES (1,'after bad input')")
    assert count(conn, t) == 1
    assert_server_alive(q4m_server)


# --------------------------------------------------------------------------- per table


def test_last_received_rowid_is_kept_per_destination_table(conn, make_queue):
    a, b = make_queue(hint="dest_a"), make_queue(hint="dest_b")
    tagged_insert(conn, a, 0, "a", 5, "(1,'to a')")
    tagged_insert(conn, b, 0, "a", 5, "(1,'to b: other table, accepted')")
    tagged_insert(conn, b, 0, "a", 3, "(2,'to b: below 5, dropped')")
    tagged_insert(conn, a, 0, "a", 5, "(2,'to a: duplicate')")
    assert ids(conn, a) == [1]
    assert ids(conn, b) == [1]


# --------------------------------------------------------------------------- persistence


def test_last_received_rowid_survives_a_clean_restart(crash_server):
    t = _queue(crash_server, "clean_restart")
    c = crash_server.connect()
    tagged_insert(c, t, 0, "a", 5, "(1,'slot 0')")
    tagged_insert(c, t, 7, "a", 40, "(2,'slot 7')")
    c.close()
    crash_server.restart()
    c = crash_server.connect()
    tagged_insert(c, t, 0, "a", 5, "(3,'duplicate')")
    tagged_insert(c, t, 7, "a", 39, "(4,'duplicate')")
    tagged_insert(c, t, 0, "a", 6, "(5,'new')")
    assert ids(c, t) == [1, 2, 5]


def test_last_received_rowid_survives_kill9(crash_server):
    """A destination crash does not let a re-sent duplicate through (a fix over the reference)."""
    t = _queue(crash_server, "kill9")
    c = crash_server.connect()
    for rowid in range(1, 21):
        tagged_insert(c, t, 0, "a", rowid, f"({rowid},'r{rowid}')")
    crash_server.kill9()
    crash_server.start()
    c = crash_server.connect()
    for rowid in range(1, 21):
        tagged_insert(c, t, 0, "a", rowid, f"({100 + rowid},'re-sent')")
    tagged_insert(c, t, 0, "a", 21, "(21,'r21')")
    assert ids(c, t) == list(range(1, 22))


def test_rowid_moved_back_by_w_survives_kill9(crash_server):
    t = _queue(crash_server, "w_kill9")
    c = crash_server.connect()
    tagged_insert(c, t, 0, "a", 10, "(1,'ten')")
    tagged_insert(c, t, 0, "w", 3, "(2,'reset to 3')")
    crash_server.kill9()
    crash_server.start()
    c = crash_server.connect()
    tagged_insert(c, t, 0, "a", 3, "(3,'duplicate of 3')")
    tagged_insert(c, t, 0, "a", 5, "(4,'five: above 3')")
    assert ids(c, t) == [1, 2, 4]


def _bytes_removed(c, t) -> int:
    stats = one(c, "SELECT queue_stats(%s)", (t,))
    stats = stats.decode() if isinstance(stats, bytes) else stats
    return int(re.search(r"^bytes_removed: (\d+)$", stats, re.M).group(1))


def _consume_all_and_compact(c, t):
    execute(c, f"DELETE FROM {t}")
    assert count(c, t) == 0
    assert _bytes_removed(c, t) > 0
    assert one(c, "SELECT queue_compact(%s)", (t,)) == 1
    assert _bytes_removed(c, t) == 0, "queue_compact did not compact"


def test_last_received_rowid_survives_forced_compaction(conn, make_queue):
    t = make_queue()
    tagged_insert(conn, t, 0, "a", 5, "(1,'slot 0')")
    tagged_insert(conn, t, 9, "a", 70, "(2,'slot 9')")
    _consume_all_and_compact(conn, t)
    tagged_insert(conn, t, 0, "a", 5, "(3,'duplicate')")
    tagged_insert(conn, t, 9, "a", 70, "(4,'duplicate')")
    tagged_insert(conn, t, 0, "a", 6, "(5,'new')")
    assert ids(conn, t) == [5]


def test_last_received_rowid_survives_compaction_then_kill9(crash_server):
    """The relayed rows are gone; only the compacted file still knows the last ids."""
    t = _queue(crash_server, "compact_kill9")
    c = crash_server.connect()
    tagged_insert(c, t, 0, "a", 5, "(1,'slot 0')")
    tagged_insert(c, t, 9, "a", 70, "(2,'slot 9')")
    _consume_all_and_compact(c, t)
    crash_server.kill9()
    crash_server.start()
    c = crash_server.connect()
    tagged_insert(c, t, 0, "a", 5, "(3,'duplicate')")
    tagged_insert(c, t, 9, "a", 70, "(4,'duplicate')")
    tagged_insert(c, t, 9, "a", 71, "(5,'new')")
    assert ids(c, t) == [5]


def test_truncate_resets_the_last_received_rowid(conn, make_queue):
    """TRUNCATE re-creates the table (spec 1.3): a previously seen id is accepted again."""
    t = make_queue()
    tagged_insert(conn, t, 0, "a", 5, "(1,'before truncate')")
    execute(conn, f"TRUNCATE TABLE {t}")
    tagged_insert(conn, t, 0, "a", 5, "(2,'after truncate')")
    assert ids(conn, t) == [2]


# --------------------------------------------------------------------------- relay loop


def test_relay_loop_moves_every_row_once(connect, make_queue):
    src_conn, dst_conn = connect(), connect()
    src = make_queue(hint="src")
    dst = make_queue("v VARCHAR(64), id INT NOT NULL", hint="dst")
    fill_source(src_conn, src, 10)
    assert forward(src_conn, dst_conn, src, dst) == list(range(1, 11))
    assert rows(dst_conn, f"SELECT id, v FROM {dst}") == [(i, f"v{i}") for i in range(1, 11)]
    assert count(dst_conn, src) == 0


def test_relay_loop_forwarder_crash_after_destination_insert_loses_and_duplicates_nothing(
    connect, make_queue
):
    observer = connect()
    src = make_queue(hint="src")
    dst = make_queue("v VARCHAR(64), id INT NOT NULL", hint="dst")
    fill_source(observer, src, 12)
    for stop_after in (3, 1, 4):
        src_conn, dst_conn = connect(), connect()
        forward(src_conn, dst_conn, src, dst, stop_after=stop_after, stop_at="after_insert")
        src_conn.close()  # the forwarder dies still owning the row it just delivered
        dst_conn.close()
        eventually(lambda: _all_unowned(observer, src), message="source row released")
    forward(connect(), connect(), src, dst)
    assert ids(observer, dst) == list(range(1, 13))
    assert count(observer, src) == 0


def test_relay_loop_forwarder_crash_before_destination_insert_loses_nothing(connect, make_queue):
    observer = connect()
    src = make_queue(hint="src")
    dst = make_queue("v VARCHAR(64), id INT NOT NULL", hint="dst")
    fill_source(observer, src, 6)
    src_conn, dst_conn = connect(), connect()
    forward(src_conn, dst_conn, src, dst, stop_after=2, stop_at="before_insert")
    src_conn.close()
    dst_conn.close()
    eventually(lambda: _all_unowned(observer, src), message="source row released")
    forward(connect(), connect(), src, dst)
    assert ids(observer, dst) == list(range(1, 7))
    assert count(observer, src) == 0


def test_relay_loop_server_kill9_after_destination_insert_duplicates_nothing(crash_server):
    """Source and destination on one server that is killed right after a destination INSERT:
    the owned source row is delivered again and the destination drops it."""
    src = _queue(crash_server, "src")
    dst = _queue(crash_server, "dst", "v VARCHAR(64), id INT NOT NULL")
    c = crash_server.connect()
    fill_source(c, src, 8)
    forward(c, crash_server.connect(), src, dst, stop_after=5, stop_at="after_insert")
    crash_server.kill9()
    crash_server.start()
    observer = crash_server.connect()
    assert ids(observer, dst) == [1, 2, 3, 4, 5]
    assert count(observer, src) == 4, "rows 5..8: the owned row 5 comes back"
    forward(crash_server.connect(), crash_server.connect(), src, dst)
    assert ids(observer, dst) == list(range(1, 9))
    assert count(observer, src) == 0


def test_two_forwarders_with_different_sender_slots_deliver_everything(connect, make_queue):
    """Both sources have row ids 1..n; distinct slots keep them apart in one destination."""
    src_a, src_b = make_queue(hint="src_a"), make_queue(hint="src_b")
    dst = make_queue("v VARCHAR(64), id INT NOT NULL", hint="dst")
    setup = connect()
    fill_source(setup, src_a, 15)
    execute(setup, f"INSERT INTO {src_b} VALUES " + ",".join(f"({i},'b')" for i in range(101, 116)))
    conns = [(connect(), connect()), (connect(), connect())]
    errors = []

    def run(src, sender, pair):
        try:
            forward(pair[0], pair[1], src, dst, sender=sender)
        except BaseException as e:
            errors.append(e)

    threads = [
        threading.Thread(target=run, args=(src_a, 1, conns[0])),
        threading.Thread(target=run, args=(src_b, 2, conns[1])),
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert not errors, errors
    assert sorted(ids(setup, dst)) == [*range(1, 16), *range(101, 116)]


def test_forwarder_without_reset_drops_rows_of_a_recreated_source(connect, make_queue):
    """After TRUNCATE the source's row ids restart at 1, all at or below the last received."""
    observer = connect()
    src = make_queue(hint="src")
    dst = make_queue("v VARCHAR(64), id INT NOT NULL", hint="dst")
    fill_source(observer, src, 5)
    forward(connect(), connect(), src, dst)
    execute(observer, f"TRUNCATE TABLE {src}")
    execute(observer, f"INSERT INTO {src} VALUES (6,'v6'),(7,'v7')")
    forward(connect(), connect(), src, dst)
    assert ids(observer, dst) == [1, 2, 3, 4, 5]


def test_forwarder_with_reset_resumes_after_the_source_is_recreated(connect, make_queue):
    observer = connect()
    src = make_queue(hint="src")
    dst = make_queue("v VARCHAR(64), id INT NOT NULL", hint="dst")
    fill_source(observer, src, 5)
    forward(connect(), connect(), src, dst)
    execute(observer, f"TRUNCATE TABLE {src}")
    execute(observer, f"INSERT INTO {src} VALUES (6,'v6'),(7,'v7'),(8,'v8')")
    forward(connect(), connect(), src, dst, reset=True)
    assert ids(observer, dst) == [1, 2, 3, 4, 5, 6, 7, 8]


def test_an_insert_that_writes_no_row_still_uses_up_the_tag(conn, make_queue, make_innodb):
    t, empty = make_queue(), make_innodb()
    tagged_insert(conn, t, 0, "a", 5, "(1,'tagged')")
    assert set_srcid(conn, 0, "a", 5) == 1
    assert execute(conn, f"INSERT INTO {t} (id, v) SELECT id, v FROM {empty}") == 0
    execute(conn, f"INSERT INTO {t} VALUES (2,'plain')")
    assert ids(conn, t) == [1, 2]


def test_alter_table_keeps_the_last_received_rowids(conn, make_queue):
    t = make_queue()
    tagged_insert(conn, t, 0, "a", 5, "(1,'tagged')")
    execute(conn, f"ALTER TABLE {t} ADD COLUMN extra INT")
    assert tagged_insert(conn, t, 0, "a", 5, "(2,'re-sent duplicate')") == 1
    assert tagged_insert(conn, t, 0, "a", 6, "(3,'next')") == 1
    assert ids(conn, t) == [1, 3]


def test_alter_table_does_not_use_up_a_pending_tag(conn, make_queue):
    t = make_queue()
    execute(conn, f"INSERT INTO {t} VALUES (1,'plain')")
    assert set_srcid(conn, 0, "a", 5) == 1
    execute(conn, f"ALTER TABLE {t} ADD COLUMN extra INT")
    execute(conn, f"INSERT INTO {t} (id, v) VALUES (2,'tagged after the ALTER')")
    assert tagged_insert(conn, t, 0, "a", 5, "(3,'duplicate')") == 1
    assert ids(conn, t) == [1, 2]
