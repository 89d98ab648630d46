"""Sending the outbox: a delivery that is due is claimed (``FOR UPDATE SKIP LOCKED``, so
workers never claim one at once) by moving its next attempt past the time a send may take, and
committed; it is sent holding no connection, lock or transaction; then its attempt is recorded.
A worker killed mid-way leaves the delivery pending: once its claim runs out, another sends it
(at least once; a receiver tells repeats apart by the event's id). A delivery deleted while it
was being sent (its endpoint was) records nothing.

A failed attempt is tried again after ``webhooks_retry_base_seconds``, twice as long each time
(at most an hour apart, with some jitter), until ``webhooks_retry_hours`` after the event; then
the delivery is failed. Deliveries of an inactive endpoint wait until it is active again.
Events older than ``webhooks_keep_days`` go, with their deliveries and attempts, once none of
them is pending.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time

import asyncpg
import httpx

from api.config import Settings
from api.pg import Connection, Pool
from api.webhooks import secrets, signing
from worker.webhooks import http
from worker.webhooks.http import Answer

log = logging.getLogger(__name__)

MAX_DELAY_SECONDS = 3600.0
# How often a worker deletes old events (days of keeping: an hour late is nothing).
PRUNE_EVERY_SECONDS = 3600.0

# A claim lasts twice an attempt's limit: it never runs out while its sender still waits.
CLAIM_TIMEOUTS = 2

_CLAIM = """
    WITH due AS (
        SELECT d.id
        FROM webhook_deliveries d
        JOIN webhook_endpoints e ON e.id = d.endpoint_id
        WHERE d.state = 'pending' AND d.next_attempt_at <= now() AND e.active
        ORDER BY d.next_attempt_at
        LIMIT 1
        FOR UPDATE OF d SKIP LOCKED
    )
    UPDATE webhook_deliveries d
    SET next_attempt_at = clock_timestamp() + make_interval(secs => $1)
    FROM due, webhook_endpoints e, webhook_events ev
    WHERE d.id = due.id AND e.id = d.endpoint_id AND ev.id = d.event_id
    RETURNING d.id, d.attempts, d.created_at, d.next_attempt_at AS claimed_until, ev.type,
              ev.body, e.url, e.secret_encrypted
"""
# The delivery as the attempt ends, locked, if this sender's claim still holds it: gone (its
# endpoint was deleted), no longer pending, or claimed again by another sender after this
# claim ran out (that sender records its own attempt), the attempt is not recorded.
_STILL_CLAIMED = """
    SELECT attempts FROM webhook_deliveries
    WHERE id = $1 AND state = 'pending' AND next_attempt_at = $2
    FOR UPDATE
"""
_ATTEMPT = """
    INSERT INTO webhook_attempts (delivery_id, at, status_code, error, duration_ms)
    VALUES ($1, clock_timestamp(), $2, $3, $4)
"""
_DELIVERED = """
    UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1,
        finished_at = clock_timestamp()
    WHERE id = $1
"""
# Tried again after $2 seconds, unless that is past the retry window ($3 hours): then failed.
_RETRY_OR_FAIL = """
    UPDATE webhook_deliveries SET attempts = attempts + 1,
        state = CASE WHEN clock_timestamp() + make_interval(secs => $2)
                          > created_at + make_interval(hours => $3)
                     THEN 'failed' ELSE 'pending' END,
        finished_at = CASE WHEN clock_timestamp() + make_interval(secs => $2)
                                > created_at + make_interval(hours => $3)
                           THEN clock_timestamp() END,
        next_attempt_at = clock_timestamp() + make_interval(secs => $2)
    WHERE id = $1
    RETURNING state
"""


_PRUNE = """
    DELETE FROM webhook_events ev
    WHERE ev.created_at < now() - make_interval(days => $1)
      AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d
                      WHERE d.event_id = ev.id AND d.state = 'pending')
