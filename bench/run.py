"""One benchmark run, in order: a clean stage, the files, then the service's imports through
its HTTP API with its real worker processes, each timed import right after PostgreSQL's own
time for the same file (its baseline)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import subprocess
from collections.abc import Awaitable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import baseline, generate, prepare, scenarios
from bench.client import Api
from bench.config import PROJECT, BenchError, Config
from bench.report import Results
from bench.scenarios import Bench, Files, log
from bench.service import Services

APP_ADD = "bench-add"  # the add, then the modify of its cases
APP_SMALL = "bench-small"  # the add at a tenth of the rows
APP_EMPTY = "bench-empty"  # validate_only, all-invalid, the large upload: it stays empty
APP_POLLED = "bench-polled"  # the add again, under polling
APP_WORKBOOK_CSV = "bench-wb-csv"  # the add again, as the workbook's baseline
APP_WORKBOOK = "bench-wb-xlsx"  # the add's rows from an .xlsx
APPS_TWO_WORKERS = ("bench-pair-a", "bench-pair-b")
APPS_ONE_WORKER = ("bench-turn-a", "bench-turn-b")
APPS = [
    APP_ADD,
    APP_SMALL,
    APP_EMPTY,
    APP_POLLED,
    APP_WORKBOOK_CSV,
    APP_WORKBOOK,
    *APPS_TWO_WORKERS,
    *APPS_ONE_WORKER,
]


def _meminfo_gib() -> float:
    with Path("/proc/meminfo").open() as info:
        for line in info:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    return 0.0


def _cpu_model() -> str:
    with Path("/proc/cpuinfo").open() as info:
        for line in info:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def _commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=PROJECT, capture_output=True, text=True, check=False
        ).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "api", "worker", "migrations")
    return f"{head}+changes" if dirty else head


async def machine(config: Config) -> dict[str, Any]:
    return {
        "cores": os.cpu_count() or 0,
        "ram_gib": round(_meminfo_gib(), 1),
        "cpu": _cpu_model(),
        "postgresql": await prepare.server_version(config),
        "python": platform.python_version(),
        "commit": _commit(),
    }


def make_files(config: Config) -> Files:
    folder, rows, seed = config.data_dir, config.rows, config.seed
    upload_bytes = min(int(config.upload_mib * 2**20), config.max_upload_bytes)
    return Files(
        add=generate.add_file(folder, rows, "CASE", seed),
        modify=generate.modify_file(folder, rows, "CASE", seed),
        invalid=generate.invalid_file(folder, rows, "CASE", seed),
        small=generate.add_file(folder, max(1, rows // 10), "CASE", seed),
        pair=(
            generate.add_file(folder, rows // 2, "PAIRA", seed),
            generate.add_file(folder, rows // 2, "PAIRB", seed),
        ),
        upload=generate.sized_add_file(folder, upload_bytes, "UPLOAD", seed),
        workbook=generate.xlsx_add_file(folder, rows, "CASE", seed),
    )


async def run(config: Config) -> Results:
    started = datetime.now(UTC)
    log(f"{config.rows:,} rows; database {config.database_name}, Redis {config.redis_url}")
    tokens = await prepare.fresh_stage(config, APPS)
    log("generating the files (not timed)")
    files = await asyncio.to_thread(make_files, config)

    async def paired(name: str, measure: Awaitable[float]) -> float:
        seconds = await measure
        log(f"baseline before the {name}: {seconds:.2f} s")
        return seconds

    services = Services(config)
    api = Api(services.base_url, tokens)
    try:
        await services.start_api()
        bench = Bench(config, files, services, api)
        # The two adds whose worker peaks are compared each run on a freshly started worker.
        await services.start_worker()
        small = await scenarios.add(bench, APP_SMALL, files.small, "small add")
        await services.stop_workers()
        await services.start_worker()
        # Each timed import right after its own psql baseline (see baseline.Baselines).
        add_base = await paired("add", baseline.add(config, files.add))
        add = await scenarios.add(bench, APP_ADD, files.add, "add")
        modify_base = await paired("modify", baseline.modify(config, files.add, files.modify))
        modify = await scenarios.modify(bench, APP_ADD)
        validate_base = await paired("validate_only", baseline.add(config, files.add))
        validate_only = await scenarios.validate_only(bench, APP_EMPTY)
        invalid_base = await paired("invalid file", baseline.add(config, files.add))
        invalid = await scenarios.invalid(bench, APP_EMPTY)
        workbook = await scenarios.workbook(bench, APP_WORKBOOK_CSV, APP_WORKBOOK)
        polled, polls = await scenarios.polled_add(bench, APP_POLLED)
        upload = await scenarios.upload_memory(bench, APP_EMPTY)
        two = await scenarios.two_apps(bench, APPS_TWO_WORKERS, workers=2)
        one = await scenarios.two_apps(bench, APPS_ONE_WORKER, workers=1)
    finally:
        await api.close()
        await services.close()
        with contextlib.suppress(BenchError):  # never hide what went wrong before
            await baseline.drop(config)

    return Results(
        rows=config.rows,
        date=started.strftime("%Y-%m-%d %H:%M UTC"),
        machine=await machine(config),
        files=files,
        baselines=baseline.Baselines(add_base, modify_base, validate_base, invalid_base),
        small=small,
        add=add,
        modify=modify,
        validate_only=validate_only,
        invalid=invalid,
        workbook=workbook,
        polled=polled,
        polls=polls,
        upload=upload,
        two_workers=two,
        one_worker=one,
    )
