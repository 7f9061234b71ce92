"""Registry facts: SKU, role assignment mode, firewall (public network access, default
action, IP and virtual network rules, trusted services, the tasks bypass), private endpoints
and their approval, the ACI-delegated subnet, diagnostic settings; and the facts of a registry
that is not in the inventory. Pure.
"""

from __future__ import annotations

from pullpath.core.explain.base import _Base
from pullpath.domain.explain import FACT_SPECS, Fact, Facts
from pullpath.domain.inventory import Registry, norm_id
from pullpath.domain.resource_id import name_of

ACI_DELEGATION = "microsoft.containerinstance/containergroups"


class _RegistryFacts(_Base):
    """The facts of one registry, cached per registry."""

    def registry_facts(self, reg: Registry) -> Facts:
        cached = self._c.registry_facts.get(reg.id)
        if cached is not None:
            return cached
        facts = self._registry_facts(reg)
        self._c.registry_facts[reg.id] = facts
        return facts

    def _registry_facts(self, reg: Registry) -> Facts:
        n = reg.name
        facts: Facts = {"registry.known": Fact(True, f"registry {n} is in the inventory")}
        cfg = reg.has_config
        no_cfg = f"the network configuration of registry {n} is not in the inventory"
        sku = reg.sku.lower()
        if sku in ("basic", "standard", "premium"):
            facts["registry.sku"] = Fact(sku, f"registry {n} is {reg.sku}")
            facts["registry.premium"] = Fact(sku == "premium", f"registry {n} is {reg.sku}")
        else:
            facts["registry.sku"] = Fact(None, f"the SKU of registry {n} is not in the inventory")
            facts["registry.premium"] = facts["registry.sku"]
        facts["registry.role_mode"] = _role_mode_fact(reg)
        pna = reg.public_network_access.lower()
        if pna in ("enabled", "disabled"):
            facts["registry.public_network_access"] = Fact(
                pna, f"registry {n} has public network access {reg.public_network_access}")
        elif cfg:
            facts["registry.public_network_access"] = Fact(
                "enabled", f"registry {n} does not set publicNetworkAccess (default Enabled)")
        else:
            facts["registry.public_network_access"] = Fact(None, no_cfg)
        action = reg.default_action.lower()
        if action in ("allow", "deny"):
            facts["registry.default_action"] = Fact(
                action, f"registry {n} has networkRuleSet.defaultAction {reg.default_action}")
        elif cfg:
            facts["registry.default_action"] = Fact(
                "allow", f"registry {n} has no networkRuleSet.defaultAction (default Allow)")
        else:
            facts["registry.default_action"] = Fact(None, no_cfg)
        restricted = reg.restricted
        if restricted is None:
            facts["registry.restricted"] = Fact(None, no_cfg)
        elif restricted:
            how = ("public network access Disabled" if pna == "disabled"
                   else "defaultAction Deny")
            facts["registry.restricted"] = Fact(True, f"registry {n} is restricted ({how})")
        else:
            facts["registry.restricted"] = Fact(False, f"registry {n} is open to all networks")
        open_all = reg.open_to_all
        facts["registry.open_to_all"] = Fact(
            open_all, no_cfg if open_all is None else
            (f"registry {n} is open to all networks (public access Enabled, defaultAction Allow)"
             if open_all else f"registry {n} is not open to all networks"))
        trusted = reg.trusted_services_allowed
        facts["registry.trusted_services"] = Fact(
            trusted,
            f"networkRuleBypassOptions of registry {n} is not in the inventory"
            if trusted is None else
            (f"registry {n} allows trusted Microsoft services (networkRuleBypassOptions "
             "AzureServices)" if trusted else
             f"registry {n} does not allow trusted services (networkRuleBypassOptions None)"))
        if reg.bypass_for_tasks is True:
            facts["registry.tasks_bypass"] = Fact(
                True, f"registry {n} sets networkRuleBypassAllowedForTasks=true")
        elif cfg:
            state = "false" if reg.bypass_for_tasks is False else "unset"
            facts["registry.tasks_bypass"] = Fact(
                False, f"registry {n} has networkRuleBypassAllowedForTasks {state} "
                       "(denied by default since 2025-06-01)")
        else:
            facts["registry.tasks_bypass"] = Fact(None, no_cfg)
        facts["registry.has_ip_rules"] = Fact(
            bool(reg.ip_rules) if cfg else None,
            (f"registry {n} has IP rules {', '.join(reg.ip_rules)}" if reg.ip_rules
             else f"registry {n} has no IP rules") if cfg else no_cfg)
        facts["registry.has_vnet_rules"] = Fact(
            bool(reg.vnet_rule_subnet_ids) if cfg else None,
            (f"registry {n} has virtual network (service-endpoint) rules for subnet(s) "
             f"{', '.join(name_of(s) for s in reg.vnet_rule_subnet_ids)}"
             if reg.vnet_rule_subnet_ids else f"registry {n} has no virtual network rules")
            if cfg else no_cfg)
        pes = self.registry_pes(reg)
        approved = self.approved_pes(reg)
        known_pes = cfg or bool(pes)
        if approved:
            facts["registry.has_approved_pe"] = Fact(
                True, f"registry {n} has approved private endpoint(s) "
                      f"{', '.join(name_of(p) for p in approved)}")
        else:
            facts["registry.has_approved_pe"] = Fact(
                False if known_pes else None,
                f"registry {n} has no approved private endpoint" if known_pes else no_cfg)
        pending = [p for p, st in pes.items() if st.lower() != "approved"]
        facts["registry.pe_pending_only"] = Fact(
            (bool(pending) and not approved) if known_pes else None,
            (f"the private endpoint connection(s) {', '.join(name_of(p) for p in pending)} of "
             f"registry {n} are {', '.join(sorted({pes[p] or '?' for p in pending}))}, "
             "not Approved") if pending and not approved else
            (f"registry {n} has an approved private endpoint" if approved else
             f"registry {n} has no private endpoint connection") if known_pes else no_cfg)
        vnet_rules = reg.vnet_rule_subnet_ids
        features = bool(reg.ip_rules) or bool(pes) or bool(vnet_rules)
        facts["registry.premium_only_features"] = Fact(
            features if known_pes else None,
            (f"registry {n} uses Premium-only features: "
             + ", ".join(x for x in (f"{len(reg.ip_rules)} IP rule(s)" if reg.ip_rules else "",
                                     f"{len(vnet_rules)} virtual network rule(s)"
                                     if vnet_rules else "",
                                     f"{len(pes)} private endpoint(s)" if pes else "") if x))
            if features else (f"registry {n} has no IP rules, virtual network rules or private "
                              "endpoints" if known_pes else no_cfg))
        facts["registry.pe_in_aci_subnet"] = self._pe_in_aci_subnet(reg, pes)
        facts["registry.diagnostics_ok"] = self._diagnostics(reg)
        return facts

    def _pe_in_aci_subnet(self, reg: Registry, pes: dict[str, str]) -> Fact:
        if not pes:
            return Fact(False if reg.has_config else None,
                        f"registry {reg.name} has no private endpoint")
        unknown: list[str] = []
        for pid in pes:
            pe = self.inv.private_endpoints.get(pid)
            subnet = self.inv.subnets.get(pe.subnet_id) if pe is not None else None
            if subnet is None:
                unknown.append(name_of(pid))
                continue
            if any(d.lower() == ACI_DELEGATION for d in subnet.delegations):
                return Fact(True, f"private endpoint {pe.name if pe else pid} of registry "
                                  f"{reg.name} is in subnet {subnet.name}, which is delegated to "
                                  "Microsoft.ContainerInstance/containerGroups")
        if unknown:
            return Fact(None, f"the subnet of private endpoint(s) {', '.join(unknown)} is not in "
                              "the inventory")
        return Fact(False, f"no private endpoint of registry {reg.name} is in an ACI-delegated "
                           "subnet")

    def _diagnostics(self, reg: Registry) -> Fact:
        if not self.inv.diagnostic_settings_present:
            return Fact(None, "the inventory has no diagnostic settings (add az monitor "
                              "diagnostic-settings list --resource <registry id> -o json)")
        wanted = {"containerregistryrepositoryevents", "containerregistryloginevents"}
        best: set[str] = set()
        for ds in self.inv.diagnostic_settings.values():
            if norm_id(ds.target_id) != reg.id or not ds.destinations:
                continue
            cats = {c.lower() for c in ds.categories}
            groups = sorted(c for c in ds.categories if c.lower() in ("alllogs", "audit"))
            if groups:
                return Fact(True, f"diagnostic setting {name_of(ds.id)} sends {'/'.join(groups)} "
                                  f"of registry {reg.name}")
            best |= cats & wanted
            if wanted <= best:
                return Fact(True, f"diagnostic settings send ContainerRegistryRepositoryEvents and "
                                  f"ContainerRegistryLoginEvents of registry {reg.name}")
        missing = sorted({"ContainerRegistryRepositoryEvents", "ContainerRegistryLoginEvents"}
                         - {c for c in ("ContainerRegistryRepositoryEvents",
                                        "ContainerRegistryLoginEvents") if c.lower() in best})
        return Fact(False, f"no diagnostic setting of registry {reg.name} sends "
                           f"{' or '.join(missing)} to a workspace, storage account or event hub")


