"""Regenerate ``derived/`` from the verbatim REST API examples in ``examples/``.

Every derived resource starts as the 200 response body (or request body) of an official
example and is changed only by the edits written out below; PROVENANCE.md lists them.
Run: ``python tests/data/inventory/derive.py``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE / "examples"
DERIVED = HERE / "derived"


def body(name: str, code: str = "200") -> dict[str, Any]:
    doc = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    return copy.deepcopy(doc["responses"][code]["body"])


def write(name: str, resource: dict[str, Any]) -> None:
    DERIVED.mkdir(exist_ok=True)
    text = json.dumps(resource, indent=2, ensure_ascii=False) + "\n"
    (DERIVED / name).write_text(text, encoding="utf-8")


def main() -> None:
    app = body("ContainerApps_Get.json")
    uai_id, uai = next(iter(app["identity"]["userAssignedIdentities"].items()))
    registry = body("RegistryGet.json")
    login_server = registry["properties"]["loginServer"]
    pec = body("PrivateEndpointConnectionGet.json")
    delegated_subnet_id = body("SubnetGetWithDelegation.json")["id"]
    vnet_subnet_id = body("VirtualNetworkGetWithSubnetDelegation.json")["properties"]["subnets"][0][
        "id"
    ]
    environment = body("ManagedEnvironments_Get.json")
    pe = body("PrivateEndpointGet.json")

    # the user-assigned identity that ContainerApps_Get holds, as a resource of its own
    write(
        "uai-myidentity.json",
        {
            "id": uai_id,
            "name": uai_id.rsplit("/", 1)[-1],
            "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
            "location": app["location"],
            "properties": {
                "principalId": uai["principalId"],
                "clientId": uai["clientId"],
                "tenantId": app["identity"]["tenantId"],
            },
        },
    )

    # a restricted Premium registry with the example's private endpoint connection
    restricted = copy.deepcopy(registry)
    props = restricted["properties"]
    restricted["sku"] = {"name": "Premium", "tier": "Premium"}
    props["publicNetworkAccess"] = "Disabled"
    props["networkRuleSet"] = {
        "defaultAction": "Deny",
        "ipRules": [
            {"action": "Allow", "value": "203.0.113.0/24"},
            {"action": "Allow", "value": "198.51.100.7"},
        ],
    }
    props["networkRuleBypassAllowedForTasks"] = True
    props["dataEndpointEnabled"] = True
    props["privateEndpointConnections"] = [pec]
    write("registry-restricted.json", restricted)

    # ACI in a delegated subnet, private IP, pulling with the user-assigned identity
    aci = body("ContainerGroupsGet_Succeeded.json")
    aci_props = aci["properties"]
    aci_props["ipAddress"]["type"] = "Private"
    aci_props["subnetIds"] = [{"id": delegated_subnet_id}]
    server = aci_props["imageRegistryCredentials"][0]["server"]
    aci_props["imageRegistryCredentials"] = [{"server": server, "identity": uai_id}]
    aci["identity"] = {"type": "UserAssigned", "userAssignedIdentities": {uai_id: uai}}
    write("aci-vnet-identity.json", aci)

    # the CreateOrUpdate request body (which holds the unevaluated ARM expression), with the
    # id, name and type of its 200 response
    create_doc = json.loads(
        (EXAMPLES / "ContainerGroupsCreateOrUpdate.json").read_text(encoding="utf-8")
    )
    request = copy.deepcopy(create_doc["parameters"]["containerGroup"])
    response = create_doc["responses"]["200"]["body"]
    write(
        "aci-create-request.json",
        {"id": response["id"], "name": response["name"], "type": response["type"], **request},
    )

    # a container app in the example environment, pulling from the example registry
    app2 = copy.deepcopy(app)
    app2["properties"]["managedEnvironmentId"] = environment["id"]
    app2["properties"]["configuration"]["registries"] = [
        {"server": login_server, "identity": uai_id},
        {"server": server, "identity": "system"},
    ]
    for container in app2["properties"]["template"]["containers"]:
        container["image"] = f"{login_server}/{container['image']}"
    write("containerapp-registries.json", app2)

    # the example environment, internal
    env2 = copy.deepcopy(environment)
    env2["properties"]["vnetConfiguration"]["internal"] = True
    write("environment-internal.json", env2)

    # AKS with its node pool in a customer subnet and a kubelet identity
    aks = body("ManagedClustersGet.json")
    aks["properties"]["agentPoolProfiles"][0]["vnetSubnetID"] = vnet_subnet_id
    aks["properties"]["identityProfile"] = {
        "kubeletidentity": {
            "resourceId": uai_id,
            "clientId": uai["clientId"],
            "objectId": uai["principalId"],
        }
    }
    aks["properties"]["servicePrincipalProfile"] = {"clientId": "msi"}
    write("aks-vnet-kubelet.json", aks)

    # the public IP behind the AKS example's first effective outbound IP, with an address
    pip = body("PublicIpAddressGet.json")
    out_id = body("ManagedClustersGet.json")["properties"]["networkProfile"]["loadBalancerProfile"][
        "effectiveOutboundIPs"
    ][0]["id"]
    pip["id"] = out_id
    pip["name"] = out_id.rsplit("/", 1)[-1]
    pip["properties"]["ipAddress"] = "203.0.113.10"
    pip["properties"]["publicIPAllocationMethod"] = "Static"
    del pip["properties"]["ipConfiguration"]
    write("public-ip-aks-outbound.json", pip)

    # the web app as a Linux container app with VNet integration and VNet image pull
    site = body("GetWebApp.json")
    site["kind"] = "app,linux,container"
    sp = site["properties"]
    sp["virtualNetworkSubnetId"] = vnet_subnet_id
    sp["vnetImagePullEnabled"] = True
    sp["siteConfig"]["linuxFxVersion"] = (
        f"DOCKER|{login_server}/{app['properties']['template']['containers'][0]['image']}"
    )
    sp["siteConfig"]["acrUseManagedIdentityCreds"] = True
    sp["siteConfig"]["acrUserManagedIdentityID"] = uai["clientId"]
    site["identity"] = {"type": "UserAssigned", "userAssignedIdentities": {uai_id: uai}}
    write("webapp-container.json", site)

    # the NIC of the example private endpoint, as a private endpoint NIC for a registry
    nic = body("NetworkInterfaceGet.json")
    nic["id"] = pe["properties"]["networkInterfaces"][0]["id"]
    nic["name"] = nic["id"].rsplit("/", 1)[-1]
    nic["properties"]["privateEndpoint"] = {"id": pe["id"]}
    del nic["properties"]["virtualMachine"]
    nic["properties"]["ipConfigurations"][0]["properties"]["privateLinkConnectionProperties"] = {
        "groupId": "registry",
        "requiredMemberName": "registry",
        "fqdns": [login_server.lower()],
    }
    write("nic-private-endpoint.json", nic)


if __name__ == "__main__":
    main()
