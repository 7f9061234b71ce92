"""The customer's resources, as far as pullpath needs them.

Built by ``pullpath.adapters.inventory_files`` (ARM JSON files) or the live Resource Graph
adapter. All resource IDs are lower-case so that they compare equal whatever tool exported
them. Values are frozen; the ``Inventory`` container is built once and then only read.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum

from pullpath.domain.resource_id import name_of


def norm_id(resource_id: str | None) -> str:
    """Lower-case, no trailing slash: ARM IDs are case-insensitive."""
    return (resource_id or "").strip().rstrip("/").lower()


class ConsumerKind(StrEnum):
    ACI = "aci"
    ACA = "aca"
    AKS = "aks"
    APP_SERVICE = "appservice"
    ACR_TASKS = "acr-tasks"
    UNKNOWN = "unknown"

    @property
    def short(self) -> str:
        """The kind in a table column: ``ACI``, ``App Service``, ``?``."""
        return _CONSUMER_LABELS[self][0]

    @property
    def noun(self) -> str:
        """The kind in a sentence, before the consumer's name: ``ACI container group``."""
        return _CONSUMER_LABELS[self][1]


_CONSUMER_LABELS: dict[ConsumerKind, tuple[str, str]] = {
    ConsumerKind.ACI: ("ACI", "ACI container group"),
    ConsumerKind.ACA: ("ACA", "Container App"),
    ConsumerKind.AKS: ("AKS", "AKS cluster"),
    ConsumerKind.APP_SERVICE: ("App Service", "App Service app"),
    ConsumerKind.ACR_TASKS: ("ACR Tasks", "ACR task"),
    ConsumerKind.UNKNOWN: ("?", "consumer"),
}
"""The one table of consumer labels (short, noun): reports, explain and the lab read it."""


def kind_label(kind: str, *, short: bool = False) -> str:
    """:attr:`ConsumerKind.noun` (or ``.short``) of a kind given by its value (``"aci"``, as
    report documents carry it); a value that is no kind is returned as it is."""
    try:
        known = ConsumerKind(kind)
    except ValueError:
        return kind
    return known.short if short else known.noun


@dataclass(frozen=True, slots=True)
class Subnet:
    id: str
    name: str
    vnet_id: str
    prefixes: tuple[str, ...]
    """addressPrefix and addressPrefixes, merged."""
    delegations: tuple[str, ...] = ()
    """Service names, e.g. ``Microsoft.ContainerInstance/containerGroups``."""
    nat_gateway_id: str = ""
    location: str = ""


@dataclass(frozen=True, slots=True)
class VirtualNetwork:
    id: str
    name: str
    location: str
    address_prefixes: tuple[str, ...]
    subnet_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PrivateEndpoint:
    id: str
    name: str
    location: str
    subnet_id: str
    target_ids: tuple[str, ...]
    """privateLinkServiceId of each (manual) connection: the registry it points at."""
    connection_states: tuple[str, ...]
    """Approved / Pending / Rejected / Disconnected, one per connection."""
    group_ids: tuple[str, ...]
    nic_ids: tuple[str, ...]
    private_ips: tuple[str, ...]
    dns_records: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """customDnsConfigs: (fqdn, ip addresses)."""


@dataclass(frozen=True, slots=True)
class IpConfiguration:
    name: str
    private_ip: str
    subnet_id: str
    public_ip_id: str = ""
    member_name: str = ""
    """privateLinkConnectionProperties.requiredMemberName on private endpoint NICs."""
    fqdns: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NetworkInterface:
    id: str
    name: str
    ip_configurations: tuple[IpConfiguration, ...]
    private_endpoint_id: str = ""
    attached_to: str = ""
    """virtualMachine id (or other owner) when known."""


@dataclass(frozen=True, slots=True)
class PublicIp:
    id: str
    name: str
    ip_address: str
    """May be "" for a dynamic address that is not allocated."""
    attached_to: str = ""
    """ipConfiguration id or NAT gateway id when known."""
    prefix_id: str = ""


@dataclass(frozen=True, slots=True)
class NatGateway:
    id: str
    name: str
    public_ip_ids: tuple[str, ...]
    public_ip_prefix_ids: tuple[str, ...]
    subnet_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PrivateEndpointConnection:
    id: str
    private_endpoint_id: str
    status: str
    """Approved, Pending, Rejected, Disconnected."""


