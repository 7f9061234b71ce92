"""The path diagram: who pulled from which registry, and which way the pull went in.

Built from a report document (audit flows, explain pairs, lab results) and its optional
``network`` section (see :mod:`pullpath.formatters.sections`). The layout is computed here,
deterministically, in three columns:

- left: consumers grouped in boxes by VNet and subnet (consumers with no known subnet in a box
  of their own); unattributed callers inside a subnet get one node per subnet;
- middle: the source nodes, "Microsoft platform" and "Internet" always, "Your public IPs",
  "Private, unmapped" and "Invalid caller IP" when used; flows with no attributed consumer start
  here, and a consumer's pull that left through one of them (ACI's trusted-service pull from a
  Microsoft address, a NAT gateway's public IP) is drawn through it;
- right: each registry with its firewall state and one port per way in (each private endpoint,
  the trusted-services bypass, IP rules, the public endpoint, refusals).

There is one edge per consumer (or source) → registry → path, coloured by path, labelled with its
event count, thicker with more events; a flow whose path disagrees with the knowledge base's
expectation makes its edge dashed with a red "≠ expected X". Rows grow to fit their labels and
the picture is a scaled ``viewBox``, so it stays legible from 1 to hundreds of consumers (a
subnet with more than ``MAX_PER_SUBNET`` consumers folds the rest into one "+N more" node, and
says so). Past ``MAX_DRAWN_REGISTRIES`` registries or ``MAX_DRAWN_CONSUMERS`` consumers the
diagram is a summary by consumer kind and path (``Diagram.summary`` says so).

Rendering: :func:`diagram_svg` (an SVG fragment through a Jinja2 template with autoescape) and
:func:`diagram_mermaid` (a Mermaid ``flowchart LR`` for Markdown).
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pullpath.formatters.report_view import (
    KIND_LABELS,
    PATHS,
    _d,
    _i,
    _l,
    _s,
    consumer_label,
    lab_flow_docs,
    last_segment,
    report_kind,
)

PATH_COLOURS: dict[str, str] = {
    "private-endpoint": "#1a7f37",
    "trusted-service": "#b35c00",
    "firewall-rule": "#0969da",
    "public": "#cf222e",
    "denied": "#8250df",
    "unknown": "#6e7781",
}
DISAGREE_COLOUR = "#d1242f"

SOURCE_TITLES: dict[str, str] = {
    "azure-platform": "Microsoft platform",
    "internet": "Internet",
    "customer-public-ip": "Your public IPs",
    "private-unmapped": "Private, unmapped",
    "invalid": "Invalid caller IP",
}
SOURCE_ORDER = ("azure-platform", "internet", "customer-public-ip", "private-unmapped", "invalid")
ALWAYS_SOURCES = ("azure-platform", "internet")
VIA_KINDS = frozenset({"azure-platform", "internet", "customer-public-ip"})

MAX_PER_SUBNET = 40
MAX_DRAWN_REGISTRIES = 200
MAX_DRAWN_CONSUMERS = 1000
"""Past either, the diagram is a summary: one node per consumer kind, one for all the
registries, one edge per kind and path (a layout of thousands of registries takes many seconds
and is not readable); the report says so and its tables still list every flow."""

# layout constants (SVG user units ~ CSS px at scale 1)
M = 16.0
COL_A_W = 330.0
PAD = 8.0
VNET_HEAD = 34.0
SUBNET_HEAD = 30.0
ROW = 30.0
NODE_H = 24.0
LINE = 13.0
GAP_AB = 210.0
COL_B_W = 190.0
GAP_BC = 150.0
REG_W = 300.0
REG_HEAD = 44.0
STATE_LINE = 16.0
PORT_H = 24.0
PORT_H2 = 36.0
PORT_GAP = 6.0
CHAR_W = 0.62  # average glyph width as a fraction of the font size


def fit(text: str, width: float, size: float = 12.0) -> str:
    """``text`` cut with an ellipsis so that it fits ``width`` at font ``size`` (estimate)."""
    text = " ".join(text.split())
    limit = max(4, int(width / (size * CHAR_W)))
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class Box:
    """A drawn rectangle: a group (VNet, subnet), a node (consumer, source, registry) or a port."""

    id: str
    """``data-node-id``: ``vnet:<id>``, ``subnet:<id>``, ``consumer:<id>``, ``source:<kind>``,
    ``registry:<login server>``, ``pe:<id>``, ``port:<registry>:<path>``..."""
    kind: str
    x: float
    y: float
    w: float
    h: float
    title: str
    lines: tuple[str, ...] = ()
    tooltip: str = ""
    badge: str = ""
    path: str = ""
    """For ports: the path they admit."""
    state: str = ""
    """``unused`` (drawn for context, no edge), ``off`` (configured off but used), ``""``."""
    count: int = 0
    parent: str = ""
    filter_label: str = ""
    """For consumers: the consumer as the tables name it, so a click can filter the table."""

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


@dataclass(frozen=True, slots=True)
class Label:
    x: float
    y: float
    lines: tuple[tuple[str, str], ...]
    """(text, css class)."""


@dataclass(frozen=True, slots=True)
class Edge:
    id: str
    path: str
    count: int
    """Events (audit) or pairs (explain) the edge stands for."""
    flows: int
    source: str
    """Node the edge starts at (consumer, unattributed or source node)."""
    registry: str
    """Registry node."""
    port: str
    via: str
    d: str
    width: float
    disagrees: bool
    expected: tuple[str, ...]
    predicted: bool
    consumer_label: str
    registry_label: str
    label: Label
    tooltip: str


@dataclass(frozen=True, slots=True)
class Diagram:
    width: float
    height: float
    groups: tuple[Box, ...]
    nodes: tuple[Box, ...]
    ports: tuple[Box, ...]
    edges: tuple[Edge, ...]
    notes: tuple[str, ...]
    predicted: bool
    """True when the edges are predictions (explain), not observations."""
    summary: str = ""
    """Set when the diagram sums up too many registries or consumers to draw one by one: the
    sentence that says so (also in ``notes``)."""

    def edges_by_path(self) -> dict[str, int]:
        return dict(Counter(e.path for e in self.edges))


# ------------------------------------------------------------------------ gathering
@dataclass
class _Acc:
    source: str
    registry: str
    path: str
    count: int = 0
    flows: int = 0
    expected: set[str] = field(default_factory=set)
    rules: set[str] = field(default_factory=set)
    disagrees: bool = False
    predicted: bool = False
    via: Counter[str] = field(default_factory=Counter)
    vnets: Counter[str] = field(default_factory=Counter)
    table_consumers: set[str] = field(default_factory=set)
    """The consumer as the tables name it (``report_view.consumer_label``), for filtering."""
    table_registries: set[str] = field(default_factory=set)


@dataclass
class _Consumer:
    id: str
    """Node id."""
    raw: str
    """The consumer's resource ID as the document spells it ("" for pseudo nodes)."""
    kind: str
    name: str
    subnet: str = ""
    events: int = 0
    table_label: str = ""


