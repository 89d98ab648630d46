"""What the scenarios share: case files, uploads through the API, the database read directly
(asyncpg), bounded waits that say what they wait for, which worker runs an import, and the
RECOVERY lines."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx

from bench.generate import CsvFile, add_file, modify_file
from tests.faults.service import Proc, Service

T = TypeVar("T")

# A wait longer than this says what it waits for, and again every time this much more passes.
SAY_EVERY = 5.0
# Rows of the imports that a fault hits mid-way: enough to run for seconds on this machine.
BIG_ROWS = 200_000
# The RECOVERY and MEASURE lines of the run, repeated in the terminal summary.
RECOVERIES: list[str] = []


def say(message: str) -> None:
    print(f"[faults {time.strftime('%H:%M:%S')}] {message}", flush=True)


async def wait_for(
    what: str,
    check: Callable[[], Awaitable[T | None]],
    within: float,
    *,
    interval: float = 0.1,
) -> T:
    """``check()``'s first true answer, polled every ``interval`` seconds; AssertionError
    naming ``what`` after ``within`` seconds."""
    start = time.monotonic()
    next_say = start + SAY_EVERY
    while True:
        value = await check()
        if value:
            return value
        now = time.monotonic()
        if now - start > within:
            raise AssertionError(f"waited {within:.0f} s for {what}, in vain")
        if now >= next_say:
            say(f"waiting {now - start:.0f} s (of {within:.0f} s) for {what}")
            next_say += SAY_EVERY
        await asyncio.sleep(interval)


def recovery(scenario: str, seconds: float, target: float, *, reached: bool = True) -> None:
    """The scenario's RECOVERY line: from the fault to the import running again or finished."""
    took = f"{seconds:.1f} s" if reached else f"none within {seconds:.1f} s"
    line = f"RECOVERY {scenario}: {took} (target {target:g} s)"
    RECOVERIES.append(line)
    print(line, flush=True)


def measure(name: str, value: float, unit: str, target: float) -> None:
    """A scenario's MEASURE line (a number that is not a recovery: a latency, a size), collected
    with the RECOVERY lines in the terminal summary."""
    line = f"MEASURE {name}: {value:.0f} {unit} (target {target:g} {unit})"
    RECOVERIES.append(line)
    print(line, flush=True)


def rss_mib(proc: Proc) -> float:
    """The process's resident memory (VmRSS), in MiB."""
    for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {proc.name} (pid {proc.pid})")


async def measure_recovery(
    scenario: str, target: float, fault: float, waiting: Awaitable[T]
) -> tuple[T, float]:
    """``waiting``'s answer and the seconds since ``fault`` (a monotonic time), printed as the
    scenario's RECOVERY line, also when the wait runs out."""
    try:
        value = await waiting
    except AssertionError:
        recovery(scenario, time.monotonic() - fault, target, reached=False)
        raise
    took = time.monotonic() - fault
    recovery(scenario, took, target)
    return value, took


# --- files ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseFiles:
    """An add file of ``rows`` cases tagged ``prefix``, and a modify file of the same cases
    (every status flipped, every about prefixed ``Follow-up: ``)."""

    add: CsvFile
    modify: CsvFile
    prefix: str

    @property
    def rows(self) -> int:
        return self.add.rows


def case_files(folder: Path, rows: int, prefix: str) -> CaseFiles:
    """bench's generators (cached in ``folder``: the same arguments give the same bytes)."""
    return CaseFiles(
        add_file(folder, rows, prefix, 1), modify_file(folder, rows, prefix, 1), prefix
    )


# --- the database -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportRow:
    id: uuid.UUID
    name: str
    status: str
    attempt: int
    started_at: Any
    finished_at: Any
    rows_processed: int
    result: str | None
    error_summary: str | None
    error_count: int | None

    def __str__(self) -> str:
        return (
            f"{self.name}: {self.status} attempt {self.attempt}, {self.rows_processed} rows"
            + (f", result {self.result}" if self.result else "")
            + (f", error {self.error_summary!r}" if self.error_summary else "")
        )


_CONNECTION_LOST = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
)


@dataclass
class Database:
    """The service's database, read directly. Every query survives a server restart: it is
    retried on a new connection until ``timeout`` runs out."""

    url: str
    pool: asyncpg.Pool | None = None
    # How long a query keeps trying while the server is away.
    patience: float = 60.0

    async def _pool(self) -> asyncpg.Pool:
        if self.pool is None:
            self.pool = await asyncpg.create_pool(self.url, min_size=1, max_size=3)
        return self.pool

    async def _retry(self, call: Callable[[asyncpg.Pool], Awaitable[T]]) -> T:
        deadline = time.monotonic() + self.patience
        while True:
            try:
                return await call(await self._pool())
            except _CONNECTION_LOST:
                if time.monotonic() > deadline:
                    raise
                if self.pool is not None:
                    self.pool.terminate()
                    self.pool = None
                await asyncio.sleep(0.2)

    async def fetch(self, query: str, *args: object) -> list[asyncpg.Record]:
        return await self._retry(lambda pool: pool.fetch(query, *args))

    async def fetchval(self, query: str, *args: object) -> Any:
        return await self._retry(lambda pool: pool.fetchval(query, *args))

    async def execute(self, query: str, *args: object) -> str:
        return await self._retry(lambda pool: pool.execute(query, *args))

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()
            self.pool = None

    async def import_row(self, import_id: uuid.UUID) -> ImportRow:
        rows = await self.fetch(
            """SELECT id, name, status, attempt, started_at, finished_at, rows_processed,
                      result::text AS result, error_summary, error_count
               FROM imports WHERE id = $1""",
            import_id,
        )
        assert rows, f"no import {import_id}"
        return ImportRow(**dict(rows[0]))

    async def cases(self, app_id: uuid.UUID) -> int:
        return int(await self.fetchval("SELECT count(*) FROM cases WHERE app_id = $1", app_id))

    async def modified(self, app_id: uuid.UUID) -> tuple[int, int]:
        """Cases whose about the modify file wrote, and active cases."""
        row = (
            await self.fetch(
                """SELECT count(*) FILTER (WHERE about LIKE 'Follow-up: %') AS modified,
                          count(*) FILTER (WHERE case_status = 1) AS active
                   FROM cases WHERE app_id = $1""",
                app_id,
            )
        )[0]
        return int(row["modified"]), int(row["active"])

    async def error_codes(self, import_id: uuid.UUID) -> list[str]:
        rows = await self.fetch(
            "SELECT DISTINCT code FROM import_errors WHERE import_id = $1", import_id
        )
        return [row["code"] for row in rows]


