"""Database creation and alembic migrations, for the CLI, `make run` and the tests."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from alembic import command
from alembic.config import Config

from api.config import Settings

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def _split(database_url: str) -> tuple[str, str]:
    """The server's maintenance URL (database ``postgres``) and the database name."""
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/") or "postgres"
    return urlunsplit(parts._replace(path="/postgres")), name


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def create_database(database_url: str) -> bool:
    """Create the database if it does not exist; True when it was created."""
    server, name = _split(database_url)
    conn = await asyncpg.connect(server)
    try:
        if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return False
        await conn.execute(f"CREATE DATABASE {_quote(name)}")
        return True
    finally:
        await conn.close()


async def drop_database(database_url: str) -> None:
    server, name = _split(database_url)
    conn = await asyncpg.connect(server)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")
    finally:
        await conn.close()


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["sqlalchemy_url"] = settings.sqlalchemy_url
    return config


async def upgrade(settings: Settings, revision: str = "head") -> None:
    # alembic's env.py runs its own event loop, so it goes to a thread.
    await asyncio.to_thread(command.upgrade, alembic_config(settings), revision)
