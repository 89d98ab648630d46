"""The API side of workbooks: the sheet field, the idempotency key's fingerprint, and the .xlsx
sample served beside the CSV one."""

from __future__ import annotations

import hashlib
import json
import tempfile
from datetime import date
from pathlib import Path

from httpx import AsyncClient
from python_calamine import CalamineWorkbook
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.imports.form import CreateImportForm
from api.imports.service import _fingerprint
from tests.factories import admin_setup, assert_problem


async def test_the_sheet_field_is_kept_and_shown(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    url = f"/api/apps/{admin.slug}/imports"
    named = await client.post(
        url, data={"name": "a", "type": "cases.add", "sheet": "Q3 cases"}, headers=admin.headers
    )
    assert named.status_code == 201, named.text
    assert named.json()["sheet"] == "Q3 cases"
    blank = await client.post(
        url, data={"name": "b", "type": "cases.add", "sheet": "  "}, headers=admin.headers
    )
    assert blank.json()["sheet"] is None
    too_long = await client.post(
        url, data={"name": "c", "type": "cases.add", "sheet": "x" * 256}, headers=admin.headers
    )
    problem = assert_problem(too_long, 422, "invalid_request")
    assert problem["errors"][0]["loc"] == ["body", "sheet"]


async def test_the_sheet_is_part_of_the_idempotency_key_only_when_set(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    url = f"/api/apps/{admin.slug}/imports"
    headers = {**admin.headers, "Idempotency-Key": "sheets-1"}
    form = {"name": "nightly", "type": "cases.add", "sheet": "Data"}
    first = await client.post(url, data=form, headers=headers)
    assert first.status_code == 201
    again = await client.post(url, data=form, headers=headers)
    assert (again.status_code, again.json()["id"]) == (200, first.json()["id"])
    other = await client.post(url, data={**form, "sheet": "Other"}, headers=headers)
    assert_problem(other, 422, "idempotency_key_reused")
    # Without a sheet the fingerprint is the one keys kept from before the field existed.
    plain = CreateImportForm.model_validate({"name": "n", "type": "cases.add"})
    before = hashlib.sha256(json.dumps(["n", "cases.add", False, "fail", "abc"]).encode())
    assert _fingerprint(plain, "abc") == before.hexdigest()


async def test_the_xlsx_sample_holds_typed_cells_and_needs_no_sign_in(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    types = (await client.get("/api/import-types", headers=admin.headers)).json()
    assert [t["sample_xlsx_url"] for t in types] == [
        "/api/import-types/cases.add/sample.xlsx",
        "/api/import-types/cases.modify/sample.xlsx",
        "/api/import-types/cases.upsert/sample.xlsx",
    ]
    sample = await client.get(types[0]["sample_xlsx_url"])  # no credentials
    assert sample.status_code == 200
    assert sample.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert sample.headers["content-disposition"] == ('attachment; filename="cases-add-sample.xlsx"')
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sample.xlsx"
        path.write_bytes(sample.content)
        book = CalamineWorkbook.from_path(path)
        assert book.sheet_names == ["Sample"]
        cells = book.get_sheet_by_name("Sample").to_python()
    assert cells == [
        ["tag_id", "case_status", "date_opened", "about"],
        ["CASE-0001", 1.0, date(2024, 3, 7), "Water supply complaint on Elm Street"],
        ["CASE-0002", 0.0, date(2023, 11, 15), "Street light out near the library"],
    ]
    modify = await client.get(types[1]["sample_xlsx_url"])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "modify.xlsx"
        path.write_bytes(modify.content)
        rows = CalamineWorkbook.from_path(path).get_sheet_by_index(0).to_python()
    # Words stay text and blank cells stay empty.
    assert rows[2] == ["CASE-0002", "active", date(2023, 11, 16), ""]
    assert_problem(
        await client.get("/api/import-types/nope/sample.xlsx"), 404, "import_type_not_found"
    )


async def test_openapi_names_the_sheet_field_and_the_xlsx_sample(client: AsyncClient) -> None:
    spec = (await client.get("/api/openapi.json")).json()
    body = spec["paths"]["/api/apps/{app}/imports"]["post"]["requestBody"]["content"]
    sheet = body["multipart/form-data"]["schema"]["properties"]["sheet"]
    assert (sheet["type"], sheet["maxLength"]) == ("string", 255)
    assert "/api/import-types/{key}/sample.xlsx" in spec["paths"]
