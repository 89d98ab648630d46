"""Files from older programs: the encoding is decided by the whole file and shown to the user,
refused when the evidence does not settle it, and never guessed when the user names it."""

from __future__ import annotations

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import admin_setup
from tests.importing import ADD_HEADER, cases_by_tag, count_cases, errors_of, import_file

ABOUTS = {
    "A-1": "Año nuevo: reclamación por daños",
    "A-2": "Facture impayée depuis janvier",
    "A-3": "Straße gesperrt wegen Überschwemmung",
    "A-4": "Iluminação pública apagada",
}
# Plain rows first: the first accented byte comes late, after rows were already staged.
PLAIN = "".join(f"P-{n},1,1/2/2024,Plain case {n}\r\n" for n in range(5_000))


def _file(abouts: dict[str, str]) -> str:
    return ADD_HEADER + PLAIN + "".join(f"{t},1,1/13/2024,{a}\r\n" for t, a in abouts.items())


@pytest.mark.parametrize("encoding", ["cp1252", "mac-roman", "cp850", "cp858", "iso8859-15"])
async def test_each_western_encoding_is_read_as_written_and_named(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], encoding: str
) -> None:
    admin = await admin_setup(sessionmaker)
    done = await import_file(client, admin, _file(ABOUTS).encode(encoding))
    assert done["status"] == "completed", done
    stored = await cases_by_tag(sessionmaker)
    assert {tag: stored[tag].about for tag in ABOUTS} == ABOUTS
    # Files whose accented letters are the same in two encodings are named by the first; IBM 858
    # is IBM 850 with the euro sign, and reads the same where 850 has no euro sign.
    named = {"iso8859-15": "cp1252", "cp850": "cp858"}.get(encoding, encoding)
    assert (done["file"]["encoding"], done["file"]["delimiter"]) == (named, ",")
    [warning] = done["warnings"]
    assert warning["code"] == "encoding_guessed"
    assert f"line {5_002}" in warning["message"]
    assert "Año nuevo: reclamación por daños" in warning["message"]


async def test_the_euro_sign_tells_iso_8859_15_from_windows_1252(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    abouts = {"E-1": "Rechnung über 40 € offen", "E-2": "Cœur du problème: une œuvre"}
    done = await import_file(client, admin, _file(abouts).encode("iso8859-15"))
    assert done["status"] == "completed", done
    assert done["file"]["encoding"] == "iso8859-15"
    stored = await cases_by_tag(sessionmaker)
    assert {tag: stored[tag].about for tag in abouts} == abouts


async def test_a_file_the_evidence_does_not_settle_is_refused_with_each_reading(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    # One byte, alone between spaces: a letter in every one of the encodings.
    content = (ADD_HEADER + "U-1,1,1/13/2024,Grade \xe9 only\r\n").encode("cp1252")
    done = await import_file(client, admin, content)
    assert done["status"] == "failed", done
    [error] = await errors_of(client, admin, done["id"])
    assert (error["line"], error["code"]) == (2, "encoding_unclear")
    assert (
        'Windows-1252 (Excel on Windows) reads it as "U-1,1,1/13/2024,Grade é only"'
        in (error["message"])
    )
    assert "Mac Roman" in error["message"]
    assert await count_cases(sessionmaker) == 0

    # Named by the user, it is read so, without a guess or a warning.
    done = await import_file(client, admin, content, name="named", encoding="windows-1252")
    assert done["status"] == "completed", done
    assert (done["encoding"], done["file"]["encoding"], done["warnings"]) == (
        "cp1252",
        "cp1252",
        [],
    )
    assert (await cases_by_tag(sessionmaker))["U-1"].about == "Grade é only"


async def test_utf8_files_are_named_and_carry_no_warning(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    done = await import_file(client, admin, _file(ABOUTS).replace(",", ";").encode("utf-8-sig"))
    assert done["status"] == "completed", done
    assert (done["file"]["encoding"], done["file"]["delimiter"], done["warnings"]) == (
        "utf-8-sig",
        ";",
        [],
    )


async def test_an_unknown_encoding_is_refused(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    response = await client.post(
        f"/api/apps/{admin.slug}/imports",
        data={"name": "x", "type": "cases.add", "encoding": "rot13"},
        headers=admin.headers,
    )
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["loc"] == ["body", "encoding"]
    assert "cp1252" in error["message"]
