"""read_terraform_plan: Terraform plan JSON -> the ARM resources the inventory reads, with
unknowns kept unknown, references followed to the resources they name, and the lab's field-report
prediction reproduced from the same setup written as Terraform (tests/data/iac/terraform)."""

from __future__ import annotations

import contextlib
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pullpath.core.iac.platform import runtime_properties
from pullpath.core.iac.terraform import (
    TerraformPlanError,
    check_plan_shape,
    parse_address,
    read_terraform_plan,
)
from pullpath.core.inventory import inventory_from_documents
from pullpath.domain.iac import (
    PLACEHOLDER_SUBSCRIPTION,
    IacDocument,
    IacKind,
    SourceLocation,
    is_unknown_value,
)
from pullpath.domain.inventory import ConsumerKind, Inventory, norm_id
from pullpath.domain.report import ExplainReport
from pullpath.domain.resource_id import subscription_of, type_of
from pullpath.domain.verdicts import Path as NetPath
from pullpath.knowledge.loader import default_knowledge
from pullpath.lab.predict import predict_for_scenario
from pullpath.lab.render import lab_names, render
from pullpath.lab.scenarios import load_scenario
from pullpath.workflows.explain import explain_inventory

DATA = Path(__file__).resolve().parents[2] / "data" / "iac" / "terraform"
ROLES = {r.name: r.id for r in default_knowledge().pull_roles}


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name / "plan.json").read_text(encoding="utf-8"))
    return data


def read(plan: dict[str, Any], **kw: Any) -> IacDocument:
    return read_terraform_plan(plan, path="plan.json", role_ids=ROLES, **kw)


def inventory(doc: IacDocument) -> Inventory:
    return inventory_from_documents([(doc.path, list(doc.resources))])


def explain(doc: IacDocument) -> ExplainReport:
    return explain_inventory(inventory(doc))


def by_type(doc: IacDocument, arm_type: str) -> list[dict[str, Any]]:
    return [dict(r) for r in doc.resources if r["type"].lower() == arm_type.lower()]


def one(doc: IacDocument, arm_type: str) -> dict[str, Any]:
    found = by_type(doc, arm_type)
    assert len(found) == 1, found
    return found[0]


def pair_paths(report: ExplainReport) -> dict[ConsumerKind, NetPath]:
    return {p.consumer.kind: p.expected_path for p in report.pairs}


def lab_paths(ident: str) -> dict[ConsumerKind, NetPath]:
    s = load_scenario(ident)
    lab = render(s, lab_names(s, "tfplan01"), "westeurope")
    kinds = {c.key: ConsumerKind.ACI if c.kind == "aci" else ConsumerKind.ACA
             for c in s.consumers}
    return {kinds[p.consumer_key]: p.path for p in predict_for_scenario(lab)}


# ------------------------------------------------------------------ the field report


@pytest.mark.parametrize(("folder", "scenario"), [
    ("field-report", "field-report"),
    ("field-report-trusted-off", "field-report:trusted-off"),
])
def test_the_plan_predicts_what_the_lab_predicts_for_the_same_setup(folder: str,
                                                                    scenario: str) -> None:
    report = explain(read(load(folder)))
    expected = lab_paths(scenario)
    assert set(expected) == {ConsumerKind.ACI, ConsumerKind.ACA}
    assert pair_paths(report) == expected


def test_the_variant_differs_as_its_mistake_implies() -> None:
    base = pair_paths(explain(read(load("field-report"))))
    variant_report = explain(read(load("field-report-trusted-off")))
    variant = pair_paths(variant_report)
    assert base[ConsumerKind.ACI] is NetPath.TRUSTED_SERVICE
    assert variant[ConsumerKind.ACI] is NetPath.DENIED  # ACI needs the bypass
    assert base[ConsumerKind.ACA] is variant[ConsumerKind.ACA] is NetPath.PRIVATE_ENDPOINT
    assert any(f.id == "PP001" for f in variant_report.findings)
    assert not any(f.id == "PP001" for f in explain(read(load("field-report"))).findings)


