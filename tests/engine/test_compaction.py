"""Compaction of the data file, automatic and by queue_compact(table) (spec 1.2, 2.2, 7.3).

What the engine promises: after a consuming queue_wait / queue_end or a DELETE, when the log
of `<table>.Q4M` is at least 16 MiB long and the live rows (payload + 32 bytes each) take at most
a quarter of it, the live rows are copied into `<table>.Q4T`, which is renamed over the `.Q4M`
(error log: "QUEUE: compacted <file>: <before> -> <after> bytes, <n> live rows").
queue_compact(table) forces it and returns 1. Row ids, FIFO order and ownership survive; new rows
get ids above the old maximum, also after a restart.

Big tables are built from 64 KiB BLOB rows in 16-row INSERTs, with queue_sync OFF on the shared
server while filling (restored afterwards); every row's content depends on its id, and is checked
by the server's MD5 of the whole BLOB, so a row read from a wrong offset cannot go unnoticed.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import re
import threading
import time

import MySQLdb
import pytest

from .engine_helpers import (
    ER_CANT_INITIALIZE_UDF,
    BackgroundQuery,
    assert_server_alive,
    column,
    count,
    eventually,
    execute,
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

pytestmark = pytest.mark.timeout(120)

KB = 1 << 10
MB = 1 << 20
BLOB = 64 * KB
BLOB_TABLE = "id INT NOT NULL, b LONGBLOB"
COMPACT_USAGE = "queue_compact(table_name): argument error"


# --------------------------------------------------------------------------- helpers


def content(i: int, size: int) -> bytes:
    """The BLOB of row `i`: its id, then a letter that depends on it."""
    head = b"%010d" % i
    return (head + bytes([65 + i % 26]) * size)[:size]


def content_sql(i: int, size: int) -> str:
    return f"LEFT(CONCAT('{i:010d}', REPEAT('{chr(65 + i % 26)}', {size})), {size})"


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def fill(conn, table: str, ids, size: int = BLOB, per_statement: int = 16, extra=None) -> None:
    """Insert rows (id, <content of id>) with multi-row INSERTs; `extra(i)` gives more values."""
    ids = list(ids)
    for start in range(0, len(ids), per_statement):
        chunk = ids[start : start + per_statement]
        values = ",".join(
            f"({i}, {extra(i) + ', ' if extra else ''}{content_sql(i, size)})" for i in chunk
        )
        execute(conn, f"INSERT INTO {table} VALUES {values}")


def expected_rows(ids, size: int = BLOB) -> list[tuple]:
    return [(i, size, md5(content(i, size))) for i in ids]


def stored_rows(conn, table: str) -> list[tuple]:
    """(id, LENGTH(b), MD5(b)) of every row the connection sees, in scan order."""
    return [(r[0], r[1], r[2]) for r in rows(conn, f"SELECT id, LENGTH(b), MD5(b) FROM {table}")]


@contextlib.contextmanager
def queue_sync_off(conn):
    before = one(conn, "SELECT @@GLOBAL.queue_sync")
    execute(conn, "SET GLOBAL queue_sync = OFF")
    try:
        yield
    finally:
        execute(conn, f"SET GLOBAL queue_sync = {int(before)}")


def fill_fast(conn, table: str, ids, size: int = BLOB, extra=None) -> None:
    with queue_sync_off(conn):
        fill(conn, table, ids, size, extra=extra)


def data_file(server, table: str, db: str = "test"):
    return server.datadir / db / f"{table}.Q4M"


def file_size(server, table: str, db: str = "test") -> int:
    return data_file(server, table, db).stat().st_size


def q4t_files(server) -> list:
    return sorted(str(p) for p in server.datadir.rglob("*.Q4T"))


def compaction_lines(server, table: str, db: str = "test") -> list[tuple[int, int, int]]:
    """(bytes before, bytes after, live rows) of every compaction of the table in the log."""
    pattern = re.compile(
        rf"QUEUE: compacted \S*/{re.escape(db)}/{re.escape(table)}\.Q4M: "
        rf"(\d+) -> (\d+) bytes, (\d+) live rows"
    )
    return [tuple(int(g) for g in m.groups()) for m in pattern.finditer(server.error_log())]


def compactions(server, table: str, db: str = "test") -> int:
    return len(compaction_lines(server, table, db))


def compact(conn, table: str):
    return one(conn, "SELECT queue_compact(%s)", (table,))


def stats(conn, table: str) -> dict[str, int]:
    text = one(conn, "SELECT queue_stats(%s)", (table,))
    text = text.decode() if isinstance(text, bytes) else text
    return {k: int(v) for k, v in (line.split(": ") for line in text.splitlines())}


def consume(conn, table: str, n: int) -> list[int]:
    """Take and consume n rows one by one (each queue_wait consumes the previous row); the
    last one is consumed by queue_end. Returns their ids."""
    got = []
    for _ in range(n):
        assert wait(conn, table, timeout=0) == 1
        got.append(one(conn, f"SELECT id FROM {table}"))
    assert queue_end(conn) == 1
    return got


def drain_with_rowids(conn, table: str) -> list[tuple[int, int]]:
    """Consume every row; (queue_rowid(), id) of each, in delivery order."""
    got = []
    while wait(conn, table, timeout=0) == 1:
        got.append((queue_rowid(conn), one(conn, f"SELECT id FROM {table}")))
    assert queue_end(conn) == 1
    return got


def next_rowid(conn, table: str) -> int:
    """Insert one row and return the row id it got (consumes every row of the table)."""
    execute(conn, f"INSERT INTO {table} (id) VALUES (-1)")
    got = drain_with_rowids(conn, table)
    assert got and got[-1][1] == -1
    return got[-1][0]


def crash_queue(server, hint: str, cols: str = BLOB_TABLE) -> str:
    name = unique_name(hint)
    c = server.connect()
    try:
        execute(c, f"DROP TABLE IF EXISTS {name}")
        execute(c, f"CREATE TABLE {name} ({cols}) ENGINE=QUEUE")
    finally:
        c.close()
    return name


# --------------------------------------------------------------------------- automatic


def test_consuming_queue_wait_compacts_a_big_mostly_consumed_file(q4m_server, conn, make_queue):
    t = make_queue(BLOB_TABLE)
    fill_fast(conn, t, range(1, 321))  # 20 MiB
    before = file_size(q4m_server, t)
    assert before >= 20 * MB
    assert consume(conn, t, 300) == list(range(1, 301))
    assert compactions(q4m_server, t) == 1
    assert file_size(q4m_server, t) < before / 2
    assert stored_rows(conn, t) == expected_rows(range(301, 321))
    assert q4t_files(q4m_server) == []


def test_automatic_compaction_happens_as_soon_as_live_rows_are_a_quarter(
    q4m_server, conn, make_queue
):
    t = make_queue(BLOB_TABLE)
    fill_fast(conn, t, range(1, 321))
    payload = stats(conn, t)["bytes_total"] // 320
    full = file_size(q4m_server, t)
    live_when_compacted = None
    for consumed in range(1, 321):
        assert wait(conn, t, timeout=0) == 1
        if file_size(q4m_server, t) < full:
            # this wait consumed row `consumed - 1`; the compaction ran right after it
            live_when_compacted = 320 - (consumed - 1)
            break
    assert queue_end(conn) == 1
    assert live_when_compacted is not None, "the file never shrank"
    [(log_before, log_after, live_rows)] = compaction_lines(q4m_server, t)
    assert live_rows == live_when_compacted
    per_row = payload + 32
    assert live_rows * per_row * 4 <= log_before, "compacted with more than a quarter live"
    assert (live_rows + 1) * per_row * 4 > log_before, "not compacted at the first chance"
    assert log_before >= 16 * MB
    assert log_after < log_before / 3


def test_delete_compacts_a_big_mostly_deleted_file(q4m_server, conn, make_queue):
    t = make_queue(BLOB_TABLE)
    fill_fast(conn, t, range(1, 321))
    before = file_size(q4m_server, t)
    assert execute(conn, f"DELETE FROM {t} WHERE id > 10") == 310
    assert compactions(q4m_server, t) == 1
    assert file_size(q4m_server, t) < 2 * MB < before
    assert stored_rows(conn, t) == expected_rows(range(1, 11))


def test_queue_end_compacts_when_it_removes_the_big_last_row(q4m_server, conn, make_queue):
    t = make_queue(BLOB_TABLE)
    with queue_sync_off(conn):
        fill(conn, t, [1], size=6 * MB)
        fill(conn, t, range(2, 226))  # 14 MiB more: 20 MiB in all
    # the 6 MiB row alone is 30 % of the file: no compaction yet
    assert execute(conn, f"DELETE FROM {t} WHERE id > 1") == 224
    assert compactions(q4m_server, t) == 0
    assert wait(conn, t, timeout=0) == 1
    assert compactions(q4m_server, t) == 0
    assert queue_end(conn) == 1
    assert compactions(q4m_server, t) == 1
    assert file_size(q4m_server, t) < 1 * MB
    assert count(conn, t) == 0


def test_no_compaction_of_a_file_below_16_mib(q4m_server, conn, make_queue):
    t = make_queue(BLOB_TABLE)
    fill_fast(conn, t, range(1, 177))  # 11 MiB of rows
    before = file_size(q4m_server, t)
    assert execute(conn, f"DELETE FROM {t}") == 176
    assert compactions(q4m_server, t) == 0
    assert file_size(q4m_server, t) == before
    s = stats(conn, t)
    assert s["bytes_removed"] == s["bytes_total"] > 10 * MB  # not reset by a compaction


def test_a_file_just_over_16_mib_is_compacted_when_emptied(q4m_server, conn, make_queue):
    t = make_queue(BLOB_TABLE)
    fill_fast(conn, t, range(1, 265))  # 16.5 MiB of rows
    assert execute(conn, f"DELETE FROM {t}") == 264
    assert compactions(q4m_server, t) == 1
    assert file_size(q4m_server, t) < 64 * KB


def test_no_compaction_while_live_rows_exceed_a_quarter(q4m_server, conn, make_queue):
    t = make_queue(BLOB_TABLE)
    fill_fast(conn, t, range(1, 321))
    before = file_size(q4m_server, t)
    assert execute(conn, f"DELETE FROM {t} WHERE id <= 224") == 224  # 96 rows = 30 % stay
    assert consume(conn, t, 10) == list(range(225, 235))  # 86 rows = 27 %
    assert compactions(q4m_server, t) == 0
    assert file_size(q4m_server, t) == before
    assert stored_rows(conn, t) == expected_rows(range(235, 321))


# --------------------------------------------------------------------------- queue_compact


def test_queue_compact_returns_1_and_shrinks_a_small_file(q4m_server, conn, make_queue):
    t = make_queue(BLOB_TABLE)
    fill(conn, t, range(1, 101), size=10 * KB)
    assert consume(conn, t, 90) == list(range(1, 91))
    before = file_size(q4m_server, t)
    assert compactions(q4m_server, t) == 0
    assert compact(conn, t) == 1
    assert compactions(q4m_server, t) == 1
    after = file_size(q4m_server, t)
    assert after < 10 * 11 * KB + 8 * KB < before
    assert stored_rows(conn, t) == expected_rows(range(91, 101), 10 * KB)
    assert count(conn, t) == 10


def test_queue_compact_of_an_empty_table_returns_1(q4m_server, conn, make_queue):
    t = make_queue(BLOB_TABLE)
    assert compact(conn, t) == 1
    assert compactions(q4m_server, t) == 1
    assert file_size(q4m_server, t) < 8 * KB
    assert count(conn, t) == 0
    fill(conn, t, [1, 2], size=100)
    assert stored_rows(conn, t) == expected_rows([1, 2], 100)


def test_queue_compact_twice_in_a_row_keeps_the_rows(q4m_server, conn, make_queue):
    t = make_queue(BLOB_TABLE)
    fill(conn, t, range(1, 21), size=KB)
    assert compact(conn, t) == 1
    assert compact(conn, t) == 1
    assert compactions(q4m_server, t) == 2
    assert stored_rows(conn, t) == expected_rows(range(1, 21), KB)


def test_queue_compact_takes_a_database_qualified_name(q4m_server, conn, make_queue, other_db):
    t = make_queue(BLOB_TABLE)
    execute(conn, f"CREATE TABLE {other_db}.{t} ({BLOB_TABLE}) ENGINE=QUEUE")
    fill(conn, f"{other_db}.{t}", range(1, 11), size=KB)
    assert consume(conn, f"{other_db}.{t}", 5) == [1, 2, 3, 4, 5]
    assert compact(conn, f"{other_db}.{t}") == 1
    assert compactions(q4m_server, t, db=other_db) == 1
    assert compactions(q4m_server, t) == 0  # not test.<t>
    assert stored_rows(conn, f"{other_db}.{t}") == expected_rows(range(6, 11), KB)


def test_concurrent_queue_compact_calls_all_return_1(q4m_server, conn, connect, make_queue):
    t = make_queue(BLOB_TABLE)
    fill_fast(conn, t, range(1, 641))  # 40 MiB live: each compaction copies all of it
    callers = [connect() for _ in range(4)]
    results, errors = [], []

    def call(c):
        try:
            results.append(compact(c, t))
        except Exception as e:  # reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=call, args=(c,), daemon=True) for c in callers]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert not errors
    assert results == [1, 1, 1, 1]
    assert 1 <= compactions(q4m_server, t) <= 4
    assert q4t_files(q4m_server) == []
    assert stored_rows(conn, t) == expected_rows(range(1, 641))


# --------------------------------------------------------------------------- ids and order


def test_row_ids_survive_compaction(conn, make_queue):
    t = make_queue(BLOB_TABLE)
    fill(conn, t, range(1, 31), size=KB)  # row id i for id i
    assert execute(conn, f"DELETE FROM {t} WHERE id % 3 = 0") == 10
    assert compact(conn, t) == 1
    expected = [(i, i) for i in range(1, 31) if i % 3]
    assert drain_with_rowids(conn, t) == expected


def test_fifo_order_survives_compaction(conn, make_queue):
    t = make_queue(BLOB_TABLE)
    ids = [17, 3, 99, 42, 8, 64, 1, 23, 77, 5, 31, 12]
    fill(conn, t, ids, size=KB, per_statement=5)
    assert consume(conn, t, 4) == ids[:4]
    assert compact(conn, t) == 1
    fill(conn, t, [1000, 2], size=KB)
    assert column(conn, f"SELECT id FROM {t}") == [*ids[4:], 1000, 2]
    assert [i for _, i in drain_with_rowids(conn, t)] == [*ids[4:], 1000, 2]


def test_new_rows_get_ids_above_the_old_maximum_after_compacting_an_emptied_table(conn, make_queue):
    t = make_queue(BLOB_TABLE)
    fill(conn, t, range(1, 51), size=100)
    assert len(consume(conn, t, 50)) == 50
    assert compact(conn, t) == 1
    assert next_rowid(conn, t) == 51


def test_new_rows_get_ids_above_the_old_maximum_not_above_the_last_live_row(conn, make_queue):
    t = make_queue(BLOB_TABLE)
    fill(conn, t, range(1, 51), size=100)
    assert execute(conn, f"DELETE FROM {t} WHERE id > 10") == 40
    assert compact(conn, t) == 1
    execute(conn, f"INSERT INTO {t} (id) VALUES (-1)")
    got = drain_with_rowids(conn, t)
    assert got == [*[(i, i) for i in range(1, 11)], (51, -1)]


def test_new_rows_get_ids_above_the_old_maximum_after_automatic_compaction(
    q4m_server, conn, make_queue
):
    t = make_queue(BLOB_TABLE)
    fill_fast(conn, t, range(1, 321))
    assert execute(conn, f"DELETE FROM {t}") == 320
    assert compactions(q4m_server, t) == 1
    assert next_rowid(conn, t) == 321


def test_count_is_exact_after_compaction(connect, make_queue):
    c, owner = connect(), connect()
    t = make_queue(BLOB_TABLE)
    fill(c, t, range(1, 41), size=KB)
    assert execute(c, f"DELETE FROM {t} WHERE id <= 15") == 15
    assert wait(owner, t, timeout=0) == 1
    assert compact(c, t) == 1
    assert count(c, t) == 25  # COUNT(*) includes the owned row
    assert len(rows(c, f"SELECT id FROM {t}")) == 24
    assert queue_end(owner) == 1
    assert count(c, t) == 24


# --------------------------------------------------------------------------- ownership


def _owned_setup(conn, owner, t, size=10 * KB):
    """40 rows; 20 consumed; `owner` owns row 21. Returns the owned row's (id, len, md5)."""
    fill(conn, t, range(1, 41), size=size)
    assert consume(conn, t, 20) == list(range(1, 21))
    assert wait(owner, t, timeout=0) == 1
    assert queue_rowid(owner) == 21
    return expected_rows([21], size)


