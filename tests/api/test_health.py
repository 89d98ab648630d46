from __future__ import annotations

from httpx import ASGITransport, AsyncClient
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from api.config import Settings
from api.health.service import readiness
from api.main import create_app


async def test_liveness_and_readiness(client: AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok"}


async def test_openapi_describes_the_api(client: AsyncClient) -> None:
    spec = (await client.get("/api/openapi.json")).json()
    paths = spec["paths"]
    for path in [
        "/api/apps/{app}/imports",
        "/api/apps/{app}/imports/{import_id}/file",
        "/api/apps/{app}/imports/{import_id}/errors.csv",
        "/api/apps/{app}/cases/{tag_id}",
        "/api/import-types/{key}/sample.csv",
        "/api/auth/login",
    ]:
        assert path in paths
    body = paths["/api/apps/{app}/imports"]["post"]["requestBody"]["content"]
    assert "file" in body["multipart/form-data"]["schema"]["properties"]


async def test_unknown_route_is_a_problem_document(client: AsyncClient) -> None:
    response = await client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_the_api_starts_without_its_database_and_says_it_is_not_ready(
    settings: Settings,
) -> None:
    # Nothing listens on port 1: the pool cannot be opened ahead of requests at start-up.
    down = settings.model_copy(update={"database_url": "postgresql://postgres@127.0.0.1:1/none"})
    application = create_app(down)
    async with application.router.lifespan_context(application):
        transport = ASGITransport(app=application)
        async with AsyncClient(transport=transport, base_url="http://testserver") as client:
            assert (await client.get("/healthz")).status_code == 200
            ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"database": "unavailable", "redis": "ok"}


async def test_readiness_names_the_dependency_that_does_not_answer(engine: AsyncEngine) -> None:
    # Nothing listens on port 1.
    redis = Redis.from_url("redis://127.0.0.1:1/0")
    try:
        found = await readiness(engine, redis)
    finally:
        await redis.aclose()
    assert not found.ready
    assert found.checks == {"database": "ok", "redis": "unavailable"}
