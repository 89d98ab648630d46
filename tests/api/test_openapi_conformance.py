"""The service keeps to its OpenAPI document: schemathesis with every check, stateful phase
included, against a running server (issue 16).

A real uvicorn server runs the app in a thread of its own (its own event loop, database pool and
Redis client, on the test run's database); the schemathesis command line, as an operator would
run it, reads ``/api/openapi.json`` from it and sends its requests over HTTP as the admin of an
app (a bearer token), with ``tests/api/schemathesis.toml`` (the budget, the pinned path
parameters and the one restriction on generated data, each with its reason) and
``tests/api/schemathesis_hooks.py`` (the cursor and the Idempotency-Key of requests meant as
valid). Checks: all of them (not_a_server_error, status_code_conformance,
content_type_conformance, response_headers_conformance, response_schema_conformance,
positive_data_acceptance, negative_data_rejection, missing_required_header, unsupported_method,
allow_header_conformance, use_after_free, ensure_resource_availability, ignored_auth,
object_level_authorization). Phases: examples, coverage, fuzzing and stateful (links inferred
from the document). Deterministic: every run sends the same requests.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.cases.models import Case
from api.config import Settings
from api.db import unit_of_work
from api.main import create_app
from tests.factories import admin_setup, bearer, make_token

ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("schemathesis.toml")
SLUG = "field-ops"
CASE_TAG = "CASE-1"
# The whole run takes about a minute on a quiet machine.
RUN_TIMEOUT = 600


@pytest.fixture
def live_server(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings),
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=5,
    )
    # In a thread of its own, uvicorn leaves the signals (Ctrl-C) to pytest.
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=lambda: asyncio.run(server.serve(sockets=[sock])), name="live-server", daemon=True
    )
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive(), "the live server stopped while starting"
        assert time.monotonic() < deadline, "the live server did not start within 60 s"
        time.sleep(0.05)
    try:
        yield base_url
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


@dataclass(frozen=True)
class Tokens:
    used: str  # the run's own
    spare: str  # one the run may revoke


@pytest.fixture
async def tokens(sessionmaker: async_sessionmaker[AsyncSession]) -> Tokens:
    """The app's admin, and a case of the app (CASE_TAG) for the case routes to read."""
    admin = await admin_setup(sessionmaker, slug=SLUG)
    async with unit_of_work(sessionmaker) as session:
        session.add(
            Case(
                app_id=admin.app_id,
                tag_id=CASE_TAG,
                case_status=1,
                date_opened=date(2024, 3, 7),
                about="A case to read",
            )
        )
    return Tokens(admin.token, await make_token(sessionmaker, admin.email, SLUG))


def _token_id(base_url: str, tokens: Tokens) -> str:
    listed = httpx.get(f"{base_url}/api/apps/{SLUG}/tokens", headers=bearer(tokens.used))
    return next(
        str(t["id"]) for t in listed.json()["items"] if tokens.spare.startswith(t["prefix"])
    )


def test_schemathesis_finds_nothing(live_server: str, tokens: Tokens, settings: Settings) -> None:
    draft = httpx.post(
        f"{live_server}/api/apps/{SLUG}/imports",
        data={"name": "draft", "type": "cases.add"},
        headers=bearer(tokens.used),
    )
    assert draft.status_code == 201, draft.text
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CASEIMPORT_ST_IMPORT_ID": draft.json()["id"],
        "CASEIMPORT_ST_TAG_ID": CASE_TAG,
        "CASEIMPORT_ST_SPARE_TOKEN_ID": _token_id(live_server, tokens),
        "NO_COLOR": "1",
    }
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "--config-file",
            str(CONFIG),
            "run",
            f"{live_server}/api/openapi.json",
            "--checks",
            "all",
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--header",
            f"Authorization: Bearer {tokens.used}",
            "--workers",
            "2",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    report = run.stdout
    assert run.returncode == 0, report[-20_000:] + run.stderr[-5_000:]
    # It did test: every operation of the document, and each phase ran and passed.
    operations = sum(len(methods) for methods in create_app(settings).openapi()["paths"].values())
    assert re.search(rf"Tested: {operations}\b", report), report
    for phase in ("Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in report, report
    scenarios = re.search(r"Scenarios:\s+(\d+)", report)
    assert scenarios is not None, report
    assert int(scenarios[1]) > 0, report
