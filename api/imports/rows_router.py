"""A failed import's rows: download them to fix, or correct cells and run it again."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from api.apps.deps import AdminAccessDep, AppAccessDep
from api.deps import RedisDep, SessionDep, SettingsDep
from api.imports import correcting
from api.imports.presenter import import_out
from api.imports.schemas import (
    CorrectionsIn,
    FailedRowOut,
    FailedRowPageOut,
    ImportOut,
    RowErrorOut,
)
from api.openapi import problem_responses

router = APIRouter(prefix="/apps/{app}/imports", tags=["imports"])


@router.get(
    "/{import_id}/failed-rows.csv",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/csv": {}}},
        **problem_responses(
            401,
            404,
            409,
            410,
            s409="the file was not read as rows (rows_not_read)",
            s410="the file was deleted past the retention time (file_purged)",
        ),
    },
)
async def download_failed_rows(
    import_id: uuid.UUID, access: AppAccessDep, session: SessionDep
) -> StreamingResponse:
    """The file's header and its failed rows' original cells, with a first column ``error``
    (each row's errors): fix them and upload the file again (``error`` is ignored on upload)."""
    download = await correcting.failed_rows(session, access, import_id)
    return StreamingResponse(
        download.body(),
        media_type=download.media_type,
        headers={"Content-Disposition": f'attachment; filename="{download.filename}"'},
    )


@router.get(
    "/{import_id}/failed-rows",
    response_model=FailedRowPageOut,
    responses=problem_responses(
        401,
        404,
        409,
        410,
        422,
        s409="the file was not read as rows (rows_not_read)",
        s410="the file was deleted past the retention time (file_purged)",
        s422="a limit out of range or a cursor this list did not give",
    ),
)
async def list_failed_rows(
    import_id: uuid.UUID,
    access: AppAccessDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> FailedRowPageOut:
    """The failed rows' original cells and kept errors, in line order, with the file's header
    and the column each header cell fills: what a form needs to correct cells in place."""
    page, next_cursor = await correcting.failed_rows_page(
        session, access, import_id, limit=limit, cursor=cursor
    )
    return FailedRowPageOut(
        header=page.header,
        columns=page.columns,
        items=[
            FailedRowOut(
                line=row.line,
                cells=row.cells,
                errors=[
                    RowErrorOut(
                        line=e.line, column=e.column, value=e.value, code=e.code, message=e.message
                    )
                    for e in row.errors
                ],
            )
            for row in page.items
        ],
        next_cursor=next_cursor,
    )


@router.post(
    "/{import_id}/corrections",
    response_model=ImportOut,
    responses=problem_responses(
        401,
        403,
        404,
        409,
        410,
        422,
        s403="viewers cannot correct imports (admin_required)",
        s409="the import is not failed (import_not_failed, rows_not_read)",
        s410="the file was deleted past the retention time (file_purged)",
        s422="a line or a column the file does not have",
    ),
)
async def correct_cells(
    import_id: uuid.UUID,
    corrections: CorrectionsIn,
    access: AdminAccessDep,
    session: SessionDep,
    settings: SettingsDep,
    redis: RedisDep,
) -> ImportOut:
    """Replace cells of a failed import's file (a corrected copy is stored) and queue it again."""
    view = await correcting.correct(
        session, access, import_id, corrections.root, settings=settings, redis=redis
    )
    return import_out(view)
