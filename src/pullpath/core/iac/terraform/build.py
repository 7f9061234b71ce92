""":func:`read_terraform_plan`: the plan's shape checked, its reader built, each resource
instance read by the transform of its azurerm type (:data:`_BUILDERS`, the one table of them;
network first, for the subnets' prefixes), one damaged resource costing only itself, and the
result as an :class:`~pullpath.domain.iac.IacDocument`. Pure.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Final

from pullpath.core.iac.terraform.consumers import (
    _cluster,
    _container_app,
    _container_group,
    _environment,
    _node_pool,
    _web_app,
)
from pullpath.core.iac.terraform.dns import _dns_a_record, _dns_link, _dns_zone
from pullpath.core.iac.terraform.identity import _role_assignment, _user_identity
from pullpath.core.iac.terraform.monitor import _diagnostic_setting, _plain
from pullpath.core.iac.terraform.network import (
    _nat_gateway,
    _private_endpoint,
    _public_ip,
    _subnet,
    _vnet,
)
from pullpath.core.iac.terraform.plan import (
    ARM_TYPES,
    TerraformPlanError,
    _Instance,
    check_plan_shape,
)
from pullpath.core.iac.terraform.reader import _Reader
from pullpath.core.iac.terraform.registry import _registry
from pullpath.domain.iac import IacDocument, IacKind, SourceLocation
from pullpath.domain.inventory import norm_id
from pullpath.domain.resource_id import type_of

__all__ = ["read_terraform_plan"]

_LINK_TYPES: Final = frozenset(t.lower() for t in ARM_TYPES.values()) - {
    "microsoft.resources/resourcegroups", "microsoft.operationalinsights/workspaces"}
"""ARM types an ID named by a link (a subnet, an identity, a registry...) must be of to go in
``refers_to`` when the plan does not describe it."""

_PUBLIC_SUFFIX: Final = {"public": "azurecr.io"}
"""Login servers are ``<name>.azurecr.io`` in Azure public cloud (container-registry-endpoint-
reference: "Global endpoint | myregistry.azurecr.io"); other clouds come from the knowledge
base through ``registry_suffixes``."""


_BUILDERS: Final[Mapping[str, Callable[[_Reader, _Instance], None]]] = {
    "azurerm_container_registry": _registry,
    "azurerm_private_endpoint": _private_endpoint,
    "azurerm_private_dns_zone": _dns_zone,
    "azurerm_private_dns_a_record": _dns_a_record,
    "azurerm_private_dns_zone_virtual_network_link": _dns_link,
    "azurerm_virtual_network": _vnet,
    "azurerm_subnet": _subnet,
    "azurerm_user_assigned_identity": _user_identity,
    "azurerm_role_assignment": _role_assignment,
    "azurerm_container_group": _container_group,
    "azurerm_container_app": _container_app,
    "azurerm_container_app_environment": _environment,
    "azurerm_kubernetes_cluster": _cluster,
    "azurerm_kubernetes_cluster_node_pool": _node_pool,
    "azurerm_linux_web_app": _web_app,
    "azurerm_windows_web_app": _web_app,
    "azurerm_linux_function_app": _web_app,
    "azurerm_windows_function_app": _web_app,
    "azurerm_monitor_diagnostic_setting": _diagnostic_setting,
    "azurerm_nat_gateway": _nat_gateway,
    "azurerm_public_ip": _public_ip,
    "azurerm_log_analytics_workspace": _plain,
}

_ORDER: Final = ("azurerm_virtual_network", "azurerm_subnet")
"""Built first: a private endpoint's stand-in addresses come from its subnet's prefix."""


def read_terraform_plan(
    plan: Mapping[str, Any], *, path: str,
    locate: Callable[[str], SourceLocation | None] | None = None,
    subscription: str | None = None,
    role_ids: Mapping[str, str] | None = None,
    registry_suffixes: Mapping[str, str] | None = None,
) -> IacDocument:
    """The azurerm resources of ``terraform show -json`` output as ARM resource JSON.

    ``path`` is the plan file as the user named it (locations without a ``.tf`` line point at
    it); ``locate`` maps a Terraform address to where its block is written; ``subscription``
    is the one the plan deploys to (else the plan's ``azurerm_client_config`` /
    ``azurerm_subscription`` data source, else :data:`PLACEHOLDER_SUBSCRIPTION`);
    ``role_ids`` maps built-in role names (``AcrPull``) to their GUIDs, for role assignments
    that name their role by ``role_definition_name``; ``registry_suffixes`` maps the azurerm
    provider's ``environment`` (``public``, ``usgovernment``, ``china``) to the registries'
    login-server suffix (default: ``public`` -> ``azurecr.io``), for the login server of a
    registry the plan creates.

    Raises :class:`TerraformPlanError` (only) when ``plan`` is not a plan of a known format;
    a damaged part of a plan costs only itself (``IacDocument.issues``).
    """
    check_plan_shape(plan)
    notes = []
    if plan.get("errored") is True:
        notes.append("the plan errored (errored: true): it describes only part of the change; "
                     "fix the errors `terraform plan` printed and plan again")
    elif plan.get("complete") is False:
        notes.append("the plan is not complete (complete: false): some changes are deferred "
                     "to a later plan and are not in it")
    r = _Reader(plan, path, locate, subscription, role_ids or {},
                registry_suffixes if registry_suffixes is not None else _PUBLIC_SUFFIX)
    insts = sorted(r.instances.values(),
                   key=lambda i: (0 if i.addr.type in _ORDER else 1))
    for inst in insts:
        builder = _BUILDERS.get(inst.addr.type)
        if builder is None:
            continue  # not a resource the path depends on (associations are read by the NAT)
        try:
            builder(r, inst)
        except Exception as exc:  # last resort: one damaged resource never stops the others
            r.issues.append(f"{inst.address}: could not be read: {type(exc).__name__}: "
                            f"{str(exc)[:200]}")
    ids = {norm_id(res["id"]) for res in r.resources}
    refers = [rid for rid in sorted(r.links) if rid not in ids and type_of(rid) in _LINK_TYPES]
    refers.extend(norm_id(d) for d in r.data_ids if norm_id(d) not in refers)
    try:
        resources = tuple(json.loads(json.dumps(r.resources)))
    except (TypeError, ValueError) as exc:  # a value JSON cannot hold: never expected
        raise TerraformPlanError(f"the plan holds a value that is not JSON: {exc}") from exc
    return IacDocument(
        kind=IacKind.TERRAFORM_PLAN,
        path=path,
        resources=resources,
        locations=r.locations,
        refers_to=tuple(dict.fromkeys(refers)),
        unknowns=tuple(r.unknowns),
        issues=(*notes, *r.issues),
    )
