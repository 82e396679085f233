"""The C clients on libmariadb: build them (gcc + pkg-config), run them.

* benchmarks/c/qbench.c: a program timing one access pattern on N threads (engine benchmark);
* benchmarks/c/refloop.c: the reference job loop, a shared object driven through ctypes
  (library benchmarks), see RefLoop.
"""

from __future__ import annotations

import ctypes
import shlex
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "c" / "qbench.c"
BINARY = HERE / "c" / "build" / "qbench"
REFLOOP_SOURCE = HERE / "c" / "refloop.c"
REFLOOP_LIBRARY = HERE / "c" / "build" / "librefloop.so"


def _compile(source: Path, output: Path, *extra: str) -> Path:
    """gcc -O2 against libmariadb; rebuilt only when the source is newer than the output."""
    if output.exists() and output.stat().st_mtime >= source.stat().st_mtime:
        return output
    output.parent.mkdir(parents=True, exist_ok=True)
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libmariadb"], check=True,
                           capture_output=True, text=True).stdout.split()
    cmd = ["gcc", "-O2", "-Wall", "-Wextra", "-pthread", *extra, str(source), *flags,
           "-o", str(output)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"{shlex.join(cmd)} failed:\n{proc.stderr}")
    return output


def build() -> Path:
    return _compile(SOURCE, BINARY)


def build_refloop() -> Path:
    return _compile(REFLOOP_SOURCE, REFLOOP_LIBRARY, "-shared", "-fPIC")


class RefLoop:
    """The C reference loop on `threads` connections opened now: run(jobs) works off exactly
    `jobs` rows of `table` (the GIL released meanwhile), close() disconnects."""

    _lib = None

    @classmethod
    def _library(cls):
        if cls._lib is None:
            lib = ctypes.CDLL(str(build_refloop()))
            lib.ref_open.restype = ctypes.c_void_p
            lib.ref_open.argtypes = [ctypes.c_char_p, ctypes.c_uint, ctypes.c_char_p,
                                     ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_int]
            lib.ref_run.restype = ctypes.c_long
            lib.ref_run.argtypes = [ctypes.c_void_p, ctypes.c_long]
            lib.ref_error.restype = ctypes.c_char_p
            lib.ref_error.argtypes = [ctypes.c_void_p]
            lib.ref_close.restype = None
            lib.ref_close.argtypes = [ctypes.c_void_p]
            cls._lib = lib
        return cls._lib

    def __init__(self, port: int, table: str, *, threads: int = 1, timeout: int = 1,
                 host: str = "127.0.0.1", user: str = "root", database: str = "test"):
        lib = self._library()
        self._handle = lib.ref_open(host.encode(), port, user.encode(), database.encode(),
                                    table.encode(), timeout, threads)
        if not self._handle:
            raise MemoryError("ref_open")
        self._check()

    def _check(self) -> None:
        error = self._lib.ref_error(self._handle)
        if error:
            raise RuntimeError(f"refloop: {error.decode(errors='replace')}")

    def run(self, jobs: int) -> int:
        done = self._lib.ref_run(self._handle, jobs)
        self._check()
        return done

    def close(self) -> None:
        if self._handle:
            self._lib.ref_close(self._handle)
            self._handle = None


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
