"""Column mapping: a ``columns`` field maps a file's own headers to the type's columns (or
ignores them), is checked on create, shown on the import, part of the idempotency key, and
offered again for the app's next import of that type. The reconciliation of a result."""

from __future__ import annotations

import hashlib
from datetime import date

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import admin_setup, assert_problem
from tests.importing import ADD_HEADER, cases_by_tag, import_file

MAPPING = '{"Case Number": "tag_id", "State": "case_status", "Notes": null}'
CONTENT = "Case Number,State,Date Opened,About,Notes\r\nM-1,1,1/2/2024,Mapped,ignored\r\n"


async def test_a_mapping_is_applied_shown_and_offered_again(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    url = f"/api/apps/{admin.slug}/import-types/cases.add/mapping"
    assert (await client.get(url, headers=admin.headers)).json() == {"columns": {}}

    done = await import_file(client, admin, CONTENT, columns=MAPPING)
    assert done["status"] == "completed", done
    assert done["columns"] == {"Case Number": "tag_id", "State": "case_status", "Notes": None}
    assert (await cases_by_tag(sessionmaker))["M-1"].date_opened == date(2024, 1, 2)

    offered = await client.get(url, headers=admin.headers)
    assert offered.json()["columns"] == done["columns"]
    other = f"/api/apps/{admin.slug}/import-types/cases.modify/mapping"
    assert (await client.get(other, headers=admin.headers)).json() == {"columns": {}}
    unknown = await client.get(
        f"/api/apps/{admin.slug}/import-types/nope/mapping", headers=admin.headers
    )
    assert_problem(unknown, 404, "import_type_not_found")


async def test_without_the_mapping_those_headers_are_unknown(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    done = await import_file(client, admin, CONTENT)
    assert done["status"] == "failed"
    assert done["columns"] is None
    assert "Case Number" in done["error"]["summary"]


async def test_a_mapping_is_checked_on_create(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    for columns in ('{"Case Number": "case_number"}', '["tag_id"]', "{not json", '{"": null}'):
        response = await client.post(
            f"/api/apps/{admin.slug}/imports",
            data={"name": "bad", "type": "cases.add", "columns": columns},
            headers=admin.headers,
        )
        problem = assert_problem(response, 422, "invalid_request")
        assert problem["errors"][0]["loc"] == ["body", "columns"], columns


async def test_the_mapping_is_part_of_the_idempotency_key(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    headers = {**admin.headers, "Idempotency-Key": "k-1"}
    form = {"name": "keyed", "type": "cases.add", "columns": MAPPING}
    files = {"file": ("cases.csv", CONTENT.encode(), "text/csv")}
    url = f"/api/apps/{admin.slug}/imports"
    first = await client.post(url, data=form, files=files, headers=headers)
    assert first.status_code == 201, first.text
    again = await client.post(url, data=form, files=files, headers=headers)
    assert again.status_code == 200
    other = {**form, "columns": '{"Case Number": "tag_id", "State": "case_status"}'}
    changed = await client.post(url, data=other, files=files, headers=headers)
    assert_problem(changed, 422, "idempotency_key_reused")


async def test_a_result_reconciles_rows_blank_rows_and_the_file(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    await import_file(client, admin, ADD_HEADER + "R-1,1,1/2/2024,Old\r\n", name="first")
    modify = (
        "\r\n"  # before the header
        + "tag_id,about\r\n"
        + "R-1,New\r\n"
        + " , \r\n"
        + "R-1,Again\r\n"  # repeated: failed
        + "\r\n\r\n"
        + "R-9,Nine\r\n"  # no such case: failed
        + "\r\n"  # after the last row: not a row
    )
    done = await import_file(
        client, admin, modify, type_="cases.modify", on_error="skip", name="modify"
    )
    result = done["result"]
    assert done["status"] == "completed", done
    assert (
        result["rows"]
        == result["created"] + result["updated"] + result["unchanged"] + result["failed"]
    )
    assert (result["rows"], result["updated"], result["failed"]) == (3, 1, 2)
    assert result["blank_rows"] == 4
    assert result["sha256"] == hashlib.sha256(modify.encode()).hexdigest()
