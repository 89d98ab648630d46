"""The parser and the entry point of ``caseimport``."""

from __future__ import annotations

import argparse
import sys

from pydantic import ValidationError

from api.config import get_settings
from api.errors import AppError
from cli.commands.admin import cmd_create_app, cmd_create_token, cmd_create_user, cmd_grant
from cli.commands.servers import cmd_api, cmd_migrate, cmd_worker
from cli.common import Command, CommandError


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
