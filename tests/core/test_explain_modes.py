"""Registry modes and consumer setups beyond the base story: service-endpoint registries, AKS
outbound types and network isolated clusters, Container Apps environment types and jobs,
Functions, geo-replicated registries. Every inventory is the derived world of
tests/support/explain_world.py (official REST API examples) with the edits named here, read in the REST
and the SDK shape; tests/data/explain/PROVENANCE.md lists the extra examples used."""

from __future__ import annotations

import copy
import json
from pathlib import Path as FsPath
from typing import Any

import pytest

from pullpath.core.inventory import inventory_from_documents
from pullpath.domain.verdicts import Path
from tests.support import TESTS
from tests.support.explain_world import SHAPES, World
from tests.support.world_edits import (
    aks_outbound,
    drop_registry_record,
    open_registry,
    service_endpoint_registry,
    task_on_vnet_pool,
    tasks_bypass_unset,
)

DATA = TESTS / "data"
EXAMPLES = DATA / "explain" / "examples"
SUB = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/myResourceGroup"


def _example(name: str, folder: FsPath = EXAMPLES) -> dict[str, Any]:
    doc = json.loads((folder / name).read_text(encoding="utf-8"))
    body: dict[str, Any] = doc["responses"]["200"]["body"]
    return copy.deepcopy(body)


def subnet_id(w: World, name: str) -> str:
    return f"{w.id('vnet')}/subnets/{name}"


# ------------------------------------------------------------------ service endpoints


@pytest.mark.parametrize("shape", SHAPES)
def test_aks_in_a_service_endpoint_subnet_passes_by_the_network_rule(shape: str) -> None:
    w = World()
    service_endpoint_registry("snet-aks")(w)
    p = w.pair("aks", shape)
    assert (p.rule, p.expected_path) == ("KB-SE-001", Path.FIREWALL_RULE)
    assert any("snet-aks" in r for r in p.reasons)


@pytest.mark.parametrize("shape", SHAPES)
def test_service_endpoint_rules_die_with_public_access(shape: str) -> None:
    w = World()
    service_endpoint_registry("snet-aks", public="Disabled")(w)
    p = w.pair("aks", shape)
    assert (p.expected_path, p.denied_by) == (Path.DENIED, "network")
    assert "PP015" in w.finding_ids(shape)


@pytest.mark.parametrize("shape", SHAPES)
def test_aci_gets_no_bypass_from_a_service_endpoint_registry(shape: str) -> None:
    w = World()
    service_endpoint_registry("snet-aks")(w)
    p = w.pair("aci", shape)
    assert (p.rule, p.expected_path) == ("KB-ACI-007", Path.DENIED)
    assert "PP014" in w.finding_ids(shape)


@pytest.mark.parametrize("shape", SHAPES)
def test_service_endpoint_rule_for_a_consumer_that_cannot_use_it(shape: str) -> None:
    w = World()
    service_endpoint_registry("snet-aca", "snet-app")(w)
    report = w.explain(shape)
    pp016 = {f.resource_id for f in report.findings if f.id == "PP016"}
    assert pp016 == {w.id("containerapp").lower(), w.id("webapp").lower()}
    aca = next(p for p in report.pairs if p.consumer.id == w.id("containerapp").lower())
    assert aca.expected_path is Path.DENIED  # the rule does not admit Container Apps


def test_older_sdk_name_of_the_rule_subnet_is_read() -> None:
    """azure-mgmt-containerregistry models before the rules left the API call the subnet
    ``virtual_network_resource_id``."""
    reg = {"id": f"{SUB}/providers/Microsoft.ContainerRegistry/registries/r1", "name": "r1",
           "type": "Microsoft.ContainerRegistry/registries", "location": "westus",
           "login_server": "r1.azurecr.io", "public_network_access": "Enabled",
           "network_rule_set": {"default_action": "Deny", "virtual_network_rules": [
               {"action": "Allow", "virtual_network_resource_id": f"{SUB}/x/subnets/S1"}]}}
    inv = inventory_from_documents([("r.json", reg)])
    assert next(iter(inv.registries.values())).vnet_rule_subnet_ids == (f"{SUB}/x/subnets/s1"
                                                                         .lower(),)


