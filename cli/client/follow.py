"""Following an import to its end, and what the command prints once it is there."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from httpx_sse import SSEError

from cli.client.api import Api, ClientError
from cli.client.report import ERRORS_SHOWN, Reporter, summary
from cli.exits import Exit, of_import

POLL_SECONDS = 1.0
# A stream silent this long is taken for lost (the server sends a keep-alive every 15 s).
STREAM_SILENCE_SECONDS = 45.0
# Connections of a stream that may fail in a row before the command polls instead.
STREAM_ATTEMPTS = 3
STREAM_RETRY_SECONDS = 1.0
# A --timeout this long (or "inf") is no timeout: a thread cannot wait that long.
MAX_TIMEOUT_SECONDS = 365 * 86_400.0

Followed = tuple[dict[str, Any], Exit]


def follow(
    api: Api, app: str, import_id: str, reporter: Reporter, timeout: float | None
) -> Followed:
    """Follow the import until it ends (or ``timeout`` seconds pass): the import, and how the
    command ends. From the import's server-sent events while the server sends them; by polling
    when it does not (an older server, a proxy that will not pass a stream, a busy server)."""
    if timeout is None or not timeout < MAX_TIMEOUT_SECONDS:
        return _follow(api, app, import_id, reporter, None)
    # A stream that only sends keep-alives (an import nobody runs) never hands control back
    # between bytes: the deadline is kept from outside, and the follower left behind.
    deadline = time.monotonic() + timeout
    watched = _Watched(reporter)
    outcome: list[Followed | BaseException] = []

    def run() -> None:
        try:
            outcome.append(_follow(api, app, import_id, watched, deadline))
        except BaseException as exc:  # handed to the caller's thread
            outcome.append(exc)

    follower = threading.Thread(target=run, name="follow", daemon=True)
    follower.start()
    follower.join(timeout + STREAM_RETRY_SECONDS)
    watched.stopped = True
    if outcome:
        if isinstance(outcome[0], BaseException):
            raise outcome[0]
        return outcome[0]
    item = watched.last or api.call("GET", api.app_path(app, "imports", import_id)).body
    return item, Exit.TIMED_OUT


class _Watched:
    """The reporter, silenced once the command has stopped waiting; the last import seen."""

    def __init__(self, reporter: Reporter) -> None:
        self._reporter = reporter
        self.last: dict[str, Any] | None = None
        self.stopped = False

    def uploading(self, sent: int, total: int) -> None:
        self._reporter.uploading(sent, total)

    def following(self, item: dict[str, Any]) -> None:
        if not self.stopped:
            self.last = item
            self._reporter.following(item)

    def note(self, line: str) -> None:
        if not self.stopped:
            self._reporter.note(line)

    def close(self) -> None:
        self._reporter.close()


def _follow(
    api: Api, app: str, import_id: str, reporter: Reporter, deadline: float | None
) -> Followed:
    followed = _from_events(api, app, import_id, reporter, deadline)
    if followed is not None:
        return followed
    return _by_polling(api, app, import_id, reporter, deadline)


def _left(deadline: float | None) -> float | None:
    return None if deadline is None else deadline - time.monotonic()


def _seen(item: dict[str, Any], import_id: str, reporter: Reporter) -> Exit | None:
    reporter.following(item)
    ending = of_import(item)
    if ending is None and item.get("status") == "draft":
        raise ClientError(f"import {import_id} is a draft: it has no file to run")
    return ending


def _from_events(
    api: Api, app: str, import_id: str, reporter: Reporter, deadline: float | None
) -> Followed | None:
    """None when the stream cannot be had: the caller polls."""
    path = api.app_path(app, "imports", import_id, "events")
    item: dict[str, Any] | None = None
    last_id: str | None = None
    failures = 0
    while failures < STREAM_ATTEMPTS:
        left = _left(deadline)
        if left is not None and left <= 0:
            return (item, Exit.TIMED_OUT) if item is not None else None
        silence = STREAM_SILENCE_SECONDS if left is None else min(STREAM_SILENCE_SECONDS, left)
        try:
            with api.events(path, last_event_id=last_id, read_timeout=silence) as source:
                if source.response.status_code == 204 and item is not None:
                    return item, of_import(item) or Exit.COMPLETED  # its final state, seen
                if source.response.status_code != 200:
                    return None
                for event in source.iter_sse():
                    failures = 0
                    if not event.data:
                        continue  # an event without data (a keep-alive, as some servers send it)
                    item, last_id = event.json(), event.id or last_id
                    ending = _seen(item, import_id, reporter)
                    if ending is not None:
                        return item, ending
                    left = _left(deadline)
                    if left is not None and left <= 0:  # a busy stream is never silent
                        return item, Exit.TIMED_OUT
        except (httpx.TransportError, SSEError, ValueError):
            pass  # lost, silent too long, or not a stream: connect again, resuming
        # The stream ended before the import did (the server is stopping): connect again.
        failures += 1
        time.sleep(STREAM_RETRY_SECONDS)
    return None


def _by_polling(
    api: Api, app: str, import_id: str, reporter: Reporter, deadline: float | None
) -> Followed:
    path = api.app_path(app, "imports", import_id)
    while True:
        item: dict[str, Any] = api.call("GET", path).body
        ending = _seen(item, import_id, reporter)
        if ending is not None:
            return item, ending
        left = _left(deadline)
        if left is not None and left <= 0:
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
