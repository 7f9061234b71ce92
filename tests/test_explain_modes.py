"""Registry modes and consumer setups beyond the base story: service-endpoint registries, AKS
outbound types and network isolated clusters, Container Apps environment types and jobs,
Functions, geo-replicated registries. Every inventory is the derived world of
tests/explain_world.py (official REST API examples) with the edits named here, read in the REST
and the SDK shape; tests/data/explain/PROVENANCE.md lists the extra examples used."""

from __future__ import annotations

import copy
import json
from pathlib import Path as FsPath
from typing import Any

import pytest

from pullpath.core.inventory import inventory_from_documents
from pullpath.domain.verdicts import Path
from tests.explain_world import SHAPES, World
from tests.test_explain import (
    aks_outbound,
    drop_registry_record,
    open_registry,
    service_endpoint_registry,
    task_on_vnet_pool,
    tasks_bypass_unset,
)

DATA = FsPath(__file__).resolve().parent / "data"
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


@pytest.mark.parametrize("shape", SHAPES)
def test_managed_nat_gateway_egress_is_matched_against_ip_rules(shape: str) -> None:
    """natGatewayProfile as in ManagedClustersCreate_ManagedNATGateway (2026-02-01)."""
    w = World()
    props = w.props("aks")["networkProfile"]
    pip_id = w.id("aks-outbound-ip")
    props["outboundType"] = "managedNATGateway"
    props.pop("loadBalancerProfile", None)
    props["natGatewayProfile"] = {"effectiveOutboundIPs": [{"id": pip_id}],
                                  "managedOutboundIPProfile": {"count": 1},
                                  "idleTimeoutInMinutes": 4}
    ip = w.props("aks-outbound-ip")["ipAddress"]
    w.props("registry")["publicNetworkAccess"] = "Enabled"
    w.props("registry")["networkRuleSet"]["ipRules"] = [{"action": "Allow", "value": ip}]
    w.props("registry")["privateEndpointConnections"] = []
    w.drop("private-endpoint")
    p = w.pair("aks", shape)
    assert (p.rule, p.expected_path) == ("KB-REG-002", Path.FIREWALL_RULE)
    assert any("managednatgateway" in r.lower() or ip in r for r in p.reasons)


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
    """A Microsoft.App/jobs resource (the app's template and registries, environmentId)."""
    w = World()
    job = copy.deepcopy(w.res["containerapp"])
    job["type"] = "Microsoft.App/jobs"
    job["id"] = f"{SUB}/providers/Microsoft.App/jobs/nightly"
    job["name"] = "nightly"
    props = job["properties"]
    props["environmentId"] = props.pop("managedEnvironmentId")
    props["configuration"] = {"triggerType": "Manual", "replicaTimeout": 10,
                              "registries": props["configuration"]["registries"]}
    w.res["job"] = job
    w.res.pop("containerapp")
    report = w.explain(shape)
    p = next(p for p in report.pairs if p.consumer.id == job["id"].lower())
    assert (p.consumer.kind.value, p.rule, p.expected_path) == (
        "aca", "KB-ACA-001", Path.PRIVATE_ENDPOINT)


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
