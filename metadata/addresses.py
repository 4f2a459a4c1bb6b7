"""The client's address, as every rate limit and the `/metrics` allow-list see it.

Behind a reverse proxy the direct peer (`REMOTE_ADDR`) is the proxy, for every client. The
proxy says who it served in `X-Forwarded-For`, but so can anyone else: the header is read
only when the peer is one of `TRUSTED_PROXIES`, and then from the right, since each proxy
appends the address it saw and a client can write whatever it likes to the left of that.
The client is the rightmost address that is not itself a trusted proxy. An entry that is
not an address ends the walk (nothing left of it was written by a proxy we trust), leaving
the last trusted hop.

Plain Django (`request.META`), so both doors and the operations views call the same function.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Mapping
from typing import Any

from django.conf import settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=8)
def networks_of(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """CIDRs (or single addresses) as networks; settings refuse bad entries at start-up."""
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def parse_address(text: str) -> Address | None:
    """An address as proxies write it (`a.b.c.d`, `a.b.c.d:port`, `[v6]:port`, `v6`)."""
    text = text.strip()
    if text.startswith("["):
        host, closed, _port = text[1:].partition("]")
        if not closed:
            return None
        text = host
    elif text.count(":") == 1:  # IPv4 with a port; a bare IPv6 address has several colons
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address | None, networks: tuple[Network, ...]) -> bool:
    return address is not None and any(address in network for network in networks)


def client_address(meta: Mapping[str, Any]) -> str:
    """The address a request came from: the direct peer, unless that is a trusted proxy."""
    peer = str(meta.get("REMOTE_ADDR") or "")
    networks = networks_of(tuple(settings.TRUSTED_PROXIES))
    if not networks or not _trusted(parse_address(peer), networks):
        return peer
    address = peer
    for entry in reversed(str(meta.get("HTTP_X_FORWARDED_FOR") or "").split(",")):
        if not entry.strip():
            continue
        hop = parse_address(entry)
        if hop is None:
            break
        address = str(hop)
        if not _trusted(hop, networks):
            break
    return address