def test_owned_row_stays_owned_across_compaction(connect, make_queue):
    c, owner, other = connect(), connect(), connect()
    t = make_queue(BLOB_TABLE)
    owned = _owned_setup(c, owner, t)
    assert compact(c, t) == 1
    assert stored_rows(owner, t) == owned
    assert queue_rowid(owner) == 21
    assert 21 not in column(other, f"SELECT id FROM {t}")
    assert column(other, f"SELECT id FROM {t}") == list(range(22, 41))
    assert wait(other, t, timeout=0) == 1
    assert one(other, f"SELECT id FROM {t}") == 22
    assert queue_abort(other) == 1


def test_owned_row_ended_after_compaction_is_gone(connect, make_queue):
    c, owner = connect(), connect()
    t = make_queue(BLOB_TABLE)
    _owned_setup(c, owner, t)
    assert compact(c, t) == 1
    assert queue_end(owner) == 1
    assert column(c, f"SELECT id FROM {t}") == list(range(22, 41))
    assert count(c, t) == 19
    assert [i for _, i in drain_with_rowids(c, t)] == list(range(22, 41))


def test_owned_row_aborted_after_compaction_is_delivered_again(connect, make_queue):
    c, owner = connect(), connect()
    t = make_queue(BLOB_TABLE)
    owned = _owned_setup(c, owner, t)
    assert compact(c, t) == 1
    assert queue_abort(owner) == 1
    assert column(c, f"SELECT id FROM {t}")[:2] == [21, 22]
    assert wait(c, t, timeout=0) == 1
    assert queue_rowid(c) == 21
    assert stored_rows(c, t) == owned
    assert queue_end(c) == 1


