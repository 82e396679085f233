"""Loss of the owner: disconnect, KILL CONNECTION, KILL QUERY, SIGKILL of a client process
(spec 5.6, A)."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time

import pytest

from .engine_helpers import (
    CONNECTION_GONE,
    ER_QUERY_INTERRUPTED,
    assert_server_alive,
    column,
    count,
    eventually,
    execute,
    executing_statements,
    insert_ids,
    kill_connection,
    one,
    payload_digest,
    queue_end,
    rows,
    start_wait,
    wait,
    wait_until_blocked,
)

pytestmark = pytest.mark.timeout(60)


def _visible(conn, table):
    return column(conn, f"SELECT id FROM {table}")


def test_disconnect_releases_the_owned_row(connect, make_queue):
    owner, other = connect(), connect()
    t = make_queue()
    insert_ids(other, t, [1, 2])
    assert wait(owner, t) == 1
    assert _visible(other, t) == [2]
    owner.close()
    eventually(
        lambda: _visible(other, t) == [1, 2], timeout=10, message="row released by disconnect"
    )
    assert count(other, t) == 2


def test_row_released_by_disconnect_is_delivered_next(connect, make_queue):
    owner, other = connect(), connect()
    t = make_queue()
    insert_ids(other, t, [1, 2])
    assert wait(owner, t) == 1
    owner.close()
    eventually(lambda: _visible(other, t) == [1, 2], timeout=10)
    assert wait(other, t) == 1
    assert one(other, f"SELECT id FROM {t}") == 1


def test_disconnect_after_zero_result_leaves_rows_untouched(connect, make_queue):
    owner, other = connect(), connect()
    t = make_queue()
    assert wait(owner, t, timeout=0) == 0
    insert_ids(owner, t, [1])
    owner.close()
    time.sleep(0.3)
    assert _visible(other, t) == [1]


def test_kill_connection_releases_the_owned_row(connect, make_queue):
    owner, other = connect(), connect()
    t = make_queue()
    insert_ids(other, t, [1, 2])
    assert wait(owner, t) == 1
    kill_connection(other, owner)
    eventually(
        lambda: _visible(other, t) == [1, 2], timeout=10, message="row released by KILL CONNECTION"
    )
    assert count(other, t) == 2


def test_kill_connection_ends_a_blocked_wait_promptly(q4m_server, connect, make_queue):
    waiter, other = connect(), connect()
    t = make_queue()
    bg = start_wait(waiter, t, timeout=40)
    wait_until_blocked(other, [waiter])
    killed = time.monotonic()
    kill_connection(other, waiter)
    bg.join(15)
    assert bg.finished_at - killed < 5.0
    assert bg.error is not None, f"queue_wait returned {bg.result!r} instead of failing"
    assert bg.errno in CONNECTION_GONE | {ER_QUERY_INTERRUPTED}
    insert_ids(other, t, [1])
    time.sleep(0.2)
    assert _visible(other, t) == [1]
    assert_server_alive(q4m_server)


@pytest.mark.timeout(60)
def test_kill_query_interrupts_a_blocked_wait_well_before_its_timeout(connect, make_queue):
    waiter, other = connect(), connect()
    t = make_queue()
    bg = start_wait(waiter, t, timeout=40)
    wait_until_blocked(other, [waiter])
    killed = time.monotonic()
    kill_connection(other, waiter, query_only=True)
    bg.join(15)
    assert bg.finished_at - killed < 5.0, "KILL QUERY did not interrupt queue_wait"
    assert bg.error is not None, f"queue_wait returned {bg.result!r} instead of an error"
    assert bg.errno == ER_QUERY_INTERRUPTED


def test_kill_query_on_a_blocked_wait_leaves_no_row_owned(connect, make_queue):
    waiter, other = connect(), connect()
    t = make_queue()
    bg = start_wait(waiter, t, timeout=40)
    wait_until_blocked(other, [waiter])
    kill_connection(other, waiter, query_only=True)
    bg.join(15)
    insert_ids(other, t, [1, 2])
    time.sleep(0.3)
    assert _visible(other, t) == [1, 2]  # nothing handed to the killed wait
    # The killed connection is usable, and its next wait consumes nothing unseen.
    assert wait(waiter, t, timeout=0) == 1
    assert one(waiter, f"SELECT id FROM {t}") == 1
    assert queue_end(waiter) == 1
    assert _visible(other, t) == [2]


def test_kill_query_racing_an_insert_loses_no_row(connect, make_queue):
    """A row inserted right after KILL QUERY is either returned to the waiter (result 1) or
    left in the queue; it never vanishes into an ownership the client was not told about."""
    waiter, other, producer = connect(), connect(), connect()
    for i in range(10):
        t = make_queue(hint=f"kill_race_{i}")
        bg = start_wait(waiter, t, timeout=30)
        wait_until_blocked(other, [waiter], settle=0.02)
        kill_connection(other, waiter, query_only=True)
        execute(producer, f"INSERT INTO {t} VALUES ({i}, 'x')")
        bg.join(15)
        if bg.error is None and bg.result == 1:
            seen = column(waiter, f"SELECT id FROM {t}")
            assert seen == [i]
        else:
            # interrupted; how it is reported is checked by the test above
            assert bg.errno == ER_QUERY_INTERRUPTED or (bg.error is None and bg.result is None), (
                bg.error,
                bg.result,
            )
            seen = []
        assert queue_end(waiter) == 1  # consumes whatever the waiter owns
        remaining = _visible(other, t)
        assert sorted(seen + remaining) == [i], f"round {i}: seen={seen} remaining={remaining}"


# --------------------------------------------------------------------------- client process killed


def _owning_child(server, table, pipe):
    """Child process: connect, take a row, report it, then hang until killed."""
    try:
        c = server.connect()
        cur = c.cursor()
        cur.execute("SELECT queue_wait(%s, 10)", (table,))
        r = cur.fetchone()[0]
        cur.execute(f"SELECT id FROM {table}")
        got = [x[0] for x in cur.fetchall()]
        pipe.send((r, got))
        time.sleep(300)
    finally:
        os._exit(0)


def test_consumer_process_killed_with_sigkill_while_owning_releases_the_row(
    q4m_server, conn, make_queue
):
    t = make_queue()
    insert_ids(conn, t, [1, 2, 3])
    ctx = multiprocessing.get_context("fork")
    parent_end, child_end = ctx.Pipe()
    proc = ctx.Process(target=_owning_child, args=(q4m_server, t, child_end), daemon=True)
    proc.start()
    try:
        assert parent_end.poll(20), "child did not report"
        r, got = parent_end.recv()
        assert (r, got) == (1, [1])
        assert _visible(conn, t) == [2, 3]
        os.kill(proc.pid, signal.SIGKILL)
        proc.join(10)
        eventually(
            lambda: _visible(conn, t) == [1, 2, 3],
            timeout=15,
            message="row of the SIGKILLed consumer released",
        )
    finally:
        if proc.is_alive():
            os.kill(proc.pid, signal.SIGKILL)
            proc.join(5)
    assert count(conn, t) == 3


def test_kill_query_on_an_idle_owner_keeps_its_row_owned(connect, make_queue):
    owner, other = connect(), connect()
    t = make_queue()
    insert_ids(other, t, [1, 2])
    assert wait(owner, t) == 1
    kill_connection(other, owner, query_only=True)
    time.sleep(0.2)
    assert _visible(other, t) == [2]
    assert _visible(owner, t) == [1]
    assert queue_end(owner) == 1
    assert _visible(other, t) == [2]


def _blocked_child(server, table, pipe):
    """Child process: connect, report the connection id, block in queue_wait."""
    try:
        c = server.connect()
        pipe.send(c.thread_id())
        cur = c.cursor()
        cur.execute("SELECT queue_wait(%s, 5)", (table,))
        time.sleep(300)
    finally:
        os._exit(0)


def test_consumer_process_killed_while_blocked_loses_no_row(q4m_server, conn, make_queue):
    """A row handed to a waiter whose client died comes back when the server notices."""
    t = make_queue()
    ctx = multiprocessing.get_context("fork")
    parent_end, child_end = ctx.Pipe()
    proc = ctx.Process(target=_blocked_child, args=(q4m_server, t, child_end), daemon=True)
    proc.start()
    try:
        assert parent_end.poll(20)
        child_id = parent_end.recv()
        eventually(lambda: child_id in executing_statements(conn, "SELECT queue_wait%"), timeout=20)
        os.kill(proc.pid, signal.SIGKILL)
        proc.join(10)
        insert_ids(conn, t, [1])
        eventually(
            lambda: _visible(conn, t) == [1],
            timeout=20,
            message="row not released after its waiter's client died",
        )
    finally:
        if proc.is_alive():
            os.kill(proc.pid, signal.SIGKILL)
            proc.join(5)
    assert wait(conn, t, timeout=0) == 1
    assert one(conn, f"SELECT id FROM {t}") == 1


def _writing_child(server, table, pipe):
    """Child process: insert 1 MB multi-row batches with digests until killed."""
    try:
        c = server.connect()
        cur = c.cursor()
        rnd = random.Random(11)
        batch = 0
        while True:
            params = []
            for s in range(50):
                payload = rnd.randbytes(20_000)
                params += [batch, s, payload, payload_digest(batch, s, payload)]
            cur.execute(
                f"INSERT INTO {table} (b, s, payload, digest) VALUES "
                + ",".join(["(%s,%s,%s,%s)"] * 50),
                params,
            )
            batch += 1
            if batch == 3:
                pipe.send("writing")
    finally:
        os._exit(0)


@pytest.mark.timeout(90)
def test_writer_process_killed_mid_stream_leaves_no_partial_or_corrupt_rows(
    q4m_server, conn, make_queue
):
    t = make_queue("b INT NOT NULL, s INT NOT NULL, payload LONGBLOB, digest CHAR(64)")
    ctx = multiprocessing.get_context("fork")
    parent_end, child_end = ctx.Pipe()
    proc = ctx.Process(target=_writing_child, args=(q4m_server, t, child_end), daemon=True)
    proc.start()
    try:
        assert parent_end.poll(30), "writer did not start"
        parent_end.recv()
        time.sleep(0.7)
        os.kill(proc.pid, signal.SIGKILL)
        proc.join(10)
    finally:
        if proc.is_alive():
            os.kill(proc.pid, signal.SIGKILL)
            proc.join(5)
    # let the server finish (or drop) the statement the client was in the middle of
    eventually(lambda: not executing_statements(conn, f"INSERT INTO {t}%"), timeout=30)
    got = rows(conn, f"SELECT b, s, payload, digest FROM {t}")
    assert got, "nothing was written"
    for b, s, payload, digest in got:
        assert digest == payload_digest(b, s, bytes(payload)), f"corrupt row {(b, s)}"
    per_batch = {}
    for b, s, _, _ in got:
        per_batch.setdefault(b, []).append(s)
    for b, seqs in per_batch.items():
        assert seqs == list(range(50)), f"batch {b} is partial or out of order: {len(seqs)} rows"
    assert sorted(per_batch) == list(range(len(per_batch))), "a whole batch is missing"
    assert count(conn, t) == len(got)
