"""DNS facts: the registry's ``privatelink`` zone, its links to the consumer's VNets and the
A records it needs (the registry, its data endpoints and, where in use, its regional
endpoints). Pure.
"""

from __future__ import annotations

from pullpath.core.explain.network import _NetworkFacts
from pullpath.domain.explain import Fact
from pullpath.domain.inventory import Consumer, PrivateDnsZone, Registry, regional_endpoint
from pullpath.domain.resource_id import name_of


class _DnsFacts(_NetworkFacts):
    """Private DNS for a registry as seen from a consumer."""

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


def _links_complete(zone: PrivateDnsZone) -> bool:
    """The inventory holds every VNet link of the zone: its exported links are at least its
    numberOfVirtualNetworkLinks, or, without the count, some links were exported (the export
    is taken as the zone's list)."""
    if zone.link_count is not None:
        return len(zone.linked_vnet_ids) >= zone.link_count
    return bool(zone.linked_vnet_ids)
