"""Scenarios and rendered ARM templates, checked resource by resource against the Azure
SDK's own models, and `pullpath lab plan` offline."""

from __future__ import annotations

import enum
import importlib
import inspect
import json
import re
import typing
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pullpath.cli.app import app
from pullpath.core.iac.armexpr import EvaluatedResource
from pullpath.lab.cli_script import az_cli_script
from pullpath.lab.cost import estimate
from pullpath.lab.predict import explain_available, predict_for_scenario, would_be_inventory
from pullpath.lab.render import (
    ACR_PULL_ROLE_ID,
    API_VERSIONS,
    RenderedLab,
    lab_names,
    render,
    would_be_resources,
)
from pullpath.lab.scenarios import ScenarioError, list_scenarios, load_scenario, parse_scenario
from tests.support import ROOT, TESTS

SCENARIOS = [ident for name in list_scenarios()
             for ident in (name, *(f"{name}:{v}" for v in load_scenario(name).variants))]
"""Every bundled scenario and every variant of it."""
RUN = "k3v9x2ab"
# a copy of the official example, with its provenance in tests/data/lab/PROVENANCE.md
DIAG_EXAMPLE = TESTS / "data" / "lab" / "getDiagnosticSetting.json"

# resource type -> (SDK model, module and request builder holding the SDK's api-version)
MODELS: dict[str, tuple[str, str, str]] = {
    "Microsoft.OperationalInsights/workspaces": (
        "azure.mgmt.loganalytics.models:Workspace",
        "azure.mgmt.loganalytics.operations._operations", "build_workspaces_get_request"),
    "Microsoft.ContainerRegistry/registries": (
        "azure.mgmt.containerregistry.models:Registry",
        "azure.mgmt.containerregistry.operations._operations", "build_registries_get_request"),
    "Microsoft.Network/virtualNetworks": (
        "azure.mgmt.network.models:VirtualNetwork",
        "azure.mgmt.network.operations._operations", "build_virtual_networks_get_request"),
    "Microsoft.Network/privateEndpoints": (
        "azure.mgmt.network.models:PrivateEndpoint",
        "azure.mgmt.network.operations._operations", "build_private_endpoints_get_request"),
    "Microsoft.Network/privateEndpoints/privateDnsZoneGroups": (
        "azure.mgmt.network.models:PrivateDnsZoneGroup",
        "azure.mgmt.network.operations._operations",
        "build_private_dns_zone_groups_get_request"),
    "Microsoft.Network/privateDnsZones": (
        "azure.mgmt.privatedns.models:PrivateZone",
        "azure.mgmt.privatedns.operations._operations", "build_private_zones_get_request"),
    "Microsoft.Network/privateDnsZones/virtualNetworkLinks": (
        "azure.mgmt.privatedns.models:VirtualNetworkLink",
        "azure.mgmt.privatedns.operations._operations",
        "build_virtual_network_links_get_request"),
    "Microsoft.App/managedEnvironments": (
        "azure.mgmt.appcontainers.models:ManagedEnvironment",
        "azure.mgmt.appcontainers.operations._operations", "build_managed_environments_get_request"),
    "Microsoft.App/containerApps": (
        "azure.mgmt.appcontainers.models:ContainerApp",
        "azure.mgmt.appcontainers.operations._operations", "build_container_apps_get_request"),
    "Microsoft.ContainerInstance/containerGroups": (
        "azure.mgmt.containerinstance.models:ContainerGroup",
        "azure.mgmt.containerinstance.operations._container_groups_operations", "build_get_request"),
    "Microsoft.ManagedIdentity/userAssignedIdentities": (
        "azure.mgmt.msi.v2024_11_30.models:Identity", "", ""),
    "Microsoft.Authorization/roleAssignments": (
        "azure.mgmt.authorization.v2022_04_01.models:RoleAssignmentCreateParameters", "", ""),
}
NO_TAGS = {"Microsoft.Authorization/roleAssignments", "Microsoft.Insights/diagnosticSettings",
           "Microsoft.Network/privateEndpoints/privateDnsZoneGroups"}
TEMPLATE_ONLY = {"type", "apiVersion", "name", "dependsOn", "scope", "condition", "comments"}


