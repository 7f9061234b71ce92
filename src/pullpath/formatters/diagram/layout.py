"""Where everything of the diagram goes: a pure function from a :class:`~.model.Graph` to a
:class:`Diagram` of boxes, edges and labels in SVG user units (deterministic: same graph, same
picture).

Three columns:

- left: consumers grouped in boxes by VNet and subnet (consumers with no known subnet in a box
  of their own); unattributed callers inside a subnet get one node per subnet;
- middle: the source nodes, "Microsoft platform" and "Internet" always, "Your public IPs",
  "Private, unmapped" and "Invalid caller IP" when used; routes with no attributed consumer
  start here, and a consumer's pull that left through one of them (ACI's trusted-service pull
  from a Microsoft address, a NAT gateway's public IP) is drawn through it;
- right: each registry with its firewall state and one port per way in (each private endpoint,
  the trusted-services bypass, IP rules, the public endpoint, refusals).

There is one edge per route, coloured by path, labelled with its event count, thicker with more
events; a route whose path disagrees with the knowledge base's expectation is dashed with a red
"≠ expected X". Rows grow to fit their labels and the picture is a scaled ``viewBox``, so it
stays legible from 1 to hundreds of consumers. Source nodes are placed where no direct edge
crosses the middle column.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from pullpath.domain.report import PrivateEndpointView
from pullpath.formatters.diagram.model import (
    SOURCE_ORDER,
    SOURCE_TITLES,
    ConsumerNode,
    Graph,
    RegistryNode,
    Route,
)
from pullpath.formatters.report_view import KIND_LABELS, PATHS, NetSubnet, last_segment

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



# --------------------------------------------------------------------------- layout
def _port_label_pe(pe: PrivateEndpointView, subnets: Mapping[str, NetSubnet]) -> tuple[str, str]:
    name = pe.name or last_segment(pe.id)
    ips = ", ".join(pe.private_ips[:2])
    subnet_id = pe.subnet_id.lower()
    sub = subnets.get(subnet_id)
    sub_name = sub.name if sub else last_segment(subnet_id)
    vnet = last_segment(pe.vnet_id)
    where = "/".join(x for x in (vnet, sub_name) if x)
    status = pe.status
    detail = " · ".join(x for x in (ips, where, status) if x)
    return f"private endpoint {name}", detail


def _registry_state(reg: RegistryNode) -> tuple[list[str], dict[str, bool | None]]:
    """Lines describing the firewall, and which ways in are configured open."""
    net = reg.net
    if reg.lines:
        return list(reg.lines), {"trusted-service": None, "firewall-rule": None, "public": None}
    if net is None:
        return (["network configuration not in this report"],
                {"trusted-service": None, "firewall-rule": None, "public": None})
    pna = net.public_network_access
    action = net.default_action
    bypass = net.bypass
    rules = net.ip_rules
    pes = net.private_endpoints
    sku = net.sku or "SKU ?"
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


def _label_lines(acc: Route) -> list[tuple[str, str]]:
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
    reg: RegistryNode
    lines: list[str]
    ports: list[_Port]
    h: float


class _Layout:
    """The staged layout: column A, registries, direct edges, sources in free space, edges."""

    def __init__(self, g: Graph) -> None:
        self.g = g
        self.accs_by_key = {acc.key: acc for acc in g.routes}
        self.groups: list[Box] = []
        self.nodes: list[Box] = []
        self.ports: list[Box] = []
        self.node_at: dict[str, Box] = {}
        self.vnet_of: dict[str, str] = {}
        self.by_source: dict[str, list[Route]] = defaultdict(list)
        for acc in self.accs():
            self.by_source[acc.source].append(acc)

    def accs(self) -> list[Route]:
        return sorted(self.g.routes,
                      key=lambda a: (a.source, a.registry, PATHS.index(a.path)))

    def label_lines(self, node_id: str) -> int:
        return sum(len(_label_lines(a)) for a in self.by_source.get(node_id, ()))

    # ---------------------------------------------------------------- column A
    def column_a(self) -> float:
        g = self.g
        placed = {grp.subnet: grp.members for grp in g.groups}
        self.has_a = bool(placed)
        if not self.has_a:
            return M
        for grp in g.groups:
            if grp.subnet:
                self.vnet_of[grp.subnet] = grp.vnet
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
                net_sub = g.subnets.get(sid)
                prefixes = ", ".join(net_sub.prefixes) if net_sub else ""
                deleg = ", ".join(d.split("/")[0].removeprefix("Microsoft.")
                                  for d in net_sub.delegations) if net_sub else ""
                sub_line = " · ".join(x for x in (prefixes, f"delegated to {deleg}" if deleg
                                                  else "") if x)
                self.groups.insert(sub_index, Box(
                    "subnet:" + sid, "subnet", gx, stop, COL_A_W - 2 * PAD, y - stop,
                    fit(f"subnet {self.subnet_name(sid)}", COL_A_W - 4 * PAD, 12.5),
                    (fit(sub_line, COL_A_W - 4 * PAD, 10),) if sub_line else (),
                    tooltip=f"{sid}\n{sub_line}".strip(), parent="vnet:" + vid))
                y += PAD
            v = g.vnets.get(vid)
            vprefix = ", ".join(v.address_prefixes) if v else ""
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
        v = self.g.vnets.get(vid)
        return (v.name if v else "") or last_segment(vid) or "VNet"

    def subnet_name(self, sid: str) -> str:
        s = self.g.subnets.get(sid)
        return (s.name if s else "") or last_segment(sid) or "subnet"

    def members(self, members: tuple[ConsumerNode, ...], x: float, w: float, parent: str,
                y: float) -> float:
        for c in members:
            h = max(NODE_H, LINE * self.label_lines(c.id) + 6)
            pseudo = c.pseudo
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
        for acc in self.g.routes:
            used_paths[acc.registry].add(acc.path)
        self.used_paths = used_paths
        out: list[_RegLayout] = []
        for key in sorted(self.g.registries):
            reg = self.g.registries[key]
            state_lines, configured = _registry_state(reg)
            ports: list[_Port] = []
            pes = reg.net.private_endpoints if reg.net else ()
            for pe in pes:
                title, detail = _port_label_pe(pe, self.g.subnets)
                ports.append(_Port("pe:" + pe.id.lower(), "private-endpoint", title,
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
                    rules = reg.net.ip_rules
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
            net_name = reg.net.name if reg.net else ""
            tooltip = "\n".join(x for x in (reg.label, reg.net.id if reg.net else "",
                                            *lay.lines) if x)
            box = Box(reg.key, "registry", x, y, REG_W, lay.h, fit(reg.label, REG_W - 16, 12.5),
                      lines, tooltip=tooltip, badge=net_name,
                      count=sum(a.count for a in self.g.routes if a.registry == reg.key))
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
                           count=sum(a.count for a in self.g.routes
                                     if a.registry == reg.key and a.path == port.path))
                self.ports.append(pbox)
                py += port.h + PORT_GAP
            y += lay.h + 24

    def port_for(self, acc: Route) -> Box:
        reg_ports = [p for p in self.ports if p.parent == acc.registry and p.path == acc.path]
        if acc.path == "private-endpoint" and len(reg_ports) > 1:
            node = self.node_at.get(acc.source)
            vnet = ""
            if node is not None and node.parent.startswith("subnet:"):
                vnet = self.vnet_of.get(node.parent.split(":", 1)[1], "")
            vnet = vnet or acc.vnet
            for p in reg_ports:
                if vnet and p.id.startswith("pe:") and self.g.pe_vnet(acc.registry, p.id) == vnet:
                    return p
        return reg_ports[0]

    # ---------------------------------------------------------------- sources
    def source_specs(self) -> list[tuple[str, float, tuple[str, ...], str, str]]:
        g = self.g
        specs = []
        via_used = {v for a in g.routes for v in a.via}
        for kind in [k for k in SOURCE_ORDER if k in g.sources]:
            s = g.sources[kind]
            node_id = "source:" + kind
            details: list[str] = []
            if s.tags:
                top = [t for t, _ in sorted(s.tags, key=lambda kv: (-kv[1], kv[0]))]
                details.append(fit("tags: " + ", ".join(top[:2])
                                   + (f" +{len(top) - 2}" if len(top) > 2 else ""),
                                   COL_B_W - 16, 10))
            if s.ips:
                ips = [ip for ip, _ in sorted(s.ips, key=lambda kv: (-kv[1], kv[0]))]
                details.append(fit(", ".join(ips[:2]) + (f" +{len(ips) - 2}" if len(ips) > 2
                                                         else ""), COL_B_W - 16, 10))
            used = s.events > 0 or node_id in via_used or node_id in self.by_source
            if not used:
                details.append("no pulls seen from here")
            h = max(28.0 + LINE * len(details), LINE * self.label_lines(node_id) + 6)
            tooltip = "\n".join([SOURCE_TITLES[kind],
                                 *(f"{t} ({n:,})" for t, n in sorted(s.tags)),
                                 *(f"{ip} ({n:,})" for ip, n in sorted(s.ips)[:20])])
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
            wants = [self.node_at[a.source].cy for a in self.g.routes
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


def _start_points(box: Box, accs: list[Route]) -> tuple[list[float], list[Label]]:
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


def layout(g: Graph) -> Diagram:
    """Lay out the diagram of graph ``g`` (pure and deterministic: same graph, same picture)."""
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
    for acc in g.routes:
        ends[acc.key] = lay.port_for(acc)
    in_order: dict[tuple[str, str], list[tuple[str, str, str]]] = defaultdict(list)
    for key, port in ends.items():
        in_order[(port.parent, port.id)].append(key)
    blocked: list[float] = []
    for key, (y0, label) in starts.items():
        acc = lay.accs_by_key[key]
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
    for acc in g.routes:
        if acc.via:
            via_keys[acc.via[0]].append(acc.key)
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
        via = lay.node_at.get(acc.via[0]) if acc.via else None
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
        notes=g.notes,
        predicted=g.predicted,
        summary=g.summary,
    )

