"""Two job loops, one contract: choosing them, and the C one linking no MySQL library."""

from __future__ import annotations

import subprocess
import sys

import pytest

import q4m_fast
from q4m_fast import _impl


@pytest.mark.parametrize("choice", ["c", "python"])
def test_q4m_fast_impl_chooses_the_loop_and___impl___reports_it(choice: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import q4m_fast; print(q4m_fast.__impl__)"],
        capture_output=True,
        text=True,
        env={"Q4M_FAST_IMPL": choice, "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == choice


def test_the_default_is_c_when_the_extension_is_built() -> None:
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", "import q4m_fast; print(q4m_fast.__impl__)"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert done.stdout.strip() == "c", done.stderr


def test_an_unknown_implementation_is_refused() -> None:
    with pytest.raises(ValueError, match="Q4M_FAST_IMPL must be one of c, python"):
        _impl.select("rust")


def test_the_c_extension_links_no_mysql_client_library() -> None:
    from q4m_fast import _loop

    linked = subprocess.run(
        ["ldd", _loop.__file__], capture_output=True, text=True, check=True
    ).stdout
    assert "mariadb" not in linked and "mysqlclient" not in linked, linked


def test_the_suite_runs_with_the_implementation_it_says(impl: str) -> None:
    assert q4m_fast.__impl__ == impl
    expected = "q4m_fast._loop" if impl == "c" else "q4m_fast._pyloop"
    assert _impl.loop_module().__name__ == expected