FIELD_REPORT = (ROOT
                / "src/pullpath/lab/scenarios/field-report.yaml")


def lab_for(name: str) -> RenderedLab:
    s = load_scenario(name)
    return render(s, lab_names(s, RUN), "japaneast")


def all_resources(lab: RenderedLab) -> list[EvaluatedResource]:
    base, consumers, _ = would_be_resources(lab)
    return [*base, *consumers]


def model_class(rtype: str) -> Any:
    module, _, cls = MODELS[rtype][0].partition(":")
    return getattr(importlib.import_module(module), cls)


def sdk_api_version(rtype: str) -> str:
    """The api-version the installed SDK sends for this type (its request builder's default,
    or the versioned package's folder for multi-api SDKs)."""
    model, module, builder = MODELS[rtype]
    if not module:
        m = re.search(r"\.v(\d{4})_(\d{2})_(\d{2})(_preview)?\.", model)
        assert m, model
        return f"{m[1]}-{m[2]}-{m[3]}" + ("-preview" if m[4] else "")
    src = inspect.getsource(getattr(importlib.import_module(module), builder))
    m = re.search(r'"api-version",\s*"([0-9a-z-]+)"', src)
    assert m, f"no api-version default in {module}.{builder}"
    return m[1]


# ------------------------------------------------------------------ model round trip


def _is_optional(annotation: Any) -> bool:
    args = typing.get_args(annotation)
    return type(None) in args or annotation is None


def _annotations(cls: type) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        try:
            out.update(typing.get_type_hints(klass))
        except Exception:
            out.update(getattr(klass, "__annotations__", {}))
    return out


def project_new_style(model: Any, where: str, problems: list[str]) -> Any:
    """The model as the SDK understands it: only its known REST fields (recursively), with
    missing required (writable) fields reported. Read-only fields are left out."""
    if isinstance(model, list):
        return [project_new_style(x, where, problems) for x in model]
    if isinstance(model, dict) and not hasattr(model, "_attr_to_rest_field"):
        return {k: project_new_style(v, f"{where}.{k}", problems) for k, v in model.items()}
    if isinstance(model, enum.Enum):
        return model.value
    if not hasattr(model, "_attr_to_rest_field"):
        return model
    cls = type(model)
    hints = _annotations(cls)
    out: dict[str, Any] = {}
    for attr, rf in cls._attr_to_rest_field.items():
        readonly = getattr(rf, "_visibility", None) == ["read"]
        value = getattr(model, attr, None)
        if readonly:
            continue
        if value is None:
            hint = hints.get(attr)
            if hint is not None and not _is_optional(hint) and attr in hints:
                problems.append(f"{where}.{rf._rest_name}: required by {cls.__name__}")
            continue
        out[rf._rest_name] = project_new_style(value, f"{where}.{rf._rest_name}", problems)
    return out


def msrest_required(model: Any, where: str, problems: list[str]) -> None:
    """Required (writable) fields of an msrest model and its nested models, from the model's
    own ``_validation`` table."""
    if isinstance(model, list):
        for x in model:
            msrest_required(x, where, problems)
        return
    if not hasattr(model, "_attribute_map"):
        return
    for attr, rules in getattr(model, "_validation", {}).items():
        if rules.get("required") and not rules.get("readonly") and \
                getattr(model, attr, None) is None:
            problems.append(f"{where}.{attr}: required by {type(model).__name__}")
    for attr in model._attribute_map:
        value = getattr(model, attr, None)
        if value is not None:
            msrest_required(value, f"{where}.{attr}", problems)


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def check_against_model(r: EvaluatedResource) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """(what the template sends, what the SDK model reads back, problems)."""
    cls = model_class(r.type)
    # an empty "properties" (the deployment schema requires one for identities and DNS zones)
    # is no property at all: the SDK models leave it out
    body = {k: v for k, v in r.body.items()
            if k not in TEMPLATE_ONLY and not (k == "properties" and v == {})}
    problems: list[str] = []
    if not hasattr(cls, "_attribute_map"):  # typespec-generated models
        back = project_new_style(cls(body), r.type, problems)
    else:  # msrest models
        model = cls.deserialize(body)
        back = model.serialize(keep_readonly=False)
        msrest_required(model, r.type, problems)
    return _drop_none(body), _drop_none(back), problems


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_resource_round_trips_through_the_sdk_model(name: str) -> None:
    checked = 0
    for r in all_resources(lab_for(name)):
        if r.type not in MODELS:
            continue
        sent, back, problems = check_against_model(r)
        assert problems == [], f"{r.type}: {problems}"
        assert back == sent, f"{r.type}: the SDK model does not read the template losslessly"
        checked += 1
    assert checked >= 4