def test_every_unknown_stays_unknown_and_is_named() -> None:
    plan = load("field-report")
    doc = read(plan)
    # an identity's IDs are assigned at apply: stand-ins derived from its name (as the ARM
    # reader's), named in unknowns, and the role assignment that names
    # each.value.principal_id (for_each over the identities) takes its identity's
    principals = {}
    for uai in by_type(doc, "Microsoft.ManagedIdentity/userAssignedIdentities"):
        props = uai["properties"]
        assert props == {k: v for k, v in runtime_properties(
            "Microsoft.ManagedIdentity/userAssignedIdentities", uai["name"]).items()
            if k in ("principalId", "clientId", "tenantId")}
        principals[uai["name"]] = props["principalId"]
    assert any("principal_id and client_id are known after apply: stand-ins" in u
               for u in doc.unknowns)
    assigned = {ra["properties"]["principalId"]
                for ra in by_type(doc, "Microsoft.Authorization/roleAssignments")}
    assert assigned == set(principals.values())
    aci = one(doc, "Microsoft.ContainerInstance/containerGroups")
    # "${login_server}/lab/...": the configuration gives the reference, not the template
    assert is_unknown_value(aci["properties"]["containers"][0]["properties"]["image"])
    # every unknown value in the output is named in unknowns
    marks: list[str] = []

    def walk(v: object) -> None:
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif is_unknown_value(v):
            marks.append(str(v))

    walk(list(doc.resources))
    assert marks
    for mark in marks:
        attr = mark.split("known after apply: ", 1)[1].rsplit("')]", 1)[0]
        assert any(line.startswith(attr.replace("''", "'")) for line in doc.unknowns), attr


def test_stand_ins_are_said_in_unknowns() -> None:
    doc = read(load("field-report"))
    registry = one(doc, "Microsoft.ContainerRegistry/registries")
    server = registry["properties"]["loginServer"]
    assert any(server in u and "stands in" in u for u in doc.unknowns)
    records = by_type(doc, "Microsoft.Network/privateDnsZones/A")
    assert {r["name"] for r in records} == {registry["name"],
                                            f"{registry['name']}.{registry['location']}.data"}
    for rec in records:
        ip = rec["properties"]["aRecords"][0]["ipv4Address"]
        assert any(ip in u and "stand in" in u for u in doc.unknowns)


def test_references_are_followed_to_the_resources_they_name() -> None:
    doc = read(load("field-report"))
    ids = {norm_id(r["id"]): r for r in doc.resources}
    aci = one(doc, "Microsoft.ContainerInstance/containerGroups")
    env = one(doc, "Microsoft.App/managedEnvironments")
    pe = one(doc, "Microsoft.Network/privateEndpoints")
    app = one(doc, "Microsoft.App/containerApps")
    registry = one(doc, "Microsoft.ContainerRegistry/registries")
    subnets = {norm_id(r["id"]): r["name"] for r in
               by_type(doc, "Microsoft.Network/virtualNetworks/subnets")}
    # through module.network's outputs to azurerm_subnet.this["..."] (for_each)
    assert subnets[norm_id(aci["properties"]["subnetIds"][0]["id"])] == "aci"
    assert subnets[norm_id(env["properties"]["vnetConfiguration"]["infrastructureSubnetId"])] \
        == "aca"
    assert subnets[norm_id(pe["properties"]["subnet"]["id"])] == "pe"
    # identities by for_each key, and the registry by its ID
    for consumer, creds in ((aci, aci["properties"]["imageRegistryCredentials"]),
                            (app, app["properties"]["configuration"]["registries"])):
        (uid,) = consumer["identity"]["userAssignedIdentities"]
        assert norm_id(uid) in ids
        assert creds[0]["identity"] == uid
        assert creds[0]["server"] == registry["properties"]["loginServer"]
    link = pe["properties"]["privateLinkServiceConnections"][0]["properties"]
    assert norm_id(link["privateLinkServiceId"]) == norm_id(registry["id"])
    diag = one(doc, "Microsoft.Insights/diagnosticSettings")
    assert norm_id(diag["id"]).startswith(norm_id(registry["id"]) + "/providers/")
    assert doc.refers_to == ()  # everything the plan names, it describes
    inv = inventory(doc)
    assert [i.problem for i in inv.issues if "unknown" not in i.problem] == []


def test_terraform_addresses_are_kept_for_modules_count_and_for_each() -> None:
    doc = read(load("field-report"))
    addresses = {loc.address for loc in doc.locations.values()}
    assert {'module.network.azurerm_subnet.this["aci"]',
            "module.network.azurerm_virtual_network.this",
            "azurerm_private_dns_zone_virtual_network_link.acr[0]",
            'azurerm_user_assigned_identity.pull["app"]',
            "azurerm_container_group.orders_worker"} <= addresses
    # without a locator, every location is the plan file, no line
    assert all(loc.file == "plan.json" and loc.line == 0 for loc in doc.locations.values())
    assert doc.kind is IacKind.TERRAFORM_PLAN


