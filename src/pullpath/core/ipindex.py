"""A vectorised longest-prefix-match index of IP prefixes (service tags, subnets); addresses
are parsed by ``core.ipaddr``.

Pure: no file I/O, no Azure SDK. ``numpy`` does the heavy lifting.

How the index works: CIDR prefixes of one family are either nested or disjoint (a laminar
family), so after grouping identical prefixes into *nodes* each node has at most one parent:
the smallest prefix strictly containing it. A sweep over
the prefixes sorted by (start, length) cuts the address space into *elementary intervals*,
each labelled with its deepest covering node (or -1). A lookup is one ``searchsorted`` on the
interval starts; all matches are the node and its ancestors, most specific first.

IPv4 keys are ``uint32``; IPv6 keys are 16-byte big-endian strings (numpy ``S16``), whose
byte-wise order is the numeric order of the addresses.

IPv4-mapped IPv6 addresses (``::ffff:1.2.3.4``) are normalised to IPv4 everywhere, so they
match IPv4 prefixes and never IPv6 ones.
"""

from __future__ import annotations

import itertools
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address
from typing import Any

import numpy as np
import numpy.typing as npt

from pullpath.core.ipaddr import V4_BITS, V6_BITS, packed_ip

__all__ = ["PrefixIndex"]

IPAddress = IPv4Address | IPv6Address

_ARRAY_KEYS = (
    "v4_starts",
    "v4_leaf",
    "v6_starts",
    "v6_leaf",
    "node_parent",
    "node_version",
    "node_plen",
    "node_net_hi",
    "node_net_lo",
    "node_offsets",
    "node_payloads",
    "rejected",
)


def _parse_prefix(text: object) -> tuple[bytes, int] | None:
    """(packed network address, prefix length) of a CIDR; host bits may be set."""
    if not isinstance(text, str):
        return None
    addr, slash, plen_text = text.strip().partition("/")
    v6 = ":" in addr
    bits = V6_BITS if v6 else V4_BITS
    if slash:
        if not (0 < len(plen_text) <= 3 and plen_text.isascii() and plen_text.isdigit()):
            return None
        plen = int(plen_text)
        if plen > bits:
            return None
    else:
        plen = bits
    try:
        return socket.inet_pton(socket.AF_INET6 if v6 else socket.AF_INET, addr), plen
    except (OSError, ValueError):
        return None


