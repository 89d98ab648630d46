"""Slow, stalled and abandoned uploads against a real uvicorn server (issue 14): they hold no
pooled connection, are cut off with a problem, and leave no import, stored file or temporary
file behind."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.pool import QueuePool

from api.config import Settings
from api.imports.models import Import, StoredFile
from api.main import create_app
from tests.factories import AdminSetup, admin_setup
from tests.importing import ADD_HEADER
from tests.metrics_text import value

BOUNDARY = "slow"
MAX_OVERFLOW = 10  # make_engine's
POOL_SIZE = 2
ROW = b"A-1,1,1/2/2024,One\r\n"


class _Server(uvicorn.Server):
    """uvicorn, minus its signal handlers: Ctrl-C keeps interrupting pytest."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class Live:
    url: str
    port: int
    app: FastAPI
    spool: Path
    admin: AdminSetup

    @property
    def imports(self) -> str:
        return f"/api/apps/{self.admin.slug}/imports"

    def checked_out(self) -> int:
        engine: AsyncEngine = self.app.state.engine
        return cast(QueuePool, engine.pool).checkedout()


@pytest.fixture
async def live(
    engine: AsyncEngine,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> AsyncIterator[Live]:
    spool = tmp_path / "spool"
    spool.mkdir()
    tuned = settings.model_copy(
        update={
            "db_pool_size": POOL_SIZE,
            "upload_idle_seconds": 1.0,
            "upload_min_bytes_per_second": 200,
            "upload_rate_grace_seconds": 1.0,
            "upload_max_per_app": 100,
            "upload_max_per_token": 100,
            "upload_spool_dir": str(spool),
        }
    )
    app = create_app(tuned)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on"
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=2) as client:
            for _ in range(200):
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get("/healthz")).status_code == 200:
                        break
                await asyncio.sleep(0.05)
        admin = await admin_setup(sessionmaker)
        yield Live(url, port, app, spool, admin)
    finally:
        server.should_exit = True
        await task
        sock.close()


