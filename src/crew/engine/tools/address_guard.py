"""Decide whether a URL may be fetched: http(s) only, and only to public addresses.

A page or a model chooses the URLs the crew fetches, so each one (and each redirect) is resolved
and refused when any address it resolves to is loopback, private, link-local, multicast,
reserved, shared (CGNAT) or a cloud metadata address, including those addresses wrapped in
IPv6 (IPv4-mapped, IPv4-compatible, 6to4, Teredo, NAT64). `check_url` is a pure function of the
URL and a resolver, so tests give it any DNS answer they like; `fetch_page` then connects to the
exact address it returned (see `PinnedTransport`), so DNS cannot answer differently in between.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from typing import Callable, Iterable

import httpx

Resolver = Callable[[str, int], Iterable[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Refused whatever `ipaddress` thinks of them: the ranges the threat model names, spelled out so
# a change in Python's registry tables cannot quietly reopen one.
BLOCKED_NETWORKS = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4",
    "::/96", "::1/128", "::ffff:0:0/96", "64:ff9b:1::/48", "100::/64", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
))
# Cloud metadata and host-agent endpoints; some of them are public addresses (Azure's wire server).
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "169.254.170.2", "169.254.169.123", "168.63.129.16", "100.100.100.200",
    "192.0.0.192", "fd00:ec2::254",
))
# Names that mean "this machine or its private network" without any DNS lookup.
BLOCKED_NAMES = frozenset({"localhost", "metadata", "metadata.google.internal", "metadata.goog",
                           "instance-data", "instance-data.ec2.internal", "kubernetes.default"})
BLOCKED_SUFFIXES = (".localhost", ".internal", ".local", ".localdomain", ".home.arpa", ".lan", ".intranet", ".corp")
# inet_aton's legacy spellings (2130706433, 0x7f.1, 0177.0.0.1, 127.1): resolvers accept them,
# people never write them, so they are refused rather than interpreted.
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}\.?$", re.I)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_V4_COMPATIBLE = ipaddress.ip_network("::/96")


class BlockedURL(ValueError):
    """A URL the crew must not open; the message says why."""


def system_resolver(host: str, port: int) -> list[str]:
    return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def _embedded_ipv4(ip: IPAddress) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (mapped, compatible, 6to4, Teredo, NAT64)."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return []
    found = []
    if ip.ipv4_mapped:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour:
        found.append(ip.sixtofour)
    if ip.teredo:
        found.extend(ip.teredo)
    if ip in _NAT64 or ip in _V4_COMPATIBLE:  # NAT64 and IPv4-compatible (::a.b.c.d)
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def _public(ip: IPAddress) -> bool:
    if ip in METADATA_ADDRESSES or any(ip in net for net in BLOCKED_NETWORKS if net.version == ip.version):
        return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local
                                 or ip.is_private or ip.is_unspecified)


def address_allowed(address: str) -> bool:
    """True only for globally routable unicast addresses, whatever IPv4 they wrap."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0].strip("[]"))
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped:
        return _public(ip.ipv4_mapped)  # ::ffff:a.b.c.d is plain IPv4 on the wire
    return _public(ip) and all(_public(v4) for v4 in _embedded_ipv4(ip))


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


def check_url(url: str, resolve: Resolver = system_resolver) -> list[str]:
    """Return the URL's resolved addresses (all public), or raise BlockedURL naming the reason."""
    try:
        parts = httpx.URL(url)  # the same parser the HTTP client uses, so both see the same host
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise BlockedURL(f"not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise BlockedURL(f"only http and https URLs can be fetched, not {parts.scheme or 'a bare path'!r}")
    if parts.userinfo:
        raise BlockedURL("URLs with a user name or password are not fetched")
    if parts.port is not None and not 0 < parts.port < 65536:
        raise BlockedURL(f"port {parts.port} does not exist")
    host = parts.host.lower().rstrip(".")
    if not host:
        raise BlockedURL("the URL has no host")
    literal = _literal(host)
    if literal is not None:
        if not address_allowed(str(literal)):
            raise BlockedURL(f"{host} is a private, local or metadata address the crew may not reach")
        return [str(literal)]
    if _NUMERIC_HOST.match(host):
        raise BlockedURL(f"{host!r} is a numeric address in an unusual spelling; write it as a.b.c.d")
    if host in BLOCKED_NAMES or host.endswith(BLOCKED_SUFFIXES) or "." not in host:
        raise BlockedURL(f"{host} names this machine or a private network, which the crew may not reach")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = [str(a) for a in resolve(host, port)]
    except (OSError, UnicodeError, ValueError) as exc:
        raise BlockedURL(f"cannot resolve {host}: {exc}") from None
    if not addresses:
        raise BlockedURL(f"{host} resolves to no address")
    for address in addresses:
        if not address_allowed(address):
            raise BlockedURL(f"{host} resolves to {address}, a private, local or metadata address the crew may not reach")
    return addresses
