"""The diagram's graph: who pulled from which registry by which path, before any geometry.

Built from the report view's typed rows (:class:`~pullpath.formatters.report_view.DiagramInput`):
one node per consumer (unattributed callers in a subnet share one per subnet), per source kind
("Microsoft platform", "Internet"...) and per registry; one :class:`Route` per start node →
registry → path, summing its events. Consumers are grouped by subnet (:class:`SubnetGroup`);
a subnet with more than ``MAX_PER_SUBNET`` consumers folds the rest into one "+N more" node.
Past ``MAX_DRAWN_REGISTRIES`` registries or ``MAX_DRAWN_CONSUMERS`` consumers the graph is a
summary: one node per consumer kind, one for all the registries, one route per kind and path
(:attr:`Graph.summary` says so). Everything returned is frozen; :mod:`.layout` places it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from pullpath.domain.report import RegistryView
from pullpath.formatters.report_view import (
    PATHS,
    DiagramInput,
    FlowRow,
    NetSubnet,
    NetVnet,
    PairRow,
    last_segment,
)

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

NO_INVENTORY_NOTE = (
    "This report carries no inventory: the registry's firewall state, its private "
    "endpoints and the consumers' subnets are not known, so only what the logs say is "
    "drawn (pass --inventory to see them)."
)


# ------------------------------------------------------------------------ the graph
@dataclass(frozen=True, slots=True)
class ConsumerNode:
    """A consumer, the unattributed callers of one subnet, a "+N more" fold or (summary) a
    consumer kind."""

    id: str
    """``consumer:<id>``, ``unattributed:<subnet>``, ``more:<subnet>``, ``consumer:(kind)<k>``."""
    raw: str
    """The consumer's resource ID as the document spells it ("" for the other nodes)."""
    kind: str
    name: str
    subnet: str = ""
    events: int = 0
    table_label: str = ""
    """The consumer as the tables name it (``report_view.consumer_label``), for filtering."""

    @property
    def pseudo(self) -> bool:
        """Not one consumer (unattributed callers, a fold)."""
        return not self.id.startswith("consumer:")


@dataclass(frozen=True, slots=True)
class SourceNode:
    """Where pulls came from when no consumer is known, or the way a consumer's pull left."""

    kind: str
    tags: tuple[tuple[str, int], ...] = ()
    """(service tag, events), in first-seen order."""
    ips: tuple[tuple[str, int], ...] = ()
    events: int = 0


@dataclass(frozen=True, slots=True)
class RegistryNode:
    key: str
    """``registry:<login server or name>``, or ``registry:(all)`` in a summary."""
    label: str
    net: RegistryView | None
    """Its configuration from the ``network`` section (``None``: not in this report)."""
    lines: tuple[str, ...] = ()
    """A summary node's own state lines."""


@dataclass(frozen=True, slots=True)
class Route:
    """One edge of the graph: a start node → a registry → a path, with what it stands for."""

    source: str
    registry: str
    path: str
    count: int
    """Events (audit) or pairs (explain)."""
    flows: int
    expected: frozenset[str] = frozenset()
    rules: frozenset[str] = frozenset()
    disagrees: bool = False
    predicted: bool = False
    via: tuple[str, ...] = ()
    """Source nodes the pull left through, the most used first."""
    vnet: str = ""
    """The VNet most of its callers were in ("" when not known)."""
    table_consumers: frozenset[str] = frozenset()
    table_registries: frozenset[str] = frozenset()

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.source, self.registry, self.path)


@dataclass(frozen=True, slots=True)
class SubnetGroup:
    """The consumers drawn in one subnet ("" for those with no known subnet)."""

    subnet: str
    vnet: str
    members: tuple[ConsumerNode, ...]


