"""What Azure adds to resources when it creates them, written once (pure: no I/O).

A template states what it asks for; explain needs what will exist. Both ``lab plan``'s
would-be inventory and :func:`pullpath.core.iac.arm.read_arm_template` add the same platform
effects through :func:`with_platform_effects`:

- a registry's ``loginServer`` (``<name>.azurecr.io``, lower case) and the connection of
  every private endpoint to it the deployment creates: ``Approved`` for
  ``privateLinkServiceConnections`` (approved on creation: the deployment needs the right to
  approve it), ``Pending`` for ``manualPrivateLinkServiceConnections``; for a registry the
  deployment does not create, the connection is a resource of its own that merges with the
  inventory's registry;
- a private endpoint's ``customDnsConfigs`` (``<registry>.azurecr.io`` and
  ``<registry>.<region>.data.azurecr.io``, one data name per replica region), and the A
  records its DNS zone group writes into the linked ``privatelink`` zone;
- the principal and client IDs of managed identities.

Addresses and IDs Azure assigns at deployment are stand-ins, each named in the notes: a
private endpoint's addresses are the first free addresses of its subnet (Azure keeps the first
four of every subnet), so the endpoint's DNS records and the consumers' subnets agree; principal
and client IDs are UUIDs derived from the identity's name, so every reference to one identity
gets the same value.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pullpath.core.iac.armexpr import EvaluatedResource
from pullpath.domain.iac import is_unknown_value
from pullpath.domain.resource_id import name_of, parent_of, type_of

__all__ = [
    "PLATFORM_PROPERTIES",
    "Lookup",
    "deployed_in_order",
    "private_endpoint_addresses",
    "runtime_properties",
    "stand_in_guid",
    "with_platform_effects",
]

REGISTRY = "microsoft.containerregistry/registries"
IDENTITY = "microsoft.managedidentity/userassignedidentities"
PRIVATE_ENDPOINT = "microsoft.network/privateendpoints"
ZONE_GROUP = "microsoft.network/privateendpoints/privatednszonegroups"
REPLICATION = "microsoft.containerregistry/registries/replications"
VNET = "microsoft.network/virtualnetworks"
SUBNET = "microsoft.network/virtualnetworks/subnets"
WORKSPACE = "microsoft.operationalinsights/workspaces"
ACR_SUFFIX = "azurecr.io"
RESERVED_PER_SUBNET = 4
"""Azure keeps the first four addresses of every subnet (x.x.x.0-3)."""

Lookup = Callable[[str], Mapping[str, Any] | None]
"""A resource's ARM JSON by ID (the same deployment's, or an existing one), or None."""


def stand_in_guid(*parts: str) -> str:
    """A UUID standing in for one Azure assigns (the same parts give the same UUID)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "pullpath-lab:" + "|".join(parts)))


def login_server(registry_name: str) -> str:
    return f"{registry_name.lower()}.{ACR_SUFFIX}"


def runtime_properties(rtype: str, name: str) -> dict[str, Any]:
    """The properties only Azure sets, as ``reference()`` reads them: a registry's login
    server, a workspace's customer ID and an identity's principal, client and tenant IDs
    (stand-ins, see the module docstring); {} for other types."""
    t = rtype.lower()
    if t == REGISTRY:
        return {"loginServer": login_server(name)}
    if t == WORKSPACE:
        return {"customerId": stand_in_guid("workspace", name)}
    if t == IDENTITY:
        return {"principalId": stand_in_guid("principal", name),
                "clientId": stand_in_guid("client", name),
                "tenantId": stand_in_guid("tenant")}
    return {}


def system_principal_id(name: str) -> str:
    return stand_in_guid("system", name)


PLATFORM_PROPERTIES = ("loginServer", "privateEndpointConnections", "customDnsConfigs",
                       "principalId", "clientId")
"""Properties only the platform sets: a later deployment of the resource keeps them."""