def test_the_round_trip_check_catches_a_misspelt_property() -> None:
    lab = lab_for("field-report")
    registry = next(r for r in all_resources(lab)
                    if r.type == "Microsoft.ContainerRegistry/registries")
    body = json.loads(json.dumps(registry.body))
    body["properties"]["networkRuleBypassOption"] = "AzureServices"  # missing the final s
    bad = EvaluatedResource(registry.id, registry.type, registry.name, registry.api_version,
                            body, (), ())
    sent, back, _ = check_against_model(bad)
    assert sent != back


def test_the_required_check_catches_a_missing_property() -> None:
    lab = lab_for("field-report")
    cg = next(r for r in all_resources(lab)
              if r.type == "Microsoft.ContainerInstance/containerGroups")
    body = json.loads(json.dumps(cg.body))
    del body["properties"]["osType"]
    bad = EvaluatedResource(cg.id, cg.type, cg.name, cg.api_version, body, (), ())
    assert check_against_model(bad)[2]
    env = next(r for r in all_resources(lab)
               if r.type == "Microsoft.App/containerApps")
    body = json.loads(json.dumps(env.body))
    del body["location"]
    bad = EvaluatedResource(env.id, env.type, env.name, env.api_version, body, (), ())
    assert check_against_model(bad)[2]


def test_diagnostic_setting_matches_the_published_example_shape() -> None:
    """No SDK model: azure-mgmt-monitor 7.0.0 dropped diagnostic settings
    (Azure/azure-sdk-for-python#42425), so the published example is the reference."""
    example = json.loads(DIAG_EXAMPLE.read_text())["responses"]["200"]["body"]
    for name in SCENARIOS:
        (diag,) = [r for r in all_resources(lab_for(name))
                   if r.type == "Microsoft.Insights/diagnosticSettings"]
        props = diag.body["properties"]
        assert set(props) <= set(example["properties"])
        for log in props["logs"]:
            assert set(log) <= set(example["properties"]["logs"][0])
        assert props["logs"] == [{"categoryGroup": "allLogs", "enabled": True}]
        assert props["workspaceId"].endswith(f"/workspaces/log-pplab-{RUN}")
        assert diag.api_version == example_version()


def example_version() -> str:
    return str(json.loads(DIAG_EXAMPLE.read_text())["parameters"]["api-version"])


# The SDK release each pinned api-version was taken from (render.API_VERSIONS).
PINNED_FROM = {
    "azure-mgmt-loganalytics": "14.0.0", "azure-mgmt-containerregistry": "15.0.0",
    "azure-mgmt-network": "33.1.0", "azure-mgmt-privatedns": "2.0.0",
    "azure-mgmt-appcontainers": "5.1.0", "azure-mgmt-containerinstance": "10.1.0",
    "azure-mgmt-msi": "7.1.0", "azure-mgmt-authorization": "4.0.0",
}


@pytest.mark.parametrize("rtype", sorted(MODELS))
def test_api_versions_are_the_installed_sdk_models(rtype: str) -> None:
    from importlib.metadata import version

    package = "azure-mgmt-" + MODELS[rtype][0].split(".")[2].split(":")[0]
    installed = version(package)
    if installed != PINNED_FROM[package] and API_VERSIONS[rtype] != sdk_api_version(rtype):
        pytest.skip(f"{package} {installed} is installed, the pin comes from "
                    f"{PINNED_FROM[package]}: its models use {sdk_api_version(rtype)}, the "
                    f"template pins {API_VERSIONS[rtype]} (re-pin in lab/render.py)")
    assert API_VERSIONS[rtype] == sdk_api_version(rtype)


