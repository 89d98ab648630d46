"""Timing answered requests, as plain ASGI middleware.

Starlette's ``@app.middleware("http")`` runs every request through an extra task and stream
wrapper (about a third of a status poll's CPU was spent there); this only watches the status
line go by, and observes the histogram once the response is sent. An event stream lasts as
long as its client follows: it is timed until its status line, how long it took to open.
"""

from __future__ import annotations

from time import perf_counter

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.metrics.registry import observe_request
from api.route_template import route_template

# A request no route matched: a refusal by a middleware before routing, or a 404 without the SPA.
UNMATCHED = "unmatched"
_CONTENT_TYPE = b"content-type"
_EVENT_STREAM = b"text/event-stream"


def _is_event_stream(message: Message) -> bool:
    return any(
        name.lower() == _CONTENT_TYPE and value.startswith(_EVENT_STREAM)
        for name, value in message.get("headers", ())
    )


class RequestMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        # An exception before the response starts is answered 500 by Starlette, outside this.
        status = 500
        observed = False

        def observe() -> None:
            nonlocal observed
            observed = True
            route = route_template(scope) or UNMATCHED
            observe_request(scope["method"], route, status, perf_counter() - started)

        async def watching_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if _is_event_stream(message):
                    observe()
            await send(message)

        try:
            await self.app(scope, receive, watching_send)
        finally:
            if not observed:
                observe()
