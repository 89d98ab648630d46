"""A clean stage for a run: the bench database dropped and migrated, its Redis db flushed, and a
user, apps and tokens made with the service's own command line."""

from __future__ import annotations

import asyncio
import secrets
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bench import redis
from bench.config import BenchError, Config

USER = "bench@example.org"
# The command line starts a Python process per command: two at a time on a two-core machine.
CLI_PARALLEL = 2


def _maintenance_url(database_url: str) -> str:
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(path="/postgres"))


async def connect(config: Config) -> asyncpg.Connection:
    try:
        return await asyncpg.connect(config.database_url)
    except (OSError, asyncpg.PostgresError) as exc:
        raise BenchError(f"cannot connect to {config.database_name}: {exc}") from exc


async def drop_database(config: Config) -> None:
    # The name was checked against [A-Za-z0-9_]+ (config.load), so quoting it is enough.
    try:
        conn = await asyncpg.connect(_maintenance_url(config.database_url))
    except (OSError, asyncpg.PostgresError) as exc:
        raise BenchError(f"cannot reach PostgreSQL: {exc}") from exc
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{config.database_name}" WITH (FORCE)')
    finally:
        await conn.close()


async def cli(config: Config, *args: str, stdin: bytes | None = None) -> str:
    """Run ``caseimport ARGS`` against the bench database; its stdout, or BenchError."""
    proc = await asyncio.create_subprocess_exec(
        str(config.caseimport),
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=config.child_env(),
    )
    out, err = await proc.communicate(stdin)
    if proc.returncode != 0:
        raise BenchError(f"caseimport {args[0]} failed ({proc.returncode}): {err.decode().strip()}")
    return out.decode()


async def _each(config: Config, commands: list[list[str]]) -> list[str]:
    gate = asyncio.Semaphore(CLI_PARALLEL)

    async def one(args: list[str]) -> str:
        async with gate:
            return await cli(config, *args)

    return list(await asyncio.gather(*(one(args) for args in commands)))


async def accounts(config: Config, apps: list[str]) -> dict[str, str]:
    """A user who is admin of each app (not an owner), and an API token per app."""
    password = secrets.token_urlsafe(16).encode() + b"\n"
    await cli(config, "create-user", USER, "--password-stdin", stdin=password)
    await _each(config, [["create-app", slug, f"Bench {slug}"] for slug in apps])
    await _each(config, [["grant", USER, slug, "--role", "admin"] for slug in apps])
    tokens = await _each(config, [["create-token", USER, slug, "--name", "bench"] for slug in apps])
    return {slug: token.strip() for slug, token in zip(apps, tokens, strict=True)}


async def fresh_stage(config: Config, apps: list[str]) -> dict[str, str]:
    """Drop and migrate the database, flush Redis; the token of each app."""
    await drop_database(config)
    await cli(config, "migrate")
    await redis.command(config.redis_url, "FLUSHDB")
    return await accounts(config, apps)


async def checkpoint(config: Config) -> None:
    """Start each timed step with no dirty buffers of the previous one waiting to be written."""
    conn = await connect(config)
    try:
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()


async def server_version(config: Config) -> str:
    conn = await connect(config)
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()
