"""Settings the knowledge base needs beyond the core inventory fields (pure: no I/O, no SDK).

Each function reads one family of properties from a resource, in the REST (camelCase) and the
SDK (snake_case) shape alike, through the typed accessor the inventory reader hands it (see
:mod:`pullpath.core.inventory_parse`): a value of the wrong type is an inventory issue and is
treated as absent, never an exception. Kept apart from the reader so that the properties the
knowledge base grows into do not crowd its parsing of the network itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol

from pullpath.domain.inventory import PlatformCaller

__all__ = [
    "Reader",
    "aks_egress_ip_ids",
    "aks_settings",
    "data_endpoint_regions",
    "environment_settings",
    "ml_workspace",
    "registry_settings",
    "task_pool_subnet",
    "task_settings",
    "web_image_pull_flags",
    "zone_link_count",
]

_DATA_HOST = re.compile(r"^[a-z0-9-]+\.([a-z0-9]+)\.data\.azurecr\.(?:io|us|cn)$")


class Reader(Protocol):
    """The typed field access of the inventory reader (``inventory_parse._Ctx``)."""

    def issue(self, problem: str) -> None: ...

    def get(self, obj: object, path: str, where: str = "") -> object | None: ...

    def s(self, obj: object, path: str, where: str = "") -> str: ...

    def b(self, obj: object, path: str, where: str = "") -> bool | None: ...

    def objs(self, obj: object, path: str,
             where: str = "") -> list[tuple[str, Mapping[Any, object]]]: ...

    def strs(self, obj: object, path: str, where: str = "") -> tuple[str, ...]: ...

    def ref(self, obj: object, path: str, where: str = "") -> str: ...

    def refs(self, obj: object, path: str, where: str = "") -> tuple[str, ...]: ...


def _uniq(values: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def data_endpoint_regions(host_names: tuple[str, ...]) -> tuple[str, ...]:
    """Regions named by dedicated data endpoint host names (``<name>.<region>.data.azurecr.io``)."""
    out: list[str] = []
    for host in host_names:
        m = _DATA_HOST.match(host.strip().lower())
        if m:
            out.append(m.group(1))
    return _uniq(out)


def registry_settings(c: Reader, res: Mapping[Any, object]) -> dict[str, Any]:
    """Extra :class:`~pullpath.domain.inventory.Registry` fields: the role assignment mode, the
    service-endpoint (virtual network) rules and the regions of the data endpoints."""
    subnets: list[str] = []
    for w, rule in c.objs(res, "networkRuleSet.virtualNetworkRules"):
        action = c.s(rule, "action", w)
        if action and action.lower() != "allow":
            continue
        # REST "id"; older SDK models call it virtual_network_resource_id
        subnet = c.s(rule, "id", w) or c.s(rule, "virtualNetworkResourceId", w)
        subnets.append(subnet.strip().rstrip("/").lower())
    return {
        "role_assignment_mode": c.s(res, "roleAssignmentMode"),
        "vnet_rule_subnet_ids": _uniq(subnets),
        "data_endpoint_regions": data_endpoint_regions(c.strs(res, "dataEndpointHostNames")),
    }


def web_image_pull_flags(c: Reader, res: Mapping[Any, object]) -> list[bool | None]:
    """Each setting that routes (True) or does not route (False) an App Service / Functions
    image pull over VNet integration: ``outboundVnetRouting.imagePullTraffic`` and
    ``.allTraffic`` (API 2024-11-01 and later) and the legacy ``vnetImagePullEnabled``. The
    app setting ``WEBSITE_PULL_IMAGE_OVER_VNET`` is read with the other app settings."""
    return [
        c.b(res, "outboundVnetRouting.imagePullTraffic"),
        c.b(res, "outboundVnetRouting.allTraffic"),
        c.b(res, "vnetImagePullEnabled"),
    ]


def zone_link_count(c: Reader, res: Mapping[Any, object]) -> int | None:
    """``numberOfVirtualNetworkLinks`` of a private DNS zone (None when absent or not a count)."""
    value = c.get(res, "numberOfVirtualNetworkLinks")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        c.issue("expected a count at numberOfVirtualNetworkLinks")
        return None
    return value


def aks_settings(c: Reader, res: Mapping[Any, object]) -> dict[str, str]:
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


def aks_egress_ip_ids(c: Reader, res: Mapping[Any, object]) -> tuple[str, ...]:
    """Public IP resources an AKS cluster egresses from: the load balancer's effective outbound
    IPs (outbound type loadBalancer) and the managed NAT gateway's (managedNATGateway)."""
    return _uniq([*c.refs(res, "networkProfile.loadBalancerProfile.effectiveOutboundIPs"),
                  *c.refs(res, "networkProfile.natGatewayProfile.effectiveOutboundIPs")])


def environment_settings(c: Reader, res: Mapping[Any, object]) -> dict[str, str]:
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


def task_settings(c: Reader, res: Mapping[Any, object]) -> dict[str, str]:
    """Facts of an ACR task: the dedicated agent pool it runs on (``agentPoolName``); a task
    read with its properties and without a pool runs on the shared agents, outside any VNet."""
    pool = c.s(res, "agentPoolName")
    if pool:
        return {"agent_pool": pool.lower()}
    return {"in_vnet": "false"} if c.get(res, "step") is not None else {}


def task_pool_subnet(facts: dict[str, str], registry_id: str,
                     pools: Mapping[str, str]) -> list[str]:
    """The subnet of the agent pool a task runs on, from the registry's agent pools
    (``registries/<name>/agentPools/<pool>``); sets the task's ``in_vnet`` fact when the pool
    is known (updates ``facts`` in place)."""
    pool = facts.get("agent_pool")
    if not pool or not registry_id:
        return []
    subnet = pools.get(f"{registry_id}/agentpools/{pool}")
    if subnet is None:
        return []  # the pool is not in the inventory: in_vnet stays unknown
    facts["in_vnet"] = "true" if subnet else "false"
    return [subnet] if subnet else []


def ml_workspace(c: Reader, res: Mapping[Any, object], rid: str) -> PlatformCaller:
    """An Azure Machine Learning workspace (``Microsoft.MachineLearningServices/workspaces``):
    the registry its ``containerRegistry`` names (a resource ID) and whether it has a managed
    identity (``identity.type``)."""
    registry = c.s(res, "containerRegistry").strip().rstrip("/").lower()
    kind = c.s(res, "identity.type").lower()
    ids = [c.s(res, "identity.principalId")]
    uamis = c.get(res, "identity.userAssignedIdentities")
    for uami in uamis.values() if isinstance(uamis, Mapping) else ():
        ids += [c.s(uami, "principalId"), c.s(uami, "clientId")] if isinstance(
            uami, Mapping) else []
    return PlatformCaller(
        id=rid,
        name=c.s(res, "name") or rid.rsplit("/", 1)[-1],
        evidence="ml-workspace",
        registry_ids=(registry,) if registry else (),
        managed_identity=(None if not kind else kind not in ("none", "")),
        principal_ids=_uniq([i.strip().lower() for i in ids]),
    )