def test_owned_row_of_a_disconnected_owner_returns_after_compaction(connect, make_queue):
    c, owner = connect(), connect()
    t = make_queue(BLOB_TABLE)
    owned = _owned_setup(c, owner, t)
    assert compact(c, t) == 1
    owner.close()
    eventually(lambda: column(c, f"SELECT id FROM {t}")[:1] == [21], message="row 21 back")
    assert wait(c, t, timeout=0) == 1
    assert queue_rowid(c) == 21
    assert stored_rows(c, t) == owned
    assert queue_end(c) == 1


def test_row_owned_during_an_automatic_compaction_stays_owned(q4m_server, connect, make_queue):
    c, owner = connect(), connect()
    t = make_queue(BLOB_TABLE)
    fill_fast(c, t, range(1, 321))
    assert wait(owner, t, timeout=0) == 1  # owns row 1
    assert consume(c, t, 300) == list(range(2, 302))
    assert compactions(q4m_server, t) == 1
    assert stored_rows(owner, t) == expected_rows([1])
    assert 1 not in column(c, f"SELECT id FROM {t}")
    assert queue_end(owner) == 1
    assert column(c, f"SELECT id FROM {t}") == list(range(302, 321))


# --------------------------------------------------------------------------- concurrency


@pytest.mark.timeout(180)
def test_producers_and_consumers_during_compactions_lose_and_duplicate_nothing(
    q4m_server, conn, connect, make_queue
):
    """3 producers (8-row INSERTs of 24 KiB rows, 17 MiB in all), 3 consumers (every 7th row
    they take is aborted and so delivered again) and a thread calling queue_compact in a loop.
    Each row must be consumed exactly once with its exact content."""
    t = make_queue(BLOB_TABLE)
    size, producers, per_producer, consumers = 24 * KB, 3, 240, 3
    all_ids = [p * 100_000 + k for p in range(producers) for k in range(per_producer)]
    expected = {i: md5(content(i, size)) for i in all_ids}
    produced = threading.Event()
    stop = threading.Event()
    consumed, aborted, errors, compacts = [], [], [], []
    lock = threading.Lock()
    prod_conns = [connect() for _ in range(producers)]
    cons_conns = [connect() for _ in range(consumers)]
    compactor_conn = connect()

    def produce(c, p):
        try:
            fill(c, t, [p * 100_000 + k for k in range(per_producer)], size, per_statement=8)
        except Exception as e:
            errors.append(f"producer {p}: {e!r}")

    def consumer(c, n):
        taken = 0
        try:
            while True:
                r = wait(c, t, timeout=1)
                if r == 0:
                    if produced.is_set():
                        break
                    continue
                if r != 1:
                    errors.append(f"queue_wait returned {r!r}")
                    return
                got = rows(c, f"SELECT id, MD5(b) FROM {t}")
                if len(got) != 1:
                    errors.append(f"owner sees {len(got)} rows")
                    return
                i, digest = got[0]
                if expected.get(i) != digest:
                    errors.append(f"row {i} has wrong content")
                taken += 1
                if taken % 7 == 0:
                    assert queue_abort(c) == 1
                    with lock:
                        aborted.append(i)
                else:
                    with lock:
                        consumed.append(i)
            assert queue_end(c) == 1
        except Exception as e:
            errors.append(f"consumer {n}: {e!r}")

    def compactor():
        try:
            while not stop.is_set():
                compacts.append(compact(compactor_conn, t))
                time.sleep(0.01)
        except Exception as e:
            errors.append(f"compactor: {e!r}")

    threads = [threading.Thread(target=compactor, daemon=True)]
    threads += [
        threading.Thread(target=consumer, args=(c, n), daemon=True)
        for n, c in enumerate(cons_conns)
    ]
    prods = [
        threading.Thread(target=produce, args=(c, p), daemon=True) for p, c in enumerate(prod_conns)
    ]
    for th in threads + prods:
        th.start()
    for th in prods:
        th.join(120)
    produced.set()
    for th in threads[1:]:
        th.join(120)
    stop.set()
    threads[0].join(30)
    assert not any(th.is_alive() for th in threads + prods), "threads still running"
    assert not errors, errors[:5]
    dup = [i for i, n in collections.Counter(consumed).items() if n > 1]
    assert not dup, f"consumed twice: {dup[:10]}"
    assert sorted(consumed) == sorted(all_ids), (
        f"{len(set(all_ids) - set(consumed))} rows never consumed"
    )
    assert aborted, "no row was aborted"
    assert compacts and set(compacts) == {1}
    assert compactions(q4m_server, t) >= 5
    assert count(conn, t) == 0
    assert q4t_files(q4m_server) == []


