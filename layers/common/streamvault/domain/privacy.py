"""What ingestion may keep of a listener's device: a network prefix, never the address, and a
keyed hash of the user agent, never the string.

A /24 (IPv4) or /48 (IPv6) is a neighbourhood or an ISP's customer block, enough for
geography and abuse patterns and not a person. The user agent is hashed with HMAC under a
server-side key: a plain hash of a string from a small, public vocabulary would be reversed by
hashing the vocabulary, a keyed one cannot be without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from ipaddress import IPv4Address, IPv6Address, ip_address

IPV4_PREFIX = 24
IPV6_PREFIX = 48
_IPV4_MASK = (2**32 - 1) ^ (2 ** (32 - IPV4_PREFIX) - 1)
_IPV6_MASK = (2**128 - 1) ^ (2 ** (128 - IPV6_PREFIX) - 1)


def anonymize_ip(address: IPv4Address | IPv6Address) -> str:
    """The address's network as CIDR text: ``203.0.113.0/24``, ``2001:db8:1::/48``. An
    IPv4-mapped IPv6 address (``::ffff:203.0.113.7``) is an IPv4 client and gets its /24."""
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if isinstance(address, IPv4Address):
        return f"{IPv4Address(int(address) & _IPV4_MASK)}/{IPV4_PREFIX}"
    return f"{IPv6Address(int(address) & _IPV6_MASK)}/{IPV6_PREFIX}"


# A dotted quad as ipaddress accepts it (0-255, no leading zeros): its /24 is its first three
# octets, with no parsing: eight times faster than ip_address() on what nearly every play carries.
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_DOTTED_QUAD = re.compile(rf"({_OCTET}\.{_OCTET}\.{_OCTET})\.{_OCTET}")


def network_of(address: str) -> str:
    """``anonymize_ip(ip_address(address))``; ValueError for text that is no IP address."""
    quad = _DOTTED_QUAD.fullmatch(address)
    if quad is not None:
        return f"{quad[1]}.0/{IPV4_PREFIX}"
    return anonymize_ip(ip_address(address))


def user_agent_hash(key: bytes, user_agent: str) -> bytes:
    """HMAC-SHA256 of the user agent as sent (32 bytes)."""
    return hmac.new(key, user_agent.encode(), hashlib.sha256).digest()
