"""Each request's id, and its access line in JSON logs, as plain ASGI middleware (see
``api/metrics/middleware.py`` for why not Starlette's ``@app.middleware``).

The id is the client's ``X-Request-ID`` when it is a sane one (a proxy's or a client's own, so
one id follows the request through every service), else a new one. It is answered in the
``X-Request-ID`` header, put in every problem document (``api/problems.py``) and bound to every
line logged while the request is handled, beside the user, app and import ids that the
dependencies bind once they know them (``api/auth/deps.py``, ``api/apps/deps.py``).
"""

from __future__ import annotations

import random
import re
import time

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.config import Settings
from api.logs import bind
from api.route_template import route_template

HEADER = "X-Request-ID"
_HEADER_KEY = HEADER.lower().encode("latin-1")
# Enough for a UUID, a trace id or an AWS "Root=1-..." id; nothing that could forge a log field
# or another header (no spaces, quotes, commas or control characters).
_SANE = re.compile(rb"[A-Za-z0-9._:+=/@-]{1,128}")

access_log = structlog.stdlib.get_logger("api.access")


def request_id_of(scope: Scope) -> str:
    """The client's X-Request-ID if it is sane, else a new id."""
    value: bytes
    for name, value in scope["headers"]:
        if name == _HEADER_KEY and _SANE.fullmatch(value):
            return value.decode("ascii")
    # Unique, not secret: uuid4's os.urandom would cost a system call per request.
    return f"{random.getrandbits(128):032x}"


class RequestContext:
    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        # In JSON logs this line replaces uvicorn's (cli/commands/servers.py), which has no
        # route, duration or ids.
        self.access_lines = settings.access_log and settings.log_format == "json"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        header = (_HEADER_KEY, request_id.encode("ascii"))
        outer = structlog.contextvars.get_contextvars()
        # A task serves one request under uvicorn, but an in-process client reuses its own.
        structlog.contextvars.clear_contextvars()
        bind(request_id=request_id)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                if all(name.lower() != _HEADER_KEY for name, _ in headers):
                    headers.append(header)
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Answered 500 outside this middleware (Starlette's ServerErrorMiddleware). The ids
            # stay bound for that problem document and for the lines logged about the error.
            if self.access_lines:
                self._log(scope, status, started)
            raise
        if self.access_lines:
            self._log(scope, status, started)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(**outer)

    @staticmethod
    def _log(scope: Scope, status: int, started: float) -> None:
        client = scope.get("client")
        access_log.info(
            "request",
            method=scope["method"],
            path=scope["path"],
            route=route_template(scope),
            status=status,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
            client=client[0] if client else None,
        )
