"""The answer of ``GET .../events``: an ASGI response that sends an import's states as they
come, a keep-alive comment when there is nothing to say, and ends after a finished state.

Not FastAPI's ``EventSourceResponse``: that one runs a producer task, a keep-alive task and two
memory streams per client, and Starlette's streaming a task group of two more; here a stream
is one extra task (watching for the client to leave) and a subscription, so that hundreds of
open streams fit in the API's memory (docs/performance.md).
"""

from __future__ import annotations

import asyncio
import contextlib

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from api.events.broker import Broker, Subscription
from api.events.snapshot import KEEP_ALIVE, Version

_HEADERS = {
    # Neither a browser nor a proxy may keep or buffer it (nginx reads X-Accel-Buffering).
    "Cache-Control": "no-store",
    "X-Accel-Buffering": "no",
}


class EventStream(Response):
    media_type = "text/event-stream"

    def __init__(
        self,
        broker: Broker,
        subscription: Subscription,
        seen: Version | None,
        *,
        heartbeat_seconds: float,
    ) -> None:
        # As Starlette's StreamingResponse does: no body, so no Content-Length is set.
        self.status_code = 200
        self.background = None
        self.init_headers(_HEADERS)
        self._broker = broker
        self._subscription = subscription
        self._seen = seen
        self._heartbeat = heartbeat_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        subscription = self._subscription
        watcher = asyncio.ensure_future(_until_gone(receive, subscription))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            await self._follow(send)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            self._broker.unsubscribe(subscription)

    async def _follow(self, send: Send) -> None:
        subscription = self._subscription
        while not subscription.closed:
            # Cleared before looking, so a change that lands after the look wakes the wait.
            subscription.wake.clear()
            latest = subscription.latest
            if latest is not None and latest.newer_than(self._seen):
                frame = latest.frame(self._seen)
                self._seen = latest.version
                await send({"type": "http.response.body", "body": frame, "more_body": True})
                if latest.finished:
                    return
                continue
            try:
                async with asyncio.timeout(self._heartbeat):
                    await subscription.wake.wait()
            except TimeoutError:
                await send({"type": "http.response.body", "body": KEEP_ALIVE, "more_body": True})


async def _until_gone(receive: Receive, subscription: Subscription) -> None:
    """Ends the stream when the client disconnects (a send to a gone client raises nothing)."""
    while (await receive())["type"] != "http.disconnect":
        pass
    subscription.stop()
