"""PostgreSQL settings for a block of statements, set and undone in one way everywhere."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping

from api.pg import Connection


async def _set(conn: Connection, settings: Mapping[str, str], *, local: bool) -> None:
    # One round trip for them all; set_config takes values as parameters, unlike SET.
    args = [item for pair in settings.items() for item in pair]
    calls = ", ".join(
        f"set_config(${i + 1}, ${i + 2}, {'true' if local else 'false'})"
        for i in range(0, len(args), 2)
    )
    await conn.execute(f"SELECT {calls}", *args)


@contextlib.asynccontextmanager
async def pg_settings(conn: Connection, settings: Mapping[str, str]) -> AsyncIterator[None]:
    """``settings`` for the statements of the block, then the values from before it.

    Inside a transaction they are the transaction's own: a rollback undoes them as well. Outside
    one they belong to the connection until the block ends (and a pool's connection is reset
    when it is released).
    """
    names = list(settings)
    before = await conn.fetchrow(
        "SELECT " + ", ".join(f"current_setting(${i + 1})" for i in range(len(names))), *names
    )
    assert before is not None
    local = conn.is_in_transaction()
    await _set(conn, settings, local=local)
    # No finally: after an error the transaction is rolled back (which undoes local settings,
    # and an aborted transaction refuses any statement), or the connection is reset.
    yield
    await _set(conn, dict(zip(names, before, strict=True)), local=local)
