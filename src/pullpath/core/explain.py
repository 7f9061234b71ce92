"""Predict each consumer's pull path from configuration (pure: no I/O, no Azure SDK).

1. **Pairs**: every consumer -> registry pair the inventory names (the consumer's images and
   registry credentials name the login server; an AKS cluster's kubelet identity names the
   registries it holds a pull role on). A login server that is not in the inventory still makes
   a pair, with the registry unknown.
2. **Facts**: for each pair, three-valued facts are derived (``consumer.in_vnet``,
   ``registry.restricted``, ``pe.reachable``...), each with the sentence that says why, or what
   is missing when it is unknown.
3. **Rules**: the knowledge base's behaviours are evaluated in order (most specific first); the
   first whose conditions all hold decides. A rule that needs an unknown fact does not match;
   if an earlier such rule would have predicted something else, the confidence is lowered and
   the missing facts are listed.

:func:`flow_expectation` gives audit the prediction for one flow; predictions are cached per
inventory, so audit can call it for every flow.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pullpath.core.inventory import image_registry
from pullpath.domain.explain import (
    FACT_SPECS,
    Behaviour,
    Condition,
    Fact,
    Facts,
    FactValue,
    KnowledgeBase,
    PairPrediction,
    PullRole,
    SourceKind,
)
from pullpath.domain.inventory import (
    Consumer,
    ConsumerKind,
    Inventory,
    PrivateDnsZone,
    Registry,
    RegistryCredential,
    RoleAssignment,
    global_login_server,
    norm_id,
    regional_endpoint,
)
from pullpath.domain.resource_id import name_of, parent_of
from pullpath.domain.verdicts import Confidence, Expectation, Flow, Path

__all__ = [
    "ACI_DELEGATION",
    "Explainer",
    "PairRef",
    "downgrade",
    "evaluate",
    "explainer_for",
    "flow_expectation",
    "is_acr_host",
]

ACI_DELEGATION = "microsoft.containerinstance/containergroups"
_ACR_HOST = re.compile(r"^[a-z0-9][a-z0-9-]*\.azurecr\.(io|cn|us)$")
_MI_METHODS = ("user-assigned-identity", "system-assigned-identity", "kubelet-identity")
_DOWN = {
    Confidence.HIGH: Confidence.MEDIUM,
    Confidence.MEDIUM: Confidence.LOW,
    Confidence.LOW: Confidence.LOW,
    Confidence.NONE: Confidence.NONE,
}


def is_acr_host(host: str) -> bool:
    """A login server of Azure Container Registry (public, US Government or China cloud), or a
    regional endpoint of one (``<registry>.<region>.geo.azurecr.io``)."""
    return bool(_ACR_HOST.match(global_login_server(host.lower())))


def downgrade(confidence: Confidence) -> Confidence:
    return _DOWN[confidence]


def vnet_of_subnet(subnet_id: str) -> str:
    return parent_of(subnet_id, "subnets")


def evaluate(conditions: Sequence[Condition], facts: Facts) -> tuple[bool | None, tuple[str, ...]]:
    """All conditions hold (True), one fails (False), or none fails but some facts are unknown
    (None, with their names)."""
    unknown: list[str] = []
    for cond in conditions:
        fact = facts.get(cond.fact)
        result = cond.test(fact.value if fact is not None else None)
        if result is False:
            return False, ()
        if result is None:
            unknown.append(cond.fact)
    return (None, tuple(unknown)) if unknown else (True, ())


def _yes_no(flag: bool) -> str:
    return "true" if flag else "false"


# --------------------------------------------------------------------------------------------
# pairs


@dataclass(frozen=True, slots=True)
class PairRef:
    """A consumer and a registry it pulls from, and how pullpath knows."""

    consumer: Consumer
    login_server: str
    registry: Registry | None
    credential: RegistryCredential | None
    via: str
    """``image``, ``credential``, ``role-assignment`` or ``bootstrap`` (the private registry a
    network isolated AKS cluster bootstraps from)."""


def _serverless(consumer: Consumer) -> RegistryCredential | None:
    """A credential not tied to one login server (AKS kubelet identity or service principal)."""
    for cred in consumer.credentials:
        if not cred.server:
            return cred
    return None


def _pair_key(ref: PairRef) -> tuple[str, str]:
    """A pair's cache key: consumer and registry (a regional endpoint host apart from the
    registry's login server: its DNS records differ)."""
    if ref.registry is None:
        return ref.consumer.id, ref.login_server
    regional = regional_endpoint(ref.login_server)
    return ref.consumer.id, ref.registry.id + (f"@{regional[1]}" if regional else "")


def credential_for(consumer: Consumer, login_server: str) -> RegistryCredential | None:
    ls = login_server.lower()
    for cred in consumer.credentials:
        if cred.server == ls:
            return cred
    return _serverless(consumer)


# --------------------------------------------------------------------------------------------
# the explainer: facts, predictions, caches for one inventory


@dataclass
class _Caches:
    registry_facts: dict[str, Facts] = field(default_factory=dict)
    predictions: dict[tuple[str, str], PairPrediction] = field(default_factory=dict)
    pair_facts: dict[tuple[str, str], Facts] = field(default_factory=dict)
    pairs: list[PairPrediction] | None = None
    refs: list[PairRef] | None = None
    by_key: dict[tuple[str, str], PairRef] | None = None


