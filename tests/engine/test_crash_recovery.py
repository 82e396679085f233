"""Durability across kill -9 of the server (spec 1.2, 2.3, 5.6, A). Sync is on in crash_server.

Rules checked: a row whose INSERT returned survives; a row whose consumption (queue_wait's
implicit end, queue_end, DELETE) returned never comes back; a row owned at the crash is
delivered again; a crash in the middle of writes never yields a partial or corrupt row.
"""

from __future__ import annotations

import random
import threading
import time

import MySQLdb
import pytest

from .engine_helpers import (
    column,
    count,
    create_queue,
    execute,
    insert_ids,
    one,
    payload_digest,
    queue_end,
    queue_rowid,
    rows,
    unique_name,
    wait,
)

pytestmark = pytest.mark.timeout(180)


def crash_and_restart(server):
    server.kill9()
    server.start()
    return server.connect()


def _queue(server, hint, cols="id INT NOT NULL, v VARCHAR(64)"):
    c = server.connect()
    try:
        return create_queue(c, unique_name(hint), cols)
    finally:
        c.close()


# --------------------------------------------------------------------------- inserts


def test_rows_whose_insert_returned_survive_kill9(crash_server):
    t = _queue(crash_server, "survive")
    c = crash_server.connect()
    execute(c, f"INSERT INTO {t} VALUES (1, 'one')")
    insert_ids(c, t, [2, 3, 4])
    execute(c, f"INSERT INTO {t} SET id = 5, v = 'five'")
    before = rows(c, f"SELECT id, v FROM {t}")
    c = crash_and_restart(crash_server)
    assert rows(c, f"SELECT id, v FROM {t}") == before
    assert count(c, t) == 5


def test_rows_survive_a_clean_restart(crash_server):
    t = _queue(crash_server, "clean_restart")
    c = crash_server.connect()
    insert_ids(c, t, range(1, 101))
    c.close()
    crash_server.restart()
    c = crash_server.connect()
    assert column(c, f"SELECT id FROM {t}") == list(range(1, 101))


def test_many_tables_survive_kill9(crash_server):
    tables = [_queue(crash_server, f"many_{i}") for i in range(5)]
    c = crash_server.connect()
    for k, t in enumerate(tables):
        insert_ids(c, t, range(k * 10, k * 10 + 10))
    c = crash_and_restart(crash_server)
    for k, t in enumerate(tables):
        assert column(c, f"SELECT id FROM {t}") == list(range(k * 10, k * 10 + 10))


def test_all_column_types_survive_kill9(crash_server):
    cols = (
        "a TINYINT, b BIGINT UNSIGNED, c DOUBLE, d DECIMAL(20,5), e VARCHAR(50), "
        "f BLOB, g ENUM('x','y'), h SET('p','q'), i BIT(10), j DATETIME(6), k GEOMETRY, "
        "l TEXT, m DATE"
    )
    t = _queue(crash_server, "types_crash", cols)
    c = crash_server.connect()
    execute(
        c,
        f"INSERT INTO {t} VALUES (-5, 18446744073709551615, 1.25, -123.45678, 'abc', "
        f"x'00ff10', 'y', 'p,q', b'1010101010', '2024-05-06 07:08:09.123456', "
        f"POINT(1, 2), REPEAT('z', 3000), '2001-02-03'), "
        f"(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
    )
    before = rows(c, f"SELECT * FROM {t}")
    c = crash_and_restart(crash_server)
    assert rows(c, f"SELECT * FROM {t}") == before


def test_large_blob_rows_survive_kill9(crash_server):
    t = _queue(crash_server, "blob_crash", "id INT, b LONGBLOB")
    c = crash_server.connect()
    rnd = random.Random(7)
    blobs = [rnd.randbytes(n) for n in (1, 100_000, 2_000_000, 0)]
    for i, b in enumerate(blobs):
        execute(c, f"INSERT INTO {t} VALUES (%s, %s)", (i, b))
    c = crash_and_restart(crash_server)
    got = rows(c, f"SELECT id, b FROM {t}")
    assert [g[0] for g in got] == [0, 1, 2, 3]
    assert [bytes(g[1]) for g in got] == blobs


# --------------------------------------------------------------------------- consumption