def test_locations_come_from_locate() -> None:
    asked: list[str] = []

    def locate(address: str) -> SourceLocation | None:
        asked.append(address)
        return SourceLocation("main.tf", 7, 1, address=address) if "container_group" in \
            address else None

    doc = read(load("field-report"), locate=locate)
    aci = one(doc, "Microsoft.ContainerInstance/containerGroups")
    assert doc.locations[norm_id(aci["id"])].line == 7
    assert "azurerm_container_group.orders_worker" in asked
    assert all(loc.file == "plan.json" for key, loc in doc.locations.items()
               if "containergroups" not in key)


def test_a_locator_that_fails_costs_only_the_lines() -> None:
    def locate(address: str) -> SourceLocation | None:
        raise OSError("disk gone")

    doc = read(load("field-report"), locate=locate)
    assert doc.resources
    assert all(loc.line == 0 for loc in doc.locations.values())
    assert any("line could not be found" in i for i in doc.issues)


def test_address_parsing() -> None:
    a = parse_address('module.net["x"].module.inner.azurerm_subnet.s["aci"]')
    assert a is not None
    assert (a.module, a.calls, a.mode, a.type, a.name, a.key) == (
        'module.net["x"].module.inner', ("net", "inner"), "managed", "azurerm_subnet", "s",
        '["aci"]')
    d = parse_address("data.azurerm_client_config.current")
    assert d is not None
    assert d.mode == "data"
    assert d.local == "data.azurerm_client_config.current"
    assert parse_address("azurerm_subnet.s[0]") is not None
    for bad in ("", "azurerm_subnet", "module.x", "a.b.c", 'x.y["unterminated]'):
        assert parse_address(bad) is None


# ------------------------------------------------------------------ plan edits


def _planned_module(plan: dict[str, Any], module: str) -> dict[str, Any]:
    root = plan["planned_values"]["root_module"]
    if not module:
        return root  # type: ignore[no-any-return]
    return next(m for m in root["child_modules"] if m["address"] == module)  # type: ignore


def test_resources_only_in_prior_state_are_read_as_existing() -> None:
    plan = load("field-report")
    net = _planned_module(plan, "module.network")
    net["resources"] = [r for r in net["resources"] if r["type"] != "azurerm_virtual_network"]
    plan["resource_changes"] = [rc for rc in plan["resource_changes"]
                                if rc["type"] != "azurerm_virtual_network"]
    doc = read(plan)
    vnet = one(doc, "Microsoft.Network/virtualNetworks")
    prior = plan["prior_state"]["values"]["root_module"]["child_modules"][0]["resources"]
    assert vnet["id"] == next(r for r in prior if r["type"] == "azurerm_virtual_network"
                              )["values"]["id"]
    assert pair_paths(explain(doc)) == lab_paths("field-report")


def test_deleted_resources_are_left_out() -> None:
    plan = load("field-report")
    root = _planned_module(plan, "")
    app = next(r for r in root["resources"] if r["type"] == "azurerm_container_app")
    root["resources"].remove(app)
    existing = copy.deepcopy(app)
    existing["values"]["id"] = "/subscriptions/x/resourceGroups/rg/providers/Microsoft.App/" \
                               "containerApps/ca-orders-api"
    plan["prior_state"]["values"]["root_module"]["resources"].append(existing)
    rc = next(rc for rc in plan["resource_changes"] if rc["type"] == "azurerm_container_app")
    rc["change"] = {"actions": ["delete"], "before": existing["values"], "after": None,
                    "after_unknown": {}}
    doc = read(plan)
    assert by_type(doc, "Microsoft.App/containerApps") == []
    assert set(pair_paths(explain(doc))) == {ConsumerKind.ACI}


