"""The service as a CI job meets it: an API server and a worker, each its own process (as
``caseimport api`` and ``caseimport worker`` run in production), on the test database and
Redis; the client under test runs as a process too."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

CASEIMPORT = str(Path(sys.executable).with_name("caseimport"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Service:
    url: str
    port: int
    env: dict[str, str]
    logs: Path
    api: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None
    _opened: list[object] = field(default_factory=list)

    def _spawn(self, *argv: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{argv[0]}.log").open("ab")
        self._opened.append(log)
        return subprocess.Popen([CASEIMPORT, *argv], env=self.env, stdout=log, stderr=log)

    def start_api(self) -> None:
        self.api = self._spawn("api", "--port", str(self.port))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the API did not get ready; see {self.logs}/api.log")

    def stop_api(self, sig: int = signal.SIGKILL) -> None:
        if self.api is not None:
            self.api.send_signal(sig)
            self.api.wait(10)
            self.api = None

    def start_worker(self) -> None:
        self.worker = self._spawn("worker")

    def stop_worker(self) -> None:
        if self.worker is not None:
            self.worker.terminate()
            self.worker.wait(10)
            self.worker = None

    def close(self) -> None:
        self.stop_api(signal.SIGTERM)
        self.stop_worker()


# For the command-line tests only: a worker left running would take the jobs of the tests
# after them (the browser tests' "paused" worker would not be the only one).
@pytest.fixture(scope="package")
def service(engine: AsyncEngine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """One API process and one worker process for these tests; a test may stop and start
    them (they are started again for the next test if it left them stopped)."""
    port = _free_port()
    env = {
        **os.environ,
        "CASEIMPORT_WORKER_NICE": "0",
        "CASEIMPORT_ACCESS_LOG": "false",
        "CASEIMPORT_DB_POOL_SIZE": "2",
        # Keep-alives more often than any --timeout a test gives: the timeout must hold anyway.
        "CASEIMPORT_EVENTS_HEARTBEAT_SECONDS": "0.3",
    }
    running = Service(f"http://127.0.0.1:{port}", port, env, tmp_path_factory.mktemp("service"))
    running.start_api()
    running.start_worker()
    try:
        yield running
    finally:
        running.close()


@pytest.fixture
def live(service: Service) -> Service:
    if service.api is None:
        service.start_api()
    if service.worker is None:
        service.start_worker()
    return service
