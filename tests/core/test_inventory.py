"""Inventory reader: ARM JSON (REST and SDK shapes, every container form) -> Inventory.

The resources are the official REST API examples (tests/data/inventory/examples, verbatim)
and variants derived from them by editing fields (tests/data/inventory/derived, made by
derive.py; see PROVENANCE.md). Expected values are read from those files in each test.
"""

from __future__ import annotations

import copy
import gzip
import importlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pullpath.adapters.inventory_files import decode_json, read_inventory
from pullpath.core.inventory import (
    MAX_DEPTH,
    InventoryError,
    build_inventory,
    image_registry,
    inventory_from_documents,
    is_arm_expression,
    iter_resources,
    split_image,
)
from pullpath.core.inventory.consumers import transform_consumer, transform_environment
from pullpath.core.inventory.fields import FieldReader
from pullpath.core.inventory.identity import transform_role_assignment, transform_user_identity
from pullpath.core.inventory.network import (
    transform_nat_gateway,
    transform_nic,
    transform_private_endpoint,
    transform_vnet,
)
from pullpath.core.inventory.registry import transform_registry
from pullpath.domain.inventory import ConsumerKind, Inventory, InventoryIssue, norm_id
from pullpath.domain.resource_id import type_of as type_from_id
from tests.support import TESTS

DATA = TESTS / "data" / "inventory"
EXAMPLES = DATA / "examples"
DERIVED = DATA / "derived"

Json = dict[str, Any]


def example(name: str) -> Json:
    doc: Json = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    return doc


def body(name: str) -> Json:
    """The 200 (else 201) response body of a REST API example."""
    responses = example(name)["responses"]
    found: Json = copy.deepcopy((responses.get("200") or responses["201"])["body"])
    return found


def derived(name: str) -> Json:
    doc: Json = json.loads((DERIVED / name).read_text(encoding="utf-8"))
    return doc


def inv_of(*resources: object) -> Inventory:
    return build_inventory((f"test#{i}", r) for i, r in enumerate(resources))


def entities(inv: Inventory) -> dict[str, object]:
    """Everything an Inventory says about the resources (not where they came from)."""
    return {
        "vnets": inv.vnets,
        "subnets": inv.subnets,
        "private_endpoints": inv.private_endpoints,
        "nics": inv.nics,
        "public_ips": inv.public_ips,
        "nat_gateways": inv.nat_gateways,
        "registries": inv.registries,
        "identities": inv.identities,
        "consumers": inv.consumers,
        "environments": inv.environments,
        "role_assignments": inv.role_assignments,
        "diagnostic_settings": inv.diagnostic_settings,
        "dns_zones": inv.dns_zones,
        "ignored_types": dict(inv.ignored_types),
        "resources_seen": inv.resources_seen,
        "role_assignments_present": inv.role_assignments_present,
        "diagnostic_settings_present": inv.diagnostic_settings_present,
    }


def problems(inv: Inventory) -> list[str]:
    return [i.problem for i in inv.issues]


def props(resource: Json) -> Json:
    p: Json = resource["properties"]
    return p


def nid(resource: Json) -> str:
    return norm_id(resource["id"])


# ---------------------------------------------------------------------------------------------
# network


def test_vnet_with_delegated_subnet() -> None:
    src = body("VirtualNetworkGetWithSubnetDelegation.json")
    inv = inv_of(src)
    vnet = inv.vnets[nid(src)]
    sub_src = props(src)["subnets"][0]
    assert vnet.name == src["name"]
    assert vnet.location == src["location"]
    assert vnet.address_prefixes == tuple(props(src)["addressSpace"]["addressPrefixes"])
    assert vnet.subnet_ids == (nid(sub_src),)
    sub = inv.subnets[nid(sub_src)]
    assert sub.vnet_id == vnet.id
    assert sub.name == sub_src["name"]
    assert sub.prefixes == (props(sub_src)["addressPrefix"],)
    assert sub.delegations == (props(sub_src)["delegations"][0]["properties"]["serviceName"],)
    assert sub.location == vnet.location
    assert inv.issues == []


def test_standalone_subnet_without_type_and_address_prefixes() -> None:
    src = body("SubnetGetWithDelegation.json")
    assert "type" not in src  # the example has none: the type comes from the id
    src_multi = copy.deepcopy(src)
    props(src_multi)["addressPrefixes"] = [props(src)["addressPrefix"], "fd00::/64"]
    for resource in (src, src_multi):
        inv = inv_of(resource)
        sub = inv.subnets[nid(src)]
        assert sub.vnet_id == nid(src).rsplit("/subnets/", 1)[0]
        assert sub.delegations == ("Microsoft.Provider/resourceType",)
    assert inv.subnets[nid(src)].prefixes == (props(src)["addressPrefix"], "fd00::/64")


def test_subnets_of_a_vnet_and_standalone_are_linked() -> None:
    vnet_src = body("VirtualNetworkGet.json")
    child = copy.deepcopy(body("SubnetGet.json"))
    child["id"] = vnet_src["id"] + "/subnets/extra"
    child["name"] = "extra"
    inv = inv_of(vnet_src, child)
    vnet = inv.vnets[nid(vnet_src)]
    assert vnet.subnet_ids == (nid(props(vnet_src)["subnets"][0]), norm_id(child["id"]))
    assert inv.subnets[norm_id(child["id"])].location == vnet_src["location"]


def test_private_endpoint() -> None:
    src = body("PrivateEndpointGet.json")
    inv = inv_of(src)
    pe = inv.private_endpoints[nid(src)]
    p = props(src)
    conn = p["privateLinkServiceConnections"][0]["properties"]
    assert pe.subnet_id == norm_id(p["subnet"]["id"])
    assert pe.target_ids == (norm_id(conn["privateLinkServiceId"]),)
    assert pe.connection_states == (conn["privateLinkServiceConnectionState"]["status"],)
    assert pe.group_ids == tuple(conn["groupIds"])
    assert pe.nic_ids == (norm_id(p["networkInterfaces"][0]["id"]),)
    assert pe.dns_records == tuple(
        (c["fqdn"], tuple(c["ipAddresses"])) for c in p["customDnsConfigs"]
    )
    for cfg in p["ipConfigurations"]:
        assert cfg["properties"]["privateIPAddress"] in pe.private_ips


def test_manual_private_link_connections_count() -> None:
    src = body("PrivateEndpointGet.json")
    p = props(src)
    p["manualPrivateLinkServiceConnections"] = copy.deepcopy(p["privateLinkServiceConnections"])
    manual = p["manualPrivateLinkServiceConnections"][0]["properties"]
    manual["privateLinkServiceConnectionState"]["status"] = "Pending"
    pe = inv_of(src).private_endpoints[nid(src)]
    assert pe.connection_states == ("Approved", "Pending")
    assert len(pe.target_ids) == 2


