"""``caseimport imports``: follow imports from scripts (another step may have pushed them),
cancel one or check a check's file again, with the conventions of ``push``: ``--json`` on
stdout, human lines on stderr, its exit codes."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cli.client.api import Api
from cli.client.follow import finish, first_errors, follow, save_errors, spa_link
from cli.client.report import PlainReporter, reporter_for, summary
from cli.client.session import connect
from cli.exits import Exit, of_import


def _api(args: argparse.Namespace) -> Api:
    return connect(args, PlainReporter(sys.stderr))


def _import(api: Api, args: argparse.Namespace) -> dict[str, Any]:
    item: dict[str, Any] = api.call("GET", api.app_path(args.app, "imports", args.id)).body
    return item


def cmd_list(args: argparse.Namespace) -> int:
    api = _api(args)
    try:
        params = {"limit": args.limit, "status": args.status, "type": args.type}
        page = api.call(
            "GET",
            api.app_path(args.app, "imports"),
            params={k: v for k, v in params.items() if v is not None},
        ).body
    finally:
        api.close()
    if args.json:
        print(json.dumps(page))
        return int(Exit.COMPLETED)
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Imports of {args.app}, newest first", title_justify="left")
    for column in ("id", "name", "type", "status", "rows", "created"):
        table.add_column(column, overflow="fold")
    for item in page["items"]:
        result = item.get("result") or {}
        rows = result.get("rows", (item.get("progress") or {}).get("rows_processed", 0))
        table.add_row(
            item["id"], item["name"], item["type"], item["status"], f"{rows:,}", item["created_at"]
        )
    Console(highlight=False).print(table)
    return int(Exit.COMPLETED)


def cmd_show(args: argparse.Namespace) -> int:
    api = _api(args)
    try:
        item = _import(api, args)
        errors = first_errors(api, args.app, item)
    finally:
        api.close()
    link = spa_link(api, args.app, item["id"])
    if args.json:
        print(json.dumps({**item, "errors": errors, "url": link}))
    else:
        summary(item, errors, link, sys.stdout)
    ending = of_import(item)
    return int(Exit.COMPLETED if ending is None else ending)


def cmd_wait(args: argparse.Namespace) -> int:
    api = _api(args)
    reporter = reporter_for(sys.stderr)
    try:
        item, ending = follow(api, args.app, args.id, reporter, args.timeout)
        reporter.close()
        return finish(api, args.app, item, ending, as_json=args.json, errors_out=args.errors_out)
    finally:
        reporter.close()
        api.close()


def cmd_errors(args: argparse.Namespace) -> int:
    api = _api(args)
    try:
        item = _import(api, args)
        if args.out is not None:
            save_errors(api, args.app, item, args.out)
            print(f"The errors are saved in {args.out}.", file=sys.stderr)
            return int(Exit.COMPLETED)
        errors: list[dict[str, Any]] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 500, **({"cursor": cursor} if cursor else {})}
            page = api.call(
                "GET", api.app_path(args.app, "imports", args.id, "errors"), params=params
            ).body
            errors += page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                break
    finally:
        api.close()
    if args.json:
        print(json.dumps(errors))
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"Errors of {item['name']}", title_justify="left")
        for column in ("line", "column", "value", "message"):
            table.add_column(column, overflow="fold")
        for e in errors:
            table.add_row(
                *("" if e[k] is None else str(e[k]) for k in ("line", "column", "value", "message"))
            )
        Console(highlight=False).print(table)
    return int(Exit.COMPLETED)


def cmd_cancel(args: argparse.Namespace) -> int:
    api = _api(args)
    try:
        path = api.app_path(args.app, "imports", args.id, "cancel")
        item: dict[str, Any] = api.call("POST", path, retrying=False).body
    finally:
        api.close()
    if args.json:
        print(json.dumps(item))
    else:
        print(f'Import "{item["name"]}" is {item["status"]}.')
    return int(Exit.COMPLETED)


def _derive(args: argparse.Namespace, action: str, body: dict[str, Any]) -> int:
    """POST the import's ``action`` (check-again, apply, revert), which answers the new import
    it queued; with ``--wait`` the new import is followed to its end like ``wait``."""
    api = _api(args)
    reporter = reporter_for(sys.stderr)
    try:
        path = api.app_path(args.app, "imports", args.id, action)
        if args.name:
            body = {**body, "name": args.name}
        made: dict[str, Any] = api.call("POST", path, retrying=False, json=body or None).body
        if not args.wait:
            if args.json:
                print(json.dumps(made))
            else:
                print(f'Import "{made["name"]}" is {made["status"]}: import {made["id"]}.')
            return int(Exit.COMPLETED)
        item, ending = follow(api, args.app, str(made["id"]), reporter, args.timeout)
        reporter.close()
        return finish(api, args.app, item, ending, as_json=args.json, errors_out=args.errors_out)
    finally:
        reporter.close()
        api.close()


def cmd_check_again(args: argparse.Namespace) -> int:
    return _derive(args, "check-again", {})


def cmd_apply(args: argparse.Namespace) -> int:
    return _derive(args, "apply", {})


def cmd_revert(args: argparse.Namespace) -> int:
    return _derive(args, "revert", {"on_error": "skip"} if args.skip_conflicts else {})


def add_subcommands(imports: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    commands = imports.add_subparsers(dest="action", required=True, metavar="ACTION")

    def add(
        name: str, handler: str, help_text: str, *, one: bool = True
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text, parents=[common])
        sub.set_defaults(handler=f"cli.commands.imports:{handler}")
        sub.add_argument("--app", required=True, help="the app's slug")
        if one:
            sub.add_argument("id", help="the import's id")
        sub.add_argument("--json", action="store_true", help="JSON on stdout")
        return sub

    listing = add("list", "cmd_list", "the app's imports, newest first", one=False)
    listing.add_argument("--status", help="only imports with this status")
    listing.add_argument("--type", help="only imports of this type (cases.add, ...)")
    listing.add_argument("--limit", type=int, default=20, help="how many (1 to 500)")
    add("show", "cmd_show", "one import: its result, warnings and first errors")
    wait = add("wait", "cmd_wait", "follow an import to its end; exits with push's codes")
    wait.add_argument("--timeout", type=float, metavar="SECONDS", help="stop waiting after this")
    wait.add_argument("--errors-out", type=Path, metavar="PATH", help="save the errors as CSV")
    errors = add("errors", "cmd_errors", "every kept error of an import")
    errors.add_argument("--out", type=Path, metavar="PATH", help="save them as CSV instead")
    add("cancel", "cmd_cancel", "cancel a draft, queued or validating import")

    def derived(
        name: str, handler: str, help_text: str, default_name: str
    ) -> argparse.ArgumentParser:
        sub = add(name, handler, help_text)
        sub.add_argument("--name", help=f"the new import's name (default: {default_name})")
        sub.add_argument("--wait", action="store_true", help="follow the new import to its end")
        sub.add_argument("--timeout", type=float, metavar="SECONDS", help="stop waiting after this")
        sub.add_argument("--errors-out", type=Path, metavar="PATH", help="save the errors as CSV")
        return sub

    derived(
        "check-again",
        "cmd_check_again",
        "check a check-only import's stored file again (a new check, nothing uploaded)",
        '"<name> (checked again)"',
    )
    derived(
        "apply",
        "cmd_apply",
        "apply a completed check-only import (a plan) exactly as it was checked",
        '"<name> (applied)"',
    )
    revert = derived(
        "revert",
        "cmd_revert",
        "take a completed import back: delete the cases it created, restore the fields it changed",
        '"Revert of <name>"',
    )
    revert.add_argument(
        "--skip-conflicts",
        action="store_true",
        help="revert the cases not changed since, and list the others (default: fail whole)",
    )
