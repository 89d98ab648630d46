"""The service as deployed, each part its own process of the venv's ``caseimport`` script: two
API servers and the workers a scenario asks for, with the helpers that hurt them.

Every process writes its standard output and error to its own log file in the suite's
temporary folder; ``tails()`` gives the end of each, printed when a scenario fails.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import httpx

from tests.faults.servers import Postgres, Redis, free_port

CASEIMPORT = str(Path(sys.executable).with_name("caseimport"))
# Set explicitly rather than taken from Settings()'s defaults, which are being changed: every
# recovery target below is measured against these.
LEASE_SECONDS = 15
RECONCILE_SECONDS = 2
BASE_ENV = {
    "CASEIMPORT_WORKER_LEASE_SECONDS": str(LEASE_SECONDS),
    "CASEIMPORT_RECONCILE_SECONDS": str(RECONCILE_SECONDS),
    # The cluster has 100 connections for two APIs, three workers and the suite itself: an
    # API's pool is smaller than the production 20 (only a few requests are ever in flight).
    "CASEIMPORT_DB_POOL_SIZE": "5",
    "CASEIMPORT_ACCESS_LOG": "false",
}


@dataclass
class Proc:
    """One ``caseimport`` process."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    _files: list[BinaryIO] = field(default_factory=list)

    def start(self) -> None:
        out = self.log.open("ab")
        out.write(f"\n===== {time.strftime('%H:%M:%S')} start {' '.join(self.argv)}\n".encode())
        out.flush()
        self._files.append(out)
        self.process = subprocess.Popen(
            [CASEIMPORT, *self.argv], env=self.env, stdout=out, stderr=out
        )

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} is not started"
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def signal(self, sig: int) -> float:
        """Send ``sig``; answers the monotonic time it was sent (a fault's start)."""
        assert self.process is not None, f"{self.name} is not started"
        self.process.send_signal(sig)
        return time.monotonic()

    def kill(self) -> float:
        at = self.signal(signal.SIGKILL)
        self.wait_exit(10)
        return at

    def terminate(self) -> float:
        return self.signal(signal.SIGTERM)

    def freeze(self) -> float:
        return self.signal(signal.SIGSTOP)

    def thaw(self) -> float:
        return self.signal(signal.SIGCONT)

    def wait_exit(self, timeout: float) -> int | None:
        """The exit code, or None if still running after ``timeout`` seconds."""
        if self.process is None:
            return None
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        """The end of a scenario: whatever state it is in (even frozen), it is gone after."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def close(self) -> None:
        self.stop()
        for out in self._files:
            out.close()
        self._files.clear()

    def tail(self, lines: int = 40) -> str:
        if not self.log.exists():
            return "(no log)"
        text = self.log.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


@dataclass
class Service:
    postgres: Postgres
    redis: Redis
    folder: Path
    database: str = "caseimport"
    apis: list[Proc] = field(default_factory=list)
    api_urls: list[str] = field(default_factory=list)
    workers: list[Proc] = field(default_factory=list)
    extra_apis: list[Proc] = field(default_factory=list)
    _spawned: int = 0

    @property
    def database_url(self) -> str:
        return self.postgres.url(self.database)

    def env(self, **settings: str | int) -> dict[str, str]:
        # The production defaults, not whatever the caller's shell or tests/conftest.py set.
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("CASEIMPORT_")}
        env = {
            **inherited,
            **BASE_ENV,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis.url,
        }
        for key, value in settings.items():
            env[f"CASEIMPORT_{key.upper()}"] = str(value)
        return env

    def run(self, *argv: str, stdin: str | None = None) -> str:
        """A one-off command (migrate, create-user, ...); its standard output."""
        done = subprocess.run(
            [CASEIMPORT, *argv],
            env=self.env(),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"caseimport {' '.join(argv)}: {done.stderr}"
        return done.stdout

    def start_apis(self, count: int = 2) -> None:
        for index in range(count):
            api, url = self._spawn_api(f"api{index + 1}")
            self.apis.append(api)
            self.api_urls.append(url)
        for api, url in zip(self.apis, self.api_urls, strict=True):
            self._wait_ready(api, url)

    def start_extra_api(self, name: str, **settings: str | int) -> tuple[Proc, str]:
        """One more API process with other settings (``trusted_proxies="127.0.0.1"``), for one
        scenario: not one of ``apis``; the scenario stops it with ``stop_extra_api`` (``close()``
        does otherwise)."""
        api, url = self._spawn_api(name, **settings)
        self.extra_apis.append(api)
        self._wait_ready(api, url)
        return api, url

    def stop_extra_api(self, api: Proc) -> None:
        api.close()
        self.extra_apis.remove(api)

    def _spawn_api(self, name: str, **settings: str | int) -> tuple[Proc, str]:
        port = free_port()
        api = Proc(
            name, ["api", "--port", str(port)], self.env(**settings), self.folder / f"{name}.log"
        )
        api.start()
        return api, f"http://127.0.0.1:{port}"

    @staticmethod
    def _wait_ready(api: Proc, url: str) -> None:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if not api.alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{api.name} did not get ready:\n{api.tail()}")
            time.sleep(0.1)

    def start_worker(self, **settings: str | int) -> Proc:
        """A new worker process; ``settings`` are CASEIMPORT_ settings by their lower-case
        names without the prefix (``worker_concurrency=1``)."""
        self._spawned += 1
        name = f"worker{self._spawned}"
        worker = Proc(name, ["worker"], self.env(**settings), self.folder / f"{name}.log")
        worker.start()
        self.workers.append(worker)
        return worker

    def start_workers(self, count: int, **settings: str | int) -> list[Proc]:
        return [self.start_worker(**settings) for _ in range(count)]

    def stop_workers(self) -> None:
        for worker in self.workers:
            worker.close()
        self.workers.clear()

    def tails(self) -> str:
        parts = []
        for proc in [*self.apis, *self.extra_apis, *self.workers]:
            state = "running" if proc.alive() else f"exited {proc.exit_code()}"
            parts.append(f"----- {proc.name} (pid {proc.process and proc.process.pid}, {state})")
            parts.append(proc.tail())
        for name, path in (("postgres", self.postgres.log), ("redis", self.redis.log)):
            lines = path.read_text(errors="replace").splitlines() if path.exists() else []
            parts.append(f"----- {name}")
            parts.append("\n".join(lines[-15:]))
        return "\n".join(parts)

    def close(self) -> None:
        self.stop_workers()
        for api in [*self.apis, *self.extra_apis]:
            api.close()
        self.apis.clear()
        self.extra_apis.clear()