_ROLE_MODE = {"legacyregistrypermissions": "rbac", "abacrepositorypermissions": "abac"}


def _role_mode_fact(reg: Registry) -> Fact:
    n = reg.name
    raw = reg.role_assignment_mode
    mode = _ROLE_MODE.get(raw.lower())
    if mode == "abac":
        return Fact("abac", f"registry {n} uses RBAC Registry + ABAC Repository Permissions "
                            "(roleAssignmentMode AbacRepositoryPermissions)")
    if mode == "rbac":
        return Fact("rbac", f"registry {n} uses RBAC Registry Permissions (roleAssignmentMode "
                            f"{raw})")
    if raw:
        return Fact(None, f"registry {n} has roleAssignmentMode {raw!r}, which pullpath does not "
                          "know")
    if reg.has_config:
        return Fact("rbac", f"registry {n} does not set roleAssignmentMode (RBAC Registry "
                            "Permissions, the default, assumed)")
    return Fact(None, f"the role assignment mode of registry {n} is not in the inventory")


def _unknown_registry_facts(login_server: str) -> Facts:
    why = f"registry {login_server} is not in the inventory (add its ARM JSON)"
    out: Facts = {name: Fact(None, why) for name in FACT_SPECS
                  if name.startswith(("registry.", "pe.", "dns."))}
    out["registry.known"] = Fact(False, why)
    return out
