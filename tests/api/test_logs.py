"""The API's logs as an operator's log shipper reads them: with CASEIMPORT_LOG_FORMAT=json one JSON
object a line (uvicorn's own lines too), an access line per request with its route, status,
duration and ids; the request id a client sent, or one made for it, in the X-Request-ID answer
header and in every problem document. Text stays readable."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.config import Settings
from api.main import create_app
from tests.factories import admin_setup, assert_problem
from tests.log_lines import start_api

MADE_ID = re.compile(r"[0-9a-f]{32}")


async def test_json_lines_name_the_request_and_what_it_concerns(
    sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    admin = await admin_setup(sessionmaker)
    api = start_api(tmp_path, CASEIMPORT_LOG_FORMAT="json", CASEIMPORT_ACCESS_LOG="true")
    missing = uuid.uuid4()
    try:
        async with AsyncClient(base_url=api.url, headers=admin.headers) as http:
            listed = await http.get(
                f"/api/apps/{admin.slug}/imports", headers={"X-Request-ID": "ci-run-42"}
            )
            created = await http.post(
                f"/api/apps/{admin.slug}/imports", data={"name": "Logged", "type": "cases.add"}
            )
            # Too long to be taken as it is: a new id is made for it.
            not_found = await http.get(
                f"/api/apps/{admin.slug}/imports/{missing}", headers={"X-Request-ID": "x" * 129}
            )
    finally:
        api.stop()

    assert listed.status_code == 200, listed.text
    assert listed.headers["x-request-id"] == "ci-run-42"
    assert created.status_code == 201, created.text
    problem = assert_problem(not_found, 404, "import_not_found")
    made = not_found.headers["x-request-id"]
    assert MADE_ID.fullmatch(made), made
    assert problem["request_id"] == made

    records = api.records()
    assert all({"timestamp", "level", "logger", "message"} <= r.keys() for r in records), records
    assert any(r["logger"] == "uvicorn.error" for r in records), "uvicorn's lines are JSON too"
    access = {r["request_id"]: r for r in records if r["logger"] == "api.access"}
    user, app = str(admin.user_id), str(admin.app_id)

    line = access["ci-run-42"]
    assert (line["method"], line["route"]) == ("GET", "/api/apps/{app}/imports")
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert (line["user_id"], line["app_id"]) == (user, app)
    assert "import_id" not in line

    line = access[created.headers["x-request-id"]]
    assert (line["method"], line["status"]) == ("POST", 201)
    assert (line["user_id"], line["app_id"], line["import_id"]) == (user, app, created.json()["id"])

    line = access[made]
    assert (line["route"], line["status"]) == ("/api/apps/{app}/imports/{import_id}", 404)
    assert line["path"] == f"/api/apps/{admin.slug}/imports/{missing}"
    assert line["import_id"] == str(missing)
    # uvicorn's access line would repeat each request without its ids.
    assert not [r for r in records if r["logger"] == "uvicorn.access"]


async def test_text_lines_stay_readable_and_carry_the_request_id(tmp_path: Path) -> None:
    api = start_api(tmp_path, CASEIMPORT_LOG_FORMAT="text", CASEIMPORT_ACCESS_LOG="true")
    try:
        async with AsyncClient(base_url=api.url) as http:
            answer = await http.get("/healthz", headers={"X-Request-ID": "text-7"})
    finally:
        api.stop()
    assert answer.headers["x-request-id"] == "text-7"
    lines = api.text().splitlines()
    assert not [line for line in lines if line.startswith("{")], lines
    access = [line for line in lines if '"GET /healthz HTTP/1.1" 200' in line]
    assert len(access) == 1, lines
    assert "request_id=text-7" in access[0]


@pytest.mark.parametrize("sent", ["x" * 129, 'quoted" id', "two words", ""])
async def test_an_insane_request_id_is_replaced(client: AsyncClient, sent: str) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": sent})
    assert MADE_ID.fullmatch(response.headers["x-request-id"])


async def test_a_trace_id_is_kept_as_sent(client: AsyncClient) -> None:
    sent = "Root=1-67891233-abcdef012345678912345678"
    response = await client.get("/healthz", headers={"X-Request-ID": sent})
    assert response.headers["x-request-id"] == sent


async def test_a_refusal_before_any_route_carries_the_request_id(client: AsyncClient) -> None:
    # The NUL guard answers from its middleware, before routing.
    response = await client.get(
        "/api/apps", params={"q": "\x00"}, headers={"X-Request-ID": "nul-1"}
    )
    body = assert_problem(response, 422, "invalid_character")
    assert body["request_id"] == response.headers["x-request-id"] == "nul-1"


async def test_a_server_error_carries_the_request_id(settings: Settings, tmp_path: Path) -> None:
    # Answered outside every middleware (Starlette's ServerErrorMiddleware). No SPA folder, so
    # that the route added here is not hidden behind the SPA's mount at "/".
    app: FastAPI = create_app(settings.model_copy(update={"frontend_dir": str(tmp_path)}))

    @app.get("/api/fails")
    async def fails() -> None:
        raise RuntimeError("a bug")

    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.get("/api/fails", headers={"X-Request-ID": "bug-1"})
    body = assert_problem(response, 500, "internal_error")
    assert body["request_id"] == response.headers["x-request-id"] == "bug-1"
