"""Driving a job class: the connection, the job loop, reconnecting, stopping.

A :class:`Worker` belongs to one :class:`~q4m_fast.Job` instance and owns its connection
exclusively. The state that matters is the server's: after a row is handed out the connection
*owns* it until the next ``queue_wait`` (which consumes it: success) or ``queue_abort()`` (which
returns it). So a finished job is "done" only once the next round trip has been answered; if the
connection dies first, the server puts the row back and it runs again. That is Q4M's at-least-once
delivery, and this module never hides it: a reconnect while a row was owned is logged as such.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import MySQLdb

from . import _impl
from .backoff import Backoff
from .batch import LayoutChanged, WaitBatch, WaitReturnedNull, build_batch
from .columns import TableLayout, load_layout
from .connection import Connector, close_quietly
from .diagnose import explain_unusable
from .errors import ServerError, ServerGoneError, from_mysqldb, mysqldb_errno
from .hooks import Hooks
from .rows import Row
from .tables import TableSpec

if TYPE_CHECKING:
    from .job import Job

__all__ = ["Worker"]

# what one step of the loop did
EXECUTED, IDLE, STOPPED = "executed", "idle", "stopped"


class Worker:
    def __init__(
        self,
        job: Job,
        connector: Connector,
        specs: Sequence[TableSpec],
        timeout: int,
        logger: logging.Logger,
        hooks: Hooks,
        reconnect: bool,
        wait_for_server: float,
    ) -> None:
        self._job = job
        self._connector = connector
        self._specs = tuple(specs)
        self._timeout = timeout
        self._logger = logger
        self._hooks = hooks
        self._reconnect = reconnect
        self._wait_for_server = wait_for_server
        self._stop = threading.Event()
        self._connection: Any = None
        self._batch: WaitBatch | None = None
        self._layouts: list[TableLayout] = []
        self._loop: Any = None
        # the owned row must go back (queue_abort) rather than be consumed by the next wait
        self._abort_owned = False
        self.jobs_executed = 0

    # --- connection -----------------------------------------------------------------------------

    @property
    def connection(self) -> Any:
        """The worker's MySQLdb connection (opened if need be)."""
        self._ensure_open()
        return self._connection

    def _open(self) -> None:
        connection = self._connector.connect()
        try:
            batch = build_batch(connection, self._specs, self._timeout)
            layouts = [self._load_layout(connection, table) for table in batch.tables]
            loop = _impl.loop_module().Loop(connection, batch, layouts)
        except BaseException:
            close_quietly(connection)
            raise
        self._connection, self._batch, self._layouts, self._loop = connection, batch, layouts, loop
        self._abort_owned = False

    def _load_layout(self, connection: Any, table: TableSpec) -> TableLayout:
        try:
            return load_layout(connection, table)
        except MySQLdb.Error as exc:
            if mysqldb_errno(exc) in (1146, 1049):  # no such table / database
                raise explain_unusable(connection, [table]) from None
            raise from_mysqldb(exc, f"reading the columns of {table.qualified_name}") from None

    def _drop_connection(self) -> None:
        # a connection handed in is the caller's to close; ours we close
        if self._connection is not None and self._connector.can_reconnect:
            close_quietly(self._connection)
        self._connection = self._batch = self._loop = None
        self._abort_owned = False

    def _ensure_open(self) -> bool:
        """Connect if not connected; at the first connect wait for the server if so configured.

        False when stop() was called while waiting.
        """
        if self._loop is not None:
            return True
        return self._connect_retrying(time.monotonic() + self._wait_for_server)

    def _reopen_after_loss(self, lost: ServerGoneError) -> bool:
        """Reconnect until it works; False if stopped meanwhile."""
        if not self._connector.can_reconnect:
            raise ServerGoneError(
                f"{lost}; a MySQLdb connection handed in cannot be reopened (pass a DSN or a "
                "function returning a connection to have the worker reconnect)",
                lost.errno,
            ) from lost
        if not self._reconnect:
            raise ServerGoneError(
                f"{lost}; not reconnecting (reconnect=False)", lost.errno
            ) from lost
        self._hooks.emit("reconnect", lost)
        reconnected = self._connect_retrying(deadline=None)
        if reconnected:
            self._logger.warning("reconnected to %s", self._connector.description)
        return reconnected

    def _connect_retrying(self, deadline: float | None) -> bool:
        """Open the connection, retrying with capped exponential backoff and jitter until
        ``deadline`` (None: forever), then raising the last error. False if stopped meanwhile."""
        backoff = Backoff()
        while True:
            try:
                self._open()
                return True
            except ServerGoneError as exc:
                delay = backoff.next_delay()
                past_deadline = deadline is not None and time.monotonic() + delay > deadline
                if past_deadline or not self._connector.can_reconnect:
                    raise
                self._logger.warning(
                    "%s; retrying in %.2f s (attempt %d)", exc, delay, backoff.attempts
                )
                if self._stop.wait(delay):
                    return False

    def _connection_lost(self, exc: ServerGoneError) -> None:
        """Log what the loss means for the rows involved, then forget the connection."""
        loop = self._loop
        if loop is not None and loop.owns_row and not self._abort_owned:
            self._logger.warning(
                "connection lost before the server confirmed the end of the last job: the "
                "server returns that row to the queue and it will run again (at-least-once): %s",
                exc,
            )
        elif loop is not None and loop.owns_row:
            self._logger.warning("connection lost; the row being returned goes back: %s", exc)
        else:
            self._logger.warning("connection lost: %s", exc)
        self._drop_connection()

    # --- one round trip and one job ---------------------------------------------------------------

    def step(self) -> str:
        """One wait and, if it brought a row, its execution: EXECUTED, IDLE or STOPPED."""
        while True:
            if self._stop.is_set() or not self._ensure_open():
                return STOPPED
            try:
                got = self._next()
            except ServerGoneError as exc:
                self._connection_lost(exc)
                if not self._reopen_after_loss(exc):
                    return STOPPED
                continue
            if got is None:
                self._hooks.emit("idle")
                return IDLE
            if self._stop.is_set():
                # stop() came while we waited: do not start the job, give the row back
                self._abort_owned = True
                return STOPPED
            self._execute(*got)
            return EXECUTED

    def _next(self) -> tuple[int, Row] | None:
        loop = self._loop
        try:
            got: tuple[int, Row] | None = loop.next(self._abort_owned)
        except WaitReturnedNull:
            self._abort_owned = False
            raise explain_unusable(self._connection, self._specs) from None
        except LayoutChanged as changed:
            self._abort_owned = False
            return self._reread_owned_row(changed)
        except ServerGoneError:
            raise  # the connection is dead: the server returns whatever it owned
        except BaseException:
            # a server error, or a signal handler raising just after the round trip: a row the
            # connection may have been handed must go back, not be consumed by the next wait
            self._abort_owned = bool(loop.owns_row)
            raise
        self._abort_owned = False
        return got

    def _reread_owned_row(self, changed: LayoutChanged) -> tuple[int, Row]:
        """The table's columns changed under us (ALTER TABLE): learn them again, read the row."""
        assert self._batch is not None
        table = self._batch.tables[changed.table_index]
        self._logger.warning("the columns of %s changed; reading them again", table.qualified_name)
        connection = self._connection
        self._layouts[changed.table_index] = layout = self._load_layout(connection, table)
        owner_mode, owns_row = self._loop.owner_mode, self._loop.owns_row
        self._loop = _impl.loop_module().Loop(connection, self._batch, self._layouts)
        self._loop.owner_mode, self._loop.owns_row = owner_mode, owns_row
        connection.query(f"SELECT * FROM {table.quoted_name} LIMIT 1".encode())
        rows = connection.store_result().fetch_row()
        if not rows:
            raise ServerError(f"the owned row of {table.qualified_name} could not be read again")
        return changed.spec_index, layout.row_class(rows[0])

    def _execute(self, spec_index: int, row: Row) -> None:
        job = self._job
        spec = self._specs[spec_index]
        job._begin(row, spec.text)
        started = time.perf_counter()
        try:
            self._hooks.emit("before_execute", row, propagate=True)
            job.execute(row)
        except Exception as exc:
            duration = time.perf_counter() - started
            self._abort_owned = True
            self._logger.error(
                "%s: job failed after %.1f ms; the row goes back to the queue: %r",
                spec.text,
                duration * 1000,
                row,
                exc_info=True,
            )
            self._hooks.emit("error", row, exc, duration)
            outcome = "failed"
        except BaseException:
            # KeyboardInterrupt, SystemExit (a second signal): give the row back at once
            self._abort_owned = True
            job._end()
            self.settle()
            raise
        else:
            duration = time.perf_counter() - started
            if job._abort_requested:
                self._abort_owned = True
                self._hooks.emit("abort", row, duration)
                outcome = "aborted"
            else:
                self._hooks.emit("success", row, duration)
                outcome = "done"
        job._end()
        self.jobs_executed += 1
        self._hooks.emit("after_execute", row, duration)
        self._logger.debug("%s: job %s in %.2f ms", spec.text, outcome, duration * 1000)

    def settle(self) -> None:
        """End the ownership now: the owned row is consumed (or returned, if it must go back).

        One extra round trip, so work() does it only when it stops, and run() after its job.
        """
        loop = self._loop
        if loop is None or not loop.owner_mode:
            return
        statement = b"SELECT queue_abort()" if self._abort_owned else b"SELECT queue_end()"
        try:
            self._connection.query(statement)
            self._connection.store_result()
        except MySQLdb.Error as exc:
            self._logger.warning("%s failed: %s", statement.decode(), exc)
            self._connection_lost(ServerGoneError(str(exc)))
            return
        loop.owner_mode = loop.owns_row = False
        self._abort_owned = False

    # --- run, work, stop ------------------------------------------------------------------------

    def run(self) -> bool:
        try:
            return self.step() == EXECUTED
        finally:
            self.settle()

    def work(
        self,
        max_jobs: int | None,
        idle_timeout: float | None,
        stop_when_idle: bool,
        handle_signals: bool | None,
    ) -> int:
        if handle_signals is None:
            handle_signals = threading.current_thread() is threading.main_thread()
        executed = 0
        with self._signals_handled(handle_signals):
            self._hooks.emit("start")
            try:
                idle_since = time.monotonic()
                while max_jobs is None or executed < max_jobs:
                    outcome = self.step()
                    if outcome == STOPPED:
                        break
                    if outcome == EXECUTED:
                        executed += 1
                        idle_since = time.monotonic()
                    elif stop_when_idle or (
                        idle_timeout is not None and time.monotonic() - idle_since >= idle_timeout
                    ):
                        break
            finally:
                self.settle()
                self._stop.clear()
                self._hooks.emit("stop")
        return executed

    def stop(self) -> None:
        """Ask work() to stop after the current job (thread-safe; also from a signal handler)."""
        self._stop.set()

    def close(self) -> None:
        try:
            self.settle()
        finally:
            self._drop_connection()

    @contextmanager
    def _signals_handled(self, enabled: bool) -> Iterator[None]:
        """SIGINT/SIGTERM: the first stops after the current job, the second aborts it now."""
        if not enabled:
            yield
            return
        received = 0

        def handler(signum: int, frame: Any) -> None:
            nonlocal received
            received += 1
            name = signal.Signals(signum).name
            if received == 1:
                self._logger.info("%s: stopping after the current job", name)
                self.stop()
                return
            self._logger.warning("second %s: returning the current job to the queue", name)
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            raise SystemExit(128 + signum)

        previous = {
            signum: signal.signal(signum, handler) for signum in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            yield
        finally:
            for signum, old in previous.items():
                signal.signal(signum, old)
