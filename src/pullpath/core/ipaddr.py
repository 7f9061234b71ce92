"""Caller IP addresses as logged: parsing (``parse_ip``: ports, brackets, zone ids,
IPv4-mapped IPv6), private address space, and the address a flow shows (``flow_address``).

Pure, the standard library only: the log readers key callers by ``flow_address`` without the
classifier; ``core.ipindex`` looks the addresses up in prefixes.
"""

from __future__ import annotations

import socket
from ipaddress import IPv4Address, IPv6Address

_MAPPED_PREFIX = b"\x00" * 10 + b"\xff\xff"
_MAX_PORT = 65535
V4_BITS = 32
V6_BITS = 128


def _pton(host: str) -> bytes | None:
    """Packed address (4 or 16 bytes) of a bare address; IPv4-mapped IPv6 -> 4 bytes."""
    if ":" in host:
        cut = host.find("%")
        if cut >= 0:  # zone id: fe80::1%eth0 (or %25eth0 when URL-encoded)
            if cut == len(host) - 1:
                return None
            host = host[:cut]
        try:
            packed = socket.inet_pton(socket.AF_INET6, host)
        except (OSError, ValueError):
            return None
        if packed[:12] == _MAPPED_PREFIX:
            return packed[12:]
        return packed
    try:
        return socket.inet_pton(socket.AF_INET, host)
    except (OSError, ValueError):
        return None


def _valid_port(port: str) -> bool:
    return 0 < len(port) <= 5 and port.isascii() and port.isdigit() and int(port) <= _MAX_PORT


