"""Every error code of docs/format.md, produced by a real file through the API and the real worker,
with its line and column."""

from __future__ import annotations

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import admin_setup
from tests.importing import (
    ADD_HEADER,
    cases_by_tag,
    count_cases,
    errors_of,
    import_file,
    where,
)

H = ADD_HEADER
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01" + bytes(64)

# (type, file, expected (line, column, code) of the errors, in order)
CASES = {
    "not_text": ("cases.add", PNG, [(None, None, "not_text")]),
    "file_empty_no_header": ("cases.add", b"\r\n ,, \r\n", [(None, None, "file_empty")]),
    "file_empty_no_rows": ("cases.add", H.encode(), [(None, None, "file_empty")]),
    "missing_column": (
        "cases.add",
        b"tag_id,case_status,date_opened\r\nA-1,1,1/2/2024\r\n",
        [(1, "about", "missing_column")],
    ),
    "missing_column_modify_only_tag": (
        "cases.modify",
        b"tag_id\r\nA-1\r\n",
        [(1, None, "missing_column")],
    ),
    "unknown_column": (
        "cases.add",
        b"tag_id,case_status,date_openned,about\r\nA-1,1,1/2/2024,x\r\n",
        [(1, "date_openned", "unknown_column"), (1, "date_opened", "missing_column")],
    ),
    "duplicate_column": (
        "cases.add",
        b"tag_id,Case ID,case_status,date_opened,about\r\nA,B,1,1/2/2024,x\r\n",
        [(1, "tag_id", "duplicate_column")],
    ),
    "field_count": (
        "cases.add",
        # A short row is not one: its missing cells are blank (here: required).
        (H + "A-1,1,1/2/2024,ok\r\nA-2,1,1/2/2024,x,extra\r\nA-3,1\r\n").encode(),
        [(3, None, "field_count"), (4, "date_opened", "required"), (4, "about", "required")],
    ),
    "required": (
        "cases.add",
        (H + "A-1,1,1/2/2024,   \r\n").encode(),
        [(2, "about", "required")],
    ),
    "invalid_tag_id": (
        "cases.add",
        (H + "A_1,1,1/2/2024,x\r\n" + "B" * 65 + ",1,1/2/2024,y\r\n").encode(),
        [(2, "tag_id", "invalid_tag_id"), (3, "tag_id", "invalid_tag_id")],
    ),
    "invalid_status": (
        "cases.add",
        (H + "A-1,2,1/2/2024,x\r\nA-2,open,1/2/2024,y\r\n").encode(),
        [(2, "case_status", "invalid_status"), (3, "case_status", "invalid_status")],
    ),
    "invalid_date": (
        "cases.add",
        (H + "A-1,1,02/30/2024,x\r\nA-2,1,1/2/24,y\r\nA-3,1,01/01/1899,z\r\n").encode(),
        [
            (2, "date_opened", "invalid_date"),
            (3, "date_opened", "invalid_date"),
            (4, "date_opened", "invalid_date"),
        ],
    ),
    "invalid_about": (
        "cases.add",
        (H + "A-1,1,1/2/2024,bell\x07here\r\nA-2,1,1/2/2024," + "x" * 501 + "\r\n").encode(),
        [(2, "about", "invalid_about"), (3, "about", "invalid_about")],
    ),
    "duplicate_in_file": (
        "cases.add",
        (H + "A-1,1,1/2/2024,One\r\na-1,1,1/2/2024,Two\r\nA-3,1,1/2/2024,  one \r\n").encode(),
        [(3, "tag_id", "duplicate_in_file"), (4, "about", "duplicate_in_file")],
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
async def test_file_errors(
    case: str, client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    type_, content, expected = CASES[case]
    admin = await admin_setup(sessionmaker)
    done = await import_file(client, admin, content, type_=type_)
    assert done["status"] == "failed", done
    errors = await errors_of(client, admin, done["id"])
    assert where(errors) == expected
    assert all(e["message"] for e in errors)
    if case == "duplicate_column":
        assert errors[0]["value"] == "Case ID"
    assert await count_cases(sessionmaker) == 0


async def test_messages_name_the_rule_and_value(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    done = await import_file(
        client, admin, b"tag_id,case_status,date_openned,about\r\nA-1,1,1/2/2024,x\r\n"
    )
    [unknown, _missing] = await errors_of(client, admin, done["id"])
    assert unknown["message"] == 'unknown column "date_openned"; did you mean "date_opened"?'
    assert done["error"]["summary"].startswith("The file cannot be imported. Line 1, date_openned:")

    done = await import_file(client, admin, H + "A-1,1,02/30/2024,x\r\n", name="dates")
    [error] = await errors_of(client, admin, done["id"])
    assert error["value"] == "02/30/2024"
    assert "is not a real date in mm/dd/yyyy: check the month and the day" in error["message"]


async def test_database_checks_name_the_other_row_or_case(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    first = await import_file(client, admin, H + "OLD-1,1,1/2/2024,Broken pipe\r\n", name="a")
    assert first["status"] == "completed"

    done = await import_file(
        client,
        admin,
        H + "old-1,1,1/2/2024,New text\r\nNEW-2,1,1/2/2024,broken   PIPE\r\n",
        name="b",
    )
    errors = await errors_of(client, admin, done["id"])
    assert where(errors) == [(2, "tag_id", "already_exists"), (3, "about", "about_taken")]
    assert '"OLD-1"' in errors[1]["message"]

    modify = await import_file(
        client,
        admin,
        "tag_id,about\r\nOLD-1,Fine\r\nGHOST-9,Nothing\r\nold-1,Twice\r\n",
        type_="cases.modify",
        name="c",
    )
    errors = await errors_of(client, admin, modify["id"])
    assert where(errors) == [(3, "tag_id", "not_found"), (4, "tag_id", "duplicate_in_file")]
    assert "line 2" in errors[1]["message"]
    assert (await cases_about(sessionmaker)) == {"OLD-1": "Broken pipe"}


async def cases_about(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    return {tag: case.about for tag, case in (await cases_by_tag(sessionmaker)).items()}


async def test_a_row_with_bad_cells_still_gets_the_database_checks(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    first = await import_file(client, admin, H + "OLD-1,1,1/2/2024,Old\r\n", name="seed")
    assert first["status"] == "completed"
    done = await import_file(
        client,
        admin,
        H + "old-1,1,13/13/2024,New\r\nN-2,x,1/2/2024,Two\r\nn-2,1,1/2/2024,Again\r\n",
        name="all at once",
    )
    errors = await errors_of(client, admin, done["id"])
    # Every problem in one round: the user fixes the date and learns nothing new afterwards.
    assert where(errors) == [
        (2, "tag_id", "already_exists"),
        (2, "date_opened", "invalid_date"),
        (3, "case_status", "invalid_status"),
        (4, "tag_id", "duplicate_in_file"),
    ]
    assert (done["error"]["error_count"], done["error"]["error_rows"]) == (4, 3)
