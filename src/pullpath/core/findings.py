"""Findings: configurations that will break a pull or the intent of a private registry (pure).

Each finding is defined in ``knowledge/findings.yaml`` by conditions on the same derived facts
the behaviours use. Pair-scope findings are evaluated for every consumer -> registry pair,
registry-scope ones once per registry (with two facts aggregated over the registry's pairs).
A finding whose conditions need an unknown fact is not raised; a note says what could not be
checked, so silence never means "clean" when the inventory lacked the evidence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pullpath.core.explain import (
    Explainer,
    PairRef,
    evaluate,
    vnet_of_subnet,
)
from pullpath.domain.explain import Fact, Facts, Finding, FindingSpec, PairPrediction
from pullpath.domain.inventory import ConsumerKind, Registry
from pullpath.domain.resource_id import name_of, resource_group_of, subscription_of
from pullpath.domain.verdicts import Path

__all__ = ["check_findings", "render_template"]

_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_MI = ("user-assigned-identity", "system-assigned-identity", "kubelet-identity")


def render_template(template: str, context: Mapping[str, str], facts: Facts) -> str:
    """Fill ``{{name}}`` and ``{{why:<fact>}}``; an unknown value stays visible as ``<name>``."""

    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        if key.startswith("why:"):
            fact = facts.get(key[4:])
            return fact.why if fact is not None else f"<{key[4:]} unknown>"
        return context.get(key) or f"<{key.replace('_', '-')}>"

    return _PLACEHOLDER.sub(fill, template)


@dataclass
class _Pending:
    spec: FindingSpec
    resource_id: str
    detail: str
    fix_cli: str
    fix_bicep: str
    related: list[str] = field(default_factory=list)


@dataclass
class _Unchecked:
    resources: dict[str, None] = field(default_factory=dict)
    """Labels in the order met (a dict: membership is asked once per pair)."""


class _Checker:
    def __init__(self, explainer: Explainer) -> None:
        self.ex = explainer
        self.inv = explainer.inv
        self.found: dict[tuple[str, str], _Pending] = {}
        self.unchecked: dict[tuple[str, str], _Unchecked] = {}

    # -- context for templates ---------------------------------------------------------------

    def _registry_context(self, reg: Registry | None, login_server: str) -> dict[str, str]:
        if reg is None:
            label = login_server.split(".", 1)[0]
            return {"registry_name": label, "login_server": login_server,
                    "record_name": label, "zone_name": "privatelink.azurecr.io"}
        zone_name = self.ex.zones(reg)[0]
        return {
            "registry_name": reg.name,
            "registry_id": reg.id,
            "registry_rg": resource_group_of(reg.id),
            "registry_location": reg.location,
            "login_server": reg.login_server,
            "record_name": reg.login_server.split(".", 1)[0] if reg.login_server else reg.name,
            "zone_name": zone_name,
            "subscription": subscription_of(reg.id),
            "pe_ids": " ".join(self.ex.registry_pes(reg)),
        }

    def _pair_context(self, ref: PairRef) -> dict[str, str]:
        c = ref.consumer
        ctx = self._registry_context(ref.registry, ref.login_server)
        vnets = self.ex.consumer_vnets(c)
        cred = ref.credential
        ctx.update({
            "consumer_name": c.name,
            "consumer_id": c.id,
            "consumer_rg": resource_group_of(c.id),
            "consumer_kind": c.kind.value,
            "principal_id": self.ex.principal_of(c, cred),
            "identity_id": cred.identity_id if cred is not None else "",
            "credential": (f"{cred.method} {name_of(cred.identity_id)}".strip()
                           if cred is not None else "no credential"),
        })
        if ref.registry is not None:
            approved = self.ex.approved_pes(ref.registry)
            ctx["pe_ids"] = " ".join(approved) or ctx.get("pe_ids", "")
        if vnets:
            ctx.update({"vnet_id": vnets[0], "vnet_name": name_of(vnets[0]),
                        "vnet_rg": resource_group_of(vnets[0])})
        return ctx

    def _registry_pe_context(self, reg: Registry, ctx: dict[str, str]) -> dict[str, str]:
        """For registry findings: the VNet of the registry's (ACI-subnet) private endpoint."""
        chosen = ""
        for pid in self.ex.registry_pes(reg):
            pe = self.inv.private_endpoints.get(pid)
            if pe is None:
                continue
            sub = self.inv.subnets.get(pe.subnet_id)
            if not chosen or (sub is not None and any(
                    d.lower() == "microsoft.containerinstance/containergroups"
                    for d in sub.delegations)):
                chosen = pe.subnet_id
                ctx["pe_ids"] = pid
        vnet = vnet_of_subnet(chosen) if chosen else ""
        if vnet:
            ctx.update({"vnet_id": vnet, "vnet_name": name_of(vnet),
                        "vnet_rg": resource_group_of(vnet)})
        return ctx

    # -- evaluation --------------------------------------------------------------------------

    def _apply(self, spec: FindingSpec, facts: Facts, ctx: dict[str, str], resource_id: str,
               related: list[str], label: str) -> None:
        result, unknown = evaluate(spec.when, facts)
        if result is False:
            return
        if result is None:
            for name in unknown:
                why = facts[name].why if name in facts else f"{name} is unknown"
                entry = self.unchecked.setdefault((spec.id, why), _Unchecked())
                entry.resources.setdefault(label)
            return
        key = (spec.id, resource_id)
        pending = self.found.get(key)
        if pending is None:
            detail = render_template(spec.detail, ctx, facts)
            pending = self.found[key] = _Pending(
                spec, resource_id, detail,
                render_template(spec.fix_cli, ctx, facts),
                render_template(spec.fix_bicep, ctx, facts),
            )
        else:
            extra = render_template(spec.detail, ctx, facts)
            if extra not in pending.detail and len(pending.detail) < 2000:
                pending.detail += " " + extra
        for rid in related:
            if rid and rid != resource_id and rid not in pending.related:
                pending.related.append(rid)

    def pairs(self) -> None:
        specs = [s for s in self.ex.kb.findings if s.scope == "pair"]
        for ref in self.ex.pair_refs():
            facts = self.ex.pair_facts(ref)
            ctx = self._pair_context(ref)
            reg_id = ref.registry.id if ref.registry is not None else ""
            identity = ref.credential.identity_id if ref.credential is not None else ""
            for spec in specs:
                if spec.subject == "registry":
                    if not reg_id:
                        continue
                    resource, related = reg_id, [ref.consumer.id]
                else:
                    resource, related = ref.consumer.id, [reg_id or ref.login_server, identity]
                self._apply(spec, facts, ctx, resource, related,
                            f"{ref.consumer.name} -> {ref.login_server}")

    def registries(self, predictions: list[PairPrediction]) -> None:
        specs = [s for s in self.ex.kb.findings if s.scope == "registry"]
        by_registry: dict[str, list[PairPrediction]] = {}
        for p in predictions:
            if p.registry is not None:
                by_registry.setdefault(p.registry.id, []).append(p)
        for rid in sorted(self.inv.registries):
            reg = self.inv.registries[rid]
            preds = by_registry.get(rid, [])
            facts = dict(self.ex.registry_facts(reg))
            facts.update(_aggregates(reg, preds, self.ex.platform_users(reg)))
            ctx = self._registry_pe_context(reg, self._registry_context(reg, reg.login_server))
            related = [p.consumer.id for p in preds]
            for spec in specs:
                self._apply(spec, facts, ctx, rid, related, reg.name)

    def result(self) -> tuple[list[Finding], list[str]]:
        findings = [
            Finding(
                id=p.spec.id,
                severity=p.spec.severity,
                title=p.spec.title,
                resource_id=p.resource_id,
                related=tuple(p.related),
                detail=p.detail,
                fix_cli=p.fix_cli,
                fix_bicep=p.fix_bicep,
                docs=p.spec.docs,
                policy=p.spec.policy,
            )
            for p in self.found.values()
        ]
        findings.sort(key=lambda f: (-f.severity.rank, f.id, f.resource_id))
        notes: list[str] = []
        for (fid, why), entry in sorted(self.unchecked.items()):
            names = list(entry.resources)
            shown = ", ".join(names[:5]) + (f" (+{len(names) - 5} more)" if len(names) > 5 else "")
            notes.append(f"{fid} not checked for {shown}: {why}")
        return findings, notes


