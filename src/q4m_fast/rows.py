"""The row a job receives: a tuple, also readable by column name.

``row[0]``, ``row.command`` and ``row["command"]`` all work. One class is made per table (like a
namedtuple) so attribute access is a plain property lookup. Column names that are not Python
identifiers, are keywords or would hide a tuple method (``count``, ``index``) are reachable only as
``row["name"]``.
"""

from __future__ import annotations

import keyword
from operator import itemgetter
from typing import Any, ClassVar

__all__ = ["Row", "make_row_class"]


class Row(tuple):  # type: ignore[type-arg]
    """Base class of the per-table row classes."""

    __slots__ = ()
    _table: ClassVar[str] = ""
    _fields: ClassVar[tuple[str, ...]] = ()
    _index: ClassVar[dict[str, int]] = {}

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            try:
                key = self._index[key]
            except KeyError:
                raise KeyError(f"{self._table} has no column {key!r}") from None
        return tuple.__getitem__(self, key)

    def _asdict(self) -> dict[str, Any]:
        return dict(zip(self._fields, self))

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={value!r}" for name, value in zip(self._fields, self))
        return f"{self._table}({values})"

    def __reduce__(self) -> Any:
        # pickled as a plain tuple: the class is made at run time and cannot be imported
        return (tuple, (tuple(self),))


def make_row_class(table: str, fields: tuple[str, ...]) -> type[Row]:
    namespace: dict[str, Any] = {
        "__slots__": (),
        "_table": table,
        "_fields": fields,
        "_index": {name: i for i, name in reversed(list(enumerate(fields)))},
    }
    for i, name in enumerate(fields):
        if name.isidentifier() and not keyword.iskeyword(name) and not hasattr(Row, name):
            namespace.setdefault(name, property(itemgetter(i), doc=f"column {name}"))
    return type(f"Row[{table}]", (Row,), namespace)