# --- the API ----------------------------------------------------------------------------------


@dataclass
class App:
    """An app of the suite's own, with an owner's token for it."""

    slug: str
    id: uuid.UUID
    token: str
    imports: list[uuid.UUID] = field(default_factory=list)

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **extra}


async def upload(
    client: httpx.AsyncClient,
    base_url: str,
    app: App,
    path: Path,
    type_key: str,
    *,
    name: str | None = None,
    idempotency_key: str | None = None,
) -> httpx.Response:
    headers = app.headers(**({"Idempotency-Key": idempotency_key} if idempotency_key else {}))
    with path.open("rb") as body:
        return await client.post(
            f"{base_url}/api/apps/{app.slug}/imports",
            headers=headers,
            data={"name": name or f"{type_key} {path.name}", "type": type_key},
            files={"file": (path.name, body, "text/csv")},
            timeout=120,
        )


async def create_import(
    client: httpx.AsyncClient, base_url: str, app: App, path: Path, type_key: str
) -> uuid.UUID:
    answer = await upload(client, base_url, app, path, type_key)
    assert answer.status_code == 201, answer.text
    import_id = uuid.UUID(answer.json()["id"])
    app.imports.append(import_id)
    return import_id


# --- waits on imports ---------------------------------------------------------------------------

RUNNING = ("validating", "applying")
FINISHED = ("completed", "failed", "cancelled")


async def wait_status(
    db: Database,
    import_id: uuid.UUID,
    statuses: Sequence[str],
    within: float,
    *,
    min_attempt: int = 0,
    what: str | None = None,
) -> ImportRow:
    """The import once in one of ``statuses`` with at least ``min_attempt``."""
    last: list[ImportRow] = []

    async def check() -> ImportRow | None:
        row = await db.import_row(import_id)
        last[:] = [row]
        return row if row.status in statuses and row.attempt >= min_attempt else None

    label = what or f"import {import_id} to be {'/'.join(statuses)}"
    if min_attempt:
        label += f" (attempt >= {min_attempt})"
    try:
        return await wait_for(label, check, within, interval=0.05)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; it is {last[0] if last else '?'}") from None


async def wait_running_again(
    db: Database, import_id: uuid.UUID, after_attempt: int, within: float
) -> ImportRow:
    """Running again under a newer attempt, or finished since (the recovery's end)."""

    async def check() -> ImportRow | None:
        row = await db.import_row(import_id)
        if row.status in FINISHED or (row.status in RUNNING and row.attempt > after_attempt):
            return row
        return None

    try:
        return await wait_for(
            f"import {import_id} to run again (attempt > {after_attempt}) or finish", check, within
        )
    except AssertionError as exc:
        raise AssertionError(f"{exc}; it is {await db.import_row(import_id)}") from None


# --- which worker runs an import -----------------------------------------------------------------

# The backend of an import's apply: a transaction that has written (it has an xid) and has been
# open for a moment. A job waiting for its app's turn has written nothing; the API's uploads
# write, but in transactions of a few milliseconds.
_WRITERS = """
    SELECT client_port FROM pg_stat_activity
    WHERE backend_xid IS NOT NULL AND client_port IS NOT NULL AND pid <> pg_backend_pid()
      AND xact_start < now() - interval '200 milliseconds'
"""


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(int(link[8:-1]))
    except OSError:
        pass
    return inodes


def _inode_of_port(local_port: int, remote_port: int) -> set[int]:
    """The socket inodes of TCP connections from ``local_port`` to ``remote_port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, inode = fields[1], fields[2], int(fields[9])
            if (
                int(local.rsplit(":", 1)[1], 16) == local_port
                and int(remote.rsplit(":", 1)[1], 16) == remote_port
            ):
                found.add(inode)
    return found


async def worker_running(
    db: Database, service: Service, import_id: uuid.UUID, within: float = 30
) -> Proc:
    """The worker process applying the import (it must be running it), found by the
    PostgreSQL connection of its open write transaction."""

    async def check() -> Proc | None:
        row = await db.import_row(import_id)
        assert row.status not in FINISHED, f"the import finished before a fault: {row}"
        if row.status not in RUNNING:
            return None
        ports = [r["client_port"] for r in await db.fetch(_WRITERS)]
        owners = {
            worker.name: worker
            for port in ports
            for inode in _inode_of_port(port, service.postgres.port)
            for worker in service.workers
            if worker.alive() and inode in _socket_inodes(worker.pid)
        }
        return next(iter(owners.values())) if len(owners) == 1 else None

    return await wait_for(f"the worker running import {import_id}", check, within, interval=0.05)