@pytest.mark.parametrize("name", SCENARIOS)
def test_depends_on_is_complete(name: str) -> None:
    resources = all_resources(lab_for(name))
    for step in (resources,):
        ids = {r.id.lower(): r for r in step}
        for r in step:
            deps = {d.lower() for d in r.depends_on}
            refs = {x.lower() for x in r.refers_to} | ({r.scope.lower()} if r.scope else set())
            # a child resource declared at the top level depends on its parent
            if r.type.count("/") > 1 and not r.scope:
                refs.add(r.id.lower().rsplit("/", 2)[0])
            for ref in refs - {r.id.lower()}:
                owners = [i for i in ids if ref == i or ref.startswith(i + "/")]
                owners = [o for o in owners if o != r.id.lower()]
                if not owners:
                    continue  # created by the other deployment, already there
                owner = max(owners, key=len)
                if r in resources[: len(resources)] and ids[owner] is not r:
                    same_step = _same_step(name, r, ids[owner])
                    if same_step:
                        assert owner in deps, f"{r.type} {r.name} refers to {owner} " \
                                              "without dependsOn"


def _same_step(name: str, a: EvaluatedResource, b: EvaluatedResource) -> bool:
    base, _consumers, _ = would_be_resources(lab_for(name))
    return (a in base) == (b in base)


@pytest.mark.parametrize("name", SCENARIOS)
def test_parameters_are_all_used_and_all_given(name: str) -> None:
    lab = lab_for(name)
    values = {"base": lab.base_parameters(),
              "consumers": lab.consumers_parameters(f"pplab{RUN}.azurecr.io")}
    for step, template in (("base", lab.base_template), ("consumers", lab.consumers_template)):
        declared = set(template["parameters"])
        text = json.dumps({k: v for k, v in template.items() if k != "parameters"})
        used = set(re.findall(r"parameters\('([^']+)'\)", text))
        assert declared == used, f"{step}: declared but unused {declared - used}"
        assert set(values[step]) == declared, f"{step}: runner values != declared parameters"


@pytest.mark.parametrize("name", SCENARIOS)
def test_outputs_are_the_ones_the_runner_reads(name: str) -> None:
    lab = lab_for(name)
    assert set(lab.base_template["outputs"]) == {
        "registryId", "registryLoginServer", "workspaceCustomerId",
        *(f"{c.key}RoleAssignmentId" for c in lab.scenario.consumers)}
    assert set(lab.consumers_template["outputs"]) == {f"{c.key}Id"
                                                      for c in lab.scenario.consumers}
    _, _consumers, outputs = would_be_resources(lab)
    assert outputs["registryLoginServer"] == f"pplab{RUN}.azurecr.io"
    src = (ROOT / "src/pullpath/lab/runner.py").read_text()
    for key in ("registryId", "registryLoginServer", "workspaceCustomerId"):
        assert f'"{key}"' in src
    assert 'f"{c.key}RoleAssignmentId"' in src
    assert '"{c.key}Id"' in src.replace("f\"{c.key}Id\"", '"{c.key}Id"')


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_taggable_resource_carries_the_run_id(name: str) -> None:
    for r in all_resources(lab_for(name)):
        if r.type in NO_TAGS:
            if r.type in MODELS:
                assert "tags" not in _new_style_or_msrest_fields(model_class(r.type))
            continue
        assert r.body["tags"]["pullpath-lab"] == RUN, r.type
        assert r.body["tags"]["created-by"] == "pullpath", r.type


def _new_style_or_msrest_fields(cls: Any) -> set[str]:
    if hasattr(cls, "_attribute_map"):
        return {v["key"] for v in cls._attribute_map.values()}
    cls()  # typespec models compute their field table on first use
    return {rf._rest_name for rf in cls._attr_to_rest_field.values()}


