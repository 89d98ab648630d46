"""Where a webhook may be sent (SSRF): http or https URLs whose host resolves only to public
addresses. Checked when an endpoint is registered and again at each delivery, since what a
name resolves to may change; a delivery then connects to the very address it checked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_URL_LENGTH = 2048


class UrlRefused(Exception):
    """Why a URL may not receive webhooks (said to the admin who gave it)."""


@dataclass(frozen=True, slots=True)
class Target:
    """A checked URL and the addresses to connect to, in the resolver's order."""

    url: httpx.URL
    addresses: tuple[IPAddress, ...]


def parse(url: str) -> httpx.URL:
    """The URL, if it is one webhooks can go to at all: http(s), a host, no credentials."""
    if len(url) > MAX_URL_LENGTH:
        raise UrlRefused(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError):
        raise UrlRefused("This is not a URL.") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise UrlRefused("The URL must start with https:// or http:// and name a host.")
    if parsed.userinfo:
        raise UrlRefused("The URL must not hold a user name or password.")
    return parsed


# NAT64's well-known prefix: a gateway on the way turns these into the IPv4 address they end in.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _embedded(address: IPAddress) -> IPAddress:
    # An IPv6 form of an IPv4 address reaches that address.
    if isinstance(address, ipaddress.IPv6Address):
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        return address.ipv4_mapped or address.sixtofour or address
    return address


def is_public(address: IPAddress) -> bool:
    address = _embedded(address)
    return address.is_global and not (
        address.is_multicast or address.is_reserved or address.is_unspecified
    )


async def _resolve(url: httpx.URL) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(url.host)]
    except ValueError:
        pass
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        found = await asyncio.get_running_loop().getaddrinfo(
            url.host, port, type=socket.SOCK_STREAM
        )
    except (OSError, UnicodeError):
        raise UrlRefused(f"The host {url.host!r} does not resolve.") from None
    # An address may carry an IPv6 scope ("fe80::1%eth0"): a link-local one, refused anyway.
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in found]


async def target(url: str, *, allow_private: bool) -> Target:
    """The URL and the addresses to send to; ``UrlRefused`` unless every address the host
    resolves to is public (or ``allow_private``)."""
    parsed = parse(url)
    addresses = await _resolve(parsed)
    if not addresses:
        raise UrlRefused(f"The host {parsed.host!r} does not resolve.")
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise UrlRefused(
                    f"The host {parsed.host!r} resolves to {address}, a private, loopback, "
                    "link-local or otherwise non-public address."
                )
    return Target(parsed, tuple(addresses))