def test_network_interface_of_a_vm() -> None:
    src = body("NetworkInterfaceGet.json")
    nic = inv_of(src).nics[nid(src)]
    cfgs = props(src)["ipConfigurations"]
    assert [c.name for c in nic.ip_configurations] == [c["name"] for c in cfgs]
    first = nic.ip_configurations[0]
    assert first.private_ip == cfgs[0]["properties"]["privateIPAddress"]
    assert first.subnet_id == norm_id(cfgs[0]["properties"]["subnet"]["id"])
    assert first.public_ip_id == norm_id(cfgs[0]["properties"]["publicIPAddress"]["id"])
    assert nic.attached_to == norm_id(props(src)["virtualMachine"]["id"])
    assert nic.private_endpoint_id == ""


def test_private_endpoint_nic_gives_member_names_and_ips() -> None:
    pe_src = body("PrivateEndpointGet.json")
    nic_src = derived("nic-private-endpoint.json")
    inv = inv_of(pe_src, nic_src)
    nic = inv.nics[nid(nic_src)]
    link = props(nic_src)["ipConfigurations"][0]["properties"]["privateLinkConnectionProperties"]
    assert nic.private_endpoint_id == nid(pe_src)
    assert nic.ip_configurations[0].member_name == link["requiredMemberName"]
    assert nic.ip_configurations[0].fqdns == tuple(link["fqdns"])
    pe = inv.private_endpoints[nid(pe_src)]
    for cfg in props(nic_src)["ipConfigurations"]:
        assert cfg["properties"]["privateIPAddress"] in pe.private_ips


def test_public_ip_and_nat_gateway_are_linked_to_subnet() -> None:
    pip_src = body("PublicIpAddressGet.json")
    nat_src = body("NatGatewayGet.json")
    vnet_src = body("VirtualNetworkGet.json")
    inv = inv_of(pip_src, nat_src, vnet_src)
    pip = inv.public_ips[nid(pip_src)]
    assert pip.ip_address == ""  # dynamic, not allocated in the example
    assert pip.attached_to == norm_id(props(pip_src)["ipConfiguration"]["id"])
    nat = inv.nat_gateways[nid(nat_src)]
    assert nat.public_ip_ids == tuple(norm_id(x["id"]) for x in props(nat_src)["publicIpAddresses"])
    assert nat.public_ip_prefix_ids == tuple(
        norm_id(x["id"]) for x in props(nat_src)["publicIpPrefixes"]
    )
    assert nat.subnet_ids == tuple(norm_id(x["id"]) for x in props(nat_src)["subnets"])
    # the NAT gateway lists the VNet example's subnet: the subnet learns its NAT gateway
    assert inv.subnets[nat.subnet_ids[0]].nat_gateway_id == nat.id


# ---------------------------------------------------------------------------------------------
# registry


def test_registry_open_example() -> None:
    src = body("RegistryGet.json")
    reg = inv_of(src).registries[nid(src)]
    p = props(src)
    assert reg.login_server == p["loginServer"].lower()
    assert reg.sku == src["sku"]["name"]
    assert reg.public_network_access == p["publicNetworkAccess"]
    assert reg.default_action == p["networkRuleSet"]["defaultAction"]
    assert reg.bypass == p["networkRuleBypassOptions"]
    assert reg.bypass_for_tasks is p["networkRuleBypassAllowedForTasks"]
    assert reg.admin_user_enabled is p["adminUserEnabled"]
    assert reg.data_endpoint_enabled is p["dataEndpointEnabled"]
    assert reg.ip_rules == ()
    assert reg.private_endpoint_connections == ()
    assert reg.restricted is False
    assert reg.open_to_all is True
    assert reg.trusted_services_allowed is True


def test_registry_restricted_variant() -> None:
    src = derived("registry-restricted.json")
    inv = inv_of(src)
    reg = inv.registries[nid(src)]
    p = props(src)
    pec = p["privateEndpointConnections"][0]
    assert reg.sku == "Premium"
    assert reg.restricted is True
    assert reg.open_to_all is False
    assert reg.ip_rules == tuple(r["value"] for r in p["networkRuleSet"]["ipRules"])
    assert reg.bypass_for_tasks is True
    assert reg.private_endpoint_connections[0].id == nid(pec)
    assert reg.approved_private_endpoint_ids == (
        norm_id(pec["properties"]["privateEndpoint"]["id"]),
    )
    assert inv.registry_by_login_server(p["loginServer"]) is reg
    assert inv.registry_for("", src["id"].upper()) is reg


def test_ip_rule_with_deny_action_is_not_an_allow_rule() -> None:
    src = derived("registry-restricted.json")
    props(src)["networkRuleSet"]["ipRules"][0]["action"] = "Deny"
    reg = inv_of(src).registries[nid(src)]
    assert reg.ip_rules == (props(src)["networkRuleSet"]["ipRules"][1]["value"],)


def test_standalone_private_endpoint_connections_merge_into_registry() -> None:
    reg_src = body("RegistryGet.json")
    listed = body("PrivateEndpointConnectionList.json")
    inv = inv_of(reg_src, *listed["value"])
    reg = inv.registries[nid(reg_src)]
    pec_src = listed["value"][0]
    assert [c.id for c in reg.private_endpoint_connections] == [nid(pec_src)]
    assert (
        reg.private_endpoint_connections[0].status
        == (props(pec_src)["privateLinkServiceConnectionState"]["status"])
    )
    # a connection whose registry is absent still gives a (config-less) registry entry
    alone = inv_of(body("PrivateEndpointConnectionGet.json"))
    stub = alone.registries[nid(reg_src)]
    assert stub.has_config is False
    assert stub.restricted is None
    assert len(stub.private_endpoint_connections) == 1


def test_replications_give_replica_locations() -> None:
    reg_src = body("RegistryGet.json")
    replications = [
        {
            "id": reg_src["id"] + f"/replications/{loc}",
            "name": loc,
            "type": "Microsoft.ContainerRegistry/registries/replications",
            "location": loc,
            "properties": {"provisioningState": "Succeeded"},
        }
        for loc in ("West US", "eastus")
    ]
    reg = inv_of(reg_src, *replications).registries[nid(reg_src)]
    assert reg.replica_locations == ("westus", "eastus")


