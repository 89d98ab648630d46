"""The service's HTTP API as the command line uses it: a token, retries that are safe, and
every refusal turned into one line a person can act on.

Only the standard library, httpx (with httpx-sse for event streams) and the status enum are
imported here, so that a CI job's ``caseimport push`` reaches the server fast (it does not load
the server's own stack).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from httpx_sse import EventSource, connect_sse

from cli.exits import Exit

# Waits before the retries of a request that may be repeated (a few, growing, with jitter).
BACKOFF_SECONDS = (0.5, 1.0, 2.0, 4.0, 8.0)
_RETRIED_STATUS = frozenset({429, 500, 502, 503, 504})
_RETRIED_CODES = frozenset({"idempotency_in_progress"})  # 409: the first try is still storing


class ClientError(Exception):
    """A failure the command reports in one line, ending with ``exit``."""

    def __init__(self, message: str, exit: Exit = Exit.UNREACHABLE) -> None:
        super().__init__(message)
        self.exit = exit


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: Any
    headers: Mapping[str, str]


def _problem_line(response: httpx.Response) -> str:
    """The problem document's detail, with the fields it names."""
    try:
        problem = response.json()
    except ValueError:
        return f"the server answered {response.status_code}"
    if not isinstance(problem, dict):
        return f"the server answered {response.status_code}"
    line = str(problem.get("detail") or f"the server answered {response.status_code}")
    fields = [
        f"{'.'.join(str(p) for p in error.get('loc', [])[1:]) or 'request'}: {error.get('message')}"
        for error in problem.get("errors") or []
        if isinstance(error, dict)
    ]
    return line + (" (" + "; ".join(fields) + ")" if fields else "")


class Api:
    """One server, one token. ``retrying`` requests are repeated on connection failures, 429
    and 5xx; an upload is, because its Idempotency-Key makes a repeat answer the first one."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        user_agent: str,
        on_retry: Callable[[str, float], None] = lambda why, wait: None,
    ) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {token}", "User-Agent": user_agent},
            timeout=httpx.Timeout(30.0, write=300.0),
        )
        self._on_retry = on_retry

    def close(self) -> None:
        self._http.close()

    def app_path(self, app: str, *parts: str) -> str:
        return "/".join([f"/api/apps/{quote(app, safe='')}", *(quote(p, safe="") for p in parts)])

    def call(
        self,
        method: str,
        path: str,
        *,
        retrying: bool = True,
        make_body: Callable[[], dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> Answer:
        """The answer of a 2xx; ``ClientError`` for a refusal, or once retries are spent.
        ``make_body`` gives fresh request arguments (an open file) for every try."""
        waits = iter(BACKOFF_SECONDS if retrying else ())
        while True:
            try:
                extra = make_body() if make_body else {}
                response = self._http.request(method, path, **kwargs, **extra)
            except httpx.TransportError as exc:
                why = f"cannot reach {self.url}: {exc or type(exc).__name__}"
            else:
                if response.is_success:
                    body = response.json() if response.content else None
                    return Answer(response.status_code, body, response.headers)
                code = _code(response)
                if response.status_code not in _RETRIED_STATUS and code not in _RETRIED_CODES:
                    raise ClientError(_problem_line(response))
                why = _problem_line(response)
            wait = next(waits, None)
            if wait is None:
                raise ClientError(why)
            wait *= 1 + random.random() / 4  # noqa: S311 - jitter, not secrecy
            self._on_retry(why, wait)
            time.sleep(wait)

    @contextmanager
    def download(self, path: str) -> Iterator[httpx.Response]:
        with self._http.stream("GET", path) as response:
            if not response.is_success:
                response.read()
                raise ClientError(_problem_line(response))
            yield response

    @contextmanager
    def events(
        self, path: str, *, last_event_id: str | None, read_timeout: float
    ) -> Iterator[EventSource]:
        """A server-sent event stream, resumed after ``last_event_id``; the read fails after
        ``read_timeout`` seconds without a byte (not even a keep-alive)."""
        headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
        timeout = httpx.Timeout(30.0, read=read_timeout)
        with connect_sse(self._http, "GET", path, headers=headers, timeout=timeout) as source:
            yield source


def _code(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None
