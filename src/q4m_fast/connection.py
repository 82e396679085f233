"""Where a worker's connections come from: a DSN, a MySQLdb connection, or a factory.

Only a DSN or a factory can be reconnected; a connection handed in is used as it is and, once
lost, stays lost (we do not know how it was made).
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any, Callable, Union

import MySQLdb
from MySQLdb.connections import Connection

from .dsn import parse_dsn, redact_dsn
from .errors import ServerGoneError, from_mysqldb

__all__ = ["Connector", "ConnectionTarget", "connect", "close_quietly"]

ConnectionTarget = Union[str, Connection, Callable[[], Connection]]


def connect(dsn: str) -> Connection:
    """A new MySQLdb connection for ``dsn``: utf8mb4, autocommit on.

    Autocommit, because queue tables are not transactional anyway, and a job that writes InnoDB
    rows on the worker's connection expects them written, not held in a transaction forever.
    """
    kwargs = parse_dsn(dsn)
    try:
        return MySQLdb.connect(autocommit=True, binary_prefix=True, **kwargs)
    except MySQLdb.Error as exc:
        raise from_mysqldb(exc, f"cannot connect to {redact_dsn(dsn)}") from None


def close_quietly(connection: Any) -> None:
    with suppress(Exception):  # already closed or broken: either way it is gone
        connection.close()


class Connector:
    def __init__(self, target: ConnectionTarget) -> None:
        self._given: Connection | None = None
        self._used_given = False
        self._factory: Callable[[], Connection]
        self.can_reconnect = not isinstance(target, Connection)
        if isinstance(target, str):
            parse_dsn(target)  # a malformed DSN fails here, at construction, not at first use
            self.description = redact_dsn(target)
            self._factory = lambda: connect(target)
        elif isinstance(target, Connection):
            self._given = target
            self.description = "the MySQLdb connection passed in"
            self._factory = self._use_given
        elif callable(target):
            self.description = getattr(target, "__qualname__", repr(target))
            self._factory = target
        else:
            raise TypeError(
                "expected a DSN string, a MySQLdb connection or a function returning one, "
                f"not {type(target).__name__}"
            )

    def connect(self) -> Connection:
        return self._factory()

    def _use_given(self) -> Connection:
        connection = self._given
        if self._used_given or connection is None or not connection.open:
            raise ServerGoneError(
                "the MySQLdb connection passed in was lost or closed, and cannot be reopened: "
                "pass a DSN or a function returning a connection to reconnect",
                2006,
            )
        self._used_given = True
        return connection
