"""The parser and the entry point of ``caseimport``.

A command's module is imported only when it runs: the client commands (``push``,
``imports``) reach the server without loading the server's stack, the servers and the
operator commands load it.
"""

from __future__ import annotations

import argparse
import sys
from importlib import import_module

from api.version import VERSION
from cli.exits import HELP as EXIT_CODES


class _Version(argparse.Action):
    """--version, without an argument."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help=str(kwargs.get("help")))

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        parser.exit(message=f"caseimport {VERSION}\n")


def _client_options() -> argparse.ArgumentParser:
    from cli.client.session import add_server_arguments

    common = argparse.ArgumentParser(add_help=False)
    add_server_arguments(common)
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="caseimport", description="Bulk case imports.")
    parser.add_argument("--version", action=_Version, help="print the version and exit")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(
        name: str, handler: str, help_text: str, *, server_side: bool = True, **kwargs: object
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text, **kwargs)  # type: ignore[arg-type]
        sub.set_defaults(handler=handler, server_side=server_side)
        return sub

    everything = add(
        "run",
        "cli.commands.run:cmd_run",
        "everything for a newcomer: the database, Redis, a first admin, the API and a worker",
        server_side=False,
    )
    everything.add_argument("--host", default="127.0.0.1", help="where the API listens")
    everything.add_argument("--port", type=int, default=8000)
    everything.add_argument(
        "--data-dir",
        help="where the service's own PostgreSQL and Redis keep their data "
        "(CASEIMPORT_DATA_DIR; default: the user's data folder)",
    )
    api = add("api", "cli.commands.servers:cmd_api", "run one API server")
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=8000)
    add("worker", "cli.commands.servers:cmd_worker", "run one import worker")
    add(
        "migrate",
        "cli.commands.servers:cmd_migrate",
        "create the database if needed and apply the migrations",
    )

    user = add(
        "create-user",
        "cli.commands.admin:cmd_create_user",
        "make a user; prints a generated password",
    )
    user.add_argument("email")
    user.add_argument("--owner", action="store_true", help="may create apps; admin of every app")
    user.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )

    app = add("create-app", "cli.commands.admin:cmd_create_app", "make an app")
    app.add_argument("slug", help="lower-case letters, digits and hyphens, as in URLs")
    app.add_argument("name")

    grant = add("grant", "cli.commands.admin:cmd_grant", "give a user a role in an app")
    grant.add_argument("email")
    grant.add_argument("app", help="the app's slug")
    grant.add_argument("--role", required=True, choices=["admin", "viewer"])

    token = add(
        "create-token",
        "cli.commands.admin:cmd_create_token",
        "print a new API token for a user and an app",
    )
    token.add_argument("email")
    token.add_argument("app", help="the app's slug")
    token.add_argument("--expires-days", type=int, default=None, metavar="N")
    token.add_argument("--name", default="command line", metavar="N")

    password = add(
        "set-password",
        "cli.commands.admin:cmd_set_password",
        "give a user a new password (printed once unless given) and end their sessions",
    )
    password.add_argument("email")
    password.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )

    users = add("users", "", "people")
    users_commands = users.add_subparsers(dest="action", required=True, metavar="ACTION")
    users_list = users_commands.add_parser("list", help="every user, with their roles")
    users_list.set_defaults(handler="cli.commands.admin:cmd_users_list")

    tokens = add("tokens", "", "an app's API tokens")
    tokens_commands = tokens.add_subparsers(dest="action", required=True, metavar="ACTION")
    tokens_list = tokens_commands.add_parser("list", help="the app's tokens that are not revoked")
    tokens_list.add_argument("app", help="the app's slug")
    tokens_list.set_defaults(handler="cli.commands.admin:cmd_tokens_list")
    revoke = tokens_commands.add_parser("revoke", help="revoke one of the app's tokens")
    revoke.add_argument("app", help="the app's slug")
    revoke.add_argument("id", help="the token's id (see `tokens list`)")
    revoke.set_defaults(handler="cli.commands.admin:cmd_tokens_revoke")

    common = _client_options()
    from cli.commands.push import add_arguments as push_arguments

    push = add(
        "push",
        "cli.commands.push:cmd_push",
        "upload a case file, follow the import to its end, print the result and the errors",
        server_side=False,
        parents=[common],
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    push_arguments(push)
    from cli.commands.imports import add_subcommands

    imports = add(
        "imports",
        "",
        "follow imports from scripts: list, show, wait, errors, cancel, check-again",
        server_side=False,
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_subcommands(imports, common)
    return parser


def _server_side(handler: object, args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from api.config import get_settings
    from api.errors import AppError
    from cli.common import CommandError

    try:
        settings = get_settings()
    except ValidationError as exc:
        print(f"caseimport: the configuration is not valid: {exc}", file=sys.stderr)
        return 1
    try:
        return int(handler(args, settings))  # type: ignore[operator]
    except (AppError, CommandError) as exc:
        print(f"caseimport: {exc}", file=sys.stderr)
        return 1


def _client_side(handler: object, args: argparse.Namespace) -> int:
    from cli.client.api import ClientError

    try:
        return int(handler(args))  # type: ignore[operator]
    except ClientError as exc:
        print(f"caseimport: {exc}", file=sys.stderr)
        return int(exc.exit)


def main(argv: list[str] | None = None) -> int:
    """Run one command. The server-side commands exit 0, 1 when refused or failed, 2 for bad
    usage; the client commands exit with the codes of ``cli.exits``."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage (or --help)
        return exc.code if isinstance(exc.code, int) else 2
    module, name = args.handler.split(":")
    handler = getattr(import_module(module), name)
    try:
        return _server_side(handler, args) if args.server_side else _client_side(handler, args)
    except KeyboardInterrupt:
        print("caseimport: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
