"""Ambiguous or broken inventories are reported, never resolved by order or alphabet.

Cases of issue 15: the same subnet prefix in two VNets, a resource given twice with conflicting
settings, catch-all and invalid prefixes, ``az resource list`` output without properties, logs
given as inventory (and inventory as logs), and a pull identity shared by several consumers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from pullpath.cli.app import app
from pullpath.core.inventory_parse import build_inventory
from tests.conftest import address_only_in
from tests.scenario import Scenario

runner = CliRunner()


def run_audit(*args: str, code: int = 0) -> dict[str, Any]:
    result = runner.invoke(app, ["audit", "--format", "json", *args])
    assert result.exit_code == code, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def audit_json(tmp_path: Path, sc: Scenario, *extra: str) -> dict[str, Any]:
    logs, inv = sc.write(tmp_path)
    return run_audit("--logs", str(logs), "--inventory", str(inv), *extra)


def only_flow(doc: dict[str, Any], **match: str) -> dict[str, Any]:
    flows = [f for f in doc["flows"] if all(f[k] == v for k, v in match.items())]
    assert len(flows) == 1, flows
    return flows[0]


def problems(doc: dict[str, Any]) -> list[str]:
    return [i["problem"] for i in doc["inventory"]["issues"]]


# ---------------------------------------------------------------------------------------------
# the same prefix in two VNets


def _two_vnets(sc: Scenario) -> tuple[dict[str, str], dict[str, str]]:
    a = sc.vnet("vnet-a", "10.0.0.0/16", {"snet-aca": ("10.0.2.0/24", ""), "pe": ("10.0.5.0/24", "")})
    b = sc.vnet("vnet-b", "10.0.0.0/16", {"snet-aca": ("10.0.2.0/24", "")})
    sc.registry("acr1", pe_subnet=a["pe"])
    return a, b


def test_same_prefix_in_two_vnets_gives_candidates_not_the_first(tmp_path: Path) -> None:
    sc = Scenario()
    a, b = _two_vnets(sc)
    app_a = sc.aca("app-a", server="acr1.azurecr.io", subnet=a["snet-aca"])
    app_b = sc.aca("app-b", server="acr1.azurecr.io", subnet=b["snet-aca"])
    sc.event("acr1", ip="10.0.2.4", count=2)
    flow = only_flow(audit_json(tmp_path, sc), caller_ip="10.0.2.4")
    assert flow["path"] == "private-endpoint"
    assert flow["confidence"] == "medium"
    source = flow["source"]
    assert source["kind"] == "subnet"
    assert source["subnet_id"] is None
    assert source["vnet_id"] is None
    assert source["prefix"] == "10.0.2.0/24"
    said = ("10.0.2.4 is in 10.0.2.0/24 of both vnet-a/snet-aca and vnet-b/snet-aca: the logs "
            "cannot tell which")
    assert source["note"] == said
    assert f"caller {said}" in flow["reasons"]
    assert any("which of the subnets" in m for m in flow["missing"])
    assert flow["consumer"]["kind"] == "unknown"
    assert flow["consumer"]["candidates"] == sorted([app_a.lower(), app_b.lower()])


def test_same_prefix_one_consumer_stays_a_candidate(tmp_path: Path) -> None:
    """vnet-b's subnet has no consumer in the inventory, but the caller may still be in it."""
    sc = Scenario()
    a, _ = _two_vnets(sc)
    app_a = sc.aca("app-a", server="acr1.azurecr.io", subnet=a["snet-aca"])
    sc.event("acr1", ip="10.0.2.4")
    flow = only_flow(audit_json(tmp_path, sc), caller_ip="10.0.2.4")
    assert flow["consumer"] == {"kind": "unknown", "id": None, "candidates": [app_a.lower()],
                                "by": "subnet"}


def test_same_prefix_identity_tells_which(tmp_path: Path) -> None:
    sc = Scenario()
    a, b = _two_vnets(sc)
    principal, client = "7a7a7a7a-1111-4111-8111-111111111111", "7b7b7b7b-2222-4222-8222-222222222222"
    uami = sc.identity("id-b", principal, client)
    sc.aca("app-a", server="acr1.azurecr.io", subnet=a["snet-aca"])
    app_b = sc.aca("app-b", server="acr1.azurecr.io", subnet=b["snet-aca"],
                   identity=(uami, principal, client))
    sc.event("acr1", ip="10.0.2.4", identity=principal)
    flow = only_flow(audit_json(tmp_path, sc), caller_ip="10.0.2.4")
    assert flow["consumer"]["id"] == app_b.lower()
    assert flow["consumer"]["by"] == "subnet+identity"


# ---------------------------------------------------------------------------------------------
# catch-all and invalid prefixes


def test_catch_all_and_invalid_subnet_prefixes_are_issues(tmp_path: Path) -> None:
    sc = Scenario()
    sn = sc.vnet("vnet-a", "10.1.0.0/16", {
        "pe": ("10.1.5.0/24", ""), "all": ("0.0.0.0/0", ""), "all6": ("::/0", ""),
        "bad": ("10.0.2.0/33", ""), "junk": ("garbage", ""),
    })
    sc.registry("acr1", pe_subnet=sn["pe"])
    ip = address_only_in("AzureCloud.japaneast")
    sc.event("acr1", ip=ip)
    doc = audit_json(tmp_path, sc)
    flow = only_flow(doc, caller_ip=ip)
    # before: the Microsoft caller was "in" subnet "all" and took the private endpoint
    assert flow["source"]["kind"] == "azure-platform"
    assert flow["path"] == "trusted-service"
    said = problems(doc)
    for name, prefix in (("all", "0.0.0.0/0"), ("all6", "::/0")):
        assert any(p.startswith(f"subnet {name}: addressPrefix {prefix} covers every address")
                   for p in said), said
    assert "subnet bad: addressPrefix '10.0.2.0/33' is not an IP prefix: not used" in said
    assert "subnet junk: addressPrefix 'garbage' is not an IP prefix: not used" in said
    assert all(i["location"] and i["resource_id"] for i in doc["inventory"]["issues"])


def test_invalid_prefix_of_a_standalone_subnet_keeps_its_good_prefixes() -> None:
    sub = {"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/"
                 "v/subnets/s1",
           "properties": {"addressPrefixes": ["10.2.0.0/24", "10.2.1.0/99", "fd00::/64"]}}
    inv = build_inventory([("sub.json", sub)])
    (subnet,) = inv.subnets.values()
    assert subnet.prefixes == ("10.2.0.0/24", "fd00::/64")
    assert [i.problem for i in inv.issues] == [
        "subnet s1: addressPrefix '10.2.1.0/99' is not an IP prefix: not used"]
