"""Tests run against the real PostgreSQL and Redis, the real app and the real worker.

The schema is built once per run by ``alembic upgrade head`` in a fresh database; each test
leaves the database as it found it (every table is emptied after it) and Redis's test database
flushed. The worker's jobs commit for real, so a per-test rollback could not undo them.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import socket
import tempfile
from pathlib import Path

from cli.embedded import start
from tests.run_resources import claim_redis_db, drop_finished_runs


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


# On a machine with no PostgreSQL or Redis (and none named), the suite starts its own.
_OWN = os.environ.get("CASEIMPORT_TEST_OWN_SERVERS") == "1"
_NEED_PG = "TEST_DATABASE_URL" not in os.environ and (_OWN or not _answers(5432))
_NEED_REDIS = "TEST_REDIS_URL" not in os.environ and (_OWN or not _answers(6379))
if _NEED_PG or _NEED_REDIS:
    _folder = Path(tempfile.mkdtemp(prefix="caseimport-test-servers-"))
    _embedded = start(_folder, postgres=_NEED_PG, redis=_NEED_REDIS)
    atexit.register(shutil.rmtree, _folder, ignore_errors=True)
    atexit.register(_embedded.stop)  # runs first
    if _embedded.database_url:
        os.environ["TEST_DATABASE_URL"] = _embedded.database_url.replace(
            "/caseimport?", "/caseimport_test?"
        )
    if _embedded.redis_url:
        os.environ["TEST_REDIS_URL"] = _embedded.redis_url.replace("db=0", "db=15")

# Each test run has its own database and Redis db, so that two runs on one machine (of one
# checkout or of two) never empty each other's tables or queues.
_CHECKOUT = hashlib.sha256(str(Path(__file__).resolve().parent.parent).encode()).hexdigest()[:8]
_DB_PREFIX = f"caseimport_test_{_CHECKOUT}_"
_DEFAULT_DB = f"postgresql://postgres@127.0.0.1:5432/{_DB_PREFIX}{os.getpid()}"
if "TEST_REDIS_URL" not in os.environ:
    os.environ["TEST_REDIS_URL"] = f"redis://127.0.0.1:6379/{claim_redis_db('127.0.0.1', 6379)}"

# Before any project import: every Settings() in this process (API, worker, alembic) sees these.
_BASE = os.environ.setdefault("TEST_DATABASE_URL", _DEFAULT_DB)
os.environ["DATABASE_URL"] = _BASE
os.environ["REDIS_URL"] = os.environ["TEST_REDIS_URL"]
os.environ.setdefault("CASEIMPORT_RECONCILE_SECONDS", "3600")
# The database server is shared with other test runs and services (100 connections in all):
# each app made here keeps this many open, not the production default.
os.environ.setdefault("CASEIMPORT_DB_POOL_SIZE", "4")

from collections.abc import AsyncIterator  # noqa: E402

import pytest  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from httpx import ASGITransport, AsyncClient  # noqa: E402
from redis.asyncio import Redis  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker  # noqa: E402

from api.config import Settings, get_settings  # noqa: E402
from api.db import make_engine, make_sessionmaker  # noqa: E402
from api.main import create_app  # noqa: E402
from api.migrate import create_database, drop_database, upgrade  # noqa: E402


@pytest.fixture(scope="session")
def settings() -> Settings:
    return get_settings()


@pytest.fixture(scope="session")
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    await drop_finished_runs(settings.database_url, _DB_PREFIX)
    await drop_database(settings.database_url)
    await create_database(settings.database_url)
    await upgrade(settings)
    engine = make_engine(settings)
    yield engine
    await engine.dispose()
    await drop_database(settings.database_url)


@pytest.fixture(scope="session")
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)


@pytest.fixture(autouse=True)
async def _clean_slate(engine: AsyncEngine, settings: Settings) -> AsyncIterator[None]:
    yield
    async with engine.begin() as conn:
        tables = (
            (
                await conn.execute(
                    text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                        " AND tablename <> 'alembic_version'"
                    )
                )
            )
            .scalars()
            .all()
        )
        await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    redis = Redis.from_url(settings.redis_url)
    await redis.flushdb()
    await redis.aclose()


@pytest.fixture(scope="session")
async def app(engine: AsyncEngine, settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as c:
        yield c
