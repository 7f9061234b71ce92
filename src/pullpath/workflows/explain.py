"""Wire the inventory reader, the knowledge base and the pure core into an explain report."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pullpath.core.explain import explainer_for
from pullpath.core.findings import check_findings
from pullpath.core.inventory import inventory_warnings
from pullpath.core.network import network_view
from pullpath.domain.explain import KnowledgeBase
from pullpath.domain.inventory import Inventory
from pullpath.domain.report import ExplainReport
from pullpath.workflows.audit import inventory_info, load_inventory

__all__ = ["explain_inventory", "run_explain"]


def _input_notes(inventory: Inventory) -> list[str]:
    notes: list[str] = []
    if inventory.empty:
        notes.append("the inventory holds no ARM resources: nothing to explain")
    elif not inventory.consumers:
        notes.append("the inventory holds no consumer (ACI, Container Apps, AKS, App Service "
                     "container apps, ACR tasks): no pull path to predict")
    if not inventory.role_assignments_present and inventory.consumers:
        notes.append("no role assignments in the inventory: whether each identity may pull "
                     "(PP003) is unknown; add `az role assignment list --all -o json`")
    if not inventory.diagnostic_settings_present and inventory.registries:
        notes.append("no diagnostic settings in the inventory: whether the registry's pull logs "
                     "go anywhere (PP011) is unknown; add `az monitor diagnostic-settings list "
                     "--resource <registry id> -o json`")
    if not inventory.dns_zones and inventory.private_endpoints:
        notes.append("no private DNS zones in the inventory: whether private endpoints resolve "
                     "(PP007) is unknown; add the privatelink.azurecr.io zone, its A records and "
                     "virtual network links")
    return notes


def explain_inventory(inventory: Inventory, kb: KnowledgeBase | None = None) -> ExplainReport:
    """Predict every consumer -> registry pair's path and check every finding."""
    explainer = explainer_for(inventory, kb)
    pairs = explainer.predictions()
    findings, unchecked = check_findings(explainer)
    notes = list(dict.fromkeys([*inventory_warnings(inventory), *_input_notes(inventory),
                                *explainer.notes, *unchecked]))
    return ExplainReport(
        pairs=tuple(pairs),
        findings=tuple(findings),
        notes=tuple(notes),
        inventory=inventory_info(inventory),
        knowledge=explainer.kb.origin,
        behaviours=len(explainer.kb.behaviours),
        finding_rules=len(explainer.kb.findings),
        specs=explainer.kb.findings,
        network=network_view(inventory) if not inventory.empty else None,
    )


def run_explain(inventory_paths: Sequence[Path], kb: KnowledgeBase | None = None) -> ExplainReport:
    """Read the inventory files and explain them."""
    return explain_inventory(load_inventory(inventory_paths), kb)
