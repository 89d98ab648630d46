"""The seam between the API and the job queue (arq today).

Jobs carry only ``{import_id, attempt}``, serialized as JSON, never pickle. PostgreSQL holds the
import's state, so a job lost here delays an import (the reconciler re-enqueues it), never loses it.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from arq import ArqRedis
from arq.connections import RedisSettings
from redis.asyncio import ConnectionPool

RUN_IMPORT = "run_import"


def job_serializer(job: dict[str, Any]) -> bytes:
    return json.dumps(job, separators=(",", ":")).encode()


def job_deserializer(raw: bytes) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(raw)
    return value


def redis_settings(url: str) -> RedisSettings:
    return RedisSettings.from_dsn(url)


async def connect(url: str) -> ArqRedis:
    """A client that connects on first use: the API starts, and takes uploads, with Redis down.

    (arq's ``create_pool`` would ping and retry at start-up instead.) Uploads commit as
    ``queued`` in PostgreSQL either way; the reconciler enqueues them once Redis is back.
    """
    return ArqRedis(
        connection_pool=ConnectionPool.from_url(url),
        job_serializer=job_serializer,
        job_deserializer=job_deserializer,
    )


def job_id(import_id: uuid.UUID, attempt: int, tag: str | None = None) -> str:
    """A new id for every enqueue, unless ``tag`` names one: a job is a wake-up, and PostgreSQL
    decides what runs, so two jobs for one attempt are harmless, while an id that arq still
    remembers (a finished job's result, a dead worker's job) would stop a needed one."""
    return f"import:{import_id}:{attempt}:{tag or uuid.uuid4().hex}"


async def enqueue(
    redis: ArqRedis, import_id: uuid.UUID, attempt: int, tag: str | None = None
) -> bool:
    """Whether a job was added (not when one with the same tag is waiting)."""
    job = await redis.enqueue_job(
        RUN_IMPORT, str(import_id), attempt, _job_id=job_id(import_id, attempt, tag)
    )
    return job is not None


class JobQueue:
    """The queue as the worker uses it: wake the worker that will run an attempt."""

    def __init__(self, redis: ArqRedis) -> None:
        self.redis = redis

    async def enqueue(self, import_id: uuid.UUID, attempt: int, tag: str | None = None) -> bool:
        """A job for this attempt; with ``tag``, none while one with the same tag is waiting."""
        return await enqueue(self.redis, import_id, attempt, tag)