@dataclass(frozen=True, slots=True)
class Graph:
    groups: tuple[SubnetGroup, ...]
    """By subnet id; members sorted as drawn."""
    sources: Mapping[str, SourceNode]
    registries: Mapping[str, RegistryNode]
    routes: tuple[Route, ...]
    subnets: Mapping[str, NetSubnet]
    """The inventory's subnets and VNets by lower-case id (names, prefixes, delegations)."""
    vnets: Mapping[str, NetVnet]
    notes: tuple[str, ...]
    predicted: bool
    """True when the routes are predictions (explain), not observations."""
    summary: str = ""
    """The sentence saying the graph sums up too many registries or consumers ("" otherwise)."""

    def pe_vnet(self, registry: str, pe_node: str) -> str:
        """The VNet of the private endpoint drawn as ``pe_node`` of ``registry``."""
        reg = self.registries.get(registry)
        if reg is None or reg.net is None:
            return ""
        for pe in reg.net.private_endpoints:
            if "pe:" + pe.id.lower() == pe_node:
                return pe.vnet_id.lower()
        return ""


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
    table_registries: set[str] = field(default_factory=set)

    def absorb(self, acc: _Acc) -> None:
        """Add ``acc``'s events, flows and marks (edges merged into one)."""
        self.count += acc.count
        self.flows += acc.flows
        self.expected |= acc.expected
        self.rules |= acc.rules
        self.disagrees = self.disagrees or acc.disagrees
        self.predicted = acc.predicted
        self.via.update(acc.via)
        self.vnets.update(acc.vnets)
        self.table_consumers |= acc.table_consumers
        self.table_registries |= acc.table_registries

    def route(self) -> Route:
        return Route(
            self.source, self.registry, self.path, self.count, self.flows,
            frozenset(self.expected), frozenset(self.rules), self.disagrees, self.predicted,
            tuple(v for v, _ in self.via.most_common()),
            self.vnets.most_common(1)[0][0] if self.vnets else "",
            frozenset(self.table_consumers), frozenset(self.table_registries),
        )


@dataclass
class _Source:
    kind: str
    tags: Counter[str] = field(default_factory=Counter)
    ips: Counter[str] = field(default_factory=Counter)
    events: int = 0


class _Gather:
    """Everything the layout needs, read from the rows and the network."""

    def __init__(self, inp: DiagramInput) -> None:
        net = inp.network
        self.has_network = net is not None
        self.net_registries = net.registries if net is not None else ()
        self.net_subnets = {s.id.lower(): s for s in (net.subnets if net is not None else ())}
        self.net_vnets = {v.id.lower(): v for v in (net.vnets if net is not None else ())}
        self.net_consumers = {c.id.lower(): c
                              for c in (net.consumers if net is not None else ())}
        self.reg_index: dict[str, RegistryView] = {}
        for r in self.net_registries:
            for key in (r.id, r.login_server):
                if key:
                    self.reg_index.setdefault(key.lower(), r)
        self.accs: dict[tuple[str, str, str], _Acc] = {}
        self.consumers: dict[str, ConsumerNode] = {}
        """By lower-case resource ID; events are counted in ``events`` and set when frozen."""
        self.unattributed: dict[str, ConsumerNode] = {}
        """By lower-case subnet ID."""
        self.events: Counter[str] = Counter()
        """Events by consumer node id."""
        self.sources: dict[str, _Source] = {}
        self.registries: dict[str, RegistryNode] = {}
        self.predicted = False
        self.notes: list[str] = []

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
            self.registries[node] = RegistryNode(node, label, net)
        return node

    def consumer(self, cid: str, kind: str, table_label: str, subnet_id: str = "") -> str:
        """The consumer's node id. ``subnet_id``: the subnet the flow's source was in, used
        when the inventory has none."""
        key = cid.lower()
        node = self.consumers.get(key)
        if node is None:
            netc = self.net_consumers.get(key)
            subnets = [s.lower() for s in netc.subnet_ids] if netc else []
            name = netc.name if netc else ""
            kind = (netc.kind if netc else "") or kind or "unknown"
            node = ConsumerNode("consumer:" + key, cid, kind, name or last_segment(cid) or cid,
                                subnets[0] if subnets else "")
        if not node.subnet and subnet_id:
            node = replace(node, subnet=subnet_id.lower())
        if not node.table_label:
            node = replace(node, table_label=table_label)
        self.consumers[key] = node
        return node.id

    def unattributed_in(self, subnet_id: str, candidates: tuple[str, ...]) -> str:
        key = subnet_id.lower()
        node = self.unattributed.get(key)
        if node is None:
            node = ConsumerNode("unattributed:" + key, "", "unknown", "unattributed callers", key)
        if candidates:
            node = replace(node, name="unattributed callers (ambiguous)")
        self.unattributed[key] = node
        return node.id

    def source(self, kind: str) -> str:
        kind = kind if kind in SOURCE_TITLES else "invalid"
        if kind not in self.sources:
            self.sources[kind] = _Source(kind)
        return "source:" + kind

    def add(self, source: str, registry: str, path: str) -> _Acc:
        path = path if path in PATHS else "unknown"
        key = (source, registry, path)
        acc = self.accs.get(key)
        if acc is None:
            acc = self.accs[key] = _Acc(source, registry, path)
        return acc

    def add_flow(self, f: FlowRow) -> None:
        src_kind = f.source_kind or "invalid"
        count = f.count
        registry = self.registry(f.login_server, f.registry_id)
        via = ""
        if f.consumer_id:
            start = self.consumer(f.consumer_id, f.consumer_kind, f.consumer,
                                  f.subnet_id if f.source_kind == "subnet" else "")
            self.events[start] += count
            if src_kind in VIA_KINDS:
                via = self.source(src_kind)
        elif src_kind == "subnet":  # no subnet id: the address is in subnets of several VNets
            start = self.unattributed_in(f.subnet_id, f.candidates)
            self.events[start] += count
        else:
            start = self.source(src_kind)
        if (via or start).startswith("source:"):
            s = self.sources[(via or start).split(":", 1)[1]]
            s.events += count
            if f.service_tag:
                s.tags[f.service_tag] += count
            if f.source_ip:
                s.ips[f.source_ip] += count
        acc = self.add(start, registry, f.path)
        acc.count += count
        acc.flows += 1
        acc.table_consumers.add(f.consumer)
        acc.table_registries.add(f.registry)
        if via:
            acc.via[via] += count
        if f.vnet_id:
            acc.vnets[f.vnet_id.lower()] += count
        if f.agrees is False:
            acc.disagrees = True
            if f.expected_path:
                acc.expected.add(f.expected_path)
            if f.expected_rule:
                acc.rules.add(f.expected_rule)

    def add_pair(self, p: PairRow) -> None:
        registry = self.registry(p.login_server, p.registry_id)
        cid = p.consumer_id
        observed = p.observed_path
        path = observed or p.path
        if not observed:
            self.predicted = True
        start = self.consumer(cid, p.consumer_kind, p.consumer) if cid else self.source("invalid")
        acc = self.add(start, registry, path)
        acc.count += 1
        acc.flows += 1
        acc.table_consumers.add(p.consumer)
        acc.table_registries.add(p.registry)
        acc.predicted = not observed
        if path == "trusted-service" and cid:
            acc.via[self.source("azure-platform")] += 1
        if p.rule:
            acc.rules.add(p.rule)
        if p.agrees is False and observed:
            acc.disagrees = True
            if p.expected_path:
                acc.expected.add(p.expected_path)