def test_acr_task_is_a_consumer_with_registry_server() -> None:
    reg_src = body("RegistryGet.json")
    task = {
        "id": reg_src["id"] + "/tasks/build",
        "name": "build",
        "type": "Microsoft.ContainerRegistry/registries/tasks",
        "location": reg_src["location"],
        "identity": {
            "type": "SystemAssigned",
            "principalId": "0000aaaa-0000-0000-0000-000000000001",
        },
        "properties": {"status": "Enabled", "platform": {"os": "Linux"}},
    }
    inv = inv_of(task, reg_src)
    con = inv.consumers[norm_id(task["id"])]
    assert con.kind is ConsumerKind.ACR_TASKS
    assert con.system_identity is True
    assert con.fact("system_identity") == "true"
    assert con.principal_ids == ("0000aaaa-0000-0000-0000-000000000001",)
    assert con.credentials[0].server == props(reg_src)["loginServer"].lower()
    assert con.credentials[0].method == "system-assigned-identity"


def test_acr_task_custom_registries_and_client_id_identity() -> None:
    reg_src = derived("registry-restricted.json")
    uai_src = derived("uai-myidentity.json")
    aci_server = props(body("ContainerGroupsGet_Succeeded.json"))["imageRegistryCredentials"][0]
    task = {
        "id": reg_src["id"] + "/tasks/build",
        "name": "build",
        "type": "Microsoft.ContainerRegistry/registries/tasks",
        "location": reg_src["location"],
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {uai_src["id"]: {}}},
        "properties": {
            "credentials": {
                "customRegistries": {
                    aci_server["server"]: {
                        "userName": {"type": "Opaque", "value": aci_server["username"]},
                        "password": {"type": "Vaultsecret", "value": "https://kv/secret"},
                    },
                    "other.azurecr.io": {"identity": props(uai_src)["clientId"]},
                }
            }
        },
    }
    # read twice: the second full record replaces the first, nothing is doubled
    inv = inv_of(task, task, reg_src, uai_src)
    con = inv.consumers[norm_id(task["id"])]
    assert con.fact("system_identity") == "false"
    assert con.identity_ids == (nid(uai_src),)
    assert con.principal_ids == (props(uai_src)["principalId"],)
    assert [(c.server, c.method, c.identity_id, c.username) for c in con.credentials] == [
        (aci_server["server"], "password", "", aci_server["username"]),
        ("other.azurecr.io", "user-assigned-identity", nid(uai_src), ""),
        (props(reg_src)["loginServer"].lower(), "user-assigned-identity", nid(uai_src), ""),
    ]
    assert "kv/secret" not in repr(con)


# ---------------------------------------------------------------------------------------------
# consumers


def test_aci_get_example_password_credential() -> None:
    src = body("ContainerGroupsGet_Succeeded.json")
    con = inv_of(src).consumers[nid(src)]
    p = props(src)
    cred_src = p["imageRegistryCredentials"][0]
    assert con.kind is ConsumerKind.ACI
    assert con.location == src["location"].lower()
    assert con.images == tuple(c["properties"]["image"] for c in p["containers"])
    assert con.public_ips == (p["ipAddress"]["ip"],)
    assert con.private_ips == ()
    assert con.fact("os") == p["osType"].lower()
    assert con.fact("in_vnet") == "false"
    assert len(con.credentials) == 1
    cred = con.credentials[0]
    assert (cred.server, cred.method, cred.username) == (
        cred_src["server"],
        "password",
        cred_src["username"],
    )


def test_aci_in_vnet_with_user_assigned_identity() -> None:
    src = derived("aci-vnet-identity.json")
    uai_src = derived("uai-myidentity.json")
    inv = inv_of(src, uai_src)
    con = inv.consumers[nid(src)]
    p = props(src)
    uai_id = next(iter(src["identity"]["userAssignedIdentities"]))
    assert con.subnet_ids == (norm_id(p["subnetIds"][0]["id"]),)
    assert con.private_ips == (p["ipAddress"]["ip"],)
    assert con.public_ips == ()
    assert con.fact("in_vnet") == "true"
    assert con.identity_ids == (norm_id(uai_id),)
    assert con.principal_ids == (props(uai_src)["principalId"],)
    assert con.client_ids == (props(uai_src)["clientId"],)
    assert con.system_identity is False
    cred = con.credentials[0]
    assert cred.method == "user-assigned-identity"
    assert cred.identity_id == norm_id(uai_id)
    assert cred.server == p["imageRegistryCredentials"][0]["server"]
    ident = inv.identities[norm_id(uai_id)]
    assert (ident.principal_id, ident.client_id) == (
        props(uai_src)["principalId"],
        props(uai_src)["clientId"],
    )


@pytest.mark.parametrize("identity", ["[system]", "system", "SYSTEM"])
def test_aci_system_identity_credential(identity: str) -> None:
    src = derived("aci-vnet-identity.json")
    props(src)["imageRegistryCredentials"][0]["identity"] = identity
    props(src)["imageRegistryCredentials"][0]["password"] = "never-stored"
    con = inv_of(src).consumers[nid(src)]
    assert con.credentials[0].method == "system-assigned-identity"
    assert "never-stored" not in repr(con)


def test_aci_create_request_with_unevaluated_arm_expression() -> None:
    src = derived("aci-create-request.json")
    expression = props(src)["subnetIds"][0]["id"]
    assert is_arm_expression(expression)
    inv = inv_of(src)
    con = inv.consumers[nid(src)]
    assert con.subnet_ids == ()
    assert con.fact("in_vnet") is None  # in a VNet, but which subnet is unknown
    assert con.system_identity is True
    assert con.identity_ids == tuple(norm_id(k) for k in src["identity"]["userAssignedIdentities"])
    issue = next(i for i in inv.issues if "ARM expression" in i.problem)
    assert issue.resource_id == nid(src)
    assert issue.problem == f"unevaluated ARM expression in subnetIds[0].id: {expression}"


def test_container_app_example_without_its_environment() -> None:
    src = body("ContainerApps_Get.json")
    inv = inv_of(src)
    con = inv.consumers[nid(src)]
    p = props(src)
    uai_id, uai = next(iter(src["identity"]["userAssignedIdentities"].items()))
    assert con.kind is ConsumerKind.ACA
    assert con.environment_id == norm_id(p["managedEnvironmentId"])
    assert con.images == (p["template"]["containers"][0]["image"],)
    assert con.system_identity is True
    assert con.principal_ids == (src["identity"]["principalId"], uai["principalId"])
    assert con.client_ids == (uai["clientId"],)
    assert con.identity_ids == (norm_id(uai_id),)
    assert con.subnet_ids == ()
    assert con.fact("in_vnet") is None  # environment not in the inventory: unknown
    assert inv.identities[nid(src)].principal_id == src["identity"]["principalId"]


