"""Consumer resources -> domain records: ACI container groups, Container Apps and jobs (and
their managed environments), AKS clusters (and agent pools), App Service / Functions apps
running containers, and ACR tasks.

:func:`transform_consumer` reads any of them, in the REST and the SDK shape alike (see
:mod:`pullpath.core.inventory.fields`), into a :class:`~pullpath.domain.inventory.Consumer`
plus what only the whole inventory resolves (credentials naming an identity by client id, the
registry an ACR task belongs to). Pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from pullpath.core.inventory.fields import (
    FieldReader,
    has_properties,
    json_kind,
    lookup,
    norm_location,
    uniq,
)
from pullpath.core.inventory.identity import (
    ConsumerIdentity,
    credential,
    transform_consumer_identity,
)
from pullpath.core.inventory.registry import task_settings
from pullpath.domain.inventory import (
    Consumer,
    ConsumerKind,
    ManagedEnvironment,
    ManagedIdentity,
    PlatformCaller,
    RegistryCredential,
    norm_id,
)
from pullpath.domain.resource_id import name_of, parent_of

__all__ = [
    "CONSUMER_TYPES",
    "ConsumerRecord",
    "PendingCredential",
    "image_registry",
    "split_image",
    "transform_agent_pool",
    "transform_consumer",
    "transform_environment",
    "transform_ml_workspace",
]

CONSUMER_TYPES: Final = {
    "microsoft.containerinstance/containergroups": ConsumerKind.ACI,
    "microsoft.app/containerapps": ConsumerKind.ACA,
    "microsoft.app/jobs": ConsumerKind.ACA,
    "microsoft.containerservice/managedclusters": ConsumerKind.AKS,
    "microsoft.web/sites": ConsumerKind.APP_SERVICE,
    "microsoft.containerregistry/registries/tasks": ConsumerKind.ACR_TASKS,
}
"""Resource type (lower-case) -> the consumer kind it is read as."""


_IMAGE_HOST = re.compile(r"^[^/]+[.:][^/]*$|^localhost$")


def image_registry(image: str) -> str:
    """Registry host of an image reference (lower-case); "" for Docker Hub short names."""
    ref = image.strip()
    if "|" in ref:  # App Service "DOCKER|host/repo:tag"
        ref = ref.split("|", 1)[1]
    if "/" not in ref:
        return ""
    host = ref.split("/", 1)[0]
    return host.lower() if _IMAGE_HOST.match(host) else ""


def split_image(image: str) -> tuple[str, str, str, str]:
    """(registry host, repository, tag, digest) of an image reference: host, repository and
    digest lower-case, the tag as written; "" for a part it does not give
    (``contosoacr.azurecr.io/orders:1.4.2``, ``host/team/app@sha256:...``, App Service
    ``DOCKER|host/repo:tag``)."""
    ref = image.strip()
    if "|" in ref:
        ref = ref.split("|", 1)[1].strip()
    host = image_registry(ref)
    rest = ref.split("/", 1)[1] if host else ref
    rest, _, digest = rest.partition("@")
    path, _, last = rest.rpartition("/")
    name, _, tag = last.partition(":")
    repository = f"{path}/{name}" if path else name
    return host, repository.lower(), tag, digest.lower()



@dataclass(frozen=True)
class PendingCredential:
    """A consumer's registry credential naming its identity by client id (App Service
    ``acrUserManagedIdentityID``, ACR task custom registries): resolved to the identity's
    resource id once every resource is read."""

    consumer_id: str
    server: str
    client_id: str


@dataclass
class ConsumerParts:
    """What the kind-specific readers collect before the consumer record is made."""

    subnet_ids: list[str] = field(default_factory=list)
    private_ips: list[str] = field(default_factory=list)
    public_ips: list[str] = field(default_factory=list)
    public_ip_ids: list[str] = field(default_factory=list)
    principal_ids: list[str] = field(default_factory=list)
    client_ids: list[str] = field(default_factory=list)
    identity_ids: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    creds: list[tuple[str, str, str]] = field(default_factory=list)
    """(server, identity, username) still to be turned into credentials."""
    fixed_creds: list[RegistryCredential] = field(default_factory=list)
    environment_id: str = ""
    facts: dict[str, str] = field(default_factory=dict)
    identities: list[ManagedIdentity] = field(default_factory=list)
    """Identities the resource describes beyond its ``identity`` block (AKS kubelet)."""


@dataclass(frozen=True)
class ConsumerRecord:
    """A consumer as one resource gives it, with what the builder links at the end."""

    consumer: Consumer
    identities: tuple[ManagedIdentity, ...]
    """Identity fragments to merge into ``Inventory.identities``."""
    pending: tuple[PendingCredential, ...]
    task_registry: str = ""
    """An ACR task's registry."""