# ------------------------------------------------------------------ AKS outbound and isolation


@pytest.mark.parametrize("shape", SHAPES)
def test_outbound_type_block_reaches_nothing_public(shape: str) -> None:
    w = World()
    aks_outbound("block")(w)
    drop_registry_record(w)
    open_registry(w)  # open or not: no public traffic leaves the cluster
    p = w.pair("aks", shape)
    assert (p.rule, p.expected_path, p.denied_by) == ("KB-AKS-003", Path.DENIED, "network")


@pytest.mark.parametrize("shape", SHAPES)
def test_outbound_type_block_still_uses_a_reachable_private_endpoint(shape: str) -> None:
    w = World()
    aks_outbound("block")(w)
    assert w.pair("aks", shape).expected_path is Path.PRIVATE_ENDPOINT


def rehome(body: dict[str, Any], subscription: str, group: str) -> dict[str, Any]:
    """``body`` with every ID of the example's subscription and resource group moved into the
    derived world's (``SUB``)."""
    text = json.dumps(body)
    for rg in (f"/subscriptions/{subscription}/resourceGroups/{group}",
               f"/subscriptions/{subscription}/resourcegroups/{group}"):
        text = text.replace(rg + "/", SUB + "/")
    out: dict[str, Any] = json.loads(text)
    return out


@pytest.mark.parametrize("shape", SHAPES)
def test_managed_nat_gateway_egress_is_matched_against_ip_rules(shape: str) -> None:
    """The cluster's networkProfile is ManagedClustersCreate_ManagedNATGateway's (2026-02-01)
    200 response: outbound type managedNATGateway, two effective outbound IPs (public IP
    resources of the node resource group, here with addresses of their own)."""
    w = World()
    example = _example("ManagedClustersCreate_ManagedNATGateway.json")
    profile = example["properties"]["networkProfile"]
    props = w.props("aks")["networkProfile"]
    props["outboundType"] = profile["outboundType"]
    props.pop("loadBalancerProfile", None)
    props["natGatewayProfile"] = profile["natGatewayProfile"]
    ips = []
    for i, ref in enumerate(profile["natGatewayProfile"]["effectiveOutboundIPs"]):
        pip = copy.deepcopy(w.res["aks-outbound-ip"])
        pip["id"] = ref["id"]
        pip["name"] = ref["id"].rsplit("/", 1)[-1]
        pip["properties"]["ipAddress"] = f"20.30.40.{60 + i}"
        w.res[pip["name"]] = pip
        ips.append(pip["properties"]["ipAddress"])
    w.drop("aks-outbound-ip")
    w.props("registry")["publicNetworkAccess"] = "Enabled"
    w.props("registry")["networkRuleSet"]["ipRules"] = [{"action": "Allow", "value": ip}
                                                        for ip in ips]
    w.props("registry")["privateEndpointConnections"] = []
    w.drop("private-endpoint")
    p = w.pair("aks", shape)
    assert (p.rule, p.expected_path) == ("KB-REG-002", Path.FIREWALL_RULE)
    assert any(all(ip in r for ip in ips) for r in p.reasons)
    # one of the two addresses outside the rules: no longer admitted
    w.props("registry")["networkRuleSet"]["ipRules"] = [{"action": "Allow", "value": ips[0]}]
    assert w.pair("aks", shape).expected_path is Path.DENIED


@pytest.mark.parametrize("shape", SHAPES)
def test_network_isolated_cluster_pairs_with_its_bootstrap_registry(shape: str) -> None:
    """bootstrapProfile.containerRegistryId names the private registry the cluster pulls its
    components from (network-isolated.md: bring your own ACR with a private endpoint)."""
    w = World()
    w.props("aks")["networkProfile"]["outboundType"] = "none"
    w.props("aks")["bootstrapProfile"] = {"artifactSource": "Cache",
                                          "containerRegistryId": w.id("registry")}
    p = w.pair("aks", shape)
    assert p.expected_path is Path.PRIVATE_ENDPOINT
    assert dict(p.facts)["consumer.network_isolated"] is True
    # without the kubelet's role the registry is paired by the bootstrap profile alone, and
    # the pull is refused on authorisation
    w.drop("role-acrpull-kubelet")
    report = w.explain(shape)
    aks = [p for p in report.pairs if p.consumer.id == w.id("aks").lower()]
    assert [p.registry.id if p.registry else "" for p in aks] == [w.id("registry").lower()]
    assert (aks[0].expected_path, aks[0].denied_by) == (Path.DENIED, "authorisation")