def test_the_subscription_comes_from_the_argument_the_plan_or_a_placeholder() -> None:
    plan = load("field-report")
    config = next(r for r in plan["prior_state"]["values"]["root_module"]["resources"]
                  if r["type"] == "azurerm_client_config")
    from_plan = read(plan)
    registry = one(from_plan, "Microsoft.ContainerRegistry/registries")
    assert subscription_of(registry["id"]) == config["values"]["subscription_id"]
    given = read(plan, subscription="11111111-2222-3333-4444-555555555555")
    new_ids = [r["id"] for r in given.resources if "Microsoft.Network/virtualNetworks/" not in
               r["id"] or "/subnets/" in r["id"]]
    assert all(subscription_of(i) == "11111111-2222-3333-4444-555555555555" for i in new_ids
               if "virtualNetworks/vnet-field-report" not in i or "/subnets/" in i)
    plan["prior_state"]["values"]["root_module"]["resources"].remove(config)
    placeholder = read(plan)
    assert subscription_of(one(placeholder, "Microsoft.ContainerRegistry/registries")["id"]) \
        == PLACEHOLDER_SUBSCRIPTION
    assert any("placeholder" in u and "subscription" in u for u in placeholder.unknowns)


def _minimal(resources: list[dict[str, Any]], configs: list[dict[str, Any]],
             prior: list[dict[str, Any]] | None = None,
             changes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "format_version": "1.2",
        "planned_values": {"root_module": {"resources": resources}},
        "resource_changes": changes or [],
        "prior_state": {"format_version": "1.0",
                        "values": {"root_module": {"resources": prior or []}}},
        "configuration": {"root_module": {"resources": configs}},
    }


def _res(address: str, values: dict[str, Any], mode: str = "managed") -> dict[str, Any]:
    a = parse_address(address)
    assert a is not None
    return {"address": address, "mode": mode, "type": a.type, "name": a.name, "values": values}


def _change(address: str, unknown: dict[str, Any], action: str = "create") -> dict[str, Any]:
    a = parse_address(address)
    assert a is not None
    return {"address": address, "mode": a.mode, "type": a.type, "name": a.name,
            "change": {"actions": [action], "after_unknown": unknown}}


def _cfg(local: str, expressions: dict[str, Any]) -> dict[str, Any]:
    return {"address": local, "expressions": expressions}


SUBNET_ID = ("/subscriptions/5e0d3c1a-0000-4000-8000-00000000000a/resourceGroups/net/providers/"
             "Microsoft.Network/virtualNetworks/hub/subnets/aci")


def test_data_sources_are_existing_resources_and_named_in_refers_to() -> None:
    subnet = _res("data.azurerm_subnet.aci", {
        "id": SUBNET_ID, "name": "aci", "resource_group_name": "net",
        "virtual_network_name": "hub", "address_prefixes": ["10.9.1.0/24"]}, mode="data")
    group = _res("azurerm_container_group.cg", {
        "name": "cg", "resource_group_name": "apps", "location": "westeurope",
        "os_type": "Linux", "ip_address_type": "Private", "container": [],
        "image_registry_credential": []})
    plan = _minimal([group], [_cfg("azurerm_container_group.cg", {
        "subnet_ids": {"references": ["data.azurerm_subnet.aci.id", "data.azurerm_subnet.aci"]}})],
        prior=[subnet], changes=[_change("azurerm_container_group.cg", {"subnet_ids": True,
                                                                          "id": True})])
    doc = read(plan)
    assert norm_id(SUBNET_ID) in doc.refers_to
    inv = inventory(doc)
    consumer = next(iter(inv.consumers.values()))
    assert consumer.subnet_ids == (norm_id(SUBNET_ID),)
    assert norm_id(SUBNET_ID) in inv.subnets  # the data source's subnet, with its prefix
    assert inv.subnets[norm_id(SUBNET_ID)].prefixes


def test_a_reference_that_cannot_be_followed_stays_unknown() -> None:
    group = _res("azurerm_container_group.cg", {
        "name": "cg", "resource_group_name": "apps", "location": "westeurope",
        "os_type": "Linux", "ip_address_type": "Private", "container": [],
        "image_registry_credential": []})
    plan = _minimal([group], [_cfg("azurerm_container_group.cg", {
        "subnet_ids": {"references": ["local.subnet_id"]}})],
        changes=[_change("azurerm_container_group.cg", {"subnet_ids": True, "id": True})])
    doc = read(plan)
    cg = one(doc, "Microsoft.ContainerInstance/containerGroups")
    assert is_unknown_value(cg["properties"]["subnetIds"][0]["id"])
    consumer = next(iter(inventory(doc).consumers.values()))
    assert consumer.fact("in_vnet") is None  # unknown, not "outside any VNet"


def test_an_id_of_the_wrong_type_is_not_taken() -> None:
    """``subnet_id = "${azurerm_virtual_network.v.id}/subnets/x"`` gives the reference to the VNet
    only: it must not be read as the subnet."""
    vnet = _res("azurerm_virtual_network.v", {"name": "v", "resource_group_name": "rg",
                                              "location": "westeurope",
                                              "address_space": ["10.0.0.0/16"]})
    env = _res("azurerm_container_app_environment.e", {"name": "e", "resource_group_name": "rg",
                                                       "location": "westeurope"})
    plan = _minimal([vnet, env], [_cfg("azurerm_container_app_environment.e", {
        "infrastructure_subnet_id": {"references": ["azurerm_virtual_network.v.id",
                                                    "azurerm_virtual_network.v"]}})],
        changes=[_change("azurerm_virtual_network.v", {"id": True}),
                 _change("azurerm_container_app_environment.e",
                         {"id": True, "infrastructure_subnet_id": True})])
    env_res = one(read(plan), "Microsoft.App/managedEnvironments")
    assert is_unknown_value(env_res["properties"]["vnetConfiguration"]["infrastructureSubnetId"])


def test_module_variables_are_followed_to_the_caller() -> None:
    subnet = _res("azurerm_subnet.s", {"name": "apps", "resource_group_name": "rg",
                                       "virtual_network_name": "v",
                                       "address_prefixes": ["10.1.0.0/24"]})
    nested = _res("module.outer.module.inner.azurerm_container_app_environment.e", {
        "name": "e", "resource_group_name": "rg", "location": "westeurope"})
    plan = _minimal([subnet], [_cfg("azurerm_subnet.s", {})],
                    changes=[_change("azurerm_subnet.s", {"id": True}),
                             _change(nested["address"], {"id": True,
                                                         "infrastructure_subnet_id": True})])
    plan["planned_values"]["root_module"]["child_modules"] = [
        {"address": "module.outer", "child_modules": [
            {"address": "module.outer.module.inner", "resources": [nested]}]}]
    plan["configuration"]["root_module"]["module_calls"] = {"outer": {
        "source": "./outer",
        "expressions": {"subnet": {"references": ["azurerm_subnet.s.id", "azurerm_subnet.s"]}},
        "module": {"module_calls": {"inner": {
            "source": "./inner",
            "expressions": {"subnet_id": {"references": ["var.subnet"]}},
            "module": {"resources": [_cfg("azurerm_container_app_environment.e", {
                "infrastructure_subnet_id": {"references": ["var.subnet_id"]}})]},
        }}},
    }}
    doc = read(plan)
    env = one(doc, "Microsoft.App/managedEnvironments")
    sub = one(doc, "Microsoft.Network/virtualNetworks/subnets")
    assert env["properties"]["vnetConfiguration"]["infrastructureSubnetId"] == sub["id"]
    assert {loc.address for loc in doc.locations.values()} >= {nested["address"]}


