"""What ``explain`` knows and concludes: knowledge-base entries, derived facts, predictions,
findings.

The knowledge base is data (``pullpath/knowledge/*.yaml``); these are its validated, frozen
forms. Every fact is three-valued: ``True``/``False``/a string when known, ``None`` when the
inventory does not say, and then ``why`` tells what is missing. A rule that needs an unknown fact
does not match, and a prediction that rests on nothing says ``unknown``: never a guess presented
as fact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from pullpath.domain.inventory import Consumer, ConsumerKind, Registry
from pullpath.domain.verdicts import Confidence, Path

FactValue = bool | str | None
"""A fact's value: a boolean, a lower-case enum string, or ``None`` when unknown."""


class FactType(StrEnum):
    BOOL = "bool"
    ENUM = "enum"


@dataclass(frozen=True, slots=True)
class FactSpec:
    """A fact the knowledge base may name in a condition."""

    name: str
    type: FactType
    description: str
    values: tuple[str, ...] = ()
    """Allowed values of an enum fact (lower-case)."""
    scope: str = "pair"
    """``pair`` (consumer and registry) or ``registry`` (the registry alone)."""


DENIALS = ("network", "authorisation", "deployment")
"""What refuses a pull the knowledge base predicts ``denied``: the registry's network rules
(403 "client with IP ... is not allowed access"), authorisation (401/403 for an identity
without a pull role), or the consumer's deployment itself (it fails before any pull)."""

ROLE_MODES = ("rbac", "abac")
"""A registry's role assignment permissions mode: ``rbac`` ("RBAC Registry Permissions", ARM
``roleAssignmentMode`` ``LegacyRegistryPermissions``) or ``abac`` ("RBAC Registry + ABAC
Repository Permissions", ``AbacRepositoryPermissions``)."""

_KINDS = tuple(k.value for k in ConsumerKind if k is not ConsumerKind.UNKNOWN)

