"""One view of any pullpath report document, shared by the HTML and Markdown formats.

Both formats read the same JSON document the ``--format json`` output is made of
(``pullpath.audit/v1``, ``pullpath.explain/v1``, ``pullpath.lab/v1``), through this module, so
the numbers in a browser, a pull-request comment and a JSON file never disagree. The view is
plain data (no markup): escaping is the job of each format.

Documents are read defensively: a missing key is an empty section, never a crash, so the
renderers also work on documents from other versions.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pullpath.domain.inventory import ConsumerKind, kind_label
from pullpath.domain.report import PrivateEndpointView, RegistryView
from pullpath.domain.resource_id import name_of
from pullpath.domain.verdicts import PATH_ORDER

PATHS: tuple[str, ...] = tuple(p.value for p in PATH_ORDER)

PATH_DESCRIPTIONS: dict[str, str] = {
    "private-endpoint": "entered through one of the registry's private endpoints",
    "trusted-service": "came from Microsoft's platform and passed only by the trusted-services "
                       "bypass",
    "firewall-rule": "a public caller allowed by one of the registry's IP rules",
    "public": "registry open to all networks, caller public",
    "denied": "the request was refused",
    "unknown": "not enough evidence (see missing evidence)",
}

KIND_LABELS: dict[str, str] = {k.value: k.short for k in ConsumerKind}
"""Short consumer labels by kind value (``domain.inventory.ConsumerKind.short``)."""

SOURCE_LABELS: dict[str, str] = {
    "subnet": "your subnet",
    "customer-public-ip": "your public IP",
    "private-unmapped": "private, unmapped",
    "azure-platform": "Microsoft platform",
    "internet": "Internet",
    "invalid": "invalid caller IP",
}

_SAFE_URL = re.compile(r"^https?://[^\s\"'<>`]+$", re.IGNORECASE)


def safe_url(value: object) -> str:
    """The URL when it is an absolute http(s) URL without spaces or quotes, else "" (so a
    ``javascript:`` or ``data:`` link from the input is shown as text, never followed)."""
    text = str(value or "").strip()
    return text if _SAFE_URL.match(text) else ""


def _s(value: object) -> str:
    """Any document value as text ("" for None)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _i(value: object) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return 0


