"""queue_stats(table) (spec 7.4, 4.2): nine `name: <unsigned>` lines and when each changes.

rows_written / rows_removed count rows since the table was opened in this server process;
wait_immediate / wait_delayed / wait_timeout count queue_wait outcomes per argument table;
restored_by_abort / restored_by_close count rows given back by queue_abort() / a disconnect;
bytes_total / bytes_removed are payload bytes of the rows in the current data file / of the
removed ones (persistent, reset by compaction). DROP TABLE clears everything; so does a restart,
except the two byte counts, which are those of the file.
"""

from __future__ import annotations

import re

import pytest

from .engine_helpers import (
    ER_CANT_INITIALIZE_UDF,
    assert_server_alive,
    eventually,
    execute,
    insert_ids,
    kill_connection,
    one,
    queue_abort,
    queue_end,
    rows,
    sql_error,
    start_wait,
    thread_id,
    unique_name,
    wait,
    wait_until_blocked,
)

pytestmark = pytest.mark.timeout(60)

NAMES = [
    "rows_written",
    "rows_removed",
    "wait_immediate",
    "wait_delayed",
    "wait_timeout",
    "restored_by_abort",
    "restored_by_close",
    "bytes_total",
    "bytes_removed",
]
STATS_USAGE = "queue_stats(table_name): argument error"
BLOB_TABLE = "id INT NOT NULL, b LONGBLOB"


def stats_text(conn, table: str) -> str:
    value = one(conn, "SELECT queue_stats(%s)", (table,))
    assert value is not None, f"queue_stats({table!r}) is NULL"
    return value.decode() if isinstance(value, bytes) else value


def stats(conn, table: str) -> dict[str, int]:
    text = stats_text(conn, table)
    assert text.endswith("\n")
    result = {}
    for line in text[:-1].split("\n"):
        m = re.fullmatch(r"([a-z_]+): (\d+)", line)
        assert m, f"malformed line {line!r}"
        result[m.group(1)] = int(m.group(2))
    assert list(result) == NAMES
    return result


