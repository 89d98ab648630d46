"""Engine, sessions, and the one place where a request's work is committed."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import MetaData, event
from sqlalchemy.exc import DBAPIError, DisconnectionError, SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

from api.config import Settings
from api.errors import AppError

log = logging.getLogger(__name__)

# Stable constraint names, so migrations and error handling can refer to them.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


AfterCommit = Callable[[], Awaitable[None]]


def make_engine(settings: Settings, **kwargs: Any) -> AsyncEngine:
    engine = create_async_engine(
        settings.sqlalchemy_url, pool_size=settings.db_pool_size, max_overflow=10, **kwargs
    )
    event.listen(engine.sync_engine, "checkout", _refuse_closed)
    return engine


def _refuse_closed(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """A pooled connection the server closed (a database restart ends every session) is
    replaced at checkout, so no request fails on it. The driver knows without a round trip,
    which a ping before each checkout would cost every request (docs/performance.md)."""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the database closed this connection")


# SQLSTATE classes of a lost or refused connection (08) and of a server shutting down or
# starting up (57: "terminating connection due to administrator command").
_UNAVAILABLE_STATES = ("08", "57")


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database could not be reached, rather than that a statement
    was wrong: a moment's outage, which a client may retry."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionError):
            return True
        state = getattr(cause, "sqlstate", None)
        if isinstance(state, str) and state.startswith(_UNAVAILABLE_STATES):
            return True
        cause = cause.__cause__ or cause.__context__ or getattr(cause, "orig", None)
    return False


async def warm_pool(engine: AsyncEngine, connections: int) -> None:
    """Open the pool's connections now: a burst of requests (a hundred status polls starting
    at once) should not wait for connections opened one at a time while it queues.

    Best effort: with the database not up yet the API starts all the same, /readyz says so,
    and connections are opened as requests need them."""
    opened: list[AsyncConnection] = []
    try:
        for _ in range(connections):
            opened.append(await engine.connect())
    except (OSError, SQLAlchemyError) as exc:
        log.warning("could not open the database connections ahead of requests: %s", exc)
    finally:
        for connection in opened:
            await connection.close()  # back to the pool, which keeps up to db_pool_size


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def make_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for reads: each statement commits by itself, so a status poll pays no BEGIN
    and COMMIT round trips. Only single-statement writes (bookkeeping) may happen here."""
    return async_sessionmaker(
        engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
    )


def after_commit(session: AsyncSession, action: AfterCommit) -> None:
    """Run ``action`` once the unit of work has committed (for example: enqueue a job).

    Services call this instead of committing: the outbox row is already in the transaction, so
    an action that never runs (a crash, Redis down) is caught up by the worker's reconciler.
    """
    session.info.setdefault("after_commit", []).append(action)


async def release_connection(session: AsyncSession) -> None:
    """End the request's transaction so far (committing what it did: authentication's
    bookkeeping, a check) and give its connection back to the pool, before the request waits on
    its client: an upload's body may take minutes, and a pooled connection held that long is
    one every other tenant waits for. The session takes a connection again at its next
    statement; what it had loaded is forgotten, to be read afresh."""
    await session.commit()
    session.expunge_all()


@asynccontextmanager
async def unit_of_work(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session committed at the end, or rolled back if the block raises, unless what it raises
    is an ``AppError`` that keeps its changes: those are committed, and the error passed on."""
    async with factory() as session:
        try:
            try:
                yield session
            except AppError as exc:
                if exc.keeps_changes:
                    await session.commit()
                    await _run_after_commit(session)
                raise
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
        await _run_after_commit(session)


async def _run_after_commit(session: AsyncSession) -> None:
    actions: list[AfterCommit] = session.info.pop("after_commit", [])
    for action in actions:
        await action()
