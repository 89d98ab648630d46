"""Real-world files through the whole pipeline: encodings, delimiters, line endings, quoting,
and the cap on kept errors."""

from __future__ import annotations

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import admin_setup
from tests.importing import cases_by_tag, errors_of, import_file, where


async def test_windows_1252_file_from_excel(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    # Plenty of plain rows first: the non-UTF-8 byte comes late, after rows were staged, so the
    # worker must start the file over as Windows-1252.
    plain = "".join(f"P-{n},1,1/2/2024,Plain case {n}\r\n" for n in range(30_000))
    text = "Tag ID,Case Status,Date Opened,About\r\n" + plain + "X-1,0,12/31/2023,Café – €5\r\n"
    done = await import_file(client, admin, text.encode("cp1252"))
    assert done["status"] == "completed", done
    assert done["result"]["created"] == 30_001
    assert (await cases_by_tag(sessionmaker))["X-1"].about == "Café – €5"


async def test_utf16_with_tabs(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    text = "tag_id\tstatus\topened\tdescription\r\nU-1\tactive\t2024-05-06\tÜber straße\r\n"
    done = await import_file(client, admin, text.encode("utf-16"))
    assert done["status"] == "completed", done
    assert (await cases_by_tag(sessionmaker))["U-1"].about == "Über straße"


async def test_bom_semicolons_cr_endings_and_quotes(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    text = (
        "\ufefftag_id;case_status;date_opened;about\r"
        '"Q-1";1;3/7/2024;"Leak; ""urgent"""\r'
        "\r"  # an empty line is skipped but still counted
        ";;;\r"
        "Q-2;0;3/8/2024;  Trimmed  \r"
    )
    done = await import_file(client, admin, text.encode())
    assert done["status"] == "completed", done
    cases = await cases_by_tag(sessionmaker)
    assert cases["Q-1"].about == 'Leak; "urgent"'
    assert cases["Q-2"].about == "Trimmed"


async def test_line_numbers_count_physical_lines_of_quoted_cells(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    text = (
        "tag_id,case_status,date_opened,about\n"
        'M-1,1,1/2/2024,"two\nlines"\n'  # lines 2-3; a line break is not printable text
        "\n"  # line 4
        "M-2,7,1/2/2024,fine\n"  # line 5
    )
    done = await import_file(client, admin, text.encode())
    assert where(await errors_of(client, admin, done["id"])) == [
        (2, "about", "invalid_about"),
        (5, "case_status", "invalid_status"),
    ]


async def test_errors_are_capped_but_counted_exactly(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    rows = "".join(f"B-{n},9,1/2/2024,x{n}\r\n" for n in range(1_200))
    done = await import_file(client, admin, "tag_id,case_status,date_opened,about\r\n" + rows)
    assert done["status"] == "failed"
    assert done["error"]["error_count"] == 1_200
    assert done["error"]["summary"].startswith("1,200 rows have errors. Line 2, case_status:")
    kept = await errors_of(client, admin, done["id"])
    assert len(kept) == 500  # one page; the rest follow the cursor
    response = await client.get(
        f"/api/apps/{admin.slug}/imports/{done['id']}/errors.csv", headers=admin.headers
    )
    assert len(response.text.strip().splitlines()) == 1 + 1_000
