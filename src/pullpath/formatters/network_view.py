"""The network around the registries, as a plain document section the reports draw from.

Audit and explain documents say *which* consumer pulled from *which* registry by *which* path;
the diagram also needs *where* things are: the VNet and subnet of each consumer, the registry's
firewall state (public network access, default action, trusted services, IP rules) and its
private endpoints. This module turns an ``Inventory`` into that section (``network``), a pure
function of the inventory, that the audit and explain documents carry as ``network``.

Shape (every key always present, lists sorted for deterministic output)::

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

from pullpath.domain.inventory import Inventory, Registry, norm_id
from pullpath.domain.resource_id import name_of, parent_of
from pullpath.formatters.common import safe_text

NETWORK_KEYS = ("registries", "vnets", "subnets", "consumers")


def _registry_doc(inv: Inventory, reg: Registry, targeting: set[str]) -> dict[str, Any]:
    """``targeting``: the private endpoints whose connections name the registry."""
    status_by_pe = {c.private_endpoint_id: c.status for c in reg.private_endpoint_connections}
    pe_ids = set(status_by_pe) | targeting
    endpoints: list[dict[str, Any]] = []
    for pe_id in sorted(pe_ids):
        pe = inv.private_endpoints.get(pe_id)
        status = status_by_pe.get(pe_id, "")
        if not status and pe is not None:
            for target, state in zip(pe.target_ids, pe.connection_states, strict=False):
                if target == reg.id:
                    status = state
        subnet_id = pe.subnet_id if pe is not None else ""
        subnet = inv.subnets.get(subnet_id)
        endpoints.append({
            "id": pe_id,
            "name": safe_text(pe.name if pe is not None else name_of(pe_id)),
            "subnet_id": subnet_id,
            "vnet_id": subnet.vnet_id if subnet is not None else parent_of(subnet_id, "subnets"),
            "status": safe_text(status),
            "private_ips": sorted(pe.private_ips) if pe is not None else [],
        })
    return {
        "id": reg.id,
        "name": safe_text(reg.name),
        "login_server": safe_text(reg.login_server),
        "sku": safe_text(reg.sku),
        "public_network_access": safe_text(reg.public_network_access),
        "default_action": safe_text(reg.default_action),
        "bypass": safe_text(reg.bypass),
        "ip_rules": [safe_text(r) for r in reg.ip_rules],
        "private_endpoints": endpoints,
    }


def network_view(inv: Inventory) -> dict[str, Any]:
    """The ``network`` section for an inventory (pure, deterministic)."""
    targeting: dict[str, set[str]] = {}  # registry -> private endpoints: one pass, not one each
    for pe in inv.private_endpoints.values():
        for target in pe.target_ids:
            targeting.setdefault(target, set()).add(pe.id)
    registries = [_registry_doc(inv, r, targeting.get(r.id, set()))
                  for _, r in sorted(inv.registries.items())]
    vnets = [
        {"id": v.id, "name": safe_text(v.name), "address_prefixes": list(v.address_prefixes)}
        for _, v in sorted(inv.vnets.items())
    ]
    subnets = [
        {
            "id": s.id,
            "name": safe_text(s.name),
            "vnet_id": s.vnet_id,
            "prefixes": list(s.prefixes),
            "delegations": [safe_text(d) for d in s.delegations],
        }
        for _, s in sorted(inv.subnets.items())
    ]
    consumers = [
        {
            "id": c.id,
            "kind": c.kind.value,
            "name": safe_text(c.name),
            "subnet_ids": sorted({norm_id(s) for s in c.subnet_ids if s}),
        }
        for _, c in sorted(inv.consumers.items())
    ]
    return {"registries": registries, "vnets": vnets, "subnets": subnets, "consumers": consumers}