def test_container_app_resolves_environment_subnet() -> None:
    app_src = derived("containerapp-registries.json")
    env_src = derived("environment-internal.json")
    inv = inv_of(app_src, env_src)
    env = inv.environments[nid(env_src)]
    vnet_cfg = props(env_src)["vnetConfiguration"]
    assert env.infrastructure_subnet_id == norm_id(vnet_cfg["infrastructureSubnetId"])
    assert env.internal is True
    assert env.static_ip == props(env_src)["staticIp"]
    assert env.location == "northcentralus"
    con = inv.consumers[nid(app_src)]
    assert con.subnet_ids == (env.infrastructure_subnet_id,)
    assert con.fact("in_vnet") == "true"
    assert con.fact("internal") == "true"
    regs = props(app_src)["configuration"]["registries"]
    assert [(c.server, c.method, c.identity_id) for c in con.credentials] == [
        (regs[0]["server"].lower(), "user-assigned-identity", norm_id(regs[0]["identity"])),
        (regs[1]["server"].lower(), "system-assigned-identity", ""),
    ]
    # the example environment (no "internal"): internal unknown
    plain = inv_of(app_src, body("ManagedEnvironments_Get.json"))
    assert plain.environments[nid(env_src)].internal is None
    assert plain.consumers[nid(app_src)].fact("internal") is None


def test_container_app_job_and_outbound_ips() -> None:
    src = derived("containerapp-registries.json")
    job = copy.deepcopy(src)
    job["type"] = "Microsoft.App/jobs"
    job["id"] = src["id"].replace("containerApps", "jobs")
    p = props(job)
    p["environmentId"] = p.pop("managedEnvironmentId")
    p["outboundIpAddresses"] = ["198.51.100.1", "198.51.100.2"]
    con = inv_of(job).consumers[nid(job)]
    assert con.kind is ConsumerKind.ACA
    assert con.environment_id == norm_id(p["environmentId"])
    assert con.public_ips == tuple(p["outboundIpAddresses"])


def test_aks_example_service_principal() -> None:
    src = body("ManagedClustersGet.json")
    con = inv_of(src).consumers[nid(src)]
    p = props(src)
    assert con.kind is ConsumerKind.AKS
    assert con.fact("outbound_type") == p["networkProfile"]["outboundType"]
    assert con.fact("in_vnet") == "false"
    assert con.credentials[0].method == "service-principal"
    assert con.credentials[0].username == p["servicePrincipalProfile"]["clientId"]
    lb = p["networkProfile"]["loadBalancerProfile"]
    assert con.public_ip_ids == tuple(norm_id(x["id"]) for x in lb["effectiveOutboundIPs"])
    assert con.public_ips == ()  # the public IP resources are not in the inventory


def test_aks_in_vnet_with_kubelet_identity() -> None:
    src = derived("aks-vnet-kubelet.json")
    pip_src = derived("public-ip-aks-outbound.json")
    inv = inv_of(src, pip_src)
    con = inv.consumers[nid(src)]
    kubelet = props(src)["identityProfile"]["kubeletidentity"]
    assert con.subnet_ids == (norm_id(props(src)["agentPoolProfiles"][0]["vnetSubnetID"]),)
    assert con.fact("in_vnet") == "true"
    assert con.principal_ids == (kubelet["objectId"],)
    assert con.client_ids == (kubelet["clientId"],)
    assert con.identity_ids == (norm_id(kubelet["resourceId"]),)
    assert [(c.server, c.method, c.identity_id) for c in con.credentials] == [
        ("", "kubelet-identity", norm_id(kubelet["resourceId"]))
    ]
    assert con.public_ips == (props(pip_src)["ipAddress"],)
    ident = inv.identities[norm_id(kubelet["resourceId"])]
    assert ident.principal_id == kubelet["objectId"]


def test_web_app_without_container_is_not_a_consumer() -> None:
    src = body("GetWebApp.json")
    inv = inv_of(src)
    assert inv.consumers == {}
    assert inv.ignored_types == {"microsoft.web/sites": 1}
    assert inv.resources_seen == 1


def test_web_app_container_with_vnet_image_pull() -> None:
    src = derived("webapp-container.json")
    uai_src = derived("uai-myidentity.json")
    inv = inv_of(src, uai_src)
    con = inv.consumers[nid(src)]
    p = props(src)
    image = p["siteConfig"]["linuxFxVersion"].split("|", 1)[1]
    assert con.kind is ConsumerKind.APP_SERVICE
    assert con.images == (image,)
    assert con.subnet_ids == (norm_id(p["virtualNetworkSubnetId"]),)
    assert con.fact("os") == "linux"
    assert con.fact("vnet_image_pull") == "true"
    assert con.fact("in_vnet") == "true"
    assert con.public_ips == tuple(p["outboundIpAddresses"].split(","))
    cred = con.credentials[0]
    assert cred.server == image_registry(image) == image.split("/", 1)[0].lower()
    assert cred.method == "user-assigned-identity"
    # acrUserManagedIdentityID is a client id: resolved through the identity resource
    assert cred.identity_id == nid(uai_src)
    assert p["siteConfig"]["acrUserManagedIdentityID"] == props(uai_src)["clientId"]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda p: p.update(vnetImagePullEnabled=False), "false"),
        (
            lambda p: (
                p.update(vnetImagePullEnabled=False),
                p.update(outboundVnetRouting={"imagePullTraffic": True}),
            ),
            "true",
        ),
        (
            lambda p: (
                p.pop("vnetImagePullEnabled"),
                p["siteConfig"].update(
                    appSettings=[{"name": "WEBSITE_PULL_IMAGE_OVER_VNET", "value": "true"}]
                ),
            ),
            "true",
        ),
        (lambda p: p.pop("vnetImagePullEnabled"), None),
    ],
)
def test_web_app_vnet_image_pull_settings(
    edit: Callable[[Json], object], expected: str | None
) -> None:
    src = derived("webapp-container.json")
    edit(props(src))
    assert inv_of(src).consumers[nid(src)].fact("vnet_image_pull") == expected


def test_windows_container_web_app() -> None:
    src = derived("webapp-container.json")
    src["kind"] = "app,container,windows"
    p = props(src)
    p["siteConfig"]["windowsFxVersion"] = p["siteConfig"].pop("linuxFxVersion")
    p["siteConfig"]["acrUseManagedIdentityCreds"] = False
    p["siteConfig"]["appSettings"] = [
        {"name": "DOCKER_REGISTRY_SERVER_URL", "value": "https://myRegistry.azurecr.io"},
        {"name": "DOCKER_REGISTRY_SERVER_USERNAME", "value": "myRegistry"},
        {"name": "DOCKER_REGISTRY_SERVER_PASSWORD", "value": "secret-value"},
    ]
    con = inv_of(src).consumers[nid(src)]
    assert con.fact("os") == "windows"
    assert [(c.server, c.method, c.username) for c in con.credentials] == [
        ("myregistry.azurecr.io", "password", "myRegistry")
    ]
    assert "secret-value" not in repr(con)


def test_user_assigned_identity_resource() -> None:
    src = derived("uai-myidentity.json")
    ident = inv_of(src).identities[nid(src)]
    assert (ident.name, ident.principal_id, ident.client_id) == (
        src["name"],
        props(src)["principalId"],
        props(src)["clientId"],
    )