def test_web_apps_aks_and_nat_are_read_as_the_inventory_expects() -> None:
    uai = _res("azurerm_user_assigned_identity.pull", {
        "name": "pull", "resource_group_name": "rg", "location": "westeurope"})
    web = _res("azurerm_linux_web_app.web", {
        "name": "web", "resource_group_name": "rg", "location": "westeurope",
        "vnet_image_pull_enabled": True,
        "app_settings": {"WEBSITE_PULL_IMAGE_OVER_VNET": "true", "SECRET_PASSWORD": "hunter2"},
        "site_config": [{"container_registry_use_managed_identity": True,
                         "application_stack": [{"docker_image_name": "team/web:1",
                                                "docker_registry_url":
                                                    "https://acrweb.azurecr.io"}]}]})
    aks = _res("azurerm_kubernetes_cluster.k", {
        "name": "k", "resource_group_name": "rg", "location": "westeurope",
        "default_node_pool": [{"name": "system"}], "aci_connector_linux": [],
        "network_profile": [{"outbound_type": "userAssignedNATGateway"}],
        "kubelet_identity": [{}]})
    pool = _res("azurerm_kubernetes_cluster_node_pool.user", {"name": "user"})
    nat = _res("azurerm_nat_gateway.n", {"name": "n", "resource_group_name": "rg",
                                         "location": "westeurope"})
    pip = _res("azurerm_public_ip.p", {"name": "p", "resource_group_name": "rg",
                                       "location": "westeurope"})
    assoc = _res("azurerm_nat_gateway_public_ip_association.a", {})
    subnet = _res("azurerm_subnet.s", {"name": "s", "resource_group_name": "rg",
                                       "virtual_network_name": "v",
                                       "address_prefixes": ["10.2.0.0/24"]})
    sassoc = _res("azurerm_subnet_nat_gateway_association.a", {})
    ref = lambda a: {"references": [a, a.rsplit(".", 1)[0]]}  # noqa: E731
    plan = _minimal(
        [uai, web, aks, pool, nat, pip, assoc, subnet, sassoc],
        [_cfg("azurerm_linux_web_app.web", {
            "virtual_network_subnet_id": ref("azurerm_subnet.s.id"),
            "site_config": [{"container_registry_managed_identity_client_id":
                             ref("azurerm_user_assigned_identity.pull.client_id")}]}),
         _cfg("azurerm_kubernetes_cluster.k", {
             "default_node_pool": [{"vnet_subnet_id": ref("azurerm_subnet.s.id")}],
             "kubelet_identity": [{"user_assigned_identity_id":
                                   ref("azurerm_user_assigned_identity.pull.id")}]}),
         _cfg("azurerm_kubernetes_cluster_node_pool.user", {
             "kubernetes_cluster_id": ref("azurerm_kubernetes_cluster.k.id"),
             "vnet_subnet_id": ref("azurerm_subnet.s.id")}),
         _cfg("azurerm_nat_gateway_public_ip_association.a", {
             "nat_gateway_id": ref("azurerm_nat_gateway.n.id"),
             "public_ip_address_id": ref("azurerm_public_ip.p.id")}),
         _cfg("azurerm_subnet_nat_gateway_association.a", {
             "nat_gateway_id": ref("azurerm_nat_gateway.n.id"),
             "subnet_id": ref("azurerm_subnet.s.id")})],
        changes=[
            _change("azurerm_user_assigned_identity.pull", {"id": True, "client_id": True,
                                                            "principal_id": True}),
            _change("azurerm_linux_web_app.web", {
                "id": True, "virtual_network_subnet_id": True,
                "site_config": [{"container_registry_managed_identity_client_id": True}]}),
            _change("azurerm_kubernetes_cluster.k", {
                "id": True, "default_node_pool": [{"vnet_subnet_id": True}],
                "kubelet_identity": [{"client_id": True, "object_id": True,
                                      "user_assigned_identity_id": True}]}),
            _change("azurerm_kubernetes_cluster_node_pool.user",
                    {"id": True, "kubernetes_cluster_id": True, "vnet_subnet_id": True}),
            _change("azurerm_nat_gateway.n", {"id": True}),
            _change("azurerm_public_ip.p", {"id": True, "ip_address": True}),
            _change("azurerm_nat_gateway_public_ip_association.a",
                    {"id": True, "nat_gateway_id": True, "public_ip_address_id": True}),
            _change("azurerm_subnet.s", {"id": True}),
            _change("azurerm_subnet_nat_gateway_association.a",
                    {"id": True, "nat_gateway_id": True, "subnet_id": True}),
        ])
    doc = read(plan, subscription="5e0d3c1a-0000-4000-8000-00000000000a")
    assert "hunter2" not in json.dumps(list(doc.resources))
    inv = inventory(doc)
    kinds = {c.kind: c for c in inv.consumers.values()}
    web_c, aks_c = kinds[ConsumerKind.APP_SERVICE], kinds[ConsumerKind.AKS]
    subnet_id = norm_id(one(doc, "Microsoft.Network/virtualNetworks/subnets")["id"])
    uai_id = norm_id(one(doc, "Microsoft.ManagedIdentity/userAssignedIdentities")["id"])
    assert web_c.subnet_ids == (subnet_id,)
    assert web_c.fact("vnet_image_pull") == "true"
    assert web_c.fact("os") == "linux"
    assert web_c.images == ("acrweb.azurecr.io/team/web:1",)
    assert [(c.method, c.identity_id) for c in web_c.credentials] == [
        ("user-assigned-identity", uai_id)]
    assert aks_c.subnet_ids == (subnet_id,)  # the default pool's and the node pool's subnet
    assert aks_c.fact("outbound_type") == "userAssignedNATGateway"
    assert aks_c.fact("virtual_nodes") == "false"
    assert uai_id in aks_c.identity_ids
    nat_gw = next(iter(inv.nat_gateways.values()))
    assert nat_gw.subnet_ids == (subnet_id,)
    assert len(nat_gw.public_ip_ids) == 1
    assert inv.subnets[subnet_id].nat_gateway_id == nat_gw.id


