"""pullpath.core.ipindex: caller IP parsing and the longest-prefix-match index.

The index is checked against a brute-force oracle on Python's ``ipaddress``.
"""

from __future__ import annotations

import io
import random
from ipaddress import (
    IPv4Address,
    IPv4Network,
    IPv6Address,
    IPv6Network,
    ip_address,
    ip_network,
)
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pullpath.core import ipindex
from pullpath.core.ipaddr import is_private, parse_ip
from pullpath.core.ipindex import PrefixIndex

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network

# --------------------------------------------------------------------------- parse_ip


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.2.3.4", "1.2.3.4"),
        ("1.2.3.4:5678", "1.2.3.4"),
        ("1.2.3.4:0", "1.2.3.4"),
        ("1.2.3.4:65535", "1.2.3.4"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),
        ("2001:DB8::1", "2001:db8::1"),
        # plain IPv6 whose last group looks like a port is still the IPv6 address
        ("2001:db8::1:443", "2001:db8::1:443"),
        ("::", "::"),
        ("::ffff:20.1.2.3", "20.1.2.3"),
        ("::ffff:1402:0203", "20.2.2.3"),
        ("[::ffff:20.1.2.3]:443", "20.1.2.3"),
        ("fe80::1%eth0", "fe80::1"),
        ("[fe80::1%25eth0]:8080", "fe80::1"),
        ("  1.2.3.4  ", "1.2.3.4"),
        ("\t1.2.3.4:80\n", "1.2.3.4"),
        (" 2001:db8::1 ", "2001:db8::1"),
        # Decision: a port must be decimal 0..65535; otherwise the value is not a socket
        # address and is reported as invalid instead of being guessed at.
        ("1.2.3.4:99999", None),
        ("1.2.3.4:65536", None),
        ("1.2.3.4:", None),
        ("1.2.3.4:http", None),
        ("[2001:db8::1]:99999", None),
        ("", None),
        ("   ", None),
        ("<nil>", None),
        ("-", None),
        ("garbage", None),
        ("999.1.1.1", None),
        ("1.2.3", None),
        ("01.2.3.4", None),
        ("1.2.3.4/32", None),
        ("1.2.3.4 5.6.7.8", None),
        ("[1.2.3.4]:80", None),
        ("[2001:db8::1", None),
        ("[2001:db8::1]x", None),
        ("fe80::1%", None),
        ("1::2::3", None),
        ("host:80", None),
        ("1.2.3.4\x00", None),
        ("١.٢.٣.٤", None),
    ],
)
def test_parse_ip_examples(text: str, expected: str | None) -> None:
    got = parse_ip(text)
    if expected is None:
        assert got is None
    else:
        assert got == ip_address(expected)


@pytest.mark.parametrize("value", [None, 5, 1.5, b"1.2.3.4", ["1.2.3.4"], {}])
def test_parse_ip_non_strings_give_none(value: object) -> None:
    assert parse_ip(value) is None  # type: ignore[arg-type]


def test_parse_ip_keeps_address_types() -> None:
    assert isinstance(parse_ip("1.2.3.4"), IPv4Address)
    assert isinstance(parse_ip("::ffff:1.2.3.4"), IPv4Address)
    assert isinstance(parse_ip("2001:db8::1"), IPv6Address)


v4_addresses = st.integers(0, 2**32 - 1).map(IPv4Address)
v6_addresses = st.integers(0, 2**128 - 1).map(IPv6Address)


