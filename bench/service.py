"""The service's processes, started as deployed: ``caseimport api`` and ``caseimport worker``.

Each writes its log to the output folder. The API is ready when ``/readyz`` answers 200; a
worker when arq has written its health-check key to Redis (it does so on its first poll of the
queue, after its start-up hook), so workers are started one at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import IO

import httpx

from bench import measure, redis
from bench.config import BenchError, Config

# arq's default queue name plus its health-check suffix (the service keeps arq's defaults).
WORKER_HEALTH_KEY = "arq:queue:health-check"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Child:
    """One started process of the service; its pid is the Python process itself."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str],
        log_path: Path,
        concurrency: int | None = None,
    ) -> None:
        self.name = name
        self.concurrency = concurrency
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path = log_path
        self._log: IO[bytes] = log_path.open("ab")
        self.proc = subprocess.Popen(
            argv, env=env, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def died(self) -> BenchError:
        code = self.proc.returncode
        how = f"exited with {code}"
        if code is not None and code < 0:
            how = f"was killed by {signal.Signals(-code).name}, not sent by the bench"
        return BenchError(f"{self.name} {how}; the end of {self.log_path}:\n{self.log_tail()}")

    async def stop(self) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(self.proc.wait, STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                await asyncio.to_thread(self.proc.wait)
        self._log.close()


class Services:
    """The API and the workers of a run; ``close`` stops whatever is still running."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.api: Child | None = None
        self.workers: list[Child] = []
        self._count = 0
        self.can_reset_peaks = measure.peak_reset_works()

    def _log(self, name: str) -> Path:
        self._count += 1
        return self.config.out_dir / "logs" / f"{self._count:02d}-{name}.log"

    async def start_api(self) -> Child:
        child = Child(
            "the API",
            [str(self.config.caseimport), "api", "--host", "127.0.0.1", "--port", str(self.port)],
            # As deployed behind a proxy that logs requests: no access log line per poll.
            self.config.child_env(CASEIMPORT_ACCESS_LOG="false"),
            self._log("api"),
        )
        self.api = child
        deadline = time.monotonic() + START_TIMEOUT
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2.0) as client:
            while True:
                if not child.alive():
                    raise child.died()
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get("/readyz")).status_code == 200:
                        return child
                if time.monotonic() > deadline:
                    raise BenchError(f"the API did not become ready:\n{child.log_tail()}")
                await asyncio.sleep(0.1)

    async def start_worker(self, concurrency: int | None = None) -> Child:
        extra = {} if concurrency is None else {"CASEIMPORT_WORKER_CONCURRENCY": str(concurrency)}
        await redis.command(self.config.redis_url, "DEL", WORKER_HEALTH_KEY)
        child = Child(
            f"worker {len(self.workers) + 1}",
            [str(self.config.caseimport), "worker"],
            self.config.child_env(**extra),
            self._log("worker"),
            concurrency,
        )
        self.workers.append(child)
        deadline = time.monotonic() + START_TIMEOUT
        while await redis.command(self.config.redis_url, "GET", WORKER_HEALTH_KEY) is None:
            if not child.alive():
                raise child.died()
            if time.monotonic() > deadline:
                raise BenchError(f"the worker did not start polling:\n{child.log_tail()}")
            await asyncio.sleep(0.05)
        return child

    async def stop_workers(self) -> None:
        for child in self.workers:
            await child.stop()
        self.workers.clear()

    async def fresh_peaks(self, *, api: bool = True, workers: bool = True) -> None:
        """Count peak memory from now on: reset in place (clear_refs), or, on a kernel that
        refuses, by restarting the processes."""
        if self.can_reset_peaks:
            chosen = ([self.api] if api else []) + (self.workers if workers else [])
            for child in chosen:
                if child is not None and not measure.reset_peak(child.pid):
                    raise BenchError(f"cannot reset the peak memory of {child.name}")
            return
        if workers:
            concurrencies = [w.concurrency for w in self.workers]
            await self.stop_workers()
            for concurrency in concurrencies:
                await self.start_worker(concurrency)
        if api and self.api is not None:
            await self.api.stop()
            await self.start_api()

    def check_alive(self) -> None:
        for child in [self.api, *self.workers]:
            if child is not None and not child.alive():
                raise child.died()

    async def close(self) -> None:
        await self.stop_workers()
        if self.api is not None:
            await self.api.stop()
            self.api = None
