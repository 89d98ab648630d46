"""What a Prometheus scrape of the API answers: this process's own metrics, and the state of
the imports read from PostgreSQL at scrape time, so that every replica reports the same."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from prometheus_client import generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.imports.models import Import
from api.imports.status import ACTIVE, RUNNING, ImportStatus
from api.metrics.registry import REGISTRY

# The text format generate_latest writes.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_QUEUED = ImportStatus.QUEUED.value
_RUNNING = [s.value for s in RUNNING]


@dataclass(frozen=True, slots=True)
class ImportsNow:
    """The imports as PostgreSQL has them at the scrape."""

    by_type_and_status: list[tuple[str, str, int]]
    # Seconds: the oldest queued import's wait, and the longest a running import's worker has
    # been silent (0 when there is none).
    oldest_queued_age: float
    heartbeat_age: float

    def count(self, statuses: Iterable[str]) -> int:
        wanted = set(statuses)
        return sum(n for _, status, n in self.by_type_and_status if status in wanted)


async def imports_now(session: AsyncSession, lease_seconds: float) -> ImportsNow:
    counts = await session.execute(
        select(Import.type, Import.status, func.count()).group_by(Import.type, Import.status)
    )
    # A beat sets lease_until to its time plus the lease: the last beat was a lease before it.
    # Read through the index of unfinished imports.
    oldest_queued = func.min(Import.queued_at).filter(Import.status == _QUEUED)
    oldest_lease = func.min(Import.lease_until).filter(Import.status.in_(_RUNNING))
    ages = await session.execute(
        select(
            func.extract("epoch", func.now() - oldest_queued),
            func.extract("epoch", func.now() - oldest_lease),
        ).where(Import.status.in_([s.value for s in ACTIVE]))
    )
    queued_age, silent_for = ages.one()
    return ImportsNow(
        by_type_and_status=[(t, s, int(n)) for t, s, n in counts.all()],
        oldest_queued_age=max(0.0, float(queued_age or 0)),
        heartbeat_age=0.0 if silent_for is None else max(0.0, float(silent_for) + lease_seconds),
    )


def _families(now: ImportsNow, uploads_in_flight: int) -> Iterator[Metric]:
    yield GaugeMetricFamily(
        "caseimport_uploads_in_flight",
        "Uploads this API process is receiving or storing.",
        value=uploads_in_flight,
    )
    by_status = GaugeMetricFamily(
        "caseimport_imports", "Imports by type and status.", labels=["type", "status"]
    )
    for type_key, status, count in now.by_type_and_status:
        by_status.add_metric([type_key, status], count)
    yield by_status
    yield GaugeMetricFamily(
        "caseimport_imports_queued", "Imports waiting for a worker.", value=now.count([_QUEUED])
    )
    yield GaugeMetricFamily(
        "caseimport_imports_running",
        "Imports a worker is validating or applying.",
        value=now.count(_RUNNING),
    )
    yield GaugeMetricFamily(
        "caseimport_oldest_queued_import_age_seconds",
        "How long the oldest queued import has waited (0 when none waits).",
        value=now.oldest_queued_age,
    )
    yield GaugeMetricFamily(
        "caseimport_import_heartbeat_age_seconds",
        "The longest a running import's worker has not reported on it (0 when none runs); "
        "past the lease, the import is run again elsewhere.",
        value=now.heartbeat_age,
    )


@dataclass(frozen=True, slots=True)
class _Scrape:
    """The process's registry and this scrape's families, as one collector."""

    families: list[Metric]

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()
        yield from self.families


async def exposition(session: AsyncSession, uploads_in_flight: int, lease_seconds: float) -> bytes:
    """The metrics in Prometheus's text format."""
    now = await imports_now(session, lease_seconds)
    return generate_latest(_Scrape(list(_families(now, uploads_in_flight))))
