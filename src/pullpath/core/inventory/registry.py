"""Registry resources -> domain records: registries (network rules, endpoints, role assignment
mode), their private endpoint connections, replications and ACR task agent pools, and the
diagnostic settings that send their logs.

One transform per resource type, REST and SDK shapes alike (see
:mod:`pullpath.core.inventory.fields`). ACR tasks themselves are consumers
(:mod:`pullpath.core.inventory.consumers`); what only a task has is read here
(:func:`task_settings`, :func:`task_pool_subnet`). Pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pullpath.core.inventory.fields import FieldReader, norm_location, uniq
from pullpath.domain.inventory import (
    DiagnosticSetting,
    PrivateEndpointConnection,
    Registry,
    norm_id,
)
from pullpath.domain.resource_id import name_of, parent_of

__all__ = [
    "data_endpoint_regions",
    "empty_registry",
    "task_pool_subnet",
    "task_settings",
    "transform_diagnostic_setting",
    "transform_pec",
    "transform_registry",
    "transform_replication",
    "transform_task_agent_pool",
]

_DATA_HOST = re.compile(r"^[a-z0-9-]+\.([a-z0-9]+)\.data\.azurecr\.(?:io|us|cn)$")


def data_endpoint_regions(host_names: tuple[str, ...]) -> tuple[str, ...]:
    """Regions named by dedicated data endpoint host names (``<name>.<region>.data.azurecr.io``)."""
    out: list[str] = []
    for host in host_names:
        m = _DATA_HOST.match(host.strip().lower())
        if m:
            out.append(m.group(1))
    return uniq(out)


def _vnet_rule_subnets(c: FieldReader, res: Mapping[Any, object]) -> tuple[str, ...]:
    """networkRuleSet.virtualNetworkRules (service-endpoint rules), action Allow."""
    subnets: list[str] = []
    for w, rule in c.objs(res, "networkRuleSet.virtualNetworkRules"):
        action = c.s(rule, "action", w)
        if action and action.lower() != "allow":
            continue
        # REST "id"; older SDK models call it virtual_network_resource_id
        subnet = c.s(rule, "id", w) or c.s(rule, "virtualNetworkResourceId", w)
        subnets.append(subnet.strip().rstrip("/").lower())
    return uniq(subnets)


def transform_pec(c: FieldReader, pec: Mapping[Any, object],
                  where: str = "") -> PrivateEndpointConnection:
    """A private endpoint connection, on its own or in its registry's list."""
    return PrivateEndpointConnection(
        id=norm_id(c.s(pec, "id", where)),
        private_endpoint_id=c.ref(pec, "privateEndpoint", where),
        status=c.s(pec, "privateLinkServiceConnectionState.status", where),
    )


def transform_registry(c: FieldReader, res: Mapping[Any, object], rid: str) -> Registry:
    rules: list[str] = []
    for w, rule in c.objs(res, "networkRuleSet.ipRules"):
        action = c.s(rule, "action", w)
        if action and action.lower() != "allow":
            continue
        # REST "value"; the SDK model calls it ip_address_or_range
        rules.append(c.s(rule, "value", w) or c.s(rule, "ipAddressOrRange", w))
    pecs = [transform_pec(c, pec, w) for w, pec in c.objs(res, "privateEndpointConnections")]
    return Registry(
        id=rid,
        name=c.s(res, "name") or name_of(rid),
        location=norm_location(c.s(res, "location")),
        login_server=c.s(res, "loginServer").lower(),
        sku=c.s(res, "sku.name"),
        public_network_access=c.s(res, "publicNetworkAccess"),
        default_action=c.s(res, "networkRuleSet.defaultAction"),
        ip_rules=uniq(rules),
        bypass=c.s(res, "networkRuleBypassOptions"),
        bypass_for_tasks=c.b(res, "networkRuleBypassAllowedForTasks"),
        private_endpoint_connections=tuple(p for p in pecs if p.id or p.private_endpoint_id),
        data_endpoint_enabled=c.b(res, "dataEndpointEnabled"),
        admin_user_enabled=c.b(res, "adminUserEnabled"),
        vnet_rule_subnet_ids=_vnet_rule_subnets(c, res),
        role_assignment_mode=c.s(res, "roleAssignmentMode"),
        data_endpoint_regions=data_endpoint_regions(c.strs(res, "dataEndpointHostNames")),
    )


def empty_registry(rid: str) -> Registry:
    """A registry known only from its children (connections, replications): every setting
    unknown."""
    return Registry(
        id=rid,
        name=name_of(rid),
        location="",
        login_server="",
        sku="",
        public_network_access="",
        default_action="",
        ip_rules=(),
        bypass="",
        bypass_for_tasks=None,
        private_endpoint_connections=(),
        data_endpoint_enabled=None,
        admin_user_enabled=None,
    )


def transform_replication(c: FieldReader, res: Mapping[Any, object],
                          rid: str) -> tuple[str, str]:
    """(registry id, replica location); the location is "" when not given."""
    return parent_of(rid, "replications"), norm_location(c.s(res, "location"))


def transform_task_agent_pool(c: FieldReader, res: Mapping[Any, object], rid: str) -> str:
    """The subnet of an ACR task agent pool ("" when it runs outside any VNet)."""
    return norm_id(c.s(res, "virtualNetworkSubnetResourceId"))


def task_settings(c: FieldReader, res: Mapping[Any, object]) -> dict[str, str]:
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


def transform_diagnostic_setting(c: FieldReader, res: Mapping[Any, object],
                                 rid: str) -> DiagnosticSetting:
    """A diagnostic setting (of a registry: where its logs go)."""
    categories: list[str] = []
    for w, log in c.objs(res, "logs"):
        if c.b(log, "enabled", w) is True:
            categories.append(c.s(log, "category", w) or c.s(log, "categoryGroup", w))
    destinations = [
        norm_id(c.s(res, key))
        for key in ("workspaceId", "storageAccountId", "eventHubAuthorizationRuleId")
    ]
    return DiagnosticSetting(
        id=rid,
        target_id=parent_of(rid, "diagnosticsettings"),
        categories=uniq(categories),
        destinations=uniq(destinations),
    )
