"""What the OpenAPI document tells a client, and the behaviour it describes: who may call what,
the problem shape of every error, typed forms, 405 with Allow, and the documentation pages
served without internet access (issue 16). test_openapi_conformance.py checks the running
service against the whole document with schemathesis."""

from __future__ import annotations

import re
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import admin_setup, assert_problem

# Served to anyone: signing in, health, the sample files.
OPEN = {
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("post", "/api/auth/login"),
    ("get", "/api/import-types/{key}/sample.csv"),
    ("get", "/api/import-types/{key}/sample.xlsx"),
}
PROBLEM_REF = "#/components/schemas/Problem"


@pytest.fixture
async def spec(client: AsyncClient) -> dict[str, Any]:
    response = await client.get("/api/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
    ]


async def test_the_two_ways_to_authenticate_are_declared(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["bearer"]["description"],
    }
    assert (schemes["session"]["type"], schemes["session"]["in"]) == ("apiKey", "cookie")
    assert schemes["session"]["name"] == "caseimport_session"


async def test_every_operation_but_the_open_ones_needs_a_token_or_the_session(
    spec: dict[str, Any], client: AsyncClient
) -> None:
    for method, path, operation in _operations(spec):
        if (method, path) in OPEN:
            assert "security" not in operation, (method, path)
        else:
            assert operation["security"] == [{"bearer": []}, {"session": []}], (method, path)
            assert "401" in operation["responses"], (method, path)
    # And it is so: without either, 401; with them, the answer.
    assert_problem(await client.get("/api/import-types"), 401, "unauthenticated")


