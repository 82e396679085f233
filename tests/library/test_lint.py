"""ruff and mypy (strict) pass on the library, its tests and examples."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import REPO

TOOLS = Path(sys.executable).parent
OURS = ["src/q4m_fast", "tests/library", "examples"]


def test_ruff_finds_nothing() -> None:
    done = subprocess.run(
        [str(TOOLS / "ruff"), "check", *OURS], cwd=REPO, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_format_is_applied() -> None:
    done = subprocess.run(
        [str(TOOLS / "ruff"), "format", "--check", *OURS], cwd=REPO, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict_finds_nothing() -> None:
    done = subprocess.run([str(TOOLS / "mypy")], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
