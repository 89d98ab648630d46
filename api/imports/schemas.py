from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field, PositiveInt, RootModel

from api.import_types.dates import DateOrder
from api.imports.file_format import FileFormat
from api.imports.status import ImportStatus


class FileOut(BaseModel):
    filename: str
    size_bytes: int
    sha256: str
    # How the worker read it (null until it has): its format and, for CSV text, the encoding's
    # codec name and the delimiter (null for a workbook).
    format: FileFormat | None
    encoding: str | None
    delimiter: str | None
    # When the file's content was deleted, past the retention time (null while it is kept).
    purged_at: datetime | None


class ProgressOut(BaseModel):
    rows_processed: int
    rows_total: int | None
    percent: float


class ResultOut(BaseModel):
    """Rows read and what became of them: an applied import's ``rows`` = created + updated +
    unchanged + failed; ``blank_rows`` empty rows were skipped besides; ``sha256`` names the
    file counted (null in results older than it)."""

    rows: int
    created: int
    updated: int
    unchanged: int
    failed: int
    # A revert's removals of the cases its import created (0 for any other import).
    deleted: int = 0
    blank_rows: int = 0
    sha256: str | None = None


class WarningOut(BaseModel):
    """Something the user should confirm; it did not stop the import."""

    code: str
    message: str
    count: int


class ErrorSummaryOut(BaseModel):
    summary: str
    # Errors in all, and the rows they are on (a row may have several).
    error_count: int
    error_rows: int


class ImportOut(BaseModel):
    id: uuid.UUID
    app: str
    name: str
    type: str
    status: ImportStatus
    validate_only: bool
    on_error: Literal["fail", "skip"]
    date_order: DateOrder
    # The encoding named in the upload, or null when the worker decides.
    encoding: str | None
    # The workbook's sheet named in the upload, or null for the first visible one.
    sheet: str | None
    # The upload's column mapping (header text -> column, or null for one ignored), or null.
    columns: dict[str, str | None] | None
    file: FileOut | None
    progress: ProgressOut
    result: ResultOut | None
    error: ErrorSummaryOut | None
    warnings: list[WarningOut]
    # Plans and undo: the check-only import this one applies, the import that applied this
    # plan; the import this revert takes back, the revert that took this one back; the check
    # whose file this one checks again, the latest check again of this one's file.
    plan_id: uuid.UUID | None = None
    applied_by: uuid.UUID | None = None
    revert_of: uuid.UUID | None = None
    reverted_by: uuid.UUID | None = None
    checks_again: uuid.UUID | None = None
    checked_again_by: uuid.UUID | None = None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ImportPage(BaseModel):
    items: list[ImportOut]
    next_cursor: str | None


class RowErrorOut(BaseModel):
    line: int | None
    column: str | None
    value: str | None
    code: str
    message: str


class RowErrorPage(BaseModel):
    items: list[RowErrorOut]
    next_cursor: str | None
    error_count: int
    error_rows: int
    # At most this many errors of an import are kept in full; the counts are always exact.
    kept_limit: int


class ErrorGroupOut(BaseModel):
    """The errors of one code in one column: how many, and the first of them."""

    code: str
    column: str | None
    count: int
    first_line: int | None
    message: str


class ErrorGroupsOut(BaseModel):
    """Every error of an import, kept in full or not, grouped by code and column."""

    error_count: int
    error_rows: int
    groups: list[ErrorGroupOut]


class KeptFileOut(BaseModel):
    """A file the import was given; the last is the current one."""

    n: int
    filename: str
    size_bytes: int
    sha256: str
    attached_at: datetime
    purged_at: datetime | None
    current: bool
    # How its run ended; for the current file, the import's status and counts now (the counts
    # null until it is finished).
    status: ImportStatus
    error_count: int | None
    error_rows: int | None
    download_url: str


class KeptFilePage(BaseModel):
    items: list[KeptFileOut]
    next_cursor: str | None


class EncodingOut(BaseModel):
    name: str
    label: str


class ImportStatusOut(BaseModel):
    """A status word with its label and the groups it belongs to (what the SPA shows)."""

    key: ImportStatus
    label: str
    symbol: str
    active: bool
    cancellable: bool
    attachable: bool
    finished: bool


# A line is named by its digits, as errors name it ("7", not "07" or "7.0").
_LINE_KEY = {"pattern": "^[1-9][0-9]*$"}
_LINE = re.compile(_LINE_KEY["pattern"])


def _line_digits(value: object) -> object:
    if isinstance(value, str) and not _LINE.fullmatch(value):
        raise ValueError("a line is a number from 1, written in digits")
    return value


LineNumber = Annotated[PositiveInt, BeforeValidator(_line_digits)]


class CorrectionsIn(RootModel[dict[PositiveInt, dict[str, str]]]):
    """``{"<line>": {"<column>": "<value>"}}``: the line as errors name it; the column as they
    name it (the field) or as the file's header does."""

    root: Annotated[
        dict[LineNumber, Annotated[dict[str, str], Field(min_length=1)]],
        Field(min_length=1, max_length=10_000, json_schema_extra={"propertyNames": _LINE_KEY}),
    ]


class FailedRowOut(BaseModel):
    """A failed row: its line, its original cells (one per header cell, or more) and its kept
    errors (none for a row past the kept ones)."""

    line: int
    cells: list[str]
    errors: list[RowErrorOut]


class FailedRowPageOut(BaseModel):
    """The file's header, the column each header cell fills (null: ignored), and failed rows."""

    header: list[str]
    columns: list[str | None]
    items: list[FailedRowOut]
    next_cursor: str | None
