"""Webhooks: registered by an app's admins, written to the outbox with the status change they
tell of, sent signed by the worker's sender to a real receiver on 127.0.0.1, retried, listed."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import re
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.config import Settings
from api.webhooks import signing
from api.webhooks.addresses import is_public
from tests.factories import (
    AdminSetup,
    admin_setup,
    assert_problem,
    make_member,
    make_token,
    make_user,
    sign_in,
)
from tests.importing import ADD_HEADER, import_file, upload
from tests.webhook_receiver import Received, Receiver, receiving
from tests.worker_harness import run_worker
from worker.webhooks import http
from worker.webhooks.sender import deliver_due, prune, retry_delay

ROWS = "".join(f"WH-{n},1,2024-03-0{n},Water supply {n}\r\n" for n in range(1, 4))


@pytest.fixture
def local(app: FastAPI, settings: Settings) -> Iterator[Settings]:
    """The API's settings with private addresses allowed, to reach a receiver on 127.0.0.1."""
    allowed = settings.model_copy(update={"webhooks_allow_private": True})
    app.state.settings = allowed
    yield allowed
    app.state.settings = settings


@pytest.fixture
async def pool(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    async with asyncpg.create_pool(settings.database_url, min_size=1, max_size=4) as opened:
        yield opened


@pytest.fixture
async def admin(client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> AdminSetup:
    setup = await admin_setup(sessionmaker)
    await sign_in(client, setup.email)  # registering needs a session; the token does the rest
    return setup


async def register(
    client: AsyncClient, admin: AdminSetup, url: str, events: list[str]
) -> dict[str, Any]:
    response = await client.post(
        f"/api/apps/{admin.slug}/webhooks", json={"url": url, "events": events}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def send(pool: asyncpg.Pool, settings: Settings) -> int:
    """What the worker's sender does in one pass."""
    async with http.client(settings.webhooks_timeout_seconds) as client:
        return await deliver_due(pool, settings, client)


async def send_when_due(pool: asyncpg.Pool, settings: Settings, within: float = 10) -> None:
    """One pass that sends something, as soon as something is due."""
    deadline = asyncio.get_running_loop().time() + within
    while not await send(pool, settings):
        assert asyncio.get_running_loop().time() < deadline, "nothing became due"
        await asyncio.sleep(0.1)


async def deliveries_of(
    client: AsyncClient, admin: AdminSetup, webhook: dict[str, Any], **params: Any
) -> dict[str, Any]:
    response = await client.get(
        f"/api/apps/{admin.slug}/webhooks/{webhook['id']}/deliveries",
        params=params,
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def signed_by(secret: str, request: Received) -> bool:
    return signing.verify(secret, request.headers[signing.SIGNATURE_HEADER], request.body)


def documented_check() -> Callable[[str, str, bytes], bool]:
    """The verification snippet of docs/webhooks.md, as a receiver would paste it."""
    docs = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
    (snippet,) = re.findall(r"```python\n(.*?)```", docs.read_text(), re.S)
    found: dict[str, Any] = {}
    exec(snippet, found)  # noqa: S102 - the project's own documentation
    check: Callable[[str, str, bytes], bool] = found["verified"]
    return check


async def test_a_completed_import_is_told_to_its_endpoint_signed(
    client: AsyncClient, admin: AdminSetup, local: Settings, pool: asyncpg.Pool
) -> None:
    with receiving() as receiver:
        hook = await register(client, admin, receiver.url, ["import.completed"])
        elsewhere = await register(client, admin, receiver.url + "/failures", ["import.failed"])
        done = await import_file(client, admin, ADD_HEADER + ROWS)
        assert done["status"] == "completed"
        assert await send(pool, local) == 1
        (request,) = await receiver.wait_for(1)

    assert request.path == "/hooks/caseimport"
    assert signed_by(hook["secret"], request)
    assert not signed_by(elsewhere["secret"], request)
    verified = documented_check()
    assert verified(hook["secret"], request.headers[signing.SIGNATURE_HEADER], request.body)
    assert not verified(hook["secret"], request.headers[signing.SIGNATURE_HEADER], b"{}")
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers[signing.EVENT_HEADER] == "import.completed"
    event = json.loads(request.body)
    assert event["type"] == "import.completed"
    assert set(event) == {"id", "type", "created_at", "data"}
    shown = event["data"]["import"]
    assert (shown["id"], shown["status"], shown["app"]) == (done["id"], "completed", admin.slug)
    assert shown["result"]["created"] == 3
    assert shown == {**done, "progress": shown["progress"]}

    (delivery,) = (await deliveries_of(client, admin, hook))["items"]
    assert str(delivery["id"]) == request.headers[signing.DELIVERY_HEADER]
    assert (delivery["state"], delivery["attempt_count"]) == ("delivered", 1)
    assert delivery["event"]["id"] == event["id"]
    assert [(a["status_code"], a["error"]) for a in delivery["attempts"]] == [(200, None)]
    assert (await deliveries_of(client, admin, elsewhere))["items"] == []


async def test_a_refused_delivery_is_tried_again_with_the_same_event(
    client: AsyncClient, admin: AdminSetup, local: Settings, pool: asyncpg.Pool
) -> None:
    # Tried again after about 1 s, then 2 s.
    fast = local.model_copy(update={"webhooks_retry_base_seconds": 1})
    with receiving(statuses=(500, 503)) as receiver:
        hook = await register(client, admin, receiver.url, ["import.completed"])
        await import_file(client, admin, ADD_HEADER + ROWS)
        assert await send(pool, fast) == 1
        page = await deliveries_of(client, admin, hook)
        (pending,) = page["items"]
        assert (pending["state"], pending["attempt_count"]) == ("pending", 1)
        assert pending["next_attempt_at"] is not None
        assert await send(pool, fast) == 0  # not due yet: it backs off
        for _ in range(2):
            await send_when_due(pool, fast)
        requests = await receiver.wait_for(3)

    assert len({r.body for r in requests}) == 1  # the same event, byte for byte
    assert all(signed_by(hook["secret"], r) for r in requests)
    (delivery,) = (await deliveries_of(client, admin, hook))["items"]
    assert (delivery["state"], delivery["attempt_count"]) == ("delivered", 3)
    assert delivery["next_attempt_at"] is None
    attempts = [(a["status_code"], a["error"]) for a in delivery["attempts"]]
    assert attempts == [(500, "answered 500"), (503, "answered 503"), (200, None)]
    assert all(a["duration_ms"] >= 0 for a in delivery["attempts"])


def test_the_wait_between_tries_doubles_up_to_an_hour() -> None:
    waits = [retry_delay(n, 10) for n in range(1, 12)]
    assert 8 <= waits[0] <= 12
    assert 16 <= waits[1] <= 24
    assert all(w <= 3600 * 1.2 for w in waits)
    assert waits[-1] >= 3600 * 0.8


async def test_a_delivery_is_failed_once_its_retry_window_closes(
    client: AsyncClient, admin: AdminSetup, local: Settings, pool: asyncpg.Pool
) -> None:
    with receiving(statuses=(500,)) as receiver:
        hook = await register(client, admin, receiver.url, ["import.completed"])
        await import_file(client, admin, ADD_HEADER + ROWS)
        # A window shorter than the first wait: the first refusal ends it.
        assert await send(pool, local.model_copy(update={"webhooks_retry_hours": 0.00001})) == 1
    (delivery,) = (await deliveries_of(client, admin, hook))["items"]
    assert (delivery["state"], delivery["attempt_count"]) == ("failed", 1)
    assert delivery["finished_at"] is not None


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "http://224.0.0.1/hook",
        "ftp://example.org/hook",
        "https://user:pass@example.org/hook",
    ],
)
async def test_urls_to_private_addresses_are_refused(
    client: AsyncClient, admin: AdminSetup, url: str
) -> None:
    response = await client.post(
        f"/api/apps/{admin.slug}/webhooks", json={"url": url, "events": ["import.completed"]}
    )
    body = assert_problem(response, 422, "webhook_url_refused")
    assert body["errors"][0]["loc"] == ["body", "url"]


def test_public_addresses_are_told_from_the_others() -> None:
    assert is_public(ipaddress.ip_address("93.184.215.14"))
    assert is_public(ipaddress.ip_address("2606:2800:21f:cb07:6820:80da:af6b:8b2c"))
    others = ("100.64.0.1", "172.16.0.1", "fe80::1", "fc00::1", "240.0.0.1", "::")
    embedded = ("::ffff:10.0.0.1", "2002:7f00:1::", "64:ff9b::a9fe:a9fe")
    for address in others + embedded:
        assert not is_public(ipaddress.ip_address(address)), address


async def test_a_url_is_checked_again_when_it_is_sent_to(
    client: AsyncClient,
    app: FastAPI,
    admin: AdminSetup,
    local: Settings,
    pool: asyncpg.Pool,
    settings: Settings,
) -> None:
    with receiving() as receiver:
        hook = await register(client, admin, receiver.url, ["import.completed"])
        await import_file(client, admin, ADD_HEADER + ROWS)
        # The sender's own settings refuse private addresses (as if the name now resolved to one).
        assert await send(pool, settings) == 1
        assert receiver.requests == []
        (delivery,) = (await deliveries_of(client, admin, hook))["items"]
        ((attempt,),) = [delivery["attempts"]]
        assert attempt["status_code"] is None
        assert attempt["error"].startswith("refused: ")
        assert "non-public" in attempt["error"]
        # A change of URL to a private one is refused like a registration.
        app.state.settings = settings
        response = await client.patch(
            f"/api/apps/{admin.slug}/webhooks/{hook['id']}", json={"url": "http://10.0.0.1/"}
        )
        assert_problem(response, 422, "webhook_url_refused")


async def test_the_secret_is_shown_once_and_stored_encrypted(
    client: AsyncClient,
    admin: AdminSetup,
    local: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    hook = await register(client, admin, "http://127.0.0.1:9/hook", ["import.failed"])
    assert hook["secret"].startswith("whsec_")
    assert (hook["events"], hook["active"]) == (["import.failed"], True)
    listed = (await client.get(f"/api/apps/{admin.slug}/webhooks", headers=admin.headers)).json()
    one = (
        await client.get(f"/api/apps/{admin.slug}/webhooks/{hook['id']}", headers=admin.headers)
    ).json()
    assert "secret" not in one
    assert listed["items"] == [one]
    async with sessionmaker() as session:
        stored = await session.scalar(text("SELECT secret_encrypted FROM webhook_endpoints"))
    assert stored
    assert hook["secret"] not in stored

    rotated = await client.post(f"/api/apps/{admin.slug}/webhooks/{hook['id']}/rotate-secret")
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != hook["secret"]


async def test_api_tokens_cannot_register_webhooks(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], local: Settings
) -> None:
    admin = await admin_setup(sessionmaker)
    response = await client.post(
        f"/api/apps/{admin.slug}/webhooks",
        json={"url": "http://127.0.0.1:9/", "events": ["import.completed"]},
        headers=admin.headers,
    )
    assert_problem(response, 403, "session_required")


async def test_a_test_event_is_sent_on_request(
    client: AsyncClient, admin: AdminSetup, local: Settings, pool: asyncpg.Pool
) -> None:
    with receiving() as receiver:
        hook = await register(client, admin, receiver.url, ["import.reverted"])
        response = await client.post(
            f"/api/apps/{admin.slug}/webhooks/{hook['id']}/test", headers=admin.headers
        )
        assert response.status_code == 202, response.text
        sent = response.json()
        assert await send(pool, local) == 1
        (request,) = await receiver.wait_for(1)
    assert signed_by(hook["secret"], request)
    event = json.loads(request.body)
    assert (event["id"], event["type"]) == (sent["event_id"], "webhook.test")
    assert event["data"]["webhook"] == {"id": hook["id"], "app": admin.slug, "url": receiver.url}
    (delivery,) = (await deliveries_of(client, admin, hook))["items"]
    assert delivery["id"] == sent["delivery_id"]


async def test_cancelled_and_reverted_imports_are_told(
    client: AsyncClient, admin: AdminSetup, local: Settings, pool: asyncpg.Pool
) -> None:
    events = ["import.cancelled", "import.reverted", "import.completed"]
    with receiving() as receiver:
        hook = await register(client, admin, receiver.url, events)
        draft = await upload(client, admin, None, name="Draft")
        cancelled = await client.post(
            f"/api/apps/{admin.slug}/imports/{draft['id']}/cancel", headers=admin.headers
        )
        assert cancelled.status_code == 200, cancelled.text
        done = await import_file(client, admin, ADD_HEADER + ROWS)
        revert = await client.post(
            f"/api/apps/{admin.slug}/imports/{done['id']}/revert", headers=admin.headers
        )
        assert revert.status_code == 201, revert.text
        await run_worker()
        assert await send(pool, local) == 4
        requests = await receiver.wait_for(4)
    told = sorted(
        (e["type"], e["data"]["import"]["id"]) for e in (json.loads(r.body) for r in requests)
    )
    assert told == sorted(
        [
            ("import.cancelled", draft["id"]),
            ("import.completed", done["id"]),
            ("import.completed", revert.json()["id"]),
            ("import.reverted", done["id"]),
        ]
    )
    reverted = next(json.loads(r.body) for r in requests if b"import.reverted" in r.body)
    assert reverted["data"]["import"]["reverted_by"] == revert.json()["id"]
    assert all(signed_by(hook["secret"], r) for r in requests)


async def test_an_inactive_endpoint_is_sent_nothing(
    client: AsyncClient, admin: AdminSetup, local: Settings, pool: asyncpg.Pool
) -> None:
    with receiving() as receiver:
        hook = await register(client, admin, receiver.url, ["import.completed"])
        url = f"/api/apps/{admin.slug}/webhooks/{hook['id']}"
        patched = await client.patch(url, json={"active": False}, headers=admin.headers)
        assert patched.status_code == 200, patched.text
        assert patched.json()["active"] is False
        await import_file(client, admin, ADD_HEADER + ROWS)
        test = await client.post(f"{url}/test", headers=admin.headers)
        assert_problem(test, 409, "webhook_inactive")
        assert await send(pool, local) == 0
        assert receiver.requests == []


async def test_deliveries_are_paged_and_go_with_their_endpoint(
    client: AsyncClient, admin: AdminSetup, local: Settings
) -> None:
    hook = await register(client, admin, "http://127.0.0.1:9/hook", ["import.completed"])
    url = f"/api/apps/{admin.slug}/webhooks/{hook['id']}"
    for _ in range(3):
        assert (await client.post(f"{url}/test", headers=admin.headers)).status_code == 202
    first = await deliveries_of(client, admin, hook, limit=2)
    assert len(first["items"]) == 2
    rest = await deliveries_of(client, admin, hook, limit=2, cursor=first["next_cursor"])
    assert (len(rest["items"]), rest["next_cursor"]) == (1, None)
    ids = [d["id"] for d in first["items"] + rest["items"]]
    assert ids == sorted(ids, reverse=True)
    assert all(d["state"] == "pending" and d["attempts"] == [] for d in first["items"])

    assert (await client.delete(url, headers=admin.headers)).status_code == 204
    assert_problem(await client.get(url, headers=admin.headers), 404, "webhook_not_found")
    audit = (await client.get(f"/api/apps/{admin.slug}/audit", headers=admin.headers)).json()[
        "items"
    ]
    actions = [(e["action"], e["target"]) for e in audit if e["action"].startswith("webhook.")]
    assert actions == [("webhook.deleted", hook["id"]), ("webhook.created", hook["id"])]


async def held_test_event(
    client: AsyncClient,
    admin: AdminSetup,
    receiver: Receiver,
    settings: Settings,
    pool: asyncpg.Pool,
) -> tuple[dict[str, Any], str, asyncio.Task[int]]:
    """A webhook whose test event the sender is sending and the receiver holds unanswered: the
    webhook, its URL in the API, and the sender's pass."""
    hook = await register(client, admin, receiver.url, ["import.completed"])
    url = f"/api/apps/{admin.slug}/webhooks/{hook['id']}"
    assert (await client.post(f"{url}/test", headers=admin.headers)).status_code == 202
    sending = asyncio.create_task(send(pool, settings))
    await receiver.wait_for(1)
    return hook, url, sending


async def test_an_endpoint_is_deleted_at_once_while_its_delivery_is_being_sent(
    client: AsyncClient, admin: AdminSetup, local: Settings, pool: asyncpg.Pool
) -> None:
    # The sender holds no lock while it waits for the receiver: deleting the webhook does not
    # wait for the answer, and the answer that comes after records nothing.
    with receiving(hold_first=True) as receiver:
        hook, url, sending = await held_test_event(client, admin, receiver, local, pool)
        deleted = await asyncio.wait_for(client.delete(url, headers=admin.headers), 5)
        assert deleted.status_code == 204
        assert not sending.done()
        receiver.release()
        assert await asyncio.wait_for(sending, 10) == 1
    async with pool.acquire() as conn:
        left = await conn.fetchval(
            "SELECT count(*) FROM webhook_attempts a JOIN webhook_deliveries d"
            " ON d.id = a.delivery_id JOIN webhook_endpoints e ON e.id = d.endpoint_id"
            " WHERE e.id = $1",
            hook["id"],
        )
    assert left == 0


async def test_a_delivery_being_sent_is_not_sent_again_by_another_sender(
    client: AsyncClient, admin: AdminSetup, local: Settings, pool: asyncpg.Pool
) -> None:
    with receiving(hold_first=True) as receiver:
        hook, _, sending = await held_test_event(client, admin, receiver, local, pool)
        assert await send(pool, local) == 0  # claimed: another pass leaves it to its sender
        (delivery,) = (await deliveries_of(client, admin, hook))["items"]
        assert (delivery["state"], delivery["attempts"]) == ("pending", [])
        receiver.release()
        assert await asyncio.wait_for(sending, 10) == 1
    (delivery,) = (await deliveries_of(client, admin, hook))["items"]
    assert (delivery["state"], delivery["attempt_count"]) == ("delivered", 1)
    assert len(receiver.requests) == 1


async def test_viewers_see_no_webhooks(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], admin: AdminSetup
) -> None:
    await make_user(sessionmaker, "viewer@example.org")
    await make_member(sessionmaker, "viewer@example.org", admin.slug, "viewer")
    token = await make_token(sessionmaker, "viewer@example.org", admin.slug)
    response = await client.get(
        f"/api/apps/{admin.slug}/webhooks", headers={"Authorization": f"Bearer {token}"}
    )
    assert_problem(response, 403, "admin_required")


def test_a_signature_is_refused_when_old_or_altered() -> None:
    body = b'{"id":"1"}'
    header = signing.header_value("whsec_x", body, timestamp=1_000_000)
    assert signing.verify("whsec_x", header, body, now=1_000_100)
    assert not signing.verify("whsec_x", header, body, now=1_000_000 + 301)
    assert not signing.verify("whsec_x", header, body + b" ", now=1_000_100)
    assert not signing.verify("whsec_y", header, body, now=1_000_100)


async def test_old_events_are_forgotten_unless_still_pending(
    client: AsyncClient, admin: AdminSetup, local: Settings, pool: asyncpg.Pool
) -> None:
    hook = await register(client, admin, "http://127.0.0.1:9/hook", ["import.completed"])
    url = f"/api/apps/{admin.slug}/webhooks/{hook['id']}/test"
    for _ in range(2):
        assert (await client.post(url, headers=admin.headers)).status_code == 202
    await pool.execute("UPDATE webhook_events SET created_at = now() - interval '31 days'")
    await pool.execute(
        "UPDATE webhook_deliveries SET state = 'failed' WHERE id = (SELECT min(id) FROM"
        " webhook_deliveries)"
    )
    await prune(pool, 30)
    (left,) = (await deliveries_of(client, admin, hook))["items"]
    assert left["state"] == "pending"
    await prune(pool, 32)
    assert len((await deliveries_of(client, admin, hook))["items"]) == 1
