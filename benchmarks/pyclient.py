"""The access patterns of benchmarks/c/qbench.c, written plainly in Python on a driver
(MySQLdb or PyMySQL), with the same rules: every thread connects before the clock starts, all
threads share one budget of `ops` operations, and each consumer's final `SELECT queue_end()`
(which removes its last row) is inside the timing.
"""

from __future__ import annotations

import itertools
import resource
import threading
import time

MODES = ("select1", "insert", "wait", "wait1", "gem", "innodb")


def connect(driver: str, port: int, host: str = "127.0.0.1", autocommit: bool = True):
    if driver == "mysqldb":
        import MySQLdb
        return MySQLdb.connect(host=host, port=port, user="root", database="test",
                               charset="utf8mb4", autocommit=autocommit)
    if driver == "pymysql":
        import pymysql
        from pymysql.constants import CLIENT
        return pymysql.connect(host=host, port=port, user="root", database="test",
                               charset="utf8mb4", autocommit=autocommit,
                               client_flag=CLIENT.MULTI_STATEMENTS)
    raise ValueError(f"unknown driver {driver!r}")


def _worker(mode: str, conn, table: str, timeout: int, budget, ops: int, retries: list):
    cur = conn.cursor()
    execute, fetchall = cur.execute, cur.fetchall
    wait_sql = f"SELECT queue_wait('{table}', {timeout})"
    wait1_sql = f"{wait_sql}; SELECT * FROM {table}"
    select_sql = f"SELECT * FROM {table}"
    innodb_sql = f"SELECT id, v FROM {table} ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"
    owns = False
    for n in budget:
        if n >= ops:
            break
        if mode == "select1":
            execute("SELECT 1")
            fetchall()
        elif mode == "insert":
            execute(f"INSERT INTO {table} (id, v) VALUES ({n}, 'payload-{n}')")
        elif mode in ("wait", "gem"):
            while True:
                execute(wait_sql)
                got = fetchall()[0][0] == 1
                execute(select_sql)
                if fetchall() and got:
                    break
                retries.append(1)
            if mode == "gem":
                execute("SELECT queue_end()")
                fetchall()
            else:
                owns = True
        elif mode == "wait1":
            while True:
                execute(wait1_sql)
                got = fetchall()[0][0] == 1
                cur.nextset()
                if fetchall() and got:
                    break
                retries.append(1)
            owns = True
        elif mode == "innodb":
            while True:
                execute(innodb_sql)
                rows = fetchall()
                if rows:
                    execute(f"DELETE FROM {table} WHERE id = {rows[0][0]}")
                    conn.commit()
                    break
                conn.rollback()
                retries.append(1)
    if owns:
        execute("SELECT queue_end()")
        fetchall()
    cur.close()


class Pattern:
    """`threads` connections opened now; run(ops) does `ops` operations of `mode` over all of
    them (threads started and joined inside), close() disconnects. The form the library
    benchmarks time with pytest-benchmark."""

    def __init__(self, mode: str, port: int, *, driver: str = "mysqldb", threads: int = 1,
                 table: str = "t", timeout: int = 1):
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        self.mode, self.table, self.timeout = mode, table, timeout
        self.conns = [connect(driver, port, autocommit=(mode != "innodb"))
                      for _ in range(threads)]

    def run(self, ops: int) -> dict:
        budget = itertools.count()          # next() on it is atomic under the GIL
        retries: list = []
        errors: list = []
        start_line = threading.Barrier(len(self.conns) + 1)

        def body(conn):
            start_line.wait()
            try:
                _worker(self.mode, conn, self.table, self.timeout, budget, ops, retries)
            except BaseException as exc:     # reported below, in the calling thread
                errors.append(exc)

        workers = [threading.Thread(target=body, args=(c,)) for c in self.conns]
        for w in workers:
            w.start()
        start_line.wait()
        start, cpu0 = time.perf_counter(), _cpu()
        for w in workers:
            w.join()
        seconds, cpu = time.perf_counter() - start, _cpu() - cpu0
        if errors:
            raise errors[0]
        return {"mode": self.mode, "threads": len(self.conns), "ops": ops, "seconds": seconds,
                "rate": ops / seconds, "retries": len(retries), "client_cpu": cpu}

    def close(self) -> None:
        for c in self.conns:
            c.close()


def run(mode: str, port: int, *, driver: str = "mysqldb", threads: int = 1, ops: int,
        table: str = "t", timeout: int = 1) -> dict:
    """One measurement; a dict like cclient.run's (seconds, rate, retries, client_cpu: CPU
    seconds of this process during the timed part)."""
    pattern = Pattern(mode, port, driver=driver, threads=threads, table=table, timeout=timeout)
    try:
        return pattern.run(ops)
    finally:
        pattern.close()


def _cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime
