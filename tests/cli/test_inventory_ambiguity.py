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
from pullpath.core.inventory import build_inventory
from tests.support.scenario import Scenario
from tests.support.tags import address_only_in

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


# ---------------------------------------------------------------------------------------------
# a resource given more than once


def _registry_scenario() -> tuple[Scenario, str]:
    sc = Scenario()
    sn = sc.vnet("vnet-a", "10.1.0.0/16", {"pe": ("10.1.5.0/24", "")})
    sc.registry("acr1", pe_subnet=sn["pe"])
    ip = address_only_in("AzureCloud.japaneast")
    sc.event("acr1", ip=ip, count=2)
    return sc, ip


def _find(resources: list[dict[str, Any]], type_suffix: str) -> dict[str, Any]:
    (found,) = [r for r in resources if r["type"].lower().endswith(type_suffix)]
    return found


def test_registry_given_twice_with_conflicting_settings_is_not_judged(tmp_path: Path) -> None:
    sc, ip = _registry_scenario()
    logs, inv = sc.write(tmp_path)
    other = json.loads(json.dumps(_find(sc.resources, "/registries")))
    other["id"] = other["id"].upper()  # ARM IDs are case-insensitive: the same registry
    other["properties"]["publicNetworkAccess"] = "Enabled"
    other["properties"]["networkRuleSet"]["defaultAction"] = "Allow"
    second = tmp_path / "registry-export.json"
    second.write_text(json.dumps(other))
    docs = []
    for order in ((inv, second), (second, inv)):
        args = ["--logs", str(logs), "--inventory", str(order[0]), "--inventory", str(order[1])]
        # before: the last file won: "public" in one order, "trusted-service" in the other
        run_audit(*args, "--fail-on", "public,trusted-service")
        run_audit(*args, "--fail-on", "unknown", code=1)
        docs.append(run_audit(*args))
    for doc in docs:
        flow = only_flow(doc, caller_ip=ip)
        assert flow["path"] == "unknown"
        assert flow["confidence"] == "none"
        said = [r for r in flow["reasons"] if "is given 2 times" in r]
        assert len(said) == 1
        assert said[0].startswith("registry acr1 is given 2 times with different "
                                  "publicNetworkAccess, networkRuleSet.defaultAction (")
        assert said[0].endswith("the audit does not judge a path that depends on it")
        assert f"Disabled at {inv}#/value/2" in said[0]
        assert f"Enabled at {second}" in said[0]
        assert any(m.startswith("one consistent record of registry acr1") for m in flow["missing"])
        (issue,) = doc["inventory"]["issues"]
        assert issue["resource_id"].endswith("/registries/acr1")
        assert str(inv) in issue["problem"]
        assert str(second) in issue["problem"]
        assert issue["problem"] in doc["warnings"]
    assert docs[0]["flows"][0]["path"] == docs[1]["flows"][0]["path"]


def test_denial_with_its_message_is_judged_despite_a_conflict(tmp_path: Path) -> None:
    sc, _ = _registry_scenario()
    sc.event("acr1", ip="203.0.113.9", status="403",
             description="denied: client with IP '203.0.113.9' is not allowed access. Refer "
                         "https://aka.ms/acr/firewall to grant access.")
    logs, inv = sc.write(tmp_path)
    other = json.loads(json.dumps(_find(sc.resources, "/registries")))
    other["properties"]["networkRuleBypassOptions"] = "None"
    second = tmp_path / "registry-export.json"
    second.write_text(json.dumps(other))
    doc = run_audit("--logs", str(logs), "--inventory", str(inv), "--inventory", str(second))
    assert only_flow(doc, caller_ip="203.0.113.9")["denial"] == "firewall"


def test_identical_duplicates_are_merged_silently_and_counted(tmp_path: Path) -> None:
    sc, ip = _registry_scenario()
    logs, inv = sc.write(tmp_path)
    copy = tmp_path / "copy.json"
    resources = json.loads(inv.read_text())["value"]
    for r in resources:
        r["id"] = r["id"].upper()
    copy.write_text(json.dumps({"value": resources}))
    once = run_audit("--logs", str(logs), "--inventory", str(inv))
    twice = run_audit("--logs", str(logs), "--inventory", str(inv), "--inventory", str(copy))
    assert twice["inventory"]["issues"] == []
    # every record twice: the VNet, its subnet, the private endpoint and the registry
    assert twice["inventory"]["duplicates_merged"] == len(resources) + 1
    assert once["inventory"]["duplicates_merged"] == 0
    assert twice["flows"] == once["flows"]
    assert only_flow(twice, caller_ip=ip)["path"] == "trusted-service"


def test_private_endpoint_connection_given_twice_differently(tmp_path: Path) -> None:
    sc, _ = _registry_scenario()
    sc.event("acr1", ip="10.1.5.20")
    registry = _find(sc.resources, "/registries")
    (pec,) = registry["properties"].pop("privateEndpointConnections")
    pec["type"] = "Microsoft.ContainerRegistry/registries/privateEndpointConnections"
    rejected = json.loads(json.dumps(pec))
    rejected["properties"]["privateLinkServiceConnectionState"]["status"] = "Rejected"
    sc.resources += [pec, rejected]
    doc = audit_json(tmp_path, sc)
    flow = only_flow(doc, caller_ip="10.1.5.20")
    assert flow["path"] == "unknown"
    assert any(r.startswith("private endpoint connection pe-acr1.1 is given 2 times with "
                            "different privateLinkServiceConnectionState.status (")
               for r in flow["reasons"])


def test_public_ip_given_twice_with_two_addresses(tmp_path: Path) -> None:
    """Whichever address is the NAT gateway's, a caller from either may be the customer's:
    its path is not judged (before: the other address looked like a Microsoft caller)."""
    sc = Scenario()
    sn = sc.vnet("vnet-a", "10.1.0.0/16", {"aks": ("10.1.8.0/22", ""), "pe": ("10.1.5.0/24", "")})
    sc.registry("acr1", pe_subnet=sn["pe"])
    first, second = address_only_in("AzureCloud.japaneast"), "20.48.0.9"
    _, pip = sc.nat_gateway("nat1", first, [sn["aks"]])
    moved = json.loads(json.dumps(_find(sc.resources, "/publicipaddresses")))
    moved["properties"]["ipAddress"] = second
    sc.resources.append(moved)
    for ip in (first, second):
        sc.event("acr1", ip=ip)
    doc = audit_json(tmp_path, sc)
    for ip in (first, second):
        flow = only_flow(doc, caller_ip=ip)
        assert flow["source"]["kind"] == "customer-public-ip"
        assert flow["source"]["resource_id"] == pip.lower()
        assert flow["path"] == "unknown"
        assert any("public IP pip-nat1 is given 2 times with different ipAddress" in r
                   for r in flow["reasons"])


# ---------------------------------------------------------------------------------------------
# az resource list: resources without properties


