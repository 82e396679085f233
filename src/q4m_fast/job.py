"""The class users subclass: what to do with one row of a queue table.

::

    class ShellJob(q4m_fast.Job):          # table "shell_jobs"
        def execute(self, job):
            if subprocess.call(job.command, shell=True) != 0:
                self.queue_abort()         # the row goes back to the queue

    ShellJob("mysql://root@127.0.0.1:3307/test").work()

Delivery is at least once: a row is deleted only when the worker's next wait (or its stop) reaches
the server; if the worker's connection or process dies before that, the server returns the row to
the queue and it runs again. Make jobs idempotent, or record progress elsewhere.
"""

from __future__ import annotations

import logging
import math
import re
from typing import Any, Callable, ClassVar, Sequence, TypeVar

from .connection import ConnectionTarget, Connector
from .hooks import Hooks
from .rows import Row
from .tables import TableSpec, parse_spec
from .worker import Worker

__all__ = ["Job", "default_table_name"]

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_TIMEOUT = 1.0

_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def default_table_name(cls: type) -> str:
    """The class name in snake case plus "s": ``ShellJob`` -> ``shell_jobs``."""
    return _WORD_BOUNDARY.sub("_", cls.__name__).lower() + "s"


class Job:
    """Subclass it and define :meth:`execute`; then call :meth:`run` or :meth:`work`.

    The table is, by priority: ``tables`` (several, in priority order), ``table_name`` (a class
    attribute or a method), the class name in snake case plus "s". A table may be written
    ``db.table`` and may carry a Q4M condition (``"jobs:prio=0"``), passed to the server unchanged.

    ``connection`` is a DSN (``mysql://user:password@host:port/db``), a MySQLdb connection (used
    as is, never reconnected) or a function returning a new MySQLdb connection. ``timeout`` is the
    server-side wait of one round trip, in whole seconds (fractions round up): it bounds how long
    ``run()`` waits and how late ``work()`` notices a ``stop()``.
    """

    table_name: ClassVar[str | Callable[..., str] | None] = None
    tables: ClassVar[Sequence[str] | None] = None
    timeout: float = DEFAULT_TIMEOUT

    def __init__(
        self,
        connection: ConnectionTarget,
        *,
        logger: logging.Logger | None = None,
        timeout: float | None = None,
        reconnect: bool = True,
        wait_for_server: float = 0.0,
    ) -> None:
        self.logger = logger if logger is not None else logging.getLogger("q4m_fast")
        if timeout is not None:
            self.timeout = timeout
        if not isinstance(self.timeout, (int, float)) or self.timeout < 0:
            raise ValueError(f"timeout must be a number of seconds >= 0, not {self.timeout!r}")
        self.specs: tuple[TableSpec, ...] = tuple(parse_spec(text) for text in self._table_texts())
        self._hooks = Hooks(self, self.logger, base=Job)
        self._worker = Worker(
            self,
            Connector(connection),
            self.specs,
            math.ceil(self.timeout),
            self.logger,
            self._hooks,
            reconnect=reconnect,
            wait_for_server=wait_for_server,
        )
        self.current_row: Row | None = None
        self.current_table: str | None = None  # the table spec (as given) the row came from
        self._abort_requested = False

    def _table_texts(self) -> tuple[str, ...]:
        tables = self.tables
        if callable(tables):
            tables = tables()
        if tables is not None:
            texts = (tables,) if isinstance(tables, str) else tuple(tables)
            if not texts:
                raise ValueError(f"{type(self).__name__}.tables is empty")
            return texts
        name = self.table_name
        if callable(name):
            name = name()
        return (default_table_name(type(self)) if name is None else name,)

    # --- what subclasses define -----------------------------------------------------------------

    def execute(self, job: Row) -> None:
        """Process one row. Raise, or call :meth:`queue_abort`, to put it back in the queue."""
        raise NotImplementedError(f"{type(self).__name__} must define execute(self, job)")

    def before_execute(self, job: Row) -> None:
        """Called before execute; raising here counts as the job failing."""

    def after_execute(self, job: Row, duration: float) -> None:
        """Called after every execute, whatever its outcome; ``duration`` in seconds."""

    def on_success(self, job: Row, duration: float) -> None:
        """execute returned without calling queue_abort."""

    def on_abort(self, job: Row, duration: float) -> None:
        """execute called queue_abort: the row went back to the queue."""

    def on_error(self, job: Row, exception: Exception, duration: float) -> None:
        """execute raised (already logged with its traceback); the row went back to the queue."""

    def on_idle(self) -> None:
        """A wait of ``timeout`` seconds ended without a job."""

    def on_reconnect(self, exception: Exception) -> None:
        """The connection was lost (``exception`` says how); reconnecting follows."""

    def on_start(self) -> None:
        """work() starts."""

    def on_stop(self) -> None:
        """work() ends."""

    # --- inside execute -------------------------------------------------------------------------

    def queue_abort(self) -> None:
        """Return the current row to the queue (when execute returns) instead of deleting it."""
        if self.current_row is None:
            raise RuntimeError("queue_abort() is only meaningful inside execute()")
        self._abort_requested = True

    @property
    def connection(self) -> Any:
        """The worker's MySQLdb connection, e.g. to enqueue follow-up jobs from execute().

        It is in Q4M owner mode while a row is owned: queue tables look empty through it, except
        the owned row in its own table. Do not use it from another thread.
        """
        return self._worker.connection

    def _begin(self, row: Row, table: str) -> None:
        self.current_row, self.current_table, self._abort_requested = row, table, False

    def _end(self) -> None:
        self.current_row = self.current_table = None

    # --- callbacks from outside -----------------------------------------------------------------

    def on(self, event: str, function: F | None = None) -> Any:
        """Register ``function(job_instance, *args)`` for ``event``; usable as a decorator.

        Events: start, stop, before_execute, after_execute, success, abort, error, idle,
        reconnect; the arguments are those of the method of the same event.
        """
        if function is None:

            def register(function: F) -> F:
                self._hooks.add(event, function)
                return function

            return register
        self._hooks.add(event, function)
        return function

    # --- running --------------------------------------------------------------------------------

    def run(self) -> bool:
        """Wait up to ``timeout`` for one job and process it; True if there was one.

        The row is finished (deleted, or returned) before this returns: two round trips.
        """
        return self._worker.run()

    def work(
        self,
        max_jobs: int | None = None,
        *,
        idle_timeout: float | None = None,
        stop_when_idle: bool = False,
        handle_signals: bool | None = None,
    ) -> int:
        """Process jobs until stopped; returns how many were executed.

        Stops on stop() (from any thread), after ``max_jobs``, after ``idle_timeout`` seconds
        without a job, at the first empty wait with ``stop_when_idle``, or on SIGINT/SIGTERM when
        ``handle_signals`` (default: when called in the main thread). A second signal interrupts
        the current job (KeyboardInterrupt / SystemExit) and returns its row to the queue.
        """
        if max_jobs is not None and max_jobs < 0:
            raise ValueError(f"max_jobs must be >= 0, not {max_jobs}")
        return self._worker.work(max_jobs, idle_timeout, stop_when_idle, handle_signals)

    def stop(self) -> None:
        """Ask work() to stop after the current job; safe from any thread or a signal handler."""
        self._worker.stop()

    @property
    def jobs_executed(self) -> int:
        return self._worker.jobs_executed

    def close(self) -> None:
        """Finish the owned row, if any, and close the connection (if the worker opened it)."""
        self._worker.close()

    def __enter__(self) -> Job:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
