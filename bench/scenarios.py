"""The imports the bench times through the HTTP API, each checked before its time counts.

Every scenario raises BenchError when its import does not end exactly as expected: a wrong
result is never reported as a time.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from typing import Any

from api.imports.status import ImportStatus
from bench import measure, prepare
from bench.client import Api, Watched
from bench.config import BenchError, Config
from bench.generate import ERRORS_PER_INVALID_ROW, CsvFile
from bench.measure import PollStats, ProgressGaps
from bench.service import Child, Services

ADD = "cases.add"
MODIFY = "cases.modify"


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True, slots=True)
class Files:
    add: CsvFile  # ROWS rows, modified by ``modify``; also validated and polled
    modify: CsvFile
    invalid: CsvFile
    small: CsvFile  # ROWS/10 rows: the worker's memory at a tenth of the size
    pair: tuple[CsvFile, CsvFile]  # ROWS/2 rows each, distinct tags: two apps
    upload: CsvFile  # BENCH_UPLOAD_MIB (200 MiB): the API's memory while receiving
    workbook: CsvFile  # the add file's rows as an .xlsx


@dataclass
class Bench:
    config: Config
    files: Files
    services: Services
    api: Api

    @property
    def worker(self) -> Child:
        if len(self.services.workers) != 1:
            raise BenchError("expected exactly one worker running")
        return self.services.workers[0]

    def timeout(self, rows: int) -> float:
        # Far beyond any plausible time (a 1M-row import at 500 rows/s): a hang, not a result.
        return 120.0 + rows / 500


@dataclass(frozen=True, slots=True)
class Timed:
    """One import, from the first byte of its upload to its terminal status seen by a GET."""

    rows: int
    seconds: float
    upload_seconds: float
    worker_peak_mib: float
    api_peak_mib: float
    worker_cpu_seconds: float
    api_cpu_seconds: float
    progress: ProgressGaps
    phases: dict[str, float]
    body: dict[str, Any]

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds


def _problems(body: dict[str, Any], status: str, result: dict[str, int]) -> list[str]:
    found = []
    if body["status"] != status:
        found.append(f"status is {body['status']}, expected {status}")
    got = body.get("result") or {}
    for key, want in result.items():
        if got.get(key) != want:
            found.append(f"result.{key} is {got.get(key)}, expected {want:,}")
    return found


def expect(what: str, body: dict[str, Any], status: str, **result: int) -> None:
    problems = _problems(body, status, result)
    if problems:
        error = body.get("error") or {}
        raise BenchError(
            f"{what} did not end as expected: {'; '.join(problems)}"
            + (f" (its error: {error.get('summary')})" if error else "")
        )


def check(what: str, ok: bool, detail: str) -> None:
    if not ok:
        raise BenchError(f"{what}: {detail}")


async def check_cases(bench: Bench, what: str, app: str, total: int, active: int) -> None:
    """What the app holds afterwards, read back through the API (the Cases dashboard)."""
    stats = await bench.api.stats(app)
    check(what, stats["total"] == total, f"the app holds {stats['total']:,} cases, not {total:,}")
    check(what, stats["active"] == active, f"{stats['active']:,} cases are active, not {active:,}")


@dataclass(frozen=True, slots=True)
class Started:
    watched: Watched
    worker_cpu: float  # CPU seconds the processes had used when the upload began
    api_cpu: float


async def start_import(
    bench: Bench,
    app: str,
    file: CsvFile,
    name: str,
    import_type: str,
    *,
    validate_only: bool = False,
) -> Started:
    """A checkpoint, fresh memory peaks, then the upload: the clock starts with its first byte."""
    services = bench.services
    await prepare.checkpoint(bench.config)
    await services.fresh_peaks()
    assert services.api is not None
    worker_cpu = measure.cpu_seconds(bench.worker.pid)
    api_cpu = measure.cpu_seconds(services.api.pid)
    log(f"{name}: uploading {file.path.name} ({file.rows:,} rows, {file.mib:.1f} MiB) to {app}")
    watched = await bench.api.upload(app, file.path, name, import_type, validate_only=validate_only)
    return Started(watched, worker_cpu, api_cpu)


async def finish_import(bench: Bench, started: Started, file: CsvFile, name: str) -> Timed:
    """Follow the import to its end; its time, and the processes' peaks and CPU since the start."""
    services, watched = bench.services, started.watched
    assert services.api is not None
    await bench.api.wait(watched, bench.timeout(file.rows), services.check_alive)
    services.check_alive()
    timed = Timed(
        rows=file.rows,
        seconds=watched.finished,
        upload_seconds=watched.uploaded,
        worker_peak_mib=measure.peak_rss_mib(bench.worker.pid),
        api_peak_mib=measure.peak_rss_mib(services.api.pid),
        worker_cpu_seconds=measure.cpu_seconds(bench.worker.pid) - started.worker_cpu,
        api_cpu_seconds=measure.cpu_seconds(services.api.pid) - started.api_cpu,
        progress=measure.progress_gaps(watched.samples),
        phases=measure.phases(watched.samples, watched.uploaded, watched.finished),
        body=watched.body,
    )
    log(f"{name}: {watched.status} in {timed.seconds:.2f} s (upload {timed.upload_seconds:.2f} s)")
    return timed