class Explainer:
    """Facts and predictions for one inventory and knowledge base, computed once."""

    def __init__(self, inventory: Inventory, kb: KnowledgeBase) -> None:
        self.inv = inventory
        self.kb = kb
        self.notes: list[str] = []
        self._noted: set[str] = set()
        self._c = _Caches()
        self._pull_roles = {r.id: r for r in kb.pull_roles}
        self._registry_pes = self._index_private_endpoints()
        self._roles_by_principal: dict[str, list[tuple[str, PullRole]]] = {}
        """principal id -> [(scope, pull role)], roles the knowledge base knows only."""
        for ra in inventory.role_assignments.values():
            role = self._pull_roles.get(name_of(ra.role_definition_id).lower())
            if role is not None and ra.principal_id:
                self._roles_by_principal.setdefault(ra.principal_id, []).append(
                    (norm_id(ra.scope), role))

    def expectation(self, flow: Flow) -> Expectation | None:
        """The knowledge base's expected path for an audited flow, and whether the flow agrees.

        ``None`` when the flow's consumer is not attributed or its registry is not in the
        inventory; ``agrees`` is ``None`` when either the expected or the observed path is
        unknown.
        """
        if not flow.consumer.id:
            return None
        consumer = self.inv.consumers.get(norm_id(flow.consumer.id))
        if consumer is None:
            return None
        registry = self.inv.registry_for(flow.registry, flow.registry_id)
        if registry is None:
            return None
        prediction = self.predict_for(consumer, registry)
        expected = prediction.expected_path
        agrees = None if Path.UNKNOWN in (expected, flow.path) else expected is flow.path
        return Expectation(expected, prediction.rule, agrees)

    # -- notes -------------------------------------------------------------------------------

    def note(self, text: str) -> None:
        if text not in self._noted:  # a set beside the list: asked once per pair
            self._noted.add(text)
            self.notes.append(text)

    # -- pairs -------------------------------------------------------------------------------

    def pair_refs(self) -> list[PairRef]:
        if self._c.refs is not None:
            return self._c.refs
        refs: list[PairRef] = []
        skipped: dict[str, set[str]] = {}
        for cid in sorted(self.inv.consumers):
            consumer = self.inv.consumers[cid]
            servers: dict[str, str] = {}
            for cred in consumer.credentials:
                if cred.server:
                    servers.setdefault(cred.server, "credential")
            for image in consumer.images:
                host = image_registry(image)
                if host:
                    servers.setdefault(host, "image")
            for host in list(servers):
                if self.inv.registry_by_login_server(host) is None and not is_acr_host(host):
                    skipped.setdefault(host, set()).add(consumer.name)
                    del servers[host]
            if not servers:
                for reg in self._registries_by_role(consumer):
                    servers.setdefault(reg.login_server, "role-assignment")
            bootstrap = self.inv.registries.get(consumer.fact("bootstrap_registry") or "")
            if bootstrap is not None and bootstrap.login_server:
                # a network isolated AKS cluster pulls its own components from this registry
                servers.setdefault(bootstrap.login_server, "bootstrap")
            if not servers:
                self._note_no_pairs(consumer)
                continue
            for host, via in servers.items():
                refs.append(PairRef(consumer, host, self.inv.registry_by_login_server(host),
                                    credential_for(consumer, host), via))
        for host, users in sorted(skipped.items()):
            self.note(f"images from {host} (not an Azure Container Registry) are not explained: "
                      f"{', '.join(sorted(users))}")
        self._note_platform_callers()
        self._c.refs = refs
        return refs

    # -- callers that are not consumers ------------------------------------------------------

    def platform_users(self, registry: Registry) -> list[str]:
        """The services of the inventory that use ``registry`` without being consumers
        (``Inventory.platform_callers``: a Machine Learning workspace), as "<caller> <name>"."""
        names = {c.evidence: c.name for c in self.kb.callers if c.evidence}
        return sorted(f"{names.get(p.evidence, p.evidence)} workspace {p.name}"
                      for p in self.inv.platform_callers.values()
                      if registry.id in p.registry_ids and p.evidence in names)

    def _note_platform_callers(self) -> None:
        """A note per Machine Learning workspace (a trusted service, not a consumer): which
        registry it uses and whether that registry's bypass lets it pull."""
        callers = {c.evidence: c for c in self.kb.callers if c.evidence}
        for pid in sorted(self.inv.platform_callers):
            p = self.inv.platform_callers[pid]
            caller = callers.get(p.evidence)
            if caller is None:
                continue
            who = f"{caller.name} workspace {p.name}"
            if not p.registry_ids:
                self.note(f"{who}: its container registry is not in the inventory "
                          "(containerRegistry not set)")
                continue
            for rid in p.registry_ids:
                reg = self.inv.registries.get(rid)
                if reg is None:
                    self.note(f"{who} uses registry {name_of(rid)}, which is not in the "
                              "inventory")
                    continue
                facts = self.registry_facts(reg)
                restricted = facts["registry.restricted"].value
                trusted = facts["registry.trusted_services"].value
                identity = ("" if p.managed_identity else
                            " (and the workspace has no managed identity in the inventory)"
                            if p.managed_identity is False else "")
                if restricted is True and trusted is False:
                    state = (f"registry {reg.name} is restricted and does not allow trusted "
                             f"services, so the workspace's pulls are refused{identity}; allow "
                             "trusted services on it")
                elif restricted is True and trusted is True:
                    state = (f"registry {reg.name} is restricted and allows trusted services: "
                             "the workspace pulls by that bypass, with its managed identity "
                             f"holding a pull role{identity}")
                elif restricted is False:
                    state = f"registry {reg.name} is open to all networks"
                else:
                    state = f"whether registry {reg.name} lets it pass is not in the inventory"
                self.note(f"{who} uses registry {reg.name} (its containerRegistry), as "
                          f"{caller.name}, a trusted service that is not a consumer: {state}")

    def _note_no_pairs(self, consumer: Consumer) -> None:
        if consumer.kind is ConsumerKind.AKS:
            if not self.inv.role_assignments_present:
                self.note(f"AKS cluster {consumer.name}: ARM does not list the images its pods "
                          "use; add role assignments (az role assignment list --all) so pullpath "
                          "can find the registries its kubelet identity pulls from")
            else:
                self.note(f"AKS cluster {consumer.name}: its kubelet identity holds no pull role "
                          "on a registry in the inventory, so no pair was found")
        else:
            self.note(f"{consumer.kind.noun} {consumer.name}: no image or registry "
                      "credential names an Azure Container Registry")

    def _registries_by_role(self, consumer: Consumer) -> list[Registry]:
        principals = {p for p in (self.principal_of(consumer, c)
                                  for c in consumer.credentials) if p}
        if not principals:
            return []
        out: list[Registry] = []
        for reg in sorted(self.inv.registries.values(), key=lambda r: r.id):
            if reg.login_server and any(self._role_on(p, reg.id) for p in principals):
                out.append(reg)
        return out

    def predictions(self) -> list[PairPrediction]:
        """Every pair's prediction, in a stable order."""
        if self._c.pairs is None:
            self._c.pairs = [self.predict(ref) for ref in self.pair_refs()]
        return self._c.pairs

    def predict_for(self, consumer: Consumer, registry: Registry) -> PairPrediction:
        """The prediction for a consumer and registry, whether or not the inventory pairs them."""
        if self._c.by_key is None:
            self._c.by_key = {(r.consumer.id, r.registry.id): r for r in self.pair_refs()
                              if r.registry is not None}
        known = self._c.by_key.get((consumer.id, registry.id))
        if known is not None:
            return self.predict(known)
        ref = PairRef(consumer, registry.login_server, registry,
                      credential_for(consumer, registry.login_server), "log")
        return self.predict(ref)

    # -- predictions -------------------------------------------------------------------------

    def predict(self, ref: PairRef) -> PairPrediction:
        key = _pair_key(ref)
        cached = self._c.predictions.get(key)
        if cached is not None:
            return cached
        facts = self.pair_facts(ref)
        prediction = _decide(self.kb.behaviours, ref, facts)
        self._c.predictions[key] = prediction
        return prediction

    def pair_facts(self, ref: PairRef) -> Facts:
        key = _pair_key(ref)
        cached = self._c.pair_facts.get(key)
        if cached is not None:
            return cached
        facts: Facts = {}
        facts.update(self._consumer_facts(ref.consumer))
        facts.update(self._credential_facts(ref))
        if ref.registry is None:
            facts.update(_unknown_registry_facts(ref.login_server))
        else:
            facts.update(self.registry_facts(ref.registry))
            facts.update(self._reach_facts(ref.consumer, ref.registry, ref.login_server))
        self._c.pair_facts[key] = facts
        return facts

    # -- consumer facts ----------------------------------------------------------------------

    def _consumer_facts(self, c: Consumer) -> Facts:
        label = f"{c.kind.noun} {c.name}"
        facts: Facts = {}
        kind = c.kind.value if c.kind is not ConsumerKind.UNKNOWN else None
        facts["consumer.kind"] = Fact(kind, f"{label} is {c.kind.value}")
        in_vnet = c.fact("in_vnet")
        if in_vnet in ("true", "false"):
            subnets = ", ".join(name_of(s) for s in c.subnet_ids if s) or "-"
            why = (f"{label} runs in VNet subnet(s) {subnets}" if in_vnet == "true"
                   else f"{label} is not in a VNet")
            facts["consumer.in_vnet"] = Fact(in_vnet == "true", why)
        else:
            facts["consumer.in_vnet"] = Fact(None, f"whether {label} runs in a VNet is not in "
                                                   "the inventory")
        os_type = (c.fact("os") or "").lower()
        facts["consumer.os"] = (Fact(os_type, f"{label} runs {os_type} containers")
                                if os_type in ("linux", "windows")
                                else Fact(None, f"the container OS of {label} is not in the "
                                                "inventory"))
        if c.kind is ConsumerKind.APP_SERVICE:
            pull = c.fact("vnet_image_pull")
            if pull in ("true", "false"):
                why = (f"{label} routes its image pull over VNet integration" if pull == "true"
                       else f"{label} pulls its image over the public route (vnetImagePullEnabled "
                            "/ outboundVnetRouting.imagePullTraffic / "
                            "WEBSITE_PULL_IMAGE_OVER_VNET not set)")
                facts["consumer.vnet_image_pull"] = Fact(pull == "true", why)
            else:
                facts["consumer.vnet_image_pull"] = Fact(
                    None, f"whether {label} pulls its image over VNet integration is not in the "
                          "inventory")
        else:
            facts["consumer.vnet_image_pull"] = Fact(None, "image pull over VNet applies to App "
                                                           "Service only")
        facts.update(self._kind_facts(c, label))
        private_only = c.kind in (ConsumerKind.ACA, ConsumerKind.AKS, ConsumerKind.APP_SERVICE)
        facts["consumer.private_only"] = Fact(
            private_only if kind else None,
            f"{label} is {'not ' if private_only else ''}an ACR trusted service"
            if kind else f"the kind of {label} is unknown")
        return facts

    def _kind_facts(self, c: Consumer, label: str) -> Facts:
        """Facts that belong to one consumer kind (AKS egress and isolation, ACA environment)."""
        facts: Facts = {}
        if c.kind is ConsumerKind.AKS:
            outbound = (c.fact("outbound_type") or "").lower()
            spec = FACT_SPECS["consumer.outbound_type"]
            facts["consumer.outbound_type"] = (
                Fact(outbound, f"{label} has outbound type {c.fact('outbound_type')}")
                if outbound in spec.values else
                Fact(None, f"the outbound type of {label} is not in the inventory" if not outbound
                     else f"{label} has outbound type {c.fact('outbound_type')}, which pullpath "
                          "does not know"))
            isolated = c.fact("network_isolated")
            facts["consumer.network_isolated"] = (
                Fact(isolated == "true",
                     f"{label} is a network isolated cluster (bootstrap artifact source Cache)"
                     if isolated == "true" else
                     f"{label} pulls its bootstrap images directly (artifact source Direct)")
                if isolated in ("true", "false") else
                Fact(None, f"the bootstrap artifact source of {label} is not in the inventory"))
            virtual = c.fact("virtual_nodes")
            facts["consumer.virtual_nodes"] = (
                Fact(virtual == "true",
                     f"{label} has the virtual nodes add-on enabled (aciConnectorLinux): pods on "
                     "virtual nodes run in Azure Container Instances" if virtual == "true" else
                     f"{label} has the virtual nodes add-on disabled")
                if virtual in ("true", "false") else
                Fact(None, f"whether {label} has virtual nodes is not in the inventory"))
        else:
            facts["consumer.virtual_nodes"] = Fact(None, "virtual nodes apply to AKS only")
            facts["consumer.outbound_type"] = Fact(None, "the outbound type applies to AKS only")
            facts["consumer.network_isolated"] = Fact(None, "network isolation applies to AKS "
                                                            "only")
        env = self.inv.environments.get(c.environment_id) if c.environment_id else None
        kind = env.fact("environment_type") if env is not None else None
        if c.kind is not ConsumerKind.ACA:
            facts["consumer.environment_type"] = Fact(None, "environment types apply to "
                                                            "Container Apps only")
        elif kind in ("workload-profiles", "consumption-only"):
            facts["consumer.environment_type"] = Fact(
                kind, f"{label} runs in {kind} environment {env.name if env else ''}".rstrip())
        else:
            facts["consumer.environment_type"] = Fact(
                None, f"whether the environment of {label} has workload profiles is not in the "
                      "inventory")
        return facts

    # -- credential facts --------------------------------------------------------------------

    def _credential_facts(self, ref: PairRef) -> Facts:
        c = ref.consumer
        label = f"{c.kind.noun} {c.name}"
        cred = ref.credential
        facts: Facts = {}
        if cred is None:
            method: str | None = "none"
            why = f"{label} has no credential for {ref.login_server}"
        elif cred.method == "unknown":
            method = None
            why = f"the credential {label} uses for {ref.login_server} could not be read"
        else:
            method = cred.method
            detail = f" {name_of(cred.identity_id)}" if cred.identity_id else ""
            why = f"{label} authenticates to {ref.login_server} with {cred.method}{detail}"
        facts["credential.method"] = Fact(method, why)
        facts["credential.managed_identity"] = Fact(
            None if method is None else method in _MI_METHODS, why)
        facts["credential.has_pull_role"] = self._pull_role_fact(ref)
        return facts

    def principal_of(self, consumer: Consumer, cred: RegistryCredential | None) -> str:
        if cred is None:
            return ""
        if cred.method in ("user-assigned-identity", "kubelet-identity") and cred.identity_id:
            ident = self.inv.identities.get(cred.identity_id)
            return ident.principal_id if ident is not None else ""
        if cred.method == "system-assigned-identity":
            ident = self.inv.identities.get(consumer.id)
            return ident.principal_id if ident is not None else ""
        return ""

    def _roles_on(self, principal: str, registry_id: str) -> list[tuple[PullRole, str]]:
        """The known roles ``principal`` holds on the registry or a parent scope, with where."""
        rid = norm_id(registry_id)
        out: list[tuple[PullRole, str]] = []
        for scope, role in self._roles_by_principal.get(principal, ()):
            if (scope in ("", "/") or rid == scope or rid.startswith(scope + "/")
                    or "/providers/microsoft.management/managementgroups/" in scope):
                at = ("a management group (assumed to contain the subscription)"
                      if "managementgroups" in scope else scope or "/")
                out.append((role, at))
        return out

    def _assignments_of_unknown_principal(self, registry_id: str) -> list[RoleAssignment]:
        """Role assignments on the registry or a parent scope whose principal is not known
        (infrastructure code: "known after apply"): they may be the identity's."""
        reg = norm_id(registry_id)
        return [a for a in self.inv.role_assignments.values()
                if not a.principal_id and a.scope
                and (reg == a.scope or reg.startswith(a.scope.rstrip("/") + "/"))]

    def _role_on(self, principal: str, registry_id: str) -> str:
        """A role ``principal`` holds on the registry that grants pulls in some mode (pairing
        an AKS cluster with the registries its kubelet identity can pull from)."""
        held = self._roles_on(principal, registry_id)
        return f"{held[0][0].name} at {held[0][1]}" if held else ""

    def _pull_role_fact(self, ref: PairRef) -> Fact:
        c, cred, reg = ref.consumer, ref.credential, ref.registry
        if cred is None or cred.method not in _MI_METHODS:
            return Fact(None, "a pull role applies to managed identities only")
        if reg is None:
            return Fact(None, f"registry {ref.login_server} is not in the inventory")
        if not self.inv.role_assignments_present:
            return Fact(None, "the inventory has no role assignments (add az role assignment "
                              "list --all -o json)")
        principal = self.principal_of(c, cred)
        who = (f"the identity {name_of(cred.identity_id)}" if cred.identity_id
               else f"the system-assigned identity of {c.name}")
        if not principal:
            return Fact(None, f"the principal ID of {who} is not in the inventory")
        held = self._roles_on(principal, reg.id)
        mode = self.registry_facts(reg)["registry.role_mode"].value
        label = {"rbac": "RBAC Registry Permissions", "abac":
                 "RBAC Registry + ABAC Repository Permissions"}
        for role, at in held:
            if mode in role.modes or (mode is None and set(role.modes) >= {"rbac", "abac"}):
                return Fact(True, f"{who} holds {role.name} at {at}")
        wanted = (", ".join(r.name for r in self.kb.pull_roles if mode in r.modes)
                  if mode else "a pull role")
        if mode is None and held:
            return Fact(None, f"{who} holds {', '.join(r.name for r, _ in held)} on "
                              f"{reg.name}, which grants pulls in some role assignment modes "
                              f"only, and the mode of registry {reg.name} is not in the "
                              "inventory")
        undocumented = [r.name for r, _ in held if mode not in r.denied_in]
        if undocumented:
            return Fact(None, f"{who} holds {', '.join(undocumented)} on {reg.name}, whose "
                              f"effect in {label.get(str(mode), str(mode))} mode is not "
                              "documented")
        unresolved = self._assignments_of_unknown_principal(reg.id)
        if unresolved:
            return Fact(None, f"{len(unresolved)} role assignment(s) on {reg.name} or a parent "
                              f"scope name a principal not known before deployment "
                              f"({', '.join(name_of(a.id) for a in unresolved[:3])}): whether "
                              f"{who} holds a pull role is unknown")
        if held:
            return Fact(False, f"{who} (principal {principal}) holds only "
                               f"{', '.join(r.name for r, _ in held)} on {reg.name}, which "
                               f"grant(s) no pulls in {label.get(str(mode), str(mode))} mode "
                               f"(needed: {wanted})")
        return Fact(False, f"{who} (principal {principal}) holds no role that grants pulls on "
                           f"{reg.name} or a parent scope (needed: {wanted})")

    # -- registry facts ----------------------------------------------------------------------

    def _index_private_endpoints(self) -> dict[str, dict[str, str]]:
        """registry id -> {private endpoint id: connection status}, from both sides."""
        out: dict[str, dict[str, str]] = {}
        for reg in self.inv.registries.values():
            for pec in reg.private_endpoint_connections:
                if pec.private_endpoint_id:
                    out.setdefault(reg.id, {})[pec.private_endpoint_id] = pec.status
        for pe in self.inv.private_endpoints.values():
            for i, target in enumerate(pe.target_ids):
                tid = norm_id(target)
                if tid not in self.inv.registries:
                    continue
                status = pe.connection_states[i] if i < len(pe.connection_states) else ""
                known = out.setdefault(tid, {})
                if not known.get(pe.id):
                    known[pe.id] = status
        return out

    def registry_pes(self, registry: Registry) -> dict[str, str]:
        return self._registry_pes.get(registry.id, {})

    def approved_pes(self, registry: Registry) -> list[str]:
        return [pid for pid, st in self.registry_pes(registry).items()
                if st.lower() == "approved"]

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

    # -- reachability from the consumer ------------------------------------------------------

    def consumer_vnets(self, c: Consumer) -> list[str]:
        out: list[str] = []
        for sid in c.subnet_ids:
            sub = self.inv.subnets.get(sid)
            vnet = sub.vnet_id if sub is not None else vnet_of_subnet(sid)
            if vnet and vnet not in out:
                out.append(vnet)
        return out

    def egress_ips(self, c: Consumer) -> tuple[list[str], str]:
        """The consumer's known outbound public addresses and where they come from."""
        nat_ips: list[str] = []
        nat_unknown = False
        env = self.inv.environments.get(c.environment_id) if c.environment_id else None
        if env is not None and env.fact("environment_type") == "consumption-only":
            # a NAT gateway is used for a Container Apps environment's egress only in a
            # workload profiles environment: a consumption-only one egresses from its own IPs
            public = [ip for ip in c.public_ips if ip]
            return public, "its environment's outbound IP addresses"
        for sid in c.subnet_ids:
            sub = self.inv.subnets.get(sid)
            if sub is None or not sub.nat_gateway_id:
                continue
            nat = self.inv.nat_gateways.get(sub.nat_gateway_id)
            if nat is None:
                nat_unknown = True
                continue
            for pid in nat.public_ip_ids:
                pip = self.inv.public_ips.get(pid)
                if pip is not None and pip.ip_address:
                    nat_ips.append(pip.ip_address)
                else:
                    nat_unknown = True
            if nat.public_ip_prefix_ids:
                nat_unknown = True
        outbound = (c.fact("outbound_type") or "").lower() if c.kind is ConsumerKind.AKS else ""
        if outbound == "userdefinedrouting":
            return [], "the cluster egresses through user-defined routes (firewall address unknown)"
        if outbound == "none":
            return [], "the cluster has outbound type none (egress, if any, set up outside AKS)"
        if outbound == "block":
            return [], "the cluster blocks outbound internet traffic (outbound type block)"
        if nat_ips and not nat_unknown:
            return nat_ips, "its subnet's NAT gateway"
        if nat_unknown:
            return [], "the public IPs of its subnet's NAT gateway are not in the inventory"
        public = [ip for ip in c.public_ips if ip]
        if c.kind is ConsumerKind.ACI:
            public = []  # the image pull does not egress from the group's own address
        return public, "its outbound IP addresses"

    def _ip_rule_fact(self, c: Consumer, reg: Registry) -> Fact:
        n = reg.name
        if not reg.has_config:
            return Fact(None, f"the network configuration of registry {n} is not in the inventory")
        if reg.public_network_access.lower() == "disabled":
            return Fact(False, f"registry {n} has public access Disabled: IP rules do not apply")
        if not reg.ip_rules:
            return Fact(False, f"registry {n} has no IP rules")
        ips, where = self.egress_ips(c)
        if not ips:
            return Fact(None, f"the outbound public addresses of {c.name} are not in the "
                              f"inventory ({where})")
        nets = []
        for rule in reg.ip_rules:
            try:
                nets.append(ipaddress.ip_network(rule.strip(), strict=False))
            except ValueError:
                self.note(f"registry {n}: IP rule {rule!r} is not an address or CIDR range")
        outside = []
        for ip in ips:
            try:
                addr = ipaddress.ip_address(ip)
            except ValueError:
                continue
            if not any(addr.version == net.version and addr in net for net in nets):
                outside.append(ip)
        if outside:
            return Fact(False, f"{', '.join(outside)} ({where} of {c.name}) is not in an IP rule "
                               f"of registry {n}")
        return Fact(True, f"{', '.join(ips)} ({where} of {c.name}) is inside the IP rules of "
                          f"registry {n}")

    def _vnet_rule_fact(self, c: Consumer, reg: Registry) -> Fact:
        if not reg.has_config:
            return Fact(None, f"the network configuration of registry {reg.name} is not in the "
                              "inventory")
        if not reg.vnet_rule_subnet_ids:
            return Fact(False, f"registry {reg.name} has no virtual network rules")
        if c.fact("in_vnet") == "false":
            return Fact(False, f"{c.name} is not in a VNet")
        subnets = [s for s in c.subnet_ids if s]
        if not subnets:
            return Fact(None, f"the subnets of {c.name} are not in the inventory")
        covered = [s for s in subnets if s in reg.vnet_rule_subnet_ids]
        if covered:
            return Fact(True, f"a virtual network rule of registry {reg.name} names subnet(s) "
                              f"{', '.join(name_of(s) for s in covered)} of {c.name}")
        return Fact(False, f"no virtual network rule of registry {reg.name} names a subnet of "
                           f"{c.name}")

    def _reach_facts(self, c: Consumer, reg: Registry, host: str = "") -> Facts:
        facts: Facts = {"registry.ip_rules_cover_egress": self._ip_rule_fact(c, reg),
                        "registry.vnet_rule_covers_consumer": self._vnet_rule_fact(c, reg)}
        in_vnet = self._pe_in_vnet(c, reg)
        facts["pe.in_consumer_vnet"] = in_vnet
        zone_present, zone_linked, records = self._dns(c, reg, host)
        facts["dns.zone_present"] = zone_present
        facts["dns.zone_linked"] = zone_linked
        facts["dns.records_ok"] = records
        facts["dns.ok"] = _all_of([zone_present, zone_linked, records],
                                  f"private DNS for {reg.login_server} resolves in the VNet of "
                                  f"{c.name}")
        facts["pe.reachable"] = _all_of([in_vnet, facts["dns.ok"]],
                                        f"a private endpoint of {reg.name} is reachable from "
                                        f"{c.name}")
        return facts

    def _pe_in_vnet(self, c: Consumer, reg: Registry) -> Fact:
        if c.fact("in_vnet") == "false":
            return Fact(False, f"{c.name} is not in a VNet, so it cannot reach a private endpoint")
        vnets = self.consumer_vnets(c)
        if not vnets:
            return Fact(None, f"the VNet of {c.name} is not in the inventory")
        approved = self.approved_pes(reg)
        if not approved:
            if not reg.has_config and not self.registry_pes(reg):
                return Fact(None, f"the private endpoints of registry {reg.name} are not in the "
                                  "inventory")
            pending = [p for p, st in self.registry_pes(reg).items() if st.lower() != "approved"]
            extra = f" ({len(pending)} not approved)" if pending else ""
            return Fact(False, f"registry {reg.name} has no approved private endpoint{extra}")
        elsewhere: list[str] = []
        unknown: list[str] = []
        for pid in approved:
            pe = self.inv.private_endpoints.get(pid)
            if pe is None:
                unknown.append(name_of(pid))
                continue
            vnet = vnet_of_subnet(pe.subnet_id)
            if vnet in vnets:
                return Fact(True, f"private endpoint {pe.name} of registry {reg.name} is in VNet "
                                  f"{name_of(vnet)}, where {c.name} runs")
            elsewhere.append(f"{pe.name} in VNet {name_of(vnet)}")
        if unknown:
            return Fact(None, f"private endpoint(s) {', '.join(unknown)} of registry {reg.name} "
                              "are not in the inventory, so where they are is unknown")
        self.note(f"{c.name} runs in VNet {', '.join(name_of(v) for v in vnets)} but the private "
                  f"endpoint(s) of {reg.name} are elsewhere ({'; '.join(elsewhere)}): reachable "
                  "only through VNet peering or routing, which pullpath does not read")
        return Fact(None, f"the private endpoint(s) of registry {reg.name} are in another VNet "
                          f"({'; '.join(elsewhere)}); whether {c.name} reaches them through "
                          "peering is not read")

    def zones(self, reg: Registry) -> tuple[str, list[PrivateDnsZone]]:
        suffix = reg.login_server.split(".", 1)[1] if "." in reg.login_server else "azurecr.io"
        zone_name = f"privatelink.{suffix}"
        zones = [z for z in self.inv.dns_zones.values() if z.name.lower() == zone_name]
        return zone_name, zones

    def record_names(self, reg: Registry, host: str = "") -> tuple[list[str], bool]:
        """The A records the privatelink zone needs for the registry, and whether the list is
        complete (the registry's region is known): the registry, the data endpoint of every
        region and, where regional endpoints are in use (the registry's private endpoints
        resolve ``<registry>.<region>.geo`` names, or ``host`` is one), the regional endpoint
        of every region (of ``host``'s region at least)."""
        label = reg.login_server.split(".", 1)[0] if reg.login_server else reg.name.lower()
        regions = list(dict.fromkeys(
            r for r in (reg.location, *reg.replica_locations, *reg.data_endpoint_regions) if r))
        names = [label] + [f"{label}.{r}.data" for r in regions]
        geo = self.regional_endpoint_regions(reg)
        if geo:
            names += [f"{label}.{r}.geo" for r in dict.fromkeys([*regions, *geo])]
        regional = regional_endpoint(host) if host else None
        if regional is not None and f"{label}.{regional[1]}.geo" not in names:
            names.append(f"{label}.{regional[1]}.geo")
        return names, bool(reg.location)

    def regional_endpoint_regions(self, reg: Registry) -> list[str]:
        """Regions whose regional endpoint (``<registry>.<region>.geo.azurecr.io``) the
        registry's private endpoints resolve (their DNS configurations or NIC FQDNs): regional
        endpoints are enabled on the registry."""
        out: list[str] = []
        for pid in self.registry_pes(reg):
            pe = self.inv.private_endpoints.get(pid)
            if pe is None:
                continue
            fqdns = [fqdn for fqdn, _ in pe.dns_records]
            for nic_id in pe.nic_ids:
                nic = self.inv.nics.get(nic_id)
                if nic is not None:
                    fqdns += [f for cfg in nic.ip_configurations for f in cfg.fqdns]
            for fqdn in fqdns:
                regional = regional_endpoint(fqdn)
                if regional is not None and regional[0] == reg.login_server.lower():
                    out.append(regional[1])
        return list(dict.fromkeys(out))

    def _dns(self, c: Consumer, reg: Registry, host: str = "") -> tuple[Fact, Fact, Fact]:
        zone_name, zones = self.zones(reg)
        vnets = self.consumer_vnets(c)
        if not zones:
            if not self.inv.dns_zones:
                unknown = Fact(None, "private DNS zones are not in the inventory")
                return unknown, unknown, unknown
            absent = Fact(False, f"there is no {zone_name} zone among the "
                                 f"{len(self.inv.dns_zones)} private DNS zone(s) in the inventory")
            return absent, Fact(False, absent.why), Fact(False, absent.why)
        present = Fact(True, f"zone {zone_name} is in the inventory")
        linked_zones = [z for z in zones if any(v in z.linked_vnet_ids for v in vnets)]
        if not vnets:
            linked = Fact(None, f"the VNet of {c.name} is not in the inventory")
        elif linked_zones:
            linked = Fact(True, f"zone {zone_name} is linked to VNet "
                                f"{', '.join(name_of(v) for v in vnets)}")
        elif all(_links_complete(z) for z in zones):
            counted = [f"{z.link_count} link(s)" for z in zones if z.link_count is not None]
            linked = Fact(False, f"zone {zone_name} is not linked to VNet "
                                 f"{', '.join(name_of(v) for v in vnets)} of {c.name} (its "
                                 f"{'; '.join(counted) or 'exported links'} go elsewhere)"
                          if any(z.linked_vnet_ids or z.link_count for z in zones) else
                          f"zone {zone_name} is linked to no VNet "
                          "(numberOfVirtualNetworkLinks 0)")
        elif any(z.linked_vnet_ids for z in zones):
            linked = Fact(None, f"zone {zone_name} has more virtual network links than the "
                                f"inventory holds, and none of those it holds is to VNet "
                                f"{', '.join(name_of(v) for v in vnets)}")
        else:
            linked = Fact(None, f"the virtual network links of zone {zone_name} are not in the "
                                "inventory")
        candidates = linked_zones or zones
        present_records = {name.lower() for z in candidates for name, _ in z.a_records}
        needed, complete = self.record_names(reg, host)
        if not present_records:
            records = Fact(None, f"the A records of zone {zone_name} are not in the inventory")
        else:
            missing = [r for r in needed if r not in present_records]
            if missing:
                records = Fact(False, f"zone {zone_name} lacks A record(s) "
                                      f"{', '.join(missing)}")
            elif not complete:
                records = Fact(None, f"the region of registry {reg.name} is not in the "
                                     "inventory, so the data endpoint record is unknown")
            else:
                records = Fact(True, f"zone {zone_name} has A records {', '.join(needed)}")
        return present, linked, records


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


