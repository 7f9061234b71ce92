"""Private DNS resources -> ARM resource JSON: zones, A records, virtual network links, and the
zone groups of private endpoints (with the A records a group writes in the registry's private
zone on creation, as stand-ins). Transforms ``(reader, instance) -> None``. Pure.
"""

from __future__ import annotations

from typing import Any, Final

from pullpath.core.iac.terraform.envelope import _envelope, _put
from pullpath.core.iac.terraform.plan import _Instance
from pullpath.core.iac.terraform.reader import _Reader
from pullpath.domain.iac import is_unknown_value
from pullpath.domain.resource_id import name_of

_ACR_ZONE: Final = "privatelink.azurecr.io"


def _dns_zone(r: _Reader, inst: _Instance) -> None:
    res = _envelope(r, inst, location=False)
    res["location"] = "global"
    res["properties"] = {}
    r.emit(inst, res)


def _dns_a_record(r: _Reader, inst: _Instance) -> None:
    res = _envelope(r, inst, location=False)
    props: dict[str, Any] = {}
    ttl = r.raw(inst, "ttl")
    if isinstance(ttl, int):
        props["ttl"] = ttl
    props["aRecords"] = [{"ipv4Address": ip} for ip in r.strings(inst, "records")]
    res["properties"] = props
    r.emit(inst, res)


def _dns_link(r: _Reader, inst: _Instance) -> None:
    res = _envelope(r, inst, location=False)
    props: dict[str, Any] = {}
    vnet = r.link(inst, "virtual_network_id", "microsoft.network/virtualnetworks")
    if vnet is not None:
        props["virtualNetwork"] = {"id": vnet}
    _put(props, "registrationEnabled", r.flag(inst, "registration_enabled"))
    res["properties"] = props
    r.emit(inst, res)


def _zone_groups(r: _Reader, inst: _Instance, rid: str,
                 records: list[tuple[str, str]]) -> None:
    """The DNS zone groups of a private endpoint (ID ``rid``) and the A records they write
    (``records``: :func:`~.network._registry_records`)."""
    for b in r.blocks(inst, "private_dns_zone_group"):
        zones = r.links_of(inst, f"{b}.private_dns_zone_ids",
                             "microsoft.network/privatednszones")
        group_name = r.text(inst, f"{b}.name") or "default"
        r.emit(inst, {
            "id": f"{rid}/privateDnsZoneGroups/{group_name}",
            "type": "Microsoft.Network/privateEndpoints/privateDnsZoneGroups",
            "name": group_name,
            "properties": {"privateDnsZoneConfigs": [
                {"name": name_of(z) or f"zone{i}", "properties": {"privateDnsZoneId": z}}
                for i, z in enumerate(zones)]},
        })
        for zone in zones:
            if is_unknown_value(zone) or name_of(zone).lower() != _ACR_ZONE:
                continue
            for name, ip in records:
                record: dict[str, Any] = {"ttl": 10}
                record["aRecords"] = [{"ipv4Address": ip or r.note_unknown(
                    inst, "private_ip_address", f" (the A record {name} of {_ACR_ZONE})")}]
                r.emit(inst, {"id": f"{zone}/A/{name}", "name": name,
                              "type": "Microsoft.Network/privateDnsZones/A",
                              "properties": record})
            if records and not inst.existing:
                line = (f"{inst.address}: the DNS zone group writes the A records "
                        f"{', '.join(n for n, _ in records)} in {_ACR_ZONE} on creation: "
                        "they stand in for what Azure writes")
                if line not in r.unknowns:
                    r.unknowns.append(line)
