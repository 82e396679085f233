"""The q4m_fast library benchmarks (pytest-benchmark), all on one private server in one run:

    make bench          # = .venv/bin/pytest benchmarks/bench_library.py  (plus the engine one)

Not collected by a plain `pytest` or `pytest tests` (the file name does not start with test_);
benchmarks/test_smoke.py runs every measurement below at a CI size, in seconds.

1. job loops, no-op jobs, one connection: (a) Cython loop, (b) pure-Python loop, (c) the gem's
   3 statements on MySQLdb, (d) the same on PyMySQL, (e) a C loop on libmariadb doing (a)'s
   one-round-trip protocol; syncing off, and (a), (c), (e) again syncing on;
2. (a) on 1, 2, 4, 8, 16, 32 threads: a job blocking 1 ms in C, a job of 1 ms of Python work;
3. enqueue() row by row against enqueue_many(), syncing off and on;
4. the RSS of a worker process at 10,000 and at 1,000,000 jobs.

Sizes can be scaled with Q4M_BENCH_SCALE (e.g. 0.2 for a quicker, noisier run); the RSS job
count is Q4M_BENCH_RSS_JOBS (default 1,000,000).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from contestants import JOB_KINDS, GemPattern, LibraryLoop, RefLoop
from cpuwatch import CpuWatch
from library_report import Result

HERE = Path(__file__).resolve().parent
TABLE = "bench_jobs"
THREADS = (1, 2, 4, 8, 16, 32)


@dataclass(frozen=True)
class Sizes:
    loop_jobs: int = 4096
    loop_rounds: int = 2             # per pass
    loop_warmup: int = 256           # jobs worked off untimed before the first round
    thread_jobs: int = 1920          # divisible by every thread count (1 ms sleep jobs)
    python_thread_jobs: int = 960    # the same for 1 ms Python jobs (no faster with threads)
    thread_rounds: int = 2           # per pass
    enqueue_rows: int = 5000
    enqueue_rounds: int = 5
    rss_jobs: int = 1_000_000
    rss_checkpoints: tuple = (0, 10_000, 100_000, 250_000, 500_000, 750_000, 1_000_000)

    def scaled(self, factor: float) -> Sizes:
        def n(x: int, multiple: int = 1) -> int:
            return max(multiple, round(x * factor / multiple) * multiple)
        return Sizes(loop_jobs=n(self.loop_jobs), loop_rounds=self.loop_rounds,
                     loop_warmup=self.loop_warmup, thread_jobs=n(self.thread_jobs, 32),
                     python_thread_jobs=n(self.python_thread_jobs, 32),
                     thread_rounds=self.thread_rounds, enqueue_rows=n(self.enqueue_rows),
                     enqueue_rounds=self.enqueue_rounds, rss_jobs=self.rss_jobs,
                     rss_checkpoints=self.rss_checkpoints)


def _sizes() -> Sizes:
    sizes = Sizes().scaled(float(os.environ.get("Q4M_BENCH_SCALE", "1")))
    rss = int(os.environ.get("Q4M_BENCH_RSS_JOBS", sizes.rss_jobs))
    checkpoints = (*(c for c in sizes.rss_checkpoints if c < rss), rss)
    return Sizes(**{**sizes.__dict__, "rss_jobs": rss, "rss_checkpoints": checkpoints})


SIZES = _sizes()

LOOPS = {
    "e": ("(e) C reference loop on libmariadb, 1 round trip", lambda s: RefLoop(s.port, TABLE)),
    "a": ("(a) q4m_fast Job.work(), Cython loop", lambda s: LibraryLoop(s.dsn, TABLE, "c")),
    "b": ("(b) q4m_fast Job.work(), pure-Python loop",
          lambda s: LibraryLoop(s.dsn, TABLE, "python")),
    "c": ("(c) gem's 3 statements on MySQLdb", lambda s: GemPattern(s.port, TABLE, "mysqldb")),
    "d": ("(d) gem's 3 statements on PyMySQL", lambda s: GemPattern(s.port, TABLE, "pymysql")),
}


# ---------------------------------------------------------------------------- measurements
# Shared with test_smoke.py, which passes a stand-in for the `benchmark` fixture.


def _filler(server, jobs: int):
    """pedantic's setup: check the queue is empty (the previous round left nothing), fill it."""
    def setup():
        left = server.sql(f"SELECT COUNT(*) FROM {TABLE}")[0][0]
        if left:
            raise RuntimeError(f"{left} rows left in {TABLE} after the previous round")
        server.fill(TABLE, jobs)
        return (jobs,), {}
    return setup


def _timed(benchmark, server, contestant, setup, rounds: int, warmup: int) -> tuple[list, dict]:
    """pedantic() over contestant.run; also where the CPU went in each round (CpuWatch)."""
    watches: list[CpuWatch] = []

    def target(*args):
        with CpuWatch(server.pid) as watch:
            contestant.run(*args)
        watches.append(watch)

    try:
        benchmark.pedantic(target, setup=setup, rounds=rounds, warmup_rounds=warmup)
    finally:
        contestant.close()
    timed = watches[warmup:]
    cpu = {"client_cpu": [w.client for w in timed], "server_cpu": [w.server for w in timed],
           "others_cores": [w.others_cores for w in timed]}
    return list(benchmark.stats.stats.data), cpu


def measure_loop(benchmark, server, key: str, sizes: Sizes, *, sync: bool = False,
                 pass_: int = 1) -> Result:
    what, make = LOOPS[key]
    server.set_sync(sync)
    try:
        server.recreate(TABLE, "QUEUE")
        contestant = make(server)
        if sizes.loop_warmup:                  # first statements on new connections: untimed
            server.fill(TABLE, sizes.loop_warmup)
            contestant.run(sizes.loop_warmup)
        data, cpu = _timed(benchmark, server, contestant, _filler(server, sizes.loop_jobs),
                           sizes.loop_rounds, 0)
    finally:
        server.set_sync(False)
    return Result("loops-sync" if sync else "loops", key, what, sizes.loop_jobs, data,
                  reference=None if key == "e" else "e", extra=cpu, passes=[pass_] * len(data))


