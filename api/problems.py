"""The one problem+json shape (RFC 9457) for every refusal and failure of the API.

``install_handlers`` turns the service errors of ``api.errors``, request validation errors and
anything unexpected into problem documents. No stack trace or SQL ever reaches a client.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.db import database_unavailable
from api.errors import AppError
from api.logs import bound
from api.lost_connection import mark_lost
from api.request_context import HEADER as REQUEST_ID_HEADER
from api.security_headers import HEADERS

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
# A database restart takes a few seconds.
RETRY_AFTER_SECONDS = 2


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"/problems/{code}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors is not None:
        body["errors"] = errors
    body.update(extra or {})
    answer_headers = dict(headers or {})
    # The id the request is logged under (api/request_context.py); in the header too, for a
    # 500 answered outside that middleware.
    request_id = bound("request_id")
    if request_id is not None:
        body["request_id"] = request_id
        answer_headers.setdefault(REQUEST_ID_HEADER, request_id)
    return JSONResponse(body, status_code=status, headers=answer_headers, media_type=PROBLEM_JSON)


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {
            "loc": [str(part) for part in err.get("loc", ())],
            "message": str(err.get("msg", "")),
            "type": str(err.get("type", "")),
        }
        for err in exc.errors()
    ]


_STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}


def install_handlers(app: FastAPI) -> None:
    async def on_app_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AppError)
        return problem(
            exc.status,
            exc.code,
            exc.detail,
            errors=exc.errors,
            headers=exc.headers,
            extra=exc.extra,
        )

    async def on_validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return problem(
            422, "invalid_request", "The request is not valid.", errors=_field_errors(exc)
        )

    async def on_http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = _STATUS_CODES.get(exc.status_code, "http_error")
        return problem(exc.status_code, code, str(exc.detail), headers=exc.headers)

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        # Answered outside every middleware (Starlette's ServerErrorMiddleware): the security
        # headers are added here.
        return problem(
            500, "internal_error", "Something went wrong on our side; try again.", headers=HEADERS
        )

    async def on_database_error(request: Request, exc: Exception) -> JSONResponse:
        if not database_unavailable(exc):
            return await on_unexpected(request, exc)
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        mark_lost(request.scope)
        return problem(
            503,
            "service_unavailable",
            "The database is not reachable right now (a restart?); try again shortly.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    app.add_exception_handler(AppError, on_app_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    # Handled here rather than as Exception, which Starlette answers and raises again.
    for failure in (DBAPIError, ConnectionError, asyncpg.PostgresConnectionError):
        app.add_exception_handler(failure, on_database_error)
    app.add_exception_handler(Exception, on_unexpected)
