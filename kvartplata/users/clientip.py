"""The client's address, as a trusted reverse proxy reports it.

One rule for the sign-in throttling (django-axes, through AXES_CLIENT_IP_CALLABLE), allauth's
rate limits (the account adapter) and the audit trail:

* The peer (REMOTE_ADDR) is the client unless it is one of settings.TRUSTED_PROXIES
  (addresses or networks, e.g. "127.0.0.1,10.0.0.0/8"; empty by default: no proxy trusted).
* From a trusted peer, X-Forwarded-For is read from the right: each hop that is itself a trusted
  proxy is skipped, and the first one that is not is the client. Anything to the left of it was
  written by the client and is ignored, so a forged header cannot pick someone else's address.
* A hop that is not an IP address ends the walk: the last trusted address is used instead.

The trust is decided by the connecting peer, not by the header's contents: django-ipware's
trusted-proxy mode checks addresses inside the header, which a client can write.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.7:51234"
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def client_ip(request) -> str | None:
    """The client's address (text), or None when the peer's own address is unknown."""
    peer = _address(request.META.get("REMOTE_ADDR", ""))
    if peer is None:
        return None
    trusted = _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ())))
    if not trusted or not any(peer in net for net in trusted):
        return str(peer)
    client = peer
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break
        client = address
        if not any(address in net for net in trusted):
            break
    return str(client)