def _d(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _l(value: object) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def last_segment(resource_id: str) -> str:
    return name_of(resource_id)


def consumer_label(consumer: Mapping[str, Any], source: Mapping[str, Any] | None = None) -> str:
    """``ACI aci-orders``, ``? 2 candidates: a, b`` or ``unattributed (Internet)``."""
    cid = _s(consumer.get("id"))
    kind = _s(consumer.get("kind")) or "unknown"
    if cid:
        return f"{kind_label(kind, short=True)} {last_segment(cid)}"
    candidates = [_s(c) for c in _l(consumer.get("candidates"))]
    if candidates:
        names = ", ".join(last_segment(c) for c in candidates[:3])
        more = f" +{len(candidates) - 3}" if len(candidates) > 3 else ""
        return f"? {len(candidates)} candidates: {names}{more}"
    if source:
        kind = _s(source.get("kind"))
        return f"unattributed ({SOURCE_LABELS.get(kind, kind or 'unknown source')})"
    return "unattributed"


def source_label(source: Mapping[str, Any]) -> str:
    kind = _s(source.get("kind"))
    if source.get("service_tag"):
        return f"{kind} {_s(source.get('service_tag'))}"
    if source.get("subnet_id"):
        return f"{kind} {last_segment(_s(source.get('subnet_id')))}"
    if kind == "subnet" and source.get("prefix"):  # the prefix of subnets in several VNets
        return f"subnet {_s(source.get('prefix'))} (several VNets)"
    if source.get("resource_id"):
        return f"{kind} {last_segment(_s(source.get('resource_id')))}"
    return kind


@dataclass(frozen=True, slots=True)
class Link:
    text: str
    url: str
    """A safe http(s) URL, or "" when the input's URL was not one (then show ``text`` only)."""
    title: str = ""


@dataclass(frozen=True, slots=True)
class PathCount:
    path: str
    events: int
    flows: int
    pulls: int = 0
    logins: int = 0
    other: int = 0
    """Events counted apart by kind of request (audit documents with ``by_path_requests``)."""


@dataclass(frozen=True, slots=True)
class FlowRow:
    index: int
    path: str
    consumer: str
    consumer_id: str
    consumer_kind: str
    registry: str
    operation: str
    repository: str
    tag: str
    caller_ip: str
    source: str
    source_kind: str
    result: str
    identity: str
    count: int
    first_seen: str
    last_seen: str
    confidence: str
    denial: str
    expected_path: str
    expected_rule: str
    agrees: bool | None
    reasons: tuple[str, ...]
    missing: tuple[str, ...]
    login_server: str = ""
    """The flow's ``registry`` as the document spells it ("" when it names only the ID)."""
    registry_id: str = ""
    source_ip: str = ""
    """The source's address, else the flow's caller IP."""
    subnet_id: str = ""
    vnet_id: str = ""
    service_tag: str = ""
    candidates: tuple[str, ...] = ()
    """The consumers an unattributed caller could be."""

    @property
    def image(self) -> str:
        return self.repository + (f":{self.tag}" if self.tag else "")

    @property
    def disagrees(self) -> bool:
        return self.agrees is False


@dataclass(frozen=True, slots=True)
class PairRow:
    """An explain pair: a consumer, a registry and the path the knowledge base predicts."""

    index: int
    path: str
    consumer: str
    consumer_id: str
    consumer_kind: str
    registry: str
    registry_id: str
    rule: str
    confidence: str
    reasons: tuple[str, ...]
    sources: tuple[Link, ...]
    source_notes: tuple[str, ...]
    """One per source: ``measured 2024-11-25`` / ``documented 2025-02-01``."""
    missing: tuple[str, ...] = ()
    credential: str = ""
    observed_path: str = ""
    agrees: bool | None = None
    login_server: str = ""
    expected_path: str = ""

    @property
    def disagrees(self) -> bool:
        return self.agrees is False


@dataclass(frozen=True, slots=True)
class ChangeRow:
    """A pair whose predicted path a change moves (``explain --baseline``)."""

    consumer: str
    consumer_id: str
    registry: str
    before: str
    """The baseline's path; "" when the baseline has no such pair."""
    after: str
    """The change's path; "" when the change removes the pair."""
    why: str
    """The new prediction's first reason the old one did not give."""


def change_rows(changes: Sequence[Any]) -> list[ChangeRow]:
    out: list[ChangeRow] = []
    for raw in changes:
        c = _d(raw)
        consumer = _d(c.get("consumer"))
        why = _l(c.get("why"))
        out.append(ChangeRow(consumer=_s(consumer.get("label")), consumer_id=_s(consumer.get("id")),
                             registry=_s(c.get("login_server")), before=_s(c.get("before")),
                             after=_s(c.get("after")), why=_s(why[0]) if why else ""))
    return out


@dataclass(frozen=True, slots=True)
class LabRow:
    """A lab consumer: predicted path, observed path with evidence, agreement."""

    index: int
    path: str
    """The (first) observed path, for filtering; ``unknown`` when nothing was observed."""
    consumer: str
    consumer_id: str
    registry: str
    predicted: str
    predicted_source: str
    rule: str
    expected_by_scenario: str
    observed: str
    agreement: str
    evidence: tuple[str, ...]
    knowledge: str
    knowledge_update: str

    @property
    def disagrees(self) -> bool:
        return self.agreement == "disagrees"


@dataclass(frozen=True, slots=True)
class Finding:
    id: str
    severity: str
    title: str
    resource_id: str
    related: tuple[str, ...]
    detail: str
    fix_cli: str
    fix_bicep: str
    docs: tuple[Link, ...]
    policy: str = ""


@dataclass(frozen=True, slots=True)
class FileCount:
    file: str
    records: int
    read: int
    skipped: int


@dataclass(frozen=True, slots=True)
class SkipExample:
    file: str
    line: str
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class Inputs:
    log_sources: tuple[str, ...] = ()
    log_files: tuple[FileCount, ...] = ()
    records_seen: int | None = None
    events_read: int | None = None
    events_skipped: int | None = None
    duplicates_dropped: int = 0
    skipped: tuple[tuple[str, int], ...] = ()
    skipped_examples: tuple[SkipExample, ...] = ()
    ignored: tuple[tuple[str, int], ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    """(label, value): cloud, change number, published, source."""
    tags_warning: str = ""
    inventory_files: tuple[str, ...] = ()
    inventory_counts: tuple[tuple[str, int], ...] = ()
    inventory_ignored: tuple[tuple[str, int], ...] = ()
    inventory_issues: tuple[tuple[str, str, str], ...] = ()
    warnings: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    """What could not be checked (explain), for the reader."""
    other: tuple[tuple[str, str], ...] = ()
    """Further facts about the run: knowledge base, lab scenario, collection..."""

    @property
    def has_logs(self) -> bool:
        return self.events_read is not None


@dataclass(frozen=True, slots=True)
class GenericTable:
    """A list of records from a document section this view has no dedicated form for (lab
    results of a newer version, for instance): shown as a plain table, nothing dropped."""

    key: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass
class ReportView:
    kind: str
    """audit, explain, lab or report."""
    schema: str
    version: str
    title: str
    headline: str
    summary: list[PathCount]
    summary_unit: str
    """What the summary counts: ``events`` (audit) or ``pairs`` (explain)."""
    flows: list[FlowRow] = field(default_factory=list)
    pairs: list[PairRow] = field(default_factory=list)
    lab: list[LabRow] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    has_findings_section: bool = False
    inputs: Inputs = field(default_factory=Inputs)
    extra: list[GenericTable] = field(default_factory=list)
    changes: list[ChangeRow] = field(default_factory=list)
    """An explain's pairs whose path changes against its baseline, shown first."""
    baseline: str = ""
    disagreements: int = 0
    registries: tuple[str, ...] = ()
    has_requests: bool = False
    """The summary counts pulls, logins and other operations apart (``PathCount``)."""

    @property
    def consumers(self) -> tuple[str, ...]:
        names = {r.consumer for r in self.flows} | {r.consumer for r in self.pairs}
        return tuple(sorted(names, key=str.lower))


# --------------------------------------------------------------------------- network
@dataclass(frozen=True, slots=True)
class NetVnet:
    id: str
    name: str
    address_prefixes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NetSubnet:
    id: str
    name: str
    vnet_id: str
    prefixes: tuple[str, ...]
    delegations: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NetConsumer:
    id: str
    name: str
    kind: str
    subnet_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Network:
    """The ``network`` section (see :mod:`pullpath.formatters.sections`): what the diagram
    draws around the flows. Every list keeps the document's order; nothing is deduplicated
    here."""

    registries: tuple[RegistryView, ...] = ()
    vnets: tuple[NetVnet, ...] = ()
    subnets: tuple[NetSubnet, ...] = ()
    consumers: tuple[NetConsumer, ...] = ()


def _texts(value: object) -> tuple[str, ...]:
    return tuple(_s(x) for x in _l(value))


def read_network(section: Mapping[str, Any]) -> Network:
    """The typed ``network`` section; a missing key is an empty list, a record that is not an
    object an empty record."""
    def endpoint(pe: Mapping[str, Any]) -> PrivateEndpointView:
        return PrivateEndpointView(_s(pe.get("id")), _s(pe.get("name")), _s(pe.get("subnet_id")),
                           _s(pe.get("vnet_id")), _s(pe.get("status")),
                           _texts(pe.get("private_ips")))

    registries = tuple(
        RegistryView(
            id=_s(r.get("id")), name=_s(r.get("name")), login_server=_s(r.get("login_server")),
            sku=_s(r.get("sku")), public_network_access=_s(r.get("public_network_access")),
            default_action=_s(r.get("default_action")), bypass=_s(r.get("bypass")),
            ip_rules=_texts(r.get("ip_rules")),
            private_endpoints=tuple(endpoint(_d(p)) for p in _l(r.get("private_endpoints"))),
        )
        for r in (_d(x) for x in _l(section.get("registries")))
    )
    vnets = tuple(NetVnet(_s(v.get("id")), _s(v.get("name")), _texts(v.get("address_prefixes")))
                  for v in (_d(x) for x in _l(section.get("vnets"))))
    subnets = tuple(
        NetSubnet(_s(n.get("id")), _s(n.get("name")), _s(n.get("vnet_id")),
                  _texts(n.get("prefixes")), _texts(n.get("delegations")))
        for n in (_d(x) for x in _l(section.get("subnets")))
    )
    consumers = tuple(
        NetConsumer(_s(c.get("id")), _s(c.get("name")), _s(c.get("kind")),
                    _texts(c.get("subnet_ids")))
        for c in (_d(x) for x in _l(section.get("consumers")))
    )
    return Network(registries, vnets, subnets, consumers)


@dataclass(frozen=True, slots=True)
class DiagramInput:
    """What the path diagram draws: the flows (audit, lab evidence), else the explain pairs, and
    the network around them (``None``: the report carries no inventory)."""

    flows: tuple[FlowRow, ...]
    pairs: tuple[PairRow, ...]
    network: Network | None


def diagram_input(doc: Mapping[str, Any], network: Mapping[str, Any] | None = None,
                  view: ReportView | None = None) -> DiagramInput:
    """The rows and network the diagram of ``doc`` draws (``view``: the document's view, when
    already built, so its rows are read once). Without ``network``, the document's own section;
    a lab (or other) document without flows or pairs of its own is drawn from the audit it
    carries, and from that audit's network when it has none."""
    section = network if network is not None else _d(doc.get("network")) or None
    if view is None:
        kind = report_kind(doc)
        flows = flow_rows(lab_flow_docs(doc) if kind == "lab" else _l(doc.get("flows")))
        pairs = pair_rows(_l(doc.get("pairs")))
    else:
        flows, pairs = view.flows, view.pairs
    if not flows and not pairs:
        nested = _d(doc.get("audit"))
        flows = flow_rows(_l(nested.get("flows")))
        if section is None and nested.get("network"):
            section = _d(nested.get("network"))
    return DiagramInput(tuple(flows), tuple(pairs) if not flows else (),
                        read_network(section) if section is not None else None)


LAB_REGISTRY = "registry (lab)"


def report_kind(doc: Mapping[str, Any]) -> str:
    schema = _s(doc.get("schema"))
    for kind in ("audit", "explain", "lab"):
        if schema.startswith(f"pullpath.{kind}/"):
            return kind
    if "flows" in doc:
        return "audit"
    if "pairs" in doc:
        return "explain"
    return "report"


def network_of(doc: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ``network`` section the diagram draws: the document's own, or (lab) its audit's."""
    network = doc.get("network")
    if isinstance(network, Mapping):
        return network
    audit = doc.get("audit")
    if isinstance(audit, Mapping) and isinstance(audit.get("network"), Mapping):
        return audit["network"]  # type: ignore[no-any-return]
    return None


TITLES = {
    "audit": "pullpath audit: the network path of every registry pull",
    "explain": "pullpath explain: the path each consumer is expected to take",
    "lab": "pullpath lab: prediction against measurement",
    "report": "pullpath report",
}


# ----------------------------------------------------------------------------- rows
def flow_rows(flows: Sequence[Any]) -> list[FlowRow]:
    rows: list[FlowRow] = []
    for n, raw in enumerate(flows):
        f = _d(raw)
        consumer = _d(f.get("consumer"))
        source = _d(f.get("source"))
        agrees = f.get("agrees")
        rows.append(FlowRow(
            index=n,
            path=_s(f.get("path")) or "unknown",
            consumer=consumer_label(consumer, source),
            consumer_id=_s(consumer.get("id")),
            consumer_kind=_s(consumer.get("kind")) or "unknown",
            registry=_s(f.get("registry")) or last_segment(_s(f.get("registry_id"))),
            operation=_s(f.get("operation")),
            repository=_s(f.get("repository")),
            tag=_s(f.get("tag")),
            caller_ip=_s(f.get("caller_ip")),
            source=source_label(source),
            source_kind=_s(source.get("kind")),
            result=_s(f.get("result")),
            identity=_s(f.get("identity")),
            count=_i(f.get("count")),
            first_seen=_s(f.get("first_seen")),
            last_seen=_s(f.get("last_seen")),
            confidence=_s(f.get("confidence")),
            denial=_s(f.get("denial")),
            expected_path=_s(f.get("expected_path")),
            expected_rule=_s(f.get("expected_rule")),
            agrees=agrees if isinstance(agrees, bool) else None,
            reasons=tuple(_s(r) for r in _l(f.get("reasons"))),
            missing=tuple(_s(m) for m in _l(f.get("missing"))),
            login_server=_s(f.get("registry")),
            registry_id=_s(f.get("registry_id")),
            source_ip=_s(source.get("ip")) or _s(f.get("caller_ip")),
            subnet_id=_s(source.get("subnet_id")),
            vnet_id=_s(source.get("vnet_id")),
            service_tag=_s(source.get("service_tag")),
            candidates=tuple(_s(c) for c in _l(consumer.get("candidates"))),
        ))
    return rows


def _links(items: Sequence[Any]) -> tuple[Link, ...]:
    out: list[Link] = []
    for item in items:
        title = ""
        if isinstance(item, Mapping):
            url = _s(item.get("url") or item.get("href"))
            text = _s(item.get("title") or item.get("text") or url)
            title = _s(item.get("says"))
        else:
            url = text = _s(item)
        if text or url:
            out.append(Link(text or url, safe_url(url), title))
    return tuple(out)


def pair_rows(pairs: Sequence[Any]) -> list[PairRow]:
    rows: list[PairRow] = []
    for n, raw in enumerate(pairs):
        p = _d(raw)
        consumer = _d(p.get("consumer"))
        registry = _d(p.get("registry"))
        sources = [_d(s) for s in _l(p.get("sources"))]
        notes = tuple(
            " ".join(x for x in (_s(s.get("kind")), _s(s.get("verified"))) if x) for s in sources
        )
        agrees = p.get("agrees")
        rows.append(PairRow(
            index=n,
            path=_s(p.get("expected_path") or p.get("path")) or "unknown",
            consumer=consumer_label(consumer),
            consumer_id=_s(consumer.get("id")),
            consumer_kind=_s(consumer.get("kind")) or "unknown",
            registry=_s(registry.get("login_server")) or last_segment(_s(registry.get("id"))),
            registry_id=_s(registry.get("id")),
            rule=_s(p.get("rule")),
            confidence=_s(p.get("confidence")),
            reasons=tuple(_s(r) for r in _l(p.get("reasons"))),
            sources=_links(sources),
            source_notes=notes,
            missing=tuple(_s(m) for m in _l(p.get("missing"))),
            credential=_s(p.get("credential")),
            observed_path=_s(p.get("observed_path")),
            agrees=agrees if isinstance(agrees, bool) else None,
            login_server=_s(registry.get("login_server")),
            expected_path=_s(p.get("expected_path")),
        ))
    return rows


def lab_flow_docs(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A lab document's evidence as audit-shaped flows (one per evidence record), so the flows
    table and the diagram show a lab run the way they show an audit."""
    flows: list[dict[str, Any]] = []

    def flow(e: Mapping[str, Any], consumer: Mapping[str, Any], predicted: str,
             agreement: str) -> dict[str, Any]:
        owner = _s(e.get("owner_resource_id"))
        kind = _s(e.get("source_kind"))
        return {
            "registry": LAB_REGISTRY,
            "operation": _s(e.get("operation")),
            "repository": _s(e.get("repository")),
            "tag": "",
            "caller_ip": _s(e.get("caller_ip")),
            "identity": _s(e.get("identity")),
            "result": _s(e.get("result")),
            "count": _i(e.get("count")),
            "first_seen": e.get("first_seen"),
            "last_seen": e.get("last_seen"),
            "source": {
                "kind": kind,
                "ip": _s(e.get("caller_ip")),
                "subnet_id": owner if kind == "subnet" else None,
                "resource_id": owner if kind != "subnet" else None,
                "service_tag": e.get("service_tag") or None,
                "region": e.get("region") or None,
            },
            "path": _s(e.get("path")) or "unknown",
            "consumer": consumer,
            "reasons": [],
            "missing": [],
            "expected_path": predicted or None,
            "agrees": {"agrees": True, "disagrees": False}.get(agreement),
        }

    for raw in _l(doc.get("consumers")):
        c = _d(raw)
        consumer = {"kind": _s(c.get("kind")) or "unknown",
                    "id": _s(c.get("resource_id")) or _s(c.get("name")), "candidates": []}
        predicted = _s(_d(c.get("predicted")).get("path"))
        for e in _l(_d(c.get("observed")).get("evidence")):
            flows.append(flow(_d(e), consumer, predicted, _s(c.get("agreement"))))
    for e in _l(doc.get("unattributed_flows")):
        flows.append(flow(_d(e), {"kind": "unknown", "id": None, "candidates": []}, "", ""))
    return flows


def lab_rows(doc: Mapping[str, Any]) -> list[LabRow]:
    rows: list[LabRow] = []
    for n, raw in enumerate(_l(doc.get("consumers"))):
        c = _d(raw)
        pred = _d(c.get("predicted"))
        obs = _d(c.get("observed"))
        paths = [_s(p) for p in _l(obs.get("paths"))]
        evidence = []
        for e in (_d(x) for x in _l(obs.get("evidence"))):
            where = _s(e.get("service_tag")) or last_segment(_s(e.get("owner_resource_id")))
            owned = ("in the subscription" if e.get("belongs_to_subscription")
                     else "no resource of ours")
            evidence.append(f"{_s(e.get('caller_ip'))} {_s(e.get('source_kind'))} {where} "
                            f"({owned}) {_s(e.get('result'))} ×{_i(e.get('count'))}")
        evidence += [f"deployment error: {_s(x)}" for x in _l(obs.get("deployment_errors"))]
        kb = _d(c.get("knowledge"))
        rid = _s(c.get("resource_id"))
        kind = _s(c.get("kind")) or "unknown"
        rows.append(LabRow(
            index=n,
            path=paths[0] if paths else "unknown",
            consumer=(f"{kind_label(kind, short=True)} {last_segment(rid)}" if rid
                      else f"{kind_label(kind, short=True)} {_s(c.get('name'))}"),
            consumer_id=rid,
            registry=LAB_REGISTRY,
            predicted=_s(pred.get("path")),
            predicted_source=_s(pred.get("source")),
            rule=_s(pred.get("rule")),
            expected_by_scenario=_s(c.get("expected_by_scenario")),
            observed=_s(obs.get("summary")),
            agreement=_s(c.get("agreement")),
            evidence=tuple(evidence),
            knowledge=(f"{_s(kb.get('id'))}: {_s(kb.get('statement'))} (as of "
                       f"{_s(kb.get('as_of'))})" if kb else ""),
            knowledge_update=_s(c.get("knowledge_update")),
        ))
    return rows


def finding_rows(findings: Sequence[Any]) -> list[Finding]:
    out: list[Finding] = []
    for raw in findings:
        f = _d(raw)
        fix = f.get("fix")
        fix_map = _d(fix)
        docs = _l(f.get("docs"))
        if f.get("help_uri"):
            docs.append(f.get("help_uri"))
        policy = f.get("policy") or f.get("azure_policy") or ""
        if isinstance(policy, Mapping):
            name, pid = _s(policy.get("name")), _s(policy.get("id"))
            policy = f"{name} ({pid})" if name and pid else (name or pid or
                                                             " ".join(_s(v) for v in
                                                                      policy.values() if v))
        elif isinstance(policy, list):
            policy = ", ".join(_s(v) for v in policy)
        out.append(Finding(
            id=_s(f.get("id")),
            severity=_s(f.get("severity")) or "info",
            title=_s(f.get("title")),
            resource_id=_s(f.get("resource_id")),
            related=tuple(_s(r) for r in _l(f.get("related"))),
            detail=_s(f.get("detail")),
            fix_cli=_s(fix_map.get("cli")) if fix_map else _s(fix),
            fix_bicep=_s(fix_map.get("bicep")),
            docs=_links(docs),
            policy=_s(policy),
        ))
    return out


# ---------------------------------------------------------------------------- inputs
def inputs_of(doc: Mapping[str, Any]) -> Inputs:
    inp = _d(doc.get("input"))
    tags = _d(doc.get("service_tags"))
    inv = _d(doc.get("inventory"))
    tag_rows = tuple(
        (label, _s(tags.get(key)))
        for label, key in (("cloud", "cloud"), ("changeNumber", "change_number"),
                           ("published", "published"), ("file", "source"))
        if tags.get(key)
    )
    per_file = tuple(
        FileCount(_s(_d(x).get("file")), _i(_d(x).get("records")), _i(_d(x).get("events_read")),
                  _i(_d(x).get("events_skipped")))
        for x in _l(inp.get("per_file"))
    )
    examples = tuple(
        SkipExample(_s(_d(x).get("file")), _s(_d(x).get("line")), _s(_d(x).get("reason")),
                    _s(_d(x).get("detail")))
        for x in _l(inp.get("skipped_examples"))
    )
    inv_files = inv.get("files")
    counts = tuple(
        (key, _i(inv.get(key))) for key in ("resources", "registries", "consumers", "subnets")
        if key in inv
    )
    issues = tuple(
        (_s(_d(x).get("location")), _s(_d(x).get("resource_id")), _s(_d(x).get("problem")))
        for x in _l(inv.get("issues"))
    )
    return Inputs(
        log_sources=tuple(_s(x) for x in _l(inp.get("sources"))),
        log_files=per_file,
        records_seen=_i(inp.get("records_seen")) if "records_seen" in inp else None,
        events_read=_i(inp.get("events_read")) if "events_read" in inp else None,
        events_skipped=_i(inp.get("events_skipped")) if "events_skipped" in inp else None,
        duplicates_dropped=_i(inp.get("duplicates_dropped")),
        skipped=tuple((_s(k), _i(v)) for k, v in sorted(_d(inp.get("skipped")).items())),
        skipped_examples=examples,
        ignored=tuple((_s(k), _i(v)) for k, v in sorted(_d(inp.get("ignored")).items())),
        tags=tag_rows,
        tags_warning=_s(tags.get("warning")),
        inventory_files=tuple(_s(x) for x in _l(inv_files)),
        inventory_counts=counts,
        inventory_ignored=tuple(
            (_s(k), _i(v)) for k, v in sorted(_d(inv.get("ignored_types")).items())
        ),
        inventory_issues=issues,
        warnings=tuple(_s(w) for w in _l(doc.get("warnings"))),
        missing=tuple(_s(m) for m in _l(doc.get("missing"))),
        notes=tuple(_s(n) for n in _l(doc.get("notes"))),
        other=_other_inputs(doc),
    )


def _other_inputs(doc: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    kb = _d(doc.get("knowledge"))
    if kb:
        files = ", ".join(_s(f) for f in _l(kb.get("files")))
        out.append(("Knowledge base", f"{_i(kb.get('behaviours'))} behaviour(s), "
                                      f"{_i(kb.get('findings'))} finding rule(s)"
                    + (f" from {files}" if files else "")))
    scenario = _d(doc.get("scenario"))
    if scenario:
        out.append(("Lab scenario", " · ".join(_s(scenario.get(k)) for k in
                                               ("name", "title", "question")
                                               if scenario.get(k))))
        run = " · ".join(f"{label} {_s(doc.get(key))}" for label, key in (
            ("run", "run_id"), ("subscription", "subscription"),
            ("resource group", "resource_group"), ("location", "location"),
            ("started", "started"), ("finished", "finished")) if doc.get(key))
        if run:
            out.append(("Lab run", run))
        if doc.get("torn_down") is not None:
            out.append(("Teardown", "resource group deleted" if doc.get("torn_down") else
                        "KEPT: delete it with pullpath lab down"))
    collect = _d(doc.get("collect"))
    if collect:
        out.append(("Log collection", ", ".join(f"{k} {_s(v)}" for k, v in collect.items())))
    return tuple(out)


# --------------------------------------------------------------------------- summary
def _path_counts(counts: Mapping[str, int], flows: Mapping[str, int],
                 requests: Mapping[str, Any] | None = None) -> list[PathCount]:
    paths = list(PATHS) + sorted(set(counts) - set(PATHS))
    requests = requests or {}
    out = []
    for p in paths:
        kinds = _d(requests.get(p))
        out.append(PathCount(p, counts.get(p, 0), flows.get(p, 0), _i(kinds.get("pulls")),
                             _i(kinds.get("logins")), _i(kinds.get("other"))))
    return out


def _headline(kind: str, view: ReportView) -> str:
    used = [pc for pc in view.summary if pc.events]
    parts = ", ".join(f"{pc.events:,} {pc.path}" for pc in used) or "none"
    if kind == "lab":
        agree = Counter(r.agreement for r in view.lab)
        text = (f"{len(view.lab):,} lab consumer(s): "
                + ", ".join(f"{n} {a}" for a, n in sorted(agree.items()))
                + f"; observed {parts}.")
    elif kind == "explain" or (not view.flows and view.pairs):
        text = (f"{len(view.pairs):,} consumer→registry pair(s) predicted: {parts}; "
                f"{len(view.findings):,} finding(s).")
    elif view.flows or kind == "audit":
        events = sum(pc.events for pc in view.summary)
        regs = len(view.registries)
        kinds = ""
        if view.has_requests:
            kinds = (f" ({sum(pc.pulls for pc in view.summary):,} pulls, "
                     f"{sum(pc.logins for pc in view.summary):,} logins, "
                     f"{sum(pc.other for pc in view.summary):,} other operations)")
        text = (f"{events:,} event(s){kinds} in {len(view.flows):,} flow(s) to {regs:,} "
                f"registr{'y' if regs == 1 else 'ies'}: {parts}.")
    else:
        text = ""
    if view.disagreements:
        what = "prediction" if kind == "lab" else "expectation"
        text += (f" {view.disagreements:,} disagree(s) with the knowledge base's {what} "
                 "(marked ≠).")
    return text.strip()


_KNOWN_KEYS = frozenset({
    "schema", "pullpath_version", "service_tags", "input", "inventory", "flows", "summary",
    "findings", "warnings", "missing", "pairs", "network", "title", "generated", "notes",
    "knowledge", "changes", "code", "baseline",
})
_LAB_KEYS = frozenset({"consumers", "unattributed_flows", "scenario", "collect"})


def _generic_tables(doc: Mapping[str, Any]) -> list[GenericTable]:
    """Lists of records under keys this view does not know, as plain tables."""
    tables: list[GenericTable] = []
    known = _KNOWN_KEYS | (_LAB_KEYS if report_kind(doc) == "lab" else frozenset())
    for key in sorted(k for k in doc if k not in known):
        items = doc[key]
        if not isinstance(items, list) or not items or not all(isinstance(x, Mapping)
                                                               for x in items):
            continue
        columns: list[str] = []
        flat_rows: list[dict[str, str]] = []
        for item in items:
            flat = _flatten(item)
            flat_rows.append(flat)
            for col in flat:
                if col not in columns:
                    columns.append(col)
        columns = columns[:16]
        rows = tuple(tuple(r.get(c, "") for c in columns) for r in flat_rows)
        tables.append(GenericTable(key, key.replace("_", " ").capitalize(), tuple(columns), rows))
    return tables


def _flatten(item: Mapping[str, Any], prefix: str = "", depth: int = 0) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in item.items():
        name = f"{prefix}{k}"
        if isinstance(v, Mapping) and depth < 1:
            out.update(_flatten(v, f"{name}.", depth + 1))
        elif isinstance(v, list | tuple):
            out[name] = ", ".join(_s(x) if not isinstance(x, Mapping) else
                                  " ".join(_s(y) for y in x.values()) for x in v)
        elif isinstance(v, Mapping):
            out[name] = " ".join(f"{kk}={_s(vv)}" for kk, vv in v.items())
        else:
            out[name] = _s(v)
    return out


def build_view(doc: Mapping[str, Any]) -> ReportView:
    """The view of any pullpath document (audit, explain, lab or unknown)."""
    kind = report_kind(doc)
    flows = flow_rows(lab_flow_docs(doc) if kind == "lab" else _l(doc.get("flows")))
    pairs = pair_rows(_l(doc.get("pairs")))
    lab = lab_rows(doc) if kind == "lab" else []
    summary_doc = _d(doc.get("summary"))
    flows_by_path = Counter(r.path for r in flows)
    requests: Mapping[str, Any] = {}
    if flows or kind in ("audit", "lab"):
        by_path = _d(summary_doc.get("by_path"))
        counts: dict[str, int] = {}
        if by_path:
            counts = {_s(k): _i(v) for k, v in by_path.items()}
        else:
            for r in flows:
                counts[r.path] = counts.get(r.path, 0) + r.count
        requests = _d(summary_doc.get("by_path_requests"))
        summary = _path_counts(counts, flows_by_path, requests)
        unit = "events"
    else:
        pair_counts = dict(Counter(r.path for r in pairs))
        summary = _path_counts(pair_counts, pair_counts)
        unit = "pairs"
    findings_raw = doc.get("findings")
    view = ReportView(
        kind=kind,
        schema=_s(doc.get("schema")),
        version=_s(doc.get("pullpath_version")),
        title=_s(doc.get("title")) or TITLES[kind],
        headline="",
        summary=summary,
        summary_unit=unit,
        flows=flows,
        pairs=pairs,
        lab=lab,
        findings=finding_rows(_l(findings_raw)),
        has_findings_section=bool(findings_raw) or kind == "explain",
        inputs=inputs_of(doc),
        extra=_generic_tables(doc),
        changes=change_rows(_l(doc.get("changes"))),
        baseline=_s(doc.get("baseline")),
        disagreements=(sum(1 for r in lab if r.disagrees) if lab else
                       sum(1 for r in flows if r.disagrees)
                       + sum(1 for r in pairs if r.disagrees)),
        registries=tuple(sorted({r.registry for r in flows} | {r.registry for r in pairs})),
        has_requests=bool(requests),
    )
    view.headline = _headline(kind, view)
    if view.baseline:
        view.headline += (f" {len(view.changes):,} pair(s) change path against "
                          f"{view.baseline}.")
    return view