"""


async def prune(pool: Pool, keep_days: int) -> None:
    """Forget events older than ``keep_days``, with their deliveries and attempts."""
    await pool.execute(_PRUNE, keep_days)


def retry_delay(attempts: int, base: float) -> float:
    """Seconds before the next try after ``attempts`` failed ones: doubling, at most an hour,
    give or take a fifth so that many deliveries to an endpoint that was down spread out."""
    delay: float = min(base * 2.0 ** min(attempts - 1, 30), MAX_DELAY_SECONDS)
    return delay * random.uniform(0.8, 1.2)  # noqa: S311 - spreading, not secrecy


async def deliver_one(pool: Pool, settings: Settings, client: httpx.AsyncClient) -> bool:
    """Send one delivery that is due, if any; whether there was one."""
    claim = CLAIM_TIMEOUTS * settings.webhooks_timeout_seconds
    row = await pool.fetchrow(_CLAIM, claim)
    if row is None:
        return False
    answer = await _attempt(row, settings, client)
    async with pool.acquire() as conn, conn.transaction():
        attempts = await conn.fetchval(_STILL_CLAIMED, row["id"], row["claimed_until"])
        if attempts is not None:
            await _record(conn, row, attempts, answer, settings)
    return True


async def _attempt(row: asyncpg.Record, settings: Settings, client: httpx.AsyncClient) -> Answer:
    body: bytes = row["body"].encode()
    try:
        secret = secrets.decrypt(row["secret_encrypted"], settings.secret_key)
    except secrets.SecretUnreadable as exc:
        return Answer(None, str(exc), 0.0)
    headers = {
        signing.SIGNATURE_HEADER: signing.header_value(secret, body),
        signing.DELIVERY_HEADER: str(row["id"]),
        signing.EVENT_HEADER: row["type"],
    }
    return await http.post(
        client,
        row["url"],
        body,
        headers,
        allow_private=settings.webhooks_allow_private,
        seconds=settings.webhooks_timeout_seconds,
    )


async def _record(
    conn: Connection, row: asyncpg.Record, attempts: int, answer: Answer, settings: Settings
) -> None:
    await conn.execute(_ATTEMPT, row["id"], answer.status_code, answer.error, answer.duration_ms)
    if answer.accepted:
        await conn.execute(_DELIVERED, row["id"])
        return
    delay = retry_delay(attempts + 1, settings.webhooks_retry_base_seconds)
    state = await conn.fetchval(
        _RETRY_OR_FAIL, row["id"], delay, float(settings.webhooks_retry_hours)
    )
    log.warning(
        "webhook delivery %s to %s: %s (%s)",
        row["id"],
        row["url"],
        answer.error,
        "given up" if state == "failed" else f"next try in {delay:.0f} s",
    )


async def deliver_due(pool: Pool, settings: Settings, client: httpx.AsyncClient) -> int:
    """Send every delivery due now, ``webhooks_concurrency`` at a time; how many were tried."""

    async def drain() -> int:
        tried = 0
        while await deliver_one(pool, settings, client):
            tried += 1
        return tried

    # A TaskGroup: when one drain fails the others are cancelled, so no pass outlives its call
    # and the sender never holds more than its share of the pool.
    async with asyncio.TaskGroup() as group:
        drains = [group.create_task(drain()) for _ in range(settings.webhooks_concurrency)]
    return sum(d.result() for d in drains)


async def send_forever(pool: Pool, settings: Settings) -> None:
    """The worker's background sender: what is due, then a look every ``webhooks_poll_seconds``."""
    pruned_at = 0.0
    async with http.client(settings.webhooks_timeout_seconds) as client:
        while True:
            try:
                if time.monotonic() - pruned_at > PRUNE_EVERY_SECONDS:
                    pruned_at = time.monotonic()
                    await prune(pool, settings.webhooks_keep_days)
                tried = await deliver_due(pool, settings, client)
            except Exception:  # keep sending whatever one pass ran into (a drain's, grouped)
                log.exception("sending webhooks failed")
                tried = 0
            if not tried:
                await asyncio.sleep(settings.webhooks_poll_seconds)
