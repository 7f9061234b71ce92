"""What each command reports: ``AuditReport``, ``ExplainReport``, ``LabReport``.

Workflows build these from the core's results; formatters (``pullpath.formatters``) only read
them and write bytes. Everything a report shows is a typed value: the flows and their
accounting (``verdicts.AuditResult``), the knowledge base's findings (``explain.Finding``),
the network around the registries (``NetworkView``) and, for the lab, each consumer's
prediction, observation and evidence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

from pullpath.domain.explain import Finding, FindingSpec, PairPrediction
from pullpath.domain.iac import SourceLocation
from pullpath.domain.inventory import ConsumerKind, Subnet, VirtualNetwork, norm_id
from pullpath.domain.verdicts import AuditResult, InventoryInfo, Path, TagsInfo

# ----------------------------------------------------------------------------- the network


@dataclass(frozen=True, slots=True)
class PrivateEndpointView:
    """A private endpoint of a registry, where it is and whether its connection is approved."""

    id: str
    name: str
    subnet_id: str
    vnet_id: str
    status: str
    """The connection state (``Approved``, ``Pending``...); "" when the inventory does not say."""
    private_ips: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RegistryView:
    """A registry's firewall state and private endpoints."""

    id: str
    name: str
    login_server: str
    sku: str
    public_network_access: str
    default_action: str
    bypass: str
    ip_rules: tuple[str, ...]
    private_endpoints: tuple[PrivateEndpointView, ...]


@dataclass(frozen=True, slots=True)
class ConsumerView:
    id: str
    kind: ConsumerKind
    name: str
    subnet_ids: tuple[str, ...]
    """Normalised, sorted, without duplicates."""


@dataclass(frozen=True, slots=True)
class NetworkView:
    """The inventory's network around the registries, for diagrams: where each consumer runs
    and what the registries allow (``core.network.network_view``). Each part sorted by ID."""

    registries: tuple[RegistryView, ...] = ()
    vnets: tuple[VirtualNetwork, ...] = ()
    subnets: tuple[Subnet, ...] = ()
    consumers: tuple[ConsumerView, ...] = ()


# ----------------------------------------------------------------------------- audit


@dataclass(frozen=True, slots=True)
class AuditReport:
    """Everything an audit output shows."""

    result: AuditResult
    tags: TagsInfo
    inventory: InventoryInfo = field(default_factory=InventoryInfo)
    log_sources: tuple[str, ...] = ()
    """Human descriptions of where the logs came from (files, workspace, storage account)."""
    findings: tuple[Finding, ...] = ()
    """Findings from the knowledge base (explain), when an inventory was given."""
    network: NetworkView | None = None
    """The inventory's network around the registries, when an inventory was given."""


# ----------------------------------------------------------------------------- explain


@dataclass(frozen=True, slots=True)
class PathChange:
    """One consumer's predicted path to one registry, before and after a change (``explain
    --baseline``): ``before`` is ``None`` for a pair the baseline does not have (a new
    consumer or a new registry), ``after`` is ``None`` for a pair the change removes."""

    consumer_id: str
    consumer: str
    """What the consumer is called in output (``ACI orders-worker``)."""
    login_server: str
    before: Path | None
    after: Path | None
    before_rule: str = ""
    after_rule: str = ""
    why: tuple[str, ...] = ()
    """The new prediction's reasons, those the old one did not give first (or the old one's,
    for a removed pair)."""

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True, slots=True)
class ExplainReport:
    """Everything ``explain`` outputs."""

    pairs: tuple[PairPrediction, ...]
    findings: tuple[Finding, ...]
    notes: tuple[str, ...] = ()
    """What could not be checked and why (unknowns are never silent)."""
    inventory: InventoryInfo = field(default_factory=InventoryInfo)
    knowledge: tuple[str, ...] = ()
    """Where the knowledge base came from."""
    behaviours: int = 0
    finding_rules: int = 0
    specs: tuple[FindingSpec, ...] = ()
    """Every finding definition (for SARIF rules and documentation links)."""
    network: NetworkView | None = None
    """The inventory's network around the registries, for diagrams."""
    code: tuple[str, ...] = ()
    """The infrastructure code explained (``ARM template main.json``...); empty for an
    inventory of resources that exist."""
    locations: Mapping[str, SourceLocation] = field(default_factory=dict)
    """``norm_id(resource id)`` -> where the code writes that resource."""
    baseline: str = ""
    """What ``changes`` compare against (empty without ``--baseline``)."""
    changes: tuple[PathChange, ...] = ()
    """Every pair whose predicted path differs from the baseline's, new and removed pairs
    included; sorted so the most serious change comes first."""

    def location_of(self, resource_id: str) -> SourceLocation | None:
        return self.locations.get(norm_id(resource_id))


