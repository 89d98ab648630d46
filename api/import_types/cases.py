"""The case import types: ``cases.add``, ``cases.modify`` and ``cases.upsert``.

Cells are checked per row by the row models; what compares rows with each other or with stored
cases is the worker's (``worker/pipeline/sql/cases.py``).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, PlainValidator, ValidationInfo

from api.import_types import cells
from api.import_types.base import ImportType
from api.import_types.row_error import ColumnSpec, RowError


def _optional_date(value: str, info: ValidationInfo) -> date | None:
    return cells.date_opened(value, info) if value.strip() else None


def _optional_status(value: str) -> int | None:
    return cells.case_status(value) if value.strip() else None


def _optional_about(value: str) -> str | None:
    return cells.about(value) if value.strip() else None


TagId = Annotated[str, PlainValidator(cells.tag_id)]


class AddCaseRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    tag_id: TagId
    case_status: Annotated[int, PlainValidator(cells.case_status)]
    date_opened: Annotated[date, PlainValidator(cells.date_opened)]
    about: Annotated[str, PlainValidator(cells.about)]


class ModifyCaseRow(BaseModel):
    """A blank cell, or a column the file leaves out, keeps the stored value."""

    model_config = ConfigDict(frozen=True)

    tag_id: TagId
    case_status: Annotated[int | None, PlainValidator(_optional_status)] = None
    date_opened: Annotated[date | None, PlainValidator(_optional_date)] = None
    about: Annotated[str | None, PlainValidator(_optional_about)] = None


# Each field of the row models has its own validator, a function of its cell alone (and, for
# date_opened, of the validator's fixed context).
CELLS_INDEPENDENT = True

TAG_RULE = "1-64 letters, digits and hyphens; unique in the app, ignoring case"
STATUS_RULE = "0 or closed, 1 or active"
DATE_RULE = (
    "mm/dd/yyyy (dd/mm/yyyy in day-first order), yyyy-mm-dd, dd.mm.yyyy or 7-Mar-2024;"
    " from 01/01/1900 to tomorrow"
)
ABOUT_RULE = "1-500 printable characters; unique in the app, ignoring case and spacing"

TAG_ALIASES = ("case_id", "tagid", "caseid", "tag", "case")
STATUS_ALIASES = ("status",)
DATE_ALIASES = ("opened", "date", "opened_on")
ABOUT_ALIASES = ("description",)


def _columns(*, all_required: bool) -> tuple[ColumnSpec, ...]:
    return (
        ColumnSpec("tag_id", TAG_ALIASES, True, TAG_RULE),
        ColumnSpec("case_status", STATUS_ALIASES, all_required, STATUS_RULE),
        ColumnSpec("date_opened", DATE_ALIASES, all_required, DATE_RULE),
        ColumnSpec("about", ABOUT_ALIASES, all_required, ABOUT_RULE),
    )


class AddCases(ImportType):
    key: ClassVar[str] = "cases.add"
    label: ClassVar[str] = "Add cases"
    description: ClassVar[str] = "Creates new cases. Every column is required."
    columns: ClassVar[tuple[ColumnSpec, ...]] = _columns(all_required=True)
    row_model: ClassVar[type[BaseModel]] = AddCaseRow
    date_columns: ClassVar[tuple[str, ...]] = ("date_opened",)
    cells_independent: ClassVar[bool] = CELLS_INDEPENDENT
    sample_rows: ClassVar[tuple[tuple[str, ...], ...]] = (
        ("CASE-0001", "1", "03/07/2024", "Water supply complaint on Elm Street"),
        ("CASE-0002", "0", "11/15/2023", "Street light out near the library"),
    )


class ModifyCases(ImportType):
    key: ClassVar[str] = "cases.modify"
    label: ClassVar[str] = "Modify cases"
    description: ClassVar[str] = (
        "Updates existing cases found by tag_id. A blank cell keeps the stored value."
    )
    columns: ClassVar[tuple[ColumnSpec, ...]] = _columns(all_required=False)
    row_model: ClassVar[type[BaseModel]] = ModifyCaseRow
    date_columns: ClassVar[tuple[str, ...]] = ("date_opened",)
    cells_independent: ClassVar[bool] = CELLS_INDEPENDENT
    # The sample changes the two cases the add sample creates.
    sample_rows: ClassVar[tuple[tuple[str, ...], ...]] = (
        ("CASE-0001", "0", "", "Water supply complaint on Elm Street, resolved"),
        ("CASE-0002", "active", "11/16/2023", ""),
    )

    def header_errors(self, present: Collection[str], line: int) -> list[RowError]:
        return _needs_a_field(present, line, "A modify file")


def _needs_a_field(present: Collection[str], line: int, what: str) -> list[RowError]:
    if set(present) - {"tag_id"}:
        return []
    return [
        RowError(
            line=line,
            column=None,
            value=None,
            code="missing_column",
            message=f"{what} needs tag_id and at least one of case_status, date_opened or about.",
        )
    ]


class UpsertCases(ImportType):
    """New tags are created (every column required); stored ones change as in a modify."""

    key: ClassVar[str] = "cases.upsert"
    label: ClassVar[str] = "Add or modify cases"
    description: ClassVar[str] = (
        "Creates the cases whose tag_id is new and updates the others, in one pass. A new case "
        "needs every column; for an existing one a blank cell keeps the stored value."
    )
    columns: ClassVar[tuple[ColumnSpec, ...]] = _columns(all_required=False)
    row_model: ClassVar[type[BaseModel]] = ModifyCaseRow
    date_columns: ClassVar[tuple[str, ...]] = ("date_opened",)
    cells_independent: ClassVar[bool] = CELLS_INDEPENDENT
    # Both rows are new on an empty app, so each gives every column.
    sample_rows: ClassVar[tuple[tuple[str, ...], ...]] = (
        ("CASE-0001", "1", "03/07/2024", "Water supply complaint on Elm Street"),
        ("CASE-0003", "1", "01/12/2024", "Pothole reported on Main Street"),
    )

    def header_errors(self, present: Collection[str], line: int) -> list[RowError]:
        return _needs_a_field(present, line, "An add-or-modify file")