@pytest.mark.parametrize("name", SCENARIOS)
def test_no_admin_user_no_password_and_random_names(name: str) -> None:
    lab = lab_for(name)
    text = json.dumps([lab.base_template, lab.consumers_template]).lower()
    assert "password" not in text
    assert "username" not in text
    registry = next(r for r in all_resources(lab)
                    if r.type == "Microsoft.ContainerRegistry/registries")
    assert registry.body["properties"]["adminUserEnabled"] is False
    for r in all_resources(lab):
        if r.type not in ("Microsoft.Network/privateDnsZones",
                          "Microsoft.Insights/diagnosticSettings",
                          "Microsoft.Authorization/roleAssignments",
                          "Microsoft.Network/privateEndpoints/privateDnsZoneGroups"):
            assert RUN in r.name, r.name
    other = render(lab.scenario, lab_names(lab.scenario, "q7w8e9r0"), "japaneast")
    assert other.names.registry != lab.names.registry


def test_each_consumer_has_its_own_identity_with_acr_pull() -> None:
    """One identity per consumer: the registry log's Identity then tells ACI's pull from a
    Microsoft address apart from the app's (a shared identity would match both)."""
    lab = lab_for("field-report")
    assignments = [r for r in all_resources(lab)
                   if r.type == "Microsoft.Authorization/roleAssignments"]
    identities = {r.id for r in all_resources(lab)
                  if r.type == "Microsoft.ManagedIdentity/userAssignedIdentities"}
    assert len(assignments) == len(identities) == 2
    for ra in assignments:
        assert ra.body["properties"]["roleDefinitionId"].endswith(
            f"/roleDefinitions/{ACR_PULL_ROLE_ID}")
        assert ra.scope.endswith(f"/registries/pplab{RUN}")
        assert ra.body["properties"]["principalType"] == "ServicePrincipal"
    consumers = [r for r in all_resources(lab) if r.type in (
        "Microsoft.ContainerInstance/containerGroups", "Microsoft.App/containerApps")]
    used = {next(iter(r.body["identity"]["userAssignedIdentities"])) for r in consumers}
    assert used == identities


def test_aci_is_linux_1_cpu_2_gb_in_the_delegated_subnet_with_the_identity() -> None:
    lab = lab_for("field-report")
    (cg,) = [r for r in all_resources(lab)
             if r.type == "Microsoft.ContainerInstance/containerGroups"]
    props = cg.body["properties"]
    assert props["osType"] == "Linux"
    assert props["containers"][0]["properties"]["resources"]["requests"] == {
        "cpu": 1.0, "memoryInGB": 2.0}
    (uami,) = cg.body["identity"]["userAssignedIdentities"]
    assert props["imageRegistryCredentials"] == [{"server": f"pplab{RUN}.azurecr.io",
                                                  "identity": uami}]
    assert props["subnetIds"][0]["id"].endswith("/subnets/aci")
    vnet = next(r for r in all_resources(lab) if r.type == "Microsoft.Network/virtualNetworks")
    subnets = {sub["name"]: sub["properties"] for sub in vnet.body["properties"]["subnets"]}
    assert subnets["aci"]["delegations"][0]["properties"]["serviceName"] == \
        "Microsoft.ContainerInstance/containerGroups"


