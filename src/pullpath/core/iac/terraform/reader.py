"""The reader of one plan: its resource instances (planned values, prior state, data sources
read during apply; none the plan deletes), their attribute values with "known after apply"
recorded in ``unknowns``, the ARM IDs (known or synthesized), the stand-ins for what Azure fills
on creation (login servers, identity IDs), and what it emits (resources and their ``.tf``
locations). The configuration and references are its base, :mod:`.references`. Pure.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from pullpath.core.iac.platform import runtime_properties
from pullpath.core.iac.terraform.addresses import _path_parts, parse_address
from pullpath.core.iac.terraform.plan import (
    _ID_NOT_ARM,
    _UNKNOWN,
    ARM_TYPES,
    _Accept,
    _Instance,
    _is_id,
    _kind,
    _merge_unknown,
    _rg_name,
    _same_attr,
    _Unknown,
    _walk_module,
)
from pullpath.core.iac.terraform.references import _References
from pullpath.domain.iac import (
    PLACEHOLDER_SUBSCRIPTION,
    SourceLocation,
    is_unknown_value,
    unknown_value,
)
from pullpath.domain.inventory import norm_id
from pullpath.domain.resource_id import type_of


class _Reader(_References):
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
