"""Cutting off an upload whose client stalls or sends too slowly, with a 408 problem.

Nothing else bounds a request body: uvicorn waits for it as long as the client keeps the
connection open, and a client sending a byte a minute would keep its upload slot forever.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

from api.errors import RequestTimeout

# The answer ends the connection: the rest of the body is never read.
_CLOSE = {"Connection": "close"}


@dataclass(frozen=True, slots=True)
class Pace:
    idle_seconds: float
    min_bytes_per_second: int
    grace_seconds: float


def _idle(pace: Pace) -> RequestTimeout:
    return RequestTimeout(
        f"The upload sent nothing for {pace.idle_seconds:g} seconds and was stopped; "
        "nothing was stored. Send it again.",
        code="upload_idle",
        headers=_CLOSE,
    )


def _too_slow(pace: Pace) -> RequestTimeout:
    return RequestTimeout(
        f"The upload arrived slower than {pace.min_bytes_per_second:,} bytes a second and was "
        "stopped; nothing was stored. Send it again over a faster connection.",
        code="upload_too_slow",
        headers=_CLOSE,
    )


async def paced(body: AsyncIterator[bytes], pace: Pace) -> AsyncIterator[bytes]:
    """The body's chunks, or ``RequestTimeout`` once no chunk came for ``idle_seconds``, or the
    average rate since the start fell below ``min_bytes_per_second`` (after ``grace_seconds``
    of slack, as Apache's mod_reqtimeout counts it: each byte earns 1/rate seconds more)."""
    loop = asyncio.get_running_loop()
    start = last = loop.time()
    received = 0
    while True:
        idle_at = last + pace.idle_seconds
        slow_at = (
            start + pace.grace_seconds + received / pace.min_bytes_per_second
            if pace.min_bytes_per_second
            else idle_at
        )
        try:
            async with asyncio.timeout_at(min(idle_at, slow_at)):
                chunk = await anext(body)
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise (_idle(pace) if idle_at <= slow_at else _too_slow(pace)) from None
        received += len(chunk)
        last = loop.time()
        yield chunk
