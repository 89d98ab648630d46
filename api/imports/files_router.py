from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import StreamingResponse

from api.apps.deps import AppAccessDep
from api.deps import SessionDep
from api.imports import kept_files
from api.imports.downloads import content_disposition
from api.imports.file_history import KeptFile
from api.imports.file_store import stored_chunks
from api.imports.schemas import KeptFileOut, KeptFilePage
from api.imports.status import FINISHED, ImportStatus
from api.openapi import problem_responses

router = APIRouter(prefix="/apps/{app}/imports", tags=["imports"])

_DOWNLOAD: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        "description": "the file as it was uploaded",
    },
    **problem_responses(
        401,
        403,
        404,
        410,
        s403="the caller is a viewer (admin_required)",
        s404="no such import, or no such file of it (file_not_found)",
        s410="the file was deleted past the retention time (file_purged)",
    ),
}


def _file_out(slug: str, kept: kept_files.KeptFiles, f: KeptFile) -> KeptFileOut:
    row = kept.view.row
    current = f.n == kept.files[-1].n
    status, error_count, error_rows = f.status, f.error_count, f.error_rows
    if current:
        # The current file's outcome is the import's own, once it has one.
        done = ImportStatus(row.status) in FINISHED
        status = row.status
        error_count = (row.error_count or 0) if done else None
        error_rows = (row.error_rows or 0) if done else None
    assert status is not None  # an earlier file keeps how its run ended
    return KeptFileOut(
        n=f.n,
        filename=f.filename,
        size_bytes=f.size_bytes,
        sha256=f.sha256,
        attached_at=f.attached_at,
        purged_at=f.purged_at,
        current=current,
        status=ImportStatus(status),
        error_count=error_count,
        error_rows=error_rows,
        download_url=f"/api/apps/{slug}/imports/{row.id}/files/{f.n}",
    )


@router.get(
    "/{import_id}/files", response_model=KeptFilePage, responses=problem_responses(401, 404)
)
async def list_files(
    import_id: uuid.UUID, access: AppAccessDep, session: SessionDep
) -> KeptFilePage:
    """Every file the import was given, oldest first: the last is the current one, the ones
    before it were replaced by a corrected file and keep how their run ended."""
    kept = await kept_files.files_of(session, access, import_id)
    return KeptFilePage(
        items=[_file_out(access.slug, kept, f) for f in kept.files], next_cursor=None
    )


def _download(request: Request, found: KeptFile) -> StreamingResponse:
    # Read after the request's session has ended, one short session per chunk.
    return StreamingResponse(
        stored_chunks(request.app.state.read_sessionmaker, found.file_id),
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": content_disposition(found.filename),
            "Content-Length": str(found.size_bytes),
        },
    )


@router.get("/{import_id}/file", response_class=StreamingResponse, responses=_DOWNLOAD)
async def download_current_file(
    import_id: uuid.UUID, request: Request, access: AppAccessDep, session: SessionDep
) -> StreamingResponse:
    """The import's current file as it was uploaded (admins)."""
    found = await kept_files.to_download(session, access, import_id, None)
    return _download(request, found)


@router.get("/{import_id}/files/{n}", response_class=StreamingResponse, responses=_DOWNLOAD)
async def download_file(
    import_id: uuid.UUID,
    n: Annotated[int, Path(ge=1, le=2**31 - 1)],
    request: Request,
    access: AppAccessDep,
    session: SessionDep,
) -> StreamingResponse:
    """The import's ``n``-th file (1 is the first it was given) as it was uploaded (admins)."""
    found = await kept_files.to_download(session, access, import_id, n)
    return _download(request, found)
