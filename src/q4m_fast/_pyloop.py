"""The job loop in pure Python, on MySQLdb's own calls.

Same statements, same results and same errors as the C loop (``_loop.pyx``); it is the fallback
where the extension is not built, and the honest baseline in benchmarks. Rows are converted by
MySQLdb, so by construction they are what MySQLdb returns.
"""

from __future__ import annotations

from typing import Any, Sequence

import MySQLdb

from .batch import LayoutChanged, WaitBatch, WaitReturnedNull, owned_row_missing
from .columns import TableLayout
from .errors import from_mysqldb
from .rows import Row

__all__ = ["Loop"]


class Loop:
    """One round trip per call of :meth:`next`; owns nothing but the state of the connection."""

    def __init__(self, connection: Any, batch: WaitBatch, layouts: Sequence[TableLayout]) -> None:
        self._connection = connection
        self._batch = batch
        self._layouts = tuple(layouts)
        self._context = "waiting on " + ", ".join(spec.text for spec in batch.specs)
        self.owner_mode = False  # the server has us in owner mode (after a non-NULL queue_wait)
        self.owns_row = False  # ... and with a row (queue_wait returned k > 0)

    def next(self, abort: bool) -> tuple[int, Row] | None:
        """Wait for the next row: ``(spec index, row)``, or None when the wait timed out.

        ``abort`` returns the currently owned row to the queue first; otherwise queue_wait
        consumes it.
        """
        connection = self._connection
        batch = self._batch
        context = self._context
        try:
            connection.query(batch.abort_query if abort else batch.wait_query)
            if abort:
                connection.store_result()
                self.owner_mode = self.owns_row = False
                connection.next_result()
            value = connection.store_result().fetch_row()[0][0]
        except MySQLdb.Error as exc:
            raise from_mysqldb(exc, context) from None
        if value is None:
            self.owner_mode = self.owns_row = False
            self._drain()
            raise WaitReturnedNull()
        self.owner_mode = True
        self.owns_row = value > 0
        winner = batch.spec_table[value - 1] if value > 0 else -1
        row = None
        try:
            for index in range(len(batch.tables)):
                connection.next_result()
                rows = connection.store_result().fetch_row()
                if index == winner and rows:
                    row = rows[0]
        except MySQLdb.Error as exc:
            self._drain()
            raise from_mysqldb(exc, context) from None
        if winner < 0:
            return None
        layout = self._layouts[winner]
        if row is None:
            raise owned_row_missing(batch.tables[winner])
        if len(row) != len(layout.names):
            raise LayoutChanged(value - 1, winner)
        return value - 1, layout.row_class(row)

    def _drain(self) -> None:
        """Read and drop every remaining result so the connection is usable again."""
        connection = self._connection
        for _ in range(len(self._batch.tables) + 2):  # bounded: at most one result per statement
            try:
                if connection.next_result() != 0:
                    return
                connection.store_result()
            except MySQLdb.Error:
                pass  # the server skips the rest of a batch after an error; next_result says so