def changes(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """The counters that changed, with their differences."""
    return {k: after[k] - before[k] for k in NAMES if after[k] != before[k]}


class Watch:
    """Counters of a table before an event; .delta() gives what the event changed."""

    def __init__(self, conn, table: str):
        self.conn, self.table = conn, table
        self.before = stats(conn, table)

    def delta(self) -> dict[str, int]:
        return changes(self.before, stats(self.conn, self.table))


def insert_blob(conn, table: str, i: int, size: int) -> None:
    execute(conn, f"INSERT INTO {table} VALUES ({i}, REPEAT('x', {size}))")


def payload_of(conn, table: str, i: int, size: int) -> int:
    """Insert one row and return the bytes_total it added (its payload size)."""
    w = Watch(conn, table)
    insert_blob(conn, table, i, size)
    return w.delta()["bytes_total"]


# --------------------------------------------------------------------------- format


def test_stats_are_nine_name_value_lines_in_spec_order(conn, make_queue):
    t = make_queue()
    text = stats_text(conn, t)
    lines = text.split("\n")
    assert lines[-1] == ""
    assert [line.split(": ")[0] for line in lines[:-1]] == NAMES
    assert all(re.fullmatch(r"[a-z_]+: (0|[1-9][0-9]*)", line) for line in lines[:-1])


def test_fresh_table_has_every_counter_at_zero(conn, make_queue):
    t = make_queue()
    assert stats(conn, t) == dict.fromkeys(NAMES, 0)


def test_stats_accept_a_database_qualified_name(conn, make_queue, other_db):
    t = make_queue()
    execute(conn, f"CREATE TABLE {other_db}.{t} (id INT NOT NULL) ENGINE=QUEUE")
    execute(conn, f"INSERT INTO {other_db}.{t} VALUES (1), (2)")
    assert stats(conn, f"{other_db}.{t}")["rows_written"] == 2
    assert stats(conn, f"test.{t}")["rows_written"] == 0


def test_counters_are_per_table(conn, make_queue):
    a, b = make_queue(), make_queue()
    wb = Watch(conn, b)
    insert_ids(conn, a, range(5))
    assert wait(conn, a, timeout=0) == 1
    assert queue_end(conn) == 1
    assert wait(conn, a, timeout=0) == 1
    assert queue_abort(conn) == 1
    assert wb.delta() == {}


def test_reads_and_stats_calls_change_no_counter(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, range(5))
    w = Watch(conn, t)
    rows(conn, f"SELECT * FROM {t}")
    rows(conn, f"SELECT COUNT(*) FROM {t}")
    rows(conn, f"SELECT * FROM {t} WHERE id > 2 ORDER BY id DESC")
    stats(conn, t)
    stats(conn, t)
    assert w.delta() == {}


# --------------------------------------------------------------------------- rows and bytes


def test_insert_counts_rows_written_and_bytes_total(conn, make_queue):
    t = make_queue(BLOB_TABLE)
    w = Watch(conn, t)
    insert_blob(conn, t, 1, 1000)
    d = w.delta()
    assert set(d) == {"rows_written", "bytes_total"}
    assert d["rows_written"] == 1
    assert d["bytes_total"] >= 1000
    w = Watch(conn, t)
    execute(conn, f"INSERT INTO {t} VALUES (2, 'a'), (3, 'b'), (4, 'c')")
    assert w.delta()["rows_written"] == 3


def test_bytes_total_grows_by_the_payload_of_each_row(conn, make_queue):
    t = make_queue(BLOB_TABLE)
    small, big = payload_of(conn, t, 1, 1000), payload_of(conn, t, 2, 3000)
    assert big - small == 2000
    assert payload_of(conn, t, 3, 1000) == small
    assert stats(conn, t)["bytes_total"] == 2 * small + big


def test_consuming_queue_wait_counts_rows_removed_and_bytes_removed(conn, make_queue):
    t = make_queue(BLOB_TABLE)
    size1 = payload_of(conn, t, 1, 500)
    payload_of(conn, t, 2, 700)
    assert wait(conn, t, timeout=0) == 1
    w = Watch(conn, t)
    assert wait(conn, t, timeout=0) == 1  # consumes row 1, takes row 2
    d = w.delta()
    assert d == {"rows_removed": 1, "bytes_removed": size1, "wait_immediate": 1}
    assert queue_abort(conn) == 1


def test_queue_end_counts_rows_removed_and_bytes_removed(conn, make_queue):
    t = make_queue(BLOB_TABLE)
    size = payload_of(conn, t, 1, 1234)
    assert wait(conn, t, timeout=0) == 1
    w = Watch(conn, t)
    assert queue_end(conn) == 1
    assert w.delta() == {"rows_removed": 1, "bytes_removed": size}


def test_delete_counts_rows_removed_and_bytes_removed(conn, make_queue):
    t = make_queue(BLOB_TABLE)
    sizes = [payload_of(conn, t, i, 100 * i) for i in range(1, 6)]
    w = Watch(conn, t)
    assert execute(conn, f"DELETE FROM {t} WHERE id IN (2, 4, 5)") == 3
    assert w.delta() == {"rows_removed": 3, "bytes_removed": sizes[1] + sizes[3] + sizes[4]}


def test_owner_deleting_its_row_then_ending_counts_one_removal(conn, make_queue):
    t = make_queue(BLOB_TABLE)
    size = payload_of(conn, t, 1, 300)
    payload_of(conn, t, 2, 300)
    assert wait(conn, t, timeout=0) == 1
    w = Watch(conn, t)
    assert execute(conn, f"DELETE FROM {t}") == 1  # the owned row only
    assert queue_end(conn) == 1
    assert w.delta() == {"rows_removed": 1, "bytes_removed": size}
    s = stats(conn, t)
    assert s["rows_written"] - s["rows_removed"] == 1
    assert s["bytes_total"] - s["bytes_removed"] == size  # the other row, same size


def test_bytes_removed_never_exceeds_bytes_total(conn, make_queue):
    t = make_queue(BLOB_TABLE)
    for i in range(10):
        insert_blob(conn, t, i, 50 * i)
    while wait(conn, t, timeout=0) == 1:
        pass
    assert queue_end(conn) == 1
    s = stats(conn, t)
    assert s["rows_removed"] == s["rows_written"] == 10
    assert s["bytes_removed"] == s["bytes_total"] > 0


# --------------------------------------------------------------------------- queue_wait outcomes


def test_immediate_wait_counts_wait_immediate(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1])
    w = Watch(conn, t)
    assert wait(conn, t, timeout=0) == 1
    assert w.delta() == {"wait_immediate": 1}
    w = Watch(conn, t)
    assert queue_abort(conn) == 1
    assert wait(conn, t) == 1  # default timeout, row there at once
    assert w.delta() == {"wait_immediate": 1, "restored_by_abort": 1}
    assert queue_end(conn) == 1


