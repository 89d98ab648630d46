"""Errors carry their status: one base class, a subclass per status.

Services raise these and know nothing of HTTP frameworks; ``api.problems`` turns them into
problem+json responses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class AppError(Exception):
    status = 500
    code = "internal_error"
    # The unit of work commits before re-raising it: a refused sign-in must stay counted.
    keeps_changes = False

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
        keeps_changes: bool | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.errors = errors
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})
        if keeps_changes is not None:
            self.keeps_changes = keeps_changes


class BadRequest(AppError):
    status = 400
    code = "bad_request"


class Unauthorized(AppError):
    status = 401
    code = "unauthenticated"


class Forbidden(AppError):
    status = 403
    code = "forbidden"


class NotFound(AppError):
    status = 404
    code = "not_found"


class RequestTimeout(AppError):
    status = 408
    code = "request_timeout"


class Conflict(AppError):
    status = 409
    code = "conflict"


class PayloadTooLarge(AppError):
    status = 413
    code = "payload_too_large"


class Gone(AppError):
    status = 410
    code = "gone"


class Unprocessable(AppError):
    status = 422
    code = "invalid_request"


class TooManyRequests(AppError):
    status = 429
    code = "too_many_requests"


class ServiceUnavailable(AppError):
    status = 503
    code = "unavailable"