@dataclass
class _Source:
    kind: str
    tags: Counter[str] = field(default_factory=Counter)
    ips: Counter[str] = field(default_factory=Counter)
    events: int = 0


@dataclass
class _Registry:
    key: str
    label: str
    net: Mapping[str, Any] | None
    lines: tuple[str, ...] = ()
    """A summary node's own state lines (``_summarise``)."""


class _Gather:
    """Everything the layout needs, read from the document."""

    def __init__(self, doc: Mapping[str, Any], network: Mapping[str, Any] | None) -> None:
        net = network if network is not None else _d(doc.get("network")) or None
        self.has_network = net is not None
        net = net or {}
        self.net_registries = [_d(r) for r in _l(net.get("registries"))]
        self.net_subnets = {_s(s.get("id")).lower(): s
                            for s in (_d(x) for x in _l(net.get("subnets")))}
        self.net_vnets = {_s(v.get("id")).lower(): v
                          for v in (_d(x) for x in _l(net.get("vnets")))}
        self.net_consumers = {_s(c.get("id")).lower(): c
                              for c in (_d(x) for x in _l(net.get("consumers")))}
        self.reg_index: dict[str, Mapping[str, Any]] = {}
        for r in self.net_registries:
            for key in (_s(r.get("id")), _s(r.get("login_server"))):
                if key:
                    self.reg_index.setdefault(key.lower(), r)
        self.accs: dict[tuple[str, str, str], _Acc] = {}
        self.consumers: dict[str, _Consumer] = {}
        self.unattributed: dict[str, _Consumer] = {}
        self.sources: dict[str, _Source] = {}
        self.registries: dict[str, _Registry] = {}
        self.predicted = False
        self.summary = False
        """True once ``_summarise`` replaced the nodes by one per consumer kind."""
        self.notes: list[str] = []

    # registries -------------------------------------------------------------------
    def registry(self, login_server: str, registry_id: str) -> str:
        """The registry node for a flow or pair: named as the flow names it (its login server,
        else the name in its resource ID), with the inventory's configuration matched by login
        server, else by resource ID."""
        label = login_server or last_segment(registry_id) or "registry (unnamed)"
        net = None
        for key in (login_server, registry_id):
            if key and key.lower() in self.reg_index:
                net = self.reg_index[key.lower()]
                break
        node = "registry:" + label.lower()
        if node not in self.registries:
            self.registries[node] = _Registry(node, label, net)
        return node

    # nodes ------------------------------------------------------------------------
    def consumer(self, cid: str, kind: str, source: Mapping[str, Any]) -> str:
        key = cid.lower()
        node = self.consumers.get(key)
        if node is None:
            netc = self.net_consumers.get(key)
            subnets = [_s(s).lower() for s in _l(netc.get("subnet_ids"))] if netc else []
            name = _s(netc.get("name")) if netc else ""
            kind = (_s(netc.get("kind")) if netc else "") or kind or "unknown"
            node = _Consumer("consumer:" + key, cid, kind, name or last_segment(cid) or cid,
                             subnets[0] if subnets else "")
            self.consumers[key] = node
        if not node.subnet and _s(source.get("kind")) == "subnet" and source.get("subnet_id"):
            node.subnet = _s(source.get("subnet_id")).lower()
        return node.id

    def unattributed_in(self, subnet_id: str, ip: str, candidates: list[str]) -> str:
        key = subnet_id.lower()
        node = self.unattributed.get(key)
        if node is None:
            node = _Consumer("unattributed:" + key, "", "unknown", "unattributed callers", key)
            self.unattributed[key] = node
        if candidates:
            node.name = "unattributed callers (ambiguous)"
        return node.id

    def source(self, kind: str) -> str:
        kind = kind if kind in SOURCE_TITLES else "invalid"
        if kind not in self.sources:
            self.sources[kind] = _Source(kind)
        return "source:" + kind

    # edges --------------------------------------------------------------------------
    def add(self, source: str, registry: str, path: str) -> _Acc:
        path = path if path in PATHS else "unknown"
        key = (source, registry, path)
        acc = self.accs.get(key)
        if acc is None:
            acc = self.accs[key] = _Acc(source, registry, path)
        return acc

    def add_flow(self, f: Mapping[str, Any]) -> None:
        consumer = _d(f.get("consumer"))
        src = _d(f.get("source"))
        src_kind = _s(src.get("kind")) or "invalid"
        ip = _s(src.get("ip")) or _s(f.get("caller_ip"))
        count = _i(f.get("count"))
        cid = _s(consumer.get("id"))
        candidates = [_s(c) for c in _l(consumer.get("candidates"))]
        registry = self.registry(_s(f.get("registry")), _s(f.get("registry_id")))
        via = ""
        if cid:
            start = self.consumer(cid, _s(consumer.get("kind")), src)
            node = self.consumers[cid.lower()]
            node.events += count
            node.table_label = node.table_label or consumer_label(consumer, src)
            if src_kind in VIA_KINDS:
                via = self.source(src_kind)
        elif src_kind == "subnet":  # no subnet id: the address is in subnets of several VNets
            start = self.unattributed_in(_s(src.get("subnet_id")), ip, candidates)
            self.unattributed[_s(src.get("subnet_id")).lower()].events += count
        else:
            start = self.source(src_kind)
        touched = [via or start] if (via or start).startswith("source:") else []
        for sid in touched:
            s = self.sources[sid.split(":", 1)[1]]
            s.events += count
            if src.get("service_tag"):
                s.tags[_s(src.get("service_tag"))] += count
            if ip:
                s.ips[ip] += count
        acc = self.add(start, registry, _s(f.get("path")))
        acc.count += count
        acc.flows += 1
        acc.table_consumers.add(consumer_label(consumer, src))
        acc.table_registries.add(_s(f.get("registry")) or last_segment(_s(f.get("registry_id"))))
        if via:
            acc.via[via] += count
        if src.get("vnet_id"):
            acc.vnets[_s(src.get("vnet_id")).lower()] += count
        if f.get("agrees") is False:
            acc.disagrees = True
            if f.get("expected_path"):
                acc.expected.add(_s(f.get("expected_path")))
            if f.get("expected_rule"):
                acc.rules.add(_s(f.get("expected_rule")))

    def add_pair(self, p: Mapping[str, Any]) -> None:
        consumer = _d(p.get("consumer"))
        reg = _d(p.get("registry"))
        registry = self.registry(_s(reg.get("login_server")), _s(reg.get("id")))
        cid = _s(consumer.get("id"))
        observed = _s(p.get("observed_path"))
        path = observed or _s(p.get("expected_path") or p.get("path"))
        if not observed:
            self.predicted = True
        start = self.consumer(cid, _s(consumer.get("kind")), {}) if cid else self.source("invalid")
        if cid:
            node = self.consumers[cid.lower()]
            node.table_label = node.table_label or consumer_label(consumer)
        acc = self.add(start, registry, path)
        acc.count += 1
        acc.flows += 1
        acc.table_consumers.add(consumer_label(consumer))
        acc.table_registries.add(_s(reg.get("login_server")) or last_segment(_s(reg.get("id"))))
        acc.predicted = not observed
        if path == "trusted-service" and cid:
            acc.via[self.source("azure-platform")] += 1
        if p.get("rule"):
            acc.rules.add(_s(p.get("rule")))
        if p.get("agrees") is False and observed:
            acc.disagrees = True
            if p.get("expected_path"):
                acc.expected.add(_s(p.get("expected_path")))


