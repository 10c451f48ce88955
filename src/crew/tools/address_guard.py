"""Decide whether a URL may be fetched: http(s) only, and only to public addresses.

A page or a model chooses the URLs the crew fetches, so each one (and each redirect) is resolved
and refused when any address it resolves to is loopback, private, link-local, multicast,
reserved or a cloud metadata address.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Callable, Iterable
from urllib.parse import urlsplit

Resolver = Callable[[str, int], Iterable[str]]


class BlockedURL(ValueError):
    """A URL the crew must not open; the message says why."""


def system_resolver(host: str, port: int) -> list[str]:
    return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def address_allowed(address: str) -> bool:
    """True only for globally routable unicast addresses."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local)


def check_url(url: str, resolve: Resolver = system_resolver) -> list[str]:
    """Return the URL's resolved addresses, or raise BlockedURL naming the reason."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise BlockedURL(f"only http and https URLs can be fetched, not {parts.scheme or 'a bare path'!r}")
    host = parts.hostname
    if not host:
        raise BlockedURL("the URL has no host")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = list(resolve(host, port))
    except (OSError, UnicodeError) as exc:
        raise BlockedURL(f"cannot resolve {host}: {exc}") from None
    if not addresses:
        raise BlockedURL(f"{host} resolves to no address")
    for address in addresses:
        if not address_allowed(address):
            raise BlockedURL(f"{host} resolves to {address}, a private or local address the crew may not reach")
    return addresses
