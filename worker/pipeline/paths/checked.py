"""The checked path, which every file can take: stage every readable row, check them all in
SQL, then fail with every error, or apply the good rows (or, for validate_only, count what
applying them would change)."""

from __future__ import annotations

from api.import_types.base import ImportType
from api.import_types.row_error import RowError
from api.imports.error_groups import grouped
from api.imports.lifecycle import Counts
from api.pg import Connection
from worker.pipeline import stage
from worker.pipeline.errors import ErrorCollector
from worker.pipeline.heartbeat import ImportLost, Progress
from worker.pipeline.job import Job
from worker.pipeline.outcome import Completed, Failed, Outcome
from worker.pipeline.read import read_into_staging


def _in_file_order(import_type: ImportType, errors: list[RowError]) -> list[RowError]:
    order = {c.name: i for i, c in enumerate(import_type.columns)}
    return sorted(errors, key=lambda e: (e.line or 0, order.get(e.column or "", -1)))


async def run(conn: Connection, job: Job, progress: Progress) -> Outcome:
    keep, claim = job.keep_errors, job.claim
    collector = ErrorCollector(keep)
    await stage.create_tables(conn, job.statements.staging)
    read = await read_into_staging(conn, job, progress, collector)
    if read.file_errors:
        errors = read.file_errors
        return Failed(None, errors[:keep], 0, read.warnings, read.read_as, grouped(errors))
    job.clock.lap("read")
    await stage.run_checks(conn, job.statements, job.scope, skip_bad_rows=claim.skip_bad_rows)
    job.clock.lap("checks")
    if progress.lost:
        raise ImportLost

    sql_bad, sql_errors = await stage.sql_errors(conn, keep)
    for group in await stage.sql_error_groups(conn):
        collector.tally.merge(group)
    groups = collector.tally.groups()
    error_rows = collector.bad_rows + sql_bad
    errors = _in_file_order(job.import_type, collector.kept + sql_errors)[:keep]
    if error_rows:
        await stage.record_failed(conn, job.statements, job.scope)
    if error_rows and not claim.skip_bad_rows:
        counts = Counts(rows=read.rows, failed=error_rows)
        return Failed(counts, errors, error_rows, read.warnings, read.read_as, groups)

    progress.applying()
    good = await stage.good_rows(conn)
    plan = claim.validate_only
    recorded = await stage.record_changes(conn, job.statements, job.scope, plan=plan)
    if not plan:
        await stage.apply(conn, job.statements, job.scope)
    job.clock.lap("apply")
    # An applied import's creates are not recorded: they are the good rows that are not
    # updates or unchanged.
    created = recorded.created if plan else good - recorded.updated - recorded.unchanged
    counts = Counts(read.rows, created, recorded.updated, recorded.unchanged, failed=error_rows)
    return Completed(counts, errors, error_rows, read.warnings, read.read_as, groups)