def _gather(doc: Mapping[str, Any], network: Mapping[str, Any] | None) -> _Gather:
    g = _Gather(doc, network)
    flows = lab_flow_docs(doc) if report_kind(doc) == "lab" else _l(doc.get("flows"))
    pairs = _l(doc.get("pairs"))
    if not flows and not pairs:
        # a lab (or other) document may carry an audit of its own
        nested = _d(doc.get("audit"))
        flows = _l(nested.get("flows"))
        if not g.has_network and nested.get("network"):
            g = _Gather(doc, _d(nested.get("network")))
    for f in flows:
        g.add_flow(_d(f))
    if not flows:
        for p in pairs:
            g.add_pair(_d(p))
    for s in ALWAYS_SOURCES:
        g.source(s)
    if not g.accs:
        for r in g.net_registries:
            g.registry(_s(r.get("login_server")), _s(r.get("id")))
    if not g.has_network:
        g.notes.append(
            "This report carries no inventory: the registry's firewall state, its private "
            "endpoints and the consumers' subnets are not known, so only what the logs say is "
            "drawn (pass --inventory to see them)."
        )
    return g


# --------------------------------------------------------------------------- layout
def _port_label_pe(pe: Mapping[str, Any], subnets: Mapping[str, Mapping[str, Any]]) -> tuple[
        str, str]:
    name = _s(pe.get("name")) or last_segment(_s(pe.get("id")))
    ips = ", ".join(_s(x) for x in _l(pe.get("private_ips"))[:2])
    subnet_id = _s(pe.get("subnet_id")).lower()
    sub = subnets.get(subnet_id)
    sub_name = _s(sub.get("name")) if sub else last_segment(subnet_id)
    vnet = last_segment(_s(pe.get("vnet_id")))
    where = "/".join(x for x in (vnet, sub_name) if x)
    status = _s(pe.get("status"))
    detail = " · ".join(x for x in (ips, where, status) if x)
    return f"private endpoint {name}", detail


def _registry_state(reg: _Registry) -> tuple[list[str], dict[str, bool | None]]:
    """Lines describing the firewall, and which ways in are configured open."""
    net = reg.net
    if reg.lines:
        return list(reg.lines), {"trusted-service": None, "firewall-rule": None, "public": None}
    if net is None:
        return (["network configuration not in this report"],
                {"trusted-service": None, "firewall-rule": None, "public": None})
    pna = _s(net.get("public_network_access"))
    action = _s(net.get("default_action"))
    bypass = _s(net.get("bypass"))
    rules = _l(net.get("ip_rules"))
    pes = _l(net.get("private_endpoints"))
    sku = _s(net.get("sku")) or "SKU ?"
    trusted: bool | None = (bypass.lower() == "azureservices") if bypass else None
    has_config = bool(pna or action or bypass)
    disabled = pna.lower() == "disabled"
    open_all: bool | None = (not disabled and action.lower() in ("allow", "")) if has_config \
        else None
    lines = [
        f"{sku} · public network access {pna or '?'}",
        f"default action {action or '?'} · {len(rules)} IP rule(s)"
        + (" (not applied)" if disabled and rules else ""),
        "trusted services " + {True: "allowed (AzureServices)", False: "not allowed (None)",
                               None: "unknown"}[trusted],
        f"{len(pes)} private endpoint(s)",
    ]
    configured = {
        "trusted-service": trusted,
        "firewall-rule": bool(rules) and not disabled,
        "public": open_all,
    }
    return lines, configured


PORT_TEXT = {
    "private-endpoint": "private endpoint (not in inventory)",
    "trusted-service": "trusted-services bypass",
    "firewall-rule": "IP rules",
    "public": "public endpoint (all networks)",
    "denied": "refused (401/403)",
    "unknown": "path unknown",
}


def _bezier_points(x0: float, y0: float, x1: float, y1: float) -> tuple[float, ...]:
    dx = max(30.0, (x1 - x0) * 0.5)
    return (x0, y0, x0 + dx, y0, x1 - dx, y1, x1, y1)


def _bezier(x0: float, y0: float, x1: float, y1: float) -> str:
    _, _, ax, ay, bx, by, _, _ = _bezier_points(x0, y0, x1, y1)
    return f"C{ax:.1f},{ay:.1f} {bx:.1f},{by:.1f} {x1:.1f},{y1:.1f}"


