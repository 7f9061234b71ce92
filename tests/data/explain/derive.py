"""Regenerate ``derived/`` (one consistent inventory) from the verbatim REST API examples.

Every derived resource starts as the 200 response body of an official example in
``examples/`` and is changed only by the edits written out below (PROVENANCE.md lists them).
The official examples are unrelated resources in different subscriptions and an *unrestricted*
registry; the edits re-home them into one resource group and wire them together, and make the
registry restricted, so that every knowledge-base rule can be reached by small further edits
in the tests. Three resources have no official example and are constructed in the REST shape
(marked ``constructed`` in PROVENANCE.md).

Run: ``python tests/data/explain/derive.py``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE / "examples"
DERIVED = HERE / "derived"

SUB = "00000000-0000-0000-0000-000000000000"
RG = f"/subscriptions/{SUB}/resourceGroups/myResourceGroup"
NET = f"{RG}/providers/Microsoft.Network"
VNET = f"{NET}/virtualNetworks/test-vnet"
ZONE = f"{NET}/privateDnsZones/privatelink.azurecr.io"
ACI_DELEGATION = "Microsoft.ContainerInstance/containerGroups"
TASK_PRINCIPAL = "8d0f6e74-5b1a-4c9d-8e3f-4a5b6c7d8e9f"

Json = dict[str, Any]


def body(name: str) -> Json:
    doc = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    return copy.deepcopy(doc["responses"]["200"]["body"])


def write(name: str, resource: Json) -> None:
    DERIVED.mkdir(exist_ok=True)
    text = json.dumps(resource, indent=2, ensure_ascii=False) + "\n"
    (DERIVED / name).write_text(text, encoding="utf-8")


def rehome(resource: Json, provider_path: str) -> str:
    """Move a resource into the test resource group, keeping its name."""
    rid = f"{RG}/providers/{provider_path}/{resource['name']}"
    resource["id"] = rid
    return rid


def main() -> None:
    # -- network: the delegated VNet example, with one subnet per consumer -----------------
    vnet = body("VirtualNetworkGetWithSubnetDelegation.json")
    rehome(vnet, "Microsoft.Network/virtualNetworks")
    first = vnet["properties"]["subnets"][0]  # subnet1 10.0.1.0/24
    first["id"] = f"{VNET}/subnets/{first['name']}"
    first["properties"]["delegations"][0]["properties"]["serviceName"] = ACI_DELEGATION
    first["properties"]["delegations"][0]["id"] = f"{first['id']}/delegations/aci"
    first["properties"].pop("ipConfigurations", None)
    extra = {
        "snet-aca": ("10.0.2.0/23", "Microsoft.App/environments"),
        "snet-pe": ("10.0.4.0/24", ""),
        "snet-aks": ("10.0.5.0/24", ""),
        "snet-app": ("10.0.6.0/24", "Microsoft.Web/serverFarms"),
    }
    for name, (prefix, service) in extra.items():
        sub = copy.deepcopy(first)
        sub["name"] = name
        sub["id"] = f"{VNET}/subnets/{name}"
        sub["properties"]["addressPrefix"] = prefix
        if service:
            sub["properties"]["delegations"] = [{
                "name": "delegation", "id": f"{sub['id']}/delegations/delegation",
                "properties": {"serviceName": service, "actions": []},
            }]
        else:
            sub["properties"]["delegations"] = []
        vnet["properties"]["subnets"].append(sub)
    write("vnet.json", vnet)

    # -- the registry: RegistryGet made Premium and restricted, with an approved endpoint -----
    registry = body("RegistryGet.json")
    reg_id = registry["id"] = f"{RG}/providers/Microsoft.ContainerRegistry/registries/myRegistry"
    login = registry["properties"]["loginServer"]  # myRegistry.azurecr.io
    registry["sku"] = {"name": "Premium", "tier": "Premium"}
    registry["properties"]["publicNetworkAccess"] = "Disabled"
    registry["properties"]["networkRuleSet"]["defaultAction"] = "Deny"
    registry["properties"]["networkRuleBypassAllowedForTasks"] = True
    pe = body("PrivateEndpointGet.json")
    pe_id = rehome(pe, "Microsoft.Network/privateEndpoints")
    pec = body("PrivateEndpointConnectionGet.json")
    pec["id"] = f"{reg_id}/privateEndpointConnections/{pec['name']}"
    pec["properties"]["privateEndpoint"]["id"] = pe_id
    registry["properties"]["privateEndpointConnections"] = [pec]
    write("registry.json", registry)

    # -- its private endpoint in snet-pe -----------------------------------------------------
    pe["properties"]["subnet"]["id"] = f"{VNET}/subnets/snet-pe"
    conn = pe["properties"]["privateLinkServiceConnections"][0]
    conn["properties"]["privateLinkServiceId"] = reg_id
    conn["properties"]["groupIds"] = ["registry"]
    pe["properties"]["ipConfigurations"] = []
    pe["properties"]["customDnsConfigs"] = [
        {"fqdn": login.lower(), "ipAddresses": ["10.0.4.5"]},
        {"fqdn": f"myregistry.{registry['location']}.data.azurecr.io",
         "ipAddresses": ["10.0.4.4"]},
    ]
    write("private-endpoint.json", pe)

    # -- private DNS: zone, the two A records, the VNet link -------------------------------
    zone = body("PrivateZoneGet.json")
    zone["name"] = "privatelink.azurecr.io"
    zone["id"] = ZONE
    zone["properties"]["numberOfVirtualNetworkLinks"] = 1  # the link below
    write("dns-zone.json", zone)
    for fname, rname, addr in (("dns-a-registry.json", "myregistry", "10.0.4.5"),
                               ("dns-a-data.json", f"myregistry.{registry['location']}.data",
                                "10.0.4.4")):
        rec = body("RecordSetAGet.json")
        rec["name"] = rname
        rec["id"] = f"{ZONE}/A/{rname}"
        rec["properties"]["fqdn"] = f"{rname}.privatelink.azurecr.io."
        rec["properties"]["aRecords"] = [{"ipv4Address": addr}]
        write(fname, rec)
    link = body("VirtualNetworkLinkGet.json")
    link["id"] = f"{ZONE}/virtualNetworkLinks/{link['name']}"
    link["properties"]["virtualNetwork"]["id"] = VNET
    write("dns-link.json", link)

    # -- identities ------------------------------------------------------------------------
    app = body("ContainerApps_Get.json")
    _, uai = next(iter(app["identity"]["userAssignedIdentities"].items()))
    uai_id = f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/myidentity"
    write("identity.json", {  # constructed: no official example (PROVENANCE.md)
        "id": uai_id, "name": "myidentity",
        "type": "Microsoft.ManagedIdentity/userAssignedIdentities", "location": "westus",
        "properties": {"principalId": uai["principalId"], "clientId": uai["clientId"],
                       "tenantId": app["identity"]["tenantId"]},
    })
    kubelet_id = f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/kubelet"
    kubelet = {"resourceId": kubelet_id, "clientId": "5a7c3b41-2e8d-4f6a-9b0c-1d2e3f4a5b6c",
               "objectId": "6b8d4c52-3f9e-4a7b-8c1d-2e3f4a5b6c7d"}
    user_identity = {"type": "UserAssigned", "userAssignedIdentities": {
        uai_id: {"principalId": uai["principalId"], "clientId": uai["clientId"]}}}

    # -- ACI: the Succeeded example pulling from the registry with the identity, in subnet1 ---
    aci = body("ContainerGroupsGet_Succeeded.json")
    rehome(aci, "Microsoft.ContainerInstance/containerGroups")
    aci["identity"] = copy.deepcopy(user_identity)
    aci["properties"]["containers"][0]["properties"]["image"] = f"{login}/demo1:1.0"
    aci["properties"]["imageRegistryCredentials"] = [{"server": login, "identity": uai_id}]
    aci["properties"]["subnetIds"] = [{"id": first["id"], "name": first["name"]}]
    aci["properties"]["ipAddress"]["type"] = "Private"
    write("aci.json", aci)

    # -- ACA: the app example pulling from the registry, its environment in snet-aca ----------
    env = body("ManagedEnvironments_Get.json")
    env_id = rehome(env, "Microsoft.App/managedEnvironments")
    env["properties"]["vnetConfiguration"]["infrastructureSubnetId"] = f"{VNET}/subnets/snet-aca"
    write("environment.json", env)
    rehome(app, "Microsoft.App/containerApps")
    app["identity"]["userAssignedIdentities"] = copy.deepcopy(
        user_identity["userAssignedIdentities"])
    app["properties"]["managedEnvironmentId"] = env_id
    for part in ("containers", "initContainers"):
        for ct in app["properties"]["template"][part]:
            ct["image"] = f"{login}/testcontainerapp0:v4"
    app["properties"]["configuration"]["registries"] = [{"server": login, "identity": uai_id}]
    write("containerapp.json", app)

    # -- AKS: the cluster example in snet-aks with a kubelet identity ------------------------
    aks = body("ManagedClustersGet.json")
    rehome(aks, "Microsoft.ContainerService/managedClusters")
    aks["properties"]["agentPoolProfiles"][0]["vnetSubnetID"] = f"{VNET}/subnets/snet-aks"
    aks["properties"]["identityProfile"] = {"kubeletidentity": kubelet}
    aks["properties"]["servicePrincipalProfile"] = {"clientId": "msi"}
    aks["identity"] = {"type": "SystemAssigned",
                       "principalId": "7c9e5d63-4a0f-4b8c-9d2e-3f4a5b6c7d8e"}
    write("aks.json", aks)
    write("kubelet-identity.json", {  # constructed: the kubelet identity as a resource
        "id": kubelet_id, "name": "kubelet",
        "type": "Microsoft.ManagedIdentity/userAssignedIdentities", "location": "westus",
        "properties": {"principalId": kubelet["objectId"], "clientId": kubelet["clientId"],
                       "tenantId": app["identity"]["tenantId"]},
    })
    pip = body("PublicIpAddressGet.json")
    outbound = aks["properties"]["networkProfile"]["loadBalancerProfile"]["effectiveOutboundIPs"]
    pip["id"] = outbound[0]["id"]
    pip["name"] = pip["id"].rsplit("/", 1)[-1]
    pip["properties"]["publicIPAllocationMethod"] = "Static"
    pip["properties"]["ipAddress"] = "20.30.40.50"
    pip["properties"].pop("ipConfiguration", None)
    aks["properties"]["networkProfile"]["loadBalancerProfile"]["effectiveOutboundIPs"] = \
        outbound[:1]
    write("aks.json", aks)
    write("aks-outbound-ip.json", pip)

    # -- App Service: the site example as a Linux container app with VNet integration -------
    site = body("GetWebApp.json")
    rehome(site, "Microsoft.Web/sites")
    site["kind"] = "app,linux,container"
    site["identity"] = copy.deepcopy(user_identity)
    props = site["properties"]
    props["reserved"] = True
    props["siteConfig"]["linuxFxVersion"] = f"DOCKER|{login}/web:1"
    props["siteConfig"]["acrUseManagedIdentityCreds"] = True
    props["siteConfig"]["acrUserManagedIdentityID"] = uai["clientId"]
    props["virtualNetworkSubnetId"] = f"{VNET}/subnets/snet-app"
    props["vnetImagePullEnabled"] = True
    write("webapp.json", site)

    # -- ACR task (constructed: no official example, PROVENANCE.md) ----------------------------
    write("task.json", {
        "id": f"{reg_id}/tasks/mytask", "name": "mytask",
        "type": "Microsoft.ContainerRegistry/registries/tasks", "location": "westus",
        "identity": {"type": "SystemAssigned", "principalId": TASK_PRINCIPAL},
        "properties": {"status": "Enabled", "platform": {"os": "Linux"},
                       "step": {"type": "EncodedTask", "encodedTaskContent": "c3RlcHM6IFtd"}},
    })

    # -- role assignments: AcrPull for the identity and the kubelet, on the registry --------
    acr_pull = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
    acr_push = "8311e382-0749-4cb8-b61a-304f252e45ec"
    for fname, principal, role in (
        ("role-acrpull-identity.json", uai["principalId"], acr_pull),
        ("role-acrpull-kubelet.json", kubelet["objectId"], acr_pull),
        ("role-acrpush-task.json", TASK_PRINCIPAL, acr_push),
    ):
        ra = body("RoleAssignments_Get.json")
        ra["properties"]["scope"] = reg_id
        ra["properties"]["roleDefinitionId"] = (
            f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{role}")
        ra["properties"]["principalId"] = principal
        ra["properties"]["principalType"] = "ServicePrincipal"
        ra["name"] = f"{principal[:8]}-0000-4000-8000-000000000000"
        ra["id"] = f"{reg_id}/providers/Microsoft.Authorization/roleAssignments/{ra['name']}"
        write(fname, ra)

    # -- diagnostic setting of the registry (allLogs to a storage account and event hub) ------
    ds = body("getDiagnosticSetting.json")
    ds["id"] = f"{reg_id}/providers/microsoft.insights/diagnosticSettings/{ds['name']}"
    ds["properties"].pop("metrics", None)
    write("diagnostic-setting.json", ds)


if __name__ == "__main__":
    main()