@pytest.mark.timeout(180)
def test_deletes_and_consumers_during_compactions_account_for_every_row(
    q4m_server, conn, connect, make_queue
):
    """One producer, two consumers, a thread deleting the rows whose id ends in 7 and a thread
    compacting in a loop: every other row is consumed exactly once, and each row ending in 7
    is either consumed once or deleted once."""
    t = make_queue(BLOB_TABLE)
    size, total = 16 * KB, 1200
    expected = {i: md5(content(i, size)) for i in range(total)}
    produced, stop = threading.Event(), threading.Event()
    consumed, deleted, errors = [], [], []
    lock = threading.Lock()
    producer, deleter, compactor = connect(), connect(), connect()
    cons_conns = [connect(), connect()]

    def produce():
        try:
            fill(producer, t, range(total), size, per_statement=10)
        except Exception as e:
            errors.append(f"producer: {e!r}")

    def consume_rows(c):
        try:
            while True:
                r = wait(c, t, timeout=1)
                if r == 0:
                    if produced.is_set():
                        break
                    continue
                (i, digest), *more = rows(c, f"SELECT id, MD5(b) FROM {t}")
                if more or expected.get(i) != digest:
                    errors.append(f"bad row {i}")
                with lock:
                    consumed.append(i)
            assert queue_end(c) == 1
        except Exception as e:
            errors.append(f"consumer: {e!r}")

    def delete_sevens():
        try:
            while not stop.is_set():
                deleted.append(execute(deleter, f"DELETE FROM {t} WHERE id % 10 = 7"))
                time.sleep(0.005)
        except Exception as e:
            errors.append(f"deleter: {e!r}")

    def compact_loop():
        try:
            while not stop.is_set():
                assert compact(compactor, t) == 1
                time.sleep(0.01)
        except Exception as e:
            errors.append(f"compactor: {e!r}")

    helpers = [threading.Thread(target=f, daemon=True) for f in (delete_sevens, compact_loop)]
    cons = [threading.Thread(target=consume_rows, args=(c,), daemon=True) for c in cons_conns]
    prod = threading.Thread(target=produce, daemon=True)
    for th in [*helpers, *cons, prod]:
        th.start()
    prod.join(120)
    produced.set()
    for th in cons:
        th.join(120)
    stop.set()
    for th in helpers:
        th.join(30)
    assert not any(th.is_alive() for th in [*helpers, *cons, prod])
    assert not errors, errors[:5]
    assert count(conn, t) == 0
    dup = [i for i, n in collections.Counter(consumed).items() if n > 1]
    assert not dup, f"consumed twice: {dup[:10]}"
    sevens = {i for i in range(total) if i % 10 == 7}
    assert set(consumed) - sevens == set(range(total)) - sevens
    assert len(set(consumed) & sevens) + sum(deleted) == len(sevens)
    assert sum(deleted) > 0
    assert compactions(q4m_server, t) >= 3
    assert q4t_files(q4m_server) == []


