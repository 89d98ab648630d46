"""Just enough of the Redis protocol (RESP2) for the bench: flush its db, read and delete a key.

The bench uses only the standard library, httpx and asyncpg; one command per connection is
plenty for the handful it sends.
"""

from __future__ import annotations

import asyncio
from urllib.parse import unquote, urlsplit

from bench.config import BenchError, redis_db

Reply = str | int | bytes | list["Reply"] | None


def _encode(*args: str) -> bytes:
    out = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


async def _read(reader: asyncio.StreamReader) -> Reply:
    line = (await reader.readline()).rstrip(b"\r\n")
    if not line:
        raise BenchError("Redis closed the connection")
    kind, rest = line[:1], line[1:]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise BenchError(f"Redis answered an error: {rest.decode()}")
    if kind == b":":
        return int(rest)
    if kind == b"$":
        size = int(rest)
        if size < 0:
            return None
        return (await reader.readexactly(size + 2))[:-2]
    if kind == b"*":
        count = int(rest)
        if count < 0:
            return None
        return [await _read(reader) for _ in range(count)]
    raise BenchError(f"unexpected Redis reply {line[:40]!r}")


async def command(url: str, *args: str) -> Reply:
    """Run one command in the database that ``url`` names (``redis://[user:pass@]host:port/db``,
    or ``unix:///socket?db=N``)."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "unix"):
        raise BenchError(f"only redis:// and unix:// URLs are supported, not {url!r}")
    db = str(redis_db(url))
    try:
        if parts.scheme == "unix":
            reader, writer = await asyncio.open_unix_connection(parts.path)
        else:
            reader, writer = await asyncio.open_connection(
                parts.hostname or "127.0.0.1", parts.port or 6379
            )
    except OSError as exc:
        raise BenchError(f"cannot reach Redis at {parts.netloc or parts.path}: {exc}") from exc
    try:
        if parts.password is not None:
            auth = [unquote(parts.username or "default"), unquote(parts.password)]
            writer.write(_encode("AUTH", *auth))
            await _read(reader)
        writer.write(_encode("SELECT", db))
        await _read(reader)
        writer.write(_encode(*args))
        await writer.drain()
        return await _read(reader)
    finally:
        writer.close()
        await writer.wait_closed()