def _sample(points: tuple[float, ...], steps: int = 48) -> list[tuple[float, float]]:
    x0, y0, ax, ay, bx, by, x1, y1 = points
    out = []
    for k in range(steps + 1):
        t = k / steps
        u = 1 - t
        out.append((u ** 3 * x0 + 3 * u * u * t * ax + 3 * u * t * t * bx + t ** 3 * x1,
                    u ** 3 * y0 + 3 * u * u * t * ay + 3 * u * t * t * by + t ** 3 * y1))
    return out


def _spread(n: int, i: int, top: float, height: float, margin: float = 4.0) -> float:
    if n <= 1:
        return top + height / 2
    usable = max(0.0, height - 2 * margin)
    return top + margin + usable * i / (n - 1)


def _width(count: int) -> float:
    return round(1.5 + min(6.5, 1.4 * math.log2(1 + max(count, 0))), 2)


def _label_lines(acc: _Acc) -> list[tuple[str, str]]:
    if acc.predicted:
        lines = [(f"predicted {acc.path}", "pp-l-" + acc.path)]
    else:
        lines = [(f"{acc.count:,}× {acc.path}", "pp-l-" + acc.path)]
    if acc.disagrees:
        expected = ", ".join(sorted(acc.expected)) or "another path"
        lines.append((f"≠ expected {expected}", "pp-l-disagree"))
    return lines


def _label_width(lines: list[tuple[str, str]]) -> float:
    return max(len(text) for text, _ in lines) * 10.5 * CHAR_W


BADGES: dict[str, str] = {
    "aci": "ACI", "aca": "ACA", "aks": "AKS", "appservice": "APP", "acr-tasks": "TASKS",
    "unknown": "?",
}


@dataclass
class _Port:
    id: str
    path: str
    title: str
    detail: str
    h: float


@dataclass
class _RegLayout:
    reg: _Registry
    lines: list[str]
    ports: list[_Port]
    h: float


