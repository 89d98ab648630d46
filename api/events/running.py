"""The events machinery of one API process, started and stopped with the app (``api/main.py``):
the broker, its listener task, and an end to every stream when the server is told to stop.

uvicorn waits for open responses to finish before it stops, and a stream only finishes with
its import: without this, a SIGTERM would wait for every followed import to end. So the
handler uvicorn installed for SIGTERM and SIGINT is wrapped: the streams end first (their
clients reconnect, to another process), then uvicorn goes on as it would have.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
import uuid
from collections.abc import Callable
from types import FrameType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.config import Settings
from api.events.broker import Broker
from api.events.listener import listen
from api.imports import repository
from api.imports.repository import ImportView

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
Handler = Callable[[int, FrameType | None], Any]


class Events:
    """What ``start`` made; ``stop`` ends it."""

    def __init__(self, broker: Broker, listener: asyncio.Task[None]) -> None:
        self.broker = broker
        self._listener = listener
        self._handlers: dict[int, Handler] = {}

    async def stop(self) -> None:
        for sig, previous in self._handlers.items():
            signal.signal(sig, previous)
        self.broker.close()
        self._listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._listener

    def _end_streams_on_stop(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        loop, broker = asyncio.get_running_loop(), self.broker

        def wrap(previous: Handler) -> Handler:
            def handler(signum: int, frame: FrameType | None) -> None:
                loop.call_soon_threadsafe(broker.close)
                previous(signum, frame)

            return handler

        for sig in _STOP_SIGNALS:
            previous = signal.getsignal(sig)
            if callable(previous):
                self._handlers[sig] = previous
                signal.signal(sig, wrap(previous))


async def start(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> Events:
    async def read(app_id: uuid.UUID, import_id: uuid.UUID) -> ImportView | None:
        async with sessions() as session:
            return await repository.get_view(session, app_id, import_id)

    broker = Broker(
        read, max_streams=settings.events_max_streams, opening_at_once=settings.db_pool_size
    )
    listener = asyncio.create_task(
        listen(settings.database_url, broker, probe_seconds=settings.events_heartbeat_seconds)
    )
    events = Events(broker, listener)
    events._end_streams_on_stop()
    return events
