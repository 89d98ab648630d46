"""Alembic environment: the database comes from the one Settings object (DATABASE_URL)."""

import asyncio

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from api.config import get_settings
from api.models import Base

target_metadata = Base.metadata


def _url() -> str:
    # Tests and the CLI may pass a URL explicitly; otherwise the environment decides.
    explicit = context.config.attributes.get("sqlalchemy_url")
    return str(explicit) if explicit else get_settings().sqlalchemy_url


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_async_engine(_url(), poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
