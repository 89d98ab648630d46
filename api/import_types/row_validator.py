"""Validating rows against an import type's row model, fast enough for a million rows.

The row model (a pydantic ``BaseModel``) declares each column's rule. The worker validates
through the validator of a ``TypeAdapter`` of the tuple of the model's field types: the same
validators, error types and order as the model, without building a dict and an instance for
every row, which costs about twice as much (docs/performance.md). The result is a tuple of
values in column order.

The errors of rows past the ones kept in full are only counted (``error_kinds``); for a type
whose cells are independent, cell by cell, with each column's verdicts remembered.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, FailFast, TypeAdapter, ValidationError

from api.import_types.cell_verdicts import CellVerdicts
from api.import_types.dates import DateOrder
from api.import_types.row_error import ErrorKind, RowError

Values = tuple[Any, ...]


Check = Callable[[Sequence[str]], Values]
"""A row's cells in, its values out; ``ValidationError`` for a bad cell."""


def _field_types(model: type[BaseModel]) -> list[Any]:
    """Each field's type with its validators, in field order."""
    return [
        Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
        for info in model.model_fields.values()
    ]


def _validator(of: Any, context: dict[str, Any]) -> Callable[[Any], Any]:
    # pydantic-core's validator itself, without the TypeAdapter's Python wrapper around it: the
    # row validators run for every row.
    return functools.partial(TypeAdapter(of).validator.validate_python, context=context)


def _tuple_validator(model: type[BaseModel], context: dict[str, Any], *, fail_fast: bool) -> Check:
    row: Any = tuple[tuple(_field_types(model))]  # type: ignore[misc]
    if fail_fast:
        row = Annotated[row, FailFast()]
    return _validator(row, context)


class RowValidator:
    """Validates a row given as its cells in the model's field order ("" for a missing cell)."""

    def __init__(
        self,
        model: type[BaseModel],
        today: date,
        date_order: DateOrder = DateOrder.MDY,
        *,
        cells_independent: bool = False,
    ) -> None:
        self.names = tuple(model.model_fields)
        # Dates may lie up to today + 1 day (time zones); "today" is fixed once per import.
        context = {"latest": today + timedelta(days=1), "order": date_order}
        self._validate = _tuple_validator(model, context, fail_fast=False)
        # Stops at a row's first bad cell: enough to know the row is bad. Most rows are good,
        # and only a bad one is validated again for its errors.
        self.check = _tuple_validator(model, context, fail_fast=True)
        # The errors of a row, only as they are counted (in the order ``__call__`` gives them):
        # cell by cell, from remembered verdicts, when the cells are independent.
        self.error_kinds: Callable[[Sequence[str]], list[ErrorKind]] = (
            CellVerdicts(self.names, [_validator(t, context) for t in _field_types(model)])
            if cells_independent
            else self._error_kinds_in_full
        )

    def __call__(
        self, line: int, cells: Sequence[str]
    ) -> tuple[Values, None] | tuple[None, list[RowError]]:
        try:
            return self._validate(cells), None
        except ValidationError as exc:
            return None, [self._error(line, err) for err in exc.errors(include_url=False)]

    def _error_kinds_in_full(self, cells: Sequence[str]) -> list[ErrorKind]:
        errors = self(0, cells)[1] or []
        return [((e.code, e.column), e.message) for e in errors]

    def _error(self, line: int, err: Any) -> RowError:
        loc = err["loc"]
        raw = err["input"]
        return RowError(
            line=line,
            column=self.names[loc[0]] if loc and isinstance(loc[0], int) else None,
            value=raw.strip() if isinstance(raw, str) else None,
            code=err["type"],
            message=err["msg"],
        )
