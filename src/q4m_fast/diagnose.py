"""Why queue_wait returned NULL (or a table cannot be read): which table, and what is wrong.

Q4M reports every unusable argument the same way, a NULL result with the details in the server's
error log. We ask information_schema instead, so the exception can say "does not exist", "is not a
queue table" or "the condition was refused".
"""

from __future__ import annotations

from typing import Any, Sequence

from .errors import ConditionError, NotAQueueTableError, QueueTableError, UnknownTableError
from .tables import TableSpec

__all__ = ["explain_unusable"]

_ENGINE_OF = (
    "SELECT ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s"
)


def explain_unusable(connection: Any, specs: Sequence[TableSpec]) -> QueueTableError:
    """The error for the first spec that is unusable, checked in argument order."""
    call = "queue_wait(" + ", ".join(repr(spec.text) for spec in specs) + ")"
    cursor = connection.cursor()
    try:
        cursor.execute("SELECT DATABASE()")
        (current_database,) = cursor.fetchone()
        for spec in specs:
            database = spec.database or current_database
            if database is None:
                return UnknownTableError(
                    f"table {spec.table!r}: no database selected, and the name does not say "
                    f"which ({call} returned NULL)",
                    spec.qualified_name,
                )
            name = f"{database}.{spec.table}"
            cursor.execute(_ENGINE_OF, (database, spec.table))
            found = cursor.fetchone()
            if found is None:
                return UnknownTableError(
                    f"table {name} does not exist ({call} returned NULL)", name
                )
            engine = found[0]
            if (engine or "").upper() != "QUEUE":
                return NotAQueueTableError(
                    f"table {name} is not a queue table (ENGINE={engine}, not QUEUE); "
                    f"{call} returned NULL",
                    name,
                )
        for spec in specs:
            if spec.condition is not None:
                name = f"{spec.database or current_database}.{spec.table}"
                return ConditionError(
                    f"the server refused the condition {spec.condition!r} on queue table {name} "
                    f"({call} returned NULL): a syntax error, an unknown column, or a column type "
                    "conditions cannot use (see the server's error log)",
                    name,
                )
        return QueueTableError(
            f"{call} returned NULL although every table is a queue table "
            "(see the server's error log)",
            specs[0].qualified_name,
        )
    finally:
        cursor.close()
