"""A Terraform plan (``terraform show -json <planfile>``) -> an IacDocument.

The azurerm resources that decide a pull's path are turned into the ARM REST JSON that
:mod:`pullpath.core.inventory` reads (``id``, ``type``, ``name``, ``location``, ``identity``,
``properties``, camelCase). Pure: no I/O, no environment.

* **Values** come from ``planned_values`` (root module and child modules, recursively) and, for
  resources that exist only there, ``prior_state``; a resource the plan deletes is left out.
  What ``resource_changes[].change.after_unknown`` marks is "known after apply": it becomes
  :func:`~pullpath.domain.iac.unknown_value` and a line in ``IacDocument.unknowns``, never a
  default.
* **IDs**: the known ``id`` where the plan has one (existing resources); else the ARM ID built
  from the resource's ARM type, name and resource group and the subscription.
* **References**: an unknown value is looked up in ``configuration`` (``expressions.*.references``,
  through module calls, their variables and outputs): ``subnet_ids = [azurerm_subnet.aci.id]``
  becomes the synthesized ID of that subnet, so links between resources hold. What cannot be
  resolved stays unknown.
* **Stand-ins**: where Azure fills a value on creation that the prediction needs (a registry's
  login server, a private endpoint's addresses, the A records its DNS zone group writes, the
  approval of a connection its owner creates), the value is the documented one or an address of
  the subnet, and ``unknowns`` says so.

Attribute names follow the azurerm provider documentation (website/docs/r/*.html.markdown of
hashicorp/terraform-provider-azurerm); see docs/terraform.md.
"""

from __future__ import annotations

import ipaddress
import json
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from pullpath.core.iac.platform import runtime_properties
from pullpath.domain.iac import (
    PLACEHOLDER_SUBSCRIPTION,
    IacDocument,
    IacKind,
    SourceLocation,
    is_unknown_value,
    unknown_value,
)
from pullpath.domain.inventory import norm_id
from pullpath.domain.resource_id import name_of, type_of

__all__ = [
    "ARM_TYPES",
    "PLAN_HINT",
    "TerraformPlanError",
    "TfAddress",
    "check_plan_shape",
    "parse_address",
    "read_terraform_plan",
]

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

_ASSOCIATIONS: Final = frozenset({
    "azurerm_subnet_nat_gateway_association", "azurerm_nat_gateway_public_ip_association",
})
"""Resources that only link two others: read into the NAT gateway they name."""

_ID_NOT_ARM: Final = frozenset({"azurerm_monitor_diagnostic_setting"})
"""Types whose Terraform ``id`` is not the ARM ID (``<target>|<name>``): always synthesized."""

_LINK_TYPES: Final = frozenset(t.lower() for t in ARM_TYPES.values()) - {
    "microsoft.resources/resourcegroups", "microsoft.operationalinsights/workspaces"}
"""ARM types an ID named by a link (a subnet, an identity, a registry...) must be of to go in
``refers_to`` when the plan does not describe it."""

_CONSUMER_KINDS: Final = {
    "azurerm_linux_web_app": ("app", "linux"),
    "azurerm_windows_web_app": ("app", "windows"),
    "azurerm_linux_function_app": ("functionapp", "linux"),
    "azurerm_windows_function_app": ("functionapp", "windows"),
}
"""azurerm app type -> (ARM ``kind`` start, OS); ``container`` is added when it runs one."""

_WEB_SETTINGS: Final = ("WEBSITE_PULL_IMAGE_OVER_VNET", "DOCKER_REGISTRY_SERVER_URL",
                        "DOCKER_REGISTRY_SERVER_USERNAME")
"""The only app settings carried over (no secret is ever copied)."""

_ACR_ZONE: Final = "privatelink.azurecr.io"
_PUBLIC_SUFFIX: Final = {"public": "azurecr.io"}
"""Login servers are ``<name>.azurecr.io`` in Azure public cloud (container-registry-endpoint-
reference: "Global endpoint | myregistry.azurecr.io"); other clouds come from the knowledge
base through ``registry_suffixes``."""
_MAX_DEPTH: Final = 12


class TerraformPlanError(ValueError):
    """The input is not a Terraform plan this reader can read (one line, with what to run)."""


class _Unknown:
    """A value Terraform knows only after apply."""

    __slots__ = ()


_UNKNOWN: Final = _Unknown()


# ------------------------------------------------------------------------------ addresses

_STEP = re.compile(r'\.?([A-Za-z_][A-Za-z0-9_-]*)((?:\[(?:"(?:[^"\\]|\\.)*"|[0-9]+|\*)\])*)')


def _steps(address: str) -> list[tuple[str, str]] | None:
    """``module.net["a"].azurerm_subnet.s[0].id`` -> [(module, ""), (net, '["a"]'), ...]; None
    when it is not an address."""
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(address):
        m = _STEP.match(address, pos)
        if m is None or m.end() == pos or (pos > 0 and address[pos] != "."):
            return None
        out.append((m.group(1), m.group(2)))
        pos = m.end()
    return out


@dataclass(frozen=True)
class TfAddress:
    module: str
    """Module instance prefix (``module.net["a"].module.x``), "" for the root module."""
    calls: tuple[str, ...]
    """Module call names (keys dropped): where the configuration is."""
    mode: str
    type: str
    name: str
    key: str

    @property
    def local(self) -> str:
        """The address inside its module, without the key (the configuration's address)."""
        return f"{'data.' if self.mode == 'data' else ''}{self.type}.{self.name}"


def parse_address(address: str) -> TfAddress | None:
    """A resource instance address (``module.net["a"].azurerm_subnet.s[0]``,
    ``data.azurerm_client_config.current``) split into its parts; None when it is not one."""
    steps = _steps(address)
    if not steps:
        return None
    module: list[str] = []
    calls: list[str] = []
    i = 0
    while i + 1 < len(steps) and steps[i] == ("module", ""):
        name, key = steps[i + 1]
        module.append(f"module.{name}{key}")
        calls.append(name)
        i += 2
    mode = "managed"
    if i < len(steps) and steps[i] == ("data", ""):
        mode = "data"
        i += 1
    if len(steps) - i != 2 or steps[i][1]:
        return None
    return TfAddress(".".join(module), tuple(calls), mode, steps[i][0], steps[i + 1][0],
                    steps[i + 1][1])


def _path_parts(path: str) -> list[str | int]:
    """``image_registry_credential[0].server`` -> ["image_registry_credential", 0, "server"]."""
    parts: list[str | int] = []
    for m in re.finditer(r"([^.\[\]]+)|\[(\d+)\]", path):
        parts.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
    return parts


# ------------------------------------------------------------------------------ the plan


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


