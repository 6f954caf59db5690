"""The address guard: refuse requests to private, loopback, link-local and other special hosts.

Every host is resolved with getaddrinfo and *every* address it yields is checked, so odd
spellings of an address ("2130706433", "0x7f.1", "0177.0.0.1", "[::ffff:127.0.0.1]") and DNS
names that resolve to internal addresses are refused like the plain form. The caller then
connects to the checked address itself, so a second DNS answer cannot slip past the check.
"""
from __future__ import annotations

import ipaddress
import socket

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class BlockedAddress(Exception):
    """The URL's host is, or resolves to, an address the fetcher must not contact."""


def _is_forbidden(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is not None and _is_forbidden(mapped):
            return True
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def resolve(host: str, port: int) -> list[IPAddress]:
    """All addresses a host name resolves to (IP literals resolve to themselves)."""
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise BlockedAddress(f"cannot resolve host {host!r}: {exc}") from exc
    addresses: list[IPAddress] = []
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if ip not in addresses:
            addresses.append(ip)
    return addresses


def checked_addresses(host: str, port: int, *, allow_networks: tuple[str, ...] = ()) -> list[IPAddress]:
    """Resolve a host and return its addresses, or raise BlockedAddress if any is forbidden.

    `allow_networks` (CIDR strings, from the INGEST_ALLOWED_NETWORKS setting) exempts
    specific internal ranges, e.g. a test server on 127.0.0.1/32.
    """
    addresses = resolve(host, port)
    if not addresses:
        raise BlockedAddress(f"host {host!r} has no address")
    allowed = [ipaddress.ip_network(n, strict=False) for n in allow_networks]
    bad = [
        str(ip)
        for ip in addresses
        if _is_forbidden(ip) and not any(ip.version == n.version and ip in n for n in allowed)
    ]
    if bad:
        raise BlockedAddress(
            f"refusing to fetch from {host!r}: it resolves to a private, loopback, "
            f"link-local or reserved address ({', '.join(bad)})"
        )
    return addresses
