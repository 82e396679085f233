# Hand-written stub of the compiled job loop (_loop.pyx); the contract is _pyloop.Loop's.
from typing import Any, Sequence

from .batch import WaitBatch
from .columns import TableLayout
from .rows import Row

class Loop:
    owner_mode: bool
    owns_row: bool
    def __init__(
        self, connection: Any, batch: WaitBatch, layouts: Sequence[TableLayout]
    ) -> None: ...
    def next(self, abort: bool) -> tuple[int, Row] | None: ...
