"""Counting answered requests, as plain ASGI middleware.

Starlette's ``@app.middleware("http")`` runs every request through an extra task and stream
wrapper (about a third of a status poll's CPU was spent there); this only watches the status
line go by.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.metrics.registry import count_request


class RequestCounter:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                count_request(method, message["status"])
            await send(message)

        await self.app(scope, receive, counting_send)