def _links_complete(zone: PrivateDnsZone) -> bool:
    """The inventory holds every VNet link of the zone: its exported links are at least its
    numberOfVirtualNetworkLinks, or, without the count, some links were exported (the export
    is taken as the zone's list)."""
    if zone.link_count is not None:
        return len(zone.linked_vnet_ids) >= zone.link_count
    return bool(zone.linked_vnet_ids)


def _all_of(parts: Sequence[Fact], what: str) -> Fact:
    """Three-valued AND with the reason of the first failing (or unknown) part."""
    for part in parts:
        if part.value is False:
            return Fact(False, part.why)
    for part in parts:
        if part.value is None:
            return Fact(None, part.why)
    return Fact(True, "; ".join(p.why for p in parts) or what)


def _unknown_registry_facts(login_server: str) -> Facts:
    why = f"registry {login_server} is not in the inventory (add its ARM JSON)"
    out: Facts = {name: Fact(None, why) for name in FACT_SPECS
                  if name.startswith(("registry.", "pe.", "dns."))}
    out["registry.known"] = Fact(False, why)
    return out


# --------------------------------------------------------------------------------------------
# the decision


def _decide(behaviours: Iterable[Behaviour], ref: PairRef, facts: Facts) -> PairPrediction:
    kind = ref.consumer.kind.value
    undecided: list[tuple[Behaviour, tuple[str, ...]]] = []
    matched: Behaviour | None = None
    for b in behaviours:
        if b.consumer not in ("any", kind):
            continue
        result, unknown = evaluate(b.when, facts)
        if result is True:
            matched = b
            break
        if result is None:
            undecided.append((b, unknown))
    snapshot = tuple((name, facts[name].value) for name in sorted(facts))
    method = facts["credential.method"].value
    credential = method if isinstance(method, str) else "unknown"
    if matched is None:
        return _unknown(ref, facts, undecided, snapshot, credential)
    reasons: list[str] = []
    for cond in matched.when:
        why = facts[cond.fact].why
        if why not in reasons:
            reasons.append(why)
    reasons.append(matched.rationale)
    reasons.extend(_dispute(matched))
    confidence = matched.confidence
    missing: list[str] = []
    rivals = [(b, unk) for b, unk in undecided if b.expect is not matched.expect]
    # An authorisation rule that cannot be checked (no role assignments in the inventory) says
    # nothing about the network path: it is listed as missing, without lowering the confidence.
    if any(b.denied_by != "authorisation" for b, _ in rivals):
        confidence = downgrade(confidence)
    for b, unk in rivals:
        whys = _unique(facts[u].why for u in unk)
        lead = "not checked" if b.denied_by == "authorisation" else "not ruled out"
        reasons.append(f"{lead}: {b.id} ({b.expect.value}) would apply if known: "
                       + "; ".join(whys))
        missing.extend(w for w in whys if w not in missing)
    return PairPrediction(
        consumer=ref.consumer,
        login_server=ref.login_server,
        registry=ref.registry,
        expected_path=matched.expect,
        rule=matched.id,
        confidence=confidence,
        reasons=tuple(reasons),
        sources=matched.sources,
        missing=tuple(missing),
        credential=credential,
        facts=snapshot,
        denied_by=matched.denied_by,
    )