class PrefixIndex:
    """Longest-prefix match over a set of (CIDR prefix, payload id:int) for IPv4 and IPv6.

    Payload ids must be non-negative ints (``-1`` means "no match" in vectorised results).
    The same payload may hold several prefixes; it is reported once per lookup, at its most
    specific prefix.
    """

    __slots__ = (
        "_node_best",
        "_node_net_hi",
        "_node_net_lo",
        "_node_offsets",
        "_node_parent",
        "_node_payloads",
        "_node_plen",
        "_node_version",
        "_v4_leaf",
        "_v4_starts",
        "_v6_leaf",
        "_v6_starts",
        "rejected",
    )

    rejected: list[str]
    """Prefixes skipped by :meth:`build` because they are not CIDRs (one entry each)."""

    def __init__(self, arrays: dict[str, npt.NDArray[Any]]) -> None:
        """Use :meth:`build` or :meth:`from_arrays`; this trusts ``arrays`` as they are."""
        self._v4_starts: npt.NDArray[np.uint32] = arrays["v4_starts"]
        self._v4_leaf: npt.NDArray[np.int32] = arrays["v4_leaf"]
        self._v6_starts: npt.NDArray[np.bytes_] = arrays["v6_starts"]
        self._v6_leaf: npt.NDArray[np.int32] = arrays["v6_leaf"]
        self._node_parent: npt.NDArray[np.int32] = arrays["node_parent"]
        self._node_version: npt.NDArray[np.int8] = arrays["node_version"]
        self._node_plen: npt.NDArray[np.int16] = arrays["node_plen"]
        self._node_net_hi: npt.NDArray[np.uint64] = arrays["node_net_hi"]
        self._node_net_lo: npt.NDArray[np.uint64] = arrays["node_net_lo"]
        self._node_offsets: npt.NDArray[np.int64] = arrays["node_offsets"]
        self._node_payloads: npt.NDArray[np.int64] = arrays["node_payloads"]
        self.rejected = [str(r) for r in arrays["rejected"].tolist()]
        # best payload of each node: payloads are sorted ascending within a node
        best = np.full(len(self._node_parent) + 1, -1, dtype=np.int64)
        if len(self._node_parent):
            best[:-1] = self._node_payloads[self._node_offsets[:-1]]
        self._node_best = best  # index -1 -> the trailing -1: "no node"

    # ------------------------------------------------------------------ construction

    @classmethod
    def build(cls, entries: Iterable[tuple[str, int]]) -> PrefixIndex:
        """Index ``(prefix, payload)`` pairs. Unparsable prefixes go to ``.rejected``."""
        # Group payloads by prefix text first: the same prefix text recurs in many tags.
        by_text: dict[str, list[int]] = {}
        get = by_text.get
        for text, payload in entries:
            same = get(text)
            if same is None:
                by_text[text] = [payload]
            else:
                same.append(payload)

        rejected: list[str] = []
        packed: tuple[list[bytes], list[bytes]] = ([], [])
        plens: tuple[list[int], list[int]] = ([], [])
        payloads: tuple[list[list[int]], list[list[int]]] = ([], [])
        for text, group in by_text.items():
            parsed = _parse_prefix(text)
            if parsed is None:
                rejected.extend([str(text)] * len(group))
                continue
            fam = len(parsed[0]) >> 4  # 0: IPv4, 1: IPv6
            packed[fam].append(parsed[0])
            plens[fam].append(parsed[1])
            payloads[fam].append(group)

        v4_vals = np.frombuffer(b"".join(packed[0]), dtype=">u4").astype(np.uint64)
        v6_vals = np.frombuffer(b"".join(packed[1]), dtype=">u8").reshape(-1, 2)
        v4 = _compile(np.zeros_like(v4_vals), v4_vals, np.array(plens[0], np.int64), V4_BITS)
        v6 = _compile(
            v6_vals[:, 0].astype(np.uint64),
            v6_vals[:, 1].astype(np.uint64),
            np.array(plens[1], np.int64),
            V6_BITS,
        )
        n4 = len(v4.net_hi)
        n = n4 + len(v6.net_hi)

        # Payloads of each node: ascending, each once (a CSR layout: offsets + payloads).
        counts = [np.fromiter(map(len, groups), np.int64, len(groups)) for groups in payloads]
        entry_node = np.concatenate(
            [np.repeat(v4.node_of_row, counts[0]), np.repeat(v6.node_of_row + n4, counts[1])]
        )
        entry_payload = _payload_array(payloads[0] + payloads[1], len(entry_node))
        order = np.lexsort((entry_payload, entry_node))
        entry_node, entry_payload = entry_node[order], entry_payload[order]
        keep = np.ones(len(order), dtype=bool)
        keep[1:] = (entry_node[1:] != entry_node[:-1]) | (entry_payload[1:] != entry_payload[:-1])
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(entry_node[keep], minlength=n), out=offsets[1:])

        arrays: dict[str, npt.NDArray[Any]] = {
            "v4_starts": v4.starts_lo.astype(np.uint32),
            "v4_leaf": v4.leaf.astype(np.int32),
            "v6_starts": _to_s16(v6.starts_hi, v6.starts_lo),
            "v6_leaf": np.where(v6.leaf >= 0, v6.leaf + n4, -1).astype(np.int32),
            "node_parent": np.concatenate(
                [v4.parent, np.where(v6.parent >= 0, v6.parent + n4, -1)]
            ).astype(np.int32),
            "node_version": np.repeat(np.array([4, 6], np.int8), [n4, n - n4]),
            "node_plen": np.concatenate([v4.plen, v6.plen]).astype(np.int16),
            "node_net_hi": np.concatenate([v4.net_hi, v6.net_hi]),
            "node_net_lo": np.concatenate([v4.net_lo, v6.net_lo]),
            "node_offsets": offsets,
            "node_payloads": entry_payload[keep],
            "rejected": np.array(rejected, dtype=np.str_),
        }
        return cls(arrays)

    def to_arrays(self) -> dict[str, npt.NDArray[Any]]:
        """Plain numeric/bytes/str arrays (``np.savez`` without pickle)."""
        return {
            "v4_starts": self._v4_starts,
            "v4_leaf": self._v4_leaf,
            "v6_starts": self._v6_starts,
            "v6_leaf": self._v6_leaf,
            "node_parent": self._node_parent,
            "node_version": self._node_version,
            "node_plen": self._node_plen,
            "node_net_hi": self._node_net_hi,
            "node_net_lo": self._node_net_lo,
            "node_offsets": self._node_offsets,
            "node_payloads": self._node_payloads,
            "rejected": np.array(self.rejected, dtype=np.str_),
        }

    @classmethod
    def from_arrays(cls, arrays: object) -> PrefixIndex:
        """Rebuild from :meth:`to_arrays` output (a dict or an ``NpzFile``).

        Checks dtypes, shapes and the invariants a lookup relies on (no cycles, ids in
        range), so a damaged cache gives ``ValueError``, never a wrong answer or a hang.
        """
        try:
            got = {k: np.asarray(arrays[k]) for k in _ARRAY_KEYS}  # type: ignore[index]
        except (KeyError, TypeError, ValueError, OSError) as exc:
            raise ValueError(f"not a PrefixIndex: {exc}") from exc
        expect = {
            "v4_starts": np.uint32,
            "v4_leaf": np.int32,
            "v6_leaf": np.int32,
            "node_parent": np.int32,
            "node_version": np.int8,
            "node_plen": np.int16,
            "node_net_hi": np.uint64,
            "node_net_lo": np.uint64,
            "node_offsets": np.int64,
            "node_payloads": np.int64,
        }
        for key, dtype in expect.items():
            if got[key].dtype != np.dtype(dtype) or got[key].ndim != 1:
                raise ValueError(f"PrefixIndex array {key}: wrong dtype or shape")
        if got["v6_starts"].dtype != np.dtype("S16") or got["v6_starts"].ndim != 1:
            raise ValueError("PrefixIndex array v6_starts: wrong dtype or shape")
        if got["rejected"].dtype.kind != "U" or got["rejected"].ndim != 1:
            raise ValueError("PrefixIndex array rejected: wrong dtype or shape")
        n = len(got["node_parent"])
        for fam in ("v4", "v6"):
            starts, leaf = got[f"{fam}_starts"], got[f"{fam}_leaf"]
            if len(starts) == 0 or len(starts) != len(leaf) or starts[0] != starts.dtype.type(0):
                raise ValueError(f"PrefixIndex: bad {fam} intervals")
            if len(starts) > 1 and not bool(np.all(starts[1:] > starts[:-1])):
                raise ValueError(f"PrefixIndex: {fam} interval starts not increasing")
            if len(leaf) and (int(leaf.min()) < -1 or int(leaf.max()) >= n):
                raise ValueError(f"PrefixIndex: {fam} leaf out of range")
        for key in ("node_version", "node_plen", "node_net_hi", "node_net_lo"):
            if len(got[key]) != n:
                raise ValueError(f"PrefixIndex array {key}: wrong length")
        parent = got["node_parent"]
        if n and not bool(np.all((parent >= -1) & (parent < np.arange(n)))):
            raise ValueError("PrefixIndex: bad node parents")
        offsets, payloads = got["node_offsets"], got["node_payloads"]
        if (
            len(offsets) != n + 1
            or offsets[0] != 0
            or offsets[-1] != len(payloads)
            or not bool(np.all(offsets[1:] > offsets[:-1]))
        ):
            raise ValueError("PrefixIndex: bad node payload offsets")
        if len(payloads) and int(payloads.min()) < 0:
            raise ValueError("PrefixIndex: negative payload id")
        return cls(got)

    # ------------------------------------------------------------------ queries

    def __len__(self) -> int:
        """Number of distinct prefixes indexed."""
        return len(self._node_parent)

    def locate(self, ip: str | IPv4Address | IPv6Address) -> int:
        """Node id of the longest prefix containing ``ip``; -1 when none or unparsable."""
        packed = packed_ip(ip)
        if packed is None:
            return -1
        if len(packed) == 4:
            key4 = np.uint32(int.from_bytes(packed, "big"))
            pos = int(np.searchsorted(self._v4_starts, key4, side="right")) - 1
            return int(self._v4_leaf[pos])
        key6 = np.array([packed], dtype="S16")
        pos = int(np.searchsorted(self._v6_starts, key6, side="right")[0]) - 1
        return int(self._v6_leaf[pos])

    def locate_many(self, ips: Sequence[object]) -> npt.NDArray[np.int32]:
        """Vectorised :meth:`locate`: int32 node ids, -1 where no match or unparsable.

        Each distinct value is parsed once; the search is one ``searchsorted`` per family.
        """
        if not isinstance(ips, Sequence | np.ndarray):  # an iterator is read only once
            ips = list(ips)
        distinct: dict[object, int] = dict.fromkeys(ips, 0)
        for i, ip in enumerate(distinct):
            distinct[ip] = i
        codes = np.array(list(map(distinct.__getitem__, ips)), dtype=np.int64)
        packs = [packed_ip(ip) for ip in distinct]
        result: npt.NDArray[np.int32] = self.locate_packed(packs)[codes]
        return result

    def locate_packed(self, packed: Sequence[bytes | None]) -> npt.NDArray[np.int32]:
        """:meth:`locate_many` of addresses already packed (:func:`packed_ip`: 4 or 16 bytes,
        None for no address), in order, duplicates searched again."""
        sizes = np.fromiter((0 if p is None else len(p) for p in packed), np.int8, len(packed))
        leaves = np.full(len(packed), -1, dtype=np.int32)

        pos4 = np.flatnonzero(sizes == 4)
        if len(pos4):
            buf = b"".join(p for p in packed if p is not None and len(p) == 4)
            keys4 = np.frombuffer(buf, dtype=">u4").astype(np.uint32)
            idx = np.searchsorted(self._v4_starts, keys4, side="right") - 1
            leaves[pos4] = self._v4_leaf[idx]
        pos6 = np.flatnonzero(sizes == 16)
        if len(pos6):
            buf = b"".join(p for p in packed if p is not None and len(p) == 16)
            keys6 = np.frombuffer(buf, dtype="S16")
            idx = np.searchsorted(self._v6_starts, keys6, side="right") - 1
            leaves[pos6] = self._v6_leaf[idx]
        return leaves

    def chain(self, node: int) -> tuple[tuple[str, tuple[int, ...]], ...]:
        """``(prefix, payloads)`` of ``node`` and every prefix containing it, longest first.

        Payloads at one prefix are in ascending order. ``node`` -1 gives ``()``.
        """
        out: list[tuple[str, tuple[int, ...]]] = []
        while node >= 0:
            start, end = int(self._node_offsets[node]), int(self._node_offsets[node + 1])
            payloads = tuple(int(p) for p in self._node_payloads[start:end])
            out.append((self.prefix_of(node), payloads))
            node = int(self._node_parent[node])
        return tuple(out)

    def prefix_of(self, node: int) -> str:
        """Canonical CIDR text of a node (host bits cleared, compressed IPv6)."""
        value = (int(self._node_net_hi[node]) << 64) | int(self._node_net_lo[node])
        v4 = int(self._node_version[node]) == 4
        address: IPAddress = IPv4Address(value) if v4 else IPv6Address(value)
        return f"{address}/{int(self._node_plen[node])}"

    def best_of(self, node: int) -> int | None:
        """Best (lowest) payload id at a node; None for -1."""
        return None if node < 0 else int(self._node_best[node])

    def lookup(self, ip: str | IPv4Address | IPv6Address) -> tuple[int, ...]:
        """All payload ids whose prefix contains ``ip``, most specific first; () if none.

        At equal prefix length payloads are ascending; a payload holding several matching
        prefixes appears once, at its longest.
        """
        seen: set[int] = set()
        out: list[int] = []
        for _, payloads in self.chain(self.locate(ip)):
            for p in payloads:
                if p not in seen:
                    seen.add(p)
                    out.append(p)
        return tuple(out)

    def best(self, ip: str | IPv4Address | IPv6Address) -> int | None:
        """Payload of the longest matching prefix (ties: lowest payload id); None if none."""
        return self.best_of(self.locate(ip))

    def best_many(self, ips: Sequence[object]) -> npt.NDArray[np.int64]:
        """Vectorised :meth:`best`: int64 array, -1 where no match or unparsable."""
        result: npt.NDArray[np.int64] = self._node_best[self.locate_many(ips)]
        return result


