"""The worker process's metrics: its imports' durations and rows, its job slots, how long
since it last polled its queue, and the process itself.

Observed here as imports end; served by ``worker.metrics_server`` on the worker's own port. A
registry of its own: a test process that runs the API too keeps the two apart.
"""

from __future__ import annotations

import time
from dataclasses import fields

from arq.worker import Worker
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from api.import_types.registry import all_types
from api.imports.lifecycle import Claim, Counts
from api.imports.status import ImportStatus
from worker.pipeline.outcome import Completed, Outcome

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

COMPLETED = ImportStatus.COMPLETED.value
FAILED = ImportStatus.FAILED.value
CANCELLED = ImportStatus.CANCELLED.value

# From a few rows in a fraction of a second to a million-row file in minutes.
_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)

IMPORT_SECONDS = Histogram(
    "caseimport_import_duration_seconds",
    "Time from a worker's claim of an import to its end, by type and outcome.",
    ["type", "outcome"],
    buckets=_BUCKETS,
    registry=REGISTRY,
)
IMPORT_ROWS = Counter(
    "caseimport_import_rows",
    "Rows of the imports this worker finished (check-only ones aside), by type and what became "
    "of them.",
    ["type", "outcome"],
    registry=REGISTRY,
)
ATTEMPTS_BROKEN = Counter(
    "caseimport_import_attempts_broken",
    "Attempts at an import that broke off on this worker (an unexpected error): run again, "
    "or failed after CASEIMPORT_MAX_ATTEMPTS of them.",
    ["type"],
    registry=REGISTRY,
)
SLOTS = Gauge(
    "caseimport_worker_slots", "Jobs this worker runs at once at most.", registry=REGISTRY
)
BUSY_SLOTS = Gauge("caseimport_worker_busy_slots", "Jobs this worker runs now.", registry=REGISTRY)
HEARTBEAT_AGE = Gauge(
    "caseimport_worker_heartbeat_age_seconds",
    "Seconds since this worker last polled its queue (every 0.1 s while it is well); it grows "
    "while Redis is unreachable or the worker's event loop is blocked.",
    registry=REGISTRY,
)

# Counts' fields by the name the rows are counted under.
_ROW_OUTCOMES = {f.name: f.name for f in fields(Counts) if f.name not in ("rows", "sha256")}
_ROW_OUTCOMES["blank_rows"] = "blank"


def _zeroes() -> None:
    """Every type's series from the start: a rate over a series that appears late misses it."""
    for import_type in all_types():
        ATTEMPTS_BROKEN.labels(import_type.key)
        for outcome in (COMPLETED, FAILED, CANCELLED):
            IMPORT_SECONDS.labels(import_type.key, outcome)
        for outcome in _ROW_OUTCOMES.values():
            IMPORT_ROWS.labels(import_type.key, outcome)


_zeroes()


def import_ended(claim: Claim, outcome: Outcome | None, seconds: float) -> None:
    """An import completed or failed (``None``: given up, no file or an unknown type)."""
    finished = COMPLETED if isinstance(outcome, Completed) else FAILED
    IMPORT_SECONDS.labels(claim.type_key, finished).observe(seconds)
    counts = outcome.counts if outcome is not None else None
    # A check-only import's "created" were not created: only written rows are counted.
    if counts is None or claim.validate_only:
        return
    for field, outcome_name in _ROW_OUTCOMES.items():
        IMPORT_ROWS.labels(claim.type_key, outcome_name).inc(getattr(counts, field))


def import_cancelled(claim: Claim, seconds: float) -> None:
    IMPORT_SECONDS.labels(claim.type_key, CANCELLED).observe(seconds)


def attempt_broke_off(claim: Claim) -> None:
    ATTEMPTS_BROKEN.labels(claim.type_key).inc()


class _Liveness:
    """When the worker last polled its queue (monotonic seconds)."""

    last_poll = time.monotonic()

    def age(self) -> float:
        return time.monotonic() - self.last_poll


_LIVENESS = _Liveness()


def polled() -> None:
    _LIVENESS.last_poll = time.monotonic()


def watch(worker: Worker) -> None:
    """Report this worker's slots; read at each scrape (one worker per process)."""
    SLOTS.set(worker.max_jobs)
    BUSY_SLOTS.set_function(lambda: float(worker.job_counter))
    polled()
    HEARTBEAT_AGE.set_function(_LIVENESS.age)
