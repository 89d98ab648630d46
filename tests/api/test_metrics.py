"""The API's /metrics, read with Prometheus's own text parser."""

from __future__ import annotations

from httpx import ASGITransport, AsyncClient
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.config import Settings
from api.main import create_app
from tests.factories import admin_setup, assert_problem
from tests.importing import ADD_HEADER, upload
from tests.metrics_text import families, value

DURATION = "caseimport_http_request_duration_seconds"
ONE_IMPORT = "/api/apps/{app}/imports/{import_id}"


async def _scrape(client: AsyncClient, **headers: str) -> str:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return response.text


async def test_the_families_an_operator_scrapes(client: AsyncClient) -> None:
    found = families(await _scrape(client))
    kinds = {
        DURATION: "histogram",
        "caseimport_imports": "gauge",
        "caseimport_imports_queued": "gauge",
        "caseimport_imports_running": "gauge",
        "caseimport_oldest_queued_import_age_seconds": "gauge",
        "caseimport_import_heartbeat_age_seconds": "gauge",
        "caseimport_uploads_in_flight": "gauge",
        # The process collector's, about the API process itself.
        "process_cpu_seconds": "counter",
        "process_resident_memory_bytes": "gauge",
        "process_open_fds": "gauge",
    }
    assert {name: found[name].type for name in kinds if name in found} == kinds


async def test_a_request_is_timed_under_its_route_template(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    draft = await upload(client, admin, None, name="draft")
    ok = {"method": "GET", "route": ONE_IMPORT, "status": "2xx"}
    missing = {**ok, "status": "4xx"}
    before = await _scrape(client)

    path = f"/api/apps/{admin.slug}/imports/{draft['id']}"
    assert (await client.get(path, headers=admin.headers)).status_code == 200
    unknown = f"/api/apps/{admin.slug}/imports/00000000-0000-0000-0000-000000000000"
    assert (await client.get(unknown, headers=admin.headers)).status_code == 404
    after = await _scrape(client)

    assert value(after, f"{DURATION}_count", **ok) == value(before, f"{DURATION}_count", **ok) + 1
    assert value(after, f"{DURATION}_count", **missing) == (
        value(before, f"{DURATION}_count", **missing) + 1
    )
    # The slow end of the buckets holds the request too (le="+Inf" is every request).
    assert value(after, f"{DURATION}_bucket", **ok, le="+Inf") == value(
        after, f"{DURATION}_count", **ok
    )
    # The raw path (an app's slug, an import's id) is never a label.
    assert admin.slug not in after
    assert draft["id"] not in after


async def test_a_path_no_route_knows_is_one_label(client: AsyncClient) -> None:
    before = await _scrape(client)
    for n in range(3):
        await client.get(f"/no/such/page-{n}")
    after = await _scrape(client)
    assert "page-1" not in after
    # The SPA's mount at / answers every other path (404 for a missing file).
    labels = {"method": "GET", "route": "/{path}", "status": "4xx"}
    count = f"{DURATION}_count"
    assert value(after, count, **labels) == value(before, count, **labels) + 3


async def test_import_gauges_follow_the_database(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    admin = await admin_setup(sessionmaker)
    await upload(client, admin, None, name="draft")
    waiting = await upload(client, admin, (ADD_HEADER + "M-1,1,1/2/2024,x\r\n").encode())
    running = await upload(client, admin, (ADD_HEADER + "M-2,1,1/2/2024,y\r\n").encode(), name="b")
    async with sessionmaker() as session, session.begin():
        # Queued a minute ago; and a running one whose worker last reported 30 s ago (a beat
        # sets the lease to its time plus the lease's length).
        await session.execute(
            text("UPDATE imports SET queued_at = now() - interval '60 seconds' WHERE id = :id"),
            {"id": waiting["id"]},
        )
        await session.execute(
            text(
                "UPDATE imports SET status = 'validating', started_at = now(),"
                " lease_until = now() + make_interval(secs => :lease - 30) WHERE id = :id"
            ),
            {"id": running["id"], "lease": settings.worker_lease_seconds},
        )
    scraped = await _scrape(client)
    assert value(scraped, "caseimport_imports", type="cases.add", status="draft") == 1
    assert value(scraped, "caseimport_imports", type="cases.add", status="queued") == 1
    assert value(scraped, "caseimport_imports", type="cases.add", status="validating") == 1
    assert value(scraped, "caseimport_imports_queued") == 1
    assert value(scraped, "caseimport_imports_running") == 1
    assert 60 <= value(scraped, "caseimport_oldest_queued_import_age_seconds") < 120
    assert 30 <= value(scraped, "caseimport_import_heartbeat_age_seconds") < 90


async def test_ages_are_zero_when_nothing_waits_or_runs(client: AsyncClient) -> None:
    scraped = await _scrape(client)
    assert value(scraped, "caseimport_imports_queued") == 0
    assert value(scraped, "caseimport_oldest_queued_import_age_seconds") == 0
    assert value(scraped, "caseimport_import_heartbeat_age_seconds") == 0


async def test_a_metrics_token_is_required_once_set(settings: Settings) -> None:
    guarded = settings.model_copy(update={"metrics_token": SecretStr("scrape-me")})
    application = create_app(guarded)
    async with application.router.lifespan_context(application):
        transport = ASGITransport(app=application)
        async with AsyncClient(transport=transport, base_url="http://testserver") as client:
            missing = await client.get("/metrics")
            wrong = await client.get("/metrics", headers={"Authorization": "Bearer scrape-you"})
            basic = await client.get("/metrics", headers={"Authorization": "Basic scrape-me"})
            right = await _scrape(client, Authorization="Bearer scrape-me")
    for refused in (missing, wrong, basic):
        body = assert_problem(refused, 401, "unauthenticated")
        assert "CASEIMPORT_METRICS_TOKEN" in body["detail"]
        assert refused.headers["www-authenticate"].startswith("Bearer")
    assert "caseimport_imports_queued" in families(right)