def transform_consumer(c: FieldReader, res: Mapping[Any, object], rid: str,
                       rtype: str) -> ConsumerRecord | None:
    """Any consumer resource (``rtype`` in :data:`CONSUMER_TYPES`); None for an App Service
    app that runs no container (not a consumer)."""
    kind = CONSUMER_TYPES[rtype]
    name = c.s(res, "name") or name_of(rid)
    location = norm_location(c.s(res, "location"))
    known = has_properties(res)
    if kind is ConsumerKind.APP_SERVICE and not _is_container_site(c, res):
        return None
    ident = transform_consumer_identity(c, res, rid, name)
    parts = ConsumerParts()
    task_registry = ""
    if kind is ConsumerKind.ACI:
        _aci(c, res, parts, known)
    elif kind is ConsumerKind.ACA:
        _aca(c, res, parts)
    elif kind is ConsumerKind.AKS:
        _aks(c, res, parts, known)
    elif kind is ConsumerKind.APP_SERVICE:
        _web(c, res, parts, known)
    else:
        task_registry = parent_of(rid, "tasks")
        _task(c, res, parts, ident)
    creds: list[RegistryCredential] = []
    pending: list[PendingCredential] = []
    for server, identity, username in parts.creds:
        cred, client_id = credential(server, identity, username)
        if client_id:
            pending.append(PendingCredential(rid, cred.server, client_id))
            parts.client_ids.append(client_id)
        creds.append(cred)
    creds.extend(parts.fixed_creds)
    consumer = Consumer(
        kind=kind,
        id=rid,
        name=name,
        location=location,
        subnet_ids=uniq(parts.subnet_ids),
        private_ips=uniq(parts.private_ips),
        public_ips=uniq(parts.public_ips),
        principal_ids=uniq([*ident.principal_ids, *parts.principal_ids]),
        client_ids=uniq([*ident.client_ids, *parts.client_ids]),
        identity_ids=uniq([*ident.identity_ids, *parts.identity_ids]),
        system_identity=ident.system,
        credentials=tuple(creds),
        images=uniq(parts.images),
        environment_id=parts.environment_id,
        facts=tuple(parts.facts.items()),
        public_ip_ids=uniq(parts.public_ip_ids),
    )
    return ConsumerRecord(consumer, (*ident.fragments, *parts.identities), tuple(pending),
                          task_registry)


def _aci(c: FieldReader, res: Mapping[Any, object], p: ConsumerParts, known: bool) -> None:
    entries = c.objs(res, "subnetIds")
    p.subnet_ids = [norm_id(c.s(e, "id", w)) for w, e in entries]
    ip = c.s(res, "ipAddress.ip")
    if c.s(res, "ipAddress.type").lower() == "private":
        p.private_ips.append(ip)
    else:
        p.public_ips.append(ip)
    for path in ("containers", "initContainers"):
        p.images.extend(c.s(ct, "image", w) for w, ct in c.objs(res, path))
    for w, cred in c.objs(res, "imageRegistryCredentials"):
        # the password is never read
        p.creds.append(
            (c.s(cred, "server", w), c.s(cred, "identity", w), c.s(cred, "username", w))
        )
    os_type = c.s(res, "osType").lower()
    if os_type:
        p.facts["os"] = os_type
    if any(p.subnet_ids):
        p.facts["in_vnet"] = "true"
    elif known and not entries:
        p.facts["in_vnet"] = "false"
    # subnetIds present but unusable (e.g. an ARM expression): in_vnet stays unknown

def _aca(c: FieldReader, res: Mapping[Any, object], p: ConsumerParts) -> None:
    p.environment_id = norm_id(c.s(res, "managedEnvironmentId") or c.s(res, "environmentId"))
    for path in ("template.containers", "template.initContainers"):
        p.images.extend(c.s(ct, "image", w) for w, ct in c.objs(res, path))
    for w, reg in c.objs(res, "configuration.registries"):
        p.creds.append(
            (c.s(reg, "server", w), c.s(reg, "identity", w), c.s(reg, "username", w))
        )
    p.public_ips.extend(c.ips(res, "outboundIpAddresses"))