# ---------------------------------------------------------------------------------------------
# access, monitoring, DNS


def test_role_assignments() -> None:
    listed = body("RoleAssignments_ListForResourceGroup.json")["value"]
    inv = inv_of(*listed)
    assert inv.role_assignments_present is True
    assert len(inv.role_assignments) == len(listed)
    for src in listed:
        ra = inv.role_assignments[nid(src)]
        assert ra.scope == norm_id(props(src)["scope"])
        assert ra.role_definition_id == norm_id(props(src)["roleDefinitionId"])
        assert ra.principal_id == props(src)["principalId"]
        assert ra.principal_type == props(src)["principalType"]
    assert inv_of(body("RegistryGet.json")).role_assignments_present is False


def test_empty_role_assignment_list_file_counts_as_present(tmp_path: Path) -> None:
    (tmp_path / "roleAssignments.json").write_text('{"value": []}')
    (tmp_path / "registry.json").write_text(json.dumps(body("RegistryGet.json")))
    inv = read_inventory([tmp_path])
    assert inv.role_assignments_present is True
    assert inv.role_assignments == {}
    assert inv.diagnostic_settings_present is False
    other = tmp_path / "other"
    other.mkdir()
    (other / "list.json").write_text('{"value": []}')
    assert read_inventory([other]).role_assignments_present is False


def test_diagnostic_setting_target_and_categories() -> None:
    src = body("getDiagnosticSetting.json")
    inv = inv_of(src)
    ds = inv.diagnostic_settings[nid(src)]
    p = props(src)
    assert inv.diagnostic_settings_present is True
    assert ds.target_id == nid(src).split("/providers/microsoft.insights/")[0]
    assert ds.categories == tuple(log["categoryGroup"] for log in p["logs"] if log["enabled"])
    assert ds.destinations == tuple(
        norm_id(p[k]) for k in ("storageAccountId", "eventHubAuthorizationRuleId")
    )


def test_diagnostic_setting_disabled_logs_and_mislabelled_type() -> None:
    listed = body("listDiagnosticSettingsCategory.json")["value"]
    src = listed[0]
    assert src["type"] == "microsoft.logic/workflows"  # the example's own label
    disabled = copy.deepcopy(src)
    disabled["id"] = src["id"] + "2"
    props(disabled)["logs"][0]["enabled"] = False
    inv = inv_of(src, disabled)
    ds = inv.diagnostic_settings[nid(src)]
    assert ds.target_id == nid(src).split("/diagnosticsettings/")[0]
    assert ds.categories == (props(src)["logs"][0]["category"],)
    assert inv.diagnostic_settings[nid(disabled)].categories == ()


def test_private_dns_zone_records_and_links_merge() -> None:
    zone_src = body("PrivateZoneGet.json")
    rec_src = body("RecordSetAGet.json")
    link_src = body("VirtualNetworkLinkGet.json")
    for order in ((zone_src, rec_src, link_src), (rec_src, link_src, zone_src)):
        inv = inv_of(*order)
        assert list(inv.dns_zones) == [nid(zone_src)]
        zone = inv.dns_zones[nid(zone_src)]
        assert zone.name == zone_src["name"]
        assert zone.a_records == (
            (rec_src["name"], tuple(r["ipv4Address"] for r in props(rec_src)["aRecords"])),
        )
        assert zone.linked_vnet_ids == (norm_id(props(link_src)["virtualNetwork"]["id"]),)
    # a record whose zone is absent creates the zone entry
    alone = inv_of(rec_src)
    assert alone.dns_zones[nid(zone_src)].name == zone_src["name"]


def test_private_endpoint_dns_zone_group() -> None:
    src = body("PrivateEndpointDnsZoneGroupGet.json")
    inv = inv_of(src)
    for cfg in props(src)["privateDnsZoneConfigs"]:
        zone = inv.dns_zones[norm_id(cfg["properties"]["privateDnsZoneId"])]
        assert zone.a_records == tuple(
            (rs["recordSetName"], tuple(rs["ipAddresses"]))
            for rs in cfg["properties"]["recordSets"]
        )


def test_other_types_are_counted_not_read() -> None:
    graph = body("ResourcesBasicQuery.json")
    inv = inventory_from_documents([("graph.json", graph)])
    assert inv.resources_seen == len(graph["data"])
    # Resource Graph gives lower-case types; the three are read as NIC, VNet, public IP
    assert len(inv.nics) == len(inv.vnets) == len(inv.public_ips) == 1
    first_page = body("ResourcesFirstPageQuery.json")
    inv2 = inventory_from_documents([("page.json", first_page)])
    assert sum(inv2.ignored_types.values()) == len(first_page["data"])
    assert inv2.ignored_types[first_page["data"][0]["type"]] == 1
    assert any("skip token" in p for p in problems(inv2))


# ---------------------------------------------------------------------------------------------
# SDK shape (azure-mgmt-* model .as_dict()) == REST shape


def _sdk_dict(module: str, cls_name: str, rest: Json) -> Json:
    models = pytest.importorskip(module)
    cls = getattr(models, cls_name)
    if hasattr(cls, "deserialize"):  # msrest models (containerinstance, authorization)
        out: Json = cls.deserialize(rest).as_dict()
        return out
    # TypeSpec models (network, containerregistry, appcontainers, ...): the legacy as_dict()
    from azure.core.serialization import as_attribute_dict

    out = as_attribute_dict(cls(rest))
    return out


def _src(name: str) -> Json:
    return derived(name) if (DERIVED / name).exists() else body(name)


