"""A real worker process's own /metrics (CASEIMPORT_WORKER_METRICS_PORT), read with
Prometheus's text parser while it imports files uploaded through the API."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api.config import Settings
from tests.factories import AdminSetup, admin_setup, assert_problem
from tests.importing import ADD_HEADER, get_import, upload
from tests.metrics_text import families, value

CASEIMPORT = str(Path(sys.executable).with_name("caseimport"))
TOKEN = "worker-scrape-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
DURATION = "caseimport_import_duration_seconds"
ROWS = "caseimport_import_rows_total"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def worker_url(engine: AsyncEngine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``caseimport worker`` as deployed, its metrics on a port of its own; the URL of them.
    One for the module: each test compares the counts before and after what it does."""
    tmp_path = tmp_path_factory.mktemp("worker")
    port = _free_port()
    env = {
        **os.environ,
        "CASEIMPORT_WORKER_METRICS_PORT": str(port),
        "CASEIMPORT_WORKER_METRICS_HOST": "127.0.0.1",
        "CASEIMPORT_METRICS_TOKEN": TOKEN,
        "CASEIMPORT_WORKER_NICE": "0",
    }
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen([CASEIMPORT, "worker"], env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            assert time.monotonic() < deadline, "the worker's metrics never answered"
            try:
                if httpx.get(url, headers=AUTH, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url
    finally:
        worker.terminate()
        worker.wait(10)
        log.close()


async def _scrape(url: str) -> str:
    async with AsyncClient() as client:
        response = await client.get(url, headers=AUTH, timeout=5)
    assert response.status_code == 200, response.text
    return response.text


async def _finished(client: AsyncClient, admin: AdminSetup, import_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body = await get_import(client, admin, import_id)
        if body["status"] in ("completed", "failed", "cancelled"):
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"import {import_id} did not finish")


async def test_the_workers_families(worker_url: str, settings: Settings) -> None:
    scraped = await _scrape(worker_url)
    found = families(scraped)
    kinds = {
        DURATION: "histogram",
        "caseimport_import_rows": "counter",
        "caseimport_import_attempts_broken": "counter",
        "caseimport_worker_slots": "gauge",
        "caseimport_worker_busy_slots": "gauge",
        "caseimport_worker_heartbeat_age_seconds": "gauge",
        # The process collector's, about the worker process itself.
        "process_cpu_seconds": "counter",
        "process_resident_memory_bytes": "gauge",
    }
    assert {name: found[name].type for name in kinds if name in found} == kinds
    assert value(scraped, "caseimport_worker_slots") == settings.worker_concurrency
    assert value(scraped, "caseimport_worker_busy_slots") == 0
    # It polls its queue every 0.1 s.
    assert 0 <= value(scraped, "caseimport_worker_heartbeat_age_seconds") < 5
    # Every type's series is there before its first import.
    assert f'{DURATION}_count{{outcome="completed",type="cases.upsert"}} 0.0' in scraped


async def test_imports_move_the_duration_and_row_counts(
    worker_url: str, client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    before = await _scrape(worker_url)

    good = ADD_HEADER + "W-1,1,1/2/2024,One\r\nW-2,1,1/2/2024,Two\r\nW-3,1,1/2/2024,Three\r\n"
    applied = await upload(client, admin, good.encode(), name="good")
    assert (await _finished(client, admin, applied["id"]))["status"] == "completed"
    bad = ADD_HEADER + "W-4,1,1/2/2024,Fine\r\nW-5,7,1/2/2024,No such status\r\n"
    refused = await upload(client, admin, bad.encode(), name="bad")
    assert (await _finished(client, admin, refused["id"]))["status"] == "failed"
    # A check-only import is timed, but its rows were not written: not counted.
    plan = ADD_HEADER + "V-1,1,1/2/2024,Four\r\nV-2,1,1/2/2024,Five\r\n"
    checked = await upload(client, admin, plan.encode(), name="plan", validate_only="true")
    assert (await _finished(client, admin, checked["id"]))["status"] == "completed"
    after = await _scrape(worker_url)

    def grew(sample: str, **labels: str) -> float:
        return value(after, sample, **labels) - value(before, sample, **labels)

    add = {"type": "cases.add"}
    assert grew(f"{DURATION}_count", **add, outcome="completed") == 2
    assert grew(f"{DURATION}_count", **add, outcome="failed") == 1
    assert grew(f"{DURATION}_sum", **add, outcome="completed") > 0
    assert grew(ROWS, **add, outcome="created") == 3
    assert grew(ROWS, **add, outcome="failed") == 1
    assert grew(ROWS, **add, outcome="updated") == 0
    assert grew("caseimport_import_attempts_broken_total", **add) == 0


async def test_the_workers_metrics_need_the_token(worker_url: str) -> None:
    async with AsyncClient() as client:
        missing = await client.get(worker_url, timeout=5)
        wrong = await client.get(worker_url, headers={"Authorization": "Bearer nope"}, timeout=5)
    for refused in (missing, wrong):
        body = assert_problem(refused, 401, "unauthenticated")
        assert "CASEIMPORT_METRICS_TOKEN" in body["detail"]
        assert refused.headers["www-authenticate"].startswith("Bearer")


async def test_a_cancelled_import_is_timed_as_cancelled(
    worker_url: str, client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    rows = "".join(f"C-{n},1,1/2/2024,Case number {n}\r\n" for n in range(150_000))
    created = await upload(client, admin, (ADD_HEADER + rows).encode())
    before = await _scrape(worker_url)
    seen = "queued"
    deadline = time.monotonic() + 30
    while seen == "queued" and time.monotonic() < deadline:
        seen = (await get_import(client, admin, created["id"]))["status"]
        await asyncio.sleep(0.005)
    assert seen == "validating"  # cancelled while the worker reads it
    cancel = await client.post(
        f"/api/apps/{admin.slug}/imports/{created['id']}/cancel", headers=admin.headers
    )
    assert cancel.status_code == 200, cancel.text
    cancelled = {"type": "cases.add", "outcome": "cancelled"}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        after = await _scrape(worker_url)
        if value(after, f"{DURATION}_count", **cancelled) > 0:
            break
        await asyncio.sleep(0.1)
    assert value(after, f"{DURATION}_count", **cancelled) == (
        value(before, f"{DURATION}_count", **cancelled) + 1
    )
    assert value(after, ROWS, type="cases.add", outcome="created") == value(
        before, ROWS, type="cases.add", outcome="created"
    )


def test_a_taken_port_stops_a_second_worker_at_start(worker_url: str, tmp_path: Path) -> None:
    taken = worker_url.split(":")[-1].split("/")[0]
    env = {
        **os.environ,
        "CASEIMPORT_WORKER_METRICS_PORT": taken,
        "CASEIMPORT_WORKER_METRICS_HOST": "127.0.0.1",
        "CASEIMPORT_WORKER_NICE": "0",
    }
    log = tmp_path / "second.log"
    with log.open("wb") as out:
        second = subprocess.Popen([CASEIMPORT, "worker"], env=env, stdout=out, stderr=out)
        try:
            code = second.wait(30)
        finally:
            if second.poll() is None:
                second.kill()
                second.wait(10)
    assert code != 0
    said = log.read_text()
    assert "CASEIMPORT_WORKER_METRICS_PORT" in said
    assert "Address already in use" in said
