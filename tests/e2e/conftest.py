"""Browser tests: the SPA in a real Chromium, against a live API server and a live worker.

One uvicorn server and one arq worker run as tasks in the tests' own event loop, the server
for the session and the worker for these tests; the worker polls Redis (not burst mode), so an
import completes by itself, as in production. One browser per session, and a fresh context
(cookies, storage) and page per test. The parent conftest empties every table and flushes
Redis after each test.

Chromium is Debian's (``/usr/bin/chromium``, which ``make test`` installs when missing);
Playwright's own browser download is not used. Without it these tests fail: they are never
skipped, so a run that did not test the browser cannot pass. A failed
test leaves a screenshot of each of its pages and the browser's console in ``E2E_ARTIFACTS``
(by default ``/tmp/e2e-artifacts``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import time
from collections.abc import AsyncIterator, Generator, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from arq.worker import Worker
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    WebError,
    async_playwright,
    expect,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from api.config import Settings
from api.main import create_app
from tests.worker_harness import make_worker

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(os.environ.get("E2E_ARTIFACTS", "/tmp/e2e-artifacts"))
# The server and the worker keep this many errors of an import (1,000 by default), so that a
# test can fail an import with more errors than are kept, and still page through the kept ones.
KEPT_ERRORS = 60

# Every `expect` waits this long unless told otherwise (imports: see ui.IMPORT_TIMEOUT).
expect.set_options(timeout=10_000)

_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


@pytest.fixture(scope="session", autouse=True)
def _chromium() -> None:
    if CHROMIUM.exists():
        return
    pytest.fail(
        f"{CHROMIUM} is missing: `make test` installs it (or: apt-get install -y chromium)",
        pytrace=False,
    )


class _Server(uvicorn.Server):
    """uvicorn, minus its signal handlers: Ctrl-C keeps interrupting pytest."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@pytest.fixture(scope="session")
def e2e_settings(settings: Settings) -> Settings:
    """The settings of the live server and the live worker (webhooks may go to a receiver on
    127.0.0.1, as tests/e2e/test_webhooks_ui.py's does)."""
    return settings.model_copy(
        update={"max_kept_errors": KEPT_ERRORS, "webhooks_allow_private": True}
    )


@pytest.fixture(scope="session")
async def live_server(engine: AsyncEngine, e2e_settings: Settings) -> AsyncIterator[str]:
    """The base URL of a real HTTP server running a new app (it runs its own lifespan)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))  # a free port, held from here on: no race with other runs
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(e2e_settings),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        proxy_headers=False,  # as `caseimport api` runs without CASEIMPORT_TRUSTED_PROXIES
        lifespan="on",
        timeout_graceful_shutdown=5,
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    base_url = f"http://127.0.0.1:{port}"
    try:
        await _wait_until_healthy(base_url, task)
        yield base_url
    finally:
        server.should_exit = True
        await task
        sock.close()


async def _wait_until_healthy(base_url: str, task: asyncio.Task[None]) -> None:
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient(base_url=base_url, timeout=2) as client:
        while time.monotonic() < deadline:
            if task.done():
                raise RuntimeError(f"the live server stopped while starting: {task.exception()!r}")
            with contextlib.suppress(httpx.TransportError):
                if (await client.get("/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.05)
    raise RuntimeError(f"the live server at {base_url} did not answer /healthz within 30 s")


class LiveWorker:
    """The real arq worker, polling Redis continuously as a deployed one does.

    ``async with live_worker.paused():`` stops it (when idle) so that a test can see an import
    wait in the queue, and starts a new one on leaving the block.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._worker: Worker | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._task is None:
            self._worker = make_worker(self._settings, burst=False)
            self._task = asyncio.create_task(self._worker.async_run())

    async def stop(self) -> None:
        worker, task = self._worker, self._task
        self._worker = self._task = None
        if worker is None or task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await worker.close()

    def check(self) -> None:
        """Raise if the worker died: imports would then wait in the queue for ever."""
        if self._task is not None and self._task.done() and not self._task.cancelled():
            raise RuntimeError(f"the live worker stopped: {self._task.exception()!r}")

    @contextlib.asynccontextmanager
    async def paused(self) -> AsyncIterator[None]:
        await self.stop()
        try:
            yield
        finally:
            await self.start()


# For the browser tests only: left running, it would take the jobs of the tests after them
# (a job is a wake-up for an app, and a worker that has the app's turn runs its queue).
@pytest.fixture(scope="package")
async def _session_worker(engine: AsyncEngine, e2e_settings: Settings) -> AsyncIterator[LiveWorker]:
    worker = LiveWorker(e2e_settings)
    await worker.start()
    try:
        yield worker
    finally:
        await worker.stop()


@pytest.fixture
def live_worker(_session_worker: LiveWorker) -> Iterator[LiveWorker]:
    _session_worker.check()
    yield _session_worker
    _session_worker.check()


@pytest.fixture(scope="session")
async def _playwright() -> AsyncIterator[Playwright]:
    playwright = await async_playwright().start()
    try:
        yield playwright
    finally:
        await playwright.stop()


@pytest.fixture(scope="session")
async def browser(_playwright: Playwright) -> AsyncIterator[Browser]:
    browser = await _playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    try:
        yield browser
    finally:
        await browser.close()


@pytest.fixture
async def context(
    browser: Browser, live_server: str, live_worker: LiveWorker, request: pytest.FixtureRequest
) -> AsyncIterator[BrowserContext]:
    """A fresh browser profile on the live server; a failed test leaves its artifacts."""
    context = await browser.new_context(base_url=live_server, accept_downloads=True)
    context.set_default_timeout(10_000)
    log: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            log.append(
                f"console.{message.type}: {message.text} ({message.page and message.page.url})"
            )

    def on_error(error: WebError) -> None:
        log.append(f"page error: {error.error} ({error.page and error.page.url})")

    context.on("console", on_console)
    context.on("weberror", on_error)
    try:
        yield context
        reports = request.node.stash.get(_REPORTS, {})
        if any(report.failed for report in reports.values()):
            await _save_artifacts(context, request.node.name, log)
    finally:
        await context.close()


@pytest.fixture
async def page(context: BrowserContext) -> Page:
    return await context.new_page()


async def _save_artifacts(context: BrowserContext, test_name: str, log: list[str]) -> None:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name)
    lines = list(log)
    _prepare_artifacts()
    for number, open_page in enumerate(context.pages):
        lines.append(f"page {number}: {open_page.url}")
        with contextlib.suppress(Exception):  # a crashed page still lets the others be saved
            await open_page.screenshot(
                path=ARTIFACTS / f"{stem}-{number}.png", full_page=True, timeout=5_000
            )
    _write_log(ARTIFACTS / f"{stem}.log", lines)


# Small synchronous file operations, kept out of the async functions (they do not wait on I/O
# worth a thread).
def _prepare_artifacts() -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)


def _write_log(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
