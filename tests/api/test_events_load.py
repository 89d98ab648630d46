"""500 clients follow one import on one API process, as ``caseimport api`` runs in production,
each stream holding no buffer or connection of its own (the process's peak against its memory
target is a measure of docs/performance.md, not of this test).

The API is its own process (its memory is measured from /proc); the import runs through the
real worker; the clients are httpx streams in this process.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from httpx import AsyncClient
from httpx_sse import aconnect_sse
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.factories import AdminSetup, admin_setup
from tests.importing import ADD_HEADER, upload
from tests.serving import free_port
from tests.worker_harness import run_worker

CASEIMPORT = str(Path(sys.executable).with_name("caseimport"))
STREAMS = 500
# About 37 KiB a stream is measured (docs/performance.md); a stream that kept a buffer, a pooled
# connection or its events would cost many times that.
STREAM_COST_LIMIT_KIB = 100
ROWS = 200
FILE = (
    ADD_HEADER + "".join(f"L-{n},1,1/13/2024,Followed by many {n}\r\n" for n in range(ROWS))
).encode()


def _status_mib(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field} for process {pid}")


@pytest.fixture
def api_process(
    engine: AsyncEngine, tmp_path: Path
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``caseimport api`` on the test database, as deployed (the pool of tests/conftest.py)."""
    port = free_port()
    env = {**os.environ, "CASEIMPORT_ACCESS_LOG": "false"}
    with (tmp_path / "api.log").open("wb") as log:
        process = subprocess.Popen(
            [CASEIMPORT, "api", "--port", str(port)], env=env, stdout=log, stderr=log
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            else:
                raise AssertionError((tmp_path / "api.log").read_text())
            yield url, process
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)


async def _follow(
    http: httpx.AsyncClient, path: str, admin: AdminSetup, connected: asyncio.Queue[None]
) -> str:
    """The status of the last event the stream sent before it ended."""
    last = ""
    async with aconnect_sse(http, "GET", path, headers=dict(admin.headers)) as source:
        assert source.response.status_code == 200
        async for event in source.aiter_sse():
            if not last:
                connected.put_nowait(None)
            last = event.json()["status"]
    return last


async def test_500_clients_follow_an_import_on_one_api_process_within_its_memory_target(
    api_process: tuple[str, subprocess.Popen[bytes]],
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    url, process = api_process
    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, FILE)
    path = f"/api/apps/{admin.slug}/imports/{created['id']}/events"
    idle_mib = _status_mib(process.pid, "VmRSS")
    started = time.monotonic()
    limits = httpx.Limits(max_connections=STREAMS + 10, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        connected: asyncio.Queue[None] = asyncio.Queue()
        # All at once, as when every client of a restarted process reconnects.
        streams = [
            asyncio.create_task(_follow(http, path, admin, connected)) for _ in range(STREAMS)
        ]
        async with asyncio.timeout(45):
            for _ in range(STREAMS):
                await connected.get()  # every client has the import's state as it was
        open_mib = _status_mib(process.pid, "VmRSS")
        await run_worker()
        async with asyncio.timeout(30):
            finals = await asyncio.gather(*streams)
    peak_mib = _status_mib(process.pid, "VmHWM")
    seconds = time.monotonic() - started
    print(
        f"\n{STREAMS} streams: API RSS idle {idle_mib:.1f} MiB, with the streams open "
        f"{open_mib:.1f} MiB, peak {peak_mib:.1f} MiB; {seconds:.1f} s"
    )
    assert finals == ["completed"] * STREAMS
    assert (peak_mib - idle_mib) * 1024 / STREAMS <= STREAM_COST_LIMIT_KIB


async def test_a_stopping_api_ends_its_streams_at_once(
    api_process: tuple[str, subprocess.Popen[bytes]],
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    url, process = api_process
    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, FILE)
    path = f"/api/apps/{admin.slug}/imports/{created['id']}/events"
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        connected: asyncio.Queue[None] = asyncio.Queue()
        stream = asyncio.create_task(_follow(http, path, admin, connected))
        await asyncio.wait_for(connected.get(), 30)
        process.send_signal(signal.SIGTERM)
        # The stream ends (its client would reconnect elsewhere), and the server exits, rather
        # than waiting for the import to finish.
        assert await asyncio.wait_for(stream, 10) == "queued"
        # uvicorn stops, then raises the signal again as it found it.
        assert await asyncio.to_thread(process.wait, 10) in (0, -signal.SIGTERM)
