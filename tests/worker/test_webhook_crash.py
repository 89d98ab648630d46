"""Nothing lost across a crash: a worker killed after an import's completion committed, while it
was sending the webhook, leaves the delivery due; the next worker sends it. Real worker
processes (``caseimport worker``), killed with SIGKILL; a real receiver on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.config import Settings
from api.webhooks import signing
from tests.factories import admin_setup, sign_in
from tests.importing import ADD_HEADER, get_import, upload
from tests.webhook_receiver import receiving

CASEIMPORT = str(Path(sys.executable).with_name("caseimport"))


@pytest.fixture
def workers() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Worker processes the test starts; any left running are stopped after it."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def start_worker(started: list[subprocess.Popen[bytes]], log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CASEIMPORT_WORKER_NICE": "0",
        "CASEIMPORT_WEBHOOKS_ALLOW_PRIVATE": "true",
        # Longer than the test takes to kill it: the held request is never given up on. The
        # killed worker's claim runs out twice this after it was made.
        "CASEIMPORT_WEBHOOKS_TIMEOUT_SECONDS": "5",
    }
    with log.open("ab") as out:
        proc = subprocess.Popen([CASEIMPORT, "worker"], env=env, stdout=out, stderr=out)
    started.append(proc)
    return proc


async def delivery_state(settings: Settings) -> tuple[str, int, int] | None:
    conn = await asyncpg.connect(settings.database_url)
    try:
        row = await conn.fetchrow(
            """SELECT d.state, d.attempts, (SELECT count(*) FROM webhook_attempts a
                                              WHERE a.delivery_id = d.id) AS recorded
               FROM webhook_deliveries d"""
        )
    finally:
        await conn.close()
    return None if row is None else (row["state"], row["attempts"], row["recorded"])


async def test_a_worker_killed_before_delivering_leaves_it_to_the_next(
    client: AsyncClient,
    app: FastAPI,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    workers: list[subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    admin = await admin_setup(sessionmaker)
    await sign_in(client, admin.email)
    app.state.settings = settings.model_copy(update={"webhooks_allow_private": True})
    log = tmp_path / "workers.log"
    try:
        with receiving(hold_first=True) as receiver:
            response = await client.post(
                f"/api/apps/{admin.slug}/webhooks",
                json={"url": receiver.url, "events": ["import.completed"]},
            )
            assert response.status_code == 201, response.text
            secret = response.json()["secret"]
            first = start_worker(workers, log)
            created = await upload(
                client, admin, (ADD_HEADER + "WH-1,1,2024-03-07,Pipe\r\n").encode()
            )

            # The completion committed and the worker is sending: the receiver holds it.
            (held,) = await receiver.wait_for(1, within=60)
            assert (await get_import(client, admin, created["id"]))["status"] == "completed"
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            assert await delivery_state(settings) == ("pending", 0, 0), log.read_text()

            start_worker(workers, log)
            requests = await receiver.wait_for(2, within=60)
            for _ in range(100):
                if await delivery_state(settings) == ("delivered", 1, 1):
                    break
                await asyncio.sleep(0.1)
            assert await delivery_state(settings) == ("delivered", 1, 1), log.read_text()
    finally:
        app.state.settings = settings

    again = requests[1]
    assert signing.verify(secret, again.headers[signing.SIGNATURE_HEADER], again.body)
    assert again.body == held.body  # the same event, which a receiver may see twice
    event = json.loads(again.body)
    assert (event["type"], event["data"]["import"]["id"]) == ("import.completed", created["id"])
