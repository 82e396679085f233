"""Rows of several MB (spec 1.1, 10: t/10-largedata).

The private server runs with max_allowed_packet=64M."""

from __future__ import annotations

import hashlib
import random

import pytest

from .engine_helpers import column, count, execute, one, queue_end, rows, wait

pytestmark = pytest.mark.timeout(120)

MB = 1 << 20


def test_server_allows_64mb_packets(conn):
    assert one(conn, "SELECT @@GLOBAL.max_allowed_packet") >= 64 * MB


def test_8mb_longblob_round_trips_byte_for_byte(conn, make_queue):
    t = make_queue("id INT, b LONGBLOB")
    data = random.Random(1).randbytes(8 * MB)
    execute(conn, f"INSERT INTO {t} VALUES (1, %s)", (data,))
    got = rows(conn, f"SELECT id, b FROM {t}")
    assert len(got) == 1
    assert bytes(got[0][1]) == data


def test_8mb_longblob_server_side_digest_matches(conn, make_queue):
    t = make_queue("id INT, b LONGBLOB")
    data = random.Random(2).randbytes(8 * MB)
    execute(conn, f"INSERT INTO {t} VALUES (1, %s)", (data,))
    assert one(conn, f"SELECT LENGTH(b) FROM {t}") == len(data)
    assert one(conn, f"SELECT SHA2(b, 256) FROM {t}") == hashlib.sha256(data).hexdigest()


def test_several_8mb_rows_are_delivered_in_order_with_exact_bytes(connect, make_queue):
    producer, consumer = connect(), connect()
    t = make_queue("id INT, b LONGBLOB, d CHAR(64)")
    rnd = random.Random(3)
    blobs = [rnd.randbytes(8 * MB - i) for i in range(3)]
    for i, b in enumerate(blobs):
        execute(
            producer, f"INSERT INTO {t} VALUES (%s, %s, %s)", (i, b, hashlib.sha256(b).hexdigest())
        )
    assert count(producer, t) == 3
    for i, b in enumerate(blobs):
        assert wait(consumer, t, timeout=0) == 1
        got = rows(consumer, f"SELECT id, b, d FROM {t}")
        assert len(got) == 1
        assert got[0][0] == i
        assert bytes(got[0][1]) == b
        assert got[0][2] == hashlib.sha256(b).hexdigest()
    assert wait(consumer, t, timeout=0) == 0
    assert queue_end(consumer) == 1
    assert count(producer, t) == 0


def test_30mb_row_built_by_the_server_round_trips(conn, make_queue):
    t = make_queue("id INT, b LONGBLOB")
    execute(conn, f"INSERT INTO {t} VALUES (1, REPEAT(x'00ff7f80', 7864320))")
    assert rows(conn, f"SELECT LENGTH(b), MD5(b) = MD5(REPEAT(x'00ff7f80', 7864320)) FROM {t}") == [
        (30 * MB, 1)
    ]


def test_big_and_small_rows_interleaved_keep_order(conn, make_queue):
    t = make_queue("id INT, b LONGBLOB")
    rnd = random.Random(4)
    sizes = [0, 3 * MB, 1, 70_000, 5 * MB, 255, 65_536, 16 * MB - 1]
    blobs = [rnd.randbytes(n) for n in sizes]
    for i, b in enumerate(blobs):
        execute(conn, f"INSERT INTO {t} VALUES (%s, %s)", (i, b))
    got = rows(conn, f"SELECT id, b FROM {t}")
    assert [g[0] for g in got] == list(range(len(sizes)))
    assert [bytes(g[1] or b"") for g in got] == blobs


def test_deleting_big_rows_leaves_the_small_ones(conn, make_queue):
    t = make_queue("id INT, b LONGBLOB")
    for i in range(6):
        size = 4 * MB if i % 2 else 10
        execute(conn, f"INSERT INTO {t} VALUES (%s, REPEAT('q', %s))", (i, size))
    assert execute(conn, f"DELETE FROM {t} WHERE LENGTH(b) > 1000") == 3
    assert column(conn, f"SELECT id FROM {t}") == [0, 2, 4]