async def test_every_error_answer_is_documented_as_a_problem(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert "ValidationError" not in schemas
    problem = schemas["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "code"}
    assert problem["properties"]["request_id"] == {
        "type": "string",
        "title": "Request Id",
        "description": problem["properties"]["request_id"]["description"],
    }
    assert problem["properties"]["errors"]["items"] == {"$ref": "#/components/schemas/FieldError"}
    assert set(schemas["FieldError"]["required"]) == {"loc", "message", "type"}
    for method, path, operation in _operations(spec):
        for status, answer in operation["responses"].items():
            if int(status) < 400 or path == "/readyz":  # readiness answers its checks as JSON
                continue
            assert answer["content"] == {
                "application/problem+json": {"schema": {"$ref": PROBLEM_REF}}
            }, (method, path, status)


async def test_each_route_lists_the_statuses_it_answers(spec: dict[str, Any]) -> None:
    def statuses(method: str, path: str) -> set[str]:
        return set(spec["paths"][path][method]["responses"])

    imports = "/api/apps/{app}/imports"
    assert {"201", "200", "401", "403", "404", "408", "409", "413", "422", "429"} <= statuses(
        "post", imports
    )
    assert {"401", "403", "404", "409", "413", "422"} <= statuses(
        "put", imports + "/{import_id}/file"
    )
    assert {"401", "404", "422"} <= statuses("get", "/api/apps/{app}/cases")
    assert {"401", "403", "429"} <= statuses("post", "/api/auth/login")
    # A JSON body that cannot be read at all is a 400.
    assert "400" in statuses("post", "/api/apps/{app}/tokens")
    # 503 where the database is read: to know the caller, or to sign in; not for a sample file.
    assert "503" in statuses("get", "/api/apps")
    assert "503" in statuses("post", "/api/auth/login")
    assert "503" not in statuses("get", "/api/import-types/{key}/sample.csv")


async def test_the_import_form_is_typed_by_the_model_that_checks_it(spec: dict[str, Any]) -> None:
    body = spec["paths"]["/api/apps/{app}/imports"]["post"]["requestBody"]
    form = body["content"]["multipart/form-data"]
    fields = form["schema"]["properties"]
    assert form["schema"]["required"] == ["name", "type"]
    assert (fields["name"]["minLength"], fields["name"]["maxLength"]) == (1, 200)
    assert set(fields["type"]["enum"]) == {"cases.add", "cases.modify", "cases.upsert"}
    assert fields["on_error"]["enum"] == ["fail", "skip"]
    assert fields["date_order"]["enum"] == ["mdy", "dmy"]
    assert "utf-8" in fields["encoding"]["enum"]
    assert (fields["file"]["type"], fields["file"]["format"]) == ("string", "binary")
    # The column mapping is an object, sent as a JSON part.
    assert fields["columns"]["type"] == "object"
    assert form["encoding"] == {"columns": {"contentType": "application/json"}}
    put = spec["paths"]["/api/apps/{app}/imports/{import_id}/file"]["put"]["requestBody"]
    assert put["content"]["multipart/form-data"]["schema"]["required"] == ["file"]


async def test_opening_dates_are_dates_not_unix_times(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    cases = f"/api/apps/{admin.slug}/cases"
    for bad in ("1700000000", "1699920000", "2024-3-7", "20240307"):
        refused = assert_problem(
            await client.get(cases, params={"opened_from": bad}, headers=admin.headers),
            422,
            "invalid_request",
        )
        assert refused["errors"][0]["loc"] == ["query", "opened_from"]
    assert_problem(
        await client.get(cases, params={"opened_to": "0"}, headers=admin.headers),
        422,
        "invalid_request",
    )
    kept = await client.get(cases, params={"opened_from": "2024-03-07"}, headers=admin.headers)
    assert kept.status_code == 200, kept.text


async def test_a_line_to_correct_is_named_by_its_digits(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    draft = await client.post(
        f"/api/apps/{admin.slug}/imports",
        data={"name": "draft", "type": "cases.add"},
        headers=admin.headers,
    )
    url = f"/api/apps/{admin.slug}/imports/{draft.json()['id']}/corrections"
    for line in ("07", "7.0", " 7"):
        assert_problem(
            await client.post(url, json={line: {"about": "x"}}, headers=admin.headers),
            422,
            "invalid_request",
        )
    # A well-named line gets past the body to the import's state.
    assert_problem(
        await client.post(url, json={"7": {"about": "x"}}, headers=admin.headers),
        409,
        "import_not_failed",
    )


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/api/apps", "GET, POST"),
        ("PATCH", "/api/apps/field-ops/imports", "GET, POST"),
        ("GET", "/api/apps/field-ops/imports/00000000-0000-0000-0000-000000000000/cancel", "POST"),
        ("POST", "/api/auth/me", "GET"),
        ("POST", "/healthz", "GET"),
    ],
)
async def test_a_wrong_method_answers_405_with_the_methods_of_the_path(
    client: AsyncClient, method: str, path: str, allow: str
) -> None:
    response = await client.request(method, path)
    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == allow


async def test_unknown_api_paths_are_404_problems_and_the_spa_is_still_served(
    client: AsyncClient,
) -> None:
    for method in ("GET", "POST", "DELETE"):
        assert_problem(await client.request(method, "/api/no-such-thing"), 404, "not_found")
    page = await client.get("/")
    assert (page.status_code, page.headers["content-type"]) == (200, "text/html; charset=utf-8")
    assert (await client.get("/app.js")).status_code == 200


@pytest.mark.parametrize("page", ["/api/docs", "/api/redoc"])
async def test_the_docs_pages_load_only_the_services_own_files(
    client: AsyncClient, page: str
) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    html = response.text
    # Nothing from elsewhere: no CDN, no fonts, no validator badge.
    assert re.search(r"""(?:src|href)=["']?(?:https?:)?//""", html) is None
    assert "http" not in response.headers["content-security-policy"]
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert any(asset.endswith(".js") for asset in assets), assets
    for asset in assets:
        loaded = await client.get(asset)
        assert loaded.status_code == 200, asset
        assert len(loaded.content) > 1000, asset
    assert "/api/openapi.json" in html
