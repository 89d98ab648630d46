"""Slow uploads against one API process (issue 14): ``python -m bench.slow_uploads``.

Starts ``caseimport api`` on a bench database (``caseimport_bench_slow`` and Redis db 1 unless
``DATABASE_URL`` and ``REDIS_URL`` say otherwise: dropped and migrated first, dropped after),
opens ``BENCH_SLOW_UPLOADS`` uploads (default 100) that each send ``BENCH_SLOW_RATE`` bytes a
second (1024) for ``BENCH_SLOW_SECONDS`` (60), and meanwhile times other requests (the imports
list and ``/api/apps``, in turn, ``BENCH_SLOW_PROBES_PER_SECOND`` a second, default 10). It
reports their latency (p50, p99, max) with and without the uploads in flight, the API process's
RSS and its peak, the most connections PostgreSQL saw idle in a transaction, and how the
uploads ended. Not part of the test suite; light enough for a shared two-core machine (the
upload senders are one asyncio process writing about 100 KiB a second).

The caps on uploads in flight are raised for the run (they would answer 429 long before 100
uploads of one token): what is measured is the API with every upload admitted.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx

from bench import config as bench_config
from bench import measure, prepare, redis
from bench.config import BenchError, Config
from bench.service import Services

APP = "slow-uploads"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/caseimport_bench_slow"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/1"
BOUNDARY = "benchslow"
HEADER = "tag_id,case_status,date_opened,about\r\n"


@dataclass
class Figures:
    uploads: int
    rate: int
    seconds: float
    latencies_idle: list[float] = field(default_factory=list)
    latencies_loaded: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    rss_before: float = 0.0
    rss_peak: float = 0.0
    rss_after: float = 0.0
    max_idle_in_transaction: int = 0
    in_flight_seen: int = 0
    # Probes that failed while uploads were in flight: their status, or the error's name.
    probe_failures: dict[str, int] = field(default_factory=dict)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else float("nan")


def _body(n: int, size: int) -> tuple[bytes, bytes]:
    """The form's head (sent at once) and its file, about ``size`` bytes of valid rows."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="name"\r\n\r\nslow {n}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="type"\r\n\r\ncases.add\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="slow.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    rows = [HEADER]
    length, i = len(HEADER), 0
    while length < size:
        row = f"SLOW{n}-{i},1,1/2/2024,A slow upload's row {'.' * 60}\r\n"
        rows.append(row)
        length += len(row)
        i += 1
    return head, "".join(rows).encode() + f"\r\n--{BOUNDARY}--\r\n".encode()


async def _slow_upload(
    port: int, token: str, n: int, rate: int, seconds: float, figures: Figures
) -> None:
    head, rest = _body(n, int(rate * seconds))
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            (
                f"POST /api/apps/{APP}/imports HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {token}\r\nConnection: close\r\n"
                f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
                f"Content-Length: {len(head) + len(rest)}\r\n\r\n"
            ).encode()
            + head
        )
        start = time.monotonic() + (n % 10) / 10  # spread the writes over each second
        for second, offset in enumerate(range(0, len(rest), rate)):
            await asyncio.sleep(max(0.0, start + second + 1 - time.monotonic()))
            writer.write(rest[offset : offset + rate])
            await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 60)
        status = answer.split(b" ", 2)[1].decode() if answer else "no answer"
    except (OSError, TimeoutError) as exc:
        status = type(exc).__name__
    finally:
        writer.close()
    figures.statuses[status] = figures.statuses.get(status, 0) + 1


async def _probe(
    client: httpx.AsyncClient,
    per_second: float,
    until: float,
    into: list[float],
    failures: dict[str, int],
) -> None:
    """Time the other requests, one at a time, alternating between two reads; a failed one
    (an error status, or no answer within the client's timeout) counts at the time it took."""
    paths = [f"/api/apps/{APP}/imports", "/api/apps"]
    n = 0
    while time.monotonic() < until:
        started = time.monotonic()
        try:
            status = str((await client.get(paths[n % 2])).status_code)
        except httpx.HTTPError as exc:
            status = type(exc).__name__
        into.append(time.monotonic() - started)
        if status != "200":
            failures[status] = failures.get(status, 0) + 1
        n += 1
        await asyncio.sleep(max(0.0, started + 1 / per_second - time.monotonic()))


