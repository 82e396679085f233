"""Exceptions raised by q4m_fast.

Every message names the table (or the DSN) and the cause, because a worker's log line is often all
an operator has. All classes derive from :class:`Q4MError`; the ones caused by bad input also derive
from :class:`ValueError`.
"""

from __future__ import annotations

__all__ = [
    "Q4MError",
    "DSNError",
    "TableNameError",
    "QueueTableError",
    "UnknownTableError",
    "NotAQueueTableError",
    "ConditionError",
    "ServerGoneError",
    "ServerError",
]


class Q4MError(Exception):
    """Base class of every error raised by q4m_fast."""


class DSNError(Q4MError, ValueError):
    """The connection string is malformed (wrong scheme, bad port, unknown option, ...)."""


class TableNameError(Q4MError, ValueError):
    """A table or column name is not a plain identifier, so it cannot be used safely."""


class QueueTableError(Q4MError):
    """``queue_wait`` could not use one of the tables (it returned NULL). ``table`` names it."""

    def __init__(self, message: str, table: str) -> None:
        super().__init__(message)
        self.table = table


class UnknownTableError(QueueTableError):
    """The table (or its database) does not exist."""


class NotAQueueTableError(QueueTableError):
    """The table exists but is not of ENGINE=QUEUE."""


class ConditionError(QueueTableError):
    """The table is a queue table but the server refused the condition after the ``:``."""


class ServerError(Q4MError):
    """The server refused a statement of the job loop; ``errno`` is the server's error number."""

    def __init__(self, message: str, errno: int = 0) -> None:
        super().__init__(message)
        self.errno = errno


class ServerGoneError(ServerError):
    """The server cannot be reached or the connection to it was lost."""


# Client and server error numbers that mean "this connection is dead", whatever the cause:
# 2002/2003 cannot connect, 2006 gone away, 2013 lost during query, 2055 lost at reading,
# 1053 server shutdown in progress, 1927 connection killed (MariaDB), 4031 idle cut (MySQL 8).
CONNECTION_LOST_ERRNOS = frozenset({2002, 2003, 2006, 2013, 2055, 1053, 1927, 4031})


def server_error(errno: int, message: str, context: str) -> ServerError:
    """The exception for a failed statement: ``ServerGoneError`` when the connection is dead."""
    cls = ServerGoneError if errno in CONNECTION_LOST_ERRNOS else ServerError
    return cls(f"{context}: ({errno}) {message}", errno)


def mysqldb_errno(exc: BaseException) -> int:
    """The error number of a MySQLdb exception (0 if it has none)."""
    return exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0


def from_mysqldb(exc: BaseException, context: str) -> ServerError:
    """:func:`server_error` for a MySQLdb exception."""
    message = exc.args[1] if len(exc.args) > 1 else str(exc)
    return server_error(mysqldb_errno(exc), str(message), context)