def test_a_diagnostic_setting_id_is_built_on_its_target() -> None:
    plan = load("field-report")
    doc = read(plan)
    diag = one(doc, "Microsoft.Insights/diagnosticSettings")
    assert type_of(diag["id"]) == "microsoft.insights/diagnosticsettings"
    inv = inventory(doc)
    (setting,) = inv.diagnostic_settings.values()
    assert setting.target_id == norm_id(one(doc, "Microsoft.ContainerRegistry/registries")["id"])
    assert setting.categories == ("allLogs",)
    assert setting.destinations


# ------------------------------------------------------------------ not a plan


@pytest.mark.parametrize(("doc", "says"), [
    ([1, 2], "a JSON array"),
    ({"format_version": "1.0", "terraform_version": "1.9.8", "values": {"root_module": {}}},
     "of a state, not of a plan"),
    ({"version": 4, "terraform_version": "1.9.8", "serial": 3, "lineage": "x", "resources": []},
     "state file"),
    ({"resource": {"azurerm_resource_group": {}}}, "configuration (.tf.json)"),
    ({"format_version": "2.0", "planned_values": {}}, "is not supported"),
    ({"format_version": 1, "planned_values": {}}, "no format_version"),
    ({"$schema": "x", "resources": []}, "not a Terraform plan"),
    ({"format_version": "1.2"}, "no planned_values"),
])
def test_what_is_not_a_plan_is_a_typed_error_saying_what_to_run(doc: object, says: str) -> None:
    with pytest.raises(TerraformPlanError) as err:
        check_plan_shape(doc)
    assert says in str(err.value)
    assert "\n" not in str(err.value)
    if "supported" not in says:
        assert "terraform show -json" in str(err.value)


def test_a_format_0_plan_of_a_maintained_project_is_refused_with_the_reason() -> None:
    plan = json.loads((DATA / "public" / "terraform-compliance-issue-294.plan.out.json")
                      .read_text(encoding="utf-8"))
    with pytest.raises(TerraformPlanError, match=r"format_version '0\.1' is not supported"):
        read(plan)


def test_a_real_plan_without_pull_resources_reads_cleanly() -> None:
    plan = json.loads((DATA / "public" / "checkov-tfplan_extra_ref.json")
                      .read_text(encoding="utf-8"))
    doc = read(plan)
    assert doc.resources == ()
    assert doc.issues == ()


# ------------------------------------------------------------------ damage


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                 max_size=3),
    max_leaves=8)


def _mutate(plan: Any, data: st.DataObject, steps: int) -> Any:
    if steps == 0 or not isinstance(plan, dict | list) or not plan:
        return data.draw(JSON)
    if isinstance(plan, dict):
        key = data.draw(st.sampled_from(sorted(plan)))
        plan[key] = _mutate(plan[key], data, steps - 1)
    else:
        i = data.draw(st.integers(0, len(plan) - 1))
        plan[i] = _mutate(plan[i], data, steps - 1)
    return plan


BASE = load("field-report")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.integers(1, 9))
def test_a_damaged_plan_never_raises_anything_but_the_typed_error(data: st.DataObject,
                                                                  depth: int) -> None:
    plan = _mutate(copy.deepcopy(BASE), data, depth)
    try:
        doc = read(plan)
    except TerraformPlanError:
        return
    inventory(doc)  # and the inventory reads whatever came out
    json.dumps(list(doc.resources))


@settings(max_examples=60, deadline=None)
@given(JSON)
def test_any_json_is_a_plan_or_the_typed_error(value: Any) -> None:
    with contextlib.suppress(TerraformPlanError):
        read(value)