def build_graph(inp: DiagramInput) -> Graph:
    """The graph of ``inp`` (deterministic: same rows, same graph)."""
    g = _Gather(inp)
    for f in inp.flows:
        g.add_flow(f)
    for p in inp.pairs:
        g.add_pair(p)
    for s in ALWAYS_SOURCES:
        g.source(s)
    if not g.accs:
        for r in g.net_registries:
            g.registry(r.login_server, r.id)
    if not g.has_network:
        g.notes.append(NO_INVENTORY_NOTE)
    summary = _summarise(g)
    groups = _groups(g)
    return Graph(
        groups=groups,
        sources={k: SourceNode(k, tuple(s.tags.items()), tuple(s.ips.items()), s.events)
                 for k, s in g.sources.items()},
        registries=dict(g.registries),
        routes=tuple(acc.route() for acc in g.accs.values()),
        subnets=g.net_subnets,
        vnets=g.net_vnets,
        notes=tuple(g.notes),
        predicted=g.predicted,
        summary=summary,
    )


def _groups(g: _Gather) -> tuple[SubnetGroup, ...]:
    """The consumers by subnet, sorted as drawn; past ``MAX_PER_SUBNET`` in one subnet the
    least active fold into one "+N more" node (their routes merged into its own)."""
    placed: dict[str, list[ConsumerNode]] = defaultdict(list)
    for c in [*g.consumers.values(), *g.unattributed.values()]:
        placed[c.subnet].append(replace(c, events=g.events[c.id]))
    groups: list[SubnetGroup] = []
    for subnet in sorted(placed):
        members = placed[subnet]
        members.sort(key=lambda c: (c.id.startswith("unattributed:"), c.kind, c.name.lower(),
                                    c.id))
        if len(members) > MAX_PER_SUBNET:
            keep = sorted(members, key=lambda c: (-c.events, c.id))[: MAX_PER_SUBNET - 1]
            keep_ids = {c.id for c in keep}
            rest = [c for c in members if c.id not in keep_ids]
            more = ConsumerNode(f"more:{subnet}", "", "unknown", f"+{len(rest)} more consumers",
                                subnet, sum(c.events for c in rest))
            _fold(g, {c.id for c in rest}, more.id)
            members = [c for c in members if c.id in keep_ids] + [more]
            g.notes.append(f"{len(rest)} consumers in {last_segment(subnet) or 'no subnet'}"
                           " are folded into one node; the table lists them all.")
        vnet = ""
        if subnet:
            net_sub = g.net_subnets.get(subnet)
            vnet = net_sub.vnet_id.lower() if net_sub else ""
            if not vnet and "/subnets/" in subnet:
                vnet = subnet.split("/subnets/", 1)[0]
        groups.append(SubnetGroup(subnet, vnet, tuple(members)))
    return tuple(groups)