class _Layout:
    """The staged layout: column A, registries, direct edges, sources in free space, edges."""

    def __init__(self, g: _Gather) -> None:
        self.g = g
        self.notes: list[str] = list(g.notes)
        self.groups: list[Box] = []
        self.nodes: list[Box] = []
        self.ports: list[Box] = []
        self.node_at: dict[str, Box] = {}
        self.vnet_of: dict[str, str] = {}
        self.by_source: dict[str, list[_Acc]] = defaultdict(list)
        self._index_sources()

    def _index_sources(self) -> None:
        self.by_source.clear()
        for acc in self.accs():
            self.by_source[acc.source].append(acc)

    def accs(self) -> list[_Acc]:
        return sorted(self.g.accs.values(),
                      key=lambda a: (a.source, a.registry, PATHS.index(a.path)))

    def label_lines(self, node_id: str) -> int:
        return sum(len(_label_lines(a)) for a in self.by_source.get(node_id, ()))

    # ---------------------------------------------------------------- column A
    def column_a(self) -> float:
        g = self.g
        placed: dict[str, list[_Consumer]] = defaultdict(list)
        for c in [*g.consumers.values(), *g.unattributed.values()]:
            placed[c.subnet].append(c)
        for subnet in sorted(placed):
            members = placed[subnet]
            members.sort(key=lambda c: (c.id.startswith("unattributed:"), c.kind, c.name.lower(),
                                        c.id))
            if len(members) > MAX_PER_SUBNET:
                keep = sorted(members, key=lambda c: (-c.events, c.id))[: MAX_PER_SUBNET - 1]
                keep_ids = {c.id for c in keep}
                rest = [c for c in members if c.id not in keep_ids]
                more = _Consumer(f"more:{subnet}", "", "unknown", f"+{len(rest)} more consumers",
                                 subnet, sum(c.events for c in rest))
                _fold(g, {c.id for c in rest}, more.id)
                members[:] = [c for c in members if c.id in keep_ids] + [more]
                self.notes.append(f"{len(rest)} consumers in {last_segment(subnet) or 'no subnet'}"
                                  " are folded into one node; the table lists them all.")
        self._index_sources()
        self.has_a = bool(placed)
        if not self.has_a:
            return M
        for subnet in placed:
            if not subnet:
                continue
            net_sub = g.net_subnets.get(subnet)
            vnet = _s(net_sub.get("vnet_id")).lower() if net_sub else ""
            if not vnet and "/subnets/" in subnet:
                vnet = subnet.split("/subnets/", 1)[0]
            self.vnet_of[subnet] = vnet
        vnets: dict[str, list[str]] = defaultdict(list)
        for subnet, vnet in self.vnet_of.items():
            vnets[vnet].append(subnet)
        y = M
        for vid in sorted(vnets, key=lambda v: (self.vnet_name(v).lower(), v)):
            vnet_index = len(self.groups)
            vtop = y
            y += VNET_HEAD
            gx = M + PAD
            for sid in sorted(vnets[vid], key=lambda s: (self.subnet_name(s).lower(), s)):
                sub_index = len(self.groups)
                stop = y
                y += SUBNET_HEAD
                y = self.members(placed[sid], gx + PAD, COL_A_W - 4 * PAD, "subnet:" + sid, y)
                y += PAD
                net_sub = g.net_subnets.get(sid)
                prefixes = ", ".join(_s(p) for p in _l(net_sub.get("prefixes"))) if net_sub \
                    else ""
                deleg = ", ".join(_s(d).split("/")[0].removeprefix("Microsoft.")
                                  for d in _l(net_sub.get("delegations"))) if net_sub else ""
                sub_line = " · ".join(x for x in (prefixes, f"delegated to {deleg}" if deleg
                                                  else "") if x)
                self.groups.insert(sub_index, Box(
                    "subnet:" + sid, "subnet", gx, stop, COL_A_W - 2 * PAD, y - stop,
                    fit(f"subnet {self.subnet_name(sid)}", COL_A_W - 4 * PAD, 12.5),
                    (fit(sub_line, COL_A_W - 4 * PAD, 10),) if sub_line else (),
                    tooltip=f"{sid}\n{sub_line}".strip(), parent="vnet:" + vid))
                y += PAD
            v = g.net_vnets.get(vid)
            vprefix = ", ".join(_s(p) for p in _l(v.get("address_prefixes"))) if v else ""
            self.groups.insert(vnet_index, Box(
                "vnet:" + vid, "vnet", M, vtop, COL_A_W, y - vtop,
                fit(f"VNet {self.vnet_name(vid)}", COL_A_W - 2 * PAD, 12.5),
                (fit(vprefix, COL_A_W - 2 * PAD, 10),) if vprefix else (),
                tooltip=f"{vid}\n{vprefix}".strip()))
            y += 14
        if placed.get(""):
            index = len(self.groups)
            gtop = y
            y += SUBNET_HEAD
            y = self.members(placed[""], M + PAD, COL_A_W - 2 * PAD, "group:outside", y)
            y += PAD
            self.groups.insert(index, Box(
                "group:outside", "outside", M, gtop, COL_A_W, y - gtop,
                "consumers, by kind" if g.summary else "no VNet, or its subnet is not known", (),
                tooltip="consumers with no subnet in the inventory (not in a VNet, or not "
                        "inventoried)"))
            y += 14
        return y

    def vnet_name(self, vid: str) -> str:
        v = self.g.net_vnets.get(vid)
        return (_s(v.get("name")) if v else "") or last_segment(vid) or "VNet"

    def subnet_name(self, sid: str) -> str:
        s = self.g.net_subnets.get(sid)
        return (_s(s.get("name")) if s else "") or last_segment(sid) or "subnet"

    def members(self, members: list[_Consumer], x: float, w: float, parent: str,
                y: float) -> float:
        for c in members:
            h = max(NODE_H, LINE * self.label_lines(c.id) + 6)
            pseudo = not c.id.startswith("consumer:")
            badge = "?" if pseudo else BADGES.get(c.kind, c.kind.upper()[:5])
            kind_label = KIND_LABELS.get(c.kind, c.kind)
            filter_label = c.table_label if c.raw else ""
            tooltip = "\n".join(x for x in (f"{kind_label} {c.name}" if not pseudo else c.name,
                                            c.raw, f"{c.events:,} event(s)") if x)
            box = Box(c.id, "unattributed" if pseudo else "consumer", x, y + 3, w, h,
                      fit(c.name, w - 56), (), tooltip=tooltip, badge=badge, count=c.events,
                      parent=parent, filter_label=filter_label)
            self.nodes.append(box)
            self.node_at[c.id] = box
            y += h + 6
        return y

    # ---------------------------------------------------------------- registries
    def registry_layouts(self) -> list[_RegLayout]:
        used_paths: dict[str, set[str]] = defaultdict(set)
        for acc in self.g.accs.values():
            used_paths[acc.registry].add(acc.path)
        self.used_paths = used_paths
        out: list[_RegLayout] = []
        for key in sorted(self.g.registries):
            reg = self.g.registries[key]
            state_lines, configured = _registry_state(reg)
            ports: list[_Port] = []
            pes = [_d(p) for p in _l(reg.net.get("private_endpoints"))] if reg.net else []
            for pe in pes:
                title, detail = _port_label_pe(pe, self.g.net_subnets)
                ports.append(_Port("pe:" + _s(pe.get("id")).lower(), "private-endpoint", title,
                                   detail, PORT_H2))
            used = used_paths.get(key, set())
            if "private-endpoint" in used and not pes:
                ports.append(_Port(f"port:{key}:private-endpoint", "private-endpoint",
                                   "private endpoints" if reg.lines
                                   else PORT_TEXT["private-endpoint"], "", PORT_H))
            for path in ("trusted-service", "firewall-rule", "public", "denied", "unknown"):
                on = configured.get(path)
                if path not in used and not on:
                    continue
                detail = ""
                if path == "trusted-service" and on is False:
                    detail = "configured off, yet used"
                if path == "firewall-rule" and reg.net:
                    rules = [_s(r) for r in _l(reg.net.get("ip_rules"))]
                    detail = ", ".join(rules[:3]) + (f" +{len(rules) - 3}" if len(rules) > 3
                                                     else "")
                ports.append(_Port(f"port:{key}:{path}", path, PORT_TEXT[path], detail,
                                   PORT_H2 if detail else PORT_H))
            h = (REG_HEAD + STATE_LINE * len(state_lines) + 10
                 + sum(p.h + PORT_GAP for p in ports) + 6)
            out.append(_RegLayout(reg, state_lines, ports, h))
        return out

    def place_registries(self, layouts: list[_RegLayout], x: float, top: float) -> None:
        y = top
        for lay in layouts:
            reg = lay.reg
            lines = tuple(fit(s, REG_W - 16, 10.5) for s in lay.lines)
            net_name = _s(reg.net.get("name")) if reg.net else ""
            tooltip = "\n".join(x for x in (reg.label, _s(reg.net.get("id")) if reg.net else "",
                                            *lay.lines) if x)
            box = Box(reg.key, "registry", x, y, REG_W, lay.h, fit(reg.label, REG_W - 16, 12.5),
                      lines, tooltip=tooltip, badge=net_name,
                      count=sum(a.count for a in self.g.accs.values() if a.registry == reg.key))
            self.nodes.append(box)
            self.node_at[reg.key] = box
            py = y + REG_HEAD + STATE_LINE * len(lay.lines) + 10
            for port in lay.ports:
                state = "" if port.path in self.used_paths.get(reg.key, set()) else "unused"
                if port.path == "trusted-service" and port.detail.startswith("configured off"):
                    state = "off"
                pbox = Box(port.id, "port", x + 8, py, REG_W - 16, port.h,
                           fit(port.title, REG_W - 32, 11),
                           (fit(port.detail, REG_W - 32, 10),) if port.detail else (),
                           tooltip=f"{port.title}\n{port.detail}".strip(), path=port.path,
                           state=state, parent=reg.key,
                           count=sum(a.count for a in self.g.accs.values()
                                     if a.registry == reg.key and a.path == port.path))
                self.ports.append(pbox)
                py += port.h + PORT_GAP
            y += lay.h + 24

    def port_for(self, acc: _Acc) -> Box:
        reg_ports = [p for p in self.ports if p.parent == acc.registry and p.path == acc.path]
        if acc.path == "private-endpoint" and len(reg_ports) > 1:
            node = self.node_at.get(acc.source)
            vnet = ""
            if node is not None and node.parent.startswith("subnet:"):
                vnet = self.vnet_of.get(node.parent.split(":", 1)[1], "")
            vnet = vnet or (acc.vnets.most_common(1)[0][0] if acc.vnets else "")
            for p in reg_ports:
                if vnet and p.id.startswith("pe:") and _pe_vnet(self.g, acc.registry,
                                                                  p.id) == vnet:
                    return p
        return reg_ports[0]

    # ---------------------------------------------------------------- sources
    def source_specs(self) -> list[tuple[str, float, tuple[str, ...], str, str]]:
        g = self.g
        specs = []
        via_used = {v for a in g.accs.values() for v in a.via}
        for kind in [k for k in SOURCE_ORDER if k in g.sources]:
            s = g.sources[kind]
            node_id = "source:" + kind
            details: list[str] = []
            if s.tags:
                top = [t for t, _ in sorted(s.tags.items(), key=lambda kv: (-kv[1], kv[0]))]
                details.append(fit("tags: " + ", ".join(top[:2])
                                   + (f" +{len(top) - 2}" if len(top) > 2 else ""),
                                   COL_B_W - 16, 10))
            if s.ips:
                ips = [ip for ip, _ in sorted(s.ips.items(), key=lambda kv: (-kv[1], kv[0]))]
                details.append(fit(", ".join(ips[:2]) + (f" +{len(ips) - 2}" if len(ips) > 2
                                                         else ""), COL_B_W - 16, 10))
            used = s.events > 0 or node_id in via_used or node_id in self.by_source
            if not used:
                details.append("no pulls seen from here")
            h = max(28.0 + LINE * len(details), LINE * self.label_lines(node_id) + 6)
            tooltip = "\n".join([SOURCE_TITLES[kind],
                                 *(f"{t} ({n:,})" for t, n in sorted(s.tags.items())),
                                 *(f"{ip} ({n:,})" for ip, n in sorted(s.ips.items())[:20])])
            specs.append((node_id, h, tuple(details), "" if used else "unused", tooltip))
        return specs

    def place_sources(self, specs: list[tuple[str, float, tuple[str, ...], str, str]],
                      x: float, blocked: list[float], lowest: float) -> float:
        """Put each source node where no direct edge crosses the column, as near as possible to
        the consumers that reach it; returns the lowest bottom."""
        taken: list[tuple[float, float]] = []
        bottom = lowest
        total = sum(h for _, h, _, _, _ in specs) + 22 * len(specs)
        limit = max(lowest, M) + total
        for node_id, h, details, state, tooltip in specs:
            wants = [self.node_at[a.source].cy for a in self.g.accs.values()
                     if node_id in a.via and a.source in self.node_at]
            desired = sum(wants) / len(wants) if wants else (M + lowest) / 2
            best: tuple[float, float] | None = None
            top = M
            while top <= limit:
                lo, hi = top - 8, top + h + 8
                if not any(lo < t_hi + 14 and t_lo - 14 < hi for t_lo, t_hi in taken):
                    crossings = sum(1 for yb in blocked if lo <= yb <= hi)
                    cost = crossings * 1000 + abs(top + h / 2 - desired)
                    if best is None or cost < best[0]:
                        best = (cost, top)
                top += 4
            y = best[1] if best is not None else limit
            taken.append((y, y + h))
            kind = node_id.split(":", 1)[1]
            box = Box(node_id, "source", x, y, COL_B_W, h, SOURCE_TITLES[kind], details,
                      tooltip=tooltip, state=state, count=self.g.sources[kind].events)
            self.nodes.append(box)
            self.node_at[node_id] = box
            bottom = max(bottom, y + h)
        return bottom