async def timed_import(
    bench: Bench,
    app: str,
    file: CsvFile,
    name: str,
    import_type: str,
    *,
    validate_only: bool = False,
) -> tuple[Timed, Watched]:
    started = await start_import(bench, app, file, name, import_type, validate_only=validate_only)
    return await finish_import(bench, started, file, name), started.watched


async def add(bench: Bench, app: str, file: CsvFile, name: str) -> Timed:
    """A valid add file into an empty app: every row created."""
    timed, _ = await timed_import(bench, app, file, name, ADD)
    expect(name, timed.body, ImportStatus.COMPLETED, rows=file.rows, created=file.rows, failed=0)
    await check_cases(bench, name, app, file.rows, file.active)
    return timed


async def modify(bench: Bench, app: str) -> Timed:
    """Every case of the add changes its status and its about."""
    file = bench.files.modify
    timed, _ = await timed_import(bench, app, file, "modify", MODIFY)
    expect(
        "modify", timed.body, ImportStatus.COMPLETED, rows=file.rows, updated=file.rows, unchanged=0
    )
    await check_cases(bench, "modify", app, file.rows, file.active)
    return timed


async def validate_only(bench: Bench, app: str) -> Timed:
    """The add file checked into an empty app: it would create every row, and creates none."""
    file = bench.files.add
    timed, _ = await timed_import(bench, app, file, "validate only", ADD, validate_only=True)
    expect(
        "validate_only",
        timed.body,
        ImportStatus.COMPLETED,
        rows=file.rows,
        created=file.rows,
        failed=0,
    )
    check("validate_only", timed.body["validate_only"] is True, "the import is not validate_only")
    await check_cases(bench, "validate_only", app, 0, 0)
    return timed


@dataclass(frozen=True, slots=True)
class Invalid:
    timed: Timed
    error_count: int
    kept_errors: int


async def invalid(bench: Bench, app: str) -> Invalid:
    """Every row has two errors: the import fails, counts every row, keeps the first errors."""
    file, keep = bench.files.invalid, bench.config.max_kept_errors
    timed, watched = await timed_import(bench, app, file, "all invalid", ADD)
    body = timed.body
    expect("all-invalid", body, ImportStatus.FAILED, created=0, failed=file.rows)
    error = body.get("error") or {}
    check("all-invalid", error.get("error_rows") == file.rows, f"error {error}")
    errors = ERRORS_PER_INVALID_ROW * file.rows
    check("all-invalid", error.get("error_count") == errors, f"error {error}")
    summary = str(error.get("summary"))
    check(
        "all-invalid",
        summary.startswith(f"{file.rows:,} rows have errors."),
        f"summary {summary!r}",
    )
    kept, count = await bench.api.errors(app, watched.id)
    expected_kept = min(keep, ERRORS_PER_INVALID_ROW * file.rows)
    check("all-invalid", count == file.rows, f"the errors list counts {count:,} rows")
    check(
        "all-invalid",
        len(kept) == expected_kept,
        f"{len(kept):,} errors kept, not {expected_kept:,}",
    )
    lines = [e["line"] for e in kept]
    check("all-invalid", lines[0] == 2 and lines == sorted(lines), "errors not in line order")
    codes = {e["code"] for e in kept}
    check("all-invalid", codes == {"invalid_status", "invalid_date"}, f"codes {sorted(codes)}")
    await check_cases(bench, "all-invalid", app, 0, 0)
    return Invalid(timed, count, len(kept))


