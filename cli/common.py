"""What the commands share: one-line failures, confirmations, and a unit of work of their own."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

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


def run(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Each data command is one unit of work on its own engine."""
    try:
        return asyncio.run(_in_unit_of_work(settings, work))
    except OSError as exc:  # connection refused, unknown host: asyncpg raises these
        raise CommandError(f"cannot reach the database: {exc}") from exc