def test_rows_consumed_by_queue_wait_do_not_come_back(crash_server):
    t = _queue(crash_server, "consumed_wait")
    c = crash_server.connect()
    insert_ids(c, t, [1, 2, 3, 4])
    assert wait(c, t) == 1  # owns 1
    assert wait(c, t) == 1  # consumed 1, owns 2
    assert wait(c, t) == 1  # consumed 2, owns 3
    c = crash_and_restart(crash_server)
    visible = column(c, f"SELECT id FROM {t}")
    assert 1 not in visible and 2 not in visible
    assert count(c, t) == 2


def test_row_owned_at_crash_is_delivered_again(crash_server):
    t = _queue(crash_server, "owned_at_crash")
    c = crash_server.connect()
    insert_ids(c, t, [1, 2, 3])
    assert wait(c, t) == 1
    assert wait(c, t) == 1  # owns 2
    c = crash_and_restart(crash_server)
    assert column(c, f"SELECT id FROM {t}") == [2, 3]
    assert wait(c, t) == 1
    assert one(c, f"SELECT id FROM {t}") == 2


def test_rows_consumed_by_queue_end_do_not_come_back(crash_server):
    t = _queue(crash_server, "consumed_end")
    c = crash_server.connect()
    insert_ids(c, t, [1, 2, 3])
    assert wait(c, t) == 1
    assert queue_end(c) == 1
    assert wait(c, t) == 1
    assert queue_end(c) == 1
    c = crash_and_restart(crash_server)
    assert column(c, f"SELECT id FROM {t}") == [3]
    assert count(c, t) == 1


def test_rows_removed_by_delete_do_not_come_back(crash_server):
    t = _queue(crash_server, "consumed_delete")
    c = crash_server.connect()
    insert_ids(c, t, range(1, 11))
    assert execute(c, f"DELETE FROM {t} WHERE id IN (2, 4)") == 2
    assert execute(c, f"DELETE FROM {t} LIMIT 2") == 2  # 1 and 3
    assert execute(c, f"DELETE FROM {t} ORDER BY id DESC LIMIT 1") == 1  # 10
    c = crash_and_restart(crash_server)
    assert column(c, f"SELECT id FROM {t}") == [5, 6, 7, 8, 9]
    assert count(c, t) == 5


def test_row_deleted_by_its_owner_does_not_come_back(crash_server):
    t = _queue(crash_server, "owner_delete")
    c = crash_server.connect()
    insert_ids(c, t, [1, 2])
    assert wait(c, t) == 1
    assert execute(c, f"DELETE FROM {t}") == 1
    c = crash_and_restart(crash_server)
    assert column(c, f"SELECT id FROM {t}") == [2]


def test_truncated_rows_do_not_come_back(crash_server):
    t = _queue(crash_server, "truncate_crash")
    c = crash_server.connect()
    insert_ids(c, t, [1, 2, 3])
    execute(c, f"TRUNCATE TABLE {t}")
    insert_ids(c, t, [4])
    c = crash_and_restart(crash_server)
    assert column(c, f"SELECT id FROM {t}") == [4]


def test_dropped_table_stays_dropped_and_recreates_empty(crash_server):
    t = _queue(crash_server, "drop_crash")
    c = crash_server.connect()
    insert_ids(c, t, [1, 2, 3])
    execute(c, f"DROP TABLE {t}")
    c = crash_and_restart(crash_server)
    assert rows(c, "SHOW TABLES LIKE %s", (t,)) == []
    execute(c, f"CREATE TABLE {t} (id INT NOT NULL, v VARCHAR(64)) ENGINE=QUEUE")
    assert count(c, t) == 0
    assert rows(c, f"SELECT * FROM {t}") == []


def test_row_ids_do_not_repeat_after_kill9(crash_server):
    t = _queue(crash_server, "rowid_crash")
    c = crash_server.connect()
    insert_ids(c, t, [1, 2, 3])
    ids = []
    while wait(c, t, timeout=0) == 1:
        ids.append(queue_rowid(c))
    assert queue_end(c) == 1
    assert ids == [1, 2, 3]
    c = crash_and_restart(crash_server)
    insert_ids(c, t, [4])
    assert wait(c, t) == 1
    assert queue_rowid(c) > 3