FACTS: tuple[FactSpec, ...] = (
    # the consumer
    FactSpec("consumer.kind", FactType.ENUM, "Which service pulls.", _KINDS),
    FactSpec("consumer.in_vnet", FactType.BOOL,
             "The consumer runs in (or is integrated with) a customer VNet subnet."),
    FactSpec("consumer.os", FactType.ENUM, "Container OS (ACI osType, App Service kind).",
             ("linux", "windows")),
    FactSpec("consumer.vnet_image_pull", FactType.BOOL,
             "App Service: image pull routed over VNet integration "
             "(outboundVnetRouting.imagePullTraffic or .allTraffic, or the legacy "
             "vnetImagePullEnabled / WEBSITE_PULL_IMAGE_OVER_VNET)."),
    FactSpec("consumer.outbound_type", FactType.ENUM,
             "AKS networkProfile.outboundType (lower-case).",
             ("loadbalancer", "managednatgateway", "managednatgatewayv2",
              "userassignednatgateway", "userdefinedrouting", "none", "block")),
    FactSpec("consumer.network_isolated", FactType.BOOL,
             "AKS bootstrapProfile.artifactSource is Cache: a network isolated cluster, which "
             "pulls its bootstrap images from a private registry."),
    FactSpec("consumer.virtual_nodes", FactType.BOOL,
             "AKS: the virtual nodes add-on is enabled (addonProfiles.aciConnectorLinux): pods "
             "scheduled on virtual nodes run in Azure Container Instances."),
    FactSpec("consumer.environment_type", FactType.ENUM,
             "Container Apps: the managed environment is a workload profiles environment or a "
             "consumption-only (legacy) one.", ("workload-profiles", "consumption-only")),
    FactSpec("consumer.private_only", FactType.BOOL,
             "The consumer is not an ACR trusted service (ACA, AKS, App Service): behind a "
             "restricted registry it can pull only through a private endpoint or an IP rule."),
    # its credential for this registry
    FactSpec("credential.method", FactType.ENUM, "How the consumer authenticates to the registry.",
             ("user-assigned-identity", "system-assigned-identity", "kubelet-identity",
              "password", "service-principal", "anonymous", "none")),
    FactSpec("credential.managed_identity", FactType.BOOL,
             "The credential is a managed identity (user-assigned, system-assigned or kubelet)."),
    FactSpec("credential.has_pull_role", FactType.BOOL,
             "The pulling identity holds a role that grants pulls in the registry's role "
             "assignment permissions mode, on the registry or a parent scope."),
    # the registry
    FactSpec("registry.known", FactType.BOOL, "The registry is in the inventory.",
             scope="registry"),
    FactSpec("registry.sku", FactType.ENUM, "Registry SKU.", ("basic", "standard", "premium"),
             scope="registry"),
    FactSpec("registry.premium", FactType.BOOL, "The registry is Premium.", scope="registry"),
    FactSpec("registry.role_mode", FactType.ENUM,
             "Role assignment permissions mode: rbac (LegacyRegistryPermissions) or abac "
             "(AbacRepositoryPermissions).", ROLE_MODES, scope="registry"),
    FactSpec("registry.public_network_access", FactType.ENUM, "publicNetworkAccess.",
             ("enabled", "disabled"), scope="registry"),
    FactSpec("registry.default_action", FactType.ENUM, "networkRuleSet.defaultAction.",
             ("allow", "deny"), scope="registry"),
    FactSpec("registry.restricted", FactType.BOOL,
             "Closed to arbitrary public callers (public access disabled or defaultAction Deny).",
             scope="registry"),
    FactSpec("registry.open_to_all", FactType.BOOL,
             "Public access enabled and defaultAction Allow.", scope="registry"),
    FactSpec("registry.trusted_services", FactType.BOOL,
             "networkRuleBypassOptions is AzureServices.", scope="registry"),
    FactSpec("registry.tasks_bypass", FactType.BOOL,
             "networkRuleBypassAllowedForTasks is true (unset counts as false since 2025-06-01).",
             scope="registry"),
    FactSpec("registry.has_ip_rules", FactType.BOOL, "networkRuleSet.ipRules is not empty.",
             scope="registry"),
    FactSpec("registry.has_vnet_rules", FactType.BOOL,
             "networkRuleSet.virtualNetworkRules is not empty: the registry is configured with "
             "service endpoints.", scope="registry"),
    FactSpec("registry.has_approved_pe", FactType.BOOL,
             "At least one private endpoint connection is Approved.", scope="registry"),
    FactSpec("registry.pe_pending_only", FactType.BOOL,
             "Private endpoint connections exist but none is Approved.", scope="registry"),
    FactSpec("registry.premium_only_features", FactType.BOOL,
             "IP rules, virtual network rules or private endpoint connections (Premium-only "
             "features) are configured.",
             scope="registry"),
    FactSpec("registry.pe_in_aci_subnet", FactType.BOOL,
             "A private endpoint of the registry sits in a subnet delegated to ACI.",
             scope="registry"),
    FactSpec("registry.diagnostics_ok", FactType.BOOL,
             "A diagnostic setting sends ContainerRegistryRepositoryEvents and "
             "ContainerRegistryLoginEvents (or allLogs/audit) somewhere.", scope="registry"),
    FactSpec("registry.all_consumers_private", FactType.BOOL,
             "Every consumer of the registry is expected to pull through a private endpoint.",
             scope="registry"),
    FactSpec("registry.trusted_needed", FactType.BOOL,
             "Some consumer of the registry needs the trusted-services bypass.",
             scope="registry"),
    # the registry as seen from this consumer
    FactSpec("registry.ip_rules_cover_egress", FactType.BOOL,
             "Every known outbound public IP of the consumer is inside an IP rule of the registry "
             "(false when public access is disabled or there are no IP rules)."),
    FactSpec("registry.vnet_rule_covers_consumer", FactType.BOOL,
             "A virtual network (service-endpoint) rule of the registry names a subnet the "
             "consumer runs in."),
    FactSpec("pe.in_consumer_vnet", FactType.BOOL,
             "An approved private endpoint of the registry is in a VNet the consumer runs in."),
    FactSpec("dns.zone_present", FactType.BOOL,
             "The privatelink.azurecr.io private DNS zone exists in the inventory."),
    FactSpec("dns.zone_linked", FactType.BOOL,
             "The privatelink.azurecr.io zone is linked to the consumer's VNet."),
    FactSpec("dns.records_ok", FactType.BOOL,
             "The zone has A records for <registry> and <registry>.<region>.data (every region) "
             "and, where regional endpoints are in use, <registry>.<region>.geo."),
    FactSpec("dns.ok", FactType.BOOL, "Zone present, linked and complete."),
    FactSpec("pe.reachable", FactType.BOOL,
             "A private endpoint is in the consumer's VNet and its DNS resolves there."),
)

