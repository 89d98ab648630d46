"""The API process's one ``LISTEN`` connection, kept open for as long as the process runs.

A connection of its own, outside the pool (a pooled one would go back with the LISTEN on it,
or hold a slot for good). When it is lost (PostgreSQL restarted, the network broke) the
listener connects again, with a growing pause, and then has every followed import read again:
what changed while nobody listened is sent all the same. A lost connection usually says so at
once; a probe every ``probe_seconds`` finds one that went silent.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import asyncpg

from api.events.broker import Broker
from api.events.publish import CHANNEL

log = logging.getLogger(__name__)

RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0)
# How the connection shows in pg_stat_activity.
APPLICATION_NAME = "caseimport-events"


async def listen(database_url: str, broker: Broker, *, probe_seconds: float) -> None:
    """Forward the channel's notices to ``broker`` until cancelled (``broker.listening`` is
    set while a connection listens)."""
    failures = 0
    while True:
        try:
            conn = await asyncpg.connect(
                database_url, timeout=10, server_settings={"application_name": APPLICATION_NAME}
            )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
            pause = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
            failures += 1
            if failures == 1:
                log.warning("event listener cannot connect (%s); retrying", exc)
            await asyncio.sleep(pause)
            continue
        failures = 0
        try:
            await _serve(conn, broker, probe_seconds)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
            log.warning("event listener lost its connection (%s); reconnecting", exc)
        except Exception:  # anything else must not leave the process's streams without notices
            log.exception("event listener failed; reconnecting")
            await asyncio.sleep(RETRY_SECONDS[-1])
        finally:
            broker.listening.clear()
            conn.terminate()


async def _serve(conn: asyncpg.Connection, broker: Broker, probe_seconds: float) -> None:
    lost = asyncio.Event()

    def on_notice(_conn: Any, _pid: int, _channel: str, payload: object) -> None:
        broker.notified(str(payload))

    conn.add_termination_listener(lambda _conn: lost.set())
    await conn.add_listener(CHANNEL, on_notice)
    broker.listening.set()
    # Changes made while nobody listened (before a reconnect) are read now.
    broker.reread_all()
    while not lost.is_set():
        try:
            async with asyncio.timeout(probe_seconds):
                await lost.wait()
        except TimeoutError:
            await conn.fetchval("SELECT 1", timeout=probe_seconds)
    log.warning("event listener's connection closed; reconnecting")