def _normalised(ip: Address) -> Address:
    if isinstance(ip, IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


@given(
    ip=v4_addresses | v6_addresses, port=st.integers(0, 65535), pad=st.sampled_from(["", " ", "\t"])
)
def test_parse_ip_agrees_with_ipaddress(ip: Address, port: int, pad: str) -> None:
    expected = _normalised(ip)
    assert parse_ip(f"{pad}{ip}{pad}") == expected
    if isinstance(ip, IPv6Address):
        assert parse_ip(ip.exploded) == expected
        assert parse_ip(f"[{ip}]:{port}") == expected
        assert parse_ip(f"[{ip}]") == expected
    else:
        assert parse_ip(f"{ip}:{port}") == expected
        assert parse_ip(f"::ffff:{ip}") == expected


@given(st.text())
def test_parse_ip_never_raises(text: str) -> None:
    got = parse_ip(text)
    assert got is None or isinstance(got, IPv4Address | IPv6Address)


@pytest.mark.parametrize(
    ("text", "private"),
    [
        ("10.1.2.3", True),
        ("10.1.2.3:443", True),
        ("172.16.0.1", True),
        ("172.31.255.255", True),
        ("172.32.0.1", False),
        ("192.168.1.1", True),
        ("100.64.0.1", True),
        ("100.127.255.255", True),
        ("100.128.0.1", False),
        # the design's private space only: loopback and link-local are not (they cannot be a
        # caller a registry sees; classification calls them invalid)
        ("127.0.0.1", False),
        ("169.254.169.254", False),
        ("fd00::1", True),
        ("fc00::1", True),
        ("fe80::1%eth0", False),
        ("::1", False),
        ("::ffff:10.0.0.1", True),
        ("20.1.2.3", False),
        ("8.8.8.8", False),
        ("2001:db8::1", False),
        ("2603:1040::1", False),
        ("", False),
        ("garbage", False),
    ],
)
def test_is_private(text: str, private: bool) -> None:
    assert is_private(text) is private
    parsed = parse_ip(text)
    if parsed is not None:
        assert is_private(parsed) is private


# --------------------------------------------------------------------------- oracle


class Oracle:
    """Brute force: every prefix tested with ``ip in network``."""

    def __init__(self, entries: list[tuple[str, int]]) -> None:
        self.nets = [(ip_network(text, strict=False), payload) for text, payload in entries]

    def __call__(self, ip: Address) -> tuple[int, ...]:
        """All payloads containing ip, longest prefix first, then lowest payload; each once."""
        ip = _normalised(ip)
        hits = sorted(
            (-net.prefixlen, payload)
            for net, payload in self.nets
            if net.version == ip.version and ip in net
        )
        out: list[int] = []
        for _, payload in hits:
            if payload not in out:
                out.append(payload)
        return tuple(out)


@st.composite
def networks(draw: st.DrawFn, bits: int) -> list[Network]:
    """Random prefixes of one family, many nested in others, with the extremes."""
    make = IPv4Network if bits == 32 else IPv6Network
    top = 2**bits - 1
    nets: list[Network] = []
    for _ in range(draw(st.integers(0, 6))):
        plen = draw(
            st.sampled_from([0, 1, 8, bits // 2, bits - 8, bits - 1, bits]) | st.integers(0, bits)
        )
        nets.append(make((draw(st.integers(0, top)), plen), strict=False))
    if draw(st.booleans()):
        nets.append(make((0, 0)))
    if draw(st.booleans()):
        nets.append(make((draw(st.sampled_from([0, top])), bits)))
    for _ in range(draw(st.integers(0, 10))):
        if not nets:
            break
        parent = draw(st.sampled_from(nets))
        plen = draw(st.integers(parent.prefixlen, bits))
        offset = draw(st.integers(0, parent.num_addresses - 1))
        nets.append(make((int(parent.network_address) + offset, plen), strict=False))
    return nets


@st.composite
def prefix_entries(draw: st.DrawFn) -> list[tuple[str, int]]:
    nets = draw(networks(32)) + draw(networks(128))
    entries: list[tuple[str, int]] = []
    for net in nets:
        for _ in range(draw(st.integers(1, 2))):  # the same prefix in several "tags"
            payload = draw(st.integers(0, 12))
            if draw(st.booleans()) and net.num_addresses > 1:  # host bits set: tolerated
                inside = int(net.network_address) + draw(st.integers(1, net.num_addresses - 1))
                text = f"{type(net.network_address)(inside)}/{net.prefixlen}"
            else:
                text = str(net)
            entries.append((text, payload))
    return draw(st.permutations(entries))


@st.composite
def probes(draw: st.DrawFn, entries: list[tuple[str, int]]) -> list[Address]:
    """Addresses at and around every prefix's edges, inside them, and anywhere."""
    out: list[Address] = []
    for text, _ in entries:
        net = ip_network(text, strict=False)
        first, last = int(net.network_address), int(net.broadcast_address)
        top = 2**net.max_prefixlen - 1
        make = IPv4Address if net.version == 4 else IPv6Address
        for value in (first, last, first - 1, last + 1, draw(st.integers(first, last))):
            if 0 <= value <= top:
                out.append(make(value))
    out += draw(st.lists(v4_addresses | v6_addresses, max_size=6))
    return out


def _check(index: PrefixIndex, entries: list[tuple[str, int]], ips: list[Address]) -> None:
    oracle = Oracle(entries)
    expected = [oracle(ip) for ip in ips]
    for ip, want in zip(ips, expected, strict=True):
        assert index.lookup(ip) == want, ip
        assert index.lookup(str(ip)) == want, ip
        assert index.best(ip) == (want[0] if want else None), ip
    texts = [str(ip) for ip in ips] + ["", "garbage", "<nil>"]
    got = index.best_many(texts)
    assert got.dtype == np.int64
    assert got.tolist() == [w[0] if w else -1 for w in expected] + [-1, -1, -1]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_index_agrees_with_oracle(data: st.DataObject) -> None:
    entries = data.draw(prefix_entries())
    index = PrefixIndex.build(entries)
    assert index.rejected == []
    _check(index, entries, data.draw(probes(entries)))


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_index_round_trips_through_npz(data: st.DataObject) -> None:
    entries = data.draw(prefix_entries())
    buf = io.BytesIO()
    savez: Any = np.savez
    savez(buf, **PrefixIndex.build(entries).to_arrays())
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as npz:
        index = PrefixIndex.from_arrays(npz)
    _check(index, entries, data.draw(probes(entries)))


def test_nested_example_order_and_ties() -> None:
    entries = [
        ("0.0.0.0/0", 9),
        ("10.0.0.0/8", 3),
        ("10.1.0.0/16", 5),
        ("10.1.0.0/16", 1),
        ("10.1.2.3/32", 3),  # payload 3 again, more specific: reported once, here
        ("2001:db8::/32", 2),
        ("::/0", 7),
    ]
    index = PrefixIndex.build(entries)
    assert index.lookup("10.1.2.3") == (3, 1, 5, 9)
    assert index.lookup("10.1.2.4:443") == (1, 5, 3, 9)
    assert index.best("10.1.2.4") == 1  # tie at /16: lowest payload
    assert index.lookup("11.0.0.0") == (9,)
    assert index.lookup("[2001:db8::5]:443") == (2, 7)
    assert index.lookup("::ffff:10.1.2.3") == (3, 1, 5, 9)  # IPv4-mapped is IPv4
    assert index.lookup("garbage") == ()
    assert index.best("") is None
    chain = index.chain(index.locate("10.1.2.4"))
    assert chain == (("10.1.0.0/16", (1, 5)), ("10.0.0.0/8", (3,)), ("0.0.0.0/0", (9,)))
    assert len(index) == 6


def test_bad_prefixes_are_rejected_and_counted() -> None:
    entries = [
        ("10.0.0.0/8", 1),
        ("10.0.0.0/33", 2),
        ("10.0.0/8", 3),
        ("nonsense", 4),
        ("nonsense", 5),
        ("2001:db8::/129", 6),
        ("", 7),
        ("10.0.0.1/8", 8),  # host bits set: fine, means 10.0.0.0/8
        (" 192.0.2.0/24 ", 9),  # surrounding whitespace: fine
        ("fe80::/10%eth0", 10),
        ("10.0.0.0/-1", 11),
        ("10.0.0.0/", 12),
    ]
    index = PrefixIndex.build(entries)
    assert sorted(index.rejected) == sorted(
        [
            "10.0.0.0/33",
            "10.0.0/8",
            "nonsense",
            "nonsense",
            "2001:db8::/129",
            "",
            "fe80::/10%eth0",
            "10.0.0.0/-1",
            "10.0.0.0/",
        ]
    )
    assert index.lookup("10.9.9.9") == (1, 8)
    assert index.best("192.0.2.7") == 9


def test_payload_ids_must_be_non_negative_ints() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        PrefixIndex.build([("10.0.0.0/8", -1)])
    with pytest.raises(TypeError):
        PrefixIndex.build([("10.0.0.0/8", "a")])  # type: ignore[list-item]
    numpy_id: Any = np.int64(4)
    assert PrefixIndex.build([("10.0.0.0/8", numpy_id)]).best("10.0.0.1") == 4


def test_empty_index() -> None:
    index = PrefixIndex.build([])
    assert index.lookup("1.2.3.4") == ()
    assert index.best("::1") is None
    assert index.best_many(["1.2.3.4", "::1", "x"]).tolist() == [-1, -1, -1]
    assert index.best_many([]).shape == (0,)


def test_from_arrays_rejects_damage() -> None:
    good = PrefixIndex.build([("10.0.0.0/8", 1), ("10.1.0.0/16", 2), ("::/0", 3)]).to_arrays()
    PrefixIndex.from_arrays(good)

    def damaged(key: str, value: np.ndarray) -> dict[str, np.ndarray]:
        out = dict(good)
        out[key] = value
        return out

    bad_cases = [
        {k: v for k, v in good.items() if k != "v4_leaf"},
        damaged("node_parent", np.array([1, 0, -1], dtype=np.int32)),  # a cycle
        damaged("v4_starts", good["v4_starts"][::-1].copy()),
        damaged("v4_leaf", np.full_like(good["v4_leaf"], 99)),
        damaged("node_offsets", good["node_offsets"][:-1].copy()),
        damaged("node_payloads", good["node_payloads"].astype(np.float64)),
        damaged("v6_starts", np.array([b"x"], dtype="S4")),
    ]
    for case in bad_cases:
        with pytest.raises(ValueError, match="PrefixIndex"):
            PrefixIndex.from_arrays(case)
    with pytest.raises(ValueError, match="not a PrefixIndex"):
        PrefixIndex.from_arrays(42)


def test_best_many_is_fast_and_parses_each_distinct_once(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(7)
    entries = [
        (f"{rng.randrange(1, 224)}.{rng.randrange(256)}.0.0/{rng.choice([16, 20, 24])}", i)
        for i in range(2000)
    ]
    index = PrefixIndex.build(entries)
    distinct = [
        f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}"
        for _ in range(5000)
    ]
    ips = [rng.choice(distinct) for _ in range(200_000)]
    parsed: list[object] = []
    real = ipindex.packed_ip

    def counting(value: object) -> bytes | None:
        parsed.append(value)
        return real(value)

    monkeypatch.setattr(ipindex, "packed_ip", counting)
    got = index.best_many(ips)
    monkeypatch.undo()
    assert len(parsed) == len(set(ips))
    sample = rng.sample(range(len(ips)), 300)
    for i in sample:
        best = index.best(ips[i])
        assert got[i] == (-1 if best is None else best)


# --------------------------------------------------------------------------- classifier sources

_SUBNET_ID = "/subscriptions/s/resourcegroups/g/providers/microsoft.network/virtualnetworks/v/subnets/a"


def _classifier() -> Any:
    from pullpath.adapters.servicetags_files import load_service_tags
    from pullpath.core.classify import Classifier
    from pullpath.domain.inventory import Inventory, Subnet

    inventory = Inventory(subnets={_SUBNET_ID: Subnet(
        _SUBNET_ID, "a", _SUBNET_ID.rsplit("/subnets/", 1)[0], ("10.1.0.0/16", "fd00:1::/64"))})
    return Classifier(inventory, load_service_tags())


_CLASSIFIER = _classifier()

_callers = st.one_of(
    st.ip_addresses().map(str),
    st.tuples(st.ip_addresses(v=4), st.integers(0, 70000)).map(lambda t: f"{t[0]}:{t[1]}"),
    st.ip_addresses(v=6).map(lambda a: f"[{a}]:443"),
    st.ip_addresses(v=4).map(lambda a: f"::ffff:{a}"),
    st.sampled_from(["10.1.2.3", "fd00:1::5", "127.0.0.1", "169.254.0.1", "0.0.0.0",
                     "255.255.255.255", "224.0.0.1", "", " ", "-", "01.2.3.4", "1.2.3"]),
    st.text(max_size=12),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_callers, max_size=25))
def test_classifier_reads_callers_as_parse_ip_does(values: list[str]) -> None:
    """A caller's source shows ``str(parse_ip(caller))`` (or is invalid), whether it was
    classified alone (``source``) or in a batch (``prime_sources``)."""
    from pullpath.core.classify import Classifier
    from pullpath.core.ipaddr import flow_address
    from pullpath.domain.verdicts import SourceKind

    batch = Classifier(_CLASSIFIER.inventory, _CLASSIFIER.tags)
    batch.prime_sources(values)
    for value in values:
        alone = Classifier(_CLASSIFIER.inventory, _CLASSIFIER.tags).source(value)
        assert batch.source(value) == alone
        ip = parse_ip(value)
        if ip is None or not flow_address(value):
            assert alone.kind is SourceKind.INVALID
            assert alone.ip == ""
        else:
            assert alone.ip == str(ip)
            in_subnet = any(ip in ip_network(p) for p in ("10.1.0.0/16", "fd00:1::/64"))
            assert (alone.kind is SourceKind.SUBNET) == in_subnet
            assert (alone.kind is SourceKind.PRIVATE_UNMAPPED) == (
                not in_subnet and is_private(ip))
