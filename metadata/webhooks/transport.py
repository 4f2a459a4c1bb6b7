"""The worker's HTTP transport: it connects only to allowed addresses, checked as connected.

Checking a subscription's URL when it is saved is not enough: a name can resolve to a public
address then and to 127.0.0.1 at delivery (DNS rebinding), or resolve differently between a
check and requests' own lookup. So the transport resolves the name once itself
(`socket.getaddrinfo`), refuses the delivery unless every address is allowed
(`targets.address_allowed`), and hands urllib3 the checked address to connect to: urllib3
never looks the name up again. The name still goes where it belongs: in the `Host` header,
and for https in the TLS SNI and the certificate check (urllib3's `server_hostname` and
`assert_hostname` pool keys).

Why this shape: requests documents `HTTPAdapter.build_connection_pool_key_attributes` as the
hook for subclasses to change what a connection pool is keyed and built with, and
`add_headers` for adding headers; both are public. The alternative, a urllib3 connection
class overriding `_new_conn` (the approach of the `advocate` library), rests on a private
method; `advocate` itself was last released in 2020 and does not target urllib3 2. Proxies
from the environment are ignored (`trust_env = False`): a proxy would connect on our behalf
to addresses this check never sees. Redirects are not followed by the caller.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from metadata.webhooks.targets import IPAddress, address_allowed

DEFAULT_PORTS = {"http": 80, "https": 443}


class TargetRefused(requests.exceptions.ConnectionError):
    """The target resolves to an address that is not allowed; nothing was sent."""


def resolve_allowed(host: str, port: int) -> IPAddress:
    """The address to connect to, once every address `host` resolves to is allowed.

    All of them, not the first: a name answering with a public and a private address
    must not get a second chance through a client's fallback to the next address.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise requests.exceptions.ConnectionError("the name did not resolve") from error
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    if not addresses or not all(address_allowed(address) for address in addresses):
        raise TargetRefused("target address not allowed")
    return addresses[0]


class AllowedAddressAdapter(HTTPAdapter):
    """An `HTTPAdapter` whose connections go to the address it resolved and checked."""

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        name = host_params["host"]
        port = host_params["port"] or DEFAULT_PORTS.get(host_params["scheme"], 80)
        address = resolve_allowed(name, port)
        host_params["host"] = str(address)
        if host_params["scheme"] == "https":
            pool_kwargs["server_hostname"] = name
            pool_kwargs["assert_hostname"] = name
        return host_params, pool_kwargs

    def add_headers(self, request: requests.PreparedRequest, **kwargs: Any) -> None:
        """The URL's own host (and port) in `Host`: the pool's host is now an address."""
        request.headers["Host"] = urlsplit(request.url).netloc.rpartition("@")[2]


def session() -> requests.Session:
    """A session that sends only through `AllowedAddressAdapter`, with no proxies."""
    sending = requests.Session()
    sending.trust_env = False
    adapter = AllowedAddressAdapter(max_retries=0)
    sending.mount("http://", adapter)
    sending.mount("https://", adapter)
    return sending