# ------------------------------------------------------------------ Container Apps


def nat_on_aca_subnet(w: World, ip: str) -> None:
    """The NatGatewayGet example, re-homed, on snet-aca with one public IP."""
    nat = _example("NatGatewayGet.json", DATA / "inventory" / "examples")
    nat["id"] = f"{SUB}/providers/Microsoft.Network/natGateways/test-natGateway"
    pip = f"{SUB}/providers/Microsoft.Network/publicIPAddresses/nat-ip"
    nat["properties"]["publicIpAddresses"] = [{"id": pip}]
    nat["properties"].pop("publicIpPrefixes")
    nat["properties"]["subnets"] = [{"id": subnet_id(w, "snet-aca")}]
    w.res["nat"] = nat
    ip_res = copy.deepcopy(w.res["aks-outbound-ip"])
    ip_res["id"] = pip
    ip_res["name"] = "nat-ip"
    ip_res["properties"]["ipAddress"] = ip
    w.res["nat-ip"] = ip_res
    # the IP rule admits the NAT gateway's address only
    w.props("registry")["publicNetworkAccess"] = "Enabled"
    w.props("registry")["networkRuleSet"]["ipRules"] = [{"action": "Allow", "value": ip}]
    w.props("registry")["privateEndpointConnections"] = []
    w.drop("private-endpoint")


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(("profiles", "path"), [
    ([{"name": "Consumption", "workloadProfileType": "Consumption"}], Path.FIREWALL_RULE),
    ([], Path.DENIED),
])
def test_nat_gateway_egress_only_in_a_workload_profiles_environment(
        profiles: list[dict[str, str]], path: Path, shape: str) -> None:
    """custom-virtual-networks.md: a NAT gateway carries the environment's egress in a
    workload profiles environment; a consumption-only one egresses from its own addresses."""
    w = World()
    nat_on_aca_subnet(w, "203.0.113.7")
    w.props("containerapp")["outboundIpAddresses"] = ["198.51.100.20"]
    w.props("environment")["workloadProfiles"] = profiles
    assert w.pair("containerapp", shape).expected_path is path


@pytest.mark.parametrize("shape", SHAPES)
def test_container_apps_job_is_a_consumer_like_an_app(shape: str) -> None:
    """Job_Get (Microsoft.App 2026-01-01), re-homed: its environment is the derived one, its
    images come from the registry and ``configuration.registries`` names the registry with the
    job's user-assigned identity (the example's ``myidentity``, the derived world's too)."""
    w = World()
    job = rehome(_example("Job_Get.json"), "34adfa4f-cedf-4dc0-ba29-b6d1a69ab345", "rg")
    props = job["properties"]
    props["environmentId"] = w.id("environment")
    for c in (*props["template"]["containers"], *props["template"]["initContainers"]):
        c["image"] = c["image"].replace("repo/", "myRegistry.azurecr.io/")
    props["configuration"]["registries"] = [{"server": "myRegistry.azurecr.io",
                                             "identity": w.id("identity")}]
    w.res["job"] = job
    w.res.pop("containerapp")
    report = w.explain(shape)
    p = next(p for p in report.pairs if p.consumer.id == job["id"].lower())
    assert (p.consumer.kind.value, p.rule, p.expected_path) == (
        "aca", "KB-ACA-001", Path.PRIVATE_ENDPOINT)
    assert p.credential == "user-assigned-identity"


# ------------------------------------------------------------------ Functions, geo-replication


