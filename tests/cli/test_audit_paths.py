"""End to end: the CLI on scenarios built for each path and each consumer kind."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pullpath.cli.app import app
from tests.support.scenario import Scenario
from tests.support.tags import address_only_in, tags_containing

runner = CliRunner()


def audit_json(tmp_path: Path, sc: Scenario, *extra: str, inventory: bool = True) -> dict[str, Any]:
    logs, inv = sc.write(tmp_path)
    args = ["audit", "--logs", str(logs), "--format", "json", *extra]
    if inventory:
        args += ["--inventory", str(inv)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    assert doc["schema"] == "pullpath.audit/v1"
    return doc


def only_flow(doc: dict[str, Any], **match: str) -> dict[str, Any]:
    flows = [f for f in doc["flows"] if all(f[k] == v for k, v in match.items())]
    assert len(flows) == 1, flows
    return flows[0]


@pytest.fixture
def network() -> tuple[Scenario, dict[str, str]]:
    sc = Scenario()
    subnets = sc.vnet(
        "vnet-a",
        "10.1.0.0/16",
        {
            "aci": ("10.1.1.0/24", "Microsoft.ContainerInstance/containerGroups"),
            "aca": ("10.1.2.0/23", "Microsoft.App/environments"),
            "aks": ("10.1.8.0/22", ""),
            "web": ("10.1.4.0/24", "Microsoft.Web/serverFarms"),
            "pe": ("10.1.5.0/24", ""),
        },
    )
    return sc, subnets


def test_aci_in_vnet_pulls_by_trusted_service(
    tmp_path: Path, network: tuple[Scenario, dict[str, str]]
) -> None:
    sc, sn = network
    sc.registry("acr1", pe_subnet=sn["pe"])
    uami = sc.identity(
        "id-aci", "11111111-aaaa-4aaa-8aaa-111111111111", "22222222-bbbb-4bbb-8bbb-222222222222"
    )
    aci = sc.aci(
        "aci1",
        server="acr1.azurecr.io",
        subnet=sn["aci"],
        private_ip="10.1.1.4",
        identity=(
            uami,
            "11111111-aaaa-4aaa-8aaa-111111111111",
            "22222222-bbbb-4bbb-8bbb-222222222222",
        ),
    )
    ip = address_only_in("AzureCloud.japaneast")
    sc.event("acr1", ip=f"{ip}:51544", identity="11111111-aaaa-4aaa-8aaa-111111111111", count=3)
    doc = audit_json(tmp_path, sc)
    flow = only_flow(doc, caller_ip=ip)
    assert flow["path"] == "trusted-service"
    assert flow["source"]["kind"] == "azure-platform"
    assert flow["source"]["service_tag"] == "AzureCloud.japaneast"
    assert "AzureCloud.japaneast" in tags_containing(ip)
    assert flow["consumer"]["kind"] == "aci"
    assert flow["consumer"]["id"] == aci.lower()
    assert flow["consumer"]["by"] == "identity"
    assert flow["count"] == 3
    assert doc["summary"]["by_path"]["trusted-service"] == 3


def test_aca_pulls_through_private_endpoint(
    tmp_path: Path, network: tuple[Scenario, dict[str, str]]
) -> None:
    sc, sn = network
    sc.registry("acr1", pe_subnet=sn["pe"])
    app_id = sc.aca("app1", server="acr1.azurecr.io", subnet=sn["aca"])
    sc.event("acr1", ip="10.1.3.17", count=2)
    doc = audit_json(tmp_path, sc)
    flow = only_flow(doc, caller_ip="10.1.3.17")
    assert flow["path"] == "private-endpoint"
    assert flow["confidence"] == "high"
    assert flow["source"]["kind"] == "subnet"
    assert flow["source"]["subnet_id"] == sn["aca"].lower()
    assert flow["consumer"] == {
        "kind": "aca",
        "id": app_id.lower(),
        "candidates": [],
        "by": "subnet",
    }


def test_private_endpoint_pending_is_not_proof(
    tmp_path: Path, network: tuple[Scenario, dict[str, str]]
) -> None:
    sc, sn = network
    sc.registry("acr1", pe_subnet=sn["pe"], pe_status="Pending")
    sc.aca("app1", server="acr1.azurecr.io", subnet=sn["aca"])
    sc.event("acr1", ip="10.1.2.9")
    flow = only_flow(audit_json(tmp_path, sc), caller_ip="10.1.2.9")
    assert flow["path"] == "unknown"
    assert flow["missing"]


def test_aks_behind_nat_gateway_through_ip_rule(
    tmp_path: Path, network: tuple[Scenario, dict[str, str]]
) -> None:
    sc, sn = network
    # the customer's NAT public IP is inside Microsoft's ranges: it must still be the customer's
    nat_ip = address_only_in("AzureCloud.japaneast", seed=99)
    sc.registry("acr1", public="Enabled", default_action="Deny", ip_rules=(f"{nat_ip}/32",))
    sc.nat_gateway("nat-aks", nat_ip, [sn["aks"]])
    kubelet = sc.identity(
        "aks1-agentpool",
        "33333333-cccc-4ccc-8ccc-333333333333",
        "44444444-dddd-4ddd-8ddd-444444444444",
    )
    aks = sc.aks(
        "aks1",
        subnet=sn["aks"],
        kubelet=(
            kubelet,
            "33333333-cccc-4ccc-8ccc-333333333333",
            "44444444-dddd-4ddd-8ddd-444444444444",
        ),
    )
    sc.event("acr1", ip=nat_ip, identity="33333333-cccc-4ccc-8ccc-333333333333", count=5)
    flow = only_flow(audit_json(tmp_path, sc), caller_ip=nat_ip)
    assert flow["source"]["kind"] == "customer-public-ip"
    assert flow["path"] == "firewall-rule"
    assert flow["consumer"]["kind"] == "aks"
    assert flow["consumer"]["id"] == aks.lower()


def test_open_registry_is_public(tmp_path: Path, network: tuple[Scenario, dict[str, str]]) -> None:
    sc, sn = network
    sc.registry("acr2", sku="Standard", public="Enabled", default_action="Allow")
    web = sc.webapp("web1", server="acr2.azurecr.io", subnet=sn["web"], vnet_image_pull=False)
    sc.event("acr2", ip="198.51.100.7", identity="someone@example.com")
    flow = only_flow(audit_json(tmp_path, sc), caller_ip="198.51.100.7")
    assert flow["path"] == "public"
    assert flow["source"]["kind"] == "internet"
    assert flow["consumer"]["kind"] == "unknown"
    assert web  # the web app exists but nothing ties this caller to it


def test_app_service_in_vnet_private(
    tmp_path: Path, network: tuple[Scenario, dict[str, str]]
) -> None:
    sc, sn = network
    sc.registry("acr1", pe_subnet=sn["pe"])
    web = sc.webapp("web1", server="acr1.azurecr.io", subnet=sn["web"], vnet_image_pull=True)
    sc.event("acr1", ip="10.1.4.30")
    flow = only_flow(audit_json(tmp_path, sc), caller_ip="10.1.4.30")
    assert flow["path"] == "private-endpoint"
    assert flow["consumer"]["kind"] == "appservice"
    assert flow["consumer"]["id"] == web.lower()


def test_acr_tasks_egress_from_service_tag(
    tmp_path: Path, network: tuple[Scenario, dict[str, str]]
) -> None:
    sc, _ = network
    sc.registry("acr1")
    ip = address_only_in("AzureContainerRegistry.JapanEast")
    sc.event("acr1", ip=ip, op="Push")
    flow = only_flow(audit_json(tmp_path, sc), caller_ip=ip)
    # the regional service tag wins over the global one and over AzureCloud.<region>
    assert flow["source"]["service_tag"] == "AzureContainerRegistry.JapanEast"
    assert {"AzureContainerRegistry", "AzureContainerRegistry.JapanEast"} <= tags_containing(ip)
    assert flow["path"] == "trusted-service"


def test_firewall_denial_from_message(
    tmp_path: Path, network: tuple[Scenario, dict[str, str]]
) -> None:
    sc, _ = network
    sc.registry("acr1")
    msg = "denied: client with IP '203.0.113.50' is not allowed access. Refer https://aka.ms/acr/firewall to grant access."
    sc.event(
        "acr1",
        ip="203.0.113.50",
        op="Login",
        status="403",
        description=msg,
        category="ContainerRegistryLoginEvents",
        count=2,
    )
    flow = only_flow(audit_json(tmp_path, sc), caller_ip="203.0.113.50")
    assert flow["path"] == "denied"
    assert flow["denial"] == "firewall"
    assert flow["result"] == "403"


def test_authorisation_denial(tmp_path: Path, network: tuple[Scenario, dict[str, str]]) -> None:
    sc, sn = network
    sc.registry("acr1", pe_subnet=sn["pe"])
    sc.aca("app1", server="acr1.azurecr.io", subnet=sn["aca"])
    sc.event("acr1", ip="10.1.2.50", status="403")
    sc.event("acr1", ip="10.1.2.51", status="401")
    doc = audit_json(tmp_path, sc)
    assert only_flow(doc, caller_ip="10.1.2.50")["denial"] == "authorisation"
    assert only_flow(doc, caller_ip="10.1.2.51")["denial"] == "authorisation"


def test_without_inventory_everything_needing_it_is_unknown(tmp_path: Path) -> None:
    sc = Scenario()
    ip = address_only_in("AzureCloud.japaneast")
    sc.event("acr9", ip=ip)
    sc.event("acr9", ip="10.0.0.5")
    doc = audit_json(tmp_path, sc, inventory=False)
    for flow in doc["flows"]:
        assert flow["path"] == "unknown"
        assert any("registry configuration" in m for m in flow["missing"])
    assert any("no inventory" in w for w in doc["warnings"])
    # the source is still known without inventory
    assert only_flow(doc, caller_ip=ip)["source"]["kind"] == "azure-platform"
    assert only_flow(doc, caller_ip="10.0.0.5")["source"]["kind"] == "private-unmapped"


def test_ambiguous_identity_gives_candidates(
    tmp_path: Path, network: tuple[Scenario, dict[str, str]]
) -> None:
    sc, sn = network
    sc.registry("acr1", pe_subnet=sn["pe"])
    principal, client = (
        "55555555-eeee-4eee-8eee-555555555555",
        "66666666-ffff-4fff-8fff-666666666666",
    )
    uami = sc.identity("id-shared", principal, client)
    a = sc.aci("aci-a", server="acr1.azurecr.io", identity=(uami, principal, client))
    b = sc.aci("aci-b", server="acr1.azurecr.io", identity=(uami, principal, client))
    sc.event("acr1", ip=address_only_in("AzureCloud.japaneast"), identity=principal)
    flow = doc_flow = audit_json(tmp_path, sc)["flows"][0]
    assert doc_flow["consumer"]["kind"] == "unknown"
    assert sorted(flow["consumer"]["candidates"]) == sorted([a.lower(), b.lower()])


def test_fail_on_exit_code(tmp_path: Path, network: tuple[Scenario, dict[str, str]]) -> None:
    sc, sn = network
    sc.registry("acr1", pe_subnet=sn["pe"])
    sc.event("acr1", ip=address_only_in("AzureCloud.japaneast"))
    logs, inv = sc.write(tmp_path)
    base = ["audit", "--logs", str(logs), "--inventory", str(inv), "--format", "json"]
    assert runner.invoke(app, [*base, "--fail-on", "public,denied"]).exit_code == 0
    hit = runner.invoke(app, [*base, "--fail-on", "trusted-service"])
    assert hit.exit_code == 1
    assert "trusted-service" in hit.stderr
    bad = runner.invoke(app, [*base, "--fail-on", "trusted-servce"])
    assert bad.exit_code == 2
    assert "unknown path" in bad.stderr


def test_csv_output_and_file(tmp_path: Path, network: tuple[Scenario, dict[str, str]]) -> None:
    sc, sn = network
    sc.registry("acr1", pe_subnet=sn["pe"])
    sc.event("acr1", ip="10.1.2.9", repo='=HYPERLINK("http://x")')
    logs, inv = sc.write(tmp_path)
    out = tmp_path / "flows.csv"
    result = runner.invoke(
        app,
        [
            "audit",
            "--logs",
            str(logs),
            "--inventory",
            str(inv),
            "--format",
            "csv",
            "--output",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    text = out.read_text()
    import csv as csvmod

    rows = list(csvmod.reader(text.splitlines()))
    assert rows[0][0] == "registry"
    assert rows[1][rows[0].index("repository")].startswith("'=")
    assert rows[-1][0] == "#summary"


def test_record_without_login_server_joins_its_registry(tmp_path: Path, network: tuple[Scenario, dict[str, str]]) -> None:
    sc, sn = network
    sc.registry("acr1", pe_subnet=sn["pe"])
    sc.event("acr1", ip="10.1.2.9")
    sc.event("acr1", ip="10.1.2.9")
    del sc.records[1]["properties"]["loginServer"]  # the same registry, named only by resourceId
    doc = audit_json(tmp_path, sc)
    assert [f["registry"] for f in doc["flows"]] == ["acr1.azurecr.io"]
    assert doc["flows"][0]["count"] == 2


def test_bypass_alone_is_not_a_configuration(tmp_path: Path) -> None:
    sc = Scenario()
    sc.registry("acr1")
    props = sc.resources[-1]["properties"]
    del props["publicNetworkAccess"], props["networkRuleSet"]
    sc.event("acr1", ip="203.0.113.5")
    flow = audit_json(tmp_path, sc)["flows"][0]
    assert flow["path"] == "unknown"
    assert any("registry configuration" in m for m in flow["missing"])


def test_assumed_defaults_lower_confidence(tmp_path: Path) -> None:
    sc = Scenario()
    sc.registry("acr1", sku="Basic", public="Enabled")
    del sc.resources[-1]["properties"]["networkRuleSet"]  # Basic registries have none
    sc.event("acr1", ip="203.0.113.5")
    flow = audit_json(tmp_path, sc)["flows"][0]
    assert flow["path"] == "public"
    assert flow["confidence"] == "medium"
    assert any("defaultAction" in m for m in flow["missing"])


@pytest.mark.parametrize("status", ["500", "503", "429"])
def test_server_errors_prove_no_path(tmp_path: Path, status: str) -> None:
    sc = Scenario()
    sc.registry("acr1")
    sc.event("acr1", ip=address_only_in("AzureCloud.japaneast"), status=status)
    flow = audit_json(tmp_path, sc)["flows"][0]
    assert flow["path"] == "unknown"
    assert flow["result"] == status


def test_not_found_still_passed_the_network_rules(tmp_path: Path) -> None:
    sc = Scenario()
    sc.registry("acr1")
    sc.event("acr1", ip=address_only_in("AzureCloud.japaneast"), status="404")
    assert audit_json(tmp_path, sc)["flows"][0]["path"] == "trusted-service"


@pytest.mark.parametrize("ip", ["127.0.0.1", "169.254.1.1", "fe80::1%eth0", "::1", "0.0.0.0",
                                "255.255.255.255", "224.0.0.1"])
def test_unroutable_callers_are_invalid(tmp_path: Path, ip: str) -> None:
    sc = Scenario()
    subnets = sc.vnet("v", "10.1.0.0/16", {"pe": ("10.1.5.0/24", "")})
    sc.registry("acr1", pe_subnet=subnets["pe"])
    sc.event("acr1", ip=ip)
    flow = audit_json(tmp_path, sc)["flows"][0]
    assert flow["source"]["kind"] == "invalid"
    assert flow["path"] == "unknown"
