"""The client's address, for throttling and rate limits only — never stored or logged raw.

Behind a reverse proxy every request comes from the proxy. `X-Forwarded-For` is believed only
when the direct peer is one of QUARTIER_TRUSTED_PROXIES (addresses or networks); the client is
then the right-most address in the header that is not itself a trusted proxy.
"""

from __future__ import annotations

import ipaddress
from functools import cache

from litestar.types import Scope

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def _networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in trusted)


def _is_trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(scope: Scope, trusted_proxies: tuple[str, ...]) -> str:
    peer = (scope.get("client") or ("unknown", 0))[0]
    networks = _networks(trusted_proxies)
    if not networks or not _is_trusted(peer, networks):
        return peer
    for name, value in scope["headers"]:
        if name == b"x-forwarded-for":
            hops = [hop.strip() for hop in value.decode("latin-1").split(",") if hop.strip()]
            for hop in reversed(hops):
                if not _is_trusted(hop, networks):
                    return hop
    return peer
