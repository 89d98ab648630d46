"""The service's HTTP API as a script sees it: uploads with curl (streamed from disk, never held
in the bench's memory), everything else with httpx."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from api.import_types.samples import XLSX_MEDIA_TYPE
from api.imports.status import FINISHED
from bench.config import BenchError

TERMINAL = FINISHED
POLL_SECONDS = 0.1
UPLOAD_TIMEOUT = 1800
# The worker tells files apart by content; the media type is only what a browser would send.
_MEDIA_TYPES = {".xlsx": XLSX_MEDIA_TYPE}


@dataclass(frozen=True, slots=True)
class Sample:
    """One look at an import: seconds since the upload started, status, rows processed."""

    at: float
    status: str
    rows_processed: int


@dataclass
class Watched:
    """An import followed from the first byte of its upload to a terminal status."""

    app: str
    started: float  # time.perf_counter() when the upload began
    uploaded: float = 0.0  # seconds until the upload was answered
    finished: float = 0.0  # seconds until a GET showed the terminal status
    body: dict[str, Any] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)

    @property
    def id(self) -> str:
        return str(self.body["id"])

    @property
    def status(self) -> str:
        return str(self.body["status"])


class Api:
    def __init__(self, base_url: str, tokens: dict[str, str]) -> None:
        self.base_url = base_url
        self.tokens = tokens
        self.http = httpx.AsyncClient(base_url=base_url, timeout=60.0)

    async def close(self) -> None:
        await self.http.aclose()

    def _auth(self, app: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[app]}"}

    async def _json(self, method: str, app: str, path: str, **params: Any) -> Any:
        response = await self.http.request(
            method, f"/api/apps/{app}{path}", headers=self._auth(app), params=params or None
        )
        if response.status_code != 200:
            raise BenchError(
                f"{method} /api/apps/{app}{path} answered {response.status_code}: "
                f"{response.text[:300]}"
            )
        return response.json()

    async def upload(
        self, app: str, path: Path, name: str, import_type: str, *, validate_only: bool = False
    ) -> Watched:
        """POST the file as multipart, as ``curl -F file=@path`` does: the upload starts now."""
        if any(c in str(path) for c in ';,"'):
            raise BenchError(f'curl cannot upload a path holding ; , or ": {path}')
        fields = ["--form-string", f"name={name}", "--form-string", f"type={import_type}"]
        if validate_only:
            fields += ["--form-string", "validate_only=true"]
        watched = Watched(app, time.perf_counter())
        proc = await asyncio.create_subprocess_exec(
            "curl",
            "--silent",
            "--show-error",
            "--max-time",
            str(UPLOAD_TIMEOUT),
            "--config",
            "-",  # the token travels on stdin, not in the process list
            "-H",
            "Expect:",  # no 100-continue round trip
            *fields,
            "-F",
            f"file=@{path};type={_MEDIA_TYPES.get(path.suffix, 'text/csv')}",
            "--write-out",
            "\n%{http_code}",
            f"{self.base_url}/api/apps/{app}/imports",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        config = f'header = "Authorization: Bearer {self.tokens[app]}"\n'
        out, err = await proc.communicate(config.encode())
        watched.uploaded = time.perf_counter() - watched.started
        if proc.returncode != 0:
            raise BenchError(f"curl failed to upload {path.name}: {err.decode().strip()}")
        body, _, code = out.decode().rpartition("\n")
        if code != "201":
            raise BenchError(f"the upload of {path.name} answered {code}: {body[:300]}")
        watched.body = json.loads(body)
        return watched

    async def get_import(self, app: str, import_id: str) -> dict[str, Any]:
        body: dict[str, Any] = await self._json("GET", app, f"/imports/{import_id}")
        return body

    async def wait(
        self, watched: Watched, give_up_after: float, alive: Callable[[], None]
    ) -> Watched:
        """Poll every ~100 ms, recording progress, until the import ends; ``alive`` raises
        BenchError as soon as a process of the service has died."""
        while True:
            alive()
            body = await self.get_import(watched.app, watched.id)
            at = time.perf_counter() - watched.started
            watched.body = body
            watched.samples.append(Sample(at, body["status"], body["progress"]["rows_processed"]))
            if body["status"] in TERMINAL:
                watched.finished = at
                return watched
            if at > give_up_after:
                raise BenchError(
                    f"import {watched.id} of {watched.app} is still {body['status']} after "
                    f"{give_up_after:.0f} s"
                )
            await asyncio.sleep(POLL_SECONDS)

    async def cancel(self, app: str, import_id: str) -> dict[str, Any]:
        body: dict[str, Any] = await self._json("POST", app, f"/imports/{import_id}/cancel")
        return body

    async def errors(self, app: str, import_id: str) -> tuple[list[dict[str, Any]], int]:
        """Every kept error, all pages, and the count of rows with errors the list reports."""
        kept: list[dict[str, Any]] = []
        cursor: str | None = None
        count = 0
        while True:
            params: dict[str, Any] = {"limit": 500}
            if cursor:
                params["cursor"] = cursor
            page = await self._json("GET", app, f"/imports/{import_id}/errors", **params)
            kept.extend(page["items"])
            count = int(page["error_rows"])
            cursor = page["next_cursor"]
            if not cursor:
                return kept, count

    async def stats(self, app: str) -> dict[str, int]:
        body: dict[str, int] = await self._json("GET", app, "/cases/stats")
        return body