def _aks(c: FieldReader, res: Mapping[Any, object], p: ConsumerParts, known: bool) -> None:
    pools = c.objs(res, "agentPoolProfiles")
    node_subnets = [norm_id(c.s(pool, "vnetSubnetID", w)) for w, pool in pools]
    pod_subnets = [norm_id(c.s(pool, "podSubnetID", w)) for w, pool in pools]
    p.subnet_ids = [*node_subnets, *pod_subnets]
    outbound = c.s(res, "networkProfile.outboundType")
    if outbound:
        p.facts["outbound_type"] = outbound
    if any(node_subnets):
        p.facts["in_vnet"] = "true"
    elif known and pools and all(c.get(pool, "vnetSubnetID", w) is None for w, pool in pools):
        p.facts["in_vnet"] = "false"  # a subnet given but unusable (an expression): unknown
    p.public_ip_ids = list(_aks_egress_ip_ids(c, res))
    p.facts.update(_aks_settings(c, res))
    kubelet = c.get(res, "identityProfile")
    if isinstance(kubelet, Mapping):
        kid = lookup(kubelet, "kubeletidentity")
        if kid is not None:
            w = "identityProfile.kubeletidentity."
            resource_id = norm_id(c.s(kid, "resourceId", w))
            object_id = norm_id(c.s(kid, "objectId", w))
            client_id = norm_id(c.s(kid, "clientId", w))
            p.principal_ids.append(object_id)
            p.client_ids.append(client_id)
            p.identity_ids.append(resource_id)
            p.fixed_creds.append(RegistryCredential("", "kubelet-identity", resource_id))
            if resource_id and (object_id or client_id):
                identity = ManagedIdentity(
                    resource_id, name_of(resource_id), object_id, client_id
                )
                p.identities.append(identity)
    elif kubelet is not None:
        c.issue(f"expected an object at identityProfile, got {json_kind(kubelet)}")
    sp_client = c.s(res, "servicePrincipalProfile.clientId")
    if (
        sp_client
        and sp_client.lower() != "msi"
        and not any(cr.method == "kubelet-identity" for cr in p.fixed_creds)
    ):
        p.fixed_creds.append(RegistryCredential("", "service-principal", username=sp_client))

def _is_container_site(c: FieldReader, res: Mapping[Any, object]) -> bool:
    kind = c.s(res, "kind").lower()
    if "container" in kind:
        return True
    return any(v.upper().startswith("DOCKER|") for v in _fx_versions(c, res))

def _fx_versions(c: FieldReader, res: Mapping[Any, object]) -> list[str]:
    """linuxFxVersion / windowsFxVersion from siteConfig, or from Resource Graph's
    ``siteProperties.properties`` name/value list."""
    found: list[str] = []
    for name in ("linuxFxVersion", "windowsFxVersion"):
        value = c.s(res, f"siteConfig.{name}")
        if value:
            found.append(value)
    if not found:
        for w, prop in c.objs(res, "siteProperties.properties"):
            pname = c.s(prop, "name", w).lower()
            if pname in ("linuxfxversion", "windowsfxversion"):
                value = c.s(prop, "value", w)
                if value:
                    found.append(value)
    return found