@dataclass(frozen=True, slots=True)
class Registry:
    id: str
    name: str
    location: str
    login_server: str
    sku: str
    public_network_access: str
    """Enabled / Disabled ("" when absent)."""
    default_action: str
    """networkRuleSet.defaultAction: Allow / Deny ("" when absent)."""
    ip_rules: tuple[str, ...]
    """networkRuleSet.ipRules[].value (an address or CIDR), action Allow."""
    bypass: str
    """networkRuleBypassOptions: AzureServices / None ("" when absent)."""
    bypass_for_tasks: bool | None
    """networkRuleBypassAllowedForTasks (None when absent)."""
    private_endpoint_connections: tuple[PrivateEndpointConnection, ...]
    data_endpoint_enabled: bool | None
    admin_user_enabled: bool | None
    replica_locations: tuple[str, ...] = ()
    role_assignment_mode: str = ""
    """roleAssignmentMode: LegacyRegistryPermissions / AbacRepositoryPermissions ("" when
    absent)."""
    vnet_rule_subnet_ids: tuple[str, ...] = ()
    """networkRuleSet.virtualNetworkRules[].id (service-endpoint rules), action Allow."""
    data_endpoint_regions: tuple[str, ...] = ()
    """Regions of the dedicated data endpoints (dataEndpointHostNames
    ``<name>.<region>.data.azurecr.io``): the home region and every replica's."""

    @property
    def has_config(self) -> bool:
        """True when the network configuration was in the input: publicNetworkAccess or
        networkRuleSet.defaultAction (a bypass setting alone says nothing about who may enter)."""
        return bool(self.public_network_access or self.default_action)

    @property
    def assumed_defaults(self) -> tuple[str, ...]:
        """Network settings absent from the input, for which the ARM default is assumed."""
        if not self.has_config:
            return ()
        missing = []
        if not self.public_network_access:
            missing.append("publicNetworkAccess (ARM default Enabled)")
        if not self.default_action and self.public_network_access.lower() != "disabled":
            missing.append("networkRuleSet.defaultAction (ARM default Allow)")
        return tuple(missing)

    @property
    def restricted(self) -> bool | None:
        """Is the registry closed to arbitrary public callers? None when unknown."""
        if not self.has_config:
            return None
        if self.public_network_access.lower() == "disabled":
            return True
        return self.default_action.lower() == "deny"

    @property
    def open_to_all(self) -> bool | None:
        """Open to every network: public access not disabled and default action Allow (an
        absent setting takes its ARM default; ``assumed_defaults`` says which)."""
        if not self.has_config:
            return None
        return (
            self.public_network_access.lower() != "disabled"
            and self.default_action.lower() in ("allow", "")
        )

    @property
    def trusted_services_allowed(self) -> bool | None:
        if not self.bypass:
            return None
        return self.bypass.lower() == "azureservices"

    @property
    def approved_private_endpoint_ids(self) -> tuple[str, ...]:
        return tuple(
            c.private_endpoint_id
            for c in self.private_endpoint_connections
            if c.status.lower() == "approved"
        )


@dataclass(frozen=True, slots=True)
class ManagedIdentity:
    """A user-assigned identity resource (or a system-assigned identity of a consumer)."""

    id: str
    name: str
    principal_id: str
    client_id: str


@dataclass(frozen=True, slots=True)
class RegistryCredential:
    """How a consumer authenticates to one registry."""

    server: str
    """Login server, lower-case."""
    method: str
    """``user-assigned-identity``, ``system-assigned-identity``, ``password``, ``kubelet-identity``,
    ``service-principal``, ``anonymous``, or ``unknown``."""
    identity_id: str = ""
    """Resource ID of the user-assigned identity, when the method uses one."""
    username: str = ""
    """The username (never a password: passwords are not read, only whether one is set)."""


@dataclass(frozen=True, slots=True)
class Consumer:
    """A resource that pulls images: ACI group, Container App, AKS cluster, web app, ACR task."""

    kind: ConsumerKind
    id: str
    name: str
    location: str
    subnet_ids: tuple[str, ...] = ()
    private_ips: tuple[str, ...] = ()
    public_ips: tuple[str, ...] = ()
    principal_ids: tuple[str, ...] = ()
    """Principal IDs of every managed identity the consumer holds (system and user)."""
    client_ids: tuple[str, ...] = ()
    identity_ids: tuple[str, ...] = ()
    """Resource IDs of the user-assigned identities it holds."""
    system_identity: bool = False
    credentials: tuple[RegistryCredential, ...] = ()
    images: tuple[str, ...] = ()
    environment_id: str = ""
    """ACA: the managed environment."""
    facts: tuple[tuple[str, str], ...] = ()
    """Kind-specific settings the knowledge base matches on (os, vnet image pull, ...)."""
    public_ip_ids: tuple[str, ...] = ()
    """Public IP resource IDs the consumer egresses from (AKS load-balancer outbound IPs);
    their addresses are in ``public_ips`` when the public IP resource is in the inventory."""

    def fact(self, name: str) -> str | None:
        for k, v in self.facts:
            if k == name:
                return v
        return None


