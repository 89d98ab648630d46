"""Scenarios 9 to 12: hostile or clumsy clients against the real API processes. Slow uploads
that must not starve the other requests, a form of endless fields, sign-in failures made on
purpose (and forwarded addresses), and a finished Idempotency-Key replayed many times at once."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.faults.conftest import MakeApps
from tests.faults.harness import (
    FINISHED,
    App,
    Database,
    case_files,
    measure,
    recovery,
    rss_mib,
    say,
    upload,
    wait_for,
    wait_status,
)
from tests.faults.service import Proc, Service

# The API's memory target (docs/performance.md): about 120 MiB at rest since issue 16.
RSS_LIMIT_MIB = 140


# --- raw HTTP/1.1 requests whose bodies this test paces itself ----------------------------------


@dataclass
class RawRequest:
    """A request sent by hand on its own connection: its body goes out as slowly as the test
    wants, and its answer (if the server gives one early) is read whenever it comes."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    sent: int = 0

    @classmethod
    async def open(cls, base_url: str, path: str, headers: dict[str, str]) -> RawRequest:
        url = urlsplit(base_url)
        assert url.hostname
        assert url.port
        reader, writer = await asyncio.open_connection(url.hostname, url.port)
        head = f"POST {path} HTTP/1.1\r\nHost: {url.netloc}\r\n" + "".join(
            f"{name}: {value}\r\n" for name, value in headers.items()
        )
        writer.write(head.encode() + b"\r\n")
        await writer.drain()
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()
        self.sent += len(data)

    def answered(self) -> bool:
        """Whether the server has said anything (an early answer) or closed the connection."""
        return bool(self.reader._buffer) or self.reader.at_eof()  # type: ignore[attr-defined]

    async def answer(self, within: float) -> tuple[int, dict[str, str], bytes]:
        """The status, headers and body of the answer (a Content-Length one)."""
        async with asyncio.timeout(within):
            status_line = await self.reader.readline()
            assert status_line, "the server closed the connection without an answer"
            headers = {}
            while (line := await self.reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            body = await self.reader.readexactly(length) if length else b""
        return int(status_line.split()[1]), headers, body

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


def _part(boundary: str, name: str, value: bytes, filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
    if filename:
        head += "Content-Type: text/csv\r\n"
    return head.encode() + b"\r\n" + value + b"\r\n"


async def _metric(client: httpx.AsyncClient, url: str, name: str) -> float:
    answer = await client.get(f"{url}/metrics", timeout=5)
    assert answer.status_code == 200, answer.text
    for line in answer.text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    raise AssertionError(f"no {name} in {url}/metrics")


def _p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


# --- 9: slow uploads ------------------------------------------------------------------------------

TRICKLE_APPS = 10  # four uploads each: both the per-token (4) and the per-app (10) caps admit them
TRICKLES_PER_APP = 4
TRICKLE_BYTES_PER_SECOND = 1_200  # just over the minimum rate (1,024 bytes a second)
TRICKLE_TICK = 0.25
TRICKLE_FILE_BYTES = 1_000_000  # declared, never all sent
MEASURE_SECONDS = 10.0
MEASURE_EVERY = 0.05
P99_TARGET_MS = 100.0
P99_LIMIT_MS = 500.0


async def _open_trickle(base_url: str, app: App, index: int) -> RawRequest:
    boundary = f"trickle{secrets.token_hex(8)}"
    preamble = (
        _part(boundary, "name", f"trickle {index}".encode())
        + _part(boundary, "type", b"cases.add")
        + f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="slow.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n".encode()
    )
    length = len(preamble) + TRICKLE_FILE_BYTES + len(f"\r\n--{boundary}--\r\n")
    request = await RawRequest.open(
        base_url,
        f"/api/apps/{app.slug}/imports",
        {
            **app.headers(),
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(length),
        },
    )
    await request.send(preamble + b"tag_id,case_status,date_opened,about\n")
    return request


@pytest.mark.timeout(120)
async def test_slow_uploads_do_not_starve_the_service(
    faults: Service, db: Database, client: httpx.AsyncClient, make_apps: MakeApps
) -> None:
    api, url = faults.apis[0], faults.api_urls[0]
    *trickle_apps, reader_app = await make_apps(TRICKLE_APPS + 1)
    # An import to read the status of while the trickles go on: a draft, made before them.
    draft = await client.post(
        f"{url}/api/apps/{reader_app.slug}/imports",
        headers=reader_app.headers(),
        data={"name": "read while trickling", "type": "cases.add"},
        timeout=10,
    )
    assert draft.status_code == 201, draft.text
    draft_id = draft.json()["id"]
    files_before = await db.fetchval("SELECT count(*) FROM files")
    rss_before = rss_mib(api)

    trickles = [
        await _open_trickle(url, app, i) for app in trickle_apps for i in range(TRICKLES_PER_APP)
    ]
    stop = asyncio.Event()
    chunk = b"SLOW-1,1,03/07/2024,trickle\n" * (
        int(TRICKLE_BYTES_PER_SECOND * TRICKLE_TICK) // 28 + 1
    )

    cut_off: list[str] = []

    async def trickle_all() -> None:
        while not stop.is_set():
            for index, request in enumerate(trickles):
                try:
                    await request.send(chunk)
                except (ConnectionError, OSError) as exc:
                    cut_off.append(f"trickle {index}: {exc!r}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), TRICKLE_TICK)

    pacer = asyncio.create_task(trickle_all())
    try:
        # Every trickle admitted (none answered 429 or 408), each counted in flight.
        async def all_in_flight() -> bool:
            return await _metric(client, url, "caseimport_uploads_in_flight") == len(trickles)

        await wait_for(f"{len(trickles)} uploads in flight on {api.name}", all_in_flight, 10)
        assert not [i for i, r in enumerate(trickles) if r.answered()], "a trickle was answered"

        # Another client's reads, every 50 ms for 10 s, while the trickles go on.
        latencies: list[float] = []
        failures: list[str] = []
        rss_peak = rss_before
        async with httpx.AsyncClient(timeout=5) as reader:
            end = time.monotonic() + MEASURE_SECONDS
            while time.monotonic() < end:
                tick = time.monotonic()
                for path, headers in (
                    ("/api/apps", reader_app.headers()),
                    (f"/api/apps/{reader_app.slug}/imports/{draft_id}", reader_app.headers()),
                    ("/readyz", {}),
                ):
                    start = time.monotonic()
                    try:
                        answer = await reader.get(f"{url}{path}", headers=headers)
                    except httpx.HTTPError as exc:
                        failures.append(f"GET {path}: {exc!r}")
                        continue
                    if path != "/readyz":
                        latencies.append((time.monotonic() - start) * 1000)
                    if answer.status_code != 200:
                        failures.append(f"GET {path}: {answer.status_code} {answer.text[:200]}")
                rss_peak = max(rss_peak, rss_mib(api))
                await asyncio.sleep(max(0.0, MEASURE_EVERY - (time.monotonic() - tick)))
        p99 = _p99(latencies)
        say(
            f"{len(latencies)} reads beside {len(trickles)} trickles: p50"
            f" {sorted(latencies)[len(latencies) // 2]:.0f} ms, p99 {p99:.0f} ms, max"
            f" {max(latencies):.0f} ms; RSS {rss_before:.0f} -> {rss_peak:.0f} MiB"
        )
        measure("slow_uploads_other_requests_p99", p99, "ms", P99_TARGET_MS)
        measure("slow_uploads_api_rss", rss_peak, "MiB", RSS_LIMIT_MIB)
        assert not failures, failures[:10]
        assert p99 < P99_LIMIT_MS, f"p99 {p99:.0f} ms"
        assert rss_peak < RSS_LIMIT_MIB, f"{api.name} RSS {rss_peak:.0f} MiB"
        assert not [i for i, r in enumerate(trickles) if r.answered()], "a trickle was answered"
        assert not cut_off, cut_off[:5]

        # One more upload of a token already at its cap: refused before its body is read.
        refused = await client.post(
            f"{url}/api/apps/{trickle_apps[0].slug}/imports",
            headers=trickle_apps[0].headers(),
            data={"name": "one too many", "type": "cases.add"},
            files={"file": ("c.csv", b"tag_id,case_status,date_opened,about\n", "text/csv")},
            timeout=10,
        )
        assert refused.status_code == 429, refused.text
        assert refused.json()["code"] == "too_many_uploads", refused.text
        assert refused.headers.get("Retry-After"), refused.headers
    finally:
        stop.set()
        await pacer
        for request in trickles:
            await request.close()

    async def none_in_flight() -> bool:
        return await _metric(client, url, "caseimport_uploads_in_flight") == 0

    await wait_for(f"no upload in flight on {api.name}", none_in_flight, 10)
    left = await db.fetchval(
        "SELECT count(*) FROM imports WHERE app_id = ANY($1::uuid[])", [a.id for a in trickle_apps]
    )
    assert left == 0, f"{left} imports left by the trickles"
    assert await db.fetchval("SELECT count(*) FROM files") == files_before
    assert (await client.get(f"{url}/readyz", timeout=5)).status_code == 200


# --- 10: a form of endless fields ----------------------------------------------------------------

FIELD_BYTES = 60_000
FIELDS = 3_000  # 180 MB if it were all sent
# A field every 20 ms (3 MB/s): the server keeps up, so what has been sent when the answer comes
# is what it read before refusing, not the socket buffers a burst fills first (a burst was
# answered after ~4 MB had been sent, all of it in buffers; fields every 50 ms, after 300 KB).
FIELD_EVERY = 0.02
SENT_LIMIT = 1024 * 1024


@pytest.mark.timeout(60)
async def test_form_fields_have_a_total_limit(
    faults: Service, db: Database, client: httpx.AsyncClient, make_apps: MakeApps
) -> None:
    api, url = faults.apis[1], faults.api_urls[1]
    (app,) = await make_apps(1)
    boundary = f"fields{secrets.token_hex(8)}"
    request = await RawRequest.open(
        url,
        f"/api/apps/{app.slug}/imports",
        {
            **app.headers(),
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Transfer-Encoding": "chunked",
        },
    )
    total = FIELDS * FIELD_BYTES
    value = b"v" * FIELD_BYTES
    rss_peak = rss_mib(api)

    async def send_all() -> None:
        nonlocal rss_peak
        try:
            for index in range(FIELDS):
                part = _part(boundary, f"field{index}", value)
                await request.send(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                if index % 20 == 0:
                    rss_peak = max(rss_peak, rss_mib(api))
                await asyncio.sleep(FIELD_EVERY)
            await request.send(f"--{boundary}--\r\n".encode() + b"0\r\n\r\n")
        except (ConnectionError, OSError):
            pass  # the server closed the connection after its answer: what is wanted

    sender = asyncio.create_task(send_all())
    try:
        status, _, body = await request.answer(within=30)
        sent_at_answer = request.sent
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
        await request.close()
    rss_peak = max(rss_peak, rss_mib(api))
    say(f"{status} after {sent_at_answer:,} of {total:,} bytes sent; RSS peak {rss_peak:.0f} MiB")
    assert status == 413, (status, body[:300])
    assert b'"form_too_large"' in body, body[:300]
    # Refused once past 256 KiB: a few fields more may be on their way by then, not megabytes.
    assert sent_at_answer < SENT_LIMIT, f"answered only after {sent_at_answer:,} bytes"
    assert rss_peak < RSS_LIMIT_MIB, f"{api.name} RSS {rss_peak:.0f} MiB"
    measure("form_fields_sent_before_413", sent_at_answer / 1024, "KiB", 256)
    assert await db.fetchval("SELECT count(*) FROM imports WHERE app_id = $1", app.id) == 0

    # The API answers other requests as usual afterwards.
    listed = await client.get(f"{url}/api/apps", headers=app.headers(), timeout=5)
    assert listed.status_code == 200, listed.text
    draft = await client.post(
        f"{url}/api/apps/{app.slug}/imports",
        headers=app.headers(),
        data={"name": "after the fields", "type": "cases.add"},
        timeout=10,
    )
    assert draft.status_code == 201, draft.text


# --- 11: sign-in failures on purpose, and forwarded addresses ------------------------------------

PASSWORD = "y" * 16


def _new_user(service: Service) -> str:
    """A user of the scenario's own: the suite's owner is never throttled."""
    email = f"victim-{secrets.token_hex(4)}@example.org"
    service.run("create-user", email, "--password-stdin", stdin=PASSWORD + "\n")
    return email


async def _login(
    client: httpx.AsyncClient, url: str, email: str, password: str, forwarded_for: str
) -> httpx.Response:
    return await client.post(
        f"{url}/api/auth/login",
        json={"email": email, "password": password},
        headers={"X-Forwarded-For": forwarded_for},
        timeout=30,
    )


@pytest.mark.timeout(120)
async def test_lockout_is_no_weapon_and_forwarded_addresses_need_a_trusted_proxy(
    faults: Service, client: httpx.AsyncClient
) -> None:
    attacker, owner = "203.0.113.7", "198.51.100.4"
    # Behind a trusted proxy (this machine): the forwarded address is the client's.
    proxied: Proc | None = None
    try:
        proxied, url = faults.start_extra_api("api-proxied", trusted_proxies="127.0.0.1")
        email = _new_user(faults)
        codes = [
            (await _login(client, url, email, "wrong password!!", attacker)).status_code
            for _ in range(5)
        ]
        assert codes == [401] * 5, codes
        refused = await _login(client, url, email, "wrong password!!", attacker)
        assert refused.status_code == 429, refused.text
        assert refused.json()["code"] == "too_many_attempts", refused.text
        assert int(refused.headers["Retry-After"]) > 0, refused.headers
        # The attacker's address is refused even with the right password...
        assert (await _login(client, url, email, PASSWORD, attacker)).status_code == 429
        # ... the owner, elsewhere, signs in (slowed down, not locked out).
        start = time.monotonic()
        signed_in = await _login(client, url, email, PASSWORD, owner)
        took = time.monotonic() - start
        assert signed_in.status_code == 200, signed_in.text
        assert signed_in.json()["email"] == email
        recovery("lockout_owner_signs_in_from_elsewhere", took, 5)
        assert took < 5, f"the owner waited {took:.1f} s"
    finally:
        client.cookies.clear()  # the session of that sign-in: no other scenario's business
        if proxied is not None:
            faults.stop_extra_api(proxied)

    # No trusted proxy (the suite's APIs): X-Forwarded-For is ignored, every failure counts for
    # the peer, 127.0.0.1, whatever address the header names.
    url = faults.api_urls[0]
    email = _new_user(faults)
    codes = [
        (await _login(client, url, email, "wrong password!!", f"192.0.2.{i + 1}")).status_code
        for i in range(5)
    ]
    assert codes == [401] * 5, codes
    for forwarded in ("192.0.2.99", owner):
        refused = await _login(client, url, email, PASSWORD, forwarded)
        assert refused.status_code == 429, (forwarded, refused.text)
        assert refused.headers.get("Retry-After"), refused.headers
    # Refused on the other API process too: the count is in the database.
    refused = await _login(client, faults.api_urls[1], email, PASSWORD, "192.0.2.100")
    assert refused.status_code == 429, refused.text


# --- 12: a finished key replayed at once ---------------------------------------------------------

REPLAYS = 10
REPLAY_ROWS = 2_000
REPLAYS_TARGET = 5.0


@pytest.mark.timeout(120)
async def test_a_finished_key_always_replays_with_200(
    faults: Service, db: Database, client: httpx.AsyncClient, make_apps: MakeApps, files: Path
) -> None:
    faults.start_workers(1)
    (app,) = await make_apps(1)
    made = case_files(files, REPLAY_ROWS, "REPLAY")
    key = f"finished-{uuid.uuid4()}"
    first = await upload(
        client,
        faults.api_urls[0],
        app,
        made.add.path,
        "cases.add",
        name="replayed",
        idempotency_key=key,
    )
    assert first.status_code == 201, first.text
    import_id = first.json()["id"]
    row = await wait_status(db, uuid.UUID(import_id), FINISHED, 60)
    assert row.status == "completed", row

    start = time.monotonic()
    answers = await asyncio.gather(
        *(
            upload(
                client,
                faults.api_urls[i % len(faults.api_urls)],
                app,
                made.add.path,
                "cases.add",
                name="replayed",
                idempotency_key=key,
            )
            for i in range(REPLAYS)
        )
    )
    took = time.monotonic() - start
    assert [a.status_code for a in answers] == [200] * REPLAYS, [
        (a.status_code, a.text[:200]) for a in answers
    ]
    assert all(a.headers.get("Idempotent-Replayed") == "true" for a in answers)
    assert {a.json()["id"] for a in answers} == {import_id}
    assert all(a.json()["status"] == "completed" for a in answers)
    assert await db.fetchval("SELECT count(*) FROM imports WHERE app_id = $1", app.id) == 1
    assert await db.cases(app.id) == REPLAY_ROWS
    measure("finished_key_ten_replays", took * 1000, "ms", REPLAYS_TARGET * 1000)
    # Loosely (a shared 2-core machine): ten replays read the file again to compare it, no more.
    assert took < 2 * REPLAYS_TARGET, f"ten replays took {took:.1f} s"