def _fold(g: _Gather, members: set[str], into: str) -> None:
    """Merge the edges of ``members`` into edges of node ``into`` (same registry and path)."""
    for acc in [a for a in g.accs.values() if a.source in members]:
        del g.accs[(acc.source, acc.registry, acc.path)]
        g.add(into, acc.registry, acc.path).absorb(acc)


# ------------------------------------------------------------------------ summary mode
def _summarise(g: _Gather) -> str:
    """Past ``MAX_DRAWN_REGISTRIES`` registries or ``MAX_DRAWN_CONSUMERS`` consumers: one node
    per consumer kind (and one for unattributed callers in subnets), one node for all the
    registries, their edges summed by path; returns the sentence that says so ("" when the
    diagram is drawn in full). Linear in the flows."""
    registries = len(g.registries)
    consumers = len(g.consumers) + len(g.unattributed)
    if registries <= MAX_DRAWN_REGISTRIES and consumers <= MAX_DRAWN_CONSUMERS:
        return ""
    kinds: dict[str, ConsumerNode] = {}
    node_of: dict[str, str] = {}
    events: Counter[str] = Counter()
    for c in [*g.consumers.values(), *g.unattributed.values()]:
        kind = "unattributed" if c.id.startswith("unattributed:") else c.kind
        node = kinds.get(kind)
        if node is None:  # the badge says the kind
            name = "unattributed callers in subnets" if kind == "unattributed" else "consumers"
            node_id = ("unattributed:(all)" if kind == "unattributed"
                       else f"consumer:(kind){kind}")
            node = kinds[kind] = ConsumerNode(node_id, "", kind, name)
        events[node.id] += g.events[c.id]
        node_of[c.id] = node.id
    counts = Counter(node_of.values())
    for kind, node in kinds.items():
        if not node.id.startswith("unattributed:"):
            kinds[kind] = replace(node, name=f"{counts[node.id]:,} {node.name}")
    g.events = events
    key = "registry:(all)"
    nets = [r.net for r in g.registries.values()]
    known = [n for n in nets if n is not None]
    closed = sum(1 for n in known if n.public_network_access.lower() == "disabled"
                 or n.default_action.lower() == "deny")
    with_pe = sum(1 for n in known if n.private_endpoints)
    lines = (f"{closed:,} restricted, {len(known) - closed:,} open to all networks",
             f"{with_pe:,} with private endpoint(s)",
             f"{len(nets) - len(known):,} without configuration in this report")
    g.registries = {key: RegistryNode(key, f"{registries:,} registries", None, lines)}
    old = list(g.accs.values())
    g.accs = {}
    for acc in old:
        g.add(node_of.get(acc.source, acc.source), key, acc.path).absorb(acc)
    g.consumers = {n.id: n for n in kinds.values() if not n.id.startswith("unattributed:")}
    g.unattributed = {n.id: n for n in kinds.values() if n.id.startswith("unattributed:")}
    said = (f"{registries:,} registries and {consumers:,} consumers are too many to draw one by "
            f"one (more than {MAX_DRAWN_REGISTRIES} registries or {MAX_DRAWN_CONSUMERS} "
            "consumers): this diagram sums them up, one node per consumer kind and one edge per "
            "path; the tables list every flow.")
    g.notes.append(said)
    return said