async def _watch(config: Config, until: float, figures: Figures) -> None:
    """PostgreSQL's sessions idle in a transaction (an upload holding one would show here)."""
    conn = await asyncpg.connect(config.database_url)
    try:
        while time.monotonic() < until:
            idle = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND state LIKE 'idle in transaction%'"
            )
            figures.max_idle_in_transaction = max(figures.max_idle_in_transaction, int(idle))
            await asyncio.sleep(0.5)
    finally:
        await conn.close()


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


async def run() -> Figures:
    # Raised for the run's API process only (it inherits this environment).
    os.environ["CASEIMPORT_UPLOAD_MAX_PER_APP"] = "100000"
    os.environ["CASEIMPORT_UPLOAD_MAX_PER_TOKEN"] = "100000"  # noqa: S105 - a count, no secret
    # Its own database and Redis db, so that a `make bench` running beside it is left alone.
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
    config = bench_config.load()
    figures = Figures(
        uploads=_int("BENCH_SLOW_UPLOADS", 100),
        rate=_int("BENCH_SLOW_RATE", 1024),
        seconds=float(os.environ.get("BENCH_SLOW_SECONDS") or 60),
    )
    probes = float(os.environ.get("BENCH_SLOW_PROBES_PER_SECOND") or 10)
    tokens = await prepare.fresh_stage(config, [APP])
    services = Services(config)
    try:
        api = await services.start_api()
        headers = {"Authorization": f"Bearer {tokens[APP]}"}
        # A probe unanswered within 5 s counts as failed (ReadTimeout), at 5 s.
        async with httpx.AsyncClient(
            base_url=services.base_url, headers=headers, timeout=5
        ) as client:
            await _probe(client, probes, time.monotonic() + 2, [], {})  # warm-up, not counted
            print("bench: requests with no upload in flight (10 s)", file=sys.stderr)
            await _probe(client, probes, time.monotonic() + 10, figures.latencies_idle, {})
            figures.rss_before = measure.rss_mib(api.pid)
            measure.reset_peak(api.pid)
            print(f"bench: {figures.uploads} uploads at {figures.rate} B/s", file=sys.stderr)
            uploads = [
                asyncio.create_task(
                    _slow_upload(
                        services.port, tokens[APP], n, figures.rate, figures.seconds, figures
                    )
                )
                for n in range(figures.uploads)
            ]
            await asyncio.sleep(5)  # every upload connected and sending
            until = time.monotonic() + figures.seconds - 10
            await asyncio.gather(
                _probe(client, probes, until, figures.latencies_loaded, figures.probe_failures),
                _watch(config, until, figures),
            )
            figures.in_flight_seen = sum(not task.done() for task in uploads)
            await asyncio.gather(*uploads)
            figures.rss_peak = measure.peak_rss_mib(api.pid)
            figures.rss_after = measure.rss_mib(api.pid)
            services.check_alive()
    finally:
        await services.close()
        await redis.command(config.redis_url, "FLUSHDB")  # the jobs of the uploads it queued
        await prepare.drop_database(config)
    return figures


def report(figures: Figures) -> dict[str, Any]:
    def ms(values: list[float], q: float) -> float:
        return round(_percentile(values, q) * 1000, 1)

    return {
        "uploads": figures.uploads,
        "rate_bytes_per_second": figures.rate,
        "seconds": figures.seconds,
        "in_flight_when_probes_ended": figures.in_flight_seen,
        "upload_answers": figures.statuses,
        "probes_idle": len(figures.latencies_idle),
        "idle_p50_ms": ms(figures.latencies_idle, 0.5),
        "idle_p99_ms": ms(figures.latencies_idle, 0.99),
        "probes_loaded": len(figures.latencies_loaded),
        "loaded_p50_ms": ms(figures.latencies_loaded, 0.5),
        "loaded_p99_ms": ms(figures.latencies_loaded, 0.99),
        "loaded_max_ms": ms(figures.latencies_loaded, 1.0),
        "loaded_failures": figures.probe_failures,
        "api_rss_before_mib": round(figures.rss_before, 1),
        "api_rss_peak_mib": round(figures.rss_peak, 1),
        "api_rss_after_mib": round(figures.rss_after, 1),
        "max_idle_in_transaction": figures.max_idle_in_transaction,
    }


def main() -> int:
    try:
        figures = asyncio.run(run())
    except BenchError as exc:
        print(f"bench: FAILED: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(report(figures), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