SDK_CASES = [
    ("VirtualNetworkGetWithSubnetDelegation.json", "azure.mgmt.network.models", "VirtualNetwork"),
    ("VirtualNetworkGet.json", "azure.mgmt.network.models", "VirtualNetwork"),
    ("SubnetGetWithDelegation.json", "azure.mgmt.network.models", "Subnet"),
    ("PrivateEndpointGet.json", "azure.mgmt.network.models", "PrivateEndpoint"),
    ("NetworkInterfaceGet.json", "azure.mgmt.network.models", "NetworkInterface"),
    ("nic-private-endpoint.json", "azure.mgmt.network.models", "NetworkInterface"),
    ("PublicIpAddressGet.json", "azure.mgmt.network.models", "PublicIPAddress"),
    ("public-ip-aks-outbound.json", "azure.mgmt.network.models", "PublicIPAddress"),
    ("NatGatewayGet.json", "azure.mgmt.network.models", "NatGateway"),
    ("PrivateEndpointDnsZoneGroupGet.json", "azure.mgmt.network.models", "PrivateDnsZoneGroup"),
    ("RegistryGet.json", "azure.mgmt.containerregistry.models", "Registry"),
    ("registry-restricted.json", "azure.mgmt.containerregistry.models", "Registry"),
    (
        "PrivateEndpointConnectionGet.json",
        "azure.mgmt.containerregistry.models",
        "PrivateEndpointConnection",
    ),
    ("ContainerGroupsGet_Succeeded.json", "azure.mgmt.containerinstance.models", "ContainerGroup"),
    ("aci-vnet-identity.json", "azure.mgmt.containerinstance.models", "ContainerGroup"),
    ("aci-create-request.json", "azure.mgmt.containerinstance.models", "ContainerGroup"),
    ("ManagedEnvironments_Get.json", "azure.mgmt.appcontainers.models", "ManagedEnvironment"),
    ("environment-internal.json", "azure.mgmt.appcontainers.models", "ManagedEnvironment"),
    ("ContainerApps_Get.json", "azure.mgmt.appcontainers.models", "ContainerApp"),
    ("containerapp-registries.json", "azure.mgmt.appcontainers.models", "ContainerApp"),
    ("ManagedClustersGet.json", "azure.mgmt.containerservice.models", "ManagedCluster"),
    ("aks-vnet-kubelet.json", "azure.mgmt.containerservice.models", "ManagedCluster"),
    ("GetWebApp.json", "azure.mgmt.web.models", "Site"),
    ("webapp-container.json", "azure.mgmt.web.models", "Site"),
    ("uai-myidentity.json", "azure.mgmt.msi.models", "Identity"),
    ("RoleAssignments_Get.json", "azure.mgmt.authorization.v2022_04_01.models", "RoleAssignment"),
    ("PrivateZoneGet.json", "azure.mgmt.privatedns.models", "PrivateZone"),
    ("RecordSetAGet.json", "azure.mgmt.privatedns.models", "RecordSet"),
    ("VirtualNetworkLinkGet.json", "azure.mgmt.privatedns.models", "VirtualNetworkLink"),
]


@pytest.mark.parametrize(("name", "module", "cls_name"), SDK_CASES)
def test_sdk_shape_gives_the_same_inventory(name: str, module: str, cls_name: str) -> None:
    rest = _src(name)
    sdk = _sdk_dict(module, cls_name, rest)
    assert "properties" not in sdk  # really the flattened SDK shape
    rest_inv = inv_of(rest)
    sdk_inv = inv_of(sdk)
    assert entities(sdk_inv) == entities(rest_inv)
    assert [i.problem for i in sdk_inv.issues] == [i.problem for i in rest_inv.issues]
    found = [v for k, v in entities(rest_inv).items() if isinstance(v, dict) and v]
    assert found, "the resource was read"


def test_sdk_ip_rule_attribute_name() -> None:
    """The SDK calls ipRules[].value ``ip_address_or_range``."""
    rest = derived("registry-restricted.json")
    sdk = _sdk_dict("azure.mgmt.containerregistry.models", "Registry", rest)
    assert "ip_address_or_range" in sdk["network_rule_set"]["ip_rules"][0]
    assert inv_of(sdk).registries[nid(rest)].ip_rules == tuple(
        r["value"] for r in props(rest)["networkRuleSet"]["ipRules"]
    )


TRANSFORM_CASES = [
    ("VirtualNetworkGetWithSubnetDelegation.json", "azure.mgmt.network.models", "VirtualNetwork",
     transform_vnet),
    ("PrivateEndpointGet.json", "azure.mgmt.network.models", "PrivateEndpoint",
     transform_private_endpoint),
    ("NetworkInterfaceGet.json", "azure.mgmt.network.models", "NetworkInterface", transform_nic),
    ("NatGatewayGet.json", "azure.mgmt.network.models", "NatGateway", transform_nat_gateway),
    ("registry-restricted.json", "azure.mgmt.containerregistry.models", "Registry",
     transform_registry),
    ("aci-vnet-identity.json", "azure.mgmt.containerinstance.models", "ContainerGroup",
     lambda c, r, rid: transform_consumer(c, r, rid, "microsoft.containerinstance/containergroups")),
    ("environment-internal.json", "azure.mgmt.appcontainers.models", "ManagedEnvironment",
     transform_environment),
    ("uai-myidentity.json", "azure.mgmt.msi.models", "Identity", transform_user_identity),
    ("RoleAssignments_Get.json", "azure.mgmt.authorization.v2022_04_01.models", "RoleAssignment",
     transform_role_assignment),
]


@pytest.mark.parametrize(("name", "module", "cls_name", "transform"), TRANSFORM_CASES)
def test_each_family_transform_reads_the_rest_and_the_sdk_shape_alike(
    name: str, module: str, cls_name: str, transform: Any
) -> None:
    """Cartography's check, transform by transform: the REST body and the SDK model's
    ``as_dict()`` of the same resource give the same record, without an issue."""
    rest = _src(name)
    sdk = _sdk_dict(module, cls_name, rest)
    issues: list[InventoryIssue] = []
    records = [transform(FieldReader("test", nid(rest), issues), shape, nid(rest))
               for shape in (rest, sdk)]
    assert records[0] == records[1]
    assert records[0]
    assert issues == []


def test_sdk_shape_of_a_whole_scenario_links_the_same() -> None:
    names = [
        c
        for c in SDK_CASES
        if c[0]
        in {
            "containerapp-registries.json",
            "environment-internal.json",
            "aks-vnet-kubelet.json",
            "public-ip-aks-outbound.json",
            "webapp-container.json",
            "uai-myidentity.json",
            "VirtualNetworkGetWithSubnetDelegation.json",
        }
    ]
    rest = [_src(n) for n, _, _ in names]
    sdk = [_sdk_dict(m, c, r) for (_, m, c), r in zip(names, rest, strict=True)]
    assert entities(inv_of(*sdk)) == entities(inv_of(*rest))


# ---------------------------------------------------------------------------------------------
# container forms


def _reference() -> list[Json]:
    return [
        body("VirtualNetworkGetWithSubnetDelegation.json"),
        body("RegistryGet.json"),
        body("ContainerApps_Get.json"),
    ]


def _table(resources: list[Json]) -> Json:
    columns = ["id", "name", "type", "location", "identity", "sku", "properties"]
    return {
        "totalRecords": len(resources),
        "count": len(resources),
        "data": {
            "columns": [{"name": c, "type": "object"} for c in columns],
            "rows": [[r.get(c) for c in columns] for r in resources],
        },
    }


