"""Putting jobs in a queue: ``enqueue(conn, table, row)`` and ``enqueue_many(conn, table, rows)``.

Rows are mappings (column -> value) or sequences (all columns, in table order). Many rows go in
multi-row INSERTs: Q4M flushes every statement to disk before it returns, so one statement per row
would pay one flush per row. Values are escaped by MySQLdb (``connection.literal``), never pasted;
table and column names must be plain identifiers and are back-quoted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Iterator, Union

from MySQLdb.connections import Connection

from .connection import close_quietly, connect
from .tables import quote_identifier, quote_table

__all__ = ["enqueue", "enqueue_many"]

Row = Union[Mapping[str, Any], Sequence[Any]]

DEFAULT_BATCH_SIZE = 1000
# a statement grows until about this size, then a new one starts (under the server's
# max_allowed_packet, 16 MiB by default; one very large row still goes alone)
MAX_STATEMENT_BYTES = 4 * 1024 * 1024


@contextmanager
def _connection_for(target: str | Connection) -> Iterator[Connection]:
    if isinstance(target, str):
        connection = connect(target)
        try:
            yield connection
        finally:
            close_quietly(connection)
    elif isinstance(target, Connection):
        yield target
    else:
        raise TypeError(f"expected a DSN or a MySQLdb connection, not {type(target).__name__}")


def enqueue(connection: str | Connection, table: str, row: Row) -> None:
    """Insert one row into ``table`` (``[db.]table``)."""
    enqueue_many(connection, table, [row])


def enqueue_many(
    connection: str | Connection,
    table: str,
    rows: Iterable[Row],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> int:
    """Insert every row, ``batch_size`` rows per INSERT at most; returns how many were inserted.

    Consecutive mappings with the same keys share a statement; a change of keys starts a new one.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, not {batch_size}")
    target = quote_table(table)
    inserted = 0
    with _connection_for(connection) as conn:
        cursor = conn.cursor()
        try:
            for columns, values in _statements(conn, rows, batch_size):
                head = f"INSERT INTO {target} {columns}VALUES ".encode()
                cursor.execute(head + b",".join(values))
                inserted += cursor.rowcount
        finally:
            cursor.close()
    return inserted


def _statements(
    conn: Connection, rows: Iterable[Row], batch_size: int
) -> Iterator[tuple[str, list[bytes]]]:
    """(column list, escaped value tuples) per INSERT statement."""
    columns: tuple[str, ...] | None = None
    values: list[bytes] = []
    size = 0
    for row in rows:
        if isinstance(row, Mapping):
            keys: tuple[str, ...] | None = tuple(row)
            if not keys:
                raise ValueError("cannot enqueue an empty mapping: it names no column")
            items: Sequence[Any] = tuple(row.values())
        elif isinstance(row, Sequence) and not isinstance(row, (str, bytes, bytearray)):
            keys, items = None, row
        else:
            raise TypeError(f"a row must be a mapping or a sequence, not {type(row).__name__}")
        escaped = b"(" + b",".join(_literal(conn, value) for value in items) + b")"
        if values and (
            keys != columns
            or len(values) >= batch_size
            or size + len(escaped) > MAX_STATEMENT_BYTES
        ):
            yield _column_list(columns), values
            values, size = [], 0
        columns = keys
        values.append(escaped)
        size += len(escaped) + 1
    if values:
        yield _column_list(columns), values


def _column_list(columns: tuple[str, ...] | None) -> str:
    if columns is None:
        return ""
    return "(" + ", ".join(quote_identifier(name) for name in columns) + ") "


def _literal(conn: Connection, value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        # _binary: the bytes are not text in the connection's charset; without it the server may
        # warn about (or, in strict mode, refuse) bytes that are not valid UTF-8
        escaped: bytes = conn.string_literal(bytes(value))
        return b"_binary" + escaped
    literal = conn.literal(value)
    return literal if isinstance(literal, bytes) else literal.encode(conn.encoding)