def _dispute(b: Behaviour) -> list[str]:
    if not b.disputed:
        return []
    out: list[str] = []
    for s in b.sources:
        if s.expect is None:
            continue
        if s.kind is SourceKind.MEASURED:
            out.append(f"pullpath lab run {s.run_id} on {s.verified} measured {s.expect.value}")
        elif s.kind is SourceKind.FIELD_REPORT:
            out.append(f"the field report of {s.verified} observed {s.expect.value} (not "
                       "measured by pullpath)")
        elif s.kind is SourceKind.ISSUE:
            out.append(f"an issue thread ({s.verified}) says {s.expect.value}")
        else:
            out.append(f"the documentation (ms.date {s.verified}) says {s.expect.value}")
    return ["sources disagree: " + "; ".join(out)
            + f"; the latest observation wins: {b.expect.value}"]


def _unique(texts: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(texts))


def _unknown(ref: PairRef, facts: Facts, undecided: list[tuple[Behaviour, tuple[str, ...]]],
             snapshot: tuple[tuple[str, FactValue], ...], credential: str) -> PairPrediction:
    missing: list[str] = []
    reasons: list[str] = []
    if ref.registry is None:
        # nothing about the path can be said without the registry: one reason, not one per rule
        missing.append(facts["registry.known"].why)
        reasons.append(facts["registry.known"].why)
        undecided = []
    for b, unk in undecided:
        whys = _unique(facts[u].why for u in unk)
        missing.extend(w for w in whys if w not in missing)
        reasons.append(f"{b.id} ({b.expect.value}) would apply if known: " + "; ".join(whys))
    if not reasons:
        reasons.append(f"no knowledge-base entry covers a {ref.consumer.kind.value} consumer "
                       f"with this configuration ({credential} credential)")
    return PairPrediction(
        consumer=ref.consumer,
        login_server=ref.login_server,
        registry=ref.registry,
        expected_path=Path.UNKNOWN,
        rule="",
        confidence=Confidence.NONE,
        reasons=tuple(reasons),
        sources=(),
        missing=tuple(missing),
        credential=credential,
        facts=snapshot,
    )


# --------------------------------------------------------------------------------------------
# per-inventory cache and the audit hook


def _default_kb() -> KnowledgeBase:
    from pullpath.knowledge.loader import default_knowledge

    return default_knowledge()


def explainer_for(inventory: Inventory, kb: KnowledgeBase | None = None) -> Explainer:
    """An explainer for the inventory. It computes facts and predictions once and caches them
    itself: keep it for as long as the inventory is in use (audit keeps one per run)."""
    return Explainer(inventory, kb if kb is not None else _default_kb())


def flow_expectation(inventory: Inventory, flow: Flow,
                     kb: KnowledgeBase | None = None) -> Expectation | None:
    """One-off form of :meth:`Explainer.expectation` (builds a fresh explainer)."""
    return explainer_for(inventory, kb).expectation(flow)