# ----------------------------------------------------------------------------- lab

HELD = "held"
NOT_HELD = "did-not-hold"
NO_CLAIM = "no-claim"

AGREES = "agrees"
DISAGREES = "disagrees"
NOT_OBSERVED = "not-observed"
INCONCLUSIVE = "inconclusive"


class LabScenario(Protocol):
    """What a lab report shows of its scenario (``lab.scenarios.Scenario`` is one)."""

    @property
    def name(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def question(self) -> str: ...

    @property
    def variant(self) -> str: ...

    @property
    def report(self) -> str: ...

    @property
    def ident(self) -> str: ...


@dataclass(frozen=True, slots=True)
class KnowledgeRef:
    """A knowledge-base entry a scenario re-checks."""

    id: str
    statement: str
    """What the entry says today."""
    source: str
    """Documentation URL or measurement it rests on."""
    as_of: str
    """When it was last verified (ISO date)."""


@dataclass(frozen=True, slots=True)
class Claim:
    """A claim about a consumer's path made before the lab runs: what the documentation says, or
    what the field report observed."""

    path: Path
    source: str
    """The documentation URL, or the report (``field report 2024-11-25``)."""
    as_of: str
    """The documentation's date (ms.date) or the report's date (ISO)."""
    says: str = ""
    """The claim in the source's words (documentation: quoted verbatim)."""


@dataclass(frozen=True, slots=True)
class Prediction:
    consumer_key: str
    path: Path
    source: str
    """``explain`` or ``scenario`` (explain not available, or it said nothing)."""
    rule: str
    """Knowledge-base entry the prediction rests on."""
    reasons: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    """What explain said it would need for a more certain prediction."""


@dataclass(frozen=True, slots=True)
class Evidence:
    """One flow seen in the registry's log, as evidence of an observed path."""

    caller_ip: str
    source_kind: str
    service_tag: str
    region: str
    owner: str
    """Resource the caller IP belongs to (subnet, public IP, NAT gateway); "" for none."""
    belongs_to_subscription: bool
    """True when the IP is in a subnet or public IP of the inventoried subscription."""
    operation: str
    result: str
    path: Path
    count: int
    identity: str
    repository: str
    first_seen: datetime | None
    last_seen: datetime | None


@dataclass(frozen=True, slots=True)
class ConsumerResult:
    key: str
    kind: str
    name: str
    resource_id: str
    prediction: Prediction
    expected: Path
    """The scenario's expectation (may differ from explain's prediction)."""
    observed: str
    """A path value, ``deployment-failed`` or ``not-observed``."""
    observed_paths: tuple[Path, ...]
    deployment_errors: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    agreement: str
    """``agrees``, ``disagrees``, ``inconclusive`` (the audit could not decide the path) or
    ``not-observed``."""
    knowledge: KnowledgeRef | None
    """The scenario's own statement of the knowledge it re-checks."""
    knowledge_id: str = ""
    """The knowledge-base entry the prediction rests on (explain's rule, e.g. KB-ACI-002, or
    the scenario's entry when explain is not available)."""
    knowledge_title: str = ""
    knowledge_update: str = ""
    """The entry to update (disagreement) or the re-verification (agreement), dated today."""
    documented: Claim | None = None
    """What the documentation says the path is (from the scenario)."""
    documentation: str = NO_CLAIM
    """Whether the documentation held: ``held``, ``did-not-hold``, ``no-claim`` (it makes
    none for this setup) or ``not-observed``."""


@dataclass(frozen=True)
class LabReport:
    scenario: LabScenario
    run_id: str
    subscription: str
    resource_group: str
    location: str
    started: datetime
    finished: datetime
    consumers: tuple[ConsumerResult, ...]
    unattributed: tuple[Evidence, ...]
    collect: dict[str, Any]
    """How the events were collected (polls, elapsed_s, complete, missing, events, message);
    empty when nothing was collected."""
    audit: AuditReport | None
    warnings: tuple[str, ...] = ()
    torn_down: bool | None = None
    today: date = field(default_factory=lambda: datetime.now(UTC).date())
    trigger: str = ""
    """How the consumers were made to pull again (``stop-start``...), "" when not triggered."""
    triggered: datetime | None = None
