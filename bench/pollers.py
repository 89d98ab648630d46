"""Many admins watching one import, as the SPA does: each GETs the import about once a second.

Run by the bench as ``python -m bench.pollers``; it reads one JSON line on stdin
(``base_url``, ``path``, ``token``, ``pollers``, ``interval``, ``seed``), polls until one poller
sees the import finished, and prints one JSON line: request count, errors and latencies in ms.
Each poller has its own connection, kept alive like a browser tab's, and starts at a random
moment of the first interval; the pause after each answer is jittered by ±20 %.

Real pollers are browsers on other machines; these share the service's two cores. So each
speaks just enough HTTP/1.1 over a plain socket (a fixed request, a Content-Length answer):
about a tenth of the CPU an HTTP library's client takes, which the service would otherwise
lose to its own measurement.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import sys
import time
from typing import Any
from urllib.parse import urlsplit

from api.imports.status import FINISHED
from bench.measure import percentile

TERMINAL = FINISHED
MAX_SECONDS = 3 * 3600.0
TIMEOUT_SECONDS = 30.0


class PollError(Exception):
    pass


class _Connection:
    """One kept-alive connection that sends the same GET again and again."""

    def __init__(self, base_url: str, path: str, token: str) -> None:
        url = urlsplit(base_url)
        if url.scheme != "http" or url.hostname is None:
            raise PollError(f"the pollers speak plain http only, not {base_url!r}")
        self._host, self._port = url.hostname, url.port or 80
        self._request = (
            f"GET {path} HTTP/1.1\r\nHost: {url.netloc}\r\nAuthorization: Bearer {token}\r\n"
            "Accept: application/json\r\n\r\n"
        ).encode()
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def get(self) -> tuple[int, bytes]:
        """(status, body) of one GET; reconnects when the server closed the connection."""
        if self._streams is None:
            self._streams = await asyncio.open_connection(self._host, self._port)
        reader, writer = self._streams
        try:
            writer.write(self._request)
            status_line = await reader.readline()
            if not status_line:
                raise PollError("the server closed the connection")
            status = int(status_line.split()[1])
            length, close = 0, False
            while (header := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = header.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value.strip().lower() == b"close":
                    close = True
                elif name == b"transfer-encoding":
                    raise PollError("a chunked answer: the pollers expect Content-Length")
            body = await reader.readexactly(length)
        except BaseException:
            self.close()
            raise
        if close:
            self.close()
        return status, body

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None


async def _poller(
    connection: _Connection,
    interval: float,
    rng: random.Random,
    done: asyncio.Event,
    latencies: list[float],
    errors: list[str],
) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done.wait(), rng.uniform(0, interval))
    try:
        while not done.is_set():
            started = time.perf_counter()
            try:
                status, body = await asyncio.wait_for(connection.get(), TIMEOUT_SECONDS)
            except (OSError, PollError, TimeoutError, ValueError, IndexError) as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
            else:
                latencies.append((time.perf_counter() - started) * 1000)
                if status != 200:
                    errors.append(f"{status}: {body[:200].decode(errors='replace')}")
                elif json.loads(body)["status"] in TERMINAL:
                    done.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), interval * rng.uniform(0.8, 1.2))
    finally:
        connection.close()


async def run(order: dict[str, Any]) -> dict[str, Any]:
    rng = random.Random(order["seed"])
    done = asyncio.Event()
    latencies: list[float] = []
    errors: list[str] = []
    tasks = [
        asyncio.create_task(
            _poller(
                _Connection(order["base_url"], order["path"], order["token"]),
                float(order["interval"]),
                random.Random(rng.random()),
                done,
                latencies,
                errors,
            )
        )
        for _ in range(int(order["pollers"]))
    ]
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), MAX_SECONDS)
    finally:
        for task in tasks:
            task.cancel()
    if errors:
        print(f"{len(errors)} polls failed; the first: {errors[0]}", file=sys.stderr)
    ordered = sorted(latencies)
    return {
        "pollers": int(order["pollers"]),
        "requests": len(latencies),
        "errors": len(errors),
        "p50_ms": percentile(ordered, 0.50),
        "p99_ms": percentile(ordered, 0.99),
        "max_ms": ordered[-1] if ordered else 0.0,
        "mean_ms": sum(ordered) / len(ordered) if ordered else 0.0,
        "cpu_seconds": time.process_time(),
    }


def main() -> int:
    order = json.loads(sys.stdin.readline())
    print(json.dumps(asyncio.run(run(order))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