def test_the_field_report_is_one_registry_one_vnet_aci_and_aca() -> None:
    """The report's setup point by point: one resource group and region (japaneast), a
    Premium registry with public access disabled and trusted services allowed, allLogs to a
    new workspace, one VNet with a private-endpoint subnet, an ACI-delegated subnet and the
    Container Apps subnet 10.0.2.0/24 (workload profiles), the private endpoint with the
    privatelink zone, its VNet link and zone group, ACI and ACA pulling with user-assigned
    identities."""
    lab = lab_for("field-report")
    assert lab.location == "japaneast"
    by_type: dict[str, list[EvaluatedResource]] = {}
    for r in all_resources(lab):
        by_type.setdefault(r.type, []).append(r)
        assert f"/resourceGroups/rg-pullpath-lab-{RUN}/" in r.id
    (reg,) = {r.id: r for r in by_type["Microsoft.ContainerRegistry/registries"]}.values()
    assert reg.body["sku"] == {"name": "Premium"}
    assert reg.body["properties"]["publicNetworkAccess"] == "Disabled"
    assert reg.body["properties"]["networkRuleBypassOptions"] == "AzureServices"
    (diag,) = by_type["Microsoft.Insights/diagnosticSettings"]
    assert diag.body["properties"]["logs"] == [{"categoryGroup": "allLogs", "enabled": True}]
    (vnet,) = by_type["Microsoft.Network/virtualNetworks"]
    subnets = {sub["name"]: sub["properties"] for sub in vnet.body["properties"]["subnets"]}
    assert subnets["aca"]["addressPrefix"] == "10.0.2.0/24"
    assert subnets["aca"]["delegations"][0]["properties"]["serviceName"] == \
        "Microsoft.App/environments"
    assert "delegations" not in subnets["pe"]
    (pe,) = by_type["Microsoft.Network/privateEndpoints"]
    assert pe.body["properties"]["subnet"]["id"].endswith("/subnets/pe")
    assert [z.name for z in by_type["Microsoft.Network/privateDnsZones"]] == \
        ["privatelink.azurecr.io"]
    assert by_type["Microsoft.Network/privateDnsZones/virtualNetworkLinks"]
    assert by_type["Microsoft.Network/privateEndpoints/privateDnsZoneGroups"]
    (env,) = by_type["Microsoft.App/managedEnvironments"]
    assert env.body["properties"]["workloadProfiles"] == [
        {"name": "Consumption", "workloadProfileType": "Consumption"}]
    (cg,) = by_type["Microsoft.ContainerInstance/containerGroups"]
    (app_,) = by_type["Microsoft.App/containerApps"]
    assert cg.body["identity"]["type"] == app_.body["identity"]["type"] == "UserAssigned"
    # the claims are stated up front: ACI documented private-endpoint, reported trusted-service
    aci, aca = lab.scenario.consumers
    assert aci.expect.documented
    assert aci.expect.documented.path.value == "private-endpoint"
    assert aci.expect.reported
    assert aci.expect.reported.path.value == "trusted-service"
    assert aca.expect.documented
    assert aca.expect.documented.path.value == "private-endpoint"
    assert aca.expect.reported
    assert aca.expect.reported.path.value == "private-endpoint"


def test_aca_private_endpoint_dns_and_environment() -> None:
    lab = lab_for("field-report")
    by_type = {r.type: r for r in all_resources(lab)}
    pe = by_type["Microsoft.Network/privateEndpoints"]
    conn = pe.body["properties"]["privateLinkServiceConnections"][0]["properties"]
    assert conn["groupIds"] == ["registry"]
    assert pe.body["properties"]["subnet"]["id"].endswith("/subnets/pe")
    assert by_type["Microsoft.Network/privateDnsZones"].name == "privatelink.azurecr.io"
    link = by_type["Microsoft.Network/privateDnsZones/virtualNetworkLinks"]
    assert link.body["properties"]["virtualNetwork"]["id"].endswith(f"/vnet-pplab-{RUN}")
    group = by_type["Microsoft.Network/privateEndpoints/privateDnsZoneGroups"]
    assert group.body["properties"]["privateDnsZoneConfigs"][0]["properties"][
        "privateDnsZoneId"].endswith("/privateDnsZones/privatelink.azurecr.io")
    env = by_type["Microsoft.App/managedEnvironments"]
    assert env.body["properties"]["vnetConfiguration"]["infrastructureSubnetId"].endswith(
        "/subnets/aca")
    assert env.body["properties"]["workloadProfiles"][0]["workloadProfileType"] == "Consumption"
    app_ = by_type["Microsoft.App/containerApps"]
    assert app_.body["properties"]["configuration"]["registries"][0]["identity"].endswith(
        f"/userAssignedIdentities/id-pplab-{RUN}-app")