def test_inserts_that_arrive_during_a_long_compaction_are_kept(
    q4m_server, conn, connect, make_queue
):
    t = make_queue(BLOB_TABLE)
    fill_fast(conn, t, range(1, 641))  # 40 MiB to copy
    producer = connect()
    errors = []
    inserted = []

    def produce():
        try:
            for i in range(1001, 1041):
                fill(producer, t, [i], size=KB)
                inserted.append(i)
        except Exception as e:
            errors.append(repr(e))

    th = threading.Thread(target=produce, daemon=True)
    th.start()
    assert compact(conn, t) == 1
    th.join(60)
    assert not errors
    assert compactions(q4m_server, t) == 1
    got = stored_rows(conn, t)
    assert got[:640] == expected_rows(range(1, 641))
    assert got[640:] == expected_rows(range(1001, 1041), KB)


# --------------------------------------------------------------------------- waiters


def test_blocked_waiter_is_served_after_queue_compact(q4m_server, conn, connect, make_queue):
    t = make_queue(BLOB_TABLE)
    fill(conn, t, range(1, 51), size=10 * KB)
    assert len(consume(conn, t, 50)) == 50
    waiter = connect()
    bg = start_wait(waiter, t, timeout=30)
    wait_until_blocked(conn, [waiter])
    assert compact(conn, t) == 1
    assert compactions(q4m_server, t) == 1
    assert not bg.done
    fill(conn, t, [999], size=10 * KB)
    bg.join(15)
    assert bg.error is None and bg.result == 1
    assert queue_rowid(waiter) == 51
    assert stored_rows(waiter, t) == expected_rows([999], 10 * KB)
    assert queue_end(waiter) == 1


def test_conditional_waiter_is_served_after_an_automatic_compaction(
    q4m_server, conn, connect, make_queue
):
    t = make_queue("id INT NOT NULL, c INT NOT NULL, b LONGBLOB")
    waiter = connect()
    bg = start_wait(waiter, f"{t}:c=1", timeout=60)
    wait_until_blocked(conn, [waiter])
    with queue_sync_off(conn):
        fill(conn, t, range(1, 321), extra=lambda i: "0")
        assert len(consume(conn, t, 320)) == 320
    assert compactions(q4m_server, t) == 1
    assert not bg.done
    fill(conn, t, [999], extra=lambda i: "1")
    bg.join(15)
    assert bg.error is None and bg.result == 1
    assert stored_rows(waiter, t) == expected_rows([999])
    assert queue_rowid(waiter) == 321
    assert queue_end(waiter) == 1


# --------------------------------------------------------------------------- crash


def test_kill9_right_after_compaction_keeps_exactly_the_live_rows(crash_server):
    t = crash_queue(crash_server, "kill9_compacted")
    c, owner = crash_server.connect(), crash_server.connect()
    fill(c, t, range(1, 121), size=4 * KB)
    assert consume(c, t, 80) == list(range(1, 81))
    assert wait(owner, t, timeout=0) == 1  # row 81: owned at the crash, so live again
    assert compact(c, t) == 1
    assert compactions(crash_server, t) == 1
    crash_server.kill9()
    crash_server.start()
    c = crash_server.connect()
    assert stored_rows(c, t) == expected_rows(range(81, 121), 4 * KB)
    assert count(c, t) == 40
    assert drain_with_rowids(c, t) == [(i, i) for i in range(81, 121)]
    assert next_rowid(c, t) == 121
    assert q4t_files(crash_server) == []


def test_kill9_after_compacting_an_emptied_table_ids_continue_above_the_old_maximum(
    crash_server,
):
    t = crash_queue(crash_server, "kill9_emptied")
    c = crash_server.connect()
    fill(c, t, range(1, 51), size=100)
    assert len(consume(c, t, 50)) == 50
    assert compact(c, t) == 1
    crash_server.kill9()
    crash_server.start()
    c = crash_server.connect()
    assert count(c, t) == 0
    assert next_rowid(c, t) == 51


def test_rows_written_and_consumed_after_an_automatic_compaction_survive_kill9(crash_server):
    t = crash_queue(crash_server, "kill9_auto")
    c = crash_server.connect()
    fill(c, t, range(1, 321))  # 20 MiB, flushed (sync on)
    assert execute(c, f"DELETE FROM {t} WHERE id > 10") == 310
    assert compactions(crash_server, t) == 1
    fill(c, t, range(1001, 1011), size=KB)  # row ids 321..330, in the new file
    assert consume(c, t, 3) == [1, 2, 3]
    crash_server.kill9()
    crash_server.start()
    c = crash_server.connect()
    assert stored_rows(c, t) == expected_rows(range(4, 11)) + expected_rows(range(1001, 1011), KB)
    got = drain_with_rowids(c, t)
    assert got == [(i, i) for i in range(4, 11)] + [(320 + k, 1000 + k) for k in range(1, 11)]
    assert next_rowid(c, t) == 331


def kill9_during_a_compaction(server, table: str, db: str = "test") -> None:
    """Fill `db.table` with 768 rows of 64 KiB (48 MiB), delete the first 100 (no automatic
    compaction: most rows are live), start queue_compact and kill -9 the server while the
    compaction is copying (its .Q4T exists); then start the server again."""
    name = f"{db}.{table}"
    c = server.connect()
    fill(c, name, range(1, 769))
    assert execute(c, f"DELETE FROM {name} WHERE id <= 100") == 100
    assert compactions(server, table, db) == 0
    temporary = server.datadir / db / f"{table}.Q4T"
    compactor = server.connect()
    outcome = []

    def run():
        try:
            outcome.append(compact(compactor, name))
        except MySQLdb.MySQLError as e:  # the server is killed under it
            outcome.append(e.args[0])

    th = threading.Thread(target=run, daemon=True)
    th.start()
    deadline = time.monotonic() + 30
    while not temporary.exists():
        assert time.monotonic() < deadline, "no .Q4T appeared"
        assert th.is_alive(), f"queue_compact ended ({outcome}) before its .Q4T was seen"
        time.sleep(0.0005)
    server.kill9()
    th.join(30)
    assert temporary.exists(), "the compaction finished before the kill"
    assert compactions(server, table, db) == 0
    server.start()


