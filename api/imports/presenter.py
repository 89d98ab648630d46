"""The import object of docs/api.md, from an import and what it shows beside it."""

from __future__ import annotations

from api.import_types.dates import DateOrder
from api.imports.file_format import FileFormat
from api.imports.repository import ImportView
from api.imports.schemas import (
    ErrorSummaryOut,
    FileOut,
    ImportOut,
    ImportStatusOut,
    ProgressOut,
    ResultOut,
    WarningOut,
)
from api.imports.status import ACTIVE, ATTACHABLE, CANCELLABLE, FINISHED, ImportStatus


def _percent(view: ImportView) -> float:
    row = view.row
    if row.status == ImportStatus.COMPLETED:
        return 100.0
    if row.rows_total:
        return round(min(100.0, 100.0 * row.rows_processed / row.rows_total), 1)
    # While a file is read its row count is unknown: the bytes read tell how far along it is.
    if view.file is not None and view.file.size_bytes:
        return round(min(100.0, 100.0 * row.bytes_processed / view.file.size_bytes), 1)
    return 0.0


def import_out(view: ImportView) -> ImportOut:
    row = view.row
    return ImportOut(
        id=row.id,
        app=view.app_slug,
        name=row.name,
        type=row.type,
        status=row.status,
        validate_only=row.validate_only,
        on_error=row.on_error,
        date_order=DateOrder(row.date_order),
        encoding=row.encoding,
        sheet=row.sheet,
        columns=row.columns,
        file=(
            FileOut(
                filename=view.file.filename,
                size_bytes=view.file.size_bytes,
                sha256=view.file.sha256,
                format=FileFormat(row.file_format) if row.file_format else None,
                encoding=row.file_encoding,
                delimiter=row.file_delimiter,
                purged_at=view.file.purged_at,
            )
            if view.file is not None
            else None
        ),
        progress=ProgressOut(
            rows_processed=row.rows_processed,
            rows_total=row.rows_total,
            percent=_percent(view),
        ),
        result=ResultOut.model_validate(row.result) if row.result is not None else None,
        error=(
            ErrorSummaryOut(
                summary=row.error_summary,
                error_count=row.error_count or 0,
                error_rows=row.error_rows or 0,
            )
            if row.error_summary is not None
            else None
        ),
        warnings=[WarningOut.model_validate(w) for w in row.warnings or ()],
        plan_id=row.plan_id,
        applied_by=view.applied_by,
        revert_of=row.revert_of,
        reverted_by=view.reverted_by,
        checks_again=row.checks_again,
        checked_again_by=view.checked_again_by,
        created_by=view.created_by,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )


def status_out(status: ImportStatus) -> ImportStatusOut:
    return ImportStatusOut(
        key=status,
        label=status.label,
        symbol=status.symbol,
        active=status in ACTIVE,
        cancellable=status in CANCELLABLE,
        attachable=status in ATTACHABLE,
        finished=status in FINISHED,
    )
