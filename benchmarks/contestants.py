"""What the library benchmarks time: job loops that each work off exactly `n` rows of one queue.

Every contestant opens its connections when it is made (outside the timing) and has
`run(n)`, which returns when n rows have been processed and each connection's last row has been
consumed (`queue_end`, one more round trip per connection, as Job.work() does when it stops),
and `close()`.

* LibraryLoop  q4m_fast's Job.work() with the C (Cython) or the pure-Python loop, on T threads
               (one Job instance, hence one connection, per thread); the job is a no-op, a 1 ms
               sleep (blocking in C, GIL released) or 1 ms of pure-Python work (GIL held)
* GemPattern   the Ruby gem's three statements per job, plainly on MySQLdb or PyMySQL
* RefLoop      the reference loop in C on libmariadb (benchmarks/c/refloop.c), q4m_fast's own
               one-round-trip protocol (cclient.RefLoop)
"""

from __future__ import annotations

import threading
import time

import cclient
import pyclient

import q4m_fast
from q4m_fast import _impl

# ---------------------------------------------------------------------------- the jobs' work


def _noop(self, job) -> None:
    pass


def _sleep_1ms(self, job) -> None:
    time.sleep(0.001)


_PY_WORK_LOOPS = None


def calibrate_python_work(target: float = 0.001) -> int:
    """Loop count of `python_work` that takes `target` seconds on one idle thread here
    (the best of several tries, so that a busy moment does not inflate it)."""
    global _PY_WORK_LOOPS
    if _PY_WORK_LOOPS is None:
        loops = 20000
        best = min(_timed(python_work, loops) for _ in range(15))
        _PY_WORK_LOOPS = max(1, round(loops * target / best))
    return _PY_WORK_LOOPS


def _timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def python_work(loops: int) -> int:
    """Pure-Python work: integer arithmetic in a loop, holding the GIL throughout."""
    total = 0
    for i in range(loops):
        total += i * i % 7
    return total


def _python_1ms(self, job) -> None:
    python_work(_PY_WORK_LOOPS)


JOB_KINDS = {
    "noop": ("no-op", _noop),
    "sleep": ("1 ms blocking in C (time.sleep(0.001))", _sleep_1ms),
    "python": ("1 ms of pure-Python work", _python_1ms),
}


def job_class(table: str, kind: str) -> type:
    if kind == "python":
        calibrate_python_work()
    return type(f"Bench{kind.title()}Job", (q4m_fast.Job,),
                {"table_name": table, "execute": JOB_KINDS[kind][1]})


# ---------------------------------------------------------------------------- contestants


class LibraryLoop:
    def __init__(self, dsn: str, table: str, impl: str, *, threads: int = 1, kind: str = "noop"):
        _impl.select(impl)
        if q4m_fast.__impl__ != impl:
            raise RuntimeError(f"asked for the {impl} loop, got {q4m_fast.__impl__}")
        cls = job_class(table, kind)
        self.jobs = [cls(dsn, timeout=1) for _ in range(threads)]
        for job in self.jobs:
            _ = job.connection      # connect, read the table's columns, build the loop: now
        loops = {type(job._worker._loop).__module__ for job in self.jobs}
        expected = "q4m_fast._loop" if impl == "c" else "q4m_fast._pyloop"
        if loops != {expected}:
            raise RuntimeError(f"the workers run {loops}, not {expected}")

    def run(self, n: int) -> int:
        threads = len(self.jobs)
        if n % threads:
            raise ValueError(f"{n} jobs do not split evenly over {threads} threads")
        per = n // threads
        if threads == 1:
            return self.jobs[0].work(max_jobs=per, handle_signals=False)
        done = [0] * threads

        def body(i: int) -> None:
            done[i] = self.jobs[i].work(max_jobs=per, handle_signals=False)

        workers = [threading.Thread(target=body, args=(i,)) for i in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        if sum(done) != n:
            raise RuntimeError(f"{sum(done)} jobs executed, not {n}")
        return n

    def close(self) -> None:
        for job in self.jobs:
            job.close()


class GemPattern:
    """`SELECT queue_wait('t', 1)`, `SELECT * FROM t`, `SELECT queue_end()` per job."""

    def __init__(self, port: int, table: str, driver: str, *, threads: int = 1):
        self._pattern = pyclient.Pattern("gem", port, driver=driver, threads=threads, table=table)

    def run(self, n: int) -> int:
        self._pattern.run(n)
        return n

    def close(self) -> None:
        self._pattern.close()


class RefLoop:
    def __init__(self, port: int, table: str, *, threads: int = 1):
        self._loop = cclient.RefLoop(port, table, threads=threads)

    def run(self, n: int) -> int:
        return self._loop.run(n)

    def close(self) -> None:
        self._loop.close()