def test_wait_served_after_blocking_counts_wait_delayed(conn, connect, make_queue):
    t = make_queue()
    waiter = connect()
    w = Watch(conn, t)
    bg = start_wait(waiter, t, timeout=20)
    wait_until_blocked(conn, [waiter])
    insert_ids(conn, t, [1])
    bg.join(10)
    assert bg.result == 1
    d = w.delta()
    assert d.pop("bytes_total") > 0
    assert d == {"wait_delayed": 1, "rows_written": 1}
    assert queue_end(waiter) == 1


def test_wait_served_by_an_aborted_row_counts_wait_delayed(conn, connect, make_queue):
    t = make_queue()
    owner, waiter = connect(), connect()
    insert_ids(conn, t, [1])
    assert wait(owner, t, timeout=0) == 1
    w = Watch(conn, t)
    bg = start_wait(waiter, t, timeout=20)
    wait_until_blocked(conn, [waiter])
    assert queue_abort(owner) == 1
    bg.join(10)
    assert bg.result == 1
    assert w.delta() == {"wait_delayed": 1, "restored_by_abort": 1}
    assert queue_end(waiter) == 1


def test_poll_that_finds_nothing_counts_wait_timeout(conn, make_queue):
    t = make_queue()
    w = Watch(conn, t)
    assert wait(conn, t, timeout=0) == 0
    assert w.delta() == {"wait_timeout": 1}
    assert queue_end(conn) == 1


def test_blocking_wait_that_times_out_counts_wait_timeout(conn, make_queue):
    t = make_queue()
    w = Watch(conn, t)
    assert wait(conn, t, timeout=0.3) == 0
    assert w.delta() == {"wait_timeout": 1}
    assert queue_end(conn) == 1


def test_wait_whose_condition_matches_no_row_counts_wait_timeout(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1, 2, 3])
    w = Watch(conn, t)
    assert wait(conn, f"{t}:id=7", timeout=0) == 0
    assert wait(conn, f"{t}:id=8", timeout=0.2) == 0
    assert w.delta() == {"wait_timeout": 2}
    assert queue_end(conn) == 1


def test_multi_table_immediate_success_counts_timeouts_for_the_tables_checked_before(
    conn, make_queue
):
    a, b, c = make_queue(), make_queue(), make_queue()
    insert_ids(conn, b, [1])
    insert_ids(conn, c, [1])
    wa, wb, wc = Watch(conn, a), Watch(conn, b), Watch(conn, c)
    assert wait(conn, a, b, c, timeout=0) == 2
    assert wa.delta() == {"wait_timeout": 1}
    assert wb.delta() == {"wait_immediate": 1}
    assert wc.delta() == {}  # never looked at
    assert queue_abort(conn) == 1


def test_same_table_twice_counts_the_passed_over_argument_as_a_timeout(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [2])
    w = Watch(conn, t)
    assert wait(conn, f"{t}:id=1", f"{t}:id=2", timeout=0) == 2
    assert w.delta() == {"wait_timeout": 1, "wait_immediate": 1}
    assert queue_abort(conn) == 1