def deployed_in_order(deployments: Sequence[Sequence[Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """The resources after successive deployments (each a list of ARM JSON documents, as
    :func:`with_platform_effects` gives them): a resource declared again takes its later
    declaration, keeping what the platform set on it before (a registry's login server and
    private endpoint connections are not part of what a template sends)."""
    final: dict[str, dict[str, Any]] = {}
    for docs in deployments:
        for doc in docs:
            key = str(doc.get("id", "")).lower()
            new = dict(doc)
            old = final.get(key)
            if old is not None:
                kept = {k: v for k, v in (old.get("properties") or {}).items()
                        if k in PLATFORM_PROPERTIES}
                new["properties"] = {**kept, **(new.get("properties") or {})}
            final.pop(key, None)
            final[key] = new
    return list(final.values())


# ------------------------------------------------------------------------------ endpoints


def _subnet_prefix(subnet_id: str, lookup: Lookup) -> str:
    """The address prefix of a subnet: its own resource, or its VNet's inline subnets."""
    subnet = lookup(subnet_id)
    if subnet:
        props = subnet.get("properties") or {}
        prefix = props.get("addressPrefix") or (props.get("addressPrefixes") or [""])[0]
        if isinstance(prefix, str) and prefix:
            return prefix
    vnet = lookup(parent_of(subnet_id, "subnets")) if parent_of(subnet_id, "subnets") else None
    for sub in ((vnet or {}).get("properties") or {}).get("subnets") or []:
        if isinstance(sub, Mapping) and str(sub.get("name", "")).lower() == \
                name_of(subnet_id).lower():
            props = sub.get("properties") or {}
            prefix = props.get("addressPrefix") or (props.get("addressPrefixes") or [""])[0]
            return prefix if isinstance(prefix, str) else ""
    return ""


def private_endpoint_addresses(subnet_prefix: str, count: int) -> list[str]:
    """The first ``count`` usable addresses of a subnet (after the four Azure keeps); [] when
    the prefix is not an IPv4 network with room for them."""
    try:
        net = ipaddress.ip_network(subnet_prefix, strict=False)
    except ValueError:
        return []
    if net.version != 4 or net.num_addresses < RESERVED_PER_SUBNET + count + 1:
        return []
    return [str(net.network_address + RESERVED_PER_SUBNET + i) for i in range(count)]


def _registry_connections(pe: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(registry ID, status on creation) of each registry a private endpoint connects to:
    ``Approved`` for ``privateLinkServiceConnections`` (approved on creation; the deployment
    fails without the right to approve), ``Pending`` for ``manualPrivateLinkServiceConnections``
    (the registry's owner approves later)."""
    props = pe.get("properties") or {}
    out = []
    for key, status in (("privateLinkServiceConnections", "Approved"),
                        ("manualPrivateLinkServiceConnections", "Pending")):
        for conn in props.get(key) or []:
            target = ((conn or {}).get("properties") or {}).get("privateLinkServiceId", "")
            if isinstance(target, str) and type_of(target) == REGISTRY:
                out.append((target, status))
    return out


def _registry_targets(pe: Mapping[str, Any]) -> list[str]:
    return [target for target, _ in _registry_connections(pe)]


def _connection(registry_id: str, pe_id: str, status: str) -> dict[str, Any]:
    return {"id": f"{registry_id}/privateEndpointConnections/{name_of(pe_id)}",
            "properties": {"privateEndpoint": {"id": pe_id},
                           "privateLinkServiceConnectionState": {"status": status}}}


def _dns_names(registry_id: str, lookup: Lookup, replicas: Mapping[str, list[str]]
               ) -> tuple[list[str], str]:
    """FQDNs of a registry's private endpoint: the login server and one data endpoint per
    region; the second value names what is missing ("" when complete)."""
    name = name_of(registry_id).lower()
    registry = lookup(registry_id)
    home = (registry or {}).get("location") or ""
    home = home if isinstance(home, str) and not is_unknown_value(home) else ""
    names = [f"{name}.{ACR_SUFFIX}"]
    regions = [r for r in [home, *replicas.get(registry_id.lower(), [])] if r]
    names += [f"{name}.{region.lower().replace(' ', '')}.data.{ACR_SUFFIX}"
              for region in dict.fromkeys(regions)]
    missing = "" if home else f"the region of registry {name} (its data endpoint name)"
    return names, missing


def _subnet_of(pe: Mapping[str, Any]) -> str:
    subnet = ((pe.get("properties") or {}).get("subnet") or {}).get("id", "")
    return subnet if isinstance(subnet, str) else ""


CONNECTION_TYPE = "Microsoft.ContainerRegistry/registries/privateEndpointConnections"


def _as_written(target: str, resources: Sequence[EvaluatedResource], pe_id: str) -> str:
    """The registry ID as the private endpoint wrote it (``target`` is lower case)."""
    for r in resources:
        if r.id == pe_id:
            for written in _registry_targets(r.body):
                if written.lower() == target:
                    return written
    return target


# ------------------------------------------------------------------------------ effects


def with_platform_effects(resources: Sequence[EvaluatedResource], *,
                          lookup: Lookup | None = None,
                          origins: dict[str, str] | None = None,
                          ) -> tuple[list[dict[str, Any]], list[str]]:
    """The resources in the ARM REST shape (``id``, ``type``, ``name``, ``properties``...,
    without ``apiVersion``) with what Azure adds on creation (see the module docstring), and
    one note per stand-in used. ``lookup`` finds resources the deployment refers to but does
    not create (an existing VNet's subnet prefixes, an existing registry's region).
    ``origins``, when given, receives for each resource the platform adds (an A record, a
    registry's connection) the ID of the declared resource that causes it."""
    origins = {} if origins is None else origins
    by_id = {r.id.lower(): r.body for r in resources}

    def find(rid: str) -> Mapping[str, Any] | None:
        if not isinstance(rid, str) or not rid:
            return None
        found = by_id.get(rid.lower())
        return found if found is not None else (lookup(rid) if lookup else None)

    notes: list[str] = []
    pe_for: dict[str, list[tuple[str, str]]] = {}
    replicas: dict[str, list[str]] = {}
    for r in resources:
        if r.type.lower() == PRIVATE_ENDPOINT:
            for target, status in _registry_connections(r.body):
                pe_for.setdefault(target.lower(), []).append((r.id, status))
        if r.type.lower() == REPLICATION and isinstance(r.body.get("location"), str) \
                and not is_unknown_value(r.body["location"]):
            replicas.setdefault(r.id.lower().rsplit("/replications/", 1)[0], []).append(
                r.body["location"])
    dns_configs: dict[str, list[dict[str, Any]]] = {}
    docs: list[dict[str, Any]] = []
    for r in resources:
        doc = {k: v for k, v in r.body.items() if k != "apiVersion"}
        rtype = r.type.lower()
        if rtype == PRIVATE_ENDPOINT:
            configs = _endpoint_dns(r, find, replicas, notes)
            dns_configs[r.id.lower()] = configs
            if configs:
                doc["properties"] = {**(doc.get("properties") or {}), "customDnsConfigs": configs}
        doc["id"] = r.id
        props = dict(doc.get("properties") or {})
        if rtype == REGISTRY:
            props.update(runtime_properties(r.type, r.name))
            connections = [_connection(r.id, pe, status)
                           for pe, status in pe_for.get(r.id.lower(), [])]
            if connections:  # none here says nothing of connections made elsewhere
                props["privateEndpointConnections"] = connections
        if rtype == IDENTITY:
            ids = runtime_properties(r.type, r.name)
            props["principalId"], props["clientId"] = ids["principalId"], ids["clientId"]
            notes.append(f"managed identity {r.name}: principalId and clientId are assigned at "
                         "deployment; stand-ins derived from its name are used wherever it is "
                         "referenced")
        identity = doc.get("identity")
        if isinstance(identity, dict) and "SystemAssigned" in str(identity.get("type")):
            doc["identity"] = {**identity, "principalId": system_principal_id(r.name)}
            notes.append(f"{r.type} {r.name}: the system-assigned identity's principalId is "
                         "assigned at deployment; a stand-in is used")
        if props:
            doc["properties"] = props
        docs.append(doc)
    for target, made in pe_for.items():
        if target in by_id:
            continue
        for pe, status in made:  # a connection to a registry the deployment does not create
            written = _as_written(target, resources, pe)
            docs.append({**_connection(written, pe, status), "type": CONNECTION_TYPE,
                         "name": name_of(pe)})
            origins[docs[-1]["id"].lower()] = pe
            notes.append(f"private endpoint {name_of(pe)}: its connection to registry "
                         f"{name_of(written)} (not created here) is {status} on creation "
                         + ("(approved by the deployment's rights on the registry)"
                            if status == "Approved" else "(until the registry's owner approves)"))
    for r in resources:
        if r.type.lower() == ZONE_GROUP:
            for record in _zone_group_records(r, dns_configs.get(
                    r.id.lower().rsplit("/privatednszonegroups/", 1)[0], [])):
                docs.append(record)
                origins[record["id"].lower()] = r.id
    return docs, list(dict.fromkeys(notes))


def _endpoint_dns(pe: EvaluatedResource, find: Lookup, replicas: Mapping[str, list[str]],
                  notes: list[str]) -> list[dict[str, Any]]:
    """``customDnsConfigs`` of a private endpoint to a registry, with stand-in addresses."""
    configs: list[dict[str, Any]] = []
    for registry_id in _registry_targets(pe.body):
        names, missing = _dns_names(registry_id, find, replicas)
        subnet_id = _subnet_of(pe.body)
        prefix = _subnet_prefix(subnet_id, find) if subnet_id else ""
        addresses = private_endpoint_addresses(prefix, len(names) + len(configs))[len(configs):]
        if not addresses:
            notes.append(f"private endpoint {pe.name}: its addresses are assigned at deployment "
                         f"and its subnet's prefix is not known ({subnet_id or 'no subnet'}): "
                         "no DNS records are assumed")
            continue
        if missing:
            notes.append(f"private endpoint {pe.name}: not known: {missing}")
        notes.append(f"private endpoint {pe.name}: addresses are assigned at deployment; the "
                     "subnet's first free addresses stand in so its DNS records match")
        configs += [{"fqdn": fqdn, "ipAddresses": [ip]}
                    for fqdn, ip in zip(names, addresses, strict=True)]
    return configs


def _zone_group_records(group: EvaluatedResource, configs: list[dict[str, Any]]
                        ) -> list[dict[str, Any]]:
    """The A records a DNS zone group writes: each of its endpoint's names in the zone whose
    name is ``privatelink.`` + the name's public suffix (``<registry>``,
    ``<registry>.<region>.data`` in ``privatelink.azurecr.io``)."""
    out: list[dict[str, Any]] = []
    for zone_config in (group.body.get("properties") or {}).get("privateDnsZoneConfigs") or []:
        zone_id = ((zone_config or {}).get("properties") or {}).get("privateDnsZoneId", "")
        if not isinstance(zone_id, str) or not zone_id:
            continue
        zone = name_of(zone_id).lower()
        suffix = zone.removeprefix("privatelink.")
        for config in configs:
            fqdn = str(config["fqdn"]).lower()
            if zone == suffix or not fqdn.endswith("." + suffix):
                continue
            record = fqdn[: -len(suffix) - 1]
            out.append({"id": f"{zone_id}/A/{record}", "name": record,
                        "type": "Microsoft.Network/privateDnsZones/A",
                        "properties": {"ttl": 10, "aRecords": [
                            {"ipv4Address": ip} for ip in config["ipAddresses"]]}})
    return out