class _Reader:
    def __init__(self, plan: Mapping[str, Any], path: str,
                 locate: Callable[[str], SourceLocation | None] | None,
                 subscription: str | None, role_ids: Mapping[str, str],
                 registry_suffixes: Mapping[str, str]) -> None:
        self.plan = plan
        self.path = path
        self.locate = locate
        self.role_ids = {k.lower(): v for k, v in role_ids.items()}
        self.unknowns: list[str] = []
        self.issues: list[str] = []
        self.resources: list[dict[str, Any]] = []
        self.locations: dict[str, SourceLocation] = {}
        self.links: set[str] = set()
        self.data_ids: list[str] = []
        self.instances: dict[str, _Instance] = {}
        self._by_local: dict[tuple[str, str], list[_Instance]] = {}
        self._configs = self._index_configuration()
        self._config_index: dict[tuple[str, ...], dict[str, Mapping[str, Any]]] = {}
        self._collect()
        self.subscription = subscription or self._subscription_from_plan()
        if not subscription and self.subscription == PLACEHOLDER_SUBSCRIPTION:
            self.unknowns.append(
                f"subscription: not given and not in the plan (no data.azurerm_client_config or "
                f"data.azurerm_subscription): IDs use the placeholder {PLACEHOLDER_SUBSCRIPTION}; "
                "give the subscription (explain --resource-group-id /subscriptions/<id>/"
                "resourceGroups/<name>) to match an inventory")
        self._id_stack: set[str] = set()
        self.cloud = "public"
        self.registry_suffix = ""
        self._registry_suffix(registry_suffixes)
        self._loc_cache: dict[str, SourceLocation] = {}

    # -- collecting ---------------------------------------------------------------------

    def _index_configuration(self) -> dict[tuple[str, ...], Mapping[str, Any]]:
        out: dict[tuple[str, ...], Mapping[str, Any]] = {}
        cfg = self.plan.get("configuration")
        root = cfg.get("root_module") if isinstance(cfg, Mapping) else None

        def walk(module: object, calls: tuple[str, ...]) -> None:
            if not isinstance(module, Mapping) or len(calls) > _MAX_DEPTH:
                return
            out[calls] = module
            mcalls = module.get("module_calls")
            if isinstance(mcalls, Mapping):
                for name, call in mcalls.items():
                    if isinstance(name, str) and isinstance(call, Mapping):
                        walk(call.get("module"), (*calls, name))

        walk(root, ())
        return out

    def _config_resource(self, addr: TfAddress) -> Mapping[str, Any] | None:
        index = self._config_index.get(addr.calls)
        if index is None:
            module = self._configs.get(addr.calls)
            resources = module.get("resources") if module is not None else None
            index = {res["address"]: res for res in resources if isinstance(res, Mapping)
                     and isinstance(res.get("address"), str)} if isinstance(
                resources, list) else {}
            self._config_index[addr.calls] = index
        return index.get(addr.local)

    def _collect(self) -> None:
        changes: dict[str, Mapping[str, Any]] = {}
        deleted: set[str] = set()
        created: set[str] = set()
        rcs = self.plan.get("resource_changes")
        for rc in rcs if isinstance(rcs, list) else ():
            if not isinstance(rc, Mapping) or not isinstance(rc.get("address"), str):
                continue
            change = rc.get("change")
            if not isinstance(change, Mapping) or rc.get("deposed"):
                continue
            actions = change.get("actions")
            actions = [a for a in actions if isinstance(a, str)] if isinstance(
                actions, list) else []
            if "delete" in actions and "create" not in actions:
                deleted.add(rc["address"])
            if "create" in actions:
                created.add(rc["address"])
            changes[rc["address"]] = change
        planned = self.plan.get("planned_values")
        prior = self.plan.get("prior_state")
        prior_values = prior.get("values") if isinstance(prior, Mapping) else None
        prior_root = prior_values.get("root_module") if isinstance(prior_values, Mapping) else None
        seen: dict[str, tuple[Mapping[str, Any], bool]] = {}
        for res in _walk_module(planned.get("root_module") if isinstance(planned, Mapping)
                                else None):
            seen.setdefault(res["address"], (res, False))
        for res in _walk_module(prior_root):
            seen.setdefault(res["address"], (res, True))
        for address, change in changes.items():
            # a data source read during apply (it depends on what the plan creates): its
            # values are in the change alone, with what is unknown marked
            after = change.get("after")
            if address not in seen and address.split(".", 1)[0] == "data" and isinstance(
                    after, Mapping) and change.get("actions") == ["read"]:
                seen[address] = ({"address": address, "values": after}, False)
        for address, (res, from_prior) in seen.items():
            if address in deleted:
                continue
            addr = parse_address(address)
            if addr is None:
                self.issues.append(f"{address}: not a resource address: not read")
                continue
            values = res.get("values")
            values = values if isinstance(values, Mapping) else {}
            change = changes.get(address)
            if change is not None and not from_prior:
                merged = _merge_unknown(values, change.get("after_unknown"))
                values = merged if isinstance(merged, Mapping) else values
            existing = from_prior or addr.mode == "data" or address not in created
            inst = _Instance(address, addr, values, existing, self._config_resource(addr))
            self.instances[address] = inst
            self._by_local.setdefault((addr.module, addr.local), []).append(inst)

    def _subscription_from_plan(self) -> str:
        for inst in self.instances.values():
            if inst.addr.mode == "data" and inst.addr.type in ("azurerm_client_config",
                                                                 "azurerm_subscription"):
                sub = inst.values.get("subscription_id")
                if isinstance(sub, str) and sub:
                    return sub
        return PLACEHOLDER_SUBSCRIPTION

    # -- values -------------------------------------------------------------------------

    @staticmethod
    def raw(inst: _Instance, path: str | list[str | int]) -> Any:
        cur: Any = inst.values
        for part in _path_parts(path) if isinstance(path, str) else path:
            if isinstance(cur, _Unknown):
                return _UNKNOWN
            if isinstance(part, int):
                cur = cur[part] if isinstance(cur, list) and part < len(cur) else None
            else:
                cur = cur.get(part) if isinstance(cur, Mapping) else None
            if cur is None:
                return None
        return cur

    def blocks(self, inst: _Instance, path: str) -> list[str]:
        """Paths of the nested blocks at ``path`` (``network_rule_set[0]``...)."""
        value = self.raw(inst, path)
        if isinstance(value, list):
            return [f"{path}[{i}]" for i, v in enumerate(value)
                    if isinstance(v, Mapping | _Unknown)]
        if isinstance(value, Mapping):
            return [path]
        return []

    def note_unknown(self, inst: _Instance, path: str, extra: str = "") -> str:
        line = f"{inst.address}.{path}: known after apply{extra}"
        if line not in self.unknowns:
            self.unknowns.append(line)
        return unknown_value(f"known after apply: {inst.address}.{path}")

    def text(self, inst: _Instance, path: str, accept: _Accept | None = None,
             expect: str = "") -> str | None:
        """A string attribute: its value; when it is unknown, the value its expression's one
        reference gives if ``accept`` takes that reference (an ID field takes an ``.id``, a
        server a ``.login_server``: the configuration gives references, not the template around
        them, so ``"${x.login_server}/app:v1"`` must not be read as the login server) and the
        value is an ID of the ARM type ``expect`` (when given); else unknown."""
        value = self.raw(inst, path)
        if value is None:
            return None
        if isinstance(value, _Unknown):
            resolved = self.resolve_value(inst, path, accept) if accept is not None else None
            if isinstance(resolved, str) and (not expect or type_of(resolved) == expect):
                return resolved
            return self.note_unknown(inst, path)
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        self.issues.append(f"{inst.address}.{path}: expected a string, got {_kind(value)}")
        return None

    def flag(self, inst: _Instance, path: str) -> bool | str | None:
        value = self.raw(inst, path)
        if isinstance(value, _Unknown):
            return self.note_unknown(inst, path)
        if value is None or isinstance(value, bool):
            return value
        self.issues.append(f"{inst.address}.{path}: expected true/false, got {_kind(value)}")
        return None

    def link(self, inst: _Instance, path: str, expect: str = "") -> str | None:
        """An attribute naming another resource by ID (of ARM type ``expect``, lower-case,
        when given)."""
        value = self.text(inst, path, _is_id, expect)
        if value and not is_unknown_value(value):
            self.links.add(norm_id(value))
        return value

    def links_of(self, inst: _Instance, path: str, expect: str = "") -> list[str]:
        """A list attribute of IDs; an unknown list is resolved through its references."""
        value = self.raw(inst, path)
        if isinstance(value, _Unknown):
            resolved = self.resolve_list(inst, path)
            if resolved is None or any(expect and type_of(v) != expect for v in resolved):
                return [self.note_unknown(inst, path)]
            out = resolved
        elif isinstance(value, list):
            out = [v for v in (self.text(inst, f"{path}[{i}]", _is_id, expect)
                               for i in range(len(value))) if v]
        elif value is None:
            return []
        else:
            self.issues.append(f"{inst.address}.{path}: expected an array, got {_kind(value)}")
            return []
        for v in out:
            if not is_unknown_value(v):
                self.links.add(norm_id(v))
        return out

    def strings(self, inst: _Instance, path: str) -> list[str]:
        value = self.raw(inst, path)
        if isinstance(value, _Unknown):
            return [self.note_unknown(inst, path)]
        if not isinstance(value, list):
            return []
        return [v for v in (self.text(inst, f"{path}[{i}]") for i in range(len(value))) if v]

    # -- references ---------------------------------------------------------------------

    def _expression(self, inst: _Instance, path: str) -> tuple[Mapping[str, Any], list[str | int]
                                                               ] | None:
        """The configuration expression an attribute path is written with, and the part of
        the path inside its value."""
        if inst.config is None:
            return None
        cur: Any = inst.config.get("expressions")
        parts = _path_parts(path)
        for i, part in enumerate(parts):
            if isinstance(cur, Mapping) and ("references" in cur or "constant_value" in cur):
                return cur, parts[i:]
            if isinstance(part, int):
                if isinstance(cur, list):
                    if len(cur) != 1:
                        return None  # several blocks: which one is which is not known
                    cur = cur[0]
                elif not isinstance(cur, Mapping):
                    return None
            elif isinstance(cur, Mapping):
                cur = cur.get(part)
            else:
                return None
        if isinstance(cur, Mapping) and ("references" in cur or "constant_value" in cur):
            return cur, []
        return None

    def resolve(self, module: str, calls: tuple[str, ...], expr: Mapping[str, Any],
                depth: int) -> list[_Ref] | None:
        """What an expression refers to: one :class:`_Ref` per distinct reference; None when
        any of them cannot be followed."""
        if depth > _MAX_DEPTH:
            return None
        if "constant_value" in expr and not expr.get("references"):
            return [_Ref(constant=expr.get("constant_value"))]
        refs = expr.get("references")
        if not isinstance(refs, list):
            return None
        texts = [r for r in refs if isinstance(r, str)]
        leaves = [r for r in dict.fromkeys(texts)
                  if not any(o != r and (o.startswith(r + ".") or o.startswith(r + "["))
                             for o in texts)]
        out: list[_Ref] = []
        for ref in leaves:
            got = self._follow(module, calls, ref, depth)
            if got is None:
                return None
            out.extend(got)
        return out

    def _follow(self, module: str, calls: tuple[str, ...], ref: str,
                depth: int) -> list[_Ref] | None:
        steps = _steps(ref)
        if not steps:
            return None
        head = steps[0][0]
        if head == "var" and len(steps) >= 2 and not steps[1][1]:
            return self._follow_var(module, calls, steps[1][0], depth)
        if head == "module" and len(steps) >= 3:
            return self._follow_output(module, calls, steps[1], steps[2][0], depth)
        if head in ("local", "each", "count", "path", "terraform", "self"):
            return None
        mode = "managed"
        if head == "data":
            mode, steps = "data", steps[1:]
        if len(steps) < 2 or steps[0][1]:
            return None
        rtype, (rname, key) = steps[0][0], steps[1]
        local = f"{'data.' if mode == 'data' else ''}{rtype}.{rname}"
        candidates = self._by_local.get((module, local), [])
        if key:
            candidates = [c for c in candidates if c.addr.key == key]
        if len(candidates) != 1:
            return None  # not in the plan, or several instances and the reference names none
        attr: list[str | int] = []
        for name, idx in steps[2:]:
            attr.append(name)
            attr.extend(int(k) for k in re.findall(r"\[(\d+)\]", idx))
        return [_Ref(inst=candidates[0], attr=attr)]

    def _each_value(self, inst: _Instance, expr: Mapping[str, Any]) -> list[_Ref] | None:
        """``each.value.<attr>`` of a resource whose ``for_each`` is another resource's
        instances (``for_each = azurerm_user_assigned_identity.pull``): that resource's
        instance of the same key, and the attribute. None for any other expression."""
        refs = [r for r in expr.get("references") or () if isinstance(r, str)]
        leaves = [r for r in refs if r.startswith("each.value.")]
        if len(leaves) != 1 or any(r not in (leaves[0], "each.value") for r in refs) \
                or not inst.addr.key or inst.config is None:
            return None
        each = inst.config.get("for_each_expression")
        sources = each.get("references") if isinstance(each, Mapping) else None
        locals_ = [r for r in sources or () if isinstance(r, str) and "[" not in r
                   and len(r.split(".")) == 2 and not r.startswith(("var.", "local."))]
        if len(locals_) != 1:
            return None
        candidates = [c for c in self._by_local.get((inst.addr.module, locals_[0]), [])
                      if c.addr.key == inst.addr.key]
        if len(candidates) != 1:
            return None
        steps = _steps(leaves[0])
        if not steps or len(steps) < 3:
            return None
        return [_Ref(inst=candidates[0], attr=[name for name, _ in steps[2:]])]

    def _follow_var(self, module: str, calls: tuple[str, ...], name: str,
                    depth: int) -> list[_Ref] | None:
        if not calls:
            variables = self.plan.get("variables")
            var = variables.get(name) if isinstance(variables, Mapping) else None
            if isinstance(var, Mapping) and "value" in var:
                return [_Ref(constant=var["value"])]
            return None
        parent = self._configs.get(calls[:-1])
        mcalls = parent.get("module_calls") if parent is not None else None
        call = mcalls.get(calls[-1]) if isinstance(mcalls, Mapping) else None
        exprs = call.get("expressions") if isinstance(call, Mapping) else None
        expr = exprs.get(name) if isinstance(exprs, Mapping) else None
        parent_module = module.rsplit(".module.", 1)[0] if ".module." in module else ""
        if isinstance(expr, Mapping):
            return self.resolve(parent_module, calls[:-1], expr, depth + 1)
        own = self._configs.get(calls)
        variables = own.get("variables") if own is not None else None
        var = variables.get(name) if isinstance(variables, Mapping) else None
        if isinstance(var, Mapping) and "default" in var:
            return [_Ref(constant=var["default"])]
        return None

    def _follow_output(self, module: str, calls: tuple[str, ...], call: tuple[str, str],
                       output: str, depth: int) -> list[_Ref] | None:
        name, key = call
        child_calls = (*calls, name)
        here = self._configs.get(calls)
        mcalls = here.get("module_calls") if here is not None else None
        cfg = mcalls.get(name) if isinstance(mcalls, Mapping) else None
        if not isinstance(cfg, Mapping):
            return None
        if not key and ("count_expression" in cfg or "for_each_expression" in cfg):
            return None  # which instance of the module is not named
        child = self._configs.get(child_calls)
        outputs = child.get("outputs") if child is not None else None
        out = outputs.get(output) if isinstance(outputs, Mapping) else None
        expr = out.get("expression") if isinstance(out, Mapping) else None
        if not isinstance(expr, Mapping):
            return None
        prefix = f"{module + '.' if module else ''}module.{name}{key}"
        return self.resolve(prefix, child_calls, expr, depth + 1)

    def ref_value(self, ref: _Ref, depth: int = 0) -> Any:
        """The value a reference gives (a string for an ID), or the unknown marker."""
        if ref.inst is None:
            return ref.constant
        inst = ref.inst
        if not ref.attr:
            return _UNKNOWN
        value = self.raw(inst, list(ref.attr))
        if value is not None and not isinstance(value, _Unknown):
            if ref.attr == ["id"] and inst.addr.type in _ID_NOT_ARM:
                return self.id_of(inst)
            return value
        first = ref.attr[0]
        if ref.attr == ["id"] and inst.addr.type in ARM_TYPES:
            return self.id_of(inst)
        if first == "login_server" and inst.addr.type == "azurerm_container_registry":
            server = self.login_server(inst)
            return _UNKNOWN if is_unknown_value(server) else server
        if ref.attr in (["principal_id"], ["client_id"]) and \
                inst.addr.type == "azurerm_user_assigned_identity":
            value = self.identity_ids(inst)[str(first)]
            return _UNKNOWN if is_unknown_value(value) else value
        if ref.attr in (["name"], ["resource_group_name"]) and depth < _MAX_DEPTH:
            resolved = self.resolve_value(inst, str(first), _same_attr(str(first)), depth + 1)
            return resolved if resolved is not None else _UNKNOWN
        return _UNKNOWN

    def resolve_value(self, inst: _Instance, path: str, accept: _Accept,
                      depth: int = 0) -> Any:
        """The value an unknown attribute's expression resolves to (a constant, or a single
        reference ``accept`` takes), or None."""
        found = self._expression(inst, path)
        if found is None:
            return None
        expr, rest = found
        if rest and rest != [0]:
            return None
        refs = self._each_value(inst, expr) or self.resolve(inst.addr.module, inst.addr.calls,
                                                            expr, depth)
        if refs is None or len(refs) != 1 or (refs[0].inst is not None and not accept(refs[0])):
            return None
        value = self.ref_value(refs[0], depth)
        if rest == [0] and isinstance(value, list):
            value = value[0] if len(value) == 1 else None
        return None if isinstance(value, _Unknown) or value is None else value

    def resolve_list(self, inst: _Instance, path: str) -> list[str] | None:
        """An unknown list of IDs resolved reference by reference (as a set: the attributes
        read this way, subnet and identity IDs, are sets)."""
        found = self._expression(inst, path)
        if found is None or found[1]:
            return None
        refs = self.resolve(inst.addr.module, inst.addr.calls, found[0], 0)
        if refs is None:
            return None
        out: list[str] = []
        for ref in refs:
            if ref.inst is not None and not _is_id(ref):
                return None
            value = self.ref_value(ref)
            if isinstance(value, str) and value:
                out.append(value)
            elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                out.extend(value)
            else:
                return None
        return out

    def target(self, inst: _Instance, path: str, accept: _Accept) -> _Instance | None:
        """The resource instance an attribute refers to by a reference ``accept`` takes."""
        found = self._expression(inst, path)
        if found is None:
            return None
        refs = self.resolve(inst.addr.module, inst.addr.calls, found[0], 0)
        if refs is None or len(refs) != 1 or refs[0].inst is None or not accept(refs[0]):
            return None
        return refs[0].inst

    # -- IDs ----------------------------------------------------------------------------

    def name(self, inst: _Instance) -> str:
        value = self.raw(inst, "name")
        if isinstance(value, str) and value:
            return value
        if inst.addr.type == "azurerm_role_assignment":  # a GUID Azure-side: a stand-in one
            guid = str(uuid.uuid5(uuid.NAMESPACE_URL, "pullpath-terraform:" + inst.address))
            line = (f"{inst.address}.name: known after apply: {guid} stands in for it (in the "
                    "role assignment's ID)")
            if line not in self.unknowns:
                self.unknowns.append(line)
            return guid
        resolved = (self.resolve_value(inst, "name", _same_attr("name"))
                    if isinstance(value, _Unknown) else None)
        if isinstance(resolved, str) and resolved:
            return resolved
        placeholder = "unknown-name-" + re.sub(r"[^A-Za-z0-9-]+", "-", inst.address).strip("-")
        line = (f"{inst.address}.name: known after apply: its ID uses the placeholder name "
                f"{placeholder}")
        if line not in self.unknowns:
            self.unknowns.append(line)
        return placeholder

    def resource_group(self, inst: _Instance) -> str:
        value = self.raw(inst, "resource_group_name")
        if isinstance(value, str) and value:
            return value
        resolved = (self.resolve_value(inst, "resource_group_name", _rg_name)
                    if isinstance(value, _Unknown) else None)
        if isinstance(resolved, str) and resolved:
            return resolved
        line = (f"{inst.address}.resource_group_name: not known: its ID uses the placeholder "
                "resource group unknown-resource-group")
        if line not in self.unknowns:
            self.unknowns.append(line)
        return "unknown-resource-group"

    def _rg_id(self, inst: _Instance) -> str:
        return f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group(inst)}"

    def id_of(self, inst: _Instance) -> str:
        if inst.rid:
            return inst.rid
        rtype = inst.addr.type
        known = inst.values.get("id")
        if isinstance(known, str) and known.startswith("/") and rtype not in _ID_NOT_ARM:
            inst.rid = known
            return known
        if inst.address in self._id_stack:
            return ""
        self._id_stack.add(inst.address)
        try:
            inst.rid = self._synthesize_id(inst)
        finally:
            self._id_stack.discard(inst.address)
        return inst.rid

    def _parent_id(self, inst: _Instance, path: str) -> str:
        value = self.text(inst, path, _is_id)
        return value if value and not is_unknown_value(value) else ""

    def _synthesize_id(self, inst: _Instance) -> str:
        rtype = inst.addr.type
        name = self.name(inst)
        arm = ARM_TYPES.get(rtype, "")
        if rtype == "azurerm_resource_group":
            return f"/subscriptions/{self.subscription}/resourceGroups/{name}"
        if rtype == "azurerm_subnet":
            vnet = self.text(inst, "virtual_network_name", _same_attr("name")) or ""
            return (f"{self._rg_id(inst)}/providers/Microsoft.Network/virtualNetworks/{vnet}"
                    f"/subnets/{name}")
        if rtype in ("azurerm_private_dns_a_record",
                     "azurerm_private_dns_zone_virtual_network_link"):
            zone = self.text(inst, "zone_name" if rtype.endswith("a_record")
                             else "private_dns_zone_name", _same_attr("name")) or ""
            child = "A" if rtype.endswith("a_record") else "virtualNetworkLinks"
            return (f"{self._rg_id(inst)}/providers/Microsoft.Network/privateDnsZones/{zone}/"
                    f"{child}/{name}")
        if rtype == "azurerm_kubernetes_cluster_node_pool":
            cluster = self._parent_id(inst, "kubernetes_cluster_id")
            return f"{cluster or '/unknown-cluster'}/agentPools/{name}"
        if rtype == "azurerm_role_assignment":
            scope = self._parent_id(inst, "scope")
            return f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"
        if rtype == "azurerm_monitor_diagnostic_setting":
            target = self._parent_id(inst, "target_resource_id")
            return f"{target}/providers/Microsoft.Insights/diagnosticSettings/{name}"
        if not arm:
            return ""
        return f"{self._rg_id(inst)}/providers/{arm}/{name}"

    # -- stand-ins ----------------------------------------------------------------------

    def login_server(self, inst: _Instance) -> str:
        """The registry's login server; when it is known only after apply,
        ``<name>.<registry suffix of the plan's cloud>`` stands in for it (unknown when the
        cloud's suffix is not known)."""
        value = self.raw(inst, "login_server")
        if isinstance(value, str) and value:
            return value
        if not self.registry_suffix:
            return self.note_unknown(inst, "login_server")
        server = f"{self.name(inst).lower()}.{self.registry_suffix}"
        line = (f"{inst.address}.login_server: known after apply: {server} (the registry's "
                f"name and the {self.cloud} cloud's registry suffix) stands in for it")
        if line not in self.unknowns:
            self.unknowns.append(line)
        return server

    def identity_ids(self, inst: _Instance) -> dict[str, str]:
        """A user-assigned identity's ``principal_id``, ``client_id`` and ``tenant_id``; when
        Azure assigns them at apply, stand-ins derived from its name (the same the ARM reader
        uses, :func:`pullpath.core.iac.platform.runtime_properties`), so a role assignment
        naming ``<identity>.principal_id`` holds for that identity."""
        stand_in = runtime_properties("Microsoft.ManagedIdentity/userAssignedIdentities",
                                      self.name(inst))
        out: dict[str, str] = {}
        used = False
        for attr, key in (("principal_id", "principalId"), ("client_id", "clientId"),
                          ("tenant_id", "tenantId")):
            value = self.raw(inst, attr)
            if isinstance(value, str) and value:
                out[attr] = value
            else:
                out[attr] = stand_in[key]
                used = True
        line = (f"{inst.address}: principal_id and client_id are known after apply: stand-ins "
                "derived from its name are used wherever they are referenced")
        if used and line not in self.unknowns:
            self.unknowns.append(line)
        return out

    def _registry_suffix(self, suffixes: Mapping[str, str]) -> None:
        """The cloud the plan deploys to: the azurerm provider's ``environment`` (``public``
        when not set, its documented default), and that cloud's registry suffix."""
        cfg = self.plan.get("configuration")
        providers = cfg.get("provider_config") if isinstance(cfg, Mapping) else None
        env: Any = "public"
        for key, provider in (providers.items() if isinstance(providers, Mapping) else ()):
            if not (isinstance(key, str) and key.split(".", 1)[0] == "azurerm"
                    and isinstance(provider, Mapping)):
                continue
            exprs = provider.get("expressions")
            given = exprs.get("environment") if isinstance(exprs, Mapping) else None
            if isinstance(given, Mapping):
                env = given.get("constant_value", None)
        self.cloud = env if isinstance(env, str) else "(not a constant)"
        self.registry_suffix = suffixes.get(self.cloud.lower(), "")

    # -- output -------------------------------------------------------------------------

    def where(self, inst: _Instance) -> SourceLocation:
        cached = self._loc_cache.get(inst.address)
        if cached is not None:
            return cached
        loc = None
        if self.locate is not None:
            try:
                loc = self.locate(inst.address)
            except Exception as exc:  # a locator's failure costs only the line numbers
                self.issues.append(f"{inst.address}: its .tf line could not be found: "
                                   f"{type(exc).__name__}")
        if loc is None:
            loc = SourceLocation(file=self.path, address=inst.address)
        self._loc_cache[inst.address] = loc
        return loc

    def emit(self, inst: _Instance, res: dict[str, Any]) -> None:
        rid = res.get("id")
        if not isinstance(rid, str) or not rid:
            return
        self.resources.append(res)
        self.locations.setdefault(norm_id(rid), self.where(inst))
        if inst.addr.mode == "data":
            self.data_ids.append(rid)


