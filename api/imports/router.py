from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.requests import ClientDisconnect

from api.apps.deps import AppAccessDep
from api.auth.deps import PrincipalDep
from api.deps import InFlightDep, RedisDep, SessionDep, SettingsDep
from api.errors import BadRequest, PayloadTooLarge
from api.imports import service
from api.imports.encodings import ENCODINGS
from api.imports.errors_csv import CSV_MEDIA_TYPE, spreadsheet_csv
from api.imports.form import CreateImportUpload, FileUpload
from api.imports.presenter import import_out, status_out
from api.imports.schemas import (
    EncodingOut,
    ImportOut,
    ImportPage,
    ImportStatusOut,
    RowErrorOut,
    RowErrorPage,
)
from api.imports.status import ImportStatus
from api.logs import bind
from api.openapi import multipart_body, problem_responses

router = APIRouter(prefix="/apps/{app}/imports", tags=["imports"])
statuses_router = APIRouter(tags=["imports"])

# Form fields beside the file: a little slack over the file limit before refusing on the header.
FORM_OVERHEAD = 1024 * 1024

_UPLOAD_REFUSALS = problem_responses(
    400,
    401,
    403,
    404,
    408,
    409,
    413,
    422,
    429,
    s400="the client closed the connection before the upload ended (upload_incomplete)",
    s403="viewers cannot create or change imports (admin_required)",
    s404="no such app, or no such import in it",
    s408="the body stalled, or arrived too slowly (upload_idle, upload_too_slow)",
    s413="the file or the form's other fields are over a limit",
    s422="a form field is not valid (errors says which), or the body is not a form",
    s429="the app or the token has too many uploads in progress",
)


def _upload(request: Request, settings_limit: int) -> service.Upload:
    declared = request.headers.get("content-length")
    known = declared is not None and declared.isascii() and declared.isdigit()
    if known and int(declared) > settings_limit + FORM_OVERHEAD:  # type: ignore[arg-type]
        # Refused before a byte is read or stored.
        raise PayloadTooLarge(
            f"The file is larger than the limit of {settings_limit:,} bytes.",
            code="file_too_large",
            errors=[
                {
                    "loc": ["body", "file"],
                    "message": "The file is too large.",
                    "type": "file_too_large",
                }
            ],
        )
    return service.Upload(_body(request), request.headers.get("content-type"))


async def _body(request: Request) -> AsyncIterator[bytes]:
    try:
        async for chunk in request.stream():
            yield chunk
    except ClientDisconnect:
        # Nobody reads the answer; raised so that the upload is abandoned like any refused one.
        raise BadRequest(
            "The client closed the connection before the upload ended.", code="upload_incomplete"
        ) from None


@router.post(
    "",
    status_code=201,
    response_model=ImportOut,
    openapi_extra=multipart_body(CreateImportUpload),
    responses={
        200: {
            "model": ImportOut,
            "description": "an idempotent replay of an earlier request (Idempotent-Replayed)",
        },
        **_UPLOAD_REFUSALS,
        **problem_responses(
            409,
            s409="the name is taken (name_taken), or a request with this Idempotency-Key is "
            "still being stored (idempotency_in_progress)",
        ),
    },
)
async def create_import(
    request: Request,
    access: AppAccessDep,
    session: SessionDep,
    settings: SettingsDep,
    redis: RedisDep,
    in_flight: InFlightDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            description="a repeat answers the import made first",
            # Checked by the service (invalid_idempotency_key).
            json_schema_extra={"minLength": 1, "maxLength": 255},
        ),
    ] = None,
) -> Any:
    """Create an import; without a file it is a draft. Answers once the import and its file
    are stored, before any row is checked."""
    created = await service.create_import(
        session,
        access,
        _upload(request, settings.max_upload_bytes),
        idempotency_key=idempotency_key,
        settings=settings,
        redis=redis,
        in_flight=in_flight,
    )
    bind(import_id=created.view.row.id)  # the access line names the import made
    body = import_out(created.view).model_dump(mode="json")
    if created.replayed:
        return JSONResponse(body, status_code=200, headers={"Idempotent-Replayed": "true"})
    return JSONResponse(body, status_code=201)


