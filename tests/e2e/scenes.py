"""Imports set up through the HTTP API (with the admin's token) in each of the states the SPA
words differently: what the browser tests of statuses and of narrow screens look at."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx

from tests.e2e.ui import ADD_HEADER, IMPORT_TIMEOUT, TERMINAL
from tests.factories import AdminSetup


def good(tag: str) -> str:
    """Two good rows, their tags and descriptions marked with ``tag`` (descriptions are unique)."""
    return ADD_HEADER + (
        f"{tag}-1,1,01/02/2024,{tag}: water supply complaint on Elm Street near the old library\r\n"
        f"{tag}-2,0,01/03/2024,{tag}: street light out\r\n"
    )


def mixed(tag: str) -> str:
    """Two good rows and three bad ones."""
    return ADD_HEADER + (
        f"{tag}-1,1,01/02/2024,{tag}: a good row\r\n"
        f"{tag}-2,1,02/30/2024,{tag}: a day its month does not have\r\n"
        f"{tag}-3,1,01/04/2024,{tag}: another good row\r\n"
        f"{tag}-4,7,01/05/2024,{tag}: a status that is not one\r\n"
        f"{tag}-5,1,13/13/2024,{tag}: not a date at all\r\n"
    )


ALL_BAD = ADD_HEADER + "".join(f"X-{n},1,02/30/2024,Bad row {n}\r\n" for n in range(1, 6))
UNKNOWN_COLUMN = (
    "tag_id,case_status,date_opened,about,priority\r\n"
    "U-1,1,01/02/2024,A row that is never read,high\r\n"
)


async def finished(base_url: str, admin: AdminSetup, import_id: str) -> dict[str, Any]:
    """The import, once the live worker has brought it to its end."""
    url = f"/api/apps/{admin.slug}/imports/{import_id}"
    deadline = time.monotonic() + IMPORT_TIMEOUT / 1000
    async with httpx.AsyncClient(base_url=base_url, headers=admin.headers) as client:
        while True:
            body: dict[str, Any] = (await client.get(url)).raise_for_status().json()
            if body["status"] in TERMINAL:
                return body
            assert time.monotonic() < deadline, f"import still {body['status']}: {body}"
            await asyncio.sleep(0.05)


async def run_import(
    base_url: str,
    admin: AdminSetup,
    content: str | bytes,
    name: str,
    *,
    on_error: str = "fail",
    validate_only: bool = False,
) -> dict[str, Any]:
    """Upload an add-cases file (text as UTF-8) and answer the import once it has finished."""
    raw = content.encode() if isinstance(content, str) else content
    async with httpx.AsyncClient(base_url=base_url, headers=admin.headers) as client:
        response = await client.post(
            f"/api/apps/{admin.slug}/imports",
            data={
                "name": name,
                "type": "cases.add",
                "on_error": on_error,
                "validate_only": "true" if validate_only else "false",
            },
            files={"file": ("cases.csv", raw, "text/csv")},
        )
    assert response.status_code == 201, response.text
    return await finished(base_url, admin, str(response.json()["id"]))


async def revert(base_url: str, admin: AdminSetup, import_id: str) -> dict[str, Any]:
    """Revert an import; answers the revert once it has finished."""
    async with httpx.AsyncClient(base_url=base_url, headers=admin.headers) as client:
        response = await client.post(f"/api/apps/{admin.slug}/imports/{import_id}/revert")
    assert response.status_code == 201, response.text
    return await finished(base_url, admin, str(response.json()["id"]))


@dataclass(frozen=True, slots=True)
class Scene:
    """One app's imports, one of each kind, by name."""

    completed: dict[str, Any]
    failed: dict[str, Any]
    skipped: dict[str, Any]
    all_failed: dict[str, Any]
    checked: dict[str, Any]
    reverted: dict[str, Any]
    revert: dict[str, Any]
    header: dict[str, Any]


async def every_kind(base_url: str, admin: AdminSetup) -> Scene:
    """Imports that completed, failed, skipped some or all rows, were checked only, were
    reverted (and the revert), and failed on their header."""
    completed = await run_import(base_url, admin, good("S"), "Spring cases from the field office")
    reverted = await run_import(base_url, admin, good("R"), "Taken back")
    assert reverted["status"] == "completed", reverted
    undo = await revert(base_url, admin, str(reverted["id"]))
    return Scene(
        completed=completed,
        failed=await run_import(base_url, admin, mixed("M"), "Broken dates"),
        skipped=await run_import(base_url, admin, mixed("K"), "Some skipped", on_error="skip"),
        all_failed=await run_import(base_url, admin, ALL_BAD, "All skipped", on_error="skip"),
        checked=await run_import(base_url, admin, good("C"), "Dry run", validate_only=True),
        reverted=await finished(base_url, admin, str(reverted["id"])),
        revert=undo,
        header=await run_import(base_url, admin, UNKNOWN_COLUMN, "Extra column"),
    )
