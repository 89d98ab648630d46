"""What an import type is: its key and label, its columns, its row model and sample rows.

The upload, the queue and the job know only this interface and the registry, so a new type
(say ``cases.upsert``) is a module here, registered in ``registry.py``, plus the statements the
worker runs for it (``worker/pipeline/sql/``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date
from typing import ClassVar

from pydantic import BaseModel

from api.import_types.dates import DateOrder
from api.import_types.row_error import ColumnSpec, RowError
from api.import_types.row_validator import RowValidator, Values


class ImportType:
    key: ClassVar[str]
    label: ClassVar[str]
    description: ClassVar[str]
    columns: ClassVar[tuple[ColumnSpec, ...]]
    row_model: ClassVar[type[BaseModel]]
    sample_rows: ClassVar[tuple[tuple[str, ...], ...]]

    def header_errors(self, present: Collection[str], line: int) -> list[RowError]:
        """Rules on the set of columns beyond "required ones are present"."""
        return []

    # Columns holding dates: the file's slash dates in them are tallied to decide its date order.
    date_columns: ClassVar[tuple[str, ...]] = ()

    # True when each cell's verdict depends only on its own text and the import's fixed context
    # (today, the date order): no rule compares cells and no validator keeps state. The errors
    # of rows past the ones kept are then counted cell by cell from remembered verdicts;
    # otherwise each such row is validated in full again.
    cells_independent: ClassVar[bool] = False

    def row_validator(self, today: date, date_order: DateOrder = DateOrder.MDY) -> RowValidator:
        """Validates rows given as cells in ``columns`` order; ``today`` bounds the dates."""
        return RowValidator(
            self.row_model, today, date_order, cells_independent=self.cells_independent
        )

    def validate(
        self,
        line: int,
        cells: Mapping[str, str],
        today: date,
        date_order: DateOrder = DateOrder.MDY,
    ) -> tuple[Values, None] | tuple[None, list[RowError]]:
        """One row from a mapping of column to cell (a missing column is a blank cell)."""
        validator = self.row_validator(today, date_order)
        return validator(line, [cells.get(c.name, "") for c in self.columns])
