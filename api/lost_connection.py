"""A read that lost its database connection mid-request is answered again, once, on a fresh
one: a database restart then costs no failed GET that a retry could have saved.

Plain ASGI middleware (see ``api/metrics/middleware.py``). The problem handler marks a request
whose statement failed on a lost connection (``mark_lost``); for GET and HEAD, which change
nothing and have no body, this holds back that answer and runs the request again. Anything
else is answered as it is: 503 with Retry-After.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_SAFE = frozenset({"GET", "HEAD"})
_LOST = "database_connection_lost"


def mark_lost(scope: Scope) -> None:
    """Say that this request's answer comes from a lost database connection."""
    scope.setdefault("state", {})[_LOST] = True


class RetryLostConnection:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _SAFE:
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def hold_if_lost(message: Message) -> None:
            if held or (
                message["type"] == "http.response.start" and scope.get("state", {}).get(_LOST)
            ):
                held.append(message)
                return
            await send(message)

        await self.app(scope, receive, hold_if_lost)
        if not held:
            return
        scope["state"][_LOST] = False

        async def no_body() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        await self.app(scope, no_body, send)