def test_trusted_off_imports_with_the_bypass_then_switches_it_off_before_the_consumers(
        ) -> None:
    lab = lab_for("field-report:trusted-off")
    base, consumers, _ = would_be_resources(lab)
    (first,) = [r for r in base if r.type == "Microsoft.ContainerRegistry/registries"]
    (final,) = [r for r in consumers if r.type == "Microsoft.ContainerRegistry/registries"]
    assert first.body["properties"]["networkRuleBypassOptions"] == "AzureServices"
    assert final.body["properties"]["networkRuleBypassOptions"] == "None"
    assert {k: v for k, v in final.body.items() if k != "properties"} == \
        {k: v for k, v in first.body.items() if k != "properties"}
    for r in consumers:
        if r is not final:
            assert final.id in r.depends_on, f"{r.type} must wait for the bypass switch"
    (registry,) = would_be_inventory(lab).registries.values()
    assert registry.bypass == "None"


def test_aci_no_vnet_and_aca_no_private_endpoint_variants() -> None:
    no_vnet = lab_for("field-report:aci-no-vnet")
    (cg,) = [r for r in all_resources(no_vnet)
             if r.type == "Microsoft.ContainerInstance/containerGroups"]
    assert "subnetIds" not in cg.body["properties"]
    assert "ipAddress" not in cg.body["properties"]
    no_pe = lab_for("field-report:aca-no-private-endpoint")
    types = {r.type for r in all_resources(no_pe)}
    assert not types & {"Microsoft.Network/privateEndpoints", "Microsoft.Network/privateDnsZones",
                        "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
                        "Microsoft.Network/privateEndpoints/privateDnsZoneGroups"}
    assert "Microsoft.App/containerApps" in types


def test_the_system_identity_variant_is_dropped_with_its_reason() -> None:
    s = load_scenario("field-report")
    (dropped,) = s.dropped_variants
    assert dropped[0] == "aci-system-identity"
    assert "The identity for the private registry." in dropped[1]
    with pytest.raises(ScenarioError, match="not built"):
        load_scenario("field-report:aci-system-identity")
    for ident in SCENARIOS:
        assert all(c.identity == "user-assigned" for c in load_scenario(ident).consumers)


def test_a_system_assigned_consumer_is_refused_with_the_reason() -> None:
    import yaml

    doc = yaml.safe_load(FIELD_REPORT.read_text())
    doc["consumers"][0]["identity"] = "system-assigned"
    with pytest.raises(ScenarioError, match="documents no way to name a system-assigned"):
        parse_scenario(yaml.safe_dump(doc), source="edited.yaml")


# ------------------------------------------------------------------ scenarios


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d["network"]["subnets"]["aci"].update(delegation=""), "must be delegated"),
    (lambda d: d["consumers"][0]["expect"].update(path="sideways"), "expect.path"),
    (lambda d: d["consumers"][0].update(subnet="nope"), "not defined"),
    (lambda d: d["network"]["subnets"]["aci"].update(prefix="10.9.0.0/24"), "outside the VNet"),
    (lambda d: d["consumers"][0]["expect"].update(knowledge="x"), "knowledge list"),
    (lambda d: d["registry"].update(sku="Basic"), "Premium"),
])
def test_scenario_errors_say_which_field(edit: Any, message: str) -> None:
    import yaml

    doc = yaml.safe_load(FIELD_REPORT.read_text())
    edit(doc)
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(yaml.safe_dump(doc), source="edited.yaml")


def test_aca_subnet_must_be_27_or_larger() -> None:
    import yaml

    doc = yaml.safe_load(FIELD_REPORT.read_text())
    doc["network"]["subnets"]["aca"]["prefix"] = "10.0.2.0/28"
    with pytest.raises(ScenarioError, match="/27"):
        parse_scenario(yaml.safe_dump(doc), source="edited.yaml")


def test_every_scenario_says_what_it_expects_and_why() -> None:
    assert {"field-report", "field-report:trusted-off", "field-report:aci-no-vnet",
            "field-report:aca-no-private-endpoint"} <= set(SCENARIOS)
    for name in SCENARIOS:
        s = load_scenario(name)
        for c in s.consumers:
            assert c.expect.why
            assert s.knowledge_entry(c.expect.knowledge) is not None


# ------------------------------------------------------------------ plan, script, cost