FORMS: dict[str, Callable[[list[Json]], object]] = {
    "list": lambda rs: rs,
    "arm-value": lambda rs: {"value": rs},
    "graph-data": lambda rs: {"totalRecords": len(rs), "count": len(rs), "data": rs},
    "graph-table": _table,
    "rest-example": lambda rs: {"parameters": {}, "responses": {"200": {"body": {"value": rs}}}},
    "nested": lambda rs: [[{"value": [rs[0]]}], {"data": [rs[1]]}, [[[rs[2]]]]],
}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_container_forms_give_the_same_inventory(form: str) -> None:
    resources = _reference()
    expected = entities(inv_of(*resources))
    inv = inventory_from_documents([("doc.json", FORMS[form](resources))])
    assert entities(inv) == expected
    assert inv.issues == []


def test_single_resource_and_rest_example_files(tmp_path: Path) -> None:
    for name in ("RegistryGet.json", "RegistryCreate.json"):  # 200 and 201 bodies, once
        inv = read_inventory([EXAMPLES / name])
        assert list(inv.registries) == [nid(body(name))]
        assert inv.resources_seen == 1
    single = tmp_path / "registry.json"
    single.write_text(json.dumps(body("RegistryGet.json")))
    assert entities(read_inventory([single])) == entities(inv_of(body("RegistryGet.json")))


def test_gz_and_directory(tmp_path: Path) -> None:
    resources = _reference()
    expected = entities(inv_of(*resources))
    (tmp_path / "b").mkdir()
    (tmp_path / "a.json.gz").write_bytes(gzip.compress(json.dumps(resources[:1]).encode()))
    (tmp_path / "b" / "c.JSON").write_text(json.dumps({"value": resources[1:2]}))
    (tmp_path / "b" / "d.json").write_text(json.dumps({"data": resources[2:]}))
    (tmp_path / "b" / "notes.txt").write_text("not inventory")
    (tmp_path / "README.md").write_text("# hi")
    inv = read_inventory([tmp_path])
    assert entities(inv) == expected
    assert inv.files == [
        str(tmp_path / "a.json.gz"),
        str(tmp_path / "b/c.JSON"),
        str(tmp_path / "b/d.json"),
    ]
    assert inv.skipped_files == [str(tmp_path / "README.md"), str(tmp_path / "b/notes.txt")]
    assert inv.issues == []


def test_location_labels() -> None:
    resources = _reference()
    labels = [loc for loc, _ in iter_resources({"value": resources}, "inv.json")]
    assert labels == ["inv.json#/value/0", "inv.json#/value/1", "inv.json#/value/2"]
    rest_doc = example("RoleAssignments_ListForResourceGroup.json")
    labels = [loc for loc, _ in iter_resources(rest_doc, "ra.json")]
    assert labels == [f"ra.json#/responses/200/body/value/{i}" for i in range(2)]
    table = [loc for loc, _ in iter_resources(_table(resources), "g.json")]
    assert table == [f"g.json#/data/rows/{i}" for i in range(3)]


def test_sparse_record_does_not_wipe_a_full_one() -> None:
    full = body("RegistryGet.json")
    sparse = {k: full[k] for k in ("id", "name", "type", "location", "sku", "tags")}
    for order in ((full, sparse), (sparse, full)):
        reg = inv_of(*order).registries[nid(full)]
        assert reg.public_network_access == props(full)["publicNetworkAccess"]
        assert reg.has_config is True
    alone = inv_of(sparse).registries[nid(full)]
    assert alone.has_config is False
    assert alone.restricted is None
    assert alone.sku == full["sku"]["name"]


def test_full_records_that_differ_are_a_conflict_whatever_their_order() -> None:
    """Two snapshots of one container group (public, then in a VNet): neither wins by coming
    last; the settings they give differently are unknown and the conflict is an issue."""
    get = body("ContainerGroupsGet_Succeeded.json")
    vnet = derived("aci-vnet-identity.json")
    one, other = inv_of(get, vnet), inv_of(vnet, get)
    assert one.consumers == other.consumers
    con = one.consumers[nid(get)]
    assert con.fact("in_vnet") is None
    assert con.credentials == ()
    conflict = one.conflicts[nid(get)]
    assert conflict.fields == ("registry credentials", "in_vnet")
    assert conflict.locations == ("test#0", "test#1")
    (issue,) = one.issues
    assert issue.resource_id == nid(get)
    assert issue.problem.startswith(
        "consumer demo1 is given 2 times with different registry credentials, in_vnet ("
        "registry credentials: ")
    assert "in_vnet: false at test#0; true at test#1" in issue.problem


# ---------------------------------------------------------------------------------------------
# bad input: issues, never exceptions


def test_not_json_file_gives_issue_with_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "value": [\n    {"id": 1,,}\n  ]\n}\n')
    good = tmp_path / "good.json"
    good.write_text(json.dumps(body("RegistryGet.json")))
    inv = read_inventory([bad, good])
    assert len(inv.registries) == 1
    assert inv.files == [str(good)]
    [issue] = inv.issues
    assert issue.location == str(bad)
    assert issue.problem.startswith("not JSON:")
    assert "line 3, column" in issue.problem


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "not JSON"),
        (b"\x00\x01\x02", "not JSON"),
        (b"\x1f\x8b\x08garbage", "not a readable gzip file"),
        ("[1, 2".encode("utf-16"), "not JSON"),
    ],
)
def test_unreadable_files(tmp_path: Path, content: bytes, problem: str) -> None:
    f = tmp_path / "x.json"
    f.write_bytes(content)
    inv = read_inventory([f])
    assert [i.problem.split(":")[0] for i in inv.issues] == [problem]


def test_bom_utf16_and_json_lines(tmp_path: Path) -> None:
    reg = body("RegistryGet.json")
    text = json.dumps({"value": [reg]})
    (tmp_path / "bom.json").write_bytes(b"\xef\xbb\xbf" + text.encode())
    (tmp_path / "ps.json").write_bytes(text.encode("utf-16"))
    lines = "\n".join(json.dumps(r) for r in _reference()) + "\n"
    (tmp_path / "lines.json").write_text(lines)
    inv = read_inventory([tmp_path])
    assert inv.issues == []
    assert inv.resources_seen == 5
    assert decode_json(b"\xef\xbb\xbf[]") == []


def test_missing_path_raises() -> None:
    with pytest.raises(InventoryError, match="does not exist") as err:
        read_inventory([EXAMPLES / "RegistryGet.json", Path("/nonexistent/inventory.json")])
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (
            [1, "x", None],
            [
                "not a resource: a JSON number",
                "not a resource: a JSON string",
                "not a resource: a JSON null",
            ],
        ),
        ({"value": 5}, ["'value' is a JSON number, not a list of resources"]),
        ({"data": "x"}, ["'data' is a JSON string, not resources or a table"]),
        ({"records": []}, ["no resources found (an object with keys: records)"]),
        (
            {"value": [], "nextLink": "https://management.azure.com/x?page=2"},
            ["ARM list has a nextLink: only this page is in the input, later pages are missing"],
        ),
        (
            {"data": {"columns": [{"name": "id"}], "rows": [["/a", "extra"]]}},
            ["table row is not a list of 1 cells: not read"],
        ),
        (
            {"parameters": {}, "responses": {"204": {}}},
            ["REST API example without a 200/201 response body: no resource in it"],
        ),
        (
            {"id": None, "type": "Microsoft.Network/virtualNetworks"},
            ["resource without an id (type microsoft.network/virtualnetworks): not read"],
        ),
        ({"id": "/x", "name": "x"}, ["resource without a type: not read"]),
    ],
)
def test_garbage_documents_give_issues(doc: object, expected: list[str]) -> None:
    inv = inventory_from_documents([("g.json", doc)])
    assert problems(inv) == expected


