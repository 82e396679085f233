"""Small helpers for the benchmarks' printed and written reports."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def median(values) -> float:
    return statistics.median(values)


def fmt_rate(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def fmt_ratio(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def spread(values) -> str:
    """'median (min-max)' of rates."""
    return f"{median(values):,.0f} ({min(values):,.0f}-{max(values):,.0f})"


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A GitHub markdown table, columns padded so that it also reads well as plain text."""
    cells = [headers] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    out = [line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in cells[1:]]
    return "\n".join(out)


def verdict(ok: bool) -> str:
    return "met" if ok else "**MISSED**"


def machine() -> str:
    """One line about where this ran: CPUs, kernel, load, commit."""
    try:
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "engine", "src"],
                               capture_output=True, text=True).stdout.strip()
        commit += " (engine/src modified)" if dirty else ""
    except OSError:
        commit = "?"
    try:
        build = json.loads((REPO / "build" / "engine" / "build-info.json").read_text())
        engine = f"engine build {build['fingerprint'][:12]}"
    except (OSError, ValueError, KeyError):
        engine = "engine build unknown"
    load = os.getloadavg()[0]
    return (f"{os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, commit {commit}, {engine}, "
            f"load average at start {load:.2f}")
