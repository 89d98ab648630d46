"""Users, apps, roles and tokens, before anyone can sign in to make them."""

from __future__ import annotations

import argparse
import sys
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from api.apps.service import create_app, grant, required_app, role_in_app, roles_by_user
from api.auth.service import (
    all_users,
    create_token,
    create_user,
    get_user_by_email,
    revoke_token,
    set_password,
    tokens_with_users,
)
from api.config import Settings
from api.errors import NotFound
from cli.common import run, say


def cmd_create_user(args: argparse.Namespace, settings: Settings) -> int:
    given = _password_from(args)

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
        app = await required_app(session, args.app)
        # A token acts as its user: one for a user without a role in the app would do nothing.
        if await role_in_app(session, user.id, app.id) is None:
            raise NotFound(
                f"{user.email} has no role in {app.slug}; grant one first.", code="app_not_found"
            )
        _, secret = await create_token(session, user.id, app.id, args.name, args.expires_days)
        return secret

    print(run(settings, work))
    return 0


def _password_from(args: argparse.Namespace) -> str | None:
    # One line, so `echo secret | caseimport ...` works; its newline is not kept.
    return sys.stdin.readline().rstrip("\r\n") if args.password_stdin else None


def cmd_set_password(args: argparse.Namespace, settings: Settings) -> int:
    given = _password_from(args)

    async def work(session: AsyncSession) -> str:
        return await set_password(session, args.email, given)

    password = run(settings, work)
    say(f"Set a new password for {args.email}; their sessions have ended.")
    if given is None:
        print(password)  # shown this once: only its hash is kept
    return 0


def cmd_users_list(args: argparse.Namespace, settings: Settings) -> int:
    async def work(session: AsyncSession) -> list[str]:
        roles = await roles_by_user(session)
        lines = []
        for user in await all_users(session):
            held = ", ".join(f"{role} of {slug}" for slug, role in roles.get(user.id, []))
            kind = "owner" if user.is_owner else "user"
            lines.append(f"{user.email}\t{kind}\t{held or '-'}")
        return lines

    for line in run(settings, work):
        print(line)
    return 0


def cmd_tokens_list(args: argparse.Namespace, settings: Settings) -> int:
    async def work(session: AsyncSession) -> list[str]:
        app = await required_app(session, args.app)
        return [
            "\t".join(
                [
                    str(token.id),
                    token.prefix,
                    token.name,
                    email,
                    f"{token.created_at:%Y-%m-%d}",
                    f"expires {token.expires_at:%Y-%m-%d}" if token.expires_at else "no expiry",
                    f"used {token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "unused",
                ]
            )
            for token, email in await tokens_with_users(session, app.id)
        ]

    for line in run(settings, work):
        print(line)
    return 0


def cmd_tokens_revoke(args: argparse.Namespace, settings: Settings) -> int:
    try:
        token_id = uuid.UUID(args.id)
    except ValueError:
        raise NotFound(f"{args.id!r} is not a token's id (see `tokens list`).") from None

    async def work(session: AsyncSession) -> None:
        app = await required_app(session, args.app)
        await revoke_token(session, app.id, token_id)

    run(settings, work)
    say(f"Revoked token {token_id}.")
    return 0
