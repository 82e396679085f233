"""Many connections at once: blocked waiters, concurrent consumers, producers and deleters
(spec 2.4, 9). Every row must reach exactly one consumer."""

from __future__ import annotations

import collections
import contextlib
import threading
import time

import pytest

from .engine_helpers import (
    count,
    execute,
    insert_ids,
    one,
    rows,
    start_wait,
    wait,
    wait_until_blocked,
)


@contextlib.contextmanager
def max_connections_at_least(conn, n):
    before = one(conn, "SELECT @@GLOBAL.max_connections")
    if before < n:
        execute(conn, f"SET GLOBAL max_connections = {n}")
    try:
        yield
    finally:
        if before < n:
            execute(conn, f"SET GLOBAL max_connections = {before}")


def consume_until_empty(conn, table, out, errors, idle_timeout=1, producers_done=None):
    """One consumer: one round trip per row (wait; select the owned row)."""
    cur = conn.cursor()
    try:
        while True:
            cur.execute(f"SELECT queue_wait('{table}', {idle_timeout}); SELECT id FROM {table}")
            r = cur.fetchone()[0]
            cur.nextset()
            owned = cur.fetchall()
            while cur.nextset():
                pass
            if r == 1:
                if len(owned) != 1:
                    errors.append(f"owner saw {len(owned)} rows")
                    return
                out.append(owned[0][0])
            elif r == 0:
                if owned:
                    errors.append(f"owner with no row saw {owned!r}")
                    return
                if producers_done is None or producers_done.is_set():
                    break
            else:
                errors.append(f"queue_wait returned {r!r}")
                return
        cur.execute("SELECT queue_end()")
        cur.fetchall()
    except Exception as e:  # reported by the test
        errors.append(repr(e))
    finally:
        cur.close()


def run_threads(targets):
    threads = [threading.Thread(target=f, args=a, daemon=True) for f, a in targets]
    for th in threads:
        th.start()
    return threads


def join_all(threads, timeout):
    deadline = time.monotonic() + timeout
    for th in threads:
        th.join(max(0.0, deadline - time.monotonic()))
    alive = [th for th in threads if th.is_alive()]
    assert not alive, f"{len(alive)} threads still running after {timeout}s"


def assert_each_exactly_once(got, expected):
    dup = [k for k, n in collections.Counter(got).items() if n > 1]
    assert not dup, f"{len(dup)} rows delivered more than once, e.g. {dup[:10]}"
    missing = set(expected) - set(got)
    assert not missing, f"{len(missing)} rows never delivered, e.g. {sorted(missing)[:10]}"
    assert sorted(got) == sorted(expected)


# --------------------------------------------------------------------------- blocked waiters


@pytest.mark.timeout(180)
def test_two_hundred_blocked_waiters_each_get_exactly_one_row(conn, connect, make_queue):
    n = 200
    with max_connections_at_least(conn, n + 50):
        t = make_queue()
        waiters = [connect() for _ in range(n)]
        bgs = [start_wait(w, t, timeout=90, fetch_owned_from=t) for w in waiters]
        wait_until_blocked(conn, waiters, timeout=60, settle=0.5)
        insert_ids(conn, t, range(1, n + 1), width=n)
        for bg in bgs:
            bg.join(60)
        errors = [bg.error for bg in bgs if bg.error is not None]
        assert not errors, errors[:5]
        assert [bg.result for bg in bgs] == [1] * n
        assert all(len(bg.owned_rows) == 1 for bg in bgs)
        assert_each_exactly_once([bg.owned_rows[0][0] for bg in bgs], range(1, n + 1))
        assert count(conn, t) == n  # all owned, none consumed yet
        assert rows(conn, f"SELECT * FROM {t}") == []


@pytest.mark.timeout(180)
def test_blocked_waiters_fed_one_row_at_a_time_each_get_exactly_one(conn, connect, make_queue):
    n = 50
    t = make_queue()
    waiters = [connect() for _ in range(n)]
    bgs = [start_wait(w, t, timeout=90, fetch_owned_from=t) for w in waiters]
    wait_until_blocked(conn, waiters, timeout=60, settle=0.3)
    for i in range(1, n + 1):
        execute(conn, f"INSERT INTO {t} VALUES ({i}, 'x')")
    for bg in bgs:
        bg.join(60)
    assert [bg.result for bg in bgs] == [1] * n
    assert_each_exactly_once([bg.owned_rows[0][0] for bg in bgs], range(1, n + 1))