def test_kill9_during_a_compaction_keeps_every_row_and_id(crash_server):
    t = crash_queue(crash_server, "kill9_mid_compaction")
    kill9_during_a_compaction(crash_server, t)
    c = crash_server.connect()
    assert count(c, t) == 668
    assert stored_rows(c, t) == expected_rows(range(101, 769))
    assert drain_with_rowids(c, t) == [(i, i) for i in range(101, 769)]
    assert next_rowid(c, t) == 769


def test_no_q4t_is_left_after_a_crash_during_compaction_once_the_table_is_used(crash_server):
    """Spec 1.2: the .Q4T "exists only during compaction"; after the restart none runs."""
    t = crash_queue(crash_server, "stale_q4t")
    kill9_during_a_compaction(crash_server, t)
    c = crash_server.connect()
    assert count(c, t) == 668
    assert wait(c, t, timeout=0) == 1
    assert queue_abort(c) == 1
    assert q4t_files(crash_server) == []


def test_drop_database_works_after_a_crash_during_compaction(crash_server):
    """A .Q4T left by the crash must not be left behind by DROP TABLE (spec A: the table's
    files go with it), or DROP DATABASE fails with "Directory not empty"."""
    db = unique_name("crashdb")
    c = crash_server.connect()
    execute(c, f"CREATE DATABASE {db}")
    execute(c, f"CREATE TABLE {db}.t ({BLOB_TABLE}) ENGINE=QUEUE")
    kill9_during_a_compaction(crash_server, "t", db)
    c = crash_server.connect()
    execute(c, f"DROP TABLE {db}.t")
    assert sorted(p.name for p in (crash_server.datadir / db).iterdir()) == ["db.opt"]
    execute(c, f"DROP DATABASE {db}")
    assert not (crash_server.datadir / db).exists()


def test_clean_restart_after_compaction_keeps_rows_and_ids(crash_server):
    t = crash_queue(crash_server, "restart_compacted")
    c = crash_server.connect()
    fill(c, t, range(1, 31), size=2 * KB)
    assert execute(c, f"DELETE FROM {t} WHERE id > 20") == 10
    assert consume(c, t, 5) == [1, 2, 3, 4, 5]
    assert compact(c, t) == 1
    c.close()
    crash_server.restart()
    c = crash_server.connect()
    assert stored_rows(c, t) == expected_rows(range(6, 21), 2 * KB)
    assert drain_with_rowids(c, t) == [(i, i) for i in range(6, 21)]
    assert next_rowid(c, t) == 31


# --------------------------------------------------------------------------- conditions


def test_conditions_match_the_right_rows_after_compaction(conn, make_queue):
    """No condition looked at these rows before the compaction: their values are read from
    the compacted file."""
    t = make_queue("id INT NOT NULL, col INT NOT NULL, b LONGBLOB")
    fill(conn, t, range(1, 61), size=2 * KB, extra=lambda i: str(i % 3))
    assert execute(conn, f"DELETE FROM {t} WHERE id <= 30") == 30
    assert compact(conn, t) == 1
    got = []
    while wait(conn, f"{t}:col=1", timeout=0) == 1:
        got.append(stored_rows(conn, t)[0])
    assert queue_end(conn) == 1
    assert got == expected_rows([i for i in range(31, 61) if i % 3 == 1], 2 * KB)
    assert column(conn, f"SELECT id FROM {t}") == [i for i in range(31, 61) if i % 3 != 1]


def test_conditional_consumer_continues_in_order_across_a_compaction(conn, connect, make_queue):
    c = connect()
    t = make_queue("id INT NOT NULL, col INT NOT NULL, b LONGBLOB")
    fill(conn, t, range(1, 61), size=2 * KB, extra=lambda i: str(i % 2))
    got = []
    for _ in range(10):
        assert wait(c, f"{t}:col=0", timeout=0) == 1
        got.append(one(c, f"SELECT id FROM {t}"))
    assert queue_end(c) == 1
    assert execute(conn, f"DELETE FROM {t} WHERE col = 1 AND id < 40") == 20
    assert compact(conn, t) == 1
    while wait(c, f"{t}:col=0", timeout=0) == 1:
        got.append(stored_rows(c, t)[0][0])
    assert queue_end(c) == 1
    assert got == list(range(2, 61, 2))
    assert column(conn, f"SELECT id FROM {t}") == list(range(41, 61, 2))
    assert wait(c, f"{t}:col=1 AND id > 50", timeout=0) == 1
    assert one(c, f"SELECT id FROM {t}") == 51
    assert queue_end(c) == 1


# --------------------------------------------------------------------------- DDL


def test_drop_after_compaction_removes_the_files(q4m_server, conn, make_queue):
    t = make_queue(BLOB_TABLE)
    fill(conn, t, range(1, 11), size=KB)
    assert compact(conn, t) == 1
    execute(conn, f"DROP TABLE {t}")
    assert sorted(p.name for p in (q4m_server.datadir / "test").glob(f"{t}.*")) == []
    assert one(conn, "SELECT queue_compact(%s)", (t,)) is None


def test_recreate_after_compaction_and_drop_is_empty_and_restarts_ids(conn, make_queue):
    t = make_queue(BLOB_TABLE)
    fill(conn, t, range(1, 11), size=KB)
    assert compact(conn, t) == 1
    execute(conn, f"DROP TABLE {t}")
    execute(conn, f"CREATE TABLE {t} ({BLOB_TABLE}) ENGINE=QUEUE")
    assert count(conn, t) == 0
    assert next_rowid(conn, t) == 1


def test_truncate_after_compaction_empties_and_restarts_ids_at_1(q4m_server, conn, make_queue):
    t = make_queue(BLOB_TABLE)
    fill(conn, t, range(1, 21), size=KB)
    assert consume(conn, t, 10) == list(range(1, 11))
    assert compact(conn, t) == 1
    execute(conn, f"TRUNCATE TABLE {t}")
    assert count(conn, t) == 0
    assert rows(conn, f"SELECT id FROM {t}") == []
    assert next_rowid(conn, t) == 1
    assert compact(conn, t) == 1
    assert q4t_files(q4m_server) == []