def _start_points(box: Box, accs: list[_Acc]) -> tuple[list[float], list[Label]]:
    """Where each edge leaves ``box`` and its label: labels stacked on the right of the node,
    each edge running just under its own first label line."""
    all_lines = [_label_lines(a) for a in accs]
    total = sum(len(x) for x in all_lines)
    block_top = box.cy - LINE * total / 2
    ys: list[float] = []
    labels: list[Label] = []
    cum = 0
    for lines in all_lines:
        baseline = block_top + LINE * cum + 9.5
        labels.append(Label(box.x + box.w + 6, baseline, tuple(lines)))
        ys.append(baseline + 3)
        cum += len(lines)
    return ys, labels


def build_diagram(doc: Mapping[str, Any], network: Mapping[str, Any] | None = None) -> Diagram:
    """Lay out the diagram for a report document (deterministic: same input, same picture)."""
    g = _gather(doc, network)
    summary = _summarise(g)
    lay = _Layout(g)
    a_bottom = lay.column_a()
    b_x = M + (COL_A_W + GAP_AB if lay.has_a else 0.0)
    c_x = b_x + COL_B_W + GAP_BC
    reg_layouts = lay.registry_layouts()
    c_total = sum(r.h for r in reg_layouts) + 24 * max(0, len(reg_layouts) - 1)
    a_h = a_bottom - M
    lay.place_registries(reg_layouts, c_x, M + max(0.0, (a_h - c_total) / 2))
    c_bottom = M + max(a_h, c_total)

    # edges that start in column A and go straight to a registry: where they cross column B
    starts: dict[tuple[str, str, str], tuple[float, Label]] = {}
    for node_id, accs in lay.by_source.items():
        box = lay.node_at.get(node_id)
        if box is None:
            continue
        ys, labels = _start_points(box, accs)
        for acc, y0, label in zip(accs, ys, labels, strict=True):
            starts[(acc.source, acc.registry, acc.path)] = (y0, label)
    ends: dict[tuple[str, str, str], Box] = {}
    for acc in g.accs.values():
        ends[(acc.source, acc.registry, acc.path)] = lay.port_for(acc)
    in_order: dict[tuple[str, str], list[tuple[str, str, str]]] = defaultdict(list)
    for key, port in ends.items():
        in_order[(port.parent, port.id)].append(key)
    blocked: list[float] = []
    for key, (y0, label) in starts.items():
        acc = g.accs[key]
        if acc.via or key[0].startswith("source:"):
            continue
        box = lay.node_at[key[0]]
        port = ends[key]
        run = box.x + box.w + min(GAP_AB - 40, _label_width(list(label.lines)) + 14)
        for xb, yb in _sample(_bezier_points(run, y0, port.x, port.cy)):
            if b_x - 10 <= xb <= b_x + COL_B_W + 10:
                blocked.append(yb)
    b_bottom = lay.place_sources(lay.source_specs(), b_x, blocked, c_bottom)
    # sources placed: their own edges' starts
    for node_id, accs in lay.by_source.items():
        if not node_id.startswith("source:"):
            continue
        ys, labels = _start_points(lay.node_at[node_id], accs)
        for acc, y0, label in zip(accs, ys, labels, strict=True):
            starts[(acc.source, acc.registry, acc.path)] = (y0, label)

    # fan-in at each port and through each via node, ordered by where the edges come from
    end_y: dict[tuple[str, str, str], float] = {}
    for keys in in_order.values():
        keys.sort(key=lambda k: (starts[k][0] if k in starts else 0.0, k))
        port = ends[keys[0]]
        for k, key in enumerate(keys):
            end_y[key] = _spread(len(keys), k, port.y, port.h)
    via_keys: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for key, acc in g.accs.items():
        if acc.via:
            via_keys[acc.via.most_common(1)[0][0]].append(key)
    via_y: dict[tuple[str, str, str], float] = {}
    for vid, keys in via_keys.items():
        keys.sort(key=lambda k: (starts[k][0] if k in starts else 0.0, k))
        vbox = lay.node_at[vid]
        for k, key in enumerate(keys):
            via_y[key] = _spread(len(keys), k, vbox.y, vbox.h, margin=6.0)

    edges: list[Edge] = []
    for n, acc in enumerate(lay.accs()):
        key = (acc.source, acc.registry, acc.path)
        start = lay.node_at.get(acc.source)
        if start is None or key not in starts:
            continue
        y0, label = starts[key]
        port = ends[key]
        x0 = start.x + start.w
        run = x0 + min((GAP_AB if start.kind != "source" else GAP_BC) - 40,
                       _label_width(list(label.lines)) + 14)
        x1, y1 = port.x, end_y[key]
        via = lay.node_at.get(acc.via.most_common(1)[0][0]) if acc.via else None
        if via is not None:
            vy = via_y[key]
            d = (f"M{x0:.1f},{y0:.1f} H{run:.1f} {_bezier(run, y0, via.x, vy)} "
                 f"L{via.x + via.w:.1f},{vy:.1f} {_bezier(via.x + via.w, vy, x1, y1)}")
        else:
            d = f"M{x0:.1f},{y0:.1f} H{run:.1f} {_bezier(run, y0, x1, y1)}"
        reg_label = g.registries[acc.registry].label
        start_label = start.title if start.kind != "consumer" else f"{start.badge} {start.title}"
        what = (f"predicted {acc.path}" if acc.predicted else
                f"{acc.path}: {acc.count:,} event(s) in {acc.flows:,} flow(s)")
        tip = [f"{start_label} → {reg_label}", what]
        if via is not None:
            tip.append(f"via {via.title}")
        if acc.disagrees:
            tip.append("≠ expected " + (", ".join(sorted(acc.expected)) or "another path"))
        if acc.rules:
            tip.append("rule: " + ", ".join(sorted(acc.rules)))
        edges.append(Edge(
            id=f"e{n}", path=acc.path, count=acc.count, flows=acc.flows, source=start.id,
            registry=acc.registry, port=port.id, via=via.id if via is not None else "", d=d,
            width=_width(acc.count), disagrees=acc.disagrees, expected=tuple(sorted(acc.expected)),
            predicted=acc.predicted,
            consumer_label=next(iter(acc.table_consumers)) if len(acc.table_consumers) == 1
            else "",
            registry_label=(next(iter(acc.table_registries)) if len(acc.table_registries) == 1
                            else reg_label),
            label=label, tooltip="\n".join(tip),
        ))
    # thick edges first so thin ones stay visible on top
    edges.sort(key=lambda e: (-e.width, e.id))
    height = max(a_bottom, c_bottom, b_bottom) + M
    return Diagram(
        width=round(c_x + REG_W + M, 1),
        height=round(height, 1),
        groups=tuple(lay.groups),
        nodes=tuple(lay.nodes),
        ports=tuple(lay.ports),
        edges=tuple(edges),
        notes=tuple(lay.notes),
        predicted=g.predicted,
        summary=summary,
    )


