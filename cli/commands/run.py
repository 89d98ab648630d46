"""``caseimport run``: the whole service for a newcomer, in one command.

With ``DATABASE_URL`` and ``REDIS_URL`` set it uses those servers; without them it starts its
own (``cli/embedded.py``), keeping their data in one folder. It migrates, makes a first admin
and a demo app with a sample import the first time (printing the password once), then runs the
API and a worker until Ctrl-C, which stops everything and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import httpx

from cli.embedded import Embedded, start

CASEIMPORT = str(Path(sys.executable).with_name("caseimport"))
ADMIN = "admin@example.org"
DEMO_APP = "demo"


def data_dir(args: argparse.Namespace) -> Path:
    import platformdirs

    chosen = args.data_dir or os.environ.get("CASEIMPORT_DATA_DIR")
    return Path(chosen) if chosen else Path(platformdirs.user_data_dir("caseimport"))


@dataclass(frozen=True, slots=True)
class FirstRun:
    password: str
    token: str


async def _first_run() -> FirstRun | None:
    """The first admin, a demo app and a token for its sample import; None when the database
    has users already."""
    from api.apps.service import create_app, grant
    from api.auth.service import all_users, create_token, create_user
    from api.config import Settings
    from api.db import make_engine, make_sessionmaker, unit_of_work

    engine = make_engine(Settings())
    try:
        async with unit_of_work(make_sessionmaker(engine)) as session:
            if await all_users(session):
                return None
            user, password = await create_user(session, ADMIN, owner=True)
            app = await create_app(session, DEMO_APP, "Demo app")
            await grant(session, ADMIN, DEMO_APP, "admin")
            _, token = await create_token(session, user.id, app.id, "demo", None)
            return FirstRun(password, token)
    finally:
        await engine.dispose()


def _migrate() -> None:
    from api.config import Settings
    from api.migrate import create_database, upgrade

    settings = Settings()
    asyncio.run(create_database(settings.database_url))
    asyncio.run(upgrade(settings))


def _wait_ready(url: str, api: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if api.poll() is not None:
            raise RuntimeError("the API stopped while starting")
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the API at {url} did not get ready within a minute")


def _sample_import(url: str, token: str) -> None:
    from api.import_types.cases import AddCases
    from api.import_types.samples import sample_csv

    response = httpx.post(
        f"{url}/api/apps/{DEMO_APP}/imports",
        headers={"Authorization": f"Bearer {token}"},
        data={"name": "Sample cases", "type": AddCases.key},
        files={"file": ("sample.csv", sample_csv(AddCases()).encode(), "text/csv")},
        timeout=30,
    )
    response.raise_for_status()


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _stop(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(20)
        except subprocess.TimeoutExpired:
            child.kill()


def _supervise(children: list[subprocess.Popen[bytes]]) -> None:
    """Until the API stops: a worker that exits is started again (after 1 s, then up to 30 s
    between tries while it keeps exiting at once); what it was running goes back to the queue
    by itself."""
    api, _ = children
    delay, started = 0.5, time.monotonic()
    while api.poll() is None:
        worker = children[1]
        if worker.poll() is None:
            time.sleep(0.5)
            continue
        # One that ran a while starts again at once; one that keeps exiting, ever more slowly.
        delay = 1.0 if time.monotonic() - started > 60 else min(delay * 2, 30.0)
        _say(f"caseimport: the worker stopped (exit {worker.returncode}); starting it again.")
        time.sleep(delay)
        started = time.monotonic()
        children[1] = subprocess.Popen([CASEIMPORT, "worker"])  # noqa: S603


def _on_term(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM (a service manager) ends it like Ctrl-C


def cmd_run(args: argparse.Namespace) -> int:
    signal.signal(signal.SIGTERM, _on_term)
    folder = data_dir(args)
    embedded = Embedded()
    children: list[subprocess.Popen[bytes]] = []
    try:
        need_postgres = not os.environ.get("DATABASE_URL")
        need_redis = not os.environ.get("REDIS_URL")
        if need_postgres or need_redis:
            _say(f"Starting the service's own PostgreSQL and Redis (data in {folder}) ...")
            embedded = start(folder, postgres=need_postgres, redis=need_redis)
            if embedded.database_url:
                os.environ["DATABASE_URL"] = embedded.database_url
            if embedded.redis_url:
                os.environ["REDIS_URL"] = embedded.redis_url
        # One machine's service, often beside test runs on the same database server.
        os.environ.setdefault("CASEIMPORT_DB_POOL_SIZE", "5")
        _migrate()
        first = asyncio.run(_first_run())
        url = f"http://{args.host}:{args.port}"
        children.append(
            subprocess.Popen([CASEIMPORT, "api", "--host", args.host, "--port", str(args.port)])  # noqa: S603
        )
        children.append(subprocess.Popen([CASEIMPORT, "worker"]))  # noqa: S603
        _wait_ready(url, children[0])
        if first is not None:
            _sample_import(url, first.token)
            _say(
                f"\nFirst run: sign in at {url}/ as {ADMIN} with the password\n\n"
                f"    {first.password}\n\n"
                f'(shown this once). The app "{DEMO_APP}" has a sample import; its API token '
                f"for scripts is\n\n    {first.token}\n"
            )
        _say(f"The service runs on {url}/ ; Ctrl-C stops everything.")
        _supervise(children)
        _say("caseimport: the API stopped; stopping the rest.")
        return 1
    except KeyboardInterrupt:
        _say("\nStopping ...")
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the stop short
        _stop(children)
        embedded.stop()