def test_rename_after_compaction_keeps_rows_and_can_compact_again(q4m_server, conn, make_queue):
    t = make_queue(BLOB_TABLE)
    t2 = unique_name("renamed_compacted")
    fill(conn, t, range(1, 21), size=KB)
    assert consume(conn, t, 5) == [1, 2, 3, 4, 5]
    assert compact(conn, t) == 1
    try:
        execute(conn, f"RENAME TABLE {t} TO {t2}")
        assert not data_file(q4m_server, t).exists()
        assert data_file(q4m_server, t2).exists()
        assert one(conn, "SELECT queue_compact(%s)", (t,)) is None
        assert stored_rows(conn, t2) == expected_rows(range(6, 21), KB)
        assert consume(conn, t2, 5) == list(range(6, 11))
        assert compact(conn, t2) == 1
        assert compactions(q4m_server, t2) == 1
        assert drain_with_rowids(conn, t2) == [(i, i) for i in range(11, 21)]
        assert next_rowid(conn, t2) == 21
        assert q4t_files(q4m_server) == []
    finally:
        execute(conn, f"DROP TABLE IF EXISTS {t2}")


def test_rename_into_another_database_after_compaction(q4m_server, conn, make_queue, other_db):
    t = make_queue(BLOB_TABLE)
    fill(conn, t, range(1, 11), size=KB)
    assert consume(conn, t, 4) == [1, 2, 3, 4]
    assert compact(conn, t) == 1
    execute(conn, f"RENAME TABLE test.{t} TO {other_db}.{t}")
    assert not data_file(q4m_server, t).exists()
    assert stored_rows(conn, f"{other_db}.{t}") == expected_rows(range(5, 11), KB)
    assert compact(conn, f"{other_db}.{t}") == 1
    assert compactions(q4m_server, t, db=other_db) == 1
    assert drain_with_rowids(conn, f"{other_db}.{t}") == [(i, i) for i in range(5, 11)]


def start_long_compaction(server, conn, connect, table: str):
    """48 MiB of live rows; queue_compact runs in a thread, returned once its .Q4T exists."""
    fill_fast(conn, table, range(1, 769))
    temporary = server.datadir / "test" / f"{table}.Q4T"
    bg = BackgroundQuery(connect(), "SELECT queue_compact(%s)", (table,)).start()
    eventually(lambda: temporary.exists() or bg.done, timeout=30, interval=0.0005)
    assert not bg.done, "the compaction ended before its .Q4T was seen"
    return bg


def test_drop_during_a_compaction_leaves_no_file(q4m_server, conn, connect, make_queue):
    t = make_queue(BLOB_TABLE)
    bg = start_long_compaction(q4m_server, conn, connect, t)
    execute(conn, f"DROP TABLE {t}")
    bg.join(30)
    assert bg.error is None and bg.result == 1
    assert sorted(p.name for p in (q4m_server.datadir / "test").glob(f"{t}.*")) == []
    assert_server_alive(q4m_server)


def test_truncate_during_a_compaction_gives_an_empty_table(q4m_server, conn, connect, make_queue):
    t = make_queue(BLOB_TABLE)
    bg = start_long_compaction(q4m_server, conn, connect, t)
    execute(conn, f"TRUNCATE TABLE {t}")
    bg.join(30)
    assert bg.error is None and bg.result == 1
    assert count(conn, t) == 0
    assert rows(conn, f"SELECT id FROM {t}") == []
    assert next_rowid(conn, t) == 1
    assert q4t_files(q4m_server) == []
    assert file_size(q4m_server, t) < 4 * MB + 1


def test_rename_during_a_compaction_keeps_the_rows(q4m_server, conn, connect, make_queue):
    t = make_queue(BLOB_TABLE)
    t2 = unique_name("renamed_while_compacting")
    bg = start_long_compaction(q4m_server, conn, connect, t)
    try:
        execute(conn, f"RENAME TABLE {t} TO {t2}")
        bg.join(30)
        assert bg.error is None and bg.result == 1
        assert not data_file(q4m_server, t).exists()
        assert count(conn, t2) == 768
        assert stored_rows(conn, t2) == expected_rows(range(1, 769))
        assert q4t_files(q4m_server) == []
    finally:
        execute(conn, f"DROP TABLE IF EXISTS {t2}")


def test_consumers_wait_for_a_running_compaction_and_get_the_right_rows(
    q4m_server, conn, connect, make_queue
):
    t = make_queue(BLOB_TABLE)
    consumer = connect()
    bg = start_long_compaction(q4m_server, conn, connect, t)
    got = []
    for _ in range(3):
        assert wait(consumer, t, timeout=0) == 1
        got.extend(stored_rows(consumer, t))
    assert queue_end(consumer) == 1
    bg.join(30)
    assert bg.error is None and bg.result == 1
    assert got == expected_rows([1, 2, 3])
    assert stored_rows(conn, t) == expected_rows(range(4, 769))


def test_alter_after_compaction_keeps_the_rows(conn, make_queue):
    t = make_queue(BLOB_TABLE)
    fill(conn, t, range(1, 21), size=KB)
    assert execute(conn, f"DELETE FROM {t} WHERE id % 2 = 0") == 10
    assert compact(conn, t) == 1
    execute(conn, f"ALTER TABLE {t} ADD COLUMN extra INT")
    assert stored_rows(conn, t) == expected_rows(range(1, 21, 2), KB)
    assert column(conn, f"SELECT extra FROM {t}") == [None] * 10


def test_no_q4t_file_is_left_after_automatic_and_forced_compactions(q4m_server, conn, make_queue):
    t = make_queue(BLOB_TABLE)
    fill_fast(conn, t, range(1, 321))
    assert execute(conn, f"DELETE FROM {t} WHERE id > 5") == 315
    assert compact(conn, t) == 1
    assert compactions(q4m_server, t) == 2
    assert sorted(p.name for p in (q4m_server.datadir / "test").glob(f"{t}.*")) == [
        f"{t}.Q4M",
        f"{t}.frm",
    ]
    assert q4t_files(q4m_server) == []


# --------------------------------------------------------------------------- odd uses


def test_queue_compact_for_each_row_of_a_scan_of_the_same_table(q4m_server, conn, make_queue):
    t = make_queue(BLOB_TABLE)
    fill(conn, t, range(1, 6), size=KB)
    assert column(conn, f"SELECT queue_compact('{t}') FROM {t}") == [1] * 5
    assert compactions(q4m_server, t) == 5
    assert stored_rows(conn, t) == expected_rows(range(1, 6), KB)