def test_multi_table_delayed_success_counts_timeouts_for_the_other_tables(
    conn, connect, make_queue
):
    a, b, c = make_queue(), make_queue(), make_queue()
    waiter = connect()
    wa, wb, wc = Watch(conn, a), Watch(conn, b), Watch(conn, c)
    bg = start_wait(waiter, a, b, c, timeout=20)
    wait_until_blocked(conn, [waiter])
    insert_ids(conn, b, [1])
    bg.join(10)
    assert bg.result == 2
    assert wa.delta() == {"wait_timeout": 1}
    assert {k: v for k, v in wb.delta().items() if not k.startswith(("rows_", "bytes_"))} == {
        "wait_delayed": 1
    }
    assert wc.delta() == {"wait_timeout": 1}
    assert queue_end(waiter) == 1


def test_multi_table_timeout_counts_a_timeout_for_every_table(conn, make_queue):
    a, b = make_queue(), make_queue()
    wa, wb = Watch(conn, a), Watch(conn, b)
    assert wait(conn, a, b, timeout=0.2) == 0
    assert wa.delta() == {"wait_timeout": 1}
    assert wb.delta() == {"wait_timeout": 1}
    assert queue_end(conn) == 1


def test_wait_failing_on_an_unknown_table_counts_a_timeout_for_the_tables_before_it(
    conn, make_queue
):
    """Spec 4.2: "on error: the tables resolved so far" get a wait_timeout."""
    a = make_queue()
    wa = Watch(conn, a)
    assert wait(conn, a, "no_such_table_for_stats", timeout=0) is None
    assert wa.delta() == {"wait_timeout": 1}


def test_wait_failing_to_compile_a_condition_counts_no_table_after_it(conn, make_queue):
    """Spec 4.2: each spec is resolved and compiled in argument order and the first failure
    ends the call, so only the tables resolved so far (here: the failing one) count."""
    a, b = make_queue(), make_queue()
    wa, wb = Watch(conn, a), Watch(conn, b)
    assert wait(conn, f"{a}:no_such_column=1", b, timeout=0) is None
    assert wa.delta() == {"wait_timeout": 1}
    assert wb.delta() == {}


def test_wait_with_a_bad_condition_on_its_only_table_counts_a_timeout(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1])
    w = Watch(conn, t)
    assert wait(conn, f"{t}:no_such_column=1", timeout=0) is None
    assert w.delta() == {"wait_timeout": 1}


# --------------------------------------------------------------------------- restores


def test_abort_counts_restored_by_abort(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1, 2])
    assert wait(conn, t, timeout=0) == 1
    w = Watch(conn, t)
    assert queue_abort(conn) == 1
    assert w.delta() == {"restored_by_abort": 1}


def test_abort_without_a_row_counts_nothing(conn, make_queue):
    t = make_queue()
    assert wait(conn, t, timeout=0) == 0  # owner mode, no row
    w = Watch(conn, t)
    assert queue_abort(conn) == 1
    assert w.delta() == {}


def test_disconnect_of_an_owner_counts_restored_by_close(conn, connect, make_queue):
    t = make_queue()
    owner = connect()
    insert_ids(conn, t, [1])
    assert wait(owner, t, timeout=0) == 1
    w = Watch(conn, t)
    owner.close()
    eventually(lambda: w.delta() == {"restored_by_close": 1}, message="restored_by_close")
    assert rows(conn, f"SELECT id FROM {t}") == [(1,)]


def test_killed_owner_connection_counts_restored_by_close(conn, connect, make_queue):
    t = make_queue()
    owner = connect()
    insert_ids(conn, t, [1])
    assert wait(owner, t, timeout=0) == 1
    w = Watch(conn, t)
    kill_connection(conn, owner)
    eventually(lambda: w.delta() == {"restored_by_close": 1}, message="restored_by_close")


def test_disconnect_without_an_owned_row_counts_nothing(conn, connect, make_queue):
    t = make_queue()
    other = connect()
    insert_ids(conn, t, [1])
    assert wait(other, t, timeout=0) == 1
    assert queue_end(other) == 1
    gone = thread_id(other)
    w = Watch(conn, t)
    other.close()
    eventually(
        lambda: (
            not rows(conn, "SELECT 1 FROM information_schema.PROCESSLIST WHERE ID = %s", (gone,))
        ),
        message="connection gone",
    )
    assert w.delta() == {}


