"""The pace an upload's body must keep: cut off when idle, or when slower than the minimum
average rate after the grace period (a byte earns 1/rate seconds)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from api.errors import RequestTimeout
from api.imports.pacing import Pace, paced


async def body(pieces: list[tuple[float, bytes]]) -> AsyncIterator[bytes]:
    """Each piece after its pause, in seconds."""
    for pause, data in pieces:
        await asyncio.sleep(pause)
        yield data


async def drain(chunks: AsyncIterator[bytes]) -> int:
    return sum([len(chunk) async for chunk in chunks])


async def test_a_body_that_keeps_the_pace_passes_whole() -> None:
    pace = Pace(idle_seconds=0.5, min_bytes_per_second=1000, grace_seconds=0.2)
    pieces = [(0.05, b"x" * 200) for _ in range(10)]  # 4,000 bytes a second
    assert await drain(paced(body(pieces), pace)) == 2000


async def test_a_stalled_body_is_cut_off_as_idle() -> None:
    pace = Pace(idle_seconds=0.2, min_bytes_per_second=0, grace_seconds=0)
    with pytest.raises(RequestTimeout) as caught:
        await drain(paced(body([(0, b"x" * 100), (1.0, b"late")]), pace))
    assert (caught.value.status, caught.value.code) == (408, "upload_idle")
    assert caught.value.headers == {"Connection": "close"}


async def test_a_trickle_under_the_minimum_rate_is_cut_off_after_the_grace() -> None:
    # 100 bytes every 0.05 s is 2,000 bytes a second, under the 10,000 required: the first 0.3 s
    # of grace and the bytes' credit run out within half a second, before any pause is idle.
    pace = Pace(idle_seconds=1.0, min_bytes_per_second=10_000, grace_seconds=0.3)
    started = asyncio.get_running_loop().time()
    with pytest.raises(RequestTimeout) as caught:
        await drain(paced(body([(0.05, b"x" * 100) for _ in range(100)]), pace))
    elapsed = asyncio.get_running_loop().time() - started
    assert caught.value.code == "upload_too_slow"
    assert 0.3 <= elapsed < 1.0, elapsed
