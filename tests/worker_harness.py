"""The real worker (arq, the real job, the real database) run until the queue is empty."""

from __future__ import annotations

from typing import Any

from arq.worker import Worker
from httpx import AsyncClient

from api.config import Settings, get_settings
from worker.main import NO_RECONCILER
from worker.main import make_worker as make_deployed_worker


def make_worker(settings: Settings | None = None, **overrides: Any) -> Worker:
    """The deployed worker (with the environment's settings unless given others), in arq's
    burst mode unless told otherwise."""
    options: dict[str, Any] = {
        "burst": True,
        "handle_signals": False,
        "poll_delay": 0.05,
        # The reconciler is tested by calling it; a background loop would race the tests.
        "ctx": {NO_RECONCILER: True},
    }
    options.update(overrides)
    return make_deployed_worker(settings or get_settings(), **options)


async def run_worker(**overrides: Any) -> None:
    """Run every queued job to the end (arq's burst mode), as a deployed worker would."""
    worker = make_worker(**overrides)
    try:
        await worker.async_run()
    finally:
        await worker.close()


async def import_after_worker(
    client: AsyncClient, slug: str, import_id: str, headers: dict[str, str]
) -> dict[str, Any]:
    await run_worker()
    response = await client.get(f"/api/apps/{slug}/imports/{import_id}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
