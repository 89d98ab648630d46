"""The fast paths' contract, checked on many files: an import that may take a fast path ends
exactly as the checked path alone would end it (status, counts, errors, what each row is recorded
to do, and every stored case).

Each file is imported twice, into two apps holding the same cases: once as deployed, once with
the fast paths turned off. Files are random but reproducible (a seed per file), half of them
clean (where a fast path completes), half with the mistakes the fast paths must refuse:
repeated and existing tags, taken and swapped descriptions, unknown tags, bad cells, dates of
either order.
"""

from __future__ import annotations

import logging
import random
from datetime import date
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.cases.models import Case
from api.db import unit_of_work
from tests.api.test_changes import changes_of
from tests.factories import AdminSetup, admin_setup
from tests.importing import errors_of, get_import, upload
from tests.worker_harness import run_worker
from worker.pipeline import runner
from worker.pipeline.paths import batched

FILES = 12
STORED = {"T-0": "a0", "T-1": "a1", "T-2": "a2", "T-3": "a3"}


def _tag(rng: random.Random, pool: int) -> str:
    tag = f"T-{rng.randrange(pool)}"
    return tag.lower() if rng.random() < 0.2 else tag


def _add_file(rng: random.Random) -> str:
    rows = []
    clean = rng.random() < 0.5
    tags = [f"N-{n}" for n in range(8)]
    for n in range(rng.randint(2, 8)):
        if clean:
            tag, about = tags[n], f"new {n}"
        else:
            tag = rng.choice([_tag(rng, 6), rng.choice(tags)])
            about = rng.choice(["a0", "A0", "new 1", "new 2", f"new {n}", "a1 "])
        opened = "1/2/2024" if clean or rng.random() < 0.8 else "13/45/2024"
        rows.append(f"{tag},{rng.choice('01')},{opened},{about}\r\n")
    return "tag_id,case_status,date_opened,about\r\n" + "".join(rows)


def _modify_file(rng: random.Random) -> str:
    rows = []
    clean = rng.random() < 0.5
    order = rng.sample(sorted(STORED), len(STORED))
    for n in range(rng.randint(2, 7)):
        if clean and n < len(order):
            tag, about = order[n], rng.choice(["", f"changed {n}"])
        elif clean:
            break
        else:
            tag = _tag(rng, 6)
            about = rng.choice(["", "a0", "a1", "a2", "changed", f"changed {n}"])
        status = rng.choice(["", "0", "1", "1"] if clean else ["", "0", "1", "7"])
        opened = rng.choice(
            ["", "1/2/2024", "2/1/2024"] if clean else ["", "2/13/2024", "13/2/2024"]
        )
        rows.append(f"{tag},{status},{opened},{about}\r\n")
    return "tag_id,case_status,date_opened,about\r\n" + "".join(rows)


async def _app_with_stored_cases(
    sessionmaker: async_sessionmaker[AsyncSession], slug: str
) -> AdminSetup:
    admin = await admin_setup(sessionmaker, slug, f"{slug}@example.org")
    async with unit_of_work(sessionmaker) as session:
        for tag, about in STORED.items():
            session.add(
                Case(
                    app_id=admin.app_id,
                    tag_id=tag,
                    case_status=1,
                    date_opened=date(2024, 1, 1),
                    about=about,
                )
            )
    return admin


async def _ending(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    admin: AdminSetup,
    content: str,
    options: dict[str, str],
) -> dict[str, Any]:
    created = await upload(client, admin, content.encode(), **options)
    await run_worker()
    done = await get_import(client, admin, created["id"])
    async with sessionmaker() as session:
        cases = (await session.execute(select(Case).where(Case.app_id == admin.app_id))).scalars()
        stored = sorted(
            (
                c.tag_id,
                c.case_status,
                c.date_opened,
                c.about,
                str(c.updated_by_import) == done["id"],
            )
            for c in cases
        )
    errors = [
        (e["line"], e["column"], e["value"], e["code"], e["message"])
        for e in await errors_of(client, admin, done["id"])
    ]
    changes = [
        (
            c["line"],
            c["action"],
            c["tag_id"],
            [(f["field"], f["old"], f["new"]) for f in c["fields"]],
        )
        for c in await changes_of(client, admin, done["id"])
    ]
    return {
        "status": done["status"],
        "result": done["result"],
        "warnings": done["warnings"],
        "errors": errors,
        "changes": changes,
        "cases": stored,
    }


@pytest.mark.parametrize(
    ("type_", "options"),
    [
        ("cases.add", {}),
        ("cases.add", {"validate_only": "true"}),
        ("cases.modify", {}),
    ],
    ids=["add", "add-validate-only", "modify"],
)
async def test_a_fast_path_ends_every_file_as_the_checked_path_does(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    type_: str,
    options: dict[str, str],
) -> None:
    monkeypatch.setattr(batched, "BATCH_ROWS", 3)  # several batches, even in a small file
    make = _add_file if type_ == "cases.add" else _modify_file
    endings = set()
    caplog.set_level(logging.INFO, logger="worker.timing")
    for seed in range(FILES):
        content = make(random.Random(f"{type_}-{seed}"))
        fast_app = await _app_with_stored_cases(sessionmaker, f"fast-{seed}")
        fast = await _ending(client, sessionmaker, fast_app, content, {"type_": type_, **options})
        with monkeypatch.context() as only_checked:
            only_checked.setattr(runner, "_fast_path", lambda job: None)
            checked_app = await _app_with_stored_cases(sessionmaker, f"checked-{seed}")
            checked = await _ending(
                client, sessionmaker, checked_app, content, {"type_": type_, **options}
            )
        assert fast == checked, content
        endings.add(fast["status"])
    # Both sides of the contract are exercised: files the fast path completed, and files it
    # refused that then failed.
    assert endings == {"completed", "failed"}
    assert "(fast)" in caplog.text
