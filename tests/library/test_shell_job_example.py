"""examples/shell_job.py, the README's example, working for real."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Any

import q4m_fast

from conftest import REPO, visible

EXAMPLE = REPO / "examples" / "shell_job.py"


def _example_module() -> Any:
    spec = importlib.util.spec_from_file_location("shell_job_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_example_script_runs_the_queued_commands(
    dsn: str, fresh_queue: Any, conn: Any, tmp_path: Path
) -> None:
    fresh_queue("shell_jobs", "command VARCHAR(1024) NOT NULL")
    q4m_fast.enqueue_many(
        conn, "shell_jobs", [{"command": f"touch {tmp_path}/{name}"} for name in "ab"]
    )
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "--dsn", dsn, "--stop-when-idle"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a", "b"]
    assert visible(conn, "shell_jobs") == []


def test_a_failing_command_goes_back_to_the_queue(dsn: str, fresh_queue: Any, conn: Any) -> None:
    fresh_queue("shell_jobs", "command VARCHAR(1024) NOT NULL")
    q4m_fast.enqueue(conn, "shell_jobs", {"command": "exit 3"})
    worker = _example_module().ShellJob(dsn, timeout=1)
    with worker:
        assert worker.run() is True
    assert visible(conn, "shell_jobs") == [("exit 3",)]


def test_the_example_class_works_under_the_cli(
    dsn: str, fresh_queue: Any, conn: Any, tmp_path: Path
) -> None:
    fresh_queue("shell_jobs", "command VARCHAR(1024) NOT NULL")
    q4m_fast.enqueue(conn, "shell_jobs", {"command": f"touch {tmp_path}/c"})
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "q4m_fast",
            "work",
            "shell_job:ShellJob",
            "--dsn",
            dsn,
            "--stop-when-idle",
            "--threads",
            "2",
        ],
        cwd=EXAMPLE.parent,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "c").exists()
