"""The long-running processes, and migrations.

Each imports its machinery when run: the other commands start faster.
"""

from __future__ import annotations

import argparse
import asyncio
import os

import asyncpg
from sqlalchemy.exc import SQLAlchemyError

from api.config import Settings
from api.logs import configure_logging
from cli.common import database_problem, say


def cmd_api(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    configure_logging(settings.log_format)
    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        # Ours (api/logs.py), not uvicorn's own configuration.
        log_config=None,
        # In JSON logs the API's own access line (api/request_context.py) replaces uvicorn's.
        access_log=settings.access_log and settings.log_format == "text",
        # uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1 (its default): any
        # local client could then choose the address its failed sign-ins count under.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
    )
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    from worker import collector
    from worker.main import make_worker

    if settings.worker_nice:
        os.nice(settings.worker_nice)
    # Lines per job and per import (its start, end and timings) on stderr, as the API's.
    configure_logging(settings.log_format)
    worker = make_worker(settings)
    collector.settle()  # after the imports: modules, models and validators live as long as we do
    worker.run()
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from api.migrate import create_database, upgrade

    try:
        created = asyncio.run(create_database(settings.database_url))
        if created:
            say("Created the database.")
        asyncio.run(upgrade(settings))
    except (OSError, SQLAlchemyError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise database_problem(exc, settings) from exc
    say("The database schema is up to date.")
    return 0
