"""Network resources -> ARM resource JSON: virtual networks and their subnets, subnets, private
endpoints (with the stand-in addresses of the registry endpoints they serve), public IPs and
NAT gateways (with the association resources that link them to subnets and public IPs).
Transforms ``(reader, instance) -> None``: each emits what it reads. Pure.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any, Final

from pullpath.core.iac.terraform.dns import _zone_groups
from pullpath.core.iac.terraform.envelope import _envelope, _put
from pullpath.core.iac.terraform.plan import _SUBNET, _Instance, _is_id
from pullpath.core.iac.terraform.reader import _Reader
from pullpath.domain.iac import is_unknown_value
from pullpath.domain.inventory import norm_id

_ASSOCIATIONS: Final = frozenset({
    "azurerm_subnet_nat_gateway_association", "azurerm_nat_gateway_public_ip_association",
})
"""Resources that only link two others: read into the NAT gateway they name."""


def _subnet_props(r: _Reader, inst: _Instance, b: str) -> dict[str, Any]:
    props: dict[str, Any] = {}
    prefixes = r.strings(inst, f"{b}address_prefixes")
    if prefixes:
        props["addressPrefixes"] = prefixes
    delegations = []
    for d in r.blocks(inst, f"{b}delegation"):
        service = next((r.text(inst, f"{s}.name")
                        for s in r.blocks(inst, f"{d}.service_delegation")), None)
        delegations.append({"name": r.text(inst, f"{d}.name") or "",
                            "properties": {"serviceName": service} if service else {}})
    if delegations or isinstance(r.raw(inst, f"{b}delegation"), list):
        props["delegations"] = delegations
    return props


def _vnet(r: _Reader, inst: _Instance) -> None:
    res = _envelope(r, inst)
    props: dict[str, Any] = {}
    space = r.strings(inst, "address_space")
    if space:
        props["addressSpace"] = {"addressPrefixes": space}
    subnets = []
    if inst.addr.mode == "managed":
        for b in r.blocks(inst, "subnet"):
            name = r.text(inst, f"{b}.name")
            if not name or is_unknown_value(name):
                continue
            sid = r.raw(inst, f"{b}.id")
            subnets.append({"name": name,
                            "id": sid if isinstance(sid, str) and sid else
                            f"{res['id']}/subnets/{name}",
                            "properties": _subnet_props(r, inst, f"{b}.")})
    if subnets:
        props["subnets"] = subnets
    res["properties"] = props
    r.emit(inst, res)


def _subnet(r: _Reader, inst: _Instance) -> None:
    res = _envelope(r, inst, location=False)
    res["properties"] = _subnet_props(r, inst, "")
    r.emit(inst, res)


def _subnet_prefix(r: _Reader, subnet_id: str) -> str:
    want = norm_id(subnet_id)
    for res in r.resources:
        if norm_id(res.get("id")) == want:
            prefixes = res.get("properties", {}).get("addressPrefixes") or []
            return next((p for p in prefixes if not is_unknown_value(p)), "")
        for sub in res.get("properties", {}).get("subnets", []) if res.get(
                "type") == "Microsoft.Network/virtualNetworks" else ():
            if norm_id(sub.get("id")) == want:
                prefixes = sub.get("properties", {}).get("addressPrefixes") or []
                return next((p for p in prefixes if not is_unknown_value(p)), "")
    return ""


def _private_endpoint(r: _Reader, inst: _Instance) -> None:
    res = _envelope(r, inst)
    rid = res["id"]
    props: dict[str, Any] = {}
    subnet = r.link(inst, "subnet_id", _SUBNET)
    if subnet is not None:
        props["subnet"] = {"id": subnet}
    registries: list[_Instance] = []
    for b in r.blocks(inst, "private_service_connection"):
        manual = r.flag(inst, f"{b}.is_manual_connection")
        conn: dict[str, Any] = {}
        _put(conn, "privateLinkServiceId", r.link(inst, f"{b}.private_connection_resource_id"))
        groups = r.strings(inst, f"{b}.subresource_names")
        if groups:
            conn["groupIds"] = groups
        if manual is False:
            conn["privateLinkServiceConnectionState"] = {"status": "Approved"}
        key = ("manualPrivateLinkServiceConnections" if manual is True
               else "privateLinkServiceConnections")
        props.setdefault(key, []).append({"name": r.text(inst, f"{b}.name") or "",
                                          "properties": conn})
        target = r.target(inst, f"{b}.private_connection_resource_id", _is_id)
        if target is not None and target.addr.type == "azurerm_container_registry":
            registries.append(target)
    static = {}
    for b in r.blocks(inst, "ip_configuration"):
        member = r.text(inst, f"{b}.member_name")
        address = r.text(inst, f"{b}.private_ip_address")
        if member and address and not is_unknown_value(address):
            static[member.lower()] = address
    records = _registry_records(r, registries, static, subnet or "", inst)
    dns = r.raw(inst, "custom_dns_configs")
    if isinstance(dns, list) and dns:
        props["customDnsConfigs"] = [
            {"fqdn": r.text(inst, f"custom_dns_configs[{i}].fqdn") or "",
             "ipAddresses": r.strings(inst, f"custom_dns_configs[{i}].ip_addresses")}
            for i in range(len(dns))]
    elif records:
        props["customDnsConfigs"] = [{"fqdn": f"{name}.azurecr.io", "ipAddresses": [ip]}
                                     for name, ip in records if ip]
    res["properties"] = props
    r.emit(inst, res)
    _zone_groups(r, inst, rid, records)


def _registry_records(r: _Reader, registries: list[_Instance], static: Mapping[str, str],
                      subnet_id: str, pe: _Instance) -> list[tuple[str, str]]:
    """(record name, address) of each registry endpoint the private endpoint serves:
    ``<registry>`` and ``<registry>.<region>.data`` per region (the registry's and each
    replica's). Addresses: the static ``ip_configuration`` ones, else the first free addresses
    of the subnet (Azure keeps .0-.3), said in ``unknowns``; "" when neither is known."""
    out: list[tuple[str, str]] = []
    for reg in registries:
        name = r.name(reg).lower()
        regions = [r.text(reg, "location") or ""]
        regions += [r.text(reg, f"{b}.location") or "" for b in r.blocks(reg, "georeplications")]
        out.append((name, static.get("registry", "")))
        for region in dict.fromkeys(x.replace(" ", "").lower() for x in regions
                                    if x and not is_unknown_value(x)):
            out.append((f"{name}.{region}.data", static.get(f"registry_data_{region}", "")))
    prefix = _subnet_prefix(r, subnet_id) if subnet_id else ""
    if not prefix or all(ip for _, ip in out) or pe.existing:
        return out
    try:
        network = ipaddress.ip_network(prefix, strict=False)
    except ValueError:
        return out
    free = (str(network.network_address + 4 + i) for i in range(len(out)))
    filled = [(name, ip or next(free)) for name, ip in out]
    given = [f"{ip} ({name})" for (name, ip), (_, old) in zip(filled, out, strict=True) if not old]
    line = (f"{pe.address}: private IP addresses known after apply: the first free addresses "
            f"of subnet {prefix} stand in for them: {', '.join(given)}")
    if line not in r.unknowns:
        r.unknowns.append(line)
    return filled


def _public_ip(r: _Reader, inst: _Instance) -> None:
    res = _envelope(r, inst)
    props: dict[str, Any] = {}
    _put(props, "ipAddress", r.text(inst, "ip_address"))
    res["properties"] = props
    r.emit(inst, res)


def _nat_gateway(r: _Reader, inst: _Instance) -> None:
    res = _envelope(r, inst)
    rid = norm_id(res["id"])
    ips: list[str] = []
    subnets: list[str] = []
    for other in r.instances.values():
        if other.addr.type not in _ASSOCIATIONS:
            continue
        nat = r.link(other, "nat_gateway_id", "microsoft.network/natgateways")
        if not nat or norm_id(nat) != rid:
            continue
        if other.addr.type == "azurerm_subnet_nat_gateway_association":
            subnets.append(r.link(other, "subnet_id", _SUBNET) or "")
        else:
            ips.append(r.link(other, "public_ip_address_id",
                              "microsoft.network/publicipaddresses") or "")
    res["properties"] = {"publicIpAddresses": [{"id": i} for i in ips if i],
                         "subnets": [{"id": s} for s in subnets if s]}
    r.emit(inst, res)