@pytest.mark.parametrize(("address", "values", "config"), [
    ("azurerm_linux_web_app.web",
     {"name": "web", "resource_group_name": "rg", "location": "westeurope",
      "site_config": [{"application_stack": [{"docker_image_name": "team/web:1",
                                              "docker_registry_url": "https://acr.azurecr.io"}]}]},
     {"virtual_network_subnet_id": {"references": ["local.subnet"]}}),
    ("azurerm_kubernetes_cluster.k",
     {"name": "k", "resource_group_name": "rg", "location": "westeurope",
      "default_node_pool": [{"name": "system"}]},
     {"default_node_pool": [{"vnet_subnet_id": {"references": ["local.subnet"]}}]}),
])
def test_a_subnet_known_only_after_apply_leaves_in_vnet_unknown(
        address: str, values: dict[str, Any], config: dict[str, Any]) -> None:
    unknown: dict[str, Any] = ({"virtual_network_subnet_id": True} if "web_app" in address
                               else {"default_node_pool": [{"vnet_subnet_id": True}]})
    a = parse_address(address)
    assert a is not None
    plan = _minimal([_res(address, values)], [_cfg(a.local, config)],
                    changes=[_change(address, {"id": True, **unknown})])
    (consumer,) = inventory(read(plan)).consumers.values()
    assert consumer.fact("in_vnet") is None  # neither "true" nor a wrong "false"


def test_a_data_source_read_during_apply_is_read_from_its_change() -> None:
    """``actions: ["read"]``: the data source depends on something the plan creates, so its
    values are in the change only, its unknowns marked."""
    group = _res("azurerm_container_group.cg", {
        "name": "cg", "resource_group_name": "apps", "location": "westeurope",
        "os_type": "Linux", "container": [], "image_registry_credential": []})
    read_later = _change("data.azurerm_subnet.aci", {"id": True, "address_prefixes": True},
                         action="read")
    read_later["change"]["after"] = {"name": "aci", "resource_group_name": "net",
                                     "virtual_network_name": "hub"}
    plan = _minimal([group], [_cfg("azurerm_container_group.cg", {
        "subnet_ids": {"references": ["data.azurerm_subnet.aci.id", "data.azurerm_subnet.aci"]}})],
        changes=[_change("azurerm_container_group.cg", {"subnet_ids": True, "id": True}),
                 read_later])
    doc = read(plan)
    subnet = one(doc, "Microsoft.Network/virtualNetworks/subnets")
    cg = one(doc, "Microsoft.ContainerInstance/containerGroups")
    assert cg["properties"]["subnetIds"] == [{"id": subnet["id"]}]
    assert is_unknown_value(subnet["properties"]["addressPrefixes"][0])
    assert norm_id(subnet["id"]) in doc.refers_to


@pytest.mark.parametrize(("flags", "says"), [({"errored": True}, "the plan errored"),
                                             ({"complete": False}, "not complete")])
def test_an_errored_or_incomplete_plan_says_so(flags: dict[str, bool], says: str) -> None:
    plan = load("field-report")
    plan.update(flags)
    doc = read(plan)
    assert doc.resources
    assert any(says in i for i in doc.issues)


def test_a_registry_named_only_after_apply_still_links_its_consumers() -> None:
    """``name = "acr${random_string.s.result}"``: a placeholder name, said in unknowns, used
    everywhere the registry is referred to, so the prediction still holds."""
    plan = load("field-report")
    registry = next(r for r in _planned_module(plan, "")["resources"]
                    if r["type"] == "azurerm_container_registry")
    del registry["values"]["name"]
    change = next(rc for rc in plan["resource_changes"]
                  if rc["type"] == "azurerm_container_registry")
    change["change"]["after_unknown"]["name"] = True
    config = next(r for r in plan["configuration"]["root_module"]["resources"]
                  if r["address"] == "azurerm_container_registry.acr")
    config["expressions"]["name"] = {"references": ["random_string.s.result",
                                                    "random_string.s"]}
    doc = read(plan)
    assert any(u.startswith("azurerm_container_registry.acr.name: known after apply")
               for u in doc.unknowns)
    assert pair_paths(explain(doc)) == lab_paths("field-report")


def test_deeply_nested_plan_parts_cost_nothing() -> None:
    plan = load("field-report")
    deep: Any = True
    for _ in range(900):
        deep = {"x": [deep]}
    change = next(rc for rc in plan["resource_changes"]
                  if rc["type"] == "azurerm_container_group")
    change["change"]["after_unknown"]["container"] = [deep]
    registry = next(r for r in _planned_module(plan, "")["resources"]
                    if r["type"] == "azurerm_container_registry")
    registry["values"]["network_rule_set"] = [deep]
    doc = read(plan)
    assert pair_paths(explain(doc))[ConsumerKind.ACA] is NetPath.PRIVATE_ENDPOINT