def test_queue_is_fully_usable_after_recovery(crash_server):
    t = _queue(crash_server, "usable_after")
    c = crash_server.connect()
    insert_ids(c, t, [1, 2])
    assert wait(c, t) == 1
    c = crash_and_restart(crash_server)
    insert_ids(c, t, [3])
    got = []
    while wait(c, t, timeout=0) == 1:
        got.append(one(c, f"SELECT id FROM {t}"))
    assert got == [1, 2, 3]
    assert queue_end(c) == 1
    assert count(c, t) == 0
    c = crash_and_restart(crash_server)
    assert count(c, t) == 0


# --------------------------------------------------------------------------- crash mid-stream

WRITER_COLS = "w INT NOT NULL, s INT NOT NULL, n INT NOT NULL, payload LONGBLOB, digest CHAR(64)"


class Writer(threading.Thread):
    """Inserts batches of rows with a digest over (w, s, n, payload) until an error."""

    def __init__(self, server, table, w, seed):
        super().__init__(daemon=True)
        self.conn = server.connect()
        self.table, self.w = table, w
        self.rnd = random.Random(seed)
        self.acked = []  # lists of seqs, one per INSERT that returned
        self.in_flight = []  # seqs of the INSERT that was running when the server died
        self.error = None
        self.next_seq = 0

    def run(self):
        cur = self.conn.cursor()
        try:
            while True:
                k = self.rnd.randint(1, 12)
                batch, params = [], []
                for j in range(k):
                    s = self.next_seq + j
                    payload = self.rnd.randbytes(self.rnd.choice([0, 10, 300, 5000, 40000]))
                    batch.append(s)
                    params += [self.w, s, k, payload, payload_digest(self.w, s, k, payload)]
                self.in_flight = batch
                cur.execute(
                    f"INSERT INTO {self.table} (w, s, n, payload, digest) VALUES "
                    + ",".join(["(%s,%s,%s,%s,%s)"] * k),
                    params,
                )
                self.acked.append(batch)
                self.in_flight = []
                self.next_seq += k
        except MySQLdb.MySQLError as e:
            self.error = e


def _crash_during_writes(server, writers=3, duration=1.5):
    t = _queue(server, "midstream", WRITER_COLS)
    ws = [Writer(server, t, w, seed=w * 7919) for w in range(writers)]
    for w in ws:
        w.start()
    time.sleep(duration)
    server.kill9()
    for w in ws:
        w.join(30)
        assert not w.is_alive()
        assert w.error is not None
    server.start()
    c = server.connect()
    return t, ws, rows(c, f"SELECT w, s, n, payload, digest FROM {t}"), c


def test_writers_killed_mid_stream_leave_no_corrupt_row(crash_server):
    _, ws, got, _ = _crash_during_writes(crash_server)
    assert sum(len(w.acked) for w in ws) > 0, "no INSERT completed before the crash"
    for w, s, n, payload, digest in got:
        assert digest == payload_digest(w, s, n, bytes(payload or b"")), f"corrupt row {(w, s)}"
    keys = [(r[0], r[1]) for r in got]
    assert len(keys) == len(set(keys)), "a row appears twice after recovery"
    for w in ws:
        legal = {s for b in w.acked for s in b} | set(w.in_flight)
        present = {s for (ww, s) in keys if ww == w.w}
        assert present <= legal, f"writer {w.w}: rows that were never inserted appeared"


def test_writers_killed_mid_stream_lose_no_acknowledged_row(crash_server):
    t, ws, got, c = _crash_during_writes(crash_server)
    keys = {(r[0], r[1]) for r in got}
    for w in ws:
        acked = {(w.w, s) for b in w.acked for s in b}
        missing = acked - keys
        assert not missing, f"writer {w.w}: {len(missing)} acknowledged rows lost"
    assert count(c, t) == len(got)


def test_rows_keep_their_order_across_a_crash_mid_stream(crash_server):
    _, ws, got, _ = _crash_during_writes(crash_server)
    for w in ws:
        seqs = [r[1] for r in got if r[0] == w.w]
        assert seqs == sorted(seqs), f"writer {w.w}: order changed by recovery"


