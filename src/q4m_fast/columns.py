"""What the job loop needs to know about a table's columns, learnt once per table.

The C loop reads raw column bytes and must turn them into exactly what MySQLdb would return. So we
ask MySQLdb itself: the result of ``SELECT * FROM t LIMIT 0`` carries, per column, the converter
MySQLdb chose (``str``, ``bytes``, ``int``, ``Decimal``, date parsers, or the user's own ``conv``)
after its charset and flag rules. The type codes say which converters MySQLdb feeds ``str`` rather
than ``bytes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from MySQLdb.constants import FIELD_TYPE

from .rows import Row, make_row_class
from .tables import TableSpec

__all__ = ["TableLayout", "load_layout"]

# MySQLdb (_mysql_field_to_python) passes these types to a non-builtin converter as str, the rest
# as bytes.
_TEXT_FED_TYPES = frozenset(
    {
        FIELD_TYPE.DECIMAL,
        FIELD_TYPE.NEWDECIMAL,
        FIELD_TYPE.TIMESTAMP,
        FIELD_TYPE.DATETIME,
        FIELD_TYPE.TIME,
        FIELD_TYPE.DATE,
    }
)


@dataclass(frozen=True)
class TableLayout:
    table: str
    names: tuple[str, ...]
    converters: tuple[Any, ...]  # per column, as MySQLdb's result.converter
    text_fed: tuple[bool, ...]  # per column: does a custom converter get str (else bytes)?
    row_class: type[Row]
    encoding: str  # the connection's Python codec for text columns


def load_layout(connection: Any, spec: TableSpec) -> TableLayout:
    """One query: ``SELECT * FROM t LIMIT 0`` through MySQLdb, read and freed at once."""
    connection.query(f"SELECT * FROM {spec.quoted_name} LIMIT 0".encode())
    result = connection.store_result()
    description = result.describe()
    names = tuple(column[0] for column in description)
    return TableLayout(
        table=spec.qualified_name,
        names=names,
        converters=tuple(result.converter),
        text_fed=tuple(column[1] in _TEXT_FED_TYPES for column in description),
        row_class=make_row_class(spec.qualified_name, names),
        encoding=connection.encoding,
    )
