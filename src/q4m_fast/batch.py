"""The statements of the job loop's one round trip.

Steady state (the previous job succeeded): ``queue_wait`` first consumes the row the connection
owns, then takes the next one, and the owner-mode ``SELECT`` of each table returns it::

    SELECT queue_wait('a', 'b', 5); SELECT * FROM `a` LIMIT 1; SELECT * FROM `b` LIMIT 1

Only the table whose row was taken returns one; the others look empty to an owner. After a failed
job the same batch is prefixed with ``SELECT queue_abort();`` so the row goes back first.
``LIMIT 1`` costs nothing in owner mode and keeps a NULL result (a broken table spec: no owner
mode, so the SELECT sees the whole table) from dragging a big table over the wire.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from .errors import ServerError
from .tables import TableSpec

__all__ = ["WaitBatch", "build_batch", "ABORT_PREFIX"]

ABORT_PREFIX = b"SELECT queue_abort(); "


@dataclass(frozen=True)
class WaitBatch:
    specs: tuple[TableSpec, ...]  # queue_wait's arguments, in priority order
    tables: tuple[TableSpec, ...]  # the distinct tables, one SELECT each
    spec_table: tuple[int, ...]  # for each spec, the index of its table in ``tables``
    wait_query: bytes
    abort_query: bytes
    timeout: int


def build_batch(connection: Any, specs: Sequence[TableSpec], timeout: int) -> WaitBatch:
    """``connection`` escapes the spec strings (it knows the charset and the SQL mode)."""
    tables: list[TableSpec] = []
    spec_table: list[int] = []
    index_of: dict[str, int] = {}
    for spec in specs:
        index = index_of.setdefault(spec.quoted_name, len(tables))
        if index == len(tables):
            tables.append(spec)
        spec_table.append(index)
    literals = [connection.string_literal(spec.text.encode(connection.encoding)) for spec in specs]
    wait = b"SELECT queue_wait(" + b", ".join(literals) + b", %d)" % timeout
    selects = [f"SELECT * FROM {table.quoted_name} LIMIT 1".encode() for table in tables]
    wait_query = b"; ".join([wait, *selects])
    return WaitBatch(
        specs=tuple(specs),
        tables=tuple(tables),
        spec_table=tuple(spec_table),
        wait_query=wait_query,
        abort_query=ABORT_PREFIX + wait_query,
        timeout=timeout,
    )


class WaitReturnedNull(Exception):
    """queue_wait returned NULL: one of its table specs is unusable. The worker finds out which."""


class LayoutChanged(Exception):
    """The owned row has another number of columns than the table had (ALTER TABLE meanwhile).

    The connection still owns the row: the one of spec ``spec_index``, in table ``table_index``.
    """

    def __init__(self, spec_index: int, table_index: int) -> None:
        super().__init__(spec_index, table_index)
        self.spec_index = spec_index
        self.table_index = table_index


def owned_row_missing(table: TableSpec) -> ServerError:
    """queue_wait chose ``table`` but its owner-mode SELECT returned nothing (a concurrent
    TRUNCATE or DROP can do that); the connection is left owning whatever the server thinks."""
    return ServerError(
        f"queue_wait took a row of {table.qualified_name} but "
        f"SELECT * FROM {table.qualified_name} returned none (table truncated or dropped?)"
    )