def _pe_vnet(g: _Gather, registry: str, pe_node: str) -> str:
    reg = g.registries.get(registry)
    if reg is None or reg.net is None:
        return ""
    for pe in (_d(p) for p in _l(reg.net.get("private_endpoints"))):
        if "pe:" + _s(pe.get("id")).lower() == pe_node:
            return _s(pe.get("vnet_id")).lower()
    return ""


def _summarise(g: _Gather) -> str:
    """Past ``MAX_DRAWN_REGISTRIES`` registries or ``MAX_DRAWN_CONSUMERS`` consumers: one node
    per consumer kind (and one for unattributed callers in subnets), one node for all the
    registries, their edges summed by path; returns the sentence that says so ("" when the
    diagram is drawn in full). Linear in the flows."""
    registries = len(g.registries)
    consumers = len(g.consumers) + len(g.unattributed)
    if registries <= MAX_DRAWN_REGISTRIES and consumers <= MAX_DRAWN_CONSUMERS:
        return ""
    kinds: dict[str, _Consumer] = {}
    node_of: dict[str, str] = {}
    for c in [*g.consumers.values(), *g.unattributed.values()]:
        kind = "unattributed" if c.id.startswith("unattributed:") else c.kind
        node = kinds.get(kind)
        if node is None:  # the badge says the kind
            name = "unattributed callers in subnets" if kind == "unattributed" else "consumers"
            node_id = ("unattributed:(all)" if kind == "unattributed"
                       else f"consumer:(kind){kind}")
            node = kinds[kind] = _Consumer(node_id, "", kind, name)
        node.events += c.events
        node_of[c.id] = node.id
    counts = Counter(node_of.values())
    for node in kinds.values():
        if not node.id.startswith("unattributed:"):
            node.name = f"{counts[node.id]:,} {node.name}"
    key = "registry:(all)"
    nets = [r.net for r in g.registries.values()]
    known = [n for n in nets if n is not None]
    closed = sum(1 for n in known if _s(n.get("public_network_access")).lower() == "disabled"
                 or _s(n.get("default_action")).lower() == "deny")
    with_pe = sum(1 for n in known if _l(n.get("private_endpoints")))
    lines = (f"{closed:,} restricted, {len(known) - closed:,} open to all networks",
             f"{with_pe:,} with private endpoint(s)",
             f"{len(nets) - len(known):,} without configuration in this report")
    g.registries = {key: _Registry(key, f"{registries:,} registries", None, lines)}
    old = list(g.accs.values())
    g.accs = {}
    for acc in old:
        _absorb(g.add(node_of.get(acc.source, acc.source), key, acc.path), acc)
    g.consumers = {n.id: n for n in kinds.values() if not n.id.startswith("unattributed:")}
    g.unattributed = {n.id: n for n in kinds.values() if n.id.startswith("unattributed:")}
    said = (f"{registries:,} registries and {consumers:,} consumers are too many to draw one by "
            f"one (more than {MAX_DRAWN_REGISTRIES} registries or {MAX_DRAWN_CONSUMERS} "
            "consumers): this diagram sums them up, one node per consumer kind and one edge per "
            "path; the tables list every flow.")
    g.notes.append(said)
    g.summary = True
    return said