@dataclass(frozen=True, slots=True)
class ManagedEnvironment:
    id: str
    name: str
    location: str
    infrastructure_subnet_id: str
    internal: bool | None
    static_ip: str
    outbound_ips: tuple[str, ...] = ()
    facts: tuple[tuple[str, str], ...] = ()
    """Settings the knowledge base matches on (environment_type: workload-profiles or
    consumption-only)."""

    def fact(self, name: str) -> str | None:
        for k, v in self.facts:
            if k == name:
                return v
        return None


@dataclass(frozen=True, slots=True)
class RoleAssignment:
    id: str
    scope: str
    role_definition_id: str
    principal_id: str
    principal_type: str = ""


@dataclass(frozen=True, slots=True)
class DiagnosticSetting:
    id: str
    target_id: str
    """The resource the setting is on (the registry)."""
    categories: tuple[str, ...]
    """Enabled categories and category groups (``ContainerRegistryRepositoryEvents``,
    ``allLogs``)."""
    destinations: tuple[str, ...]
    """workspace / storage / event hub resource IDs."""


@dataclass(frozen=True, slots=True)
class PrivateDnsZone:
    id: str
    name: str
    a_records: tuple[tuple[str, tuple[str, ...]], ...]
    """(relative record name, addresses)."""
    linked_vnet_ids: tuple[str, ...]
    link_count: int | None = None
    """numberOfVirtualNetworkLinks of the zone resource (None when absent)."""


@dataclass(frozen=True, slots=True)
class PlatformCaller:
    """A resource through which an Azure service, not a consumer, pulls from registries (an
    Azure Machine Learning workspace and the registry it names)."""

    id: str
    name: str
    evidence: str
    """The kind of evidence, as ``TrustedCaller.evidence`` names it (``ml-workspace``)."""
    registry_ids: tuple[str, ...]
    """The registries it uses (lower-case resource IDs)."""
    managed_identity: bool | None = None
    """It has a managed identity (None: not in the inventory)."""
    principal_ids: tuple[str, ...] = ()
    """Principal and client IDs of its managed identities (lower-case), as a log's Identity
    may carry them."""


@dataclass(frozen=True, slots=True)
class InventoryIssue:
    """Something in the inventory pullpath could not use, with where it was."""

    location: str
    resource_id: str
    problem: str


@dataclass(frozen=True, slots=True)
class ResourceConflict:
    """One resource given more than once (IDs compare case-insensitively) with settings that
    differ: the settings in ``fields`` are taken as unknown, and what depends on them is not
    judged (a registry's paths are ``unknown``)."""

    resource_id: str
    what: str
    """The kind of resource, as a reader says it (``registry``, ``public IP``...)."""
    fields: tuple[str, ...]
    """The settings that differ, by their ARM names (``publicNetworkAccess``)."""
    locations: tuple[str, ...]
    """Where each version was read, in input order."""
    detail: str
    """The values per location, in words."""
    versions: tuple[object, ...] = ()
    """The records as read (``Registry``, ``PublicIp``...), in input order: lookups that must
    not miss any version (a public IP's addresses) read them."""

    def describe(self) -> str:
        """``registry acr1 is given 2 times with different publicNetworkAccess (...)``."""
        name = name_of(self.resource_id)
        return (f"{self.what} {name} is given {len(self.locations)} times with different "
                f"{', '.join(self.fields)} ({self.detail})")


_REGIONAL_HOST = re.compile(r"^([a-z0-9][a-z0-9-]*)\.([a-z0-9]+)\.geo\.(azurecr\.(?:io|us|cn))$")


def regional_endpoint(host: str) -> tuple[str, str] | None:
    """(global login server, region) of a registry's regional endpoint
    (``<registry>.<region>.geo.azurecr.io``, a login server for one geo-replica), else None."""
    m = _REGIONAL_HOST.match(host.strip().lower())
    return (f"{m.group(1)}.{m.group(3)}", m.group(2)) if m else None


