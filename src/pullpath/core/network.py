"""The network around the registries, from the inventory (pure).

Audit and explain reports say *which* consumer pulled from *which* registry by *which* path;
the diagram also needs *where* things are: the VNet and subnet of each consumer, the registry's
firewall state (public network access, default action, trusted services, IP rules) and its
private endpoints. ``network_view`` gathers that from an ``Inventory`` as a ``NetworkView``,
each part sorted by ID for deterministic output.
"""

from __future__ import annotations

from pullpath.domain.inventory import Inventory, Registry, norm_id
from pullpath.domain.report import ConsumerView, NetworkView, PrivateEndpointView, RegistryView
from pullpath.domain.resource_id import name_of, parent_of


def _registry_view(inv: Inventory, reg: Registry, targeting: set[str]) -> RegistryView:
    """``targeting``: the private endpoints whose connections name the registry."""
    status_by_pe = {c.private_endpoint_id: c.status for c in reg.private_endpoint_connections}
    pe_ids = set(status_by_pe) | targeting
    endpoints: list[PrivateEndpointView] = []
    for pe_id in sorted(pe_ids):
        pe = inv.private_endpoints.get(pe_id)
        status = status_by_pe.get(pe_id, "")
        if not status and pe is not None:
            for target, state in zip(pe.target_ids, pe.connection_states, strict=False):
                if target == reg.id:
                    status = state
        subnet_id = pe.subnet_id if pe is not None else ""
        subnet = inv.subnets.get(subnet_id)
        endpoints.append(PrivateEndpointView(
            id=pe_id,
            name=pe.name if pe is not None else name_of(pe_id),
            subnet_id=subnet_id,
            vnet_id=subnet.vnet_id if subnet is not None else parent_of(subnet_id, "subnets"),
            status=status,
            private_ips=tuple(sorted(pe.private_ips)) if pe is not None else (),
        ))
    return RegistryView(
        id=reg.id,
        name=reg.name,
        login_server=reg.login_server,
        sku=reg.sku,
        public_network_access=reg.public_network_access,
        default_action=reg.default_action,
        bypass=reg.bypass,
        ip_rules=reg.ip_rules,
        private_endpoints=tuple(endpoints),
    )


def network_view(inv: Inventory) -> NetworkView:
    """The network around the registries of ``inv`` (pure, deterministic)."""
    targeting: dict[str, set[str]] = {}  # registry -> private endpoints: one pass, not one each
    for pe in inv.private_endpoints.values():
        for target in pe.target_ids:
            targeting.setdefault(target, set()).add(pe.id)
    return NetworkView(
        registries=tuple(_registry_view(inv, r, targeting.get(r.id, set()))
                         for _, r in sorted(inv.registries.items())),
        vnets=tuple(v for _, v in sorted(inv.vnets.items())),
        subnets=tuple(s for _, s in sorted(inv.subnets.items())),
        consumers=tuple(ConsumerView(c.id, c.kind, c.name,
                                     tuple(sorted({norm_id(s) for s in c.subnet_ids if s})))
                        for _, c in sorted(inv.consumers.items())),
    )