def _fold(g: _Gather, members: set[str], into: str) -> None:
    """Merge the edges of ``members`` into edges of node ``into`` (same registry and path)."""
    for acc in [a for a in g.accs.values() if a.source in members]:
        del g.accs[(acc.source, acc.registry, acc.path)]
        _absorb(g.add(into, acc.registry, acc.path), acc)


def _absorb(target: _Acc, acc: _Acc) -> None:
    """Add ``acc``'s events, flows and marks to ``target`` (edges merged into one)."""
    target.count += acc.count
    target.flows += acc.flows
    target.expected |= acc.expected
    target.rules |= acc.rules
    target.disagrees = target.disagrees or acc.disagrees
    target.predicted = acc.predicted
    target.via.update(acc.via)
    target.vnets.update(acc.vnets)
    target.table_consumers |= acc.table_consumers
    target.table_registries |= acc.table_registries


# --------------------------------------------------------------------------- mermaid
_MERMAID_SAFE = re.compile(r"[A-Za-z0-9 .,:/_@+=()-]")


def mermaid_text(value: str, limit: int = 60) -> str:
    """Text for a quoted Mermaid label: every character outside a small safe set becomes a
    Mermaid entity code (``#60;``), so quotes, brackets, pipes, backticks, ``<``/``>`` and
    newlines in the input can neither end the label nor inject markup."""
    text = " ".join(value.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return "".join(ch if _MERMAID_SAFE.fullmatch(ch) else f"#{ord(ch)};" for ch in text)


def diagram_mermaid(diagram: Diagram) -> str:
    """The diagram as a Mermaid ``flowchart LR`` (structure and edges; Mermaid does the layout).

    Node ids are generated (``n0``, ``g0``...), never taken from the input; every label goes
    through :func:`mermaid_text`.
    """
    ids: dict[str, str] = {}

    def nid(node_id: str) -> str:
        if node_id not in ids:
            ids[node_id] = f"n{len(ids)}"
        return ids[node_id]

    out = ["flowchart LR"]
    children: dict[str, list[Box]] = defaultdict(list)
    for grp in diagram.groups:
        children[grp.parent].append(grp)
    for node in diagram.nodes:
        if node.parent:
            children[node.parent].append(node)

    def label_of(box: Box) -> str:
        if box.kind == "consumer":
            return mermaid_text(f"{box.badge} {box.title}")
        return mermaid_text(box.title)

    def emit(box: Box, indent: str) -> None:
        if box.kind in ("vnet", "subnet", "outside"):
            extra = f" {box.lines[0]}" if box.lines else ""
            out.append(f'{indent}subgraph {nid(box.id)}["{mermaid_text(box.title + extra, 80)}"]')
            for child in children.get(box.id, ()):
                emit(child, indent + "  ")
            out.append(f"{indent}end")
        else:
            out.append(f'{indent}{nid(box.id)}["{label_of(box)}"]')

    for grp in diagram.groups:
        if not grp.parent:
            emit(grp, "  ")
    used_sources = {e.source for e in diagram.edges} | {e.via for e in diagram.edges if e.via}
    for node in diagram.nodes:
        if node.kind == "source" and node.id in used_sources:
            out.append(f'  {nid(node.id)}(["{mermaid_text(node.title)}"])')
    ports_of: dict[str, list[Box]] = defaultdict(list)
    for port in diagram.ports:
        ports_of[port.parent].append(port)
    for node in diagram.nodes:
        if node.kind != "registry":
            continue
        state = "<br/>".join(mermaid_text(line, 70) for line in node.lines)
        out.append(f'  {nid(node.id)}[("{mermaid_text(node.title, 70)}<br/>{state}")]')
    links: list[tuple[str, str, str, Edge]] = []
    seen_via: set[tuple[str, str, str]] = set()
    for edge in sorted(diagram.edges, key=lambda e: e.id):
        text = edge.label.lines[0][0]
        if edge.disagrees:
            text += " " + edge.label.lines[1][0]
        if edge.via:
            links.append((nid(edge.source), nid(edge.via), text, edge))
            key = (edge.via, edge.registry, edge.path)
            if key not in seen_via:
                seen_via.add(key)
                links.append((nid(edge.via), nid(edge.registry), edge.path, edge))
        else:
            links.append((nid(edge.source), nid(edge.registry), text, edge))
    styles: list[str] = []
    for n, (a, b, text, edge) in enumerate(links):
        arrow = "-.->" if edge.disagrees or edge.predicted else "-->"
        out.append(f'  {a} {arrow}|"{mermaid_text(text, 70)}"| {b}')
        colour = PATH_COLOURS.get(edge.path, PATH_COLOURS["unknown"])
        width = max(1.5, min(edge.width, 6.0))
        style = f"stroke:{colour},stroke-width:{width:.1f}px"
        if edge.disagrees:
            style += ",stroke-dasharray:6 4"
        styles.append(f"  linkStyle {n} {style}")
    out.extend(styles)
    return "\n".join(out) + "\n"
