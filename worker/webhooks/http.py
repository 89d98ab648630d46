"""One POST of a signed webhook body, to an address checked just before (SSRF: what the name
resolves to now, not at registration), within a total time limit, following no redirect."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from api.version import VERSION
from api.webhooks import addresses

USER_AGENT = f"caseimport-webhooks/{VERSION}"


@dataclass(frozen=True, slots=True)
class Answer:
    """What an attempt came to: the endpoint's status, or why there was none."""

    status_code: int | None
    error: str | None
    duration_ms: float

    @property
    def accepted(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def client(seconds: float) -> httpx.AsyncClient:
    # No proxy from the environment: the request goes to the address that was checked.
    return httpx.AsyncClient(
        timeout=httpx.Timeout(seconds), follow_redirects=False, trust_env=False
    )


def _error_of(status: int) -> str | None:
    if 200 <= status < 300:
        return None
    if 300 <= status < 400:
        return f"answered {status}: redirects are not followed"
    return f"answered {status}"


async def post(
    http: httpx.AsyncClient,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    allow_private: bool,
    seconds: float,
) -> Answer:
    start = time.monotonic()

    def answer(status: int | None, error: str | None) -> Answer:
        return Answer(status, error, round((time.monotonic() - start) * 1000, 1))

    try:
        # One limit for it all: resolving, connecting, sending and the answer's head.
        async with asyncio.timeout(seconds):
            target = await addresses.target(url, allow_private=allow_private)
            status = await _send(http, target, body, headers)
    except addresses.UrlRefused as exc:
        return answer(None, f"refused: {exc}")
    except TimeoutError:
        return answer(None, f"no answer within {seconds:g} s")
    except httpx.HTTPError as exc:
        return answer(None, f"{type(exc).__name__}: {exc}"[:500])
    return answer(status, _error_of(status))


async def _send(
    http: httpx.AsyncClient,
    target: addresses.Target,
    body: bytes,
    headers: Mapping[str, str],
) -> int:
    url = target.url
    sent_headers = {
        **headers,
        # The name, not the address connected to, for virtual hosts and TLS.
        "Host": url.netloc.decode("ascii"),
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }
    for i, address in enumerate(target.addresses):
        try:
            # The response's body is never read: its status is all that counts.
            async with http.stream(
                "POST",
                url.copy_with(host=str(address)),
                content=body,
                headers=sent_headers,
                extensions={"sni_hostname": url.raw_host.decode("ascii")},
            ) as response:
                return response.status_code
        except httpx.ConnectError:
            # The next address of the name, as a browser would; none left: the error stands.
            if i == len(target.addresses) - 1:
                raise
    raise AssertionError("a target has at least one address")