def test_deeply_nested_input() -> None:
    doc: object = [body("RegistryGet.json")]
    for _ in range(MAX_DEPTH + 10):
        doc = [doc]
    inv = inventory_from_documents([("deep.json", doc)])
    assert inv.registries == {}
    assert problems(inv) == [f"containers nested more than {MAX_DEPTH} levels deep: not read"]


def test_deeply_nested_file(tmp_path: Path) -> None:
    f = tmp_path / "deep.json"
    f.write_bytes(b"[" * 5000 + b"]" * 5000)
    inv = read_inventory([f])
    assert len(inv.issues) == 1
    assert inv.issues[0].problem.startswith("not JSON")


@pytest.mark.parametrize(
    ("path", "value", "problem"),
    [
        (("properties", "networkRuleSet"), "Deny", "expected an object at networkRuleSet"),
        (("properties", "networkRuleSet", "ipRules"), {"value": "x"}, "expected an array"),
        (("properties", "loginServer"), 42, "expected a string at loginServer, got number"),
        (("properties", "adminUserEnabled"), "yes", "expected true/false at adminUserEnabled"),
        (("properties", "privateEndpointConnections"), [None, 3], "expected an object at"),
        (("sku",), "Premium", "expected an object at sku"),
    ],
)
def test_wrong_types_are_skipped_with_an_issue(
    path: tuple[str, ...], value: object, problem: str
) -> None:
    src = derived("registry-restricted.json")
    target = src
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    inv = inv_of(src)
    assert nid(src) in inv.registries
    assert any(p.startswith(problem) for p in problems(inv)), problems(inv)


def _paths(node: object, prefix: tuple[object, ...] = ()) -> Iterator[tuple[object, ...]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield (*prefix, k)
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield (*prefix, i)
            yield from _paths(v, (*prefix, i))


_BAD_VALUES: list[object] = [None, 7, "x", [], {}, "[parameters('p')]", True, [None], {"id": 5}]


def test_any_value_replaced_by_any_type_never_crashes() -> None:
    sources = [
        *(
            body(n)
            for n in (
                "VirtualNetworkGetWithSubnetDelegation.json",
                "PrivateEndpointGet.json",
                "NetworkInterfaceGet.json",
                "PublicIpAddressGet.json",
                "NatGatewayGet.json",
                "PrivateEndpointDnsZoneGroupGet.json",
                "getDiagnosticSetting.json",
                "RoleAssignments_Get.json",
                "RecordSetAGet.json",
                "VirtualNetworkLinkGet.json",
                "ManagedEnvironments_Get.json",
            )
        ),
        *(derived(p.name) for p in sorted(DERIVED.glob("*.json"))),
    ]
    count = 0
    for src in sources:
        for n, path in enumerate(_paths(src)):
            mutated = copy.deepcopy(src)
            target: Any = mutated
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = _BAD_VALUES[n % len(_BAD_VALUES)]
            inv = inv_of(mutated)
            count += 1
            crashed = [p for p in problems(inv) if p.startswith("could not read")]
            assert not crashed, (path, crashed)
    assert count > 500


# ---------------------------------------------------------------------------------------------
# helpers


@pytest.mark.parametrize(
    ("rid", "expected"),
    [
        (
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/a",
            "microsoft.network/virtualnetworks/subnets",
        ),
        (
            "/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/x",
            "microsoft.authorization/roleassignments",
        ),
        (
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/r"
            "/providers/Microsoft.Insights/diagnosticSettings/d",
            "microsoft.insights/diagnosticsettings",
        ),
        ("/subscriptions/s/resourceGroups/rg", ""),
        ("", ""),
    ],
)
def test_type_from_id(rid: str, expected: str) -> None:
    assert type_from_id(rid) == expected


@pytest.mark.parametrize(
    ("image", "registry"),
    [
        ("nginx", ""),
        ("library/nginx:latest", ""),
        ("myRegistry.azurecr.io/repo/app:v1", "myregistry.azurecr.io"),
        ("DOCKER|myregistry.azurecr.io/app:v1", "myregistry.azurecr.io"),
        ("localhost:5000/app", "localhost:5000"),
        ("localhost/app", "localhost"),
    ],
)
def test_image_registry(image: str, registry: str) -> None:
    assert image_registry(image) == registry


@pytest.mark.parametrize(
    ("image", "parts"),
    [
        ("nginx", ("", "nginx", "", "")),
        ("contosoacr.azurecr.io/orders:1.4.2", ("contosoacr.azurecr.io", "orders", "1.4.2", "")),
        ("DOCKER|Contoso.azurecr.io/Team/App:V1", ("contoso.azurecr.io", "team/app", "V1", "")),
        ("localhost:5000/app", ("localhost:5000", "app", "", "")),
        ("acr.azurecr.io/a/b@sha256:ABC", ("acr.azurecr.io", "a/b", "", "sha256:abc")),
        ("acr.azurecr.io/a:1@sha256:abc", ("acr.azurecr.io", "a", "1", "sha256:abc")),
    ],
)
def test_split_image(image: str, parts: tuple[str, str, str, str]) -> None:
    assert split_image(image) == parts


def test_arm_expression_detection() -> None:
    assert is_arm_expression("[resourceId('a', 'b')]")
    assert is_arm_expression(" [concat(parameters('a'), 'b')] ")
    assert not is_arm_expression("[[literal]")
    assert not is_arm_expression("[system]")
    assert not is_arm_expression("/subscriptions/x")


def test_builder_input_types() -> None:
    inv = build_inventory([("a", 5), ("b", body("RegistryGet.json"))])
    assert inv.resources_seen == 2
    assert inv.issues == [InventoryIssue("a", "", "not a resource: a JSON number")]


def test_no_sdk_import_in_core() -> None:
    mod = importlib.import_module("pullpath.core.inventory")
    modules = sorted(Path(str(mod.__file__)).parent.glob("*.py"))
    assert len(modules) > 1  # the package, one module per resource family
    for path in modules:
        source = path.read_text(encoding="utf-8")
        assert "import azure" not in source, path.name
        assert "open(" not in source, path.name
