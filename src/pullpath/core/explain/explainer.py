"""The :class:`Explainer`, which ties the fact layers together for one inventory: the pairs
it names, the notes on what cannot be explained, every pair's facts and prediction (cached);
and the entry points :func:`explainer_for` and :func:`flow_expectation`. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence

from pullpath.core.explain.dns import _DnsFacts
from pullpath.core.explain.pairs import PairRef, _pair_key, credential_for, is_acr_host
from pullpath.core.explain.registry import _unknown_registry_facts
from pullpath.core.explain.rules import _decide
from pullpath.core.inventory import image_registry
from pullpath.domain.explain import Fact, Facts, KnowledgeBase, PairPrediction
from pullpath.domain.inventory import Consumer, ConsumerKind, Inventory, Registry, norm_id
from pullpath.domain.resource_id import name_of
from pullpath.domain.verdicts import Expectation, Flow, Path


class Explainer(_DnsFacts):
    """Facts and predictions for one inventory and knowledge base, computed once."""

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


def _all_of(parts: Sequence[Fact], what: str) -> Fact:
    """Three-valued AND with the reason of the first failing (or unknown) part."""
    for part in parts:
        if part.value is False:
            return Fact(False, part.why)
    for part in parts:
        if part.value is None:
            return Fact(None, part.why)
    return Fact(True, "; ".join(p.why for p in parts) or what)


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