def measure_threads(benchmark, server, kind: str, threads: int, sizes: Sizes,
                    pass_: int = 1) -> Result:
    server.recreate(TABLE, "QUEUE")
    jobs = sizes.python_thread_jobs if kind == "python" else sizes.thread_jobs
    contestant = LibraryLoop(server.dsn, TABLE, "c", threads=threads, kind=kind)
    data, cpu = _timed(benchmark, server, contestant, _filler(server, jobs),
                       sizes.thread_rounds, 0)
    return Result(f"threads-{kind}", str(threads),
                  f"(a), {threads} thread{'s' if threads > 1 else ''}, {JOB_KINDS[kind][0]}",
                  jobs, data, reference=None if threads == 1 else "1", extra=cpu,
                  passes=[pass_] * len(data))


class _Enqueuer:
    def __init__(self, server, many: bool):
        from q4m_fast.connection import connect
        self.conn = connect(server.dsn)
        self.many = many

    def run(self, rows) -> None:
        import q4m_fast
        if self.many:
            q4m_fast.enqueue_many(self.conn, TABLE, rows)
        else:
            for row in rows:
                q4m_fast.enqueue(self.conn, TABLE, row)

    def close(self) -> None:
        self.conn.close()


def measure_enqueue(benchmark, server, many: bool, sync: bool, sizes: Sizes) -> Result:
    rows = [(i, f"payload-{i}") for i in range(sizes.enqueue_rows)]

    def setup():
        server.recreate(TABLE, "QUEUE")
        return (rows,), {}

    server.set_sync(sync)
    try:
        data, cpu = _timed(benchmark, server, _Enqueuer(server, many), setup,
                           sizes.enqueue_rounds, 0)
    finally:
        server.set_sync(False)
    name = "enqueue_many(conn, t, rows) (INSERTs of 1,000 rows)" if many else \
        "enqueue(conn, t, row), row by row"
    key = f"{'many' if many else 'one'}-{'on' if sync else 'off'}"
    return Result("enqueue", key, f"{name}, syncing {'on' if sync else 'off'}",
                  sizes.enqueue_rows, data,
                  reference=None if not many else f"one-{'on' if sync else 'off'}", extra=cpu)


def measure_rss(server, sizes: Sizes, impl: str = "c") -> list[dict]:
    """Fill the queue with rss_jobs rows, let a separate worker process work them off, and
    return its memory samples (one dict per checkpoint)."""
    server.recreate(TABLE, "QUEUE")
    server.fill(TABLE, sizes.rss_jobs, batch=2000)
    cmd = [sys.executable, str(HERE / "rss_worker.py"), "--dsn", server.dsn, "--table", TABLE,
           "--jobs", str(sizes.rss_jobs),
           "--checkpoints", ",".join(str(c) for c in sizes.rss_checkpoints)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3600,
                          env={**os.environ, "Q4M_FAST_IMPL": impl})
    if proc.returncode:
        raise RuntimeError(f"rss_worker failed:\n{proc.stderr}{proc.stdout}")
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


# ---------------------------------------------------------------------------- the benchmarks


# Each comparison runs in PASSES passes (every contestant once per pass, in turn), so that a busy
# neighbour on the machine disturbs all contestants alike instead of one; the report pools the
# rounds of all passes.
PASSES = range(1, int(os.environ.get("Q4M_BENCH_PASSES", "3")) + 1)
LOOP_PASSES = range(1, int(os.environ.get("Q4M_BENCH_LOOP_PASSES", "5")) + 1)


def _in_passes(*keys, passes=PASSES):
    return [pytest.param(p, k, id=f"pass{p}-{k}") for p in passes for k in keys]


@pytest.mark.parametrize(("pass_", "key"), _in_passes(*LOOPS, passes=LOOP_PASSES))
def test_job_loop(benchmark, q4m_server, library_results, pass_, key):
    benchmark.group = "job loops, no-op jobs, syncing off"
    library_results.add(measure_loop(benchmark, q4m_server, key, SIZES, pass_=pass_))


@pytest.mark.parametrize(("pass_", "key"), _in_passes("e", "a", "c", passes=LOOP_PASSES))
def test_job_loop_synced(benchmark, q4m_server, library_results, pass_, key):
    benchmark.group = "job loops, no-op jobs, syncing on"
    library_results.add(measure_loop(benchmark, q4m_server, key, SIZES, sync=True, pass_=pass_))


@pytest.mark.parametrize(("pass_", "threads"), _in_passes(*THREADS))
@pytest.mark.parametrize("kind", ["sleep", "python"])
def test_threads(benchmark, q4m_server, library_results, kind, pass_, threads):
    benchmark.group = f"threads, {JOB_KINDS[kind][0]}"
    library_results.add(measure_threads(benchmark, q4m_server, kind, threads, SIZES,
                                        pass_=pass_))


@pytest.mark.parametrize("sync", [False, True], ids=["sync-off", "sync-on"])
@pytest.mark.parametrize("many", [False, True], ids=["enqueue", "enqueue_many"])
def test_enqueue(benchmark, q4m_server, library_results, many, sync):
    benchmark.group = f"enqueue, syncing {'on' if sync else 'off'}"
    library_results.add(measure_enqueue(benchmark, q4m_server, many, sync, SIZES))


def test_worker_rss(q4m_server, library_results):
    library_results.rss = measure_rss(q4m_server, SIZES)
