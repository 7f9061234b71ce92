"""One record per resource: versions of a resource read more than once, merged field by field.

Whatever the input order, a field takes the value the versions that set it agree on; a field
set to different values is a conflict, taken as absent (unknown) and reported with every
location. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from typing import Any, Final, TypeVar

from pullpath.domain.inventory import PrivateEndpointConnection, RegistryCredential
from pullpath.domain.resource_id import name_of

__all__ = ["CONSEQUENCE", "TAKEN_AS_UNKNOWN", "Versions", "merge", "merge_put", "reconcile"]

_D = TypeVar("_D")


def merge(old: _D, new: _D) -> _D:
    """Field-wise merge of two records of the same thing: a non-empty new value wins."""
    changes: dict[str, Any] = {}
    for f in fields(old):  # type: ignore[arg-type]
        o, n = getattr(old, f.name), getattr(new, f.name)
        if n is None or (isinstance(n, str | tuple) and not n):
            changes[f.name] = o
        elif f.name == "system_identity":
            changes[f.name] = bool(o) or bool(n)
        else:
            changes[f.name] = n
    return replace(old, **changes)  # type: ignore[type-var]


_NOTHING: Final = object()

_ARM_NAMES: Final = {
    "public_network_access": "publicNetworkAccess",
    "default_action": "networkRuleSet.defaultAction",
    "ip_rules": "networkRuleSet.ipRules",
    "bypass": "networkRuleBypassOptions",
    "bypass_for_tasks": "networkRuleBypassAllowedForTasks",
    "private_endpoint_connections": "privateEndpointConnections",
    "data_endpoint_enabled": "dataEndpointEnabled",
    "admin_user_enabled": "adminUserEnabled",
    "login_server": "loginServer",
    "replica_locations": "replications",
    "prefixes": "addressPrefix",
    "address_prefixes": "addressSpace.addressPrefixes",
    "subnet_ids": "subnets",
    "nat_gateway_id": "natGateway",
    "ip_address": "ipAddress",
    "status": "privateLinkServiceConnectionState.status",
    "principal_id": "principalId",
    "client_id": "clientId",
    "principal_ids": "identity principalIds",
    "client_ids": "identity clientIds",
    "identity_ids": "identity.userAssignedIdentities",
    "credentials": "registry credentials",
    "private_ips": "private IPs",
    "public_ips": "public IPs",
    "static_ip": "staticIp",
    "outbound_ips": "outboundIpAddresses",
    "infrastructure_subnet_id": "vnetConfiguration.infrastructureSubnetId",
    "environment_id": "managedEnvironmentId",
}
"""How conflicting fields are named in inventory issues: by the ARM property they come from."""


def _is_blank(value: object) -> bool:
    """Absent from a record: "", () or None."""
    return value is None or (isinstance(value, str | tuple) and not value)


def _blank_of(value: object) -> object:
    if isinstance(value, str):
        return ""
    if isinstance(value, tuple):
        return ()
    return None


def _agree(values: Iterable[object]) -> tuple[object, bool]:
    """The one value the non-blank ``values`` agree on (``_NOTHING`` when there is none), and
    whether they disagree. Strings compare case-insensitively (ARM names and enums are), the
    spelling kept is the same whatever the input order."""
    distinct: list[object] = []
    for value in values:
        if _is_blank(value):
            continue
        probe = value.casefold() if isinstance(value, str) else value
        for i, seen in enumerate(distinct):
            if (seen.casefold() if isinstance(seen, str) else seen) == probe:
                if isinstance(value, str) and isinstance(seen, str) and value < seen:
                    distinct[i] = value
                break
        else:
            distinct.append(value)
    if len(distinct) > 1:
        return _NOTHING, True
    return (distinct[0] if distinct else _NOTHING), False


def _show_item(value: object) -> str:
    if isinstance(value, PrivateEndpointConnection):
        return f"{name_of(value.private_endpoint_id or value.id)} {value.status or '(no status)'}"
    if isinstance(value, RegistryCredential):
        return f"{value.server or '(own registry)'} by {value.method}"
    return _show(value)


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        text = ", ".join(_show_item(v) for v in value)
    else:
        text = _show_item(value) if isinstance(
            value, PrivateEndpointConnection | RegistryCredential) else str(value)
    text = text or "(none)"
    return text if len(text) <= 80 else text[:79] + "…"


def reconcile(versions: list[tuple[str, Any]]) -> tuple[Any, list[tuple[str, str]]]:
    """One record from every version of a resource, whatever their order: each field takes
    the value the versions that set it agree on; a field set to different values in two
    versions is a conflict and taken as absent (unknown). ``facts`` agree key by key.
    Returns the record and the conflicts as (ARM name, values with their locations)."""
    first = versions[0][1]
    changes: dict[str, Any] = {}
    clashes: list[tuple[str, str]] = []

    def where(values: list[object]) -> str:
        said = [f"{_show(v)} at {loc}" for (loc, _), v in zip(versions, values, strict=True)
                if not _is_blank(v)]
        return "; ".join(said[:4]) + (f"; +{len(said) - 4} more" if len(said) > 4 else "")

    for f in fields(first):
        name = f.name
        if name == "facts":
            facts = [dict(rec.facts) for _, rec in versions]
            kept: list[tuple[str, str]] = []
            for key in dict.fromkeys(k for d in facts for k in d):
                values: list[object] = [d.get(key) for d in facts]
                value, clash = _agree(values)
                if clash:
                    clashes.append((key, where(values)))
                elif value is not _NOTHING:
                    kept.append((key, str(value)))
            changes[name] = tuple(kept)
            continue
        values = [getattr(rec, name) for _, rec in versions]
        if f.type == "bool":  # a flag (system_identity): False is "not set"
            values = [v or None for v in values]
            value, _ = _agree(values)
            changes[name] = value is not _NOTHING
            continue
        value, clash = _agree(values)
        if clash:
            clashes.append((_ARM_NAMES.get(name, name), where(values)))
        changes[name] = _blank_of(getattr(first, name)) if value is _NOTHING else value
    return replace(first, **changes), clashes



@dataclass
class Versions:
    """The records of one resource read more than once, with where each was read."""

    what: str
    table: dict[str, Any]
    records: list[tuple[str, Any]]


TAKEN_AS_UNKNOWN: Final = "those settings are taken as unknown (export the resource once)"
_NOT_JUDGED: Final = ("the paths of its flows are not judged (unknown) until the inventory "
                      "gives it once")
CONSEQUENCE: Final = {
    "registry": _NOT_JUDGED,
    "private endpoint connection": "the paths of its registry's flows are not judged (unknown) "
                                   "until the inventory gives it once",
    "public IP": "the paths of flows from its addresses are not judged (unknown) until the "
                 "inventory gives it once",
    "Container Apps environment": "the paths of flows from its addresses are not judged "
                                  "(unknown) until the inventory gives it once",
}



def merge_put(table: dict[str, _D], key: str, value: _D) -> None:
    """Fragments of one thing from several places (an identity seen by its consumers)."""
    old = table.get(key)
    table[key] = value if old is None else merge(old, value)