# --------------------------------------------------------------------------- compaction


def test_compaction_resets_the_byte_counts_to_the_live_rows(conn, make_queue):
    t = make_queue(BLOB_TABLE)
    sizes = [payload_of(conn, t, i, 100 * i) for i in range(1, 11)]
    assert execute(conn, f"DELETE FROM {t} WHERE id <= 6") == 6
    before = stats(conn, t)
    assert one(conn, "SELECT queue_compact(%s)", (t,)) == 1
    after = stats(conn, t)
    assert after["bytes_total"] == sum(sizes[6:])
    assert after["bytes_removed"] == 0
    assert changes(before, after).keys() == {"bytes_total", "bytes_removed"}


def test_compaction_keeps_an_owned_rows_bytes_and_the_event_counters(conn, connect, make_queue):
    t = make_queue(BLOB_TABLE)
    owner = connect()
    sizes = [payload_of(conn, t, i, 100 * i) for i in range(1, 6)]
    assert wait(conn, t, timeout=0) == 1
    assert wait(conn, t, timeout=0) == 1  # row 1 consumed, row 2 taken
    assert queue_abort(conn) == 1
    assert wait(owner, t, timeout=0) == 1  # owns row 2
    before = stats(conn, t)
    assert one(conn, "SELECT queue_compact(%s)", (t,)) == 1
    after = stats(conn, t)
    assert after["bytes_total"] == sum(sizes[1:])
    assert after["bytes_removed"] == 0
    for name in NAMES[:7]:
        assert after[name] == before[name], name
    assert queue_end(owner) == 1
    assert stats(conn, t)["bytes_removed"] == sizes[1]


def test_bytes_after_a_compaction_count_new_rows_and_removals(conn, make_queue):
    t = make_queue(BLOB_TABLE)
    for i in range(1, 6):
        insert_blob(conn, t, i, 1000)
    assert execute(conn, f"DELETE FROM {t} WHERE id <= 4") == 4
    assert one(conn, "SELECT queue_compact(%s)", (t,)) == 1
    live = stats(conn, t)["bytes_total"]
    new = payload_of(conn, t, 6, 2000)
    assert stats(conn, t)["bytes_total"] == live + new
    assert execute(conn, f"DELETE FROM {t} WHERE id = 6") == 1
    s = stats(conn, t)
    assert s["bytes_removed"] == new
    assert s["bytes_total"] == live + new


def test_automatic_compaction_resets_the_byte_counts(q4m_server, conn, make_queue):
    t = make_queue(BLOB_TABLE)
    before = one(conn, "SELECT @@GLOBAL.queue_sync")
    execute(conn, "SET GLOBAL queue_sync = OFF")
    try:
        values = ",".join(f"({i}, REPEAT('q', 65536))" for i in range(16))
        for _ in range(20):  # 20 MiB
            execute(conn, f"INSERT INTO {t} VALUES {values}")
    finally:
        execute(conn, f"SET GLOBAL queue_sync = {int(before)}")
    full = stats(conn, t)
    per_row = full["bytes_total"] // 320
    assert execute(conn, f"DELETE FROM {t} LIMIT 310") == 310
    s = stats(conn, t)
    assert s["bytes_total"] == 10 * per_row
    assert s["bytes_removed"] == 0
    assert s["rows_written"] == 320
    assert s["rows_removed"] == 310


# --------------------------------------------------------------------------- lifetime


def test_drop_and_recreate_clears_every_counter(conn, connect, make_queue):
    t = make_queue(BLOB_TABLE)
    owner = connect()
    for i in range(3):
        insert_blob(conn, t, i, 100)
    assert wait(conn, t, timeout=0) == 1
    assert queue_abort(conn) == 1
    assert wait(conn, t, timeout=0) == 1
    assert queue_end(conn) == 1
    waiter = connect()
    bg = start_wait(waiter, t + ":id=50", timeout=20)
    wait_until_blocked(conn, [waiter])
    insert_blob(conn, t, 50, 100)
    bg.join(10)
    assert bg.result == 1
    assert queue_end(waiter) == 1
    assert wait(owner, t, timeout=0) == 1
    owner.close()
    eventually(lambda: stats(conn, t)["restored_by_close"] == 1, message="owner gone")
    assert wait(conn, t + ":id=99", timeout=0) == 0
    assert queue_end(conn) == 1
    assert all(stats(conn, t)[name] for name in NAMES), stats(conn, t)
    execute(conn, f"DROP TABLE {t}")
    assert one(conn, "SELECT queue_stats(%s)", (t,)) is None
    execute(conn, f"CREATE TABLE {t} ({BLOB_TABLE}) ENGINE=QUEUE")
    assert stats(conn, t) == dict.fromkeys(NAMES, 0)


