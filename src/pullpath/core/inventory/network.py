"""Network resources -> domain records: VNets and their subnets, private endpoints, network
interfaces, public IPs and NAT gateways.

One transform per resource type, each reading the REST (camelCase) and the SDK (snake_case)
shape alike through :class:`~pullpath.core.inventory.fields.FieldReader`. Pure: the builder
stores what they return, and links the records across resources at the end.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from pullpath.core.inventory.fields import FieldReader, norm_location, uniq
from pullpath.domain.inventory import (
    IpConfiguration,
    NatGateway,
    NetworkInterface,
    PrivateEndpoint,
    PublicIp,
    Subnet,
    VirtualNetwork,
    norm_id,
)
from pullpath.domain.resource_id import name_of, parent_of

__all__ = [
    "transform_nat_gateway",
    "transform_nic",
    "transform_private_endpoint",
    "transform_public_ip",
    "transform_subnet",
    "transform_vnet",
]


def _usable_prefix(c: FieldReader, subnet: str, prefix: str) -> bool:
    """Is ``prefix`` a subnet's address range pullpath can look callers up in? An invalid one
    (``10.0.2.0/33``, garbage) or a catch-all (``0.0.0.0/0``, ``::/0``: every caller would be
    "in" the subnet) is an inventory issue and not used."""
    try:
        network = ipaddress.ip_network(prefix, strict=False)
    except ValueError:
        c.issue(f"subnet {subnet}: addressPrefix {prefix!r} is not an IP prefix: not used")
        return False
    if network.prefixlen == 0:
        c.issue(f"subnet {subnet}: addressPrefix {prefix} covers every address (a catch-all, "
                "not a subnet's range): not used, callers are not looked up in it")
        return False
    return True


def transform_subnet(c: FieldReader, sub: Mapping[Any, object], where: str,
                     vnet_id: str) -> Subnet | None:
    """A subnet, given on its own (``where`` "") or inside its VNet (``subnets[i].``)."""
    name = c.s(sub, "name", where)
    sid = norm_id(c.s(sub, "id", where))
    if not sid:
        if not (name and vnet_id):
            c.issue(f"subnet without id or name at {where.rstrip('.') or 'subnet'}: not read")
            return None
        sid = f"{vnet_id}/subnets/{name.lower()}"
    given = uniq([c.s(sub, "addressPrefix", where), *c.strs(sub, "addressPrefixes", where)])
    prefixes = tuple(p for p in given if _usable_prefix(c, name or name_of(sid), p))
    delegations = uniq(c.s(d, "serviceName", w) for w, d in c.objs(sub, "delegations", where))
    return Subnet(
        id=sid,
        name=name or name_of(sid),
        vnet_id=vnet_id or parent_of(sid, "subnets"),
        prefixes=prefixes,
        delegations=delegations,
        nat_gateway_id=c.ref(sub, "natGateway", where),
    )


def transform_vnet(c: FieldReader, res: Mapping[Any, object],
                   rid: str) -> tuple[VirtualNetwork, list[tuple[Subnet, str]]]:
    """A VNet and the subnets it lists (each with where in the VNet it was read)."""
    location = norm_location(c.s(res, "location"))
    subnets: list[tuple[Subnet, str]] = []
    for w, sub in c.objs(res, "subnets"):
        subnet = transform_subnet(c, sub, w, rid)
        if subnet is not None:
            subnets.append((subnet, w))
    vnet = VirtualNetwork(
        id=rid,
        name=c.s(res, "name") or name_of(rid),
        location=location,
        address_prefixes=c.strs(res, "addressSpace.addressPrefixes"),
        subnet_ids=uniq(s.id for s, _ in subnets),
    )
    return vnet, subnets


def transform_private_endpoint(c: FieldReader, res: Mapping[Any, object],
                               rid: str) -> PrivateEndpoint:
    targets: list[str] = []
    states: list[str] = []
    groups: list[str] = []
    for path in ("privateLinkServiceConnections", "manualPrivateLinkServiceConnections"):
        for w, conn in c.objs(res, path):
            targets.append(norm_id(c.s(conn, "privateLinkServiceId", w)))
            states.append(c.s(conn, "privateLinkServiceConnectionState.status", w))
            groups.extend(c.strs(conn, "groupIds", w))
    dns: list[tuple[str, tuple[str, ...]]] = []
    for w, cfg in c.objs(res, "customDnsConfigs"):
        dns.append((c.s(cfg, "fqdn", w).lower(), c.strs(cfg, "ipAddresses", w)))
    ips = [c.s(cfg, "privateIPAddress", w) for w, cfg in c.objs(res, "ipConfigurations")]
    ips.extend(ip for _, addrs in dns for ip in addrs)
    return PrivateEndpoint(
        id=rid,
        name=c.s(res, "name") or name_of(rid),
        location=norm_location(c.s(res, "location")),
        subnet_id=c.ref(res, "subnet"),
        target_ids=tuple(targets),
        connection_states=tuple(states),
        group_ids=uniq(groups),
        nic_ids=c.refs(res, "networkInterfaces"),
        private_ips=uniq(ips),
        dns_records=tuple(dns),
    )


def transform_nic(c: FieldReader, res: Mapping[Any, object], rid: str) -> NetworkInterface:
    configs: list[IpConfiguration] = []
    for w, cfg in c.objs(res, "ipConfigurations"):
        configs.append(
            IpConfiguration(
                name=c.s(cfg, "name", w),
                private_ip=c.s(cfg, "privateIPAddress", w),
                subnet_id=c.ref(cfg, "subnet", w),
                public_ip_id=c.ref(cfg, "publicIPAddress", w),
                member_name=c.s(cfg, "privateLinkConnectionProperties.requiredMemberName", w),
                fqdns=c.strs(cfg, "privateLinkConnectionProperties.fqdns", w),
            )
        )
    return NetworkInterface(
        id=rid,
        name=c.s(res, "name") or name_of(rid),
        ip_configurations=tuple(configs),
        private_endpoint_id=c.ref(res, "privateEndpoint"),
        attached_to=c.ref(res, "virtualMachine"),
    )


def transform_public_ip(c: FieldReader, res: Mapping[Any, object], rid: str) -> PublicIp:
    return PublicIp(
        id=rid,
        name=c.s(res, "name") or name_of(rid),
        ip_address=c.s(res, "ipAddress"),
        attached_to=c.ref(res, "ipConfiguration") or c.ref(res, "natGateway"),
        prefix_id=c.ref(res, "publicIPPrefix"),
    )


def transform_nat_gateway(c: FieldReader, res: Mapping[Any, object], rid: str) -> NatGateway:
    return NatGateway(
        id=rid,
        name=c.s(res, "name") or name_of(rid),
        public_ip_ids=uniq(
            [*c.refs(res, "publicIpAddresses"), *c.refs(res, "publicIpAddressesV6")]
        ),
        public_ip_prefix_ids=uniq(
            [*c.refs(res, "publicIpPrefixes"), *c.refs(res, "publicIpPrefixesV6")]
        ),
        subnet_ids=c.refs(res, "subnets"),
    )
