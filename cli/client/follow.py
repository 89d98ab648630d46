"""Following an import to its end, and what the command prints once it is there."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from cli.client.api import Api, ClientError
from cli.client.report import ERRORS_SHOWN, Reporter, summary
from cli.exits import Exit, of_import

POLL_SECONDS = 1.0


def follow(
    api: Api, app: str, import_id: str, reporter: Reporter, timeout: float | None
) -> tuple[dict[str, Any], Exit]:
    """Poll the import until it ends (or ``timeout`` seconds pass): the import, and how the
    command ends."""
    deadline = None if timeout is None else time.monotonic() + timeout
    path = api.app_path(app, "imports", import_id)
    while True:
        item: dict[str, Any] = api.call("GET", path).body
        reporter.following(item)
        ending = of_import(item)
        if ending is not None:
            return item, ending
        if item.get("status") == "draft":
            raise ClientError(f"import {import_id} is a draft: it has no file to run")
        if deadline is not None and time.monotonic() >= deadline:
            return item, Exit.TIMED_OUT
        time.sleep(POLL_SECONDS)


def first_errors(api: Api, app: str, item: dict[str, Any]) -> list[dict[str, Any]]:
    if not item.get("error"):
        return []
    path = api.app_path(app, "imports", str(item["id"]), "errors")
    page = api.call("GET", path, params={"limit": ERRORS_SHOWN}).body
    return list(page.get("items") or [])


def save_errors(api: Api, app: str, item: dict[str, Any], target: Path) -> None:
    """errors.csv as the API serves it (formula-safe), written whole or not at all."""
    path = api.app_path(app, "imports", str(item["id"]), "errors.csv")
    partial = target.with_name(target.name + ".part")
    with api.download(path) as response, partial.open("wb") as out:
        for chunk in response.iter_bytes():
            out.write(chunk)
    partial.replace(target)


def spa_link(api: Api, app: str, import_id: str) -> str:
    return f"{api.url}/#/apps/{app}/imports/{import_id}"


def finish(
    api: Api,
    app: str,
    item: dict[str, Any],
    ending: Exit,
    *,
    as_json: bool,
    errors_out: Path | None,
) -> int:
    """The end of a command that followed an import: the summary (or one JSON document on
    stdout), the errors saved if asked, and the exit code."""
    errors = first_errors(api, app, item)
    if errors_out is not None and item.get("error"):
        save_errors(api, app, item, errors_out)
    link = spa_link(api, app, str(item["id"]))
    if as_json:
        print(json.dumps({**item, "errors": errors, "url": link}), flush=True)
        human = sys.stderr
    else:
        human = sys.stdout
    if ending is Exit.TIMED_OUT:
        print(f"Still {item.get('status')} after the timeout: import {item['id']}.", file=human)
        return int(ending)
    summary(item, errors, link, human)
    if errors_out is not None and item.get("error"):
        print(f"The errors are saved in {errors_out}.", file=human)
    return int(ending)
