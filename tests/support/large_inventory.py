"""A generated inventory of any size, in the REST shape of the official examples.

Used by the scale test (``tests/core/test_inventory_scale.py``) and by ``bench/inventory_scale.py``.
Each unit is a VNet with a consumer subnet (in the VNet's ``subnets``) and a private-endpoint
subnet (a resource of its own, as ``az network vnet subnet show`` gives it), a user-assigned
identity, a container group in the first subnet using it (private IP), and every
``registry_every``-th unit a Premium registry with a private endpoint (and its NIC) in the
second: 4 resources per unit, 7 with a registry.
"""

from __future__ import annotations

from typing import Any

SUB = "5f0c2d1e-8a7b-4c3d-9e2f-1a0b9c8d7e6f"
BASE = f"/subscriptions/{SUB}/resourceGroups/rg-large/providers"


def _res(rid: str, rtype: str, properties: dict[str, Any], **envelope: Any) -> dict[str, Any]:
    """An ARM resource: its name from its ID, located in japaneast."""
    return {"id": rid, "name": rid.rsplit("/", 1)[-1], "type": rtype, "location": "japaneast",
            **envelope, "properties": properties}


def _octets(i: int) -> tuple[int, int]:
    return (i >> 7) & 255, (i & 127) * 2


def large_inventory(units: int, *, registry_every: int = 10) -> list[dict[str, Any]]:
    """The resources of ``units`` units (see the module docstring), each unit's addresses
    distinct up to 32,768 units (``10.a.b.0/24`` and ``10.a.b+1.0/24``; beyond, ``a`` wraps and
    prefixes repeat across VNets)."""
    out: list[dict[str, Any]] = []
    for i in range(units):
        a, b = _octets(i)
        vid = f"{BASE}/Microsoft.Network/virtualNetworks/vnet-{i}"
        apps, pes = f"{vid}/subnets/apps", f"{vid}/subnets/pe"
        out.append(_res(vid, "Microsoft.Network/virtualNetworks", {
            "addressSpace": {"addressPrefixes": [f"10.{a}.{b}.0/23"]},
            "subnets": [{"id": apps, "name": "apps", "properties": {
                "addressPrefix": f"10.{a}.{b}.0/24",
                "delegations": [{"name": "aci", "properties": {
                    "serviceName": "Microsoft.ContainerInstance/containerGroups"}}]}}],
        }))
        out.append({
            "id": pes, "name": "pe", "type": "Microsoft.Network/virtualNetworks/subnets",
            "properties": {"addressPrefix": f"10.{a}.{b + 1}.0/24"},
        })
        uid = f"{BASE}/Microsoft.ManagedIdentity/userAssignedIdentities/id-{i}"
        principal = f"{i:08x}-0000-4000-8000-000000000001"
        client = f"{i:08x}-0000-4000-8000-000000000002"
        out.append(_res(uid, "Microsoft.ManagedIdentity/userAssignedIdentities",
                        {"principalId": principal, "clientId": client}))
        registry = f"acr{i - i % registry_every}"
        out.append(_res(f"{BASE}/Microsoft.ContainerInstance/containerGroups/aci-{i}",
                        "Microsoft.ContainerInstance/containerGroups", {
            "osType": "Linux",
            "containers": [{"name": "app", "properties": {
                "image": f"{registry}.azurecr.io/app{i}:1",
                "resources": {"requests": {"cpu": 1, "memoryInGB": 1}}}}],
            "imageRegistryCredentials": [{"server": f"{registry}.azurecr.io", "identity": uid}],
            "subnetIds": [{"id": apps}],
            "ipAddress": {"type": "Private", "ip": f"10.{a}.{b}.4", "ports": [{"port": 80}]},
        }, identity={"type": "UserAssigned", "userAssignedIdentities": {
            uid: {"principalId": principal, "clientId": client}}}))
        if i % registry_every:
            continue
        reg = f"{BASE}/Microsoft.ContainerRegistry/registries/{registry}"
        pe = f"{BASE}/Microsoft.Network/privateEndpoints/pe-{registry}"
        nic = f"{BASE}/Microsoft.Network/networkInterfaces/pe-{registry}.nic"
        out.append(_res(reg, "Microsoft.ContainerRegistry/registries", {
            "loginServer": f"{registry}.azurecr.io", "publicNetworkAccess": "Disabled",
            "networkRuleSet": {"defaultAction": "Deny", "ipRules": []},
            "networkRuleBypassOptions": "AzureServices",
            "privateEndpointConnections": [{
                "id": f"{reg}/privateEndpointConnections/pe-{registry}",
                "properties": {"privateEndpoint": {"id": pe},
                               "privateLinkServiceConnectionState": {"status": "Approved"}}}],
        }, sku={"name": "Premium", "tier": "Premium"}))
        out.append(_res(pe, "Microsoft.Network/privateEndpoints", {
            "subnet": {"id": pes},
            "networkInterfaces": [{"id": nic}],
            "privateLinkServiceConnections": [{"name": registry, "properties": {
                "privateLinkServiceId": reg, "groupIds": ["registry"],
                "privateLinkServiceConnectionState": {"status": "Approved"}}}],
        }))
        out.append(_res(nic, "Microsoft.Network/networkInterfaces", {
            "privateEndpoint": {"id": pe},
            "ipConfigurations": [{"name": "registry", "properties": {
                "privateIPAddress": f"10.{a}.{b + 1}.5", "subnet": {"id": pes},
                "privateLinkConnectionProperties": {"requiredMemberName": "registry"}}}],
        }))
    return out