@pytest.mark.parametrize("shape", SHAPES)
def test_function_app_container_routes_like_a_web_app(shape: str) -> None:
    w = World()
    w.res["webapp"]["kind"] = "functionapp,linux,container"
    assert w.pair("webapp", shape).rule == "KB-APP-001"
    w.props("webapp")["vnetImagePullEnabled"] = False
    assert w.pair("webapp", shape).rule == "KB-APP-003"
    assert "PP008" in w.finding_ids(shape)


@pytest.mark.parametrize("shape", SHAPES)
def test_replication_needs_its_data_record(shape: str) -> None:
    """ReplicationGet (2025-11-01): a replica in eastus; the zone holds westus records only."""
    w = World()
    w.res["replication"] = _example("ReplicationGet.json")
    report = w.explain(shape)
    pp007 = [f for f in report.findings if f.id == "PP007"]
    assert pp007
    assert all("myregistry.eastus.data" in f.detail for f in pp007)
    aca = next(p for p in report.pairs if p.consumer.id == w.id("containerapp").lower())
    assert aca.expected_path is Path.DENIED


@pytest.mark.parametrize("shape", SHAPES)
def test_abac_example_registry_is_read_in_abac_mode(shape: str) -> None:
    """RegistryCreateAbac (2025-11-01) as the registry: its roleAssignmentMode makes the
    identities' AcrPull worthless."""
    w = World()
    abac = _example("RegistryCreateAbac.json")
    w.props("registry")["roleAssignmentMode"] = abac["properties"]["roleAssignmentMode"]
    p = w.pair("containerapp", shape)
    assert dict(p.facts)["registry.role_mode"] == "abac"
    assert (p.rule, p.denied_by) == ("KB-ROLE-001", "authorisation")


# ------------------------------------------------------------------ ACR Tasks agent pools


@pytest.mark.parametrize("shape", SHAPES)
def test_task_on_a_vnet_agent_pool_needs_no_bypass(shape: str) -> None:
    w = World()
    task_on_vnet_pool(w)
    tasks_bypass_unset(w)
    p = w.pair("task", shape)
    assert (p.rule, p.expected_path) == ("KB-TASKS-005", Path.PRIVATE_ENDPOINT)
    assert "PP009" not in w.finding_ids(shape)


def test_task_on_an_agent_pool_not_in_the_inventory_is_not_guessed() -> None:
    w = World()
    task_on_vnet_pool(w)
    tasks_bypass_unset(w)
    w.drop("agent-pool")
    report = w.explain()
    task = next(p for p in report.pairs if p.consumer.id == w.id("task").lower())
    assert dict(task.facts)["consumer.in_vnet"] is None
    assert "PP009" not in {f.id for f in report.findings}
    assert any(n.startswith("PP009 not checked") for n in report.notes)


# ------------------------------------------------------------------ regional endpoints


def pull_from_regional_endpoint(w: World, region: str = "westus") -> None:
    """The container app pulls through the regional endpoint of the registry's home region
    (container-registry-geo-replication.md: ``docker pull myregistry.eastus.geo.azurecr.io/...``),
    with the registry credential for that host."""
    host = f"myregistry.{region}.geo.azurecr.io"
    props = w.props("containerapp")
    for c in (*props["template"]["containers"], *props["template"]["initContainers"]):
        c["image"] = c["image"].replace("myRegistry.azurecr.io", host)
    for r in props["configuration"]["registries"]:
        r["server"] = host


def add_geo_record(w: World, region: str = "westus") -> None:
    rec = copy.deepcopy(w.res["dns-a-registry"])
    rec["id"] = rec["id"].rsplit("/", 1)[0] + f"/myregistry.{region}.geo"
    rec["name"] = f"myregistry.{region}.geo"
    w.res[f"dns-a-geo-{region}"] = rec


