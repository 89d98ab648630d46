"""The ``caseimport`` console script: servers, migrations and the first users, apps and tokens.

Each data command is one unit of work on its own engine. Secrets (a generated password, a token)
are the only thing printed on stdout, so a script can capture them; confirmations go to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from api.apps.service import app_by_slug, create_app, grant, role_in_app
from api.auth.service import create_token, create_user, get_user_by_email
from api.config import Settings, get_settings
from api.db import make_engine, make_sessionmaker, unit_of_work
from api.errors import AppError, NotFound

T = TypeVar("T")


class CommandError(Exception):
    """A failure to report in one line, without a traceback."""


def _say(message: str) -> None:
    print(message, file=sys.stderr)


async def _in_unit_of_work(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    engine = make_engine(settings)
    try:
        async with unit_of_work(make_sessionmaker(engine)) as session:
            return await work(session)
    finally:
        await engine.dispose()


def _run(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    try:
        return asyncio.run(_in_unit_of_work(settings, work))
    except OSError as exc:  # connection refused, unknown host: asyncpg raises these
        raise CommandError(f"cannot reach the database: {exc}") from exc


# --- commands -------------------------------------------------------------------------------


# The servers and migrations import their machinery when run: the other commands start faster.


def cmd_api(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        access_log=settings.access_log,
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
    except OSError as exc:
        raise CommandError(f"cannot reach the database: {exc}") from exc
    if created:
        _say("Created the database.")
    asyncio.run(upgrade(settings))
    _say("The database schema is up to date.")
    return 0


def cmd_create_user(args: argparse.Namespace, settings: Settings) -> int:
    given: str | None = None
    if args.password_stdin:
        # One line, so `echo secret | caseimport create-user ...` works; its newline is not part
        # of the password.
        given = sys.stdin.readline().rstrip("\r\n")

    async def work(session: AsyncSession) -> tuple[str, str]:
        user, password = await create_user(session, args.email, given, owner=args.owner)
        return user.email, password

    email, password = _run(settings, work)
    _say(f"Created {'owner' if args.owner else 'user'} {email}.")
    if given is None:
        print(password)  # shown this once: only its hash is kept
    return 0


def cmd_create_app(args: argparse.Namespace, settings: Settings) -> int:
    async def work(session: AsyncSession) -> None:
        await create_app(session, args.slug, args.name)

    _run(settings, work)
    _say(f"Created app {args.slug}.")
    return 0


def cmd_grant(args: argparse.Namespace, settings: Settings) -> int:
    async def work(session: AsyncSession) -> None:
        await grant(session, args.email, args.app, args.role)

    _run(settings, work)
    _say(f"{args.email} is now {args.role} of {args.app}.")
    return 0


def cmd_create_token(args: argparse.Namespace, settings: Settings) -> int:
    async def work(session: AsyncSession) -> str:
        user = await get_user_by_email(session, args.email)
        app = await app_by_slug(session, args.app)
        if app is None:
            raise NotFound(f"There is no app {args.app!r}.", code="app_not_found")
        # A token acts as its user: one for a user without a role in the app would do nothing.
        if await role_in_app(session, user.id, app.id) is None:
            raise NotFound(
                f"{user.email} has no role in {app.slug}; grant one first.", code="app_not_found"
            )
        _, secret = await create_token(session, user.id, app.id, args.name, args.expires_days)
        return secret

    print(_run(settings, work))
    return 0


# --- parsing --------------------------------------------------------------------------------

Command = Callable[[argparse.Namespace, Settings], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="caseimport", description="Bulk case imports.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Command, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    # `run` (everything for a newcomer) and `push` (the CI client) join here.
    api = add("api", cmd_api, "run one API server")
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=8000)
    add("worker", cmd_worker, "run one import worker")
    add("migrate", cmd_migrate, "create the database if needed and apply the migrations")

    user = add("create-user", cmd_create_user, "make a user; prints a generated password")
    user.add_argument("email")
    user.add_argument("--owner", action="store_true", help="may create apps; admin of every app")
    user.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )

    app = add("create-app", cmd_create_app, "make an app")
    app.add_argument("slug", help="lower-case letters, digits and hyphens, as in URLs")
    app.add_argument("name")

    grant = add("grant", cmd_grant, "give a user a role in an app")
    grant.add_argument("email")
    grant.add_argument("app", help="the app's slug")
    grant.add_argument("--role", required=True, choices=["admin", "viewer"])

    token = add("create-token", cmd_create_token, "print a new API token for a user and an app")
    token.add_argument("email")
    token.add_argument("app", help="the app's slug")
    token.add_argument("--expires-days", type=int, default=None, metavar="N")
    token.add_argument("--name", default="command line", metavar="N")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; the exit code is 0, 1 for a refused or failed command, 2 for bad usage."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage (or --help)
        return exc.code if isinstance(exc.code, int) else 2
    handler: Command = args.handler
    try:
        settings = get_settings()
    except ValidationError as exc:
        print(f"caseimport: the configuration is not valid: {exc}", file=sys.stderr)
        return 1
    try:
        return handler(args, settings)
    except (AppError, CommandError) as exc:
        print(f"caseimport: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
