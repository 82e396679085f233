"""The ``q4m-fast`` command (also ``python -m q4m_fast``).

::

    q4m-fast work myapp.jobs:ShellJob --dsn mysql://root@127.0.0.1:3306/test --threads 4
    q4m-fast enqueue shell_jobs '{"command": "echo hello"}' --dsn ...
    q4m-fast --version

The DSN defaults to the environment variable ``Q4M_DSN``. Exit status: 0 done (or stopped by a
first signal), 1 a worker crashed, 2 bad usage or configuration, 128+N forced by a second signal N.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
from typing import Any, Sequence

from . import __version__, _impl
from .enqueue import enqueue_many
from .errors import Q4MError
from .job import Job
from .runner import EXIT_CONFIG, child_command, run_threads, supervise_processes

__all__ = ["main", "load_job_class"]

logger = logging.getLogger("q4m_fast.cli")


def load_job_class(target: str) -> type[Job]:
    """``package.module:ClassName`` -> the class (the current directory is importable)."""
    module_name, colon, attribute = target.partition(":")
    if not colon or not module_name or not attribute:
        raise ValueError(f"{target!r} should look like package.module:JobClass")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    module = importlib.import_module(module_name)
    found: Any = module
    for part in attribute.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            raise ValueError(f"{target}: {module_name} has no {attribute}") from None
    if not (isinstance(found, type) and issubclass(found, Job)):
        raise ValueError(f"{target} is not a subclass of q4m_fast.Job")
    return found


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, not {text}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="q4m-fast", description="Background jobs on Q4M queue tables."
    )
    parser.add_argument("--version", action="version", version=f"q4m-fast {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--dsn",
            default=os.environ.get("Q4M_DSN"),
            help="mysql://user:password@host:port/database (default: $Q4M_DSN)",
        )
        sub.add_argument(
            "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
        )

    work = commands.add_parser("work", help="work off jobs of a Job class")
    work.add_argument("target", help="package.module:JobClass")
    common(work)
    work.add_argument("--threads", type=_positive, default=1, help="workers per process")
    work.add_argument("--processes", type=_positive, default=1, help="worker processes")
    work.add_argument("--timeout", type=_seconds, help="seconds one wait lasts (class default)")
    work.add_argument("--max-jobs", type=_positive, help="each worker stops after this many")
    work.add_argument("--idle-timeout", type=_seconds, help="stop after this long without jobs")
    work.add_argument("--stop-when-idle", action="store_true", help="stop at the first empty wait")
    work.add_argument(
        "--wait-for-server",
        type=_seconds,
        default=0.0,
        help="at start, keep trying to connect this many seconds",
    )
    work.add_argument("--parent-pid", type=int, help=argparse.SUPPRESS)  # set for child processes

    enqueue = commands.add_parser("enqueue", help="insert jobs (JSON objects or arrays)")
    enqueue.add_argument("table", help="[db.]table")
    enqueue.add_argument("rows", nargs="*", help="JSON rows; none: one per line of stdin")
    common(enqueue)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    options = _parser().parse_args(arguments)
    logging.basicConfig(
        level=options.log_level,
        format="%(asctime)s %(process)d %(threadName)s %(levelname)s %(name)s: %(message)s",
    )
    if not options.dsn:
        print("q4m-fast: no DSN: pass --dsn or set Q4M_DSN", file=sys.stderr)
        return EXIT_CONFIG
    try:
        if options.command == "enqueue":
            return _enqueue(options)
        return _work(options, arguments)
    except (Q4MError, ValueError, ImportError) as exc:
        print(f"q4m-fast: {exc}", file=sys.stderr)
        return EXIT_CONFIG


def _work(options: argparse.Namespace, arguments: list[str]) -> int:
    job_class = load_job_class(options.target)
    if options.processes > 1:
        child = list(arguments)  # the same options, for one process each, watching us
        child += ["--processes", "1", "--parent-pid", str(os.getpid())]
        return supervise_processes(child_command(child), options.processes, logger)
    work_options = {
        "max_jobs": options.max_jobs,
        "idle_timeout": options.idle_timeout,
        "stop_when_idle": options.stop_when_idle,
    }

    def make_job() -> Job:
        return job_class(
            options.dsn, timeout=options.timeout, wait_for_server=options.wait_for_server
        )

    logger.info(
        "working off %s with %d thread(s), job loop %s",
        options.target,
        options.threads,
        _impl.name(),
    )
    return run_threads(make_job, options.threads, work_options, logger, options.parent_pid)


def _enqueue(options: argparse.Namespace) -> int:
    texts = options.rows or [line for line in sys.stdin.read().splitlines() if line.strip()]
    rows = []
    for text in texts:
        row = json.loads(text)
        if not isinstance(row, (dict, list)):
            raise ValueError(f"a row must be a JSON object or array, not {text!r}")
        rows.append(row)
    count = enqueue_many(options.dsn, options.table, rows)
    print(f"enqueued {count} row(s) into {options.table}")
    return 0
