"""asyncpg, for the code that speaks to PostgreSQL directly (the worker, the lifecycle's worker
transitions, database creation): the connection types and the advisory-lock keys."""

from __future__ import annotations

import hashlib
from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

# A connection of its own, or one lent by a pool: both answer the same calls.
Connection: TypeAlias = asyncpg.Connection | PoolConnectionProxy
Pool: TypeAlias = asyncpg.Pool


def advisory_key(namespace: str, *parts: object) -> int:
    """A 64-bit key for ``pg_advisory_lock`` and its kin, the same in every process."""
    material = "\x1f".join([namespace, *map(str, parts)]).encode()
    return int.from_bytes(hashlib.sha256(material).digest()[:8], "big", signed=True)


def affected(status: str) -> int:
    """How many rows a statement touched, from its command tag ("INSERT 0 12", "UPDATE 7")."""
    return int(status.rsplit(" ", 1)[-1])