def _payload_array(groups: list[list[int]], total: int) -> npt.NDArray[np.int64]:
    """All payload ids as int64, checked: ints (numpy ints too, not bools), 0 <= id < 2**63."""
    flat = itertools.chain.from_iterable(groups)
    if all(type(p) is int for p in flat):
        try:
            array = np.fromiter(itertools.chain.from_iterable(groups), np.int64, total)
        except OverflowError as exc:
            raise ValueError(f"payload id must be a non-negative int64: {exc}") from exc
    else:
        for p in itertools.chain.from_iterable(groups):
            if isinstance(p, bool) or not isinstance(p, int | np.integer):
                raise TypeError(f"payload id must be an int, got {type(p).__name__}")
            if not 0 <= int(p) < 2**63:
                raise ValueError(f"payload id must be a non-negative int64, got {p}")
        array = np.array([int(p) for p in itertools.chain.from_iterable(groups)], np.int64)
    if total and int(array.min()) < 0:
        raise ValueError(f"payload id must be a non-negative int64, got {int(array.min())}")
    return array


_U64_MAX = np.uint64(2**64 - 1)
_ONE = np.uint64(1)
_ZERO = np.uint64(0)


def _to_s16(hi: npt.NDArray[np.uint64], lo: npt.NDArray[np.uint64]) -> npt.NDArray[np.bytes_]:
    """128-bit values (two uint64 columns) as 16-byte big-endian strings: same order."""
    buf = np.empty((len(hi), 2), dtype=">u8")
    buf[:, 0] = hi
    buf[:, 1] = lo
    return buf.view("S16").reshape(-1)