# --------------------------------------------------------------------------- consumers


@pytest.mark.timeout(900)
def test_thirty_two_consumers_drain_100000_rows_none_lost_none_twice(conn, connect, make_queue):
    """32 threads, each with its own connection, drain 100,000 rows inserted in 1,000-row
    INSERTs. Each consumer does one round trip per row (queue_wait; SELECT). queue_sync stays
    as the session server has it (ON by default): about 20 s on 2 cores with group commit."""
    total, consumers = 100_000, 32
    t = make_queue()
    insert_ids(conn, t, range(total), width=1000)
    assert count(conn, t) == total
    conns = [connect() for _ in range(consumers)]
    outs = [[] for _ in range(consumers)]
    errors = []
    started = time.monotonic()
    threads = run_threads(
        [(consume_until_empty, (c, t, out, errors)) for c, out in zip(conns, outs)]
    )
    join_all(threads, 840)
    elapsed = time.monotonic() - started
    assert not errors, errors[:5]
    got = [x for out in outs for x in out]
    assert_each_exactly_once(got, range(total))
    assert count(conn, t) == 0
    assert rows(conn, f"SELECT * FROM {t}") == []
    assert sum(1 for out in outs if out) > 1, "only one consumer ever got a row"
    print(
        f"drained {total} rows with {consumers} consumers in {elapsed:.1f} s "
        f"({total / elapsed:.0f} rows/s)"
    )


@pytest.mark.timeout(300)
def test_concurrent_producers_and_consumers_none_lost_none_twice(conn, connect, make_queue):
    producers, per_producer, consumers = 4, 5000, 8
    t = make_queue()
    done = threading.Event()
    outs = [[] for _ in range(consumers)]
    errors = []

    def produce(c, p):
        try:
            for start in range(0, per_producer, 100):
                ids = range(p * per_producer + start, p * per_producer + start + 100)
                insert_ids(c, t, ids, width=100)
        except Exception as e:
            errors.append(repr(e))

    cons = run_threads(
        [(consume_until_empty, (connect(), t, out, errors, 1, done)) for out in outs]
    )
    prods = run_threads([(produce, (connect(), p)) for p in range(producers)])
    join_all(prods, 240)
    done.set()
    join_all(cons, 60)
    assert not errors, errors[:5]
    assert_each_exactly_once([x for out in outs for x in out], range(producers * per_producer))
    assert count(conn, t) == 0


@pytest.mark.timeout(300)
def test_each_producers_rows_are_assigned_in_its_insert_order(conn, connect, make_queue):
    """With one consumer and several producers, rows of one producer arrive in order."""
    producers, per_producer = 4, 500
    t = make_queue("id INT NOT NULL, p INT NOT NULL")
    errors = []

    def produce(c, p):
        try:
            for i in range(per_producer):
                execute(c, f"INSERT INTO {t} VALUES ({i}, {p})")
        except Exception as e:
            errors.append(repr(e))

    prods = run_threads([(produce, (connect(), p)) for p in range(producers)])
    join_all(prods, 240)
    assert not errors
    consumer = connect()
    seq = collections.defaultdict(list)
    while wait(consumer, t, timeout=0) == 1:
        i, p = rows(consumer, f"SELECT id, p FROM {t}")[0]
        seq[p].append(i)
    for p in range(producers):
        assert seq[p] == list(range(per_producer))


@pytest.mark.timeout(300)
def test_delete_racing_consumers_removes_each_row_once(conn, connect, make_queue):
    """Every row is either consumed by exactly one consumer or deleted by exactly one DELETE."""
    total, consumers = 5000, 6
    t = make_queue()
    insert_ids(conn, t, range(total), width=1000)
    outs = [[] for _ in range(consumers)]
    errors = []
    deleted = []

    def deleter(c):
        try:
            deadline = time.monotonic() + 200
            while time.monotonic() < deadline:
                n = (
                    execute(c, f"DELETE FROM {t} ORDER BY id LIMIT 7")
                    if len(deleted) % 2
                    else execute(c, f"DELETE FROM {t} LIMIT 5")
                )
                deleted.append(n)
                if n == 0 and count(c, t) == 0:
                    break
                time.sleep(0.002)
        except Exception as e:
            errors.append(repr(e))

    ths = run_threads(
        [(consume_until_empty, (connect(), t, out, errors)) for out in outs]
        + [(deleter, (connect(),))]
    )
    join_all(ths, 240)
    assert not errors, errors[:5]
    got = [x for out in outs for x in out]
    assert len(got) == len(set(got)), "a row was consumed twice"
    assert len(got) + sum(deleted) == total
    assert count(conn, t) == 0


