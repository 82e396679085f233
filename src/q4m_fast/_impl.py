"""Which job loop runs: the C one (``_loop``) or the pure-Python one (``_pyloop``).

``Q4M_FAST_IMPL=c`` or ``python`` chooses; unset means C when the extension imports, else Python
with a warning. Asking for C when it cannot be imported is an error, not a silent fallback: a
benchmark or a test that thinks it measures C must not measure Python.
"""

from __future__ import annotations

import os
import warnings
from types import ModuleType

__all__ = ["loop_module", "name", "select"]

IMPLEMENTATIONS = ("c", "python")
_selected: ModuleType | None = None


def _load(choice: str) -> ModuleType:
    if choice == "c":
        from . import _loop

        return _loop
    from . import _pyloop

    return _pyloop


def select(choice: str | None = None) -> ModuleType:
    """Choose the implementation (``None``: from the environment) and return its module."""
    global _selected
    if choice is None:
        choice = os.environ.get("Q4M_FAST_IMPL", "").strip().lower() or None
    if choice is None:
        try:
            _selected = _load("c")
        except ImportError as exc:
            warnings.warn(
                f"q4m_fast: the C job loop is not available ({exc}); using the pure-Python one",
                RuntimeWarning,
                stacklevel=2,
            )
            _selected = _load("python")
        return _selected
    if choice not in IMPLEMENTATIONS:
        raise ValueError(
            f"Q4M_FAST_IMPL must be one of {', '.join(IMPLEMENTATIONS)}, not {choice!r}"
        )
    _selected = _load(choice)
    return _selected


def loop_module() -> ModuleType:
    return _selected if _selected is not None else select()


def name() -> str:
    return "c" if loop_module().__name__.endswith("._loop") else "python"
