"""What pullpath concludes: sources, paths, consumers, flows, with their reasons.

Every conclusion is three-valued in spirit: a path is proven (with reasons and a
confidence), or ``unknown`` with what is missing. Nothing here is ever a silent guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from pullpath.domain.events import ReadStats
from pullpath.domain.inventory import ConsumerKind


class SourceKind(StrEnum):
    """Where the caller IP is (design: Source, checked in this order)."""

    SUBNET = "subnet"
    CUSTOMER_PUBLIC_IP = "customer-public-ip"
    PRIVATE_UNMAPPED = "private-unmapped"
    AZURE_PLATFORM = "azure-platform"
    INTERNET = "internet"
    INVALID = "invalid"
    """Empty, garbage, or not an address at all."""


class Path(StrEnum):
    """How the request got through the registry's network rules (design: Path)."""

    PRIVATE_ENDPOINT = "private-endpoint"
    TRUSTED_SERVICE = "trusted-service"
    FIREWALL_RULE = "firewall-rule"
    PUBLIC = "public"
    DENIED = "denied"
    UNKNOWN = "unknown"


PATH_ORDER: tuple[Path, ...] = tuple(Path)


class Confidence(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Source:
    kind: SourceKind
    ip: str = ""
    """The normalised address (port and brackets removed); "" when invalid."""
    subnet_id: str = ""
    vnet_id: str = ""
    resource_id: str = ""
    """Public IP / NAT gateway / NIC the address belongs to, when known."""
    service_tag: str = ""
    """Most specific service tag containing the address."""
    region: str = ""
    tag_count: int = 0
    """How many service tags contain the address."""
    prefix: str = ""
    """The prefix that matched (subnet, public IP or service tag prefix)."""
    note: str = ""
    """Why the address is invalid, or other remarks."""


@dataclass(frozen=True, slots=True)
class ConsumerRef:
    """Who pulled. ``kind`` unknown with candidates when ambiguous."""

    kind: ConsumerKind
    id: str = ""
    candidates: tuple[str, ...] = ()
    by: str = ""
    """How it was attributed: subnet, private-ip, identity, public-ip, nat-gateway."""

    @staticmethod
    def unknown(candidates: tuple[str, ...] = (), by: str = "") -> ConsumerRef:
        return ConsumerRef(ConsumerKind.UNKNOWN, "", candidates, by)


@dataclass(frozen=True, slots=True)
class PathVerdict:
    path: Path
    confidence: Confidence
    reasons: tuple[str, ...]
    missing: tuple[str, ...] = ()
    """What evidence was missing (for ``unknown`` and lowered confidence)."""
    denial: str = ""
    """For denied: ``firewall``, ``authorisation``, ``not-found`` or ``unknown``."""


@dataclass(frozen=True, slots=True)
class Expectation:
    """What the knowledge base predicts for a consumer and registry."""

    path: Path
    rule: str
    agrees: bool | None


@dataclass(slots=True)
class Flow:
    """Events sharing registry, operation, repository, tag, caller IP, identity, result, path
    and consumer, with their count and first/last time.

    Not frozen, unlike the values it holds: a frozen dataclass sets each of its 16 fields
    through ``object.__setattr__`` (1.6 us a flow against 0.2 us), 40-50 ms of CPU at the
    bench's 34,000 flows. Like the ``AuditResult`` that holds it, it is read only once built
    (``core.audit.build_flows``)."""

    registry: str
    operation: str
    repository: str
    tag: str
    caller_ip: str
    identity: str
    result: str
    count: int
    first_seen: datetime | None
    last_seen: datetime | None
    source: Source
    verdict: PathVerdict
    consumer: ConsumerRef
    registry_id: str = ""
    table: str = ""
    expectation: Expectation | None = None

    @property
    def path(self) -> Path:
        return self.verdict.path


REQUEST_KINDS = ("pulls", "logins", "other")
"""How ``AuditSummary`` counts requests apart (``request_kind``)."""


def request_kind(table: str, operation: str) -> str:
    """``logins`` for a ``ContainerRegistryLoginEvents`` row (or an operation named Login),
    ``pulls`` for a Pull, ``other`` for the rest (Push, Delete, Untag...)."""
    op = operation.strip().lower()
    if table == "ContainerRegistryLoginEvents" or op == "login":
        return "logins"
    return "pulls" if op == "pull" else "other"


@dataclass
class AuditSummary:
    events: int = 0
    by_path: dict[str, int] = field(default_factory=dict)
    by_source: dict[str, int] = field(default_factory=dict)
    disagreements: int = 0
    requests: dict[str, int] = field(default_factory=dict)
    """Events by ``request_kind``: pulls, logins and other operations, counted apart."""
    by_path_requests: dict[str, dict[str, int]] = field(default_factory=dict)
    """Path -> events by ``request_kind``."""


@dataclass
class AuditResult:
    """The core's audit of the events (``core.audit.build_flows``): filled while it is built,
    read only afterwards."""

    flows: list[Flow]
    summary: AuditSummary
    stats: ReadStats
    newest_event: datetime | None = None
    warnings: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    """Inputs whose absence made verdicts unknown (deduplicated)."""
    unclassified_events: int = 0
    """Events read but not classified: their groups were not held (``MAX_READ_GROUPS``) or
    their judge keys were beyond ``MAX_JUDGE_KEYS``."""
    unclassified_groups: int = 0
    folded_events: int = 0
    """Events of groups beyond ``MAX_FLOW_GROUPS`` shown in flows whose repository or tag is
    ``FOLDED`` (their verdicts are exact: see ``build_flows``)."""
    folded_groups: int = 0
    folded_flows: int = 0


@dataclass(frozen=True, slots=True)
class TagsInfo:
    """Which service tag data a report used."""

    cloud: str
    change_number: str
    source: str
    published: str = ""
    """ISO date of the tag file, when known."""
    warning: str = ""
    cloud_mismatch: str = ""
    """Set when registries in the audit are in another cloud than the tag file's (their
    login servers' suffix): what and what to do (``--strict`` fails on it)."""


@dataclass(frozen=True, slots=True)
class InventoryInfo:
    """What the inventory inputs held, for the report's input section."""

    files: tuple[str, ...] = ()
    resources: int = 0
    registries: int = 0
    consumers: int = 0
    subnets: int = 0
    ignored_types: tuple[tuple[str, int], ...] = ()
    issues: tuple[tuple[str, str, str], ...] = ()
    """(location, resource id, problem)."""
    duplicates_merged: int = 0
    """Records of resources given more than once that agreed, merged (conflicts are issues)."""
    without_properties: int = 0
    """Resources given only without their properties (``az resource list``)."""
