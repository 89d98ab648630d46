"""The direct path: a clean file's rows copied straight into their table in one streaming COPY,
the table's constraints doing the checks (an add)."""

from __future__ import annotations

import asyncpg

from api.pg import Connection
from worker.pipeline.heartbeat import Progress
from worker.pipeline.job import Job
from worker.pipeline.outcome import Completed, Refused
from worker.pipeline.read import read_into_table


async def run(conn: Connection, job: Job, progress: Progress) -> Completed:
    """Refused at the first bad row, or when a constraint refuses a row."""
    make = job.statements.direct_copy
    assert make is not None
    try:
        read = await read_into_table(conn, job, make(job.scope), progress)
    except asyncpg.IntegrityConstraintViolationError:
        raise Refused from None
    job.clock.lap("write")
    counts = job.statements.outcome(read.rows, read.rows).counts(read.rows)
    return Completed(counts, warnings=read.warnings, read_as=read.read_as)
