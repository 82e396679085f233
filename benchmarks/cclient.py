"""The C client (benchmarks/c/qbench.c on libmariadb): build it and run one measurement."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "c" / "qbench.c"
BINARY = HERE / "c" / "build" / "qbench"


def build() -> Path:
    """gcc -O2 qbench.c against libmariadb (pkg-config); rebuilt when the source is newer."""
    if BINARY.exists() and BINARY.stat().st_mtime >= SOURCE.stat().st_mtime:
        return BINARY
    BINARY.parent.mkdir(parents=True, exist_ok=True)
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libmariadb"], check=True,
                           capture_output=True, text=True).stdout.split()
    cmd = ["gcc", "-O2", "-Wall", "-Wextra", "-pthread", str(SOURCE), *flags, "-o", str(BINARY)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"{shlex.join(cmd)} failed:\n{proc.stderr}")
    return BINARY


def run(mode: str, port: int, *, threads: int = 1, ops: int, table: str = "t",
        timeout: int = 1, host: str = "127.0.0.1") -> dict:
    """One qbench run; its key=value line as a dict (seconds, rate, ... as numbers)."""
    cmd = [str(build()), mode, "--host", host, "--port", str(port), "--table", table,
           "--threads", str(threads), "--ops", str(ops), "--timeout", str(timeout)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if proc.returncode:
        raise RuntimeError(f"{shlex.join(cmd)} failed:\n{proc.stderr}{proc.stdout}")
    out: dict = {}
    for pair in proc.stdout.split():
        key, value = pair.split("=", 1)
        try:
            out[key] = float(value) if "." in value else int(value)
        except ValueError:
            out[key] = value
    return out