def _packed(value: object) -> bytes | None:
    """Packed form of a logged caller IP (see :func:`parse_ip`); None when unusable."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if text[0] == "[":  # [v6]:port or [v6]
            close = text.find("]")
            if close < 0:
                return None
            rest = text[close + 1 :]
            if rest and not (rest[0] == ":" and _valid_port(rest[1:])):
                return None
            host = text[1:close]
            if ":" not in host:  # brackets are for IPv6 literals only
                return None
            return _pton(host)
        colons = text.count(":")
        if colons == 1:  # a.b.c.d:port
            host, _, port = text.partition(":")
            if not _valid_port(port):
                return None
            return _pton(host) if "." in host else None
        return _pton(text)
    if isinstance(value, IPv4Address):
        return value.packed
    if isinstance(value, IPv6Address):
        packed = value.packed
        return packed[12:] if packed[:12] == _MAPPED_PREFIX else packed
    return None


def parse_ip(text: str) -> IPv4Address | IPv6Address | None:
    """Normalise a ``CallerIpAddress`` as logged; None when it is not an address.

    - surrounding whitespace is ignored;
    - ``1.2.3.4:5678`` -> 1.2.3.4 and ``[2001:db8::1]:443`` -> 2001:db8::1; the port must be
      decimal 0-65535 (``1.2.3.4:99999`` or ``1.2.3.4:`` is not a socket address -> None:
      a malformed value is reported as invalid rather than guessed at);
    - plain IPv6 stays IPv6 (``2001:db8::1:443`` is the IPv6 address, not a port);
    - IPv4-mapped IPv6 ``::ffff:1.2.3.4`` -> IPv4 1.2.3.4;
    - zone ids are dropped: ``fe80::1%eth0`` -> fe80::1;
    - brackets around IPv4, leading zeros in IPv4 octets, ``""``, ``"<nil>"``, ``"-"`` and
      anything else -> None. Never raises (non-strings give None too).
    """
    packed = _packed(text)
    if packed is None:
        return None
    return ip_from_packed(packed)


def packed_ip(text: object) -> bytes | None:
    """The address of :func:`parse_ip` as 4 or 16 bytes (what the indexes search), None when
    it is not an address: ``ip_from_packed(packed_ip(x))`` is ``parse_ip(x)``."""
    return _packed(text)


def ip_from_packed(packed: bytes) -> IPv4Address | IPv6Address:
    return IPv4Address(packed) if len(packed) == 4 else IPv6Address(packed)


_PRIVATE_NETS: tuple[tuple[int, int, int], ...] = tuple(
    (version, int.from_bytes(socket.inet_pton(family, net), "big"), plen)
    for version, family, net, plen in (
        (4, socket.AF_INET, "10.0.0.0", 8),
        (4, socket.AF_INET, "172.16.0.0", 12),
        (4, socket.AF_INET, "192.168.0.0", 16),
        (4, socket.AF_INET, "100.64.0.0", 10),
        (6, socket.AF_INET6, "fc00::", 7),
    )
)


def is_private(ip: IPv4Address | IPv6Address | str | None) -> bool:
    """Private address space in the sense of the design's ``private-unmapped`` source.

    RFC 1918 (10/8, 172.16/12, 192.168/16), CGNAT 100.64/10, IPv6 ULA fc00::/7, plus loopback
    (127/8, ::1) and link-local (169.254/16, fe80::/10). Strings are parsed with
    :func:`parse_ip`; anything unparsable is not private.
    """
    packed = _packed(ip)
    return False if packed is None else is_private_packed(packed)


def is_private_packed(packed: bytes) -> bool:
    """:func:`is_private` of an address given as 4 or 16 bytes (:func:`packed_ip`)."""
    version = 4 if len(packed) == 4 else 6
    bits = V4_BITS if version == 4 else V6_BITS
    value = int.from_bytes(packed, "big")
    for net_version, net, plen in _PRIVATE_NETS:
        if net_version == version and (value >> (bits - plen)) == (net >> (bits - plen)):
            return True
    return False


V4_MAYBE_UNROUTABLE = frozenset({0, 127, 169, *range(224, 256)})
"""First octets of the IPv4 addresses ``unroutable`` may refuse: 0.0.0.0, 127/8, 169.254/16,
224/4 and 240/4 (the ``ipaddress`` properties are slow: the others are answered at once). The
compiled log scanner relies on it too: a caller ``a.b.c.d:port`` outside these keeps no port
(``adapters.logs_fast.port_judged_octets``)."""


def unroutable(ip: IPv4Address | IPv6Address) -> str:
    """Why an address cannot be a real caller of a cloud registry ("" when it can)."""
    if ip.version == 4 and (int(ip) >> 24) not in V4_MAYBE_UNROUTABLE:
        return ""
    for attr, label in (("is_loopback", "a loopback address"),
                        ("is_link_local", "a link-local address"),
                        ("is_unspecified", "the unspecified address"),
                        ("is_multicast", "a multicast address"),
                        ("is_reserved", "a reserved address")):
        if getattr(ip, attr):
            return label
    if ip.version == 4 and str(ip) == "255.255.255.255":
        return "the broadcast address"
    return ""


def address_text(packed: bytes) -> str:
    """``str(ip_from_packed(packed))``: the canonical text of an address (IPv4 without the
    address object, which costs several times more)."""
    return socket.inet_ntoa(packed) if len(packed) == 4 else str(ip_from_packed(packed))


def unroutable_packed(packed: bytes) -> str:
    """``unroutable`` of an address given as 4 or 16 bytes (``packed_ip``): the usual IPv4
    caller is answered without an address object."""
    if len(packed) == 4 and packed[0] not in V4_MAYBE_UNROUTABLE:
        return ""
    return unroutable(ip_from_packed(packed))


def flow_address(caller_ip: str) -> str:
    """The address a flow shows for a logged caller: ``Source.ip`` (canonical, any port
    dropped), which ``Classifier.source`` makes with the same ``packed_ip``,
    ``unroutable_packed`` and ``address_text``; "" when it gives none (the flow then shows the
    value as logged). Aggregation keys callers by it (``core.groups.CallerKeys``)."""
    packed = packed_ip(caller_ip)
    if packed is None or unroutable_packed(packed):
        return ""
    return address_text(packed)