def _without_properties(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What ``az resource list`` gives for these resources: the envelope, ``properties`` null."""
    keep = ("id", "name", "type", "location", "kind", "identity", "sku", "tags")
    return [{**{k: r.get(k) for k in keep}, "properties": None, "provisioningState": "Succeeded",
             "resourceGroup": "rg-scenario", "managedBy": None} for r in resources]


def test_az_resource_list_output_is_named_with_the_export_commands(tmp_path: Path) -> None:
    sc, ip = _registry_scenario()
    logs, inv = sc.write(tmp_path)
    listed = tmp_path / "az-resource-list.json"
    listed.write_text(json.dumps(_without_properties(sc.resources)))
    doc = run_audit("--logs", str(logs), "--inventory", str(listed))
    n = len(sc.resources)
    (issue,) = doc["inventory"]["issues"]
    assert issue["problem"].startswith(
        f"{n} resources have no properties (az resource list does not export them)")
    assert "az graph query" in issue["problem"]
    assert "az resource show --ids /subscriptions/" in issue["problem"]
    assert doc["inventory"]["without_properties"] == n
    assert issue["problem"] in doc["warnings"]
    flow = only_flow(doc, caller_ip=ip)
    assert flow["path"] == "unknown"
    (missing,) = flow["missing"]
    # before: "(add the registry's ARM JSON to --inventory)", which the user had done
    assert "add the registry's ARM JSON" not in missing
    assert "without its properties (az resource list does not export them)" in missing
    assert "az resource show --ids /subscriptions/" in missing
    assert missing.rstrip("`").endswith("/registries/acr1")
    # the same resources exported whole as well: nothing is missing, nothing to say
    both = run_audit("--logs", str(logs), "--inventory", str(listed), "--inventory", str(inv))
    assert both["inventory"]["issues"] == []
    assert both["inventory"]["without_properties"] == 0
    assert only_flow(both, caller_ip=ip)["path"] == "trusted-service"


def test_explain_names_resources_without_properties(tmp_path: Path) -> None:
    sc, _ = _registry_scenario()
    listed = tmp_path / "az-resource-list.json"
    listed.write_text(json.dumps(_without_properties(sc.resources)))
    result = runner.invoke(app, ["explain", "--inventory", str(listed), "--format", "json"])
    assert result.exit_code == 0, result.output
    notes = json.loads(result.stdout)["notes"]
    assert any(n.startswith(f"{len(sc.resources)} resources have no properties") for n in notes)


# ---------------------------------------------------------------------------------------------
# logs given as inventory, inventory given as logs


def _logs_as(tmp_path: Path, form: str) -> Path:
    sc, _ = _registry_scenario()
    sc.event("acr1", ip="10.1.5.9", op="Login", category="ContainerRegistryLoginEvents")
    logs, _ = sc.write(tmp_path)
    pt1h = logs / "PT1H.json"
    if form == "json-lines":
        return pt1h
    records = [json.loads(line) for line in pt1h.read_text().splitlines()]
    out = tmp_path / f"logs-{form}"
    if form == "records":
        out.write_text(json.dumps({"records": records}, indent=2))
    elif form == "query-response":
        columns = ["TimeGenerated", "OperationName", "CallerIpAddress", "LoginServer", "Type"]
        rows = [[r["time"], r["operationName"], r["callerIpAddress"],
                 r["properties"]["loginServer"], r["category"]] for r in records]
        out.write_text(json.dumps({"tables": [{"name": "PrimaryResult", "rows": rows, "columns": [
            {"name": c, "type": "string"} for c in columns]}]}))
    else:
        out.write_text("TimeGenerated [UTC],OperationName,CallerIpAddress,LoginServer,Repository\n"
                       + "".join(f"{r['time']},{r['operationName']},{r['callerIpAddress']},"
                                 f"acr1.azurecr.io,app\n" for r in records))
    return out


def test_logs_given_as_inventory_get_a_did_you_mean_hint(tmp_path: Path) -> None:
    expected = {
        "json-lines": "registry log records (ContainerRegistryRepositoryEvents, "
                      "ContainerRegistryLoginEvents), not ARM resources",
        "records": "registry log records (ContainerRegistryRepositoryEvents, "
                   "ContainerRegistryLoginEvents), not ARM resources",
        "query-response": "a Log Analytics query response of registry events, not ARM resources",
        "csv": "a CSV export of registry logs, not ARM resources",
    }
    for form, said in expected.items():
        folder = tmp_path / form
        folder.mkdir()
        path = _logs_as(folder, form)
        result = runner.invoke(app, ["explain", "--inventory", str(path), "--format", "json"])
        assert result.exit_code == 0, result.output
        issues = json.loads(result.stdout)["inventory"]["issues"]
        # one issue for the file, not one "no resources found" per record
        assert issues == [{"location": str(path), "resource_id": "",
                           "problem": f"{said}: not read as inventory (did you mean --logs?)"}]


def test_inventory_given_as_logs_gets_a_did_you_mean_hint(tmp_path: Path) -> None:
    sc, _ = _registry_scenario()
    _, inv = sc.write(tmp_path)
    listed = tmp_path / "az-resource-list.json"
    listed.write_text(json.dumps(_without_properties(sc.resources), indent=2))
    graph = tmp_path / "graph.json"
    graph.write_text(json.dumps({"count": 3, "data": sc.resources, "skip_token": None}, indent=2))
    single = tmp_path / "registry.json"
    single.write_text(json.dumps(_find(sc.resources, "/registries"), indent=2))
    for path in (inv, listed, graph, single):
        doc = run_audit("--logs", str(path))
        assert doc["input"]["skipped"] == {"inventory-not-logs": 1}, path
        (example,) = doc["input"]["skipped_examples"]
        assert example["detail"] == ("ARM resource JSON (an inventory), not registry log "
                                     "records: did you mean --inventory?")


# ---------------------------------------------------------------------------------------------
# a pull identity shared by several consumers: narrowed by the images their specs name

PRINCIPAL, CLIENT = "3c3c3c3c-1111-4111-8111-111111111111", "3d3d3d3d-2222-4222-8222-222222222222"


def _shared() -> tuple[Scenario, dict[str, str], tuple[str, str, str]]:
    sc = Scenario()
    sn = sc.vnet("vnet-a", "10.1.0.0/16", {"aca": ("10.1.2.0/23", "Microsoft.App/environments"),
                                           "aks": ("10.1.8.0/22", ""), "pe": ("10.1.5.0/24", "")})
    sc.registry("acr1", pe_subnet=sn["pe"])
    uami = sc.identity("id-shared", PRINCIPAL, CLIENT)
    return sc, sn, (uami, PRINCIPAL, CLIENT)


def _image(sc: Scenario, cid: str, image: str) -> None:
    (res,) = [r for r in sc.resources if r["id"] == cid]
    props = res["properties"]
    if "containers" in props:
        props["containers"][0]["properties"]["image"] = image
    elif "template" in props:
        props["template"]["containers"][0]["image"] = image
    else:
        props["siteConfig"]["linuxFxVersion"] = f"DOCKER|{image}"


def _microsoft_pull(sc: Scenario, repo: str, tag: str) -> str:
    ip = address_only_in("AzureCloud.japaneast")
    sc.event("acr1", ip=ip, identity=PRINCIPAL, repo=repo, tag=tag, count=3)
    sc.event("acr1", ip=ip, identity=PRINCIPAL, op="Login", category="ContainerRegistryLoginEvents")
    return ip


def test_shared_identity_only_one_spec_names_the_image(tmp_path: Path) -> None:
    """The demo story with one identity for both apps: the ACI pull from a Microsoft address
    (before: "2 candidates") is the container group's, the only spec naming orders:1.4.2."""
    sc, sn, ident = _shared()
    aci = sc.aci("aci-orders", server="acr1.azurecr.io", identity=ident)
    aca = sc.aca("ca-web", server="acr1.azurecr.io", subnet=sn["aca"], identity=ident)
    _image(sc, aci, "acr1.azurecr.io/orders:1.4.2")
    _image(sc, aca, "acr1.azurecr.io/web:2.0.1")
    ip = _microsoft_pull(sc, "orders", "1.4.2")
    doc = audit_json(tmp_path, sc)
    flow = only_flow(doc, caller_ip=ip, operation="Pull")
    assert flow["path"] == "trusted-service"
    assert flow["consumer"] == {"kind": "aci", "id": aci.lower(), "candidates": [],
                                "by": "identity+image"}
    assert flow["confidence"] == "medium"
    assert flow["reasons"][-1] == ("identity id-shared is shared by ca-web and aci-orders; only "
                                   "aci-orders's spec names image orders:1.4.2")
    # a login names no image: both stay candidates
    login = only_flow(doc, caller_ip=ip, operation="Login")
    assert sorted(login["consumer"]["candidates"]) == sorted([aci.lower(), aca.lower()])


def test_shared_identity_several_specs_name_the_image(tmp_path: Path) -> None:
    sc, sn, ident = _shared()
    a = sc.aci("aci-a", server="acr1.azurecr.io", identity=ident)
    b = sc.aci("aci-b", server="acr1.azurecr.io", identity=ident)
    sc.aca("ca-web", server="acr1.azurecr.io", subnet=sn["aca"], identity=ident)
    for cid in (a, b):
        _image(sc, cid, "acr1.azurecr.io/orders:1.4.2")
    ip = _microsoft_pull(sc, "orders", "1.4.2")
    flow = only_flow(audit_json(tmp_path, sc), caller_ip=ip, operation="Pull")
    assert flow["consumer"]["id"] is None
    assert flow["consumer"]["candidates"] == sorted([a.lower(), b.lower()])  # ca-web dropped
    assert flow["confidence"] == "high"
    assert flow["reasons"][-1] == ("identity id-shared is shared by ca-web, aci-a and aci-b; "
                                   "aci-a and aci-b both name image orders:1.4.2 in their specs: "
                                   "still candidates")


def test_shared_identity_no_spec_names_the_image(tmp_path: Path) -> None:
    sc, sn, ident = _shared()
    a = sc.aci("aci-a", server="acr1.azurecr.io", identity=ident)
    b = sc.aca("ca-web", server="acr1.azurecr.io", subnet=sn["aca"], identity=ident)
    ip = _microsoft_pull(sc, "orders", "1.4.2")
    flow = only_flow(audit_json(tmp_path, sc), caller_ip=ip, operation="Pull")
    assert flow["consumer"]["candidates"] == sorted([a.lower(), b.lower()])
    assert flow["reasons"][-1].endswith("none of their specs names image orders:1.4.2: still "
                                        "candidates")


def test_shared_with_aks_which_names_no_image(tmp_path: Path) -> None:
    """An AKS cluster's spec lists no pod image: it can never be excluded."""
    sc, sn, ident = _shared()
    aci = sc.aci("aci-orders", server="acr1.azurecr.io", identity=ident)
    aks = sc.aks("aks1", subnet=sn["aks"], kubelet=ident)
    _image(sc, aci, "acr1.azurecr.io/orders:1.4.2")
    ip = _microsoft_pull(sc, "orders", "1.4.2")
    flow = only_flow(audit_json(tmp_path, sc), caller_ip=ip, operation="Pull")
    assert flow["consumer"]["candidates"] == sorted([aci.lower(), aks.lower()])
    assert flow["reasons"][-1] == (
        "identity id-shared is shared by aci-orders and aks1; only aci-orders's spec names image "
        "orders:1.4.2, but aks1 pulls images its spec does not list (AKS, ACR Tasks, or images "
        "not in the inventory): still candidates")


def test_app_service_image_and_tags_compared(tmp_path: Path) -> None:
    """App Service names its image in siteConfig.linuxFxVersion ("DOCKER|..."); another tag of
    the same repository is not the pulled image."""
    sc, _sn, ident = _shared()
    aci = sc.aci("aci-orders", server="acr1.azurecr.io", identity=ident)
    web = sc.webapp("web1", server="acr1.azurecr.io", subnet="", vnet_image_pull=False)
    (res,) = [r for r in sc.resources if r["id"] == web]
    res["identity"] = Scenario._uami(*ident)
    res["properties"]["siteConfig"]["acrUseManagedIdentityCreds"] = True
    res["properties"]["siteConfig"]["acrUserManagedIdentityID"] = CLIENT
    _image(sc, aci, "acr1.azurecr.io/orders:1.4.1")
    _image(sc, web, "ACR1.azurecr.io/orders:1.4.2")
    ip = _microsoft_pull(sc, "orders", "1.4.2")
    flow = only_flow(audit_json(tmp_path, sc), caller_ip=ip, operation="Pull")
    assert flow["consumer"]["id"] == web.lower()
    assert flow["reasons"][-1].endswith("only web1's spec names image orders:1.4.2")


def test_digest_pinned_spec_matches_by_repository(tmp_path: Path) -> None:
    sc, sn, ident = _shared()
    aci = sc.aci("aci-orders", server="acr1.azurecr.io", identity=ident)
    aca = sc.aca("ca-web", server="acr1.azurecr.io", subnet=sn["aca"], identity=ident)
    _image(sc, aci, "acr1.azurecr.io/team/orders@sha256:" + "ab" * 32)
    _image(sc, aca, "acr1.azurecr.io/team/web:2.0.1")
    ip = _microsoft_pull(sc, "team/orders", "")
    flow = only_flow(audit_json(tmp_path, sc), caller_ip=ip, operation="Pull")
    assert flow["consumer"]["id"] == aci.lower()
    assert flow["reasons"][-1].endswith(
        "only aci-orders's spec names repository team/orders (by digest or without the pulled "
        "tag; the log's digest is not compared)")
