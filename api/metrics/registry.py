"""This API process's own metrics: its HTTP requests, and the process itself.

A registry of its own rather than prometheus_client's global one: the worker's families live in
another (``worker.metrics``), and a test process that runs both keeps them apart.
"""

from __future__ import annotations

from functools import lru_cache

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

# Status polls answer in milliseconds, uploads of large files in tens of seconds.
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

REQUEST_SECONDS = Histogram(
    "caseimport_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, route template and status class.",
    ["method", "route", "status"],
    buckets=_BUCKETS,
    registry=REGISTRY,
)

# Any other method a client sends is counted as "other": a label per made-up word would not end.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@lru_cache(maxsize=4096)
def _series(method: str, route: str, status_class: int) -> Histogram:
    # Looked up once per label set: labels() checks and locks on every call (a few µs).
    return REQUEST_SECONDS.labels(
        method if method in _METHODS else "other", route, f"{status_class}xx"
    )


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    _series(method, route, status // 100).observe(seconds)