def _web(c: FieldReader, res: Mapping[Any, object], p: ConsumerParts, known: bool) -> None:
    kind = c.s(res, "kind").lower()
    fx = _fx_versions(c, res)
    windows_fx = c.s(res, "siteConfig.windowsFxVersion")
    for value in fx:
        if "|" in value and value.split("|", 1)[0].upper() == "DOCKER":
            p.images.append(value.split("|", 1)[1].strip())
    if "windows" in kind or windows_fx:
        p.facts["os"] = "windows"
    elif "linux" in kind or fx:
        p.facts["os"] = "linux"
    subnet = norm_id(c.s(res, "virtualNetworkSubnetId"))
    p.subnet_ids.append(subnet)
    settings = _app_settings(c, res)
    flags = _web_image_pull_flags(c, res)
    if "WEBSITE_PULL_IMAGE_OVER_VNET" in settings:
        flags.append(settings["WEBSITE_PULL_IMAGE_OVER_VNET"].strip().lower() in ("true", "1"))
    if any(f is True for f in flags):
        p.facts["vnet_image_pull"] = "true"
    elif any(f is False for f in flags):
        p.facts["vnet_image_pull"] = "false"
    if subnet:
        p.facts["in_vnet"] = "true"
    elif known and c.get(res, "virtualNetworkSubnetId") is None:
        p.facts["in_vnet"] = "false"  # a subnet given but unusable (an expression): unknown
    p.public_ips.extend(c.ips(res, "outboundIpAddresses"))
    servers = uniq(image_registry(i) for i in p.images)
    use_mi = c.b(res, "siteConfig.acrUseManagedIdentityCreds")
    if use_mi:
        uami = c.s(res, "siteConfig.acrUserManagedIdentityID")
        for server in servers or ("",):
            p.creds.append((server, uami or "system", ""))
    elif "DOCKER_REGISTRY_SERVER_USERNAME" in settings:
        url = settings.get("DOCKER_REGISTRY_SERVER_URL", "")
        server = re.sub(r"^https?://", "", url.strip(), flags=re.IGNORECASE).rstrip("/")
        username = settings["DOCKER_REGISTRY_SERVER_USERNAME"]
        for srv in uniq([server]) or servers or ("",):
            p.creds.append((srv, "", username))

def _app_settings(c: FieldReader, res: Mapping[Any, object]) -> dict[str, str]:
    """siteConfig.appSettings as a list of {name, value} or an object (passwords skipped)."""
    raw = c.get(res, "siteConfig.appSettings")
    out: dict[str, str] = {}
    pairs: list[tuple[object, object]] = []
    if isinstance(raw, list):
        for item in raw:
            if isinstance(item, Mapping):
                pairs.append((lookup(item, "name"), lookup(item, "value")))
    elif isinstance(raw, Mapping):
        pairs.extend(raw.items())
    elif raw is not None:
        c.issue(f"expected an array at siteConfig.appSettings, got {json_kind(raw)}")
    for key, value in pairs:
        if isinstance(key, str) and isinstance(value, str) and "PASSWORD" not in key.upper():
            out[key.upper()] = value
    return out

def _task(c: FieldReader, res: Mapping[Any, object], p: ConsumerParts,
          ident: ConsumerIdentity) -> None:
    p.facts.update(task_settings(c, res))
    p.facts["system_identity"] = "true" if ident.system else "false"
    # the task's own registry: server filled in at the end from the parent registry
    if ident.system:
        p.fixed_creds.append(RegistryCredential("", "system-assigned-identity"))
    elif ident.identity_ids:
        p.fixed_creds.append(
            RegistryCredential("", "user-assigned-identity", ident.identity_ids[0])
        )
    else:
        p.fixed_creds.append(RegistryCredential("", "unknown"))
    custom = c.get(res, "credentials.customRegistries")
    if isinstance(custom, Mapping):
        for server, cred in custom.items():
            if not isinstance(server, str) or not isinstance(cred, Mapping):
                continue
            w = f"credentials.customRegistries[{server}]."
            username = ""
            if c.s(cred, "userName.type", w).lower() != "vaultsecret":
                username = c.s(cred, "userName.value", w)
            p.creds.append((server, c.s(cred, "identity", w), username))
    elif custom is not None:
        c.issue(f"expected an object at credentials.customRegistries, got {json_kind(custom)}")


def transform_environment(c: FieldReader, res: Mapping[Any, object],
                          rid: str) -> ManagedEnvironment:
    """A Container Apps managed environment: its subnet, addresses and type."""
    return ManagedEnvironment(
        id=rid,
        name=c.s(res, "name") or name_of(rid),
        location=norm_location(c.s(res, "location")),
        infrastructure_subnet_id=norm_id(c.s(res, "vnetConfiguration.infrastructureSubnetId")),
        internal=c.b(res, "vnetConfiguration.internal"),
        static_ip=c.s(res, "staticIp"),
        outbound_ips=c.ips(res, "outboundIpAddresses"),
        facts=tuple(_environment_settings(c, res).items()),
    )


def transform_agent_pool(c: FieldReader, res: Mapping[Any, object],
                         rid: str) -> tuple[str, list[str]]:
    """(cluster id, node and pod subnets) of an AKS agent pool given on its own."""
    subnets = [norm_id(c.s(res, path)) for path in ("vnetSubnetID", "podSubnetID")]
    return parent_of(rid, "agentpools"), [s for s in subnets if s]