@pytest.mark.timeout(300)
def test_abort_storm_loses_no_row(conn, connect, make_queue):
    """Consumers that abort every other row they take: all rows still end up consumed once."""
    total, consumers = 2000, 8
    t = make_queue()
    insert_ids(conn, t, range(total), width=1000)
    outs = [[] for _ in range(consumers)]
    errors = []

    def consume_aborting(c, out):
        try:
            n = 0
            while True:
                r = wait(c, t, timeout=1)
                if r == 0:
                    break
                owned = rows(c, f"SELECT id FROM {t}")
                assert len(owned) == 1
                n += 1
                if n % 2:
                    assert one(c, "SELECT queue_abort()") == 1
                else:
                    out.append(owned[0][0])
            assert one(c, "SELECT queue_end()") == 1
        except Exception as e:
            errors.append(repr(e))

    ths = run_threads([(consume_aborting, (connect(), out)) for out in outs])
    join_all(ths, 240)
    assert not errors, errors[:5]
    assert_each_exactly_once([x for out in outs for x in out], range(total))
    assert count(conn, t) == 0


@pytest.mark.timeout(300)
def test_consumers_on_several_tables_get_each_row_once(conn, connect, make_queue):
    tables = [make_queue() for _ in range(3)]
    per_table, consumers = 1000, 6
    for k, t in enumerate(tables):
        insert_ids(conn, t, range(k * per_table, (k + 1) * per_table), width=1000)
    outs = [[] for _ in range(consumers)]
    errors = []

    def consume_multi(c, out):
        try:
            while True:
                r = wait(c, *tables, timeout=1)
                if r == 0:
                    break
                out.append(one(c, f"SELECT id FROM {tables[r - 1]}"))
            assert one(c, "SELECT queue_end()") == 1
        except Exception as e:
            errors.append(repr(e))

    ths = run_threads([(consume_multi, (connect(), out)) for out in outs])
    join_all(ths, 240)
    assert not errors, errors[:5]
    assert_each_exactly_once([x for out in outs for x in out], range(3 * per_table))


@pytest.mark.timeout(120)
def test_one_wait_over_sixty_distinct_tables(conn, connect, make_queue):
    """Priority over many different tables, immediately and when woken."""
    tables = [make_queue(hint=f"many_{i}") for i in range(60)]
    insert_ids(conn, tables[42], [1])
    assert wait(conn, *tables, timeout=0) == 43
    assert one(conn, f"SELECT id FROM {tables[42]}") == 1
    execute(conn, "SELECT queue_end()")
    waiter = connect()
    bg = start_wait(waiter, *tables, timeout=30, fetch_owned_from=tables[59])
    wait_until_blocked(conn, [waiter])
    insert_ids(conn, tables[59], [2])
    bg.join(15)
    assert bg.result == 60
    assert bg.owned_rows == [(2, "v2")]


@pytest.mark.timeout(120)
def test_many_tables_used_concurrently_keep_their_own_rows(conn, connect, make_queue):
    tables = [make_queue(hint=f"own_{i}") for i in range(20)]
    errors = []

    def work(c, k):
        try:
            t = tables[k]
            insert_ids(c, t, range(k * 100, k * 100 + 100), width=10)
            got = []
            while wait(c, t, timeout=0) == 1:
                got.append(one(c, f"SELECT id FROM {t}"))
            execute(c, "SELECT queue_end()")
            if got != list(range(k * 100, k * 100 + 100)):
                errors.append(f"table {k}: got {got[:5]}...")
        except Exception as e:
            errors.append(repr(e))

    ths = run_threads([(work, (connect(), k)) for k in range(len(tables))])
    join_all(ths, 100)
    assert not errors, errors[:5]
    assert all(count(conn, t) == 0 for t in tables)
