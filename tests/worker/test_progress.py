"""Progress while a file is read: rows are counted a slice at a time, not a stored chunk at a time,
so that the count an admin watches moves even while one big chunk is being parsed."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date

from api.import_types.dates import DateOrder
from api.import_types.registry import get_type
from api.imports.lifecycle import Claim
from worker.pipeline.heartbeat import Progress
from worker.pipeline.job import Job
from worker.pipeline.laps import Laps
from worker.pipeline.read import PROGRESS_ROWS, BatchReading
from worker.pipeline.sql import statements_for

ROWS = 4 * PROGRESS_ROWS + 100


async def test_rows_are_counted_while_one_chunk_is_still_being_read() -> None:
    add, statements = get_type("cases.add"), statements_for("cases.add")
    assert add is not None
    assert statements is not None
    content = "tag_id,case_status,date_opened,about\r\n" + "".join(
        f"T-{n},1,1/2/2024,Case {n}\r\n" for n in range(ROWS)
    )

    async def one_chunk() -> AsyncIterator[bytes]:
        yield content.encode()

    progress = Progress()
    seen: list[tuple[int, int]] = []  # (rows handed on, rows reported) at each batch
    handed = 0
    claim = Claim(
        uuid.uuid4(),
        1,
        uuid.uuid4(),
        add.key,
        uuid.uuid4(),
        False,
        False,
        DateOrder.MDY,
        encoding=None,
        sheet=None,
    )
    job = Job(claim, add, statements, one_chunk, date(2026, 11, 25), 1000, Laps("test"))
    async for batch in BatchReading(job, progress, 500):
        handed += len(batch)
        seen.append((handed, progress.rows))

    reported = sorted({rows for _, rows in seen})
    # Several counts before the chunk is done, each at most one slice behind the rows handed on.
    assert len([rows for rows in reported if 0 < rows < ROWS]) >= 3
    assert all(handed - rows <= PROGRESS_ROWS for handed, rows in seen)
    assert progress.rows == ROWS
