"""Users, apps, roles and tokens, before anyone can sign in to make them."""

from __future__ import annotations

import argparse
import sys

from sqlalchemy.ext.asyncio import AsyncSession

from api.apps.service import app_by_slug, create_app, grant, role_in_app
from api.auth.service import create_token, create_user, get_user_by_email
from api.config import Settings
from api.errors import NotFound
from cli.common import run, say


def cmd_create_user(args: argparse.Namespace, settings: Settings) -> int:
    given: str | None = None
    if args.password_stdin:
        # One line, so `echo secret | caseimport create-user ...` works; its newline is not kept.
        given = sys.stdin.readline().rstrip("\r\n")

    async def work(session: AsyncSession) -> tuple[str, str]:
        user, password = await create_user(session, args.email, given, owner=args.owner)
        return user.email, password

    email, password = run(settings, work)
    say(f"Created {'owner' if args.owner else 'user'} {email}.")
    if given is None:
        print(password)  # shown this once: only its hash is kept
    return 0


def cmd_create_app(args: argparse.Namespace, settings: Settings) -> int:
    async def work(session: AsyncSession) -> None:
        await create_app(session, args.slug, args.name)

    run(settings, work)
    say(f"Created app {args.slug}.")
    return 0


def cmd_grant(args: argparse.Namespace, settings: Settings) -> int:
    async def work(session: AsyncSession) -> None:
        await grant(session, args.email, args.app, args.role)

    run(settings, work)
    say(f"{args.email} is now {args.role} of {args.app}.")
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

    print(run(settings, work))
    return 0