@pytest.mark.parametrize("shape", SHAPES)
def test_pull_from_a_regional_endpoint_is_a_pull_from_the_registry(shape: str) -> None:
    """A regional endpoint host is the registry's, not a foreign registry; the privatelink
    zone needs its ``<registry>.<region>.geo`` record (container-registry-private-endpoints.md),
    so without it PP007 names it and the pull is refused by the restricted registry."""
    w = World()
    pull_from_regional_endpoint(w)
    report = w.explain(shape)
    aca = [p for p in report.pairs if p.consumer.id == w.id("containerapp").lower()]
    assert [p.login_server for p in aca] == ["myregistry.westus.geo.azurecr.io"]
    assert aca[0].registry is not None
    assert aca[0].registry.id == w.id("registry").lower()
    assert aca[0].expected_path is Path.DENIED
    pp007 = [f for f in report.findings if f.id == "PP007"
             and f.resource_id == w.id("containerapp").lower()]
    assert pp007
    assert "myregistry.westus.geo" in pp007[0].detail
    assert not any("not an Azure Container Registry" in n for n in report.notes)
    add_geo_record(w)
    assert w.pair("containerapp", shape).expected_path is Path.PRIVATE_ENDPOINT


@pytest.mark.parametrize("shape", SHAPES)
def test_regional_endpoints_on_the_private_endpoint_need_their_records(shape: str) -> None:
    """A private endpoint that resolves ``myregistry.westus.geo.azurecr.io`` shows regional
    endpoints are enabled: every consumer's zone needs the regional record too."""
    w = World()
    w.props("private-endpoint")["customDnsConfigs"].append(
        {"fqdn": "myregistry.westus.geo.azurecr.io", "ipAddresses": ["10.0.4.6"]})
    p = w.pair("containerapp", shape)
    assert p.expected_path is Path.DENIED
    assert any("myregistry.westus.geo" in r for r in p.reasons)
    add_geo_record(w)
    assert w.pair("containerapp", shape).expected_path is Path.PRIVATE_ENDPOINT


# ------------------------------------------------------------------ callers that are not consumers


def ml_workspace(w: World) -> None:
    """The Workspace get example (Microsoft.MachineLearningServices 2025-06-01), its
    containerRegistry pointed at the derived registry."""
    ws = _example("WorkspaceGet.json")
    ws["properties"]["containerRegistry"] = w.id("registry")
    w.res["workspace"] = ws


@pytest.mark.parametrize("shape", SHAPES)
def test_a_machine_learning_workspace_needs_the_registry_bypass(shape: str) -> None:
    """No consumer needs the trusted-services bypass (PP013) until a Machine Learning
    workspace, a trusted service that is not a consumer, uses the registry."""
    w = World().only("containerapp")
    assert "PP013" in w.finding_ids(shape)
    ml_workspace(w)
    report = w.explain(shape)
    assert "PP013" not in {f.id for f in report.findings}
    note = next(n for n in report.notes if "workspace testworkspace" in n)
    assert "allows trusted services" in note


def test_a_workspace_behind_a_registry_without_the_bypass_is_refused() -> None:
    w = World().only("containerapp")
    w.props("registry")["networkRuleBypassOptions"] = "None"
    ml_workspace(w)
    note = next(n for n in w.explain().notes if "workspace testworkspace" in n)
    assert "does not allow trusted services, so the workspace's pulls are refused" in note


# ------------------------------------------------------------------ AKS virtual nodes


@pytest.mark.parametrize("shape", SHAPES)
def test_virtual_nodes_cannot_pull_from_a_registry_with_a_private_endpoint(shape: str) -> None:
    """addonProfiles.aciConnectorLinux (the virtual nodes add-on, as in the cluster examples of
    the AKS REST API): pods on virtual nodes run in ACI, with no managed identity, so PP017;
    the nodes' own prediction is unchanged."""
    w = World()
    assert "PP017" not in w.finding_ids(shape)
    w.props("aks")["addonProfiles"] = {"aciConnectorLinux": {
        "enabled": True, "config": {"SubnetName": "snet-aci"}}}
    report = w.explain(shape)
    pp017 = [f for f in report.findings if f.id == "PP017"]
    assert [f.resource_id for f in pp017] == [w.id("aks").lower()]
    assert "virtual nodes" in pp017[0].detail
    aks = next(p for p in report.pairs if p.consumer.id == w.id("aks").lower())
    assert aks.expected_path is Path.PRIVATE_ENDPOINT
    assert dict(aks.facts)["consumer.virtual_nodes"] is True