def test_multi_row_insert_is_all_or_nothing_across_a_crash(crash_server):
    """A statement's rows are one batch: after the crash either all or none are there."""
    _, ws, got, _ = _crash_during_writes(crash_server)
    for w in ws:
        present = {r[1] for r in got if r[0] == w.w}
        for batch in w.acked + ([w.in_flight] if w.in_flight else []):
            hit = [s in present for s in batch]
            assert all(hit) or not any(hit), f"writer {w.w}: partial batch {batch} -> {hit}"


def test_consumers_killed_mid_stream_never_see_acknowledged_consumptions_again(crash_server):
    total, consumers = 3000, 4
    t = _queue(crash_server, "consume_midstream")
    c = crash_server.connect()
    insert_ids(c, t, range(total), width=500)
    done = [set() for _ in range(consumers)]  # consumption acknowledged
    owned = [None] * consumers  # row currently owned
    uncertain = [set() for _ in range(consumers)]  # consumption in flight at the crash

    def consume(k):
        cc = crash_server.connect()
        cur = cc.cursor()
        try:
            while True:
                prev = owned[k]
                if prev is not None:
                    uncertain[k].add(prev)
                cur.execute(f"SELECT queue_wait('{t}', 1)")
                r = cur.fetchone()[0]
                if prev is not None:
                    done[k].add(prev)
                    uncertain[k].discard(prev)
                owned[k] = None
                if r != 1:
                    return
                cur.execute(f"SELECT id FROM {t}")
                owned[k] = cur.fetchone()[0]
        except MySQLdb.MySQLError:
            if owned[k] in uncertain[k]:
                owned[k] = None  # its consumption was in flight: may be gone
            return

    ths = [threading.Thread(target=consume, args=(k,), daemon=True) for k in range(consumers)]
    for th in ths:
        th.start()
    time.sleep(1.5)
    crash_server.kill9()
    for th in ths:
        th.join(30)
    crash_server.start()
    c = crash_server.connect()
    remaining = set(column(c, f"SELECT id FROM {t}"))
    consumed = set().union(*done)
    assert consumed, "nothing was consumed before the crash"
    assert not (remaining & consumed), f"{len(remaining & consumed)} consumed rows came back"
    maybe = set().union(*uncertain)
    assert remaining | consumed | maybe >= set(range(total)), "rows lost"
    for k in range(consumers):
        if owned[k] is not None:
            assert owned[k] in remaining, "row owned at the crash was not redelivered"


@pytest.mark.timeout(300)
def test_several_crash_restart_cycles_keep_exactly_the_live_rows(crash_server):
    t = _queue(crash_server, "cycles")
    expected = []  # live rows in FIFO order, as this test tracks them
    next_id = 0
    for cycle in range(4):
        c = crash_server.connect()
        assert column(c, f"SELECT id FROM {t}") == expected, f"cycle {cycle}"
        new = list(range(next_id, next_id + 50))
        next_id += 50
        insert_ids(c, t, new, width=17)
        expected += new
        for _ in range(20):  # consume 20 (the 20th stays owned at the crash)
            assert wait(c, t) == 1
        got_owned = one(c, f"SELECT id FROM {t}")
        consumed = expected[:19]
        assert got_owned == expected[19]
        other = crash_server.connect()
        assert execute(other, f"DELETE FROM {t} LIMIT 5") == 5  # oldest unowned: after owned
        deleted = expected[20:25]
        expected = [expected[19], *expected[25:]]
        assert set(consumed).isdisjoint(expected)
        assert not set(deleted) & set(expected)
        crash_server.kill9()
        crash_server.start()
    c = crash_server.connect()
    assert column(c, f"SELECT id FROM {t}") == expected
    assert count(c, t) == len(expected)


def test_crash_right_after_recovery_is_recovered_again(crash_server):
    t = _queue(crash_server, "double_crash")
    c = crash_server.connect()
    insert_ids(c, t, [1, 2, 3])
    crash_server.kill9()
    crash_server.start()
    crash_server.kill9()
    crash_server.start()
    c = crash_server.connect()
    assert column(c, f"SELECT id FROM {t}") == [1, 2, 3]


