"""The sections the audit and explain documents both carry: what the inventory held, the
findings, and the network around the registries (``pullpath.audit/v1``,
``pullpath.explain/v1``).

``network`` shape (every key always present, lists sorted for deterministic output)::

    {"registries": [{"id", "name", "login_server", "sku", "public_network_access",
                     "default_action", "bypass", "ip_rules": [...],
                     "private_endpoints": [{"id", "name", "subnet_id", "vnet_id", "status",
                                            "private_ips": [...]}]}],
     "vnets": [{"id", "name", "address_prefixes": [...]}],
     "subnets": [{"id", "name", "vnet_id", "prefixes": [...], "delegations": [...]}],
     "consumers": [{"id", "kind", "name", "subnet_ids": [...]}]}
"""

from __future__ import annotations

from typing import Any

from pullpath.domain.explain import Finding
from pullpath.domain.report import NetworkView, RegistryView
from pullpath.domain.verdicts import InventoryInfo
from pullpath.formatters.common import safe_text

FINDINGS_DOCS_BASE = "https://github.com/pullpath/pullpath/blob/main/docs/findings/"
"""Where the finding pages (``docs/findings/PPxxx.md`` in this repository) are published. The
project's homepage (pyproject ``[project.urls]``); change it here if the docs move."""


def finding_help_uri(finding_id: str) -> str:
    return f"{FINDINGS_DOCS_BASE}{finding_id}.md"


def finding_doc(f: Finding) -> dict[str, Any]:
    return {
        "id": f.id,
        "severity": f.severity.value,
        "title": f.title,
        "resource_id": f.resource_id,
        "related": list(f.related),
        "detail": safe_text(f.detail),
        "fix": {"cli": safe_text(f.fix_cli), "bicep": safe_text(f.fix_bicep)},
        "docs": list(f.docs),
        "policy": {"id": f.policy.id, "name": f.policy.name} if f.policy is not None else None,
        "help_uri": finding_help_uri(f.id),
    }


def inventory_doc(info: InventoryInfo) -> dict[str, Any]:
    return {
        "files": [safe_text(f) for f in info.files],
        "resources": info.resources,
        "registries": info.registries,
        "consumers": info.consumers,
        "subnets": info.subnets,
        "ignored_types": dict(info.ignored_types),
        "duplicates_merged": info.duplicates_merged,
        "without_properties": info.without_properties,
        "issues": [
            {"location": safe_text(loc), "resource_id": safe_text(rid), "problem": safe_text(p)}
            for loc, rid, p in info.issues
        ],
    }


def _registry_doc(reg: RegistryView) -> dict[str, Any]:
    return {
        "id": reg.id,
        "name": safe_text(reg.name),
        "login_server": safe_text(reg.login_server),
        "sku": safe_text(reg.sku),
        "public_network_access": safe_text(reg.public_network_access),
        "default_action": safe_text(reg.default_action),
        "bypass": safe_text(reg.bypass),
        "ip_rules": [safe_text(r) for r in reg.ip_rules],
        "private_endpoints": [
            {
                "id": pe.id,
                "name": safe_text(pe.name),
                "subnet_id": pe.subnet_id,
                "vnet_id": pe.vnet_id,
                "status": safe_text(pe.status),
                "private_ips": list(pe.private_ips),
            }
            for pe in reg.private_endpoints
        ],
    }


def network_doc(view: NetworkView) -> dict[str, Any]:
    """The ``network`` section the diagrams draw."""
    return {
        "registries": [_registry_doc(r) for r in view.registries],
        "vnets": [{"id": v.id, "name": safe_text(v.name),
                   "address_prefixes": list(v.address_prefixes)} for v in view.vnets],
        "subnets": [
            {
                "id": s.id,
                "name": safe_text(s.name),
                "vnet_id": s.vnet_id,
                "prefixes": list(s.prefixes),
                "delegations": [safe_text(d) for d in s.delegations],
            }
            for s in view.subnets
        ],
        "consumers": [{"id": c.id, "kind": c.kind.value, "name": safe_text(c.name),
                       "subnet_ids": list(c.subnet_ids)} for c in view.consumers],
    }
