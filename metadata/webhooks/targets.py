"""Which webhook targets are allowed: public addresses only (contract section 11).

Pure decisions, used twice: when a subscription's URL is saved (`url_violation`, on the
literal host alone: no lookup, so creation neither waits on DNS nor reveals what a name
resolves to inside the network) and when the worker connects (`address_allowed`, on every
address the name resolves to, in `metadata.webhooks.transport`). An operator may allow named
private networks with `WEBHOOK_ALLOWED_NETWORKS` (CIDRs), e.g. a test receiver on loopback.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_URL_LENGTH = 2000
MSG_URL = "url must be an absolute http or https URL of at most 2000 characters"
MSG_HTTPS = "url must be an https URL"
MSG_CHARACTERS = (
    "url may hold only the characters of a URI (RFC 3986: percent-encode anything else), "
    "and no fragment"
)
# The characters of a URI, and of what follows its host: a path or query, no fragment (and no
# brackets, which only an IPv6 host takes). `metadata.rest.webhooks` documents URL_TAIL.
_URI_CHARACTER = r"(?:[A-Za-z0-9._~!$&'()*+,;=:@/?\[\]-]|%[0-9A-Fa-f]{2})"
URL_TAIL = r"(?:[/?](?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*)?"
_URI = re.compile(f"{_URI_CHARACTER}*", re.ASCII)
_TAIL = re.compile(URL_TAIL, re.ASCII)
MSG_HOST = "url's host must be a DNS name (international names in their xn-- form) or an IP address"
MSG_NOT_PUBLIC = (
    "url must point to a public address: loopback, private, link-local, unique-local, "
    "multicast, reserved and unspecified addresses and localhost are refused"
)
LOCAL_NAMES = ("localhost",)
# A DNS name: labels of letters, digits, hyphens (and underscores, which some records use).
_NAME = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)(\.(?!-)[a-z0-9_-]{1,63}(?<!-))*\.?", re.ASCII)
# Prefixes whose addresses embed an IPv4 address the packet may end up at.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def allowed_networks() -> list[IPNetwork]:
    """`WEBHOOK_ALLOWED_NETWORKS`, parsed (settings.py has already refused bad entries)."""
    return [ipaddress.ip_network(cidr, strict=False) for cidr in settings.WEBHOOK_ALLOWED_NETWORKS]


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: IPAddress) -> bool:
    """Globally routable unicast, and so is any IPv4 address it embeds.

    `is_global` alone already leaves out loopback, private, link-local, unique-local,
    shared (100.64/10), reserved and unspecified ranges; multicast is named as well, since
    some multicast scopes count as global.
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None and not is_public(embedded):
            return False
    return address.is_global and not address.is_multicast and not address.is_unspecified


def address_allowed(address: IPAddress, networks: Iterable[IPNetwork] | None = None) -> bool:
    """Public, or inside a network the operator allowed."""
    if is_public(address):
        return True
    networks = allowed_networks() if networks is None else networks
    candidates = [address]
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        candidates.append(address.ipv4_mapped)
    return any(
        candidate.version == network.version and candidate in network
        for candidate in candidates
        for network in networks
    )


def literal_address(host: str) -> IPAddress | None:
    """The address a host names without any lookup, in every notation the resolver takes.

    IPv6 in brackets; IPv4 also as `inet_aton` reads it: `127.1`, `2130706433`,
    `0x7f000001`, `0177.0.0.1`. None for a name.
    """
    if host.startswith("[") and host.endswith("]"):
        return ipaddress.IPv6Address(host[1:-1])  # ValueError: not an address
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def _host_of(netloc: str) -> str | None:
    """The host part of `[user@]host[:port]`, lowercased (IPv6 kept in brackets)."""
    hostport = netloc.rpartition("@")[2].lower()
    if hostport.startswith("["):
        end = hostport.find("]")
        rest = hostport[end + 1 :]
        if end == -1 or (rest and not rest.startswith(":")):
            return None
        return hostport[: end + 1]
    return hostport.partition(":")[0]


def url_violation(url: object) -> str | None:
    """Why a subscription's URL is refused, or None when it is acceptable."""
    if not isinstance(url, str) or len(url) > MAX_URL_LENGTH:
        return MSG_URL
    if not _URI.fullmatch(url):
        return MSG_CHARACTERS
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port out of range or not a number)
    except ValueError:
        return MSG_URL
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return MSG_URL
    if not _TAIL.fullmatch(url[len(parts.scheme) + 3 + len(parts.netloc) :]):
        return MSG_CHARACTERS
    if parts.scheme != "https" and not settings.DEBUG:
        return MSG_HTTPS
    host = _host_of(parts.netloc)
    if host is None:
        return MSG_HOST
    try:
        address = literal_address(host)
    except ValueError:
        return MSG_HOST
    if address is not None:
        return None if address_allowed(address) else MSG_NOT_PUBLIC
    if not _NAME.fullmatch(host):
        return MSG_HOST
    name = host.rstrip(".")
    if any(name == local or name.endswith(f".{local}") for local in LOCAL_NAMES):
        return MSG_NOT_PUBLIC
    return None