def test_delete_whose_where_clause_compacts_the_table(q4m_server, conn, make_queue):
    t = make_queue(BLOB_TABLE)
    fill(conn, t, range(1, 11), size=KB)
    assert execute(conn, f"DELETE FROM {t} WHERE id % 2 = 0 AND queue_compact('{t}') = 1") == 5
    assert stored_rows(conn, t) == expected_rows(range(1, 11, 2), KB)
    assert drain_with_rowids(conn, t) == [(i, i) for i in range(1, 11, 2)]
    assert q4t_files(q4m_server) == []


def test_queue_compact_by_the_owner_of_a_row(connect, make_queue):
    c, owner = connect(), connect()
    t = make_queue(BLOB_TABLE)
    owned = _owned_setup(c, owner, t)
    assert compact(owner, t) == 1
    assert stored_rows(owner, t) == owned
    assert queue_end(owner) == 1
    assert column(c, f"SELECT id FROM {t}") == list(range(22, 41))


# --------------------------------------------------------------------------- arguments


def test_queue_compact_without_arguments_is_error_1123(q4m_server, conn):
    errno, message = sql_error(conn, "SELECT queue_compact()")
    assert errno == ER_CANT_INITIALIZE_UDF
    assert COMPACT_USAGE in message
    assert_server_alive(q4m_server)


def test_queue_compact_with_two_arguments_is_error_1123(q4m_server, conn, make_queue):
    t = make_queue(BLOB_TABLE)
    errno, message = sql_error(conn, f"SELECT queue_compact('{t}', '{t}')")
    assert errno == ER_CANT_INITIALIZE_UDF
    assert COMPACT_USAGE in message
    errno, _ = sql_error(conn, f"SELECT queue_compact('{t}', 1)")
    assert errno == ER_CANT_INITIALIZE_UDF
    assert compactions(q4m_server, t) == 0
    assert_server_alive(q4m_server)


def test_queue_compact_of_null_is_null(q4m_server, conn):
    assert one(conn, "SELECT queue_compact(NULL)") is None
    assert one(conn, "SELECT queue_compact(%s)", (None,)) is None
    assert_server_alive(q4m_server)


def test_queue_compact_of_an_unknown_table_is_null(q4m_server, conn):
    assert one(conn, "SELECT queue_compact('no_such_table_here')") is None
    assert one(conn, "SELECT queue_compact('no_such_db_here.t')") is None
    assert_server_alive(q4m_server)


def test_queue_compact_of_an_innodb_table_is_null(q4m_server, conn, make_innodb):
    t = make_innodb()
    execute(conn, f"INSERT INTO {t} VALUES (1, 'a')")
    assert one(conn, "SELECT queue_compact(%s)", (t,)) is None
    assert one(conn, "SELECT queue_compact(%s)", (f"test.{t}",)) is None
    assert rows(conn, f"SELECT * FROM {t}") == [(1, "a")]
    assert_server_alive(q4m_server)


def test_queue_compact_of_an_empty_name_is_null(q4m_server, conn):
    assert one(conn, "SELECT queue_compact('')") is None
    assert_server_alive(q4m_server)


ODD_NAMES = [
    "test.",
    ".{t}",
    "test.{t}.x",
    "{t}:id=1",
    "`{t}`",
    "../test/{t}",
    "test/{t}",
    "{t} ",
    "te\0st.{t}",
    "{t}\0",
    "x" * 2000,
    "test." + "y" * 300,
    "mysql.user",
    "information_schema.tables",
    "\u00e9\u00e8\U0001f600",
]


@pytest.mark.parametrize("pattern", ODD_NAMES, ids=lambda p: repr(p)[:30])
def test_queue_compact_of_an_odd_name_is_null(q4m_server, conn, make_queue, pattern):
    t = make_queue(BLOB_TABLE)
    fill(conn, t, [1], size=10)
    assert one(conn, "SELECT queue_compact(%s)", (pattern.replace("{t}", t),)) is None
    assert compactions(q4m_server, t) == 0
    assert stored_rows(conn, t) == expected_rows([1], 10)
    assert_server_alive(q4m_server)


@pytest.mark.parametrize("value", ["1", "1.5", "-1", "x'00'", "CAST(NULL AS CHAR)"])
def test_queue_compact_of_a_non_name_value_is_null(q4m_server, conn, value):
    assert one(conn, f"SELECT queue_compact({value})") is None
    assert_server_alive(q4m_server)


def test_queue_compact_of_a_view_is_null(q4m_server, conn, make_queue):
    t = make_queue(BLOB_TABLE)
    view = unique_name("compact_view")
    try:
        execute(conn, f"CREATE VIEW {view} AS SELECT id FROM {t}")
        assert one(conn, "SELECT queue_compact(%s)", (view,)) is None
    finally:
        execute(conn, f"DROP VIEW IF EXISTS {view}")
    assert_server_alive(q4m_server)


def test_queue_compact_without_a_default_database_needs_the_database_name(
    q4m_server, connect, make_queue
):
    t = make_queue(BLOB_TABLE)
    nodb = connect(database="")
    assert one(nodb, "SELECT DATABASE()") is None
    assert one(nodb, "SELECT queue_compact(%s)", (t,)) is None
    assert one(nodb, "SELECT queue_compact(%s)", (f"test.{t}",)) == 1
    assert compactions(q4m_server, t) == 1


def test_queue_compact_of_a_table_name_given_by_an_expression(q4m_server, conn, make_queue):
    t = make_queue(BLOB_TABLE)
    half = len(t) // 2
    sql = f"SELECT queue_compact(CONCAT('{t[:half]}', '{t[half:]}'))"
    assert one(conn, sql) == 1
    assert compactions(q4m_server, t) == 1


def test_queue_compact_errors_leave_the_connection_usable(q4m_server, conn, make_queue):
    t = make_queue(BLOB_TABLE)
    for sql in ("SELECT queue_compact()", "SELECT queue_compact(1, 2, 3)"):
        assert sql_error(conn, sql)[0] == ER_CANT_INITIALIZE_UDF
    assert one(conn, "SELECT queue_compact(NULL)") is None
    assert compact(conn, t) == 1
    assert one(conn, "SELECT 1") == 1
    assert_server_alive(q4m_server)
