"""The plan as a whole: what ``terraform show -json`` output must look like to be read
(:func:`check_plan_shape`, :class:`TerraformPlanError`), the ARM type each azurerm type is read
as (:data:`ARM_TYPES`), its resource dicts (planned values and state, module by module) with
what ``after_unknown`` marks "known after apply", and the records the reader and the
transforms share: a resource instance, a reference and what a reference may be taken for.
Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from pullpath.core.iac.terraform.addresses import TfAddress

__all__ = ["ARM_TYPES", "PLAN_HINT", "TerraformPlanError", "check_plan_shape"]

PLAN_HINT: Final = "run `terraform plan -out tfplan && terraform show -json tfplan > plan.json`"
"""What to run to get the input this reader wants."""

ARM_TYPES: Final[Mapping[str, str]] = {
    "azurerm_resource_group": "Microsoft.Resources/resourceGroups",
    "azurerm_container_registry": "Microsoft.ContainerRegistry/registries",
    "azurerm_private_endpoint": "Microsoft.Network/privateEndpoints",
    "azurerm_private_dns_zone": "Microsoft.Network/privateDnsZones",
    "azurerm_private_dns_a_record": "Microsoft.Network/privateDnsZones/A",
    "azurerm_private_dns_zone_virtual_network_link":
        "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
    "azurerm_virtual_network": "Microsoft.Network/virtualNetworks",
    "azurerm_subnet": "Microsoft.Network/virtualNetworks/subnets",
    "azurerm_user_assigned_identity": "Microsoft.ManagedIdentity/userAssignedIdentities",
    "azurerm_role_assignment": "Microsoft.Authorization/roleAssignments",
    "azurerm_container_group": "Microsoft.ContainerInstance/containerGroups",
    "azurerm_container_app": "Microsoft.App/containerApps",
    "azurerm_container_app_environment": "Microsoft.App/managedEnvironments",
    "azurerm_kubernetes_cluster": "Microsoft.ContainerService/managedClusters",
    "azurerm_kubernetes_cluster_node_pool": "Microsoft.ContainerService/managedClusters/agentPools",
    "azurerm_linux_web_app": "Microsoft.Web/sites",
    "azurerm_windows_web_app": "Microsoft.Web/sites",
    "azurerm_linux_function_app": "Microsoft.Web/sites",
    "azurerm_windows_function_app": "Microsoft.Web/sites",
    "azurerm_monitor_diagnostic_setting": "Microsoft.Insights/diagnosticSettings",
    "azurerm_nat_gateway": "Microsoft.Network/natGateways",
    "azurerm_public_ip": "Microsoft.Network/publicIPAddresses",
    "azurerm_log_analytics_workspace": "Microsoft.OperationalInsights/workspaces",
}
"""azurerm resource (and data source) type -> the ARM type it is read as."""

_ID_NOT_ARM: Final = frozenset({"azurerm_monitor_diagnostic_setting"})
"""Types whose Terraform ``id`` is not the ARM ID (``<target>|<name>``): always synthesized."""

_MAX_DEPTH: Final = 12


class TerraformPlanError(ValueError):
    """The input is not a Terraform plan this reader can read (one line, with what to run)."""


class _Unknown:
    """A value Terraform knows only after apply."""

    __slots__ = ()


_UNKNOWN: Final = _Unknown()


def _kind(value: object) -> str:
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list):
        return "array"
    return "string" if isinstance(value, str) else type(value).__name__


def check_plan_shape(plan: object) -> None:
    """Raise :class:`TerraformPlanError` unless ``plan`` is ``terraform show -json`` output of a
    plan whose format this reader knows (``format_version`` 1.x)."""
    if not isinstance(plan, Mapping):
        raise TerraformPlanError(f"not a Terraform plan: a JSON {_kind(plan)}; {PLAN_HINT}")
    if "lineage" in plan and "resources" in plan and "serial" in plan:
        raise TerraformPlanError(
            f"this is a Terraform state file (terraform.tfstate), not a plan; {PLAN_HINT}")
    if any(k in plan for k in ("resource", "provider", "terraform", "module")) and (
            "format_version" not in plan):
        raise TerraformPlanError(
            f"this is Terraform configuration (.tf.json), not a plan; {PLAN_HINT}")
    if "resources" in plan and "format_version" not in plan:
        raise TerraformPlanError(
            "this looks like ARM resources or a template, not a Terraform plan (no "
            f"format_version); for a plan {PLAN_HINT}")
    version = plan.get("format_version")
    if not isinstance(version, str):
        raise TerraformPlanError(f"not a Terraform plan (no format_version); {PLAN_HINT}")
    major = version.split(".", 1)[0]
    if major != "1":
        raise TerraformPlanError(
            f"Terraform JSON format_version {version[:20]!r} is not supported (pullpath reads "
            "1.x, written by Terraform 1.0 and later); re-run `terraform show -json` with "
            "Terraform 1.x")
    if not any(k in plan for k in ("planned_values", "resource_changes")):
        if "values" in plan:
            raise TerraformPlanError(
                "this is `terraform show -json` of a state, not of a plan (it has `values`, no "
                f"`planned_values`); {PLAN_HINT}")
        raise TerraformPlanError(
            f"not a Terraform plan (no planned_values or resource_changes); {PLAN_HINT}")


def _walk_module(module: object, depth: int = 0) -> Iterator[Mapping[str, Any]]:
    """Every resource dict of a (planned or state) module and its child modules."""
    if not isinstance(module, Mapping) or depth > _MAX_DEPTH:
        return
    resources = module.get("resources")
    if isinstance(resources, list):
        for res in resources:
            if isinstance(res, Mapping) and isinstance(res.get("address"), str):
                yield res
    children = module.get("child_modules")
    if isinstance(children, list):
        for child in children:
            yield from _walk_module(child, depth + 1)


def _merge_unknown(value: Any, unknown: Any, depth: int = 0) -> Any:
    """``values`` with every place ``after_unknown`` marks replaced by the unknown marker
    (no deeper than any attribute read here: a deeper mark is not followed)."""
    if unknown is True:
        return _UNKNOWN
    if depth > _MAX_DEPTH:
        return value
    if isinstance(unknown, Mapping):
        base = dict(value) if isinstance(value, Mapping) else {}
        if value is not None and not isinstance(value, Mapping):
            return value
        for key, sub in unknown.items():
            merged = _merge_unknown(base.get(key), sub, depth + 1)
            if merged is not None:
                base[key] = merged
        return base
    if isinstance(unknown, list):
        if value is not None and not isinstance(value, list):
            return value
        items = list(value or [])
        items.extend([None] * (len(unknown) - len(items)))
        return [_merge_unknown(v, unknown[i] if i < len(unknown) else False, depth + 1)
                for i, v in enumerate(items)]
    return value


@dataclass
class _Instance:
    address: str
    addr: TfAddress
    values: Mapping[str, Any]
    existing: bool
    config: Mapping[str, Any] | None
    rid: str = ""


@dataclass
class _Ref:
    """What a reference points at: a resource instance's attribute, or a constant."""

    inst: _Instance | None = None
    attr: list[str | int] = field(default_factory=list)
    constant: Any = None


_Accept = Callable[[_Ref], bool]


def _is_id(ref: _Ref) -> bool:
    return ref.attr == ["id"]


def _same_attr(name: str) -> _Accept:
    return lambda ref: ref.attr == [name]


def _rg_name(ref: _Ref) -> bool:
    return ref.attr == ["resource_group_name"] or (
        ref.attr == ["name"] and ref.inst is not None
        and ref.inst.addr.type == "azurerm_resource_group")


_LOGIN_SERVER: Final = _same_attr("login_server")


def _principal_of_identity(ref: _Ref) -> bool:
    return ref.attr == ["principal_id"] and ref.inst is not None and \
        ref.inst.addr.type == "azurerm_user_assigned_identity"

_SUBNET: Final = "microsoft.network/virtualnetworks/subnets"
_UAI: Final = "microsoft.managedidentity/userassignedidentities"