# --------------------------------------------------------------------------- damaged files
#
# kill -9 cannot tear a write (the page cache has the whole pwrite), so torn tails are made by
# hand while the server is down. The only thing assumed about the format is spec A: one
# append-only data file per table, named after it, pre-extended with zeros or not.


def _data_file(server, table):
    files = [p for p in (server.datadir / "test").glob(table + ".*") if p.suffix.lower() != ".frm"]
    assert len(files) == 1, f"expected one data file for {table}, found {files}"
    return files[0]


def _last_nonzero(data: bytes) -> int:
    return len(data.rstrip(b"\x00")) - 1


def test_garbage_after_the_last_batch_is_ignored_and_cut(crash_server):
    t = _queue(crash_server, "garbage_tail")
    c = crash_server.connect()
    insert_ids(c, t, range(1, 21), width=5)
    crash_server.kill9()
    path = _data_file(crash_server, t)
    data = bytearray(path.read_bytes())
    at = _last_nonzero(data) + 1 + 64
    junk = random.Random(5).randbytes(8192)
    data[at : at + len(junk)] = junk
    path.write_bytes(bytes(data))
    crash_server.start()
    c = crash_server.connect()
    assert column(c, f"SELECT id FROM {t}") == list(range(1, 21))
    assert count(c, t) == 20
    # rows written after recovery must not end up behind the garbage
    insert_ids(c, t, [21, 22])
    c = crash_and_restart(crash_server)
    assert column(c, f"SELECT id FROM {t}") == list(range(1, 23))


def test_torn_last_batch_is_dropped_and_earlier_rows_survive(crash_server):
    t = _queue(crash_server, "torn_tail", "id INT, b LONGBLOB")
    c = crash_server.connect()
    for i in range(1, 6):
        execute(c, f"INSERT INTO {t} VALUES (%s, %s)", (i, b"small-%d" % i))
    big = random.Random(6).randbytes(256 * 1024) + b"\xff"
    execute(c, f"INSERT INTO {t} VALUES (%s, %s)", (6, big))
    crash_server.kill9()
    path = _data_file(crash_server, t)
    data = bytearray(path.read_bytes())
    end = _last_nonzero(data) + 1
    data[end - 128 * 1024 : end] = bytes(128 * 1024)  # the second half never reached the disk
    path.write_bytes(bytes(data))
    crash_server.start()
    c = crash_server.connect()
    got = rows(c, f"SELECT id, b FROM {t}")
    assert [(i, bytes(b)) for i, b in got] == [(i, b"small-%d" % i) for i in range(1, 6)]
    assert count(c, t) == 5
    execute(c, f"INSERT INTO {t} VALUES (7, 'after')")
    c = crash_and_restart(crash_server)
    assert column(c, f"SELECT id FROM {t}") == [1, 2, 3, 4, 5, 7]


def test_corrupt_data_file_header_fails_cleanly_without_crashing(crash_server):
    t = _queue(crash_server, "bad_header")
    good = _queue(crash_server, "good_neighbour")
    c = crash_server.connect()
    insert_ids(c, t, [1, 2])
    insert_ids(c, good, [3])
    crash_server.kill9()
    path = _data_file(crash_server, t)
    data = bytearray(path.read_bytes())
    data[0:512] = random.Random(8).randbytes(512)
    path.write_bytes(bytes(data))
    crash_server.start()
    c = crash_server.connect()
    with pytest.raises(MySQLdb.MySQLError):
        rows(c, f"SELECT * FROM {t}")
    assert wait(c, t, timeout=0) is None
    assert column(c, f"SELECT id FROM {good}") == [3]
    execute(c, f"DROP TABLE {t}")
    assert one(crash_server.connect(), "SELECT 1") == 1


def test_row_owned_at_a_clean_shutdown_is_delivered_again(crash_server):
    t = _queue(crash_server, "owned_at_shutdown")
    c = crash_server.connect()
    insert_ids(c, t, [1, 2, 3])
    assert wait(c, t) == 1
    assert wait(c, t) == 1  # consumed 1, owns 2
    crash_server.restart()
    c = crash_server.connect()
    assert column(c, f"SELECT id FROM {t}") == [2, 3]
    assert wait(c, t) == 1
    assert queue_rowid(c) == 2
