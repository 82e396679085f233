"""Fixtures of the benchmarks (bench_library.py, the full run) and of their smoke test
(test_smoke.py, the CI-sized run), following tests/conftest.py's pattern:

* `q4m_server`       one private server for the session (scripts/q4m-server through the tests'
                     PrivateServer helper), queue_sync OFF at start, max_connections raised
* `library_results`  the full run's collected results; at the end of the session they are
                     written to benchmarks/results/latest.md, latest.json (every round) and
                     latest-threads.png (Q4M_BENCH_RESULTS=<dir> writes elsewhere) and printed
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from benchserver import MAX_CONNECTIONS, BenchServer  # noqa: E402

RESULTS_DIR = Path(os.environ.get("Q4M_BENCH_RESULTS") or HERE / "results")


@pytest.fixture(scope="session")
def q4m_server(tmp_path_factory):
    server = BenchServer(datadir=tmp_path_factory.mktemp("q4m-bench-server"), sync=False)
    server.start()
    server.sql(f"SET GLOBAL max_connections = {MAX_CONNECTIONS}")
    server.set_sync(False)
    yield server
    server.stop()


class LibraryResults:
    def __init__(self, server):
        self.server = server
        self.results: list = []
        self.rss: list[dict] = []
        self.notes: list[str] = []
        self.started = time.monotonic()

    def add(self, result) -> None:
        """Pool the rounds of a contestant measured again (in another pass)."""
        for known in self.results:
            if (known.group, known.key) == (result.group, result.key):
                known.data += result.data
                known.passes += result.passes
                for name, values in result.extra.items():
                    known.extra.setdefault(name, []).extend(values)
                return
        self.results.append(result)

    def write(self, directory: Path) -> str:
        import library_report

        import q4m_fast

        header = {"server": f"MariaDB {self.server.version()}", "version": q4m_fast.__version__,
                  "impls": "c and python (q4m_fast._impl.select)",
                  "seconds": time.monotonic() - self.started, "notes": self.notes}
        text = library_report.render(self.results, self.rss, header)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "latest.md").write_text(text)
        (directory / "latest.json").write_text(
            json.dumps(library_report.raw(self.results, self.rss, header), indent=1) + "\n")
        if library_report.plot(self.results, directory / "latest-threads.png"):
            text += f"\nPlot: {directory / 'latest-threads.png'}\n"
        return text


@pytest.fixture(scope="session")
def library_results(q4m_server, request):
    collected = LibraryResults(q4m_server)
    yield collected
    if collected.results or collected.rss:
        request.config._q4m_bench_report = collected.write(RESULTS_DIR)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    text = getattr(config, "_q4m_bench_report", None)
    if text:
        terminalreporter.write_sep("=", "q4m_fast library benchmarks")
        terminalreporter.write_line(text)
        terminalreporter.write_line(f"written to {RESULTS_DIR / 'latest.md'}")