# ------------------------------------------------------------------------------ helpers


def _put(obj: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` unless the value is absent (None): an attribute the plan does not give is
    left out, never defaulted."""
    if value is not None:
        obj[key] = value


def _envelope(r: _Reader, inst: _Instance, *, location: bool = True) -> dict[str, Any]:
    res: dict[str, Any] = {"id": r.id_of(inst), "type": ARM_TYPES[inst.addr.type],
                           "name": r.name(inst)}
    if location:
        _put(res, "location", r.text(inst, "location"))
    return res


def _identity(r: _Reader, inst: _Instance, path: str = "identity") -> dict[str, Any] | None:
    blocks = r.blocks(inst, path)
    if not blocks:
        return None
    b = blocks[0]
    out: dict[str, Any] = {}
    _put(out, "type", r.text(inst, f"{b}.type"))
    ids = r.links_of(inst, f"{b}.identity_ids", _UAI)
    if ids:
        out["userAssignedIdentities"] = {i: {} for i in ids}
    if "systemassigned" in str(out.get("type", "")).replace(" ", "").lower():
        _put(out, "principalId", r.text(inst, f"{b}.principal_id"))
    return out


# ------------------------------------------------------------------------------ resources


def _registry(r: _Reader, inst: _Instance) -> None:
    res = _envelope(r, inst)
    sku = r.text(inst, "sku")
    if sku is not None:
        res["sku"] = {"name": sku}
    _put(res, "identity", _identity(r, inst))
    props: dict[str, Any] = {}
    _put(props, "adminUserEnabled", r.flag(inst, "admin_enabled"))
    _put(props, "anonymousPullEnabled", r.flag(inst, "anonymous_pull_enabled"))
    _put(props, "dataEndpointEnabled", r.flag(inst, "data_endpoint_enabled"))
    public = r.flag(inst, "public_network_access_enabled")
    if isinstance(public, bool):
        props["publicNetworkAccess"] = "Enabled" if public else "Disabled"
    else:
        _put(props, "publicNetworkAccess", public)
    _put(props, "networkRuleBypassOptions", r.text(inst, "network_rule_bypass_option"))
    _put(props, "networkRuleBypassAllowedForTasks",
         r.flag(inst, "network_rule_bypass_allowed_for_tasks"))
    for b in r.blocks(inst, "network_rule_set")[:1]:
        rules: dict[str, Any] = {}
        _put(rules, "defaultAction", r.text(inst, f"{b}.default_action"))
        rules["ipRules"] = [
            {k: v for k, v in (("action", r.text(inst, f"{ip}.action")),
                               ("value", r.text(inst, f"{ip}.ip_range"))) if v is not None}
            for ip in r.blocks(inst, f"{b}.ip_rule")]
        props["networkRuleSet"] = rules
    props["loginServer"] = r.login_server(inst)
    rid = res["id"]
    connections = []
    for pe in r.instances.values():
        if pe.addr.type != "azurerm_private_endpoint":
            continue
        for b in r.blocks(pe, "private_service_connection"):
            target = r.link(pe, f"{b}.private_connection_resource_id")
            if not target or norm_id(target) != norm_id(rid):
                continue
            conn: dict[str, Any] = {"privateEndpoint": {"id": r.id_of(pe)}}
            if r.flag(pe, f"{b}.is_manual_connection") is False:
                conn["privateLinkServiceConnectionState"] = {"status": "Approved"}
                if not pe.existing:
                    line = (f"{pe.address}: its connection to {inst.address} is approved "
                            "automatically (is_manual_connection false): Approved stands in "
                            "for the state Azure sets on creation")
                    if line not in r.unknowns:
                        r.unknowns.append(line)
            connections.append({"id": f"{rid}/privateEndpointConnections/{r.name(pe)}",
                                "properties": conn})
    if connections:
        props["privateEndpointConnections"] = connections
    res["properties"] = props
    r.emit(inst, res)
    for b in r.blocks(inst, "georeplications"):
        location = r.text(inst, f"{b}.location")
        if location and not is_unknown_value(location):
            r.emit(inst, {"id": f"{rid}/replications/{location}",
                          "type": "Microsoft.ContainerRegistry/registries/replications",
                          "name": location, "location": location})


def _subnet_props(r: _Reader, inst: _Instance, b: str) -> dict[str, Any]:
    props: dict[str, Any] = {}
    prefixes = r.strings(inst, f"{b}address_prefixes")
    if prefixes:
        props["addressPrefixes"] = prefixes
    delegations = []
    for d in r.blocks(inst, f"{b}delegation"):
        service = next((r.text(inst, f"{s}.name")
                        for s in r.blocks(inst, f"{d}.service_delegation")), None)
        delegations.append({"name": r.text(inst, f"{d}.name") or "",
                            "properties": {"serviceName": service} if service else {}})
    if delegations or isinstance(r.raw(inst, f"{b}delegation"), list):
        props["delegations"] = delegations
    return props


def _vnet(r: _Reader, inst: _Instance) -> None:
    res = _envelope(r, inst)
    props: dict[str, Any] = {}
    space = r.strings(inst, "address_space")
    if space:
        props["addressSpace"] = {"addressPrefixes": space}
    subnets = []
    if inst.addr.mode == "managed":
        for b in r.blocks(inst, "subnet"):
            name = r.text(inst, f"{b}.name")
            if not name or is_unknown_value(name):
                continue
            sid = r.raw(inst, f"{b}.id")
            subnets.append({"name": name,
                            "id": sid if isinstance(sid, str) and sid else
                            f"{res['id']}/subnets/{name}",
                            "properties": _subnet_props(r, inst, f"{b}.")})
    if subnets:
        props["subnets"] = subnets
    res["properties"] = props
    r.emit(inst, res)


def _subnet(r: _Reader, inst: _Instance) -> None:
    res = _envelope(r, inst, location=False)
    res["properties"] = _subnet_props(r, inst, "")
    r.emit(inst, res)


def _subnet_prefix(r: _Reader, subnet_id: str) -> str:
    want = norm_id(subnet_id)
    for res in r.resources:
        if norm_id(res.get("id")) == want:
            prefixes = res.get("properties", {}).get("addressPrefixes") or []
            return next((p for p in prefixes if not is_unknown_value(p)), "")
        for sub in res.get("properties", {}).get("subnets", []) if res.get(
                "type") == "Microsoft.Network/virtualNetworks" else ():
            if norm_id(sub.get("id")) == want:
                prefixes = sub.get("properties", {}).get("addressPrefixes") or []
                return next((p for p in prefixes if not is_unknown_value(p)), "")
    return ""


def _private_endpoint(r: _Reader, inst: _Instance) -> None:
    res = _envelope(r, inst)
    rid = res["id"]
    props: dict[str, Any] = {}
    subnet = r.link(inst, "subnet_id", _SUBNET)
    if subnet is not None:
        props["subnet"] = {"id": subnet}
    registries: list[_Instance] = []
    for b in r.blocks(inst, "private_service_connection"):
        manual = r.flag(inst, f"{b}.is_manual_connection")
        conn: dict[str, Any] = {}
        _put(conn, "privateLinkServiceId", r.link(inst, f"{b}.private_connection_resource_id"))
        groups = r.strings(inst, f"{b}.subresource_names")
        if groups:
            conn["groupIds"] = groups
        if manual is False:
            conn["privateLinkServiceConnectionState"] = {"status": "Approved"}
        key = ("manualPrivateLinkServiceConnections" if manual is True
               else "privateLinkServiceConnections")
        props.setdefault(key, []).append({"name": r.text(inst, f"{b}.name") or "",
                                          "properties": conn})
        target = r.target(inst, f"{b}.private_connection_resource_id", _is_id)
        if target is not None and target.addr.type == "azurerm_container_registry":
            registries.append(target)
    static = {}
    for b in r.blocks(inst, "ip_configuration"):
        member = r.text(inst, f"{b}.member_name")
        address = r.text(inst, f"{b}.private_ip_address")
        if member and address and not is_unknown_value(address):
            static[member.lower()] = address
    records = _registry_records(r, registries, static, subnet or "", inst)
    dns = r.raw(inst, "custom_dns_configs")
    if isinstance(dns, list) and dns:
        props["customDnsConfigs"] = [
            {"fqdn": r.text(inst, f"custom_dns_configs[{i}].fqdn") or "",
             "ipAddresses": r.strings(inst, f"custom_dns_configs[{i}].ip_addresses")}
            for i in range(len(dns))]
    elif records:
        props["customDnsConfigs"] = [{"fqdn": f"{name}.azurecr.io", "ipAddresses": [ip]}
                                     for name, ip in records if ip]
    res["properties"] = props
    r.emit(inst, res)
    for b in r.blocks(inst, "private_dns_zone_group"):
        zones = r.links_of(inst, f"{b}.private_dns_zone_ids",
                             "microsoft.network/privatednszones")
        group_name = r.text(inst, f"{b}.name") or "default"
        r.emit(inst, {
            "id": f"{rid}/privateDnsZoneGroups/{group_name}",
            "type": "Microsoft.Network/privateEndpoints/privateDnsZoneGroups",
            "name": group_name,
            "properties": {"privateDnsZoneConfigs": [
                {"name": name_of(z) or f"zone{i}", "properties": {"privateDnsZoneId": z}}
                for i, z in enumerate(zones)]},
        })
        for zone in zones:
            if is_unknown_value(zone) or name_of(zone).lower() != _ACR_ZONE:
                continue
            for name, ip in records:
                record: dict[str, Any] = {"ttl": 10}
                record["aRecords"] = [{"ipv4Address": ip or r.note_unknown(
                    inst, "private_ip_address", f" (the A record {name} of {_ACR_ZONE})")}]
                r.emit(inst, {"id": f"{zone}/A/{name}", "name": name,
                              "type": "Microsoft.Network/privateDnsZones/A",
                              "properties": record})
            if records and not inst.existing:
                line = (f"{inst.address}: the DNS zone group writes the A records "
                        f"{', '.join(n for n, _ in records)} in {_ACR_ZONE} on creation: "
                        "they stand in for what Azure writes")
                if line not in r.unknowns:
                    r.unknowns.append(line)


def _registry_records(r: _Reader, registries: list[_Instance], static: Mapping[str, str],
                      subnet_id: str, pe: _Instance) -> list[tuple[str, str]]:
    """(record name, address) of each registry endpoint the private endpoint serves:
    ``<registry>`` and ``<registry>.<region>.data`` per region (the registry's and each
    replica's). Addresses: the static ``ip_configuration`` ones, else the first free addresses
    of the subnet (Azure keeps .0-.3), said in ``unknowns``; "" when neither is known."""
    out: list[tuple[str, str]] = []
    for reg in registries:
        name = r.name(reg).lower()
        regions = [r.text(reg, "location") or ""]
        regions += [r.text(reg, f"{b}.location") or "" for b in r.blocks(reg, "georeplications")]
        out.append((name, static.get("registry", "")))
        for region in dict.fromkeys(x.replace(" ", "").lower() for x in regions
                                    if x and not is_unknown_value(x)):
            out.append((f"{name}.{region}.data", static.get(f"registry_data_{region}", "")))
    prefix = _subnet_prefix(r, subnet_id) if subnet_id else ""
    if not prefix or all(ip for _, ip in out) or pe.existing:
        return out
    try:
        network = ipaddress.ip_network(prefix, strict=False)
    except ValueError:
        return out
    free = (str(network.network_address + 4 + i) for i in range(len(out)))
    filled = [(name, ip or next(free)) for name, ip in out]
    given = [f"{ip} ({name})" for (name, ip), (_, old) in zip(filled, out, strict=True) if not old]
    line = (f"{pe.address}: private IP addresses known after apply: the first free addresses "
            f"of subnet {prefix} stand in for them: {', '.join(given)}")
    if line not in r.unknowns:
        r.unknowns.append(line)
    return filled


def _dns_zone(r: _Reader, inst: _Instance) -> None:
    res = _envelope(r, inst, location=False)
    res["location"] = "global"
    res["properties"] = {}
    r.emit(inst, res)


def _dns_a_record(r: _Reader, inst: _Instance) -> None:
    res = _envelope(r, inst, location=False)
    props: dict[str, Any] = {}
    ttl = r.raw(inst, "ttl")
    if isinstance(ttl, int):
        props["ttl"] = ttl
    props["aRecords"] = [{"ipv4Address": ip} for ip in r.strings(inst, "records")]
    res["properties"] = props
    r.emit(inst, res)


def _dns_link(r: _Reader, inst: _Instance) -> None:
    res = _envelope(r, inst, location=False)
    props: dict[str, Any] = {}
    vnet = r.link(inst, "virtual_network_id", "microsoft.network/virtualnetworks")
    if vnet is not None:
        props["virtualNetwork"] = {"id": vnet}
    _put(props, "registrationEnabled", r.flag(inst, "registration_enabled"))
    res["properties"] = props
    r.emit(inst, res)


def _user_identity(r: _Reader, inst: _Instance) -> None:
    res = _envelope(r, inst)
    ids = r.identity_ids(inst)
    props: dict[str, Any] = {key: ids[attr] for key, attr in (
        ("principalId", "principal_id"), ("clientId", "client_id"), ("tenantId", "tenant_id"))}
    res["properties"] = props
    r.emit(inst, res)


def _role_assignment(r: _Reader, inst: _Instance) -> None:
    res = _envelope(r, inst, location=False)
    props: dict[str, Any] = {}
    _put(props, "scope", r.link(inst, "scope"))
    definition = r.raw(inst, "role_definition_id")
    role_name = r.raw(inst, "role_definition_name")
    if isinstance(definition, str) and definition:
        props["roleDefinitionId"] = definition
    elif isinstance(role_name, str) and role_name.lower() in r.role_ids:
        props["roleDefinitionId"] = (f"/subscriptions/{r.subscription}/providers/"
                                     "Microsoft.Authorization/roleDefinitions/"
                                     f"{r.role_ids[role_name.lower()]}")
    elif definition is not None:
        props["roleDefinitionId"] = r.note_unknown(inst, "role_definition_id")
    _put(props, "principalId", r.text(inst, "principal_id", accept=_principal_of_identity))
    _put(props, "principalType", r.text(inst, "principal_type"))
    res["properties"] = props
    r.emit(inst, res)


def _container_group(r: _Reader, inst: _Instance) -> None:
    res = _envelope(r, inst)
    _put(res, "identity", _identity(r, inst))
    props: dict[str, Any] = {}
    _put(props, "osType", r.text(inst, "os_type"))
    _put(props, "sku", r.text(inst, "sku"))
    ip: dict[str, Any] = {}
    _put(ip, "type", r.text(inst, "ip_address_type"))
    address = r.raw(inst, "ip_address")
    if isinstance(address, str) and address:
        ip["ip"] = address
    if ip:
        props["ipAddress"] = ip
    if r.raw(inst, "subnet_ids") is not None:
        props["subnetIds"] = [{"id": s} for s in r.links_of(inst, "subnet_ids", _SUBNET)]
    for key, attr in (("containers", "container"), ("initContainers", "init_container")):
        items = [{"name": r.text(inst, f"{b}.name") or "",
                  "properties": {k: v for k, v in (("image", r.text(inst, f"{b}.image")),)
                                 if v is not None}}
                 for b in r.blocks(inst, attr)]
        if items:
            props[key] = items
    creds = []
    for b in r.blocks(inst, "image_registry_credential"):
        cred: dict[str, Any] = {}
        _put(cred, "server", r.text(inst, f"{b}.server", _LOGIN_SERVER))
        _put(cred, "identity", r.link(inst, f"{b}.user_assigned_identity_id", _UAI))
        _put(cred, "username", r.text(inst, f"{b}.username"))
        creds.append(cred)
    if creds or isinstance(r.raw(inst, "image_registry_credential"), list):
        props["imageRegistryCredentials"] = creds
    res["properties"] = props
    r.emit(inst, res)


def _environment(r: _Reader, inst: _Instance) -> None:
    res = _envelope(r, inst)
    props: dict[str, Any] = {}
    subnet = r.link(inst, "infrastructure_subnet_id", _SUBNET)
    if subnet is not None:
        vnet: dict[str, Any] = {"infrastructureSubnetId": subnet}
        _put(vnet, "internal", r.flag(inst, "internal_load_balancer_enabled"))
        props["vnetConfiguration"] = vnet
    profiles = r.raw(inst, "workload_profile")
    if isinstance(profiles, list):
        # none given: a Consumption-only environment (azurerm container_app_environment docs)
        props["workloadProfiles"] = [
            {k: v for k, v in (("name", r.text(inst, f"{b}.name")),
                               ("workloadProfileType", r.text(inst, f"{b}.workload_profile_type")))
             if v is not None}
            for b in r.blocks(inst, "workload_profile")]
    _put(props, "staticIp", _known(r.raw(inst, "static_ip_address")))
    res["properties"] = props
    r.emit(inst, res)


def _known(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _container_app(r: _Reader, inst: _Instance) -> None:
    res = _envelope(r, inst, location=False)
    env = r.target(inst, "container_app_environment_id", _is_id)
    location = r.raw(inst, "location")
    if isinstance(location, str) and location:
        res["location"] = location
    elif env is not None:  # "the same as the Environment in which it is deployed"
        _put(res, "location", _known(r.raw(env, "location")))
    _put(res, "identity", _identity(r, inst))
    props: dict[str, Any] = {}
    _put(props, "managedEnvironmentId", r.link(inst, "container_app_environment_id",
                                                 "microsoft.app/managedenvironments"))
    _put(props, "workloadProfileName", r.text(inst, "workload_profile_name"))
    registries = []
    for b in r.blocks(inst, "registry"):
        reg: dict[str, Any] = {}
        _put(reg, "server", r.text(inst, f"{b}.server", _LOGIN_SERVER))
        identity = r.raw(inst, f"{b}.identity")
        if isinstance(identity, str) and identity.lower() == "system":
            reg["identity"] = "system"
        else:
            _put(reg, "identity", r.link(inst, f"{b}.identity", _UAI))
        _put(reg, "username", r.text(inst, f"{b}.username"))
        registries.append(reg)
    props["configuration"] = {"registries": registries}
    template: dict[str, Any] = {}
    for t in r.blocks(inst, "template")[:1]:
        for key, attr in (("containers", "container"), ("initContainers", "init_container")):
            items = [{k: v for k, v in (("name", r.text(inst, f"{b}.name")),
                                        ("image", r.text(inst, f"{b}.image"))) if v is not None}
                     for b in r.blocks(inst, f"{t}.{attr}")]
            if items:
                template[key] = items
    props["template"] = template
    res["properties"] = props
    r.emit(inst, res)


def _cluster(r: _Reader, inst: _Instance) -> None:
    res = _envelope(r, inst)
    _put(res, "identity", _identity(r, inst))
    props: dict[str, Any] = {}
    pools = []
    for b in r.blocks(inst, "default_node_pool"):
        pool: dict[str, Any] = {"name": r.text(inst, f"{b}.name") or ""}
        _put(pool, "vnetSubnetID", r.link(inst, f"{b}.vnet_subnet_id", _SUBNET))
        _put(pool, "podSubnetID", r.link(inst, f"{b}.pod_subnet_id", _SUBNET))
        pools.append(pool)
    props["agentPoolProfiles"] = pools
    for b in r.blocks(inst, "network_profile")[:1]:
        net: dict[str, Any] = {}
        _put(net, "outboundType", r.text(inst, f"{b}.outbound_type"))
        props["networkProfile"] = net
    for b in r.blocks(inst, "kubelet_identity")[:1]:
        kubelet: dict[str, Any] = {}
        _put(kubelet, "resourceId", r.link(inst, f"{b}.user_assigned_identity_id", _UAI))
        _put(kubelet, "clientId", r.text(inst, f"{b}.client_id"))
        _put(kubelet, "objectId", r.text(inst, f"{b}.object_id"))
        props["identityProfile"] = {"kubeletidentity": kubelet}
    connector = r.raw(inst, "aci_connector_linux")
    if isinstance(connector, list):
        props["addonProfiles"] = {"aciConnectorLinux": {"enabled": bool(connector)}}
    for b in r.blocks(inst, "service_principal")[:1]:
        _put(props.setdefault("servicePrincipalProfile", {}), "clientId",
             r.text(inst, f"{b}.client_id"))
    res["properties"] = props
    r.emit(inst, res)


def _node_pool(r: _Reader, inst: _Instance) -> None:
    res = _envelope(r, inst, location=False)
    props: dict[str, Any] = {}
    _put(props, "vnetSubnetID", r.link(inst, "vnet_subnet_id", _SUBNET))
    _put(props, "podSubnetID", r.link(inst, "pod_subnet_id", _SUBNET))
    res["properties"] = props
    r.emit(inst, res)


def _host(url: str) -> str:
    return re.sub(r"^https?://", "", url.strip(), flags=re.IGNORECASE).rstrip("/")


def _web_image(r: _Reader, inst: _Instance, stack: str) -> str | None:
    """``DOCKER|<host>/<image>`` from ``application_stack`` (web apps: docker_image_name and
    docker_registry_url; Linux function apps: a ``docker`` block)."""
    if inst.addr.type == "azurerm_linux_function_app":
        for d in r.blocks(inst, f"{stack}.docker")[:1]:
            url = r.text(inst, f"{d}.registry_url", _LOGIN_SERVER)
            image = r.text(inst, f"{d}.image_name")
            tag = r.text(inst, f"{d}.image_tag")
            if url is None or image is None:
                return None
            if any(is_unknown_value(v) for v in (url, image, tag or "")):
                return unknown_value(f"known after apply: {inst.address}.{d}")
            return f"DOCKER|{_host(url)}/{image}{':' + tag if tag else ''}"
        return None
    image = r.text(inst, f"{stack}.docker_image_name")
    url = r.text(inst, f"{stack}.docker_registry_url", _LOGIN_SERVER)
    if image is None:
        return None
    if is_unknown_value(image) or (url is not None and is_unknown_value(url)):
        return unknown_value(f"known after apply: {inst.address}.{stack}")
    return f"DOCKER|{_host(url)}/{image}" if url else f"DOCKER|{image}"


def _web_app(r: _Reader, inst: _Instance) -> None:
    res = _envelope(r, inst)
    kind, os_name = _CONSUMER_KINDS[inst.addr.type]
    _put(res, "identity", _identity(r, inst))
    props: dict[str, Any] = {}
    site: dict[str, Any] = {}
    for b in r.blocks(inst, "site_config")[:1]:
        for s in r.blocks(inst, f"{b}.application_stack")[:1]:
            _put(site, "linuxFxVersion" if os_name == "linux" else "windowsFxVersion",
                 _web_image(r, inst, s))
        use_mi = r.flag(inst, f"{b}.container_registry_use_managed_identity")
        client = r.raw(inst, f"{b}.container_registry_managed_identity_client_id")
        if isinstance(client, str) and client:
            site["acrUserManagedIdentityID"] = client
        elif isinstance(client, _Unknown):
            target = r.target(inst, f"{b}.container_registry_managed_identity_client_id",
                              _same_attr("client_id"))
            if target is not None and target.addr.type == "azurerm_user_assigned_identity":
                # the identity's resource ID names it as well as its client ID would
                site["acrUserManagedIdentityID"] = r.id_of(target)
                r.links.add(norm_id(r.id_of(target)))
            else:
                use_mi = r.note_unknown(inst, f"{b}.container_registry_managed_identity_client_id",
                                        " (which identity pulls is unknown)")
        _put(site, "acrUseManagedIdentityCreds", use_mi)
    settings = r.raw(inst, "app_settings")
    if isinstance(settings, Mapping):
        site["appSettings"] = [{"name": k, "value": v} for k, v in settings.items()
                               if isinstance(k, str) and k.upper() in _WEB_SETTINGS
                               and isinstance(v, str)]
    props["siteConfig"] = site
    container = ",container" if site.get("linuxFxVersion") or site.get("windowsFxVersion") else ""
    res["kind"] = f"{kind}{',linux' if os_name == 'linux' else ''}{container}" + (
        ",windows" if os_name == "windows" and container else "")
    _put(props, "virtualNetworkSubnetId", r.link(inst, "virtual_network_subnet_id", _SUBNET))
    _put(props, "vnetImagePullEnabled", r.flag(inst, "vnet_image_pull_enabled"))
    res["properties"] = props
    r.emit(inst, res)


def _diagnostic_setting(r: _Reader, inst: _Instance) -> None:
    res = _envelope(r, inst, location=False)
    props: dict[str, Any] = {}
    logs = []
    for b in r.blocks(inst, "enabled_log"):
        log: dict[str, Any] = {"enabled": True}
        _put(log, "category", r.text(inst, f"{b}.category"))
        _put(log, "categoryGroup", r.text(inst, f"{b}.category_group"))
        logs.append(log)
    for b in r.blocks(inst, "log"):  # azurerm 3.x, removed in 4.0
        log = {}
        _put(log, "enabled", r.flag(inst, f"{b}.enabled"))
        _put(log, "category", r.text(inst, f"{b}.category"))
        _put(log, "categoryGroup", r.text(inst, f"{b}.category_group"))
        logs.append(log)
    props["logs"] = logs
    _put(props, "workspaceId", r.link(inst, "log_analytics_workspace_id",
                                       "microsoft.operationalinsights/workspaces"))
    _put(props, "storageAccountId", r.link(inst, "storage_account_id"))
    _put(props, "eventHubAuthorizationRuleId", r.link(inst, "eventhub_authorization_rule_id"))
    res["properties"] = props
    r.emit(inst, res)


def _public_ip(r: _Reader, inst: _Instance) -> None:
    res = _envelope(r, inst)
    props: dict[str, Any] = {}
    _put(props, "ipAddress", r.text(inst, "ip_address"))
    res["properties"] = props
    r.emit(inst, res)


def _plain(r: _Reader, inst: _Instance) -> None:
    res = _envelope(r, inst)
    res["properties"] = {}
    r.emit(inst, res)


def _nat_gateway(r: _Reader, inst: _Instance) -> None:
    res = _envelope(r, inst)
    rid = norm_id(res["id"])
    ips: list[str] = []
    subnets: list[str] = []
    for other in r.instances.values():
        if other.addr.type not in _ASSOCIATIONS:
            continue
        nat = r.link(other, "nat_gateway_id", "microsoft.network/natgateways")
        if not nat or norm_id(nat) != rid:
            continue
        if other.addr.type == "azurerm_subnet_nat_gateway_association":
            subnets.append(r.link(other, "subnet_id", _SUBNET) or "")
        else:
            ips.append(r.link(other, "public_ip_address_id",
                              "microsoft.network/publicipaddresses") or "")
    res["properties"] = {"publicIpAddresses": [{"id": i} for i in ips if i],
                         "subnets": [{"id": s} for s in subnets if s]}
    r.emit(inst, res)


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