def global_login_server(host: str) -> str:
    """The registry's login server for a regional endpoint host; any other host unchanged."""
    regional = regional_endpoint(host)
    return regional[0] if regional is not None else host


@dataclass
class Inventory:
    """Everything read from inventory inputs, indexed by lower-case resource ID."""

    vnets: dict[str, VirtualNetwork] = field(default_factory=dict)
    subnets: dict[str, Subnet] = field(default_factory=dict)
    private_endpoints: dict[str, PrivateEndpoint] = field(default_factory=dict)
    nics: dict[str, NetworkInterface] = field(default_factory=dict)
    public_ips: dict[str, PublicIp] = field(default_factory=dict)
    nat_gateways: dict[str, NatGateway] = field(default_factory=dict)
    registries: dict[str, Registry] = field(default_factory=dict)
    identities: dict[str, ManagedIdentity] = field(default_factory=dict)
    consumers: dict[str, Consumer] = field(default_factory=dict)
    environments: dict[str, ManagedEnvironment] = field(default_factory=dict)
    role_assignments: dict[str, RoleAssignment] = field(default_factory=dict)
    diagnostic_settings: dict[str, DiagnosticSetting] = field(default_factory=dict)
    dns_zones: dict[str, PrivateDnsZone] = field(default_factory=dict)
    platform_callers: dict[str, PlatformCaller] = field(default_factory=dict)
    """Resources of services that pull without being consumers (Machine Learning workspaces)."""
    files: list[str] = field(default_factory=list)
    skipped_files: list[str] = field(default_factory=list)
    """Files in scanned directories that were not read (not ``*.json`` / ``*.json.gz``)."""
    resources_seen: int = 0
    ignored_types: Counter[str] = field(default_factory=Counter)
    issues: list[InventoryIssue] = field(default_factory=list)
    role_assignments_present: bool = False
    """True when the input carried a role-assignment list at all (even an empty one)."""
    diagnostic_settings_present: bool = False
    conflicts: dict[str, ResourceConflict] = field(default_factory=dict)
    """Resources given more than once with settings that differ, by resource ID."""
    without_properties: tuple[str, ...] = ()
    """Resources read only without their properties (``az resource list`` output): their
    settings are unknown."""
    duplicates_merged: int = 0
    """Records of a resource read before that agreed with it (or only filled its blanks), merged
    without a word."""
    _registry_lookup: tuple[tuple[int, int], dict[str, Registry], dict[str, Registry]] | None = (
        field(default=None, repr=False, compare=False)
    )

    @property
    def empty(self) -> bool:
        return self.resources_seen == 0

    def registry_by_login_server(self, login_server: str) -> Registry | None:
        """The registry with this login server. A registry whose ARM JSON lacks ``loginServer``
        matches by name: a login server is always ``<name>.<cloud suffix>``."""
        ls = global_login_server(login_server.lower())
        by_server, by_name = self._registry_index()
        found = by_server.get(ls) or by_name.get(ls.split(".", 1)[0])
        if found is not None and self.registries.get(found.id) is not found:
            self._registry_lookup = None  # a registry was replaced since: index again
            by_server, by_name = self._registry_index()
            found = by_server.get(ls) or by_name.get(ls.split(".", 1)[0])
        return found

    def _registry_index(self) -> tuple[dict[str, Registry], dict[str, Registry]]:
        """Registries by login server (the first with it) and, for those without one, by
        name (the last with it), as a scan in order would find them; rebuilt when
        ``registries`` changed."""
        stamp = (id(self.registries), len(self.registries))
        cached = self._registry_lookup
        if cached is not None and cached[0] == stamp:
            return cached[1], cached[2]
        by_server: dict[str, Registry] = {}
        by_name: dict[str, Registry] = {}
        for r in self.registries.values():
            if r.login_server:
                by_server.setdefault(r.login_server, r)
            elif r.name:
                by_name[r.name.lower()] = r
        self._registry_lookup = (stamp, by_server, by_name)
        return by_server, by_name

    def registry_for(self, login_server: str, resource_id: str = "") -> Registry | None:
        if resource_id:
            r = self.registries.get(norm_id(resource_id))
            if r is not None:
                return r
        return self.registry_by_login_server(login_server) if login_server else None
