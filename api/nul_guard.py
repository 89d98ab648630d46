"""One guard for every route: a NUL character in a request's path, query or JSON body is
refused with a 422 problem before any handler runs.

PostgreSQL stores no NUL in text, so a NUL that reached a query would fail it with a server
error. (Form fields are checked where forms are read, in ``api/imports/multipart.py``; a file
may hold NUL bytes, and the worker reports them on their lines.)
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.nul import NUL, nul_error
from api.problems import problem

# A JSON escape of NUL: \u0000 after an even number of backslashes (so not "\\u0000").
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000|\x00")


def _in_target(scope: Scope) -> list[str] | None:
    """Where the path or the query holds a NUL, as an error location."""
    if NUL in scope["path"]:
        return ["path"]
    raw = scope.get("query_string", b"")
    if b"%00" in raw or b"\x00" in raw:
        for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
            if NUL in name or NUL in value:
                return ["query", name]
        return ["query"]
    return None


class RefuseNul:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        where = _in_target(scope)
        if where is None and _is_json(scope):
            body, receive = await _buffered(receive)
            if _JSON_NUL.search(body):
                where = ["body"]
        if where is None:
            await self.app(scope, receive, send)
            return
        message = "A NUL character cannot be stored or searched for; remove it."
        response = problem(
            422,
            "invalid_character",
            f"The request holds a NUL character ({' '.join(where)}); remove it.",
            errors=[nul_error(where, message)],
        )
        await response(scope, receive, send)


def _is_json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return b"json" in value.lower()
    return False


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """The whole body, and a ``receive`` that hands it on as if it had not been read.
    (JSON bodies are small here, and FastAPI reads them whole anyway.)"""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"", receive
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return body, replay