def _aggregates(reg: Registry, preds: list[PairPrediction],
                platform: Sequence[str] = ()) -> Facts:
    """``registry.all_consumers_private`` and ``registry.trusted_needed`` from the pairs'
    predictions and ``platform``, the services of the inventory that use the registry by its
    bypass without being consumers (a Machine Learning workspace)."""
    n = reg.name
    if not preds and platform:
        return {"registry.all_consumers_private": Fact(False, f"no consumer of registry {n} is "
                                                              "in the inventory"),
                "registry.trusted_needed": Fact(True, f"{', '.join(platform)} use(s) the "
                                                      f"trusted-services bypass of {n}")}
    if not preds:
        none = f"no consumer of registry {n} is in the inventory"
        return {"registry.all_consumers_private": Fact(False, none),
                "registry.trusted_needed": Fact(False, none)}
    paths = [p.expected_path for p in preds]
    names = ", ".join(sorted({p.consumer.name for p in preds}))
    if any(x not in (Path.PRIVATE_ENDPOINT, Path.UNKNOWN) for x in paths):
        others = sorted({f"{p.consumer.name} ({p.expected_path.value})" for p in preds
                         if p.expected_path not in (Path.PRIVATE_ENDPOINT, Path.UNKNOWN)})
        private = Fact(False, f"not every consumer of {n} pulls privately: {', '.join(others)}")
    elif Path.UNKNOWN in paths:
        unknown = sorted({p.consumer.name for p in preds if p.expected_path is Path.UNKNOWN})
        private = Fact(None, f"the path of {', '.join(unknown)} to {n} is unknown")
    else:
        private = Fact(True, f"every consumer of {n} in the inventory ({names}) is expected to "
                             "pull through a private endpoint")
    needing: list[str] = list(platform)
    unsure: list[str] = []
    for p in preds:
        kind = p.consumer.kind
        if p.expected_path is Path.TRUSTED_SERVICE or \
                (kind is ConsumerKind.ACI and p.credential in _MI) or \
                (kind is ConsumerKind.ACR_TASKS and p.credential == "system-assigned-identity"):
            needing.append(p.consumer.name)
        elif kind in (ConsumerKind.ACI, ConsumerKind.ACR_TASKS, ConsumerKind.UNKNOWN) and \
                p.credential == "unknown":
            unsure.append(p.consumer.name)
    if needing:
        trusted = Fact(True, f"{', '.join(sorted(set(needing)))} need(s) the trusted-services "
                             f"bypass of {n}")
    elif unsure:
        trusted = Fact(None, f"whether {', '.join(sorted(set(unsure)))} need(s) the bypass is "
                             "unknown (credential not read)")
    else:
        trusted = Fact(False, f"none of the consumers of {n} in the inventory ({names}) needs "
                              "the bypass")
    return {"registry.all_consumers_private": private, "registry.trusted_needed": trusted}


def check_findings(explainer: Explainer) -> tuple[list[Finding], list[str]]:
    """All findings of the explainer's inventory, and notes on what could not be checked."""
    checker = _Checker(explainer)
    predictions = explainer.predictions()
    checker.pairs()
    checker.registries(predictions)
    return checker.result()
