"""The long-running processes, and migrations.

Each imports its machinery when run: the other commands start faster.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os

import asyncpg
from sqlalchemy.exc import SQLAlchemyError

from api.config import Settings
from cli.common import database_problem, say


def cmd_api(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        access_log=settings.access_log,
        # uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1 (its default): any
        # local client could then choose the address its failed sign-ins count under.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
    )
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    from worker.main import make_worker

    if settings.worker_nice:
        os.nice(settings.worker_nice)
    # One line per job and per import's timings (worker.timing) on stderr, as uvicorn does.
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    make_worker(settings).run()
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