FACT_SPECS: dict[str, FactSpec] = {f.name: f for f in FACTS}


@dataclass(frozen=True, slots=True)
class Fact:
    """A derived fact: its value (``None`` = unknown) and the sentence that says why."""

    value: FactValue
    why: str

    @property
    def known(self) -> bool:
        return self.value is not None


Facts = dict[str, Fact]


class SourceKind(StrEnum):
    """What a knowledge-base source is. Only ``measured`` is a measurement by pullpath."""

    DOCUMENTED = "documented"
    """Microsoft documentation (a learn.microsoft.com page)."""
    ISSUE = "issue"
    """A public GitHub issue or pull request."""
    FIELD_REPORT = "field-report"
    """The 2024-11-25 field report (observed by a customer, not by pullpath)."""
    MEASURED = "measured"
    """A ``pullpath lab`` run, named by its run ID."""

    @property
    def observation(self) -> bool:
        """Something seen happen (a field report or a lab run), not something written."""
        return self in (SourceKind.FIELD_REPORT, SourceKind.MEASURED)


@dataclass(frozen=True, slots=True)
class KbSource:
    """What a knowledge-base entry rests on."""

    url: str
    """The page (``https://learn.microsoft.com/...``), the issue
    (``https://github.com/<owner>/<repo>/issues/<n>``), the field report
    (``field-report:<YYYY-MM-DD>``) or the lab run (``pullpath-lab:<run-id>``)."""
    verified: str
    """ISO date: the page's ``ms.date``, the quoted post's date, the day of the field report or
    of the lab run."""
    kind: SourceKind
    says: str
    """What the source says: a verbatim quote of the page or post (documentation, issue), or
    exactly what was observed (field report, lab run)."""
    expect: Path | None = None
    """The path this source alone would predict, when it says one (docs vs observation)."""
    run_id: str = ""
    """The lab run of a ``measured`` source (required there, absent elsewhere)."""

    @property
    def verified_date(self) -> date:
        text = self.verified if len(self.verified) > 7 else f"{self.verified}-01"
        return date.fromisoformat(text)


@dataclass(frozen=True, slots=True)
class Condition:
    """``fact`` must (or, with ``negate``, must not) have one of ``values``."""

    fact: str
    values: tuple[bool | str, ...]
    negate: bool = False

    def test(self, value: FactValue) -> bool | None:
        if value is None:
            return None
        hit = value in self.values
        return not hit if self.negate else hit

    def describe(self) -> str:
        vals = ", ".join(str(v).lower() for v in self.values)
        op = "not in" if self.negate else ("=" if len(self.values) == 1 else "in")
        return f"{self.fact} {op} {vals}"


@dataclass(frozen=True, slots=True)
class Behaviour:
    """One knowledge-base entry: consumer and configuration -> expected path."""

    id: str
    consumer: str
    """A consumer kind, or ``any``."""
    title: str
    when: tuple[Condition, ...]
    expect: Path
    confidence: Confidence
    rationale: str
    sources: tuple[KbSource, ...]
    lab: tuple[str, ...] = ()
    """``pullpath lab`` scenarios that re-measure this entry."""
    denied_by: str = ""
    """For ``expect: denied``: what refuses the pull (one of DENIALS)."""

    @property
    def disputed(self) -> bool:
        """Sources disagree on the path (the latest observation wins)."""
        return len({s.expect for s in self.sources if s.expect is not None}) > 1


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "note": 1}[self.value]