@router.get("", response_model=ImportPage, responses=problem_responses(401, 404))
async def list_imports(
    access: AppAccessDep,
    session: SessionDep,
    status: ImportStatus | None = None,
    type: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> ImportPage:
    """The app's imports, newest first."""
    page = await service.list_imports(
        session, access, status=status, type_key=type, limit=limit, cursor=cursor
    )
    return ImportPage(items=[import_out(v) for v in page.items], next_cursor=page.next_cursor)


@router.get("/{import_id}", response_model=ImportOut, responses=problem_responses(401, 404))
async def get_import(import_id: uuid.UUID, access: AppAccessDep, session: SessionDep) -> ImportOut:
    return import_out(await service.get_import(session, access, import_id))


@router.put(
    "/{import_id}/file",
    response_model=ImportOut,
    openapi_extra=multipart_body(FileUpload),
    responses={
        **_UPLOAD_REFUSALS,
        **problem_responses(409, s409="not a draft nor a failed import (import_not_editable)"),
    },
)
async def attach_file(
    import_id: uuid.UUID,
    request: Request,
    access: AppAccessDep,
    session: SessionDep,
    settings: SettingsDep,
    redis: RedisDep,
    in_flight: InFlightDep,
) -> ImportOut:
    """Attach the file of a draft, or a corrected file to a failed import; it is queued again."""
    view = await service.attach_file(
        session,
        access,
        import_id,
        _upload(request, settings.max_upload_bytes),
        settings=settings,
        redis=redis,
        in_flight=in_flight,
    )
    return import_out(view)


@router.post(
    "/{import_id}/cancel",
    response_model=ImportOut,
    responses=problem_responses(
        401,
        403,
        404,
        409,
        s403="viewers cannot change imports (admin_required)",
        s409="the import is past cancelling",
    ),
)
async def cancel_import(
    import_id: uuid.UUID, access: AppAccessDep, session: SessionDep
) -> ImportOut:
    """Cancel a draft, queued or validating import; nothing of it is applied."""
    return import_out(await service.cancel_import(session, access, import_id))


@router.get(
    "/{import_id}/errors", response_model=RowErrorPage, responses=problem_responses(401, 404)
)
async def list_errors(
    import_id: uuid.UUID,
    access: AppAccessDep,
    session: SessionDep,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> RowErrorPage:
    """The kept row errors, in line order."""
    errors = await service.error_page(session, access, import_id, limit=limit, cursor=cursor)
    return RowErrorPage(
        items=[
            RowErrorOut(line=r.line, column=r.column, value=r.value, code=r.code, message=r.message)
            for r in errors.page.items
        ],
        next_cursor=errors.page.next_cursor,
        error_count=errors.error_count,
        error_rows=errors.error_rows,
        kept_limit=settings.max_kept_errors,
    )


@router.get(
    "/{import_id}/errors.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}, **problem_responses(401, 404)},
)
async def download_errors(
    import_id: uuid.UUID, access: AppAccessDep, session: SessionDep, settings: SettingsDep
) -> Response:
    """The kept row errors as CSV (UTF-8 with a byte-order mark); cells a spreadsheet would run
    as formulas are escaped."""
    filename, text = await service.errors_csv(
        session, access, import_id, keep=settings.max_kept_errors
    )
    return Response(
        spreadsheet_csv(text),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@statuses_router.get(
    "/import-statuses", response_model=list[ImportStatusOut], responses=problem_responses(401)
)
async def list_statuses(_: PrincipalDep) -> list[ImportStatusOut]:
    """Every status an import can have, in lifecycle order, with the groups it belongs to."""
    return [status_out(status) for status in ImportStatus]


@statuses_router.get(
    "/encodings", response_model=list[EncodingOut], responses=problem_responses(401)
)
async def list_encodings(_: PrincipalDep) -> list[EncodingOut]:
    """The encodings an upload's ``encoding`` field may name (by these names)."""
    return [EncodingOut(name=name, label=label) for name, label in ENCODINGS.items()]
