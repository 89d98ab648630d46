"""Readiness: whether the dependencies an API process needs answer now."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass(frozen=True, slots=True)
class Readiness:
    checks: dict[str, str]  # each dependency: "ok" or "unavailable"

    @property
    def ready(self) -> bool:
        return all(v == "ok" for v in self.checks.values())


async def readiness(engine: AsyncEngine, redis: Redis) -> Readiness:
    """PostgreSQL and Redis, each asked once."""
    checks: dict[str, str] = {}
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception:  # any failure means "not ready", whatever its kind
        checks["database"] = "unavailable"
    try:
        await redis.ping()
        checks["redis"] = "ok"
    except Exception:
        checks["redis"] = "unavailable"
    return Readiness(checks)