@dataclass(frozen=True, slots=True)
class PolicyRef:
    """A built-in Azure Policy definition that covers the same ground."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class FindingSpec:
    """A finding the checks can raise, with its documentation and fix (templates)."""

    id: str
    severity: Severity
    title: str
    scope: str
    """``pair`` (evaluated per consumer and registry) or ``registry``."""
    subject: str
    """Where the finding is located: ``consumer`` or ``registry``."""
    when: tuple[Condition, ...]
    description: str
    detail: str
    """Template (``{{name}}`` placeholders) for the per-resource detail."""
    fix_cli: str
    fix_bicep: str
    docs: tuple[str, ...]
    policy: PolicyRef | None = None
    sources: tuple[KbSource, ...] = ()


@dataclass(frozen=True, slots=True)
class PullRole:
    """A built-in role that allows pulling images."""

    id: str
    """Role definition GUID (lower-case)."""
    name: str
    modes: tuple[str, ...] = ROLE_MODES
    """The role assignment permissions modes in which the role grants pulls."""
    denied_in: tuple[str, ...] = ()
    """The modes in which the documentation says the role grants no pulls. In a mode in
    neither list the role's effect is not documented: a pull role fact built on it is
    unknown."""


CALLER_IDENTITIES = ("managed-identity", "none")
"""How a trusted caller authenticates to a network-restricted registry (the trusted-services
table's "Configure managed identity with RBAC role": Yes / No)."""


@dataclass(frozen=True, slots=True)
class TrustedCaller:
    """A service that pulls from registries without being a consumer pullpath attributes (ACR
    import, Microsoft Defender for Cloud scanning, Azure Machine Learning, Microsoft-hosted
    Azure Pipelines agents): what the audit may name as a possible caller, never as the
    caller."""

    id: str
    name: str
    trusted: bool
    """In the trusted-services table: it may pass a restricted registry's bypass."""
    identity: str
    """One of CALLER_IDENTITIES."""
    evidence: str
    """What in the inventory shows it uses a registry (``ml-workspace``), or "" when nothing
    does."""
    note: str
    """One sentence for reports: how it reaches a registry and what the log shows of it."""
    sources: tuple[KbSource, ...]


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    behaviours: tuple[Behaviour, ...]
    findings: tuple[FindingSpec, ...]
    pull_roles: tuple[PullRole, ...]
    pull_roles_sources: tuple[KbSource, ...] = ()
    callers: tuple[TrustedCaller, ...] = ()
    """Callers that are not consumers, in the order reports list them."""
    origin: tuple[str, ...] = ()
    """Where the entries were loaded from."""

    def finding(self, finding_id: str) -> FindingSpec | None:
        for f in self.findings:
            if f.id == finding_id:
                return f
        return None


@dataclass(frozen=True, slots=True)
class PairPrediction:
    """The knowledge base's prediction for one consumer pulling from one registry."""

    consumer: Consumer
    login_server: str
    registry: Registry | None
    """``None`` when the login server is not in the inventory."""
    expected_path: Path
    rule: str
    """The behaviour that decided (``""`` when none matched)."""
    confidence: Confidence
    reasons: tuple[str, ...]
    sources: tuple[KbSource, ...]
    missing: tuple[str, ...] = ()
    """What the inventory would need to say for a (more certain) prediction."""
    credential: str = ""
    """The credential method used for this registry (``none`` when there is none)."""
    facts: tuple[tuple[str, FactValue], ...] = ()
    """Every derived fact, for transparency (``None`` = unknown)."""
    denied_by: str = ""
    """When ``expected_path`` is denied: network, authorisation or deployment."""

    @property
    def registry_id(self) -> str:
        return self.registry.id if self.registry is not None else ""


@dataclass(frozen=True, slots=True)
class Finding:
    """A finding raised on one resource, with everything needed to act on it."""

    id: str
    severity: Severity
    title: str
    resource_id: str
    related: tuple[str, ...]
    detail: str
    fix_cli: str
    fix_bicep: str
    docs: tuple[str, ...]
    policy: PolicyRef | None = None


TEMPLATE_KEYS: frozenset[str] = frozenset({
    "registry_name", "registry_id", "registry_rg", "registry_location", "login_server",
    "record_name", "zone_name", "subscription", "consumer_name", "consumer_id", "consumer_rg",
    "consumer_kind", "principal_id", "identity_id", "vnet_id", "vnet_name", "vnet_rg",
    "credential", "pe_ids",
})
"""Placeholders a finding's detail and fix templates may use (``{{registry_name}}``); also
``{{why:<fact>}}`` for the sentence behind a fact."""