def test_truncate_clears_the_row_and_byte_counts(conn, make_queue):
    t = make_queue(BLOB_TABLE)
    for i in range(3):
        insert_blob(conn, t, i, 100)
    assert execute(conn, f"DELETE FROM {t} WHERE id = 0") == 1
    execute(conn, f"TRUNCATE TABLE {t}")
    s = stats(conn, t)
    assert s["bytes_total"] == s["bytes_removed"] == 0


def test_clean_restart_resets_event_counters_and_keeps_the_byte_counts(crash_server):
    t = unique_name("stats_restart")
    c = crash_server.connect()
    execute(c, f"CREATE TABLE {t} ({BLOB_TABLE}) ENGINE=QUEUE")
    for i in range(5):
        insert_blob(c, t, i, 1000 + i)
    assert wait(c, t, timeout=0) == 1
    assert queue_end(c) == 1
    assert wait(c, t, timeout=0) == 1
    assert queue_abort(c) == 1
    assert wait(c, t + ":id=99", timeout=0) == 0
    assert queue_end(c) == 1
    before = stats(c, t)
    c.close()
    crash_server.restart()
    c = crash_server.connect()
    after = stats(c, t)
    assert after == {
        **dict.fromkeys(NAMES[:7], 0),
        "bytes_total": before["bytes_total"],
        "bytes_removed": before["bytes_removed"],
    }


def test_kill9_restart_keeps_the_byte_counts_of_the_file(crash_server):
    t = unique_name("stats_kill9")
    c = crash_server.connect()
    execute(c, f"CREATE TABLE {t} ({BLOB_TABLE}) ENGINE=QUEUE")
    for i in range(5):
        insert_blob(c, t, i, 2000 * (i + 1))
    assert execute(c, f"DELETE FROM {t} WHERE id IN (1, 3)") == 2
    before = stats(c, t)
    crash_server.kill9()
    crash_server.start()
    c = crash_server.connect()
    after = stats(c, t)
    assert (after["bytes_total"], after["bytes_removed"]) == (
        before["bytes_total"],
        before["bytes_removed"],
    )
    assert after["rows_written"] == after["rows_removed"] == 0


def test_restart_after_compaction_keeps_the_compacted_byte_counts(crash_server):
    t = unique_name("stats_compacted_restart")
    c = crash_server.connect()
    execute(c, f"CREATE TABLE {t} ({BLOB_TABLE}) ENGINE=QUEUE")
    for i in range(6):
        insert_blob(c, t, i, 500 * (i + 1))
    assert execute(c, f"DELETE FROM {t} WHERE id < 3") == 3
    assert one(c, "SELECT queue_compact(%s)", (t,)) == 1
    before = stats(c, t)
    c.close()
    crash_server.restart()
    c = crash_server.connect()
    after = stats(c, t)
    assert (after["bytes_total"], after["bytes_removed"]) == (before["bytes_total"], 0)


# --------------------------------------------------------------------------- arguments


def test_queue_stats_without_arguments_is_error_1123(q4m_server, conn):
    errno, message = sql_error(conn, "SELECT queue_stats()")
    assert errno == ER_CANT_INITIALIZE_UDF
    assert STATS_USAGE in message
    assert_server_alive(q4m_server)


def test_queue_stats_with_two_arguments_is_error_1123(q4m_server, conn, make_queue):
    t = make_queue()
    errno, message = sql_error(conn, f"SELECT queue_stats('{t}', '{t}')")
    assert errno == ER_CANT_INITIALIZE_UDF
    assert STATS_USAGE in message
    assert sql_error(conn, f"SELECT queue_stats('{t}', 1, 2)")[0] == ER_CANT_INITIALIZE_UDF
    assert_server_alive(q4m_server)


