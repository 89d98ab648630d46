"""Many admins watching one import, as the SPA does: each GETs the import about once a second.

Run by the bench as ``python -m bench.pollers``; it reads one JSON line on stdin
(``base_url``, ``path``, ``token``, ``pollers``, ``interval``, ``seed``), polls until one poller
sees the import finished, and prints one JSON line: request count, errors and latencies in ms.
Each poller has its own client and connection, like a browser tab, and starts at a random
moment of the first interval; the pause after each answer is jittered by ±20 %.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import ssl
import sys
import time
from typing import Any

import httpx

from bench.measure import percentile

TERMINAL = frozenset({"completed", "failed", "cancelled"})
MAX_SECONDS = 3 * 3600.0


async def _poller(
    client: httpx.AsyncClient,
    url: str,
    interval: float,
    rng: random.Random,
    done: asyncio.Event,
    latencies: list[float],
    errors: list[str],
) -> None:
    async with client:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), rng.uniform(0, interval))
        while not done.is_set():
            started = time.perf_counter()
            try:
                response = await client.get(url)
            except httpx.HTTPError as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
            else:
                latencies.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    errors.append(f"{response.status_code}: {response.text[:200]}")
                elif response.json()["status"] in TERMINAL:
                    done.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), interval * rng.uniform(0.8, 1.2))


async def run(order: dict[str, Any]) -> dict[str, Any]:
    rng = random.Random(order["seed"])
    done = asyncio.Event()
    latencies: list[float] = []
    errors: list[str] = []
    url = order["base_url"] + order["path"]
    headers = {"Authorization": f"Bearer {order['token']}"}
    # Every client made before the first poll, sharing one TLS context (unused over plain
    # HTTP, but costly to make a hundred times): nothing slows the loop once polling starts.
    tls = ssl.create_default_context()
    clients = [
        httpx.AsyncClient(headers=headers, timeout=30.0, verify=tls)
        for _ in range(int(order["pollers"]))
    ]
    tasks = [
        asyncio.create_task(
            _poller(
                client,
                url,
                float(order["interval"]),
                random.Random(rng.random()),
                done,
                latencies,
                errors,
            )
        )
        for client in clients
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
