"""What a test run takes for itself on a shared PostgreSQL and Redis, and gives back.

A run's database is named after its checkout and its process (``caseimport_test_<checkout>_
<pid>``) and dropped at its end; one left by a run that was killed is dropped by the next run
of the same checkout. A Redis db is claimed with a key in db 0 naming the run, so that two runs
never flush each other's queue; the db below it is the bench smoke test's.
"""

from __future__ import annotations

import atexit
import os
import socket
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import redis

from api.migrate import drop_database

# The tests' Redis dbs; db 0 is the service's own default and holds the claims.
REDIS_DBS = (15, 13, 11, 9, 7, 5, 3)
_CLAIM_HOURS = 6  # a claim of a run that was killed frees itself after this


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else ""


def claim_redis_db(host: str, port: int) -> int:
    """A Redis db that no other running test run holds, held until this process ends."""
    claims = redis.Redis(host=host, port=port, db=0)
    me = f"{socket.gethostname()}:{os.getpid()}"
    for db in REDIS_DBS:
        key = f"caseimport:test-run:db{db}"
        taken = claims.set(key, me, nx=True, ex=_CLAIM_HOURS * 3600)
        if not taken:
            holder = _text(claims.get(key))
            host_name, _, pid = holder.rpartition(":")
            # A run of this machine that was killed: its db is free again.
            if host_name == socket.gethostname() and pid.isdigit() and not _alive(int(pid)):
                taken = claims.set(key, me, ex=_CLAIM_HOURS * 3600)
        if taken:
            atexit.register(_release, claims, key, me)
            return db
    raise RuntimeError(f"every test Redis db ({REDIS_DBS}) is held by another test run")


def _release(claims: redis.Redis, key: str, me: str) -> None:
    if _text(claims.get(key)) == me:
        claims.delete(key)
    claims.close()


async def drop_finished_runs(database_url: str, prefix: str) -> None:
    """Drop the databases of this checkout's earlier runs whose process is gone."""
    parts = urlsplit(database_url)
    server = urlunsplit(parts._replace(path="/postgres"))
    conn = await asyncpg.connect(server)
    try:
        names = await conn.fetch(
            "SELECT datname FROM pg_database WHERE starts_with(datname, $1)", prefix
        )
    finally:
        await conn.close()
    for row in names:
        suffix = row["datname"][len(prefix) :].removesuffix("_bench")
        if suffix.isdigit() and not _alive(int(suffix)):
            await drop_database(urlunsplit(parts._replace(path="/" + row["datname"])))
