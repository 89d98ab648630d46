"""The long-running processes, and migrations.

Each imports its machinery when run: the other commands start faster.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from typing import TYPE_CHECKING, cast

from api.config import Settings
from cli.common import CommandError, say

if TYPE_CHECKING:
    from arq.typing import WorkerSettingsType


def cmd_api(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        access_log=settings.access_log,
    )
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    from arq.worker import run_worker

    from worker.main import WorkerSettings

    if settings.worker_nice:
        os.nice(settings.worker_nice)
    # One line per job and per import's timings (worker.timing) on stderr, as uvicorn does.
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # arq's settings protocol lists attributes (cron_jobs, ...) that a settings class may leave out.
    run_worker(cast("WorkerSettingsType", WorkerSettings))
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from api.migrate import create_database, upgrade

    try:
        created = asyncio.run(create_database(settings.database_url))
    except OSError as exc:
        raise CommandError(f"cannot reach the database: {exc}") from exc
    if created:
        say("Created the database.")
    asyncio.run(upgrade(settings))
    say("The database schema is up to date.")
    return 0
