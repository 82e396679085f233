"""A CI-sized run of every benchmark, so that they never rot: the same measurement code as
bench_library.py and engine_bench.py on a handful of rows, a few seconds in all. It checks that
everything runs and that the reports come out complete; it asserts nothing about speed.

    .venv/bin/pytest benchmarks/test_smoke.py
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import bench_library
import cclient
import engine_bench
import library_report
import pytest
from bench_library import Sizes

SMOKE = Sizes(loop_jobs=60, loop_rounds=2, loop_warmup=10, thread_jobs=32,
              python_thread_jobs=32, thread_rounds=1,
              enqueue_rows=40, enqueue_rounds=1, rss_jobs=2000, rss_checkpoints=(0, 1000, 2000))


class MiniBenchmark:
    """Stands in for pytest-benchmark's fixture: pedantic() with a setup per round, and the
    rounds' durations in .stats.stats.data, nothing else."""

    def __init__(self):
        self.stats = SimpleNamespace(stats=SimpleNamespace(data=[]))

    def pedantic(self, target, setup, rounds: int, warmup_rounds: int = 0):
        for i in range(warmup_rounds + rounds):
            args, kwargs = setup()
            start = time.perf_counter()
            target(*args, **kwargs)
            if i >= warmup_rounds:
                self.stats.stats.data.append(time.perf_counter() - start)


@pytest.fixture(scope="module")
def library_run(q4m_server):
    """Every library measurement once, tiny."""
    results = [bench_library.measure_loop(MiniBenchmark(), q4m_server, key, SMOKE)
               for key in bench_library.LOOPS]
    results += [bench_library.measure_loop(MiniBenchmark(), q4m_server, key, SMOKE, sync=True)
                for key in ("e", "a", "c")]
    results += [bench_library.measure_threads(MiniBenchmark(), q4m_server, kind, threads, SMOKE)
                for kind in ("sleep", "python") for threads in (1, 16)]
    results += [bench_library.measure_enqueue(MiniBenchmark(), q4m_server, many, sync, SMOKE)
                for many in (False, True) for sync in (False, True)]
    rss = bench_library.measure_rss(q4m_server, SMOKE)
    return results, rss


def test_every_library_measurement_processes_every_job(library_run, q4m_server):
    results, _ = library_run
    assert len(results) == len(bench_library.LOOPS) + 3 + 4 + 4
    for r in results:
        assert r.rounds >= 1 and all(d > 0 for d in r.data), r
    assert q4m_server.sql(f"SELECT COUNT(*) FROM {bench_library.TABLE}")[0][0] == 0


def test_the_worker_reports_its_memory_at_each_checkpoint(library_run):
    _, rss = library_run
    assert [s["jobs"] for s in rss] == list(SMOKE.rss_checkpoints)
    assert all(s["rss_kb"] > 0 and s["impl"] == "c" for s in rss)


def test_the_library_report_has_every_table_and_target(library_run, tmp_path):
    results, rss = library_run
    text = library_report.render(results, rss, {"seconds": 1.0})
    for title, _ in library_report.GROUPS.values():
        assert f"## {title}" in text
    assert "## Worker memory" in text
    for target in library_report.TARGETS:
        assert target[0] in text
    assert "not measured" not in text


def test_the_library_plot_is_drawn(library_run, tmp_path):
    # matplotlib is in the `test` extra, so this never skips
    results, _ = library_run
    assert library_report.plot(results, tmp_path / "threads.png")
    assert (tmp_path / "threads.png").stat().st_size > 1000


def test_the_engine_benchmark_runs_every_case_and_reports_targets(q4m_server, tmp_path):
    cclient.build()
    clients = ["c", "mysqldb"]
    results = engine_bench.run_all(q4m_server, repeat=1, ops=24, clients=clients,
                                   progress=lambda s: None)
    q4m_server.set_sync(False)
    text, checks = engine_bench.build_report(results, q4m_server.version(), 1, 24, clients, 1.0,
                                             "here")
    for case in engine_bench.CASES:
        assert case.what in text
    assert "## Targets" in text and len(checks) == len(engine_bench.QUEUE_VS_INNODB) * 2 + 1
    # the raw rounds re-render into the same report
    engine_bench.save_raw(tmp_path / "engine.json", results, {"machine": "here"})
    again, _ = engine_bench.load_raw(tmp_path / "engine.json")
    assert engine_bench.build_report(again, q4m_server.version(), 1, 24, clients, 1.0,
                                     "here")[0] == text