def test_queue_stats_of_null_is_null(q4m_server, conn):
    assert one(conn, "SELECT queue_stats(NULL)") is None
    assert one(conn, "SELECT queue_stats(%s)", (None,)) is None
    assert_server_alive(q4m_server)


def test_queue_stats_of_an_unknown_table_is_null(q4m_server, conn):
    assert one(conn, "SELECT queue_stats('no_such_table_for_stats')") is None
    assert one(conn, "SELECT queue_stats('no_such_db_for_stats.t')") is None
    assert_server_alive(q4m_server)


def test_queue_stats_of_an_innodb_table_is_null(q4m_server, conn, make_innodb):
    t = make_innodb()
    assert one(conn, "SELECT queue_stats(%s)", (t,)) is None
    assert one(conn, "SELECT queue_stats(%s)", (f"test.{t}",)) is None
    assert_server_alive(q4m_server)


def test_queue_stats_of_an_empty_name_is_null(q4m_server, conn):
    assert one(conn, "SELECT queue_stats('')") is None
    assert_server_alive(q4m_server)


ODD_NAMES = [
    "test.",
    ".{t}",
    "test.{t}.x",
    "{t}:id=1",
    "`{t}`",
    "../test/{t}",
    "{t} ",
    "te\0st.{t}",
    "{t}\0",
    "x" * 5000,
    "test." + "y" * 300,
    "mysql.user",
    "information_schema.tables",
    "\u00e9\u00e8\U0001f600",
]


@pytest.mark.parametrize("pattern", ODD_NAMES, ids=lambda p: repr(p)[:30])
def test_queue_stats_of_an_odd_name_is_null(q4m_server, conn, make_queue, pattern):
    t = make_queue()
    assert one(conn, "SELECT queue_stats(%s)", (pattern.replace("{t}", t),)) is None
    assert_server_alive(q4m_server)


@pytest.mark.parametrize("value", ["1", "1.5", "-1", "x'00'", "CAST(NULL AS CHAR)"])
def test_queue_stats_of_a_non_name_value_is_null(q4m_server, conn, value):
    assert one(conn, f"SELECT queue_stats({value})") is None
    assert_server_alive(q4m_server)


def test_queue_stats_without_a_default_database_needs_the_database_name(connect, make_queue):
    t = make_queue()
    nodb = connect(database="")
    assert one(nodb, "SELECT DATABASE()") is None
    assert one(nodb, "SELECT queue_stats(%s)", (t,)) is None
    assert stats(nodb, f"test.{t}") == dict.fromkeys(NAMES, 0)


def test_queue_stats_for_each_row_of_a_scan(conn, make_queue):
    t = make_queue()
    insert_ids(conn, t, [1, 2, 3])
    got = [r[0] for r in rows(conn, f"SELECT queue_stats('{t}') FROM {t}")]
    assert len(got) == 3
    assert len(set(got)) == 1
    assert b"rows_written: 3\n" in got[0] or "rows_written: 3\n" in got[0]


def test_queue_stats_of_a_table_given_per_row(conn, make_queue):
    a, b = make_queue(), make_queue()
    insert_ids(conn, a, [1])
    insert_ids(conn, b, [1, 2])
    execute(conn, "CREATE TEMPORARY TABLE names_for_stats (n VARCHAR(100))")
    try:
        execute(conn, "INSERT INTO names_for_stats VALUES (%s), (%s), (NULL), ('nope')", (a, b))
        got = [r[0] for r in rows(conn, "SELECT queue_stats(n) FROM names_for_stats")]
    finally:
        execute(conn, "DROP TEMPORARY TABLE names_for_stats")
    decoded = [g.decode() if isinstance(g, bytes) else g for g in got]
    assert decoded[0].startswith("rows_written: 1\n")
    assert decoded[1].startswith("rows_written: 2\n")
    assert decoded[2:] == [None, None]
