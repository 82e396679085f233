"""Table names and Q4M table specs (``[db.]table[:condition]``).

Names are checked against the plain-identifier alphabet before they go anywhere near SQL, so a
name can be back-quoted without escaping and passed to ``queue_wait`` (which does no quoting of its
own). Conditions are Q4M's business: they pass through unchanged, inside an escaped string literal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import TableNameError

__all__ = ["TableSpec", "parse_spec", "quote_table", "quote_identifier", "check_identifier"]

_IDENTIFIER = re.compile(r"[A-Za-z0-9_$]{1,64}\Z")


def check_identifier(name: str, what: str = "table") -> str:
    """``name`` if it is a plain identifier (letters, digits, ``_``, ``$``; at most 64)."""
    if not isinstance(name, str) or not _IDENTIFIER.match(name) or name.isdigit():
        raise TableNameError(
            f"{what} name {name!r} is not a plain identifier "
            "(1 to 64 of A-Z a-z 0-9 _ $, not only digits)"
        )
    return name


def quote_identifier(name: str, what: str = "column") -> str:
    return f"`{check_identifier(name, what)}`"


@dataclass(frozen=True)
class TableSpec:
    """One argument of ``queue_wait``: the table, and an optional condition after ``:``."""

    text: str  # exactly what is passed to queue_wait
    database: str | None
    table: str
    condition: str | None

    @property
    def qualified_name(self) -> str:
        """``db.table`` or ``table``, as in messages and as queue_wait understands it."""
        return f"{self.database}.{self.table}" if self.database else self.table

    @property
    def quoted_name(self) -> str:
        """The back-quoted name for ``SELECT * FROM ...``."""
        table = quote_identifier(self.table, "table")
        return f"{quote_identifier(self.database, 'database')}.{table}" if self.database else table


def parse_spec(text: str) -> TableSpec:
    """Split like Q4M: at the first ``:`` (the condition), then the name at the first ``.``."""
    if not isinstance(text, str):
        raise TableNameError(f"a table name must be a string, not {type(text).__name__}")
    name, colon, condition = text.partition(":")
    if colon and not condition.strip():
        raise TableNameError(f"table spec {text!r} has an empty condition after ':'")
    database, dot, table = name.partition(".")
    if not dot:
        database, table = "", name
    check_identifier(table, "table")
    if dot:
        check_identifier(database, "database")
    return TableSpec(text, database or None, table, condition if colon else None)


def quote_table(name: str) -> str:
    """Back-quoted ``[db.]table`` (no condition allowed), for INSERT statements."""
    spec = parse_spec(name)
    if spec.condition is not None:
        raise TableNameError(f"{name!r}: a condition (':...') makes no sense here")
    return spec.quoted_name
