"""The fault suite's session: its own PostgreSQL cluster and Redis server, the schema, an owner,
two API processes; each scenario starts the workers it needs and gets the service back whole.

Run it with ``make test-faults`` (``pytest --confcutdir tests/faults tests/faults``): the
suite's own conftest only, not the unit tests' (which build their database on the machine's
shared server).
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Generator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis import Redis as RedisClient

from api.apps.service import create_app
from api.auth.service import create_token, get_user_by_email
from api.config import Settings
from api.db import make_engine, make_sessionmaker, unit_of_work
from tests.faults.harness import RECOVERIES, App, Database, say
from tests.faults.servers import Postgres, Redis, free_port, missing_binaries
from tests.faults.service import Service

OWNER = "faults@example.org"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if RECOVERIES:
        terminalreporter.section("recovery times and measures")
        for line in RECOVERIES:
            terminalreporter.write_line(line)


@pytest.fixture(autouse=True)
def _clean_slate() -> None:
    """Replaces tests/conftest.py's fixture of that name when that conftest is loaded too (a
    plain ``pytest tests/faults``): it would build and empty the unit tests' database. This
    suite's own database is mended by ``faults``."""


@pytest.fixture(scope="session")
def folder() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="caseimport-faults-"))
    # PostgreSQL runs as another user (as root): it must reach its folder inside this one.
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def service(folder: Path) -> Iterator[Service]:
    reason = missing_binaries()
    if reason:
        pytest.skip(f"fault suite skipped: {reason}")
    say(f"starting PostgreSQL and Redis in {folder}")
    postgres = Postgres.create(folder / "pg")
    postgres.start()
    redis = Redis(folder / "redis", free_port())
    redis.start()
    running = Service(postgres, redis, folder)
    try:
        running.run("migrate")
        running.run("create-user", OWNER, "--owner", "--password-stdin", stdin="x" * 16 + "\n")
        say("starting two API processes")
        running.start_apis(2)
        yield running
    finally:
        running.close()
        redis.close()
        postgres.stop("immediate")


@pytest.fixture(scope="session")
async def db(service: Service) -> AsyncIterator[Database]:
    database = Database(service.database_url)
    yield database
    await database.close()


@pytest.fixture(scope="session")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as http:
        yield http


@pytest.fixture(scope="session")
def files(folder: Path) -> Path:
    path = folder / "files"
    path.mkdir(exist_ok=True)
    return path


MakeApps = Callable[[int], Coroutine[Any, Any, list[App]]]


@pytest.fixture(scope="session")
def make_apps(service: Service) -> MakeApps:
    """New apps with an owner's token each, made through the API's services (as ``caseimport
    run`` makes its demo app): a process per app would take a second each."""
    settings = Settings.model_validate(
        {"DATABASE_URL": service.database_url, "REDIS_URL": service.redis.url, "db_pool_size": 1}
    )

    async def make(count: int) -> list[App]:
        # An engine per call: a pooled connection would not survive a scenario's restart of
        # PostgreSQL.
        engine = make_engine(settings)
        made = []
        try:
            async with unit_of_work(make_sessionmaker(engine)) as session:
                owner = await get_user_by_email(session, OWNER)
                for _ in range(count):
                    slug = f"f-{secrets.token_hex(4)}"
                    app = await create_app(session, slug, slug)
                    _, token = await create_token(session, owner.id, app.id, "faults", None)
                    made.append(App(slug, uuid.UUID(str(app.id)), token))
        finally:
            await engine.dispose()
        return made

    return make


@pytest.fixture
async def faults(
    request: pytest.FixtureRequest, service: Service, db: Database
) -> AsyncIterator[Service]:
    """The service for one scenario, with no workers yet; afterwards whatever the scenario
    broke is mended: workers gone, Redis and PostgreSQL up, no import left to run."""
    yield service
    if request.node.stash.get(_FAILED, False):
        print("\n===== the service's logs at the failure =====")
        print(service.tails())
    service.stop_workers()
    if not service.redis.running():
        service.redis.start()
    if not service.postgres.running():
        service.postgres.start()
    await db.execute(
        "UPDATE imports SET status = 'cancelled', finished_at = now(), lease_until = NULL"
        " WHERE status IN ('queued', 'validating', 'applying')"
    )
    with RedisClient.from_url(service.redis.url) as redis:
        redis.flushdb()
    for api in service.apis:
        assert api.alive(), f"{api.name} exited during the scenario:\n{api.tail()}"