def _ge(
    a_hi: npt.NDArray[np.uint64],
    a_lo: npt.NDArray[np.uint64],
    b_hi: npt.NDArray[np.uint64],
    b_lo: npt.NDArray[np.uint64],
) -> npt.NDArray[np.bool_]:
    """a >= b for 128-bit values given as (hi, lo)."""
    result: npt.NDArray[np.bool_] = (a_hi > b_hi) | ((a_hi == b_hi) & (a_lo >= b_lo))
    return result


@dataclass(frozen=True, slots=True)
class _Family:
    """Compiled prefixes of one address family (node ids local to the family)."""

    node_of_row: npt.NDArray[np.int64]
    """Node of each input row."""
    net_hi: npt.NDArray[np.uint64]
    net_lo: npt.NDArray[np.uint64]
    plen: npt.NDArray[np.int64]
    parent: npt.NDArray[np.int64]
    starts_hi: npt.NDArray[np.uint64]
    starts_lo: npt.NDArray[np.uint64]
    leaf: npt.NDArray[np.int64]


def _compile(
    hi: npt.NDArray[np.uint64], lo: npt.NDArray[np.uint64], plen: npt.NDArray[np.int64], bits: int
) -> _Family:
    """Nodes, parents and elementary intervals of one family's prefixes, all vectorised.

    Addresses are 128-bit (hi, lo) pairs; IPv4 uses lo only (hi = 0, ``bits`` = 32).
    """
    # Host-bit masks: h host bits, split over the two 64-bit halves (no shift by >= 64).
    h = bits - plen
    mask_lo = np.where(h >= 64, _U64_MAX, (_ONE << np.minimum(h, 63).astype(np.uint64)) - _ONE)
    mask_hi = np.where(
        h >= 128,
        _U64_MAX,
        np.where(h > 64, (_ONE << np.clip(h - 64, 0, 63).astype(np.uint64)) - _ONE, _ZERO),
    )
    net_hi, net_lo = hi & ~mask_hi, lo & ~mask_lo

    # Nodes: distinct (network, length), sorted by network then length (shortest first), so
    # a node's ancestors all come before it.
    order = np.lexsort((plen, net_lo, net_hi))
    s_hi, s_lo, s_plen = net_hi[order], net_lo[order], plen[order]
    new = np.ones(len(order), dtype=bool)
    new[1:] = (s_hi[1:] != s_hi[:-1]) | (s_lo[1:] != s_lo[:-1]) | (s_plen[1:] != s_plen[:-1])
    node_of_row = np.empty(len(order), dtype=np.int64)
    node_of_row[order] = np.cumsum(new) - 1
    n_hi, n_lo, n_plen = s_hi[new], s_lo[new], s_plen[new]
    last_hi, last_lo = n_hi | mask_hi[order][new], n_lo | mask_lo[order][new]
    n = len(n_hi)

    # Parent = nearest earlier node whose last address is >= ours (it starts <= ours, so it
    # contains us). Pointer jumping: a candidate that does not contain us is replaced by its
    # own candidate; the true parent is always an ancestor-or-self of the candidate.
    parent = np.arange(n, dtype=np.int64) - 1
    todo = np.arange(1, n, dtype=np.int64)
    while todo.size:
        cand = parent[todo]
        todo = todo[~_ge(last_hi[cand], last_lo[cand], last_hi[todo], last_lo[todo])]
        parent[todo] = parent[parent[todo]]
        todo = todo[parent[todo] >= 0]

    # Elementary intervals start at 0, at every network and after every last address.
    after_lo = last_lo + _ONE
    after_hi = last_hi + (after_lo == _ZERO).astype(np.uint64)
    if bits == V6_BITS:
        inside = ~((last_hi == _U64_MAX) & (last_lo == _U64_MAX))
    else:
        inside = after_lo < np.uint64(1 << bits)
    b_hi = np.concatenate([np.zeros(1, np.uint64), n_hi, after_hi[inside]])
    b_lo = np.concatenate([np.zeros(1, np.uint64), n_lo, after_lo[inside]])
    border = np.lexsort((b_lo, b_hi))
    b_hi, b_lo = b_hi[border], b_lo[border]
    distinct = np.ones(len(b_hi), dtype=bool)
    distinct[1:] = (b_hi[1:] != b_hi[:-1]) | (b_lo[1:] != b_lo[:-1])
    b_hi, b_lo = b_hi[distinct], b_lo[distinct]

    # Deepest node containing each interval start: the last node starting at or before it
    # (deepest among equal starts), or the first of its ancestors that reaches it.
    if bits == V6_BITS:
        leaf = np.searchsorted(_to_s16(n_hi, n_lo), _to_s16(b_hi, b_lo), side="right") - 1
    else:
        leaf = np.searchsorted(n_lo, b_lo, side="right") - 1
    todo = np.flatnonzero(leaf >= 0)
    while todo.size:
        node = leaf[todo]
        todo = todo[~_ge(last_hi[node], last_lo[node], b_hi[todo], b_lo[todo])]
        leaf[todo] = parent[leaf[todo]]
        todo = todo[leaf[todo] >= 0]

    changed = np.ones(len(leaf), dtype=bool)
    changed[1:] = leaf[1:] != leaf[:-1]
    return _Family(
        node_of_row=node_of_row,
        net_hi=n_hi,
        net_lo=n_lo,
        plen=n_plen,
        parent=parent,
        starts_hi=b_hi[changed],
        starts_lo=b_lo[changed],
        leaf=leaf[changed],
    )