def spool_fds(spool: Path) -> list[str]:
    """This process's open files in the spool folder (the server runs in it); an unnamed
    temporary file shows as ``<folder>/#<inode> (deleted)``."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith(str(spool)):
                found.append(target)
    return found


async def until(condition: Any, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.05)


async def stored(sessionmaker: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    async with sessionmaker() as session:
        imports = await session.scalar(select(func.count()).select_from(Import))
        files = await session.scalar(select(func.count()).select_from(StoredFile))
    return int(imports or 0), int(files or 0)


def form_head(name: str) -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="name"\r\n\r\n{name}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="type"\r\n\r\ncases.add\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n'
        f"Content-Type: text/csv\r\n\r\n{ADD_HEADER}"
    ).encode()


TAIL = f"\r\n--{BOUNDARY}--\r\n".encode()
MULTIPART = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


async def trickle(name: str, pieces: int, gap: float) -> AsyncIterator[bytes]:
    """A valid form whose file arrives a row at a time, ``gap`` seconds apart."""
    yield form_head(name)
    for n in range(pieces):
        await asyncio.sleep(gap)
        yield f"S{name}-{n},1,1/2/2024,Slow row {'.' * 60}\r\n".encode()
    yield TAIL


async def raw_request(live: Live, body_sent: bytes, content_length: int) -> tuple[Any, Any]:
    reader, writer = await asyncio.open_connection("127.0.0.1", live.port)
    head = (
        f"POST {live.imports} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {live.admin.token}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {content_length}\r\n\r\n"
    ).encode()
    writer.write(head + body_sent)
    await writer.drain()
    return reader, writer


def parse_response(raw: bytes) -> tuple[int, dict[str, str], dict[str, Any]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, json.loads(body)


async def test_slow_uploads_hold_no_connection_and_others_are_answered(
    live: Live, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    # More uploads than the pool and its overflow together: before, the next request waited
    # 30 s for a connection and got a 500.
    count = POOL_SIZE + MAX_OVERFLOW + 5
    async with httpx.AsyncClient(base_url=live.url, timeout=30, headers=live.admin.headers) as c:
        uploads = [
            asyncio.create_task(
                c.post(live.imports, content=trickle(f"u{n}", 8, 0.3), headers=MULTIPART)
            )
            for n in range(count)
        ]
        await until(lambda: len(spool_fds(live.spool)) == count)
        assert live.checked_out() == 0
        started = time.monotonic()
        listed = await c.get(live.imports)
        other = await c.get("/api/apps")
        elapsed = time.monotonic() - started
        assert (listed.status_code, other.status_code) == (200, 200)
        assert elapsed < 1.0, elapsed
        assert (await c.get("/readyz")).status_code == 200
        assert value((await c.get("/metrics")).text, "caseimport_uploads_in_flight") == count
        assert not any(task.done() for task in uploads)
        answers = await asyncio.gather(*uploads)
    assert [a.status_code for a in answers] == [201] * count
    assert await stored(sessionmaker) == (count, count)
    assert spool_fds(live.spool) == []
    assert live.app.state.uploads_in_flight.count(live.admin.app_id) == 0


async def test_an_idle_upload_is_cut_off_and_leaves_nothing(
    live: Live, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    sent = form_head("idle") + ROW
    started = time.monotonic()
    reader, writer = await raw_request(live, sent, len(sent) + 10_000)
    await until(lambda: len(spool_fds(live.spool)) == 1)
    raw = await asyncio.wait_for(reader.read(), 10)  # until the server closes the connection
    elapsed = time.monotonic() - started
    writer.close()
    status, headers, problem = parse_response(raw)
    assert (status, problem["code"]) == (408, "upload_idle")
    assert headers["content-type"] == "application/problem+json"
    assert "1 seconds" in problem["detail"]
    assert 1.0 <= elapsed < 3.0, elapsed
    assert await stored(sessionmaker) == (0, 0)
    await until(lambda: spool_fds(live.spool) == [])
    assert os.listdir(live.spool) == []
    assert live.app.state.uploads_in_flight.count(live.admin.app_id) == 0


async def test_an_upload_slower_than_the_minimum_rate_is_cut_off(
    live: Live, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async def crawl() -> AsyncIterator[bytes]:
        yield form_head("crawl")
        for _ in range(40):  # 100 bytes a second, under the 200 required after the grace
            await asyncio.sleep(0.5)
            yield ROW + b"x" * (50 - len(ROW))

    async with httpx.AsyncClient(base_url=live.url, timeout=10, headers=live.admin.headers) as c:
        with contextlib.suppress(httpx.TransportError):
            response = await c.post(live.imports, content=crawl(), headers=MULTIPART)
            assert response.status_code == 408
            assert response.json()["code"] == "upload_too_slow"
    assert await stored(sessionmaker) == (0, 0)
    await until(lambda: spool_fds(live.spool) == [])


async def test_the_temporary_file_is_gone_after_success_failure_and_disconnect(
    live: Live, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with httpx.AsyncClient(base_url=live.url, timeout=10, headers=live.admin.headers) as c:
        # Success: the file exists while the body arrives, and not after.
        upload = asyncio.create_task(
            c.post(live.imports, content=trickle("kept", 3, 0.3), headers=MULTIPART)
        )
        await until(lambda: len(spool_fds(live.spool)) == 1)
        assert (await upload).status_code == 201
        assert spool_fds(live.spool) == []

        # Failure once the whole file is received: the name is taken.
        taken = await c.post(live.imports, content=trickle("kept", 1, 0), headers=MULTIPART)
        assert taken.status_code == 409
        assert spool_fds(live.spool) == []

    # Disconnect: the client goes away mid-file.
    sent = form_head("gone") + ROW
    _, writer = await raw_request(live, sent, len(sent) + 10_000)
    await until(lambda: len(spool_fds(live.spool)) == 1)
    writer.close()
    await writer.wait_closed()
    await until(lambda: spool_fds(live.spool) == [])
    await until(lambda: live.app.state.uploads_in_flight.count(live.admin.app_id) == 0)
    assert os.listdir(live.spool) == []
    assert await stored(sessionmaker) == (1, 1)


async def test_a_draft_cancelled_while_its_file_arrives_keeps_no_file(
    live: Live, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with httpx.AsyncClient(base_url=live.url, timeout=10, headers=live.admin.headers) as c:
        draft = await c.post(live.imports, data={"name": "later", "type": "cases.add"})
        assert draft.status_code == 201, draft.text
        url = f"{live.imports}/{draft.json()['id']}"

        async def file_body() -> AsyncIterator[bytes]:
            yield (
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="a.csv"\r\n\r\n{ADD_HEADER}'
            ).encode()
            for _ in range(6):
                await asyncio.sleep(0.2)
                yield ROW
            yield TAIL

        attach = asyncio.create_task(c.put(f"{url}/file", content=file_body(), headers=MULTIPART))
        await until(lambda: len(spool_fds(live.spool)) == 1)
        assert live.checked_out() == 0  # the draft's row lock was not kept while it arrives
        assert (await c.post(f"{url}/cancel")).json()["status"] == "cancelled"
        refused = await attach
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "import_not_editable"
    assert await stored(sessionmaker) == (1, 0)
    assert spool_fds(live.spool) == []
