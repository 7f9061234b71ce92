"""Private DNS resources -> domain records: private DNS zones, their A records and virtual
network links, and the zone groups of private endpoints (which write A records too).

A zone is assembled from several resources (the zone, each record set, each link), so the
transforms feed one :class:`DnsZones` collector, whose :meth:`DnsZones.zones` gives the
:class:`~pullpath.domain.inventory.PrivateDnsZone` records. REST and SDK shapes alike. Pure.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from pullpath.core.inventory.fields import FieldReader
from pullpath.domain.inventory import PrivateDnsZone, norm_id
from pullpath.domain.resource_id import name_of, parent_of

__all__ = ["DnsZones"]


def _link_count(c: FieldReader, res: Mapping[Any, object]) -> int | None:
    """``numberOfVirtualNetworkLinks`` of a private DNS zone (None when absent or not a count)."""
    value = c.get(res, "numberOfVirtualNetworkLinks")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        c.issue("expected a count at numberOfVirtualNetworkLinks")
        return None
    return value


class DnsZones:
    """The private DNS zones of an inventory, collected resource by resource."""

    def __init__(self) -> None:
        self._names: dict[str, str] = {}
        self._records: dict[str, dict[str, list[str]]] = defaultdict(dict)
        self._links: dict[str, list[str]] = defaultdict(list)
        self._link_counts: dict[str, int | None] = {}

    def add_zone(self, c: FieldReader, res: Mapping[Any, object], rid: str) -> None:
        """A ``privateDnsZones`` resource."""
        self._names[rid] = (c.s(res, "name") or name_of(rid)).lower()
        self._link_counts[rid] = _link_count(c, res)

    def add_a_record(self, c: FieldReader, res: Mapping[Any, object], rid: str) -> None:
        """A ``privateDnsZones/A`` record set."""
        zone = parent_of(rid, "a")
        name = (c.s(res, "name") or name_of(rid)).lower()
        addrs = [c.s(r, "ipv4Address", w) for w, r in c.objs(res, "aRecords")]
        self._add_records(zone, name, addrs)

    def add_link(self, c: FieldReader, res: Mapping[Any, object], rid: str) -> None:
        """A ``privateDnsZones/virtualNetworkLinks`` resource."""
        zone = parent_of(rid, "virtualnetworklinks")
        vnet = c.ref(res, "virtualNetwork")
        if zone:
            self._names.setdefault(zone, name_of(zone))
            if vnet and vnet not in self._links[zone]:
                self._links[zone].append(vnet)

    def add_zone_group(self, c: FieldReader, res: Mapping[Any, object]) -> None:
        """A private endpoint's ``privateDnsZoneGroups``: the A records it writes."""
        for w, cfg in c.objs(res, "privateDnsZoneConfigs"):
            zone = norm_id(c.s(cfg, "privateDnsZoneId", w))
            if not zone:
                continue
            self._names.setdefault(zone, name_of(zone))
            for w2, rs in c.objs(cfg, "recordSets", w):
                if c.s(rs, "recordType", w2).upper() not in ("A", ""):
                    continue
                self._add_records(
                    zone, c.s(rs, "recordSetName", w2).lower(), c.strs(rs, "ipAddresses", w2)
                )

    def _add_records(self, zone: str, name: str, addrs: Iterable[str]) -> None:
        if not zone or not name:
            return
        self._names.setdefault(zone, name_of(zone))
        known = self._records[zone].setdefault(name, [])
        known.extend(a for a in addrs if a and a not in known)

    def zones(self) -> dict[str, PrivateDnsZone]:
        """Every zone named by any resource, with its records and links."""
        return {
            zone: PrivateDnsZone(
                id=zone,
                name=name,
                a_records=tuple(
                    (rname, tuple(addrs)) for rname, addrs in self._records[zone].items()
                ),
                linked_vnet_ids=tuple(self._links[zone]),
                link_count=self._link_counts.get(zone),
            )
            for zone, name in self._names.items()
        }