def test_plan_runs_offline_and_writes_everything(tmp_path: Path) -> None:
    out = tmp_path / "plan"
    result = CliRunner().invoke(app, ["lab", "plan", "--run-id", RUN, "--output-dir", str(out)])
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == {
        "base.template.json", "base.parameters.json", "consumers.template.json",
        "consumers.parameters.json", "deploy.sh", "plan.json"}
    plan = json.loads((out / "plan.json").read_text())
    assert plan["schema"] == "pullpath.lab.plan/v1"
    assert plan["cost"]["per_hour"] > 0
    assert plan["scenario"]["name"] == "field-report"  # the default
    assert [p["path"] for p in plan["prediction"]] == ["trusted-service", "private-endpoint"]
    assert [e["documented"]["path"] for e in plan["expected"]] == ["private-endpoint"] * 2
    base = json.loads((out / "base.template.json").read_text())
    params = json.loads((out / "base.parameters.json").read_text())["parameters"]
    assert set(params) == set(base["parameters"])
    assert "Estimated cost" in result.stdout
    assert "documented private-endpoint, reported trusted-service" in result.stdout


def test_plan_json_carries_templates_and_script() -> None:
    result = CliRunner().invoke(app, ["lab", "plan", "field-report", "--variant", "trusted-off",
                                      "--run-id", RUN, "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["templates"]["base"]["resources"]
    assert "az container create" in doc["az_cli_script"]
    assert doc["scenario"]["variant"] == "trusted-off"


def test_plan_unknown_scenario_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["lab", "plan", "no-such-scenario"])
    assert result.exit_code == 2
    assert "unknown scenario" in result.output
    assert "Traceback" not in result.output


def test_down_with_a_bad_run_id_is_refused_before_any_call() -> None:
    result = CliRunner().invoke(app, ["lab", "down", "--run-id", "../../prod"])
    assert result.exit_code == 2
    assert "not a lab run ID" in result.output


def test_az_script_matches_the_report_style() -> None:
    script = az_cli_script(lab_for("field-report"))
    assert ('--acr-identity "$ACI_USERID" --assign-identity "$ACI_USERID" --vnet "$VNET" '
            "--subnet aci --ip-address Private --os-type Linux --cpu 1 --memory 2") in script
    assert "--public-network-enabled false --default-action Deny --allow-trusted-services true" \
        in script
    assert script.index("az acr import") < script.index("az container create")
    assert "--admin-enabled false" in script
    assert "pullpath-lab=$RUN_ID" in script
    assert "az monitor log-analytics query" not in script  # needs an extension: az rest instead
    create = next(line for line in script.splitlines() if "az container create" in line)
    assert "--tags" not in create  # az container create has no --tags: az tag update after it


def test_az_script_switches_the_bypass_off_after_the_import() -> None:
    script = az_cli_script(lab_for("field-report:trusted-off"))
    assert "--allow-trusted-services true" in script  # for the import
    off = script.index("az acr update -n \"$ACR\" --allow-trusted-services false")
    assert script.index("az acr import") < off < script.index("az container create")


def test_cost_estimate_has_sources_and_covers_billable_resources() -> None:
    cost = estimate(lab_for("field-report"))
    keys = {line.price.key for line in cost.lines}
    assert {"acr-premium", "private-endpoint", "aca-consumption-vcpu"} <= keys
    assert all(line.price.source for line in cost.lines)
    assert cost.checked
    assert 0 < cost.per_hour < 1


def test_would_be_inventory_attributes_the_consumers() -> None:
    inv = would_be_inventory(lab_for("field-report"))
    (registry,) = inv.registries.values()
    assert registry.restricted
    assert registry.approved_private_endpoint_ids
    subnets = sorted(c.subnet_ids[0].rsplit("/", 1)[-1] for c in inv.consumers.values())
    assert subnets == ["aca", "aci"]


@pytest.mark.skipif(not explain_available(),
                    reason="explain is not importable: pullpath.workflows.explain."
                           "explain_inventory")
@pytest.mark.parametrize("name", SCENARIOS)
def test_predict_for_scenario_uses_explain_and_matches_the_expectation(name: str) -> None:
    lab = lab_for(name)
    for pred, c in zip(predict_for_scenario(lab), lab.scenario.consumers, strict=True):
        assert pred.source == "explain"
        assert pred.path is c.expect.path, c.key
        assert pred.rule == c.expect.knowledge, c.key