def _web_image_pull_flags(c: FieldReader, res: Mapping[Any, object]) -> list[bool | None]:
    """Each setting that routes (True) or does not route (False) an App Service / Functions
    image pull over VNet integration: ``outboundVnetRouting.imagePullTraffic`` and
    ``.allTraffic`` (API 2024-11-01 and later) and the legacy ``vnetImagePullEnabled``. The
    app setting ``WEBSITE_PULL_IMAGE_OVER_VNET`` is read with the other app settings."""
    return [
        c.b(res, "outboundVnetRouting.imagePullTraffic"),
        c.b(res, "outboundVnetRouting.allTraffic"),
        c.b(res, "vnetImagePullEnabled"),
    ]


def _aks_settings(c: FieldReader, res: Mapping[Any, object]) -> dict[str, str]:
    """Consumer facts of an AKS cluster beyond its subnets and kubelet identity: whether it is
    network isolated (``bootstrapProfile.artifactSource`` Cache), the private registry it
    bootstraps from (``bootstrapProfile.containerRegistryId``, a plain resource ID) and whether
    the virtual nodes add-on is enabled (``addonProfiles.aciConnectorLinux.enabled``)."""
    facts: dict[str, str] = {}
    source = c.s(res, "bootstrapProfile.artifactSource")
    if source.lower() in ("cache", "direct"):
        facts["network_isolated"] = "true" if source.lower() == "cache" else "false"
    # the virtual nodes add-on: pods scheduled on virtual nodes run in ACI (virtual-nodes.md)
    virtual = c.b(res, "addonProfiles.aciConnectorLinux.enabled")
    if virtual is None and c.get(res, "addonProfiles.aciConnectorLinux") is None and any(
            c.get(res, key) is not None for key in ("agentPoolProfiles", "networkProfile")):
        virtual = False  # the cluster's properties are read and name no such add-on
    if virtual is not None:
        facts["virtual_nodes"] = "true" if virtual else "false"
    registry = c.s(res, "bootstrapProfile.containerRegistryId")
    if registry:
        facts["bootstrap_registry"] = registry.strip().rstrip("/").lower()
    return facts


def _aks_egress_ip_ids(c: FieldReader, res: Mapping[Any, object]) -> tuple[str, ...]:
    """Public IP resources an AKS cluster egresses from: the load balancer's effective outbound
    IPs (outbound type loadBalancer) and the managed NAT gateway's (managedNATGateway)."""
    return uniq([*c.refs(res, "networkProfile.loadBalancerProfile.effectiveOutboundIPs"),
                  *c.refs(res, "networkProfile.natGatewayProfile.effectiveOutboundIPs")])


def _environment_settings(c: FieldReader, res: Mapping[Any, object]) -> dict[str, str]:
    """Facts of a Container Apps managed environment: a workload profiles environment (its
    ``workloadProfiles`` list names at least one profile) or a consumption-only one (the list is
    empty); absent, the type is unknown."""
    facts: dict[str, str] = {}
    raw = c.get(res, "workloadProfiles")
    if c.objs(res, "workloadProfiles"):
        facts["environment_type"] = "workload-profiles"
    elif isinstance(raw, list):
        facts["environment_type"] = "consumption-only"
    return facts


def transform_ml_workspace(c: FieldReader, res: Mapping[Any, object], rid: str) -> PlatformCaller:
    """An Azure Machine Learning workspace (``Microsoft.MachineLearningServices/workspaces``), a
    caller that is not a consumer: the registry its ``containerRegistry`` names (a resource ID)
    and whether it has a managed identity (``identity.type``)."""
    registry = c.s(res, "containerRegistry").strip().rstrip("/").lower()
    kind = c.s(res, "identity.type").lower()
    ids = [c.s(res, "identity.principalId")]
    uamis = c.get(res, "identity.userAssignedIdentities")
    for uami in uamis.values() if isinstance(uamis, Mapping) else ():
        ids += [c.s(uami, "principalId"), c.s(uami, "clientId")] if isinstance(
            uami, Mapping) else []
    return PlatformCaller(
        id=rid,
        name=c.s(res, "name") or name_of(rid),
        evidence="ml-workspace",
        registry_ids=(registry,) if registry else (),
        managed_identity=(None if not kind else kind not in ("none", "")),
        principal_ids=uniq(i.strip().lower() for i in ids),
    )
