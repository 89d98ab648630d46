"""What the commands share: one-line failures, confirmations, and a unit of work of their own."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from api.config import Settings
from api.db import make_engine, make_sessionmaker, unit_of_work

T = TypeVar("T")
Command = Callable[[argparse.Namespace, Settings], int]


class CommandError(Exception):
    """A failure to report in one line, without a traceback."""


def say(message: str) -> None:
    print(message, file=sys.stderr)


async def _in_unit_of_work(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    engine = make_engine(settings)
    try:
        async with unit_of_work(make_sessionmaker(engine)) as session:
            return await work(session)
    finally:
        await engine.dispose()


def database_problem(exc: BaseException, settings: Settings) -> CommandError:
    """One line for a database that cannot be used, naming the setting to check."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    where = settings.database_url.rsplit("@", 1)[-1]  # no password in the message
    if "does not exist" in first and "database" in first:
        hint = "run `caseimport migrate` first, or check DATABASE_URL"
    elif "too many clients" in first or "remaining connection slots" in first:
        hint = "the server has no connection left: retry later, or raise max_connections"
    else:
        hint = "check DATABASE_URL and that PostgreSQL is running"
    return CommandError(f"the database at {where} cannot be used: {first} ({hint})")


def run(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Each data command is one unit of work on its own engine."""
    try:
        return asyncio.run(_in_unit_of_work(settings, work))
    except (OSError, SQLAlchemyError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise database_problem(exc, settings) from exc