async def polled_add(bench: Bench, app: str) -> tuple[Timed, PollStats]:
    """The add file again, into another empty app, while pollers watch it as the SPA does."""
    file, config = bench.files.add, bench.config
    started = await start_import(bench, app, file, "polled add", ADD)
    log(f"polled add: stored; {config.pollers} pollers watch it")
    pollers = await measure.start_pollers(
        config, bench.services.base_url, app, started.watched.id, bench.api.tokens[app]
    )
    try:
        timed = await finish_import(bench, started, file, "polled add")
    except BaseException:
        pollers.kill()
        await pollers.wait()
        raise
    polls = await measure.finish_pollers(pollers, grace=60.0)
    expect("polled add", timed.body, ImportStatus.COMPLETED, rows=file.rows, created=file.rows)
    check("polled add", polls.errors == 0, f"{polls.errors} polls failed (see stderr)")
    check("polled add", polls.requests > 0, "no poll was answered")
    await check_cases(bench, "polled add", app, file.rows, file.active)
    log(f"polled add: {polls.requests:,} polls, p99 {polls.p99_ms:.1f} ms")
    return timed, polls


@dataclass(frozen=True, slots=True)
class UploadMemory:
    mib: float
    seconds: float
    api_rss_before_mib: float
    api_peak_mib: float


async def upload_memory(bench: Bench, app: str) -> UploadMemory:
    """The API's memory while it receives the large file; with no worker running, the import
    waits queued and is cancelled at once, so nothing spends time on its rows."""
    file, services = bench.files.upload, bench.services
    await services.stop_workers()
    await services.fresh_peaks(workers=False)
    api = services.api
    assert api is not None
    before = measure.rss_mib(api.pid)
    log(f"upload: {file.mib:.1f} MiB to the API (no worker running)")
    watched = await bench.api.upload(app, file.path, "large upload", ADD)
    peak = measure.peak_rss_mib(api.pid)
    stored = watched.body.get("file") or {}
    check("upload", watched.status == ImportStatus.QUEUED, f"the import is {watched.status}")
    check("upload", stored.get("size_bytes") == file.size_bytes, f"stored as {stored}")
    cancelled = await bench.api.cancel(app, watched.id)
    check(
        "upload",
        cancelled["status"] == ImportStatus.CANCELLED,
        f"cancel left it {cancelled['status']}",
    )
    log(f"upload: {watched.uploaded:.2f} s, API peak {peak:.1f} MiB (from {before:.1f} MiB)")
    return UploadMemory(file.mib, watched.uploaded, before, peak)


@dataclass(frozen=True, slots=True)
class Workers:
    workers: int
    rows: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds


async def two_apps(bench: Bench, apps: tuple[str, str], workers: int) -> Workers:
    """The two pair files into two apps at once, with ``workers`` workers that each run one
    import at a time (so one worker does them in turn, and two do them side by side)."""
    services, files = bench.services, bench.files.pair
    await services.stop_workers()
    for _ in range(workers):
        await services.start_worker(concurrency=1)
    await prepare.checkpoint(bench.config)
    log(f"{workers} worker(s): two apps' files ({files[0].rows:,} rows each) at once")
    uploads = await asyncio.gather(
        *(
            bench.api.upload(app, file.path, f"pair {workers}", ADD)
            for app, file in zip(apps, files, strict=True)
        )
    )
    done = await asyncio.gather(
        *(
            bench.api.wait(w, bench.timeout(f.rows), services.check_alive)
            for w, f in zip(uploads, files, strict=True)
        )
    )
    services.check_alive()
    for app, watched, file in zip(apps, done, files, strict=True):
        what = f"{workers}-worker import"
        expect(
            what, watched.body, ImportStatus.COMPLETED, rows=file.rows, created=file.rows, failed=0
        )
        await check_cases(bench, what, app, file.rows, file.active)
    start = min(w.started for w in done)
    seconds = max(w.started + w.finished for w in done) - start
    result = Workers(workers, sum(f.rows for f in files), seconds)
    await services.stop_workers()
    log(f"{workers} worker(s): {seconds:.2f} s, {result.rows_per_second:,.0f} rows/s")
    return result


@dataclass(frozen=True, slots=True)
class Workbook:
    """The add file's rows from an .xlsx, right after the same rows as CSV (its baseline)."""

    csv: Timed
    xlsx: Timed


async def workbook(bench: Bench, csv_app: str, xlsx_app: str) -> Workbook:
    """The same rows added as CSV, then from the workbook, each into an empty app, on a freshly
    started worker: the ratio of the two is the workbook's cost."""
    services = bench.services
    await services.stop_workers()
    await services.start_worker()
    csv = await add(bench, csv_app, bench.files.add, "add (CSV, before the .xlsx)")
    xlsx = await add(bench, xlsx_app, bench.files.workbook, "add from an .xlsx")
    file = xlsx.body.get("file") or {}
    check("add from an .xlsx", file.get("format") == "xlsx", f"read as {file}")
    return Workbook(csv, xlsx)
