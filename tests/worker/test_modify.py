"""Modify semantics (docs/format.md): blank cells keep values, unchanged rows are counted, and the
uniqueness of descriptions holds for the state after the whole file."""

from __future__ import annotations

from datetime import date

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import AdminSetup, admin_setup
from tests.importing import ADD_HEADER, cases_by_tag, errors_of, import_file, where

SEED = ADD_HEADER + (
    "C-1,1,01/05/2024,Water leak\r\nC-2,1,02/06/2024,Broken light\r\nC-3,0,03/07/2024,Noise\r\n"
)


async def seeded(client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> AdminSetup:
    admin = await admin_setup(sessionmaker)
    done = await import_file(client, admin, SEED, name="seed")
    assert done["status"] == "completed", done
    return admin


async def test_blank_cells_keep_values_and_unchanged_rows_count(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await seeded(client, sessionmaker)
    content = (
        "Case ID;Status;Date Opened;Description\r\n"
        "c-1;closed;;\r\n"  # status changes, the rest is kept
        "C-2;1;2/6/2024;Broken light\r\n"  # equal to what is stored: unchanged
        "C-3;;;Noise at night\r\n"
    )
    done = await import_file(client, admin, content, type_="cases.modify", name="m")
    assert done["status"] == "completed", done
    assert done["result"] == {
        "rows": 3,
        "created": 0,
        "updated": 2,
        "unchanged": 1,
        "failed": 0,
        "deleted": 0,
        "blank_rows": 0,
        "sha256": done["file"]["sha256"],
    }
    cases = await cases_by_tag(sessionmaker)
    assert (cases["C-1"].case_status, cases["C-1"].about) == (0, "Water leak")
    assert cases["C-1"].date_opened == date(2024, 1, 5)
    assert cases["C-3"].about == "Noise at night"
    assert str(cases["C-1"].updated_by_import) == done["id"]
    assert str(cases["C-2"].updated_by_import) != done["id"]


async def test_two_cases_may_swap_descriptions(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await seeded(client, sessionmaker)
    content = "tag_id,about\r\nC-1,Broken light\r\nC-2,water LEAK\r\n"
    done = await import_file(client, admin, content, type_="cases.modify", name="swap")
    assert done["status"] == "completed", done
    cases = await cases_by_tag(sessionmaker)
    assert (cases["C-1"].about, cases["C-2"].about) == ("Broken light", "water LEAK")


async def test_description_kept_by_another_case_is_taken(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await seeded(client, sessionmaker)
    content = "tag_id,about\r\nC-1,Noise\r\nC-2,New one\r\nC-3,new  one\r\n"
    done = await import_file(client, admin, content, type_="cases.modify", name="taken")
    assert done["status"] == "failed"
    errors = await errors_of(client, admin, done["id"])
    assert where(errors) == [(2, "about", "about_taken"), (4, "about", "about_taken")]
    assert '"C-3"' in errors[0]["message"]
    assert "line 3" in errors[1]["message"]
    assert (await cases_by_tag(sessionmaker))["C-1"].about == "Water leak"


async def test_skip_mode_runs_description_checks_to_a_fixed_point(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await seeded(client, sessionmaker)
    # C-1 may not take "Noise" (C-3 keeps it), so C-1 keeps "Water leak", and then C-2 may not
    # take "Water leak" either: the second refusal follows only from the first.
    content = "tag_id,case_status,about\r\nC-1,,Noise\r\nC-2,,Water leak\r\nC-3,1,\r\n"
    done = await import_file(
        client, admin, content, type_="cases.modify", name="skip", on_error="skip"
    )
    assert done["status"] == "completed", done
    assert done["result"] == {
        "rows": 3,
        "created": 0,
        "updated": 1,
        "unchanged": 0,
        "failed": 2,
        "deleted": 0,
        "blank_rows": 0,
        "sha256": done["file"]["sha256"],
    }
    errors = await errors_of(client, admin, done["id"])
    assert where(errors) == [(2, "about", "about_taken"), (3, "about", "about_taken")]
    cases = await cases_by_tag(sessionmaker)
    assert [cases[t].about for t in ("C-1", "C-2", "C-3")] == [
        "Water leak",
        "Broken light",
        "Noise",
    ]
    assert cases["C-3"].case_status == 1
