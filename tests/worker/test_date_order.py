"""Date order decided by the whole file: a day-first file is never stored with its months and
days swapped, whichever path it takes and whatever ``on_error`` says."""

from __future__ import annotations

from datetime import date

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import admin_setup
from tests.importing import ADD_HEADER, cases_by_tag, count_cases, errors_of, import_file

# A UK export: 2 January, 3 February, 12 November: every date reads two ways.
ALL_AMBIGUOUS = "A-1,1,02/01/2024,One\r\nA-2,1,03/02/2024,Two\r\nA-3,0,12/11/2023,Three\r\n"
# The same file with one date that can only be day first (28 November), on line 4.
WITH_DAY_FIRST = ALL_AMBIGUOUS + "A-4,1,28/11/2023,Four\r\n"


async def test_a_file_of_ambiguous_dates_is_read_month_first_with_a_warning(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    checked = await import_file(client, admin, ADD_HEADER + ALL_AMBIGUOUS, validate_only="true")
    # Seen before anything is applied.
    assert checked["status"] == "completed", checked
    assert [(w["code"], w["count"]) for w in checked["warnings"]] == [("dates_ambiguous", 3)]
    assert "day first" in checked["warnings"][0]["message"]

    done = await import_file(client, admin, ADD_HEADER + ALL_AMBIGUOUS, name="as is")
    assert done["status"] == "completed", done
    assert [w["code"] for w in done["warnings"]] == ["dates_ambiguous"]
    assert (await cases_by_tag(sessionmaker))["A-1"].date_opened == date(2024, 2, 1)


async def test_day_first_order_stores_the_dates_as_written(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    done = await import_file(client, admin, ADD_HEADER + WITH_DAY_FIRST, date_order="dmy")
    assert done["status"] == "completed", done
    assert (done["date_order"], done["warnings"]) == ("dmy", [])
    opened = {tag: case.date_opened for tag, case in (await cases_by_tag(sessionmaker)).items()}
    assert opened == {
        "A-1": date(2024, 1, 2),
        "A-2": date(2024, 2, 3),
        "A-3": date(2023, 11, 12),
        "A-4": date(2023, 11, 28),
    }


@pytest.mark.parametrize("on_error", ["fail", "skip"])
async def test_one_day_first_date_fails_the_whole_file_in_month_first_order(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], on_error: str
) -> None:
    admin = await admin_setup(sessionmaker)
    done = await import_file(client, admin, ADD_HEADER + WITH_DAY_FIRST, on_error=on_error)
    assert done["status"] == "failed", done
    assert await count_cases(sessionmaker) == 0  # not even the skipped rows' neighbours
    errors = await errors_of(client, admin, done["id"])
    assert [(e["line"], e["column"], e["code"]) for e in errors] == [
        (5, "date_opened", "date_order_unclear")
    ]
    message = errors[0]["message"]
    assert '1 date can only be read day first (the first is "28/11/2023" on line 5)' in message
    assert "3 more could be read either way" in message
    assert done["error"]["summary"].startswith("The file cannot be imported.")


async def test_one_date_that_only_reads_month_first_confirms_the_order(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    content = ADD_HEADER + ALL_AMBIGUOUS + "A-4,1,11/28/2023,Four\r\n"
    done = await import_file(client, admin, content)
    assert (done["status"], done["warnings"]) == ("completed", [])


async def test_an_unknown_date_order_is_refused(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    response = await client.post(
        f"/api/apps/{admin.slug}/imports",
        data={"name": "x", "type": "cases.add", "date_order": "ymd"},
        headers=admin.headers,
    )
    assert response.status_code == 422, response.text
    assert [e["loc"] for e in response.json()["errors"]] == [["body", "date_order"]]
