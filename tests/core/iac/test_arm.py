"""read_arm_template: the lab's own templates predict what the lab predicts, real compiled
Bicep from Azure/azure-quickstart-templates, and every template feature (unknowns, conditions,
copy, nested and linked deployments, existing resources, locations, platform effects)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pullpath.core.iac.arm import read_arm_template
from pullpath.core.iac.platform import deployed_in_order
from pullpath.core.inventory import inventory_from_documents
from pullpath.domain.iac import DeploymentScope, IacDocument, SourceLocation, is_unknown_value
from pullpath.domain.inventory import norm_id
from pullpath.lab.predict import consumer_id, predict_for_scenario
from pullpath.lab.render import RenderedLab, lab_names, render
from pullpath.lab.scenarios import list_scenarios, load_scenario
from pullpath.workflows.explain import explain_inventory
from tests.support import TESTS

SCENARIOS = [ident for name in list_scenarios()
             for ident in (name, *(f"{name}:{v}" for v in load_scenario(name).variants))]
RUN = "k3v9x2ab"
QUICKSTARTS = TESTS / "data" / "iac" / "arm"
SCOPE = DeploymentScope(subscription="11111111-2222-3333-4444-555555555555",
                        resource_group="rg-app", location="westeurope")
RG_ID = f"/subscriptions/{SCOPE.subscription}/resourceGroups/{SCOPE.resource_group}"


def template(*resources: Any, **extra: Any) -> dict[str, Any]:
    return {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/"
                       "deploymentTemplate.json#",
            "contentVersion": "1.0.0.0", "resources": list(resources), **extra}


def read(tpl: dict[str, Any], **kw: Any) -> IacDocument:
    return read_arm_template(tpl, path="t.json", scope=SCOPE, **kw)


def by_type(doc: IacDocument, rtype: str) -> list[dict[str, Any]]:
    return [dict(r) for r in doc.resources if r["type"].lower() == rtype.lower()]


def one(doc: IacDocument, rtype: str) -> dict[str, Any]:
    (found,) = by_type(doc, rtype)
    return found


# ------------------------------------------------------------------ the lab's templates


def lab_for(name: str) -> RenderedLab:
    s = load_scenario(name)
    return render(s, lab_names(s, RUN), "japaneast")


def read_lab(lab: RenderedLab) -> tuple[IacDocument, IacDocument]:
    """The two templates `lab plan` writes, read as a user's templates, deployed in order into
    the lab's resource group (the consumers step gets the base step's login server, as the
    runner passes the base deployment's output)."""
    scope = DeploymentScope(resource_group=lab.names.resource_group, location=lab.location)
    base = read_arm_template(lab.base_template, path="base.template.json",
                             parameters=lab.base_parameters(), scope=scope)
    registry = one(base, "Microsoft.ContainerRegistry/registries")
    consumers = read_arm_template(
        lab.consumers_template, path="consumers.template.json",
        parameters=lab.consumers_parameters(registry["properties"]["loginServer"]), scope=scope)
    return base, consumers


@pytest.mark.parametrize("name", SCENARIOS)
def test_lab_templates_read_as_templates_predict_what_the_lab_predicts(name: str) -> None:
    """The template route (read_arm_template -> inventory -> explain) against the lab's own
    route (its evaluator and would-be inventory, predict_for_scenario): per consumer, the
    same path and rule."""
    lab = lab_for(name)
    base, consumers = read_lab(lab)
    assert base.issues == consumers.issues == ()
    docs = deployed_in_order([base.resources, consumers.resources])
    report = explain_inventory(inventory_from_documents([("templates", docs)]))
    got = {norm_id(p.consumer.id): (p.expected_path, p.rule) for p in report.pairs}
    for pred in predict_for_scenario(lab):
        assert pred.source == "explain"
        assert got[norm_id(consumer_id(lab, pred.consumer_key))] == (pred.path, pred.rule), \
            pred.consumer_key


def test_lab_templates_name_what_the_consumers_step_takes_from_the_base_step() -> None:
    base, consumers = read_lab(lab_for("field-report"))
    created = {norm_id(r["id"]) for r in base.resources}
    assert consumers.refers_to
    assert all(norm_id(rid) in created or any(norm_id(rid).startswith(c + "/") for c in created)
               for rid in consumers.refers_to)
    assert base.refers_to == ()
    assert any("pe-pplab" in u and "stand in" in u for u in base.unknowns)
    assert {loc.address for loc in base.locations.values()} == {
        f"resources[{i}]" for i in range(len(lab_for("field-report").base_template["resources"]))}
    records = [r for r in base.resources if r["type"] == "Microsoft.Network/privateDnsZones/A"]
    groups = [r for r in base.resources
              if r["type"] == "Microsoft.Network/privateEndpoints/privateDnsZoneGroups"]
    assert len(records) == 2
    assert {base.locations[norm_id(r["id"])] for r in records} == {
        base.locations[norm_id(groups[0]["id"])]}


# ------------------------------------------------------------------ real compiled Bicep


def quickstart(name: str) -> dict[str, Any]:
    return json.loads((QUICKSTARTS / name / "azuredeploy.json").read_text(encoding="utf-8"))


def test_container_app_acr_nested_modules_reference_outputs_and_unknowns() -> None:
    raw = quickstart("container-app-acr")
    doc = read_arm_template(raw, path="azuredeploy.json", scope=SCOPE)
    assert doc.issues == ()
    # the registry comes from the nested deployment 'acr' (inner scope), as the fixture says
    (acr_module,) = [r for r in raw["resources"] if r["name"] == "acr"]
    stated = acr_module["properties"]["template"]["resources"][0]
    registry = one(doc, stated["type"])
    assert registry["sku"] == stated["sku"]
    assert registry["properties"]["adminUserEnabled"] == stated["properties"]["adminUserEnabled"]
    assert registry["id"].startswith(RG_ID + "/providers/Microsoft.ContainerRegistry/")
    # the app's registry server is the module's output loginServer: reference() of a registry
    # the same deployment creates gives the login server Azure will assign
    app = one(doc, "Microsoft.App/containerApps")
    (pull,) = app["properties"]["configuration"]["registries"]
    assert pull["server"] == registry["properties"]["loginServer"]
    assert pull["server"] == registry["name"].lower() + ".azurecr.io"
    identity = next(r for r in by_type(doc, "Microsoft.ManagedIdentity/userAssignedIdentities")
                    if r["id"] == pull["identity"])
    assert list(app["identity"]["userAssignedIdentities"]) == [identity["id"]]
    # the image comes from the second module's output copy loop
    image = app["properties"]["template"]["containers"][0]["image"]
    default_image = raw["parameters"]["containerImage"]["defaultValue"]
    assert image == pull["server"] + default_image[default_image.index("/"):]
    # the role assignment names the identity's principal ID: one stand-in everywhere
    assignment = next(r for r in by_type(doc, "Microsoft.Authorization/roleAssignments")
                      if r["properties"]["roleDefinitionId"].endswith(
                          "7f951dda-4ed3-4680-a7ca-43fe172d538d"))
    assert assignment["properties"]["principalId"] == identity["properties"]["principalId"]
    # listKeys and utcNow: unknown, named with resource and property
    env = one(doc, "Microsoft.App/managedEnvironments")
    key = env["properties"]["appLogsConfiguration"]["logAnalyticsConfiguration"]["sharedKey"]
    assert is_unknown_value(key)
    assert any("sharedKey" in u and "listKeys()" in u for u in doc.unknowns)
    assert any("forceUpdateTag" in u and "utcNow()" in u for u in doc.unknowns)
    assert any(u.startswith("uniqueString(") and "stand-in" in u for u in doc.unknowns)
    # the copy loop over the images made one deployment script per image
    assert len(by_type(doc, "Microsoft.Resources/deploymentScripts")) == 1
    assert doc.refers_to == ()


def test_aci_vnet_with_its_parameters_file() -> None:
    raw = quickstart("aci-vnet")
    given = json.loads((QUICKSTARTS / "aci-vnet" / "azuredeploy.parameters.json").read_text())
    values = {k: v["value"] for k, v in given["parameters"].items()}
    doc = read_arm_template(raw, path="azuredeploy.json", parameters=values, scope=SCOPE)
    assert doc.issues == doc.unknowns == doc.refers_to == ()
    group = one(doc, "Microsoft.ContainerInstance/containerGroups")
    assert group["name"] == values["containerGroupName"]
    vnet = one(doc, "Microsoft.Network/virtualNetworks")
    (subnet,) = vnet["properties"]["subnets"]
    stated = raw["parameters"]
    assert subnet["name"] == stated["subnetName"]["defaultValue"]
    assert subnet["properties"]["addressPrefix"] == stated["subnetAddressPrefix"]["defaultValue"]
    assert subnet["properties"]["delegations"][0]["properties"]["serviceName"] == \
        raw["resources"][0]["properties"]["subnets"][0]["properties"]["delegations"][0][
            "properties"]["serviceName"]
    profile = one(doc, "Microsoft.Network/networkProfiles")
    assert group["properties"]["networkProfile"]["id"] == profile["id"]
    ip_config = profile["properties"]["containerNetworkInterfaceConfigurations"][0][
        "properties"]["ipConfigurations"][0]
    assert ip_config["properties"]["subnet"]["id"] == f"{vnet['id']}/subnets/{subnet['name']}"


def test_compiled_registry_without_a_required_parameter_is_read_with_an_unknown_name() -> None:
    raw = quickstart("container-registry")
    doc = read_arm_template(raw, path="azuredeploy.json", scope=DeploymentScope())
    registry = one(doc, "Microsoft.ContainerRegistry/registries")
    assert any("acrName" in u and "no value" in u for u in doc.unknowns)
    assert any("name not known" in u for u in doc.unknowns)
    assert registry["sku"] == {"name": raw["parameters"]["acrSku"]["defaultValue"]}
    assert is_unknown_value(registry["location"])  # resourceGroup().location is not given


# ------------------------------------------------------------------ unknown values


def test_parameters_defaults_and_missing_values() -> None:
    tpl = template(
        {"type": "Microsoft.ContainerRegistry/registries", "apiVersion": "2023-07-01",
         "name": "[parameters('name')]", "location": "[parameters('location')]",
         "properties": {"publicNetworkAccess": "[parameters('access')]",
                        "anonymousPullEnabled": "[parameters('anon')]"}},
        parameters={"name": {"type": "string", "defaultValue": "[concat('acr', 'x')]"},
                    "location": {"type": "string", "defaultValue": "[resourceGroup().location]"},
                    "access": {"type": "string"},
                    "anon": {"type": "bool"}})
    doc = read(tpl, parameters={"anon": "[unknown('a Key Vault secret')]"})
    reg = one(doc, "Microsoft.ContainerRegistry/registries")
    assert reg["name"] == "acrx"
    assert reg["location"] == SCOPE.location
    assert is_unknown_value(reg["properties"]["publicNetworkAccess"])
    assert is_unknown_value(reg["properties"]["anonymousPullEnabled"])
    assert "parameters.access: no value given and no defaultValue (give it with --parameters)" \
        in doc.unknowns
    assert any("properties.anonymousPullEnabled: a Key Vault secret" in u for u in doc.unknowns)
    doc = read(tpl, parameters={"access": "Disabled", "anon": False, "extra": 1})
    assert "parameters: 'extra' is given but the template does not declare it" in doc.issues


def test_new_guid_reference_and_list_are_unknown_never_guessed() -> None:
    outside = "/subscriptions/x/resourceGroups/other/providers/Microsoft.Network/virtualNetworks/v"
    tpl = template({
        "type": "Microsoft.App/managedEnvironments", "apiVersion": "2024-03-01", "name": "env",
        "properties": {
            "vnetConfiguration": {"infrastructureSubnetId":
                                  f"[reference('{outside}').subnets[0].id]"},
            "daprAIInstrumentationKey": "[newGuid()]",
            "customDomainConfiguration": {"certificatePassword": "[listSecrets('x', '1').p]"}}})
    doc = read(tpl)
    env = one(doc, "Microsoft.App/managedEnvironments")
    props = env["properties"]
    assert is_unknown_value(props["vnetConfiguration"]["infrastructureSubnetId"])
    assert is_unknown_value(props["daprAIInstrumentationKey"])
    assert is_unknown_value(props["customDomainConfiguration"]["certificatePassword"])
    assert len([u for u in doc.unknowns if u.startswith("Microsoft.App/managedEnvironments env")]
               ) == 3
    assert doc.issues == ()
    # the inventory supplies the VNet: reference() reads it
    subnet = outside + "/subnets/aca"
    known = read(tpl, reference=lambda rid: {"id": rid, "properties": {
        "subnets": [{"id": subnet}]}} if rid == outside else None)
    env = one(known, "Microsoft.App/managedEnvironments")
    assert env["properties"]["vnetConfiguration"]["infrastructureSubnetId"] == subnet
    assert outside in known.refers_to or subnet in known.refers_to


def test_unsupported_function_is_an_issue_with_its_place_and_the_rest_is_read() -> None:
    tpl = template(
        {"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2024-01-01", "name": "v",
         "properties": {"addressSpace": {"addressPrefixes": ["[cidrSubnet('10.0.0.0/16', 24, 0)]"]}}},
        {"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2023-01-31",
         "name": "id"})
    doc = read(tpl)
    assert doc.issues == ("resources[0]: function cidrSubnet() is not supported by pullpath's "
                          "evaluator",)
    vnet = one(doc, "Microsoft.Network/virtualNetworks")
    assert is_unknown_value(vnet["properties"]["addressSpace"]["addressPrefixes"][0])
    assert by_type(doc, "Microsoft.ManagedIdentity/userAssignedIdentities")


# ------------------------------------------------------------------ conditions and copy


def test_conditions() -> None:
    tpl = template(
        {"condition": "[parameters('pe')]", "type": "Microsoft.Network/privateDnsZones",
         "apiVersion": "2020-06-01", "name": "privatelink.azurecr.io", "location": "global"},
        {"condition": "[equals(newGuid(), 'x')]", "type": "Microsoft.Network/natGateways",
         "apiVersion": "2024-01-01", "name": "nat"},
        parameters={"pe": {"type": "bool", "defaultValue": False}})
    doc = read(tpl)
    assert doc.resources == ()
    assert any(u.startswith("resources[1]: condition not known") and "not included" in u
               for u in doc.unknowns)
    assert len(read(tpl, parameters={"pe": True}).resources) == 1


def test_copy_loops_on_resources_and_properties() -> None:
    tpl = template(
        {"copy": {"name": "ids", "count": "[length(parameters('apps'))]"},
         "type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2023-01-31",
         "name": "[format('id-{0}', parameters('apps')[copyIndex()])]"},
        {"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2024-01-01", "name": "v",
         "properties": {"copy": [{"name": "subnets", "count": 2, "input": {
             "name": "[format('s{0}', copyIndex('subnets'))]",
             "properties": {"addressPrefix": "[format('10.0.{0}.0/24', copyIndex('subnets'))]"}}}]}},
        {"copy": {"name": "later", "count": "[length(listKeys('k', '1').keys)]"},
         "type": "Microsoft.Network/publicIPAddresses", "apiVersion": "2024-01-01", "name": "ip"},
        parameters={"apps": {"type": "array", "defaultValue": ["a", "b", "c"]}})
    doc = read(tpl)
    assert [r["name"] for r in by_type(doc, "Microsoft.ManagedIdentity/userAssignedIdentities")] \
        == ["id-a", "id-b", "id-c"]
    vnet = one(doc, "Microsoft.Network/virtualNetworks")
    assert [s["properties"]["addressPrefix"] for s in vnet["properties"]["subnets"]] == [
        "10.0.0.0/24", "10.0.1.0/24"]
    assert not by_type(doc, "Microsoft.Network/publicIPAddresses")
    assert any(u.startswith("resources[2]: copy loop 'later'") and "not expanded" in u
               for u in doc.unknowns)
    # every copy shares its declaration's place
    locs = {doc.locations[norm_id(r["id"])].address for r in by_type(
        doc, "Microsoft.ManagedIdentity/userAssignedIdentities")}
    assert locs == {"resources[0]"}


def test_child_resources_nested_in_a_resource() -> None:
    tpl = template({
        "type": "Microsoft.Network/privateDnsZones", "apiVersion": "2020-06-01",
        "name": "privatelink.azurecr.io", "location": "global",
        "resources": [{"type": "virtualNetworkLinks", "apiVersion": "2020-06-01",
                       "name": "link", "location": "global",
                       "properties": {"virtualNetwork": {"id": "[resourceId("
                                      "'Microsoft.Network/virtualNetworks', 'hub')]"}}}]})
    doc = read(tpl)
    link = one(doc, "Microsoft.Network/privateDnsZones/virtualNetworkLinks")
    assert link["id"] == (RG_ID + "/providers/Microsoft.Network/privateDnsZones/"
                          "privatelink.azurecr.io/virtualNetworkLinks/link")
    assert link["name"] == "privatelink.azurecr.io/link"
    assert "resources" not in one(doc, "Microsoft.Network/privateDnsZones")
    assert doc.locations[norm_id(link["id"])].address == "resources[0].resources[0]"
    assert doc.refers_to == (RG_ID + "/providers/Microsoft.Network/virtualNetworks/hub",)


# ------------------------------------------------------------------ nested and linked


def nested(scope: str, inner: dict[str, Any], **props: Any) -> dict[str, Any]:
    return {"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01",
            "name": "net",
            "properties": {"mode": "Incremental", "expressionEvaluationOptions": {"scope": scope},
                           "template": inner, **props}}


def test_nested_inline_deployment_inner_scope_in_another_resource_group() -> None:
    inner = template(
        {"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2024-01-01",
         "name": "[parameters('vnet')]", "location": "[parameters('where')]",
         "properties": {"addressSpace": {"addressPrefixes": ["10.1.0.0/16"]}}},
        parameters={"vnet": {"type": "string"}, "where": {"type": "string"}},
        outputs={"id": {"type": "string",
                        "value": "[resourceId('Microsoft.Network/virtualNetworks', "
                                 "parameters('vnet'))]"}})
    outer = template(
        {**nested("inner", inner, parameters={"vnet": {"value": "[variables('name')]"},
                                               "where": {"value": "[parameters('location')]"}}),
         "resourceGroup": "rg-net"},
        {"type": "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
         "apiVersion": "2020-06-01", "name": "privatelink.azurecr.io/hub",
         "properties": {"virtualNetwork": {"id": "[reference(resourceId('rg-net', "
                                           "'Microsoft.Resources/deployments', 'net')).outputs"
                                           ".id.value]"}}},
        parameters={"location": {"type": "string", "defaultValue": "northeurope"}},
        variables={"name": "vnet-hub"})
    doc = read(outer)
    vnet = one(doc, "Microsoft.Network/virtualNetworks")
    expected = (f"/subscriptions/{SCOPE.subscription}/resourceGroups/rg-net/providers/"
                "Microsoft.Network/virtualNetworks/vnet-hub")
    assert vnet["id"] == expected
    assert vnet["location"] == "northeurope"
    link = one(doc, "Microsoft.Network/privateDnsZones/virtualNetworkLinks")
    assert link["properties"]["virtualNetwork"]["id"] == expected
    assert doc.locations[norm_id(expected)].address == \
        "resources[0].properties.template.resources[0]"
    assert doc.issues == ()


def test_nested_inline_deployment_outer_scope_sees_the_parent() -> None:
    inner = template({"type": "Microsoft.ManagedIdentity/userAssignedIdentities",
                      "apiVersion": "2023-01-31", "name": "[variables('id')]",
                      "location": "[parameters('location')]"})
    outer = template(nested("outer", inner),
                     parameters={"location": {"type": "string", "defaultValue": "westus"}},
                     variables={"id": "id-outer"})
    identity = one(read(outer), "Microsoft.ManagedIdentity/userAssignedIdentities")
    assert identity["name"] == "id-outer"
    assert identity["location"] == "westus"


def test_linked_template_is_an_issue_naming_it() -> None:
    tpl = template({"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01",
                    "name": "linked", "properties": {"mode": "Incremental", "templateLink": {
                        "uri": "https://example.invalid/net.json"}}})
    doc = read(tpl)
    assert doc.issues == ("resources[0]: linked template 'https://example.invalid/net.json' "
                          "not read; inline it or use az bicep build",)
    assert doc.resources == ()


# ------------------------------------------------------------------ existing, IDs, 2.0


def test_symbolic_resources_existing_and_literal_ids_go_to_refers_to() -> None:
    literal = ("/subscriptions/22222222-0000-0000-0000-000000000000/resourceGroups/hub/"
               "providers/Microsoft.Network/privateDnsZones/privatelink.azurecr.io")
    tpl = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/"
                   "deploymentTemplate.json#",
        "languageVersion": "2.0", "contentVersion": "1.0.0.0",
        "resources": {
            "vnet": {"existing": True, "type": "Microsoft.Network/virtualNetworks",
                     "apiVersion": "2024-01-01", "name": "spoke", "resourceGroup": "rg-net"},
            "acr": {"type": "Microsoft.ContainerRegistry/registries", "apiVersion": "2023-07-01",
                    "name": "acrapp", "location": "westeurope", "sku": {"name": "Premium"},
                    "properties": {"publicNetworkAccess": "Disabled"}},
            "pe": {"type": "Microsoft.Network/privateEndpoints", "apiVersion": "2024-01-01",
                   "name": "pe-acr", "location": "westeurope",
                   "properties": {
                       "subnet": {"id": "[format('{0}/subnets/pe', resourceId('rg-net', "
                                        "'Microsoft.Network/virtualNetworks', 'spoke'))]"},
                       "privateLinkServiceConnections": [{"name": "r", "properties": {
                           "privateLinkServiceId": "[resourceId('Microsoft.ContainerRegistry/"
                                                   "registries', 'acrapp')]",
                           "groupIds": ["registry"]}}]},
                   "dependsOn": ["acr", "vnet"]},
            "group": {"type": "Microsoft.Network/privateEndpoints/privateDnsZoneGroups",
                      "apiVersion": "2024-01-01", "name": "pe-acr/default",
                      "properties": {"privateDnsZoneConfigs": [{"name": "z", "properties": {
                          "privateDnsZoneId": literal}}]}},
            "role": {"type": "Microsoft.Authorization/roleAssignments",
                     "apiVersion": "2022-04-01", "scope": "acr", "name": "[guid('x')]",
                     "properties": {"roleDefinitionId": "[subscriptionResourceId("
                                    "'Microsoft.Authorization/roleDefinitions', "
                                    "'7f951dda-4ed3-4680-a7ca-43fe172d538d')]",
                                    "principalId": "[reference('acr', '2023-07-01', 'Full')"
                                                   ".identity.principalId]"}},
        },
    }
    vnet_id = (f"/subscriptions/{SCOPE.subscription}/resourceGroups/rg-net/providers/"
               "Microsoft.Network/virtualNetworks/spoke")
    doc = read(tpl)
    assert vnet_id in doc.refers_to
    assert literal in doc.refers_to
    assert vnet_id + "/subnets/pe" in doc.refers_to
    assert not any("roledefinitions" in r.lower() for r in doc.refers_to)
    assert not any("acrapp" in r for r in doc.refers_to)  # created here
    assert {r["type"] for r in doc.resources} >= {
        "Microsoft.ContainerRegistry/registries", "Microsoft.Network/privateEndpoints"}
    assert not by_type(doc, "Microsoft.Network/virtualNetworks")  # existing: not created
    role = one(doc, "Microsoft.Authorization/roleAssignments")
    assert role["id"].startswith(RG_ID + "/providers/Microsoft.ContainerRegistry/registries/"
                                 "acrapp/providers/Microsoft.Authorization/roleAssignments/")
    assert is_unknown_value(role["properties"]["principalId"])  # the registry has no identity
    assert doc.locations[norm_id(vnet_id)].address == "vnet"
    # the PE's subnet is not in the template: no addresses, no records assumed, said so
    registry = one(doc, "Microsoft.ContainerRegistry/registries")
    (conn,) = registry["properties"]["privateEndpointConnections"]
    assert conn["properties"]["privateLinkServiceConnectionState"]["status"] == "Approved"
    assert not by_type(doc, "Microsoft.Network/privateDnsZones/A")
    assert any("pe-acr" in u and "no DNS records are assumed" in u for u in doc.unknowns)
    # ...unless the inventory gives the subnet
    subnet = {"id": vnet_id + "/subnets/pe", "properties": {"addressPrefix": "10.9.1.0/24"}}
    known = read(tpl, reference=lambda rid: subnet if rid.lower() == subnet["id"].lower()
                 else None)
    records = {r["name"]: r["properties"]["aRecords"][0]["ipv4Address"]
               for r in by_type(known, "Microsoft.Network/privateDnsZones/A")}
    assert records == {"acrapp": "10.9.1.4", "acrapp.westeurope.data": "10.9.1.5"}
    pe = one(known, "Microsoft.Network/privateEndpoints")
    assert [c["fqdn"] for c in pe["properties"]["customDnsConfigs"]] == [
        "acrapp.azurecr.io", "acrapp.westeurope.data.azurecr.io"]
    assert any("pe-acr" in u and "first free addresses stand in" in u for u in known.unknowns)


def test_reference_of_a_resource_in_the_template_reads_its_body_and_platform_values() -> None:
    tpl = template(
        {"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2023-01-31",
         "name": "id-pull"},
        {"type": "Microsoft.ContainerRegistry/registries", "apiVersion": "2023-07-01",
         "name": "AcrBig", "properties": {"publicNetworkAccess": "Disabled"}},
        {"type": "Microsoft.ContainerInstance/containerGroups", "apiVersion": "2023-05-01",
         "name": "cg", "properties": {
             "imageRegistryCredentials": [{
                 "server": "[reference(resourceId('Microsoft.ContainerRegistry/registries', "
                           "'AcrBig')).loginServer]",
                 "identity": "[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', "
                             "'id-pull')]"}],
             "access": "[reference(resourceId('Microsoft.ContainerRegistry/registries', "
                       "'AcrBig')).publicNetworkAccess]",
             "principal": "[reference(resourceId('Microsoft.ManagedIdentity/"
                          "userAssignedIdentities', 'id-pull')).principalId]",
             "later": "[reference(resourceId('Microsoft.ContainerRegistry/registries', "
                      "'AcrBig')).dataEndpointHostNames]"}})
    doc = read(tpl)
    group = one(doc, "Microsoft.ContainerInstance/containerGroups")["properties"]
    identity = one(doc, "Microsoft.ManagedIdentity/userAssignedIdentities")
    registry = one(doc, "Microsoft.ContainerRegistry/registries")
    assert group["imageRegistryCredentials"][0]["server"] == "acrbig.azurecr.io"
    assert registry["properties"]["loginServer"] == "acrbig.azurecr.io"
    assert group["access"] == registry["properties"]["publicNetworkAccess"]
    assert group["principal"] == identity["properties"]["principalId"]
    assert is_unknown_value(group["later"])
    assert any("id-pull" in u and "stand-ins" in u for u in doc.unknowns)


def test_subscription_level_template_ids() -> None:
    tpl = template(
        {"type": "Microsoft.Resources/resourceGroups", "apiVersion": "2022-09-01",
         "name": "rg-new", "location": "westeurope"},
        {**nested("inner", template({"type": "Microsoft.Network/virtualNetworks",
                                     "apiVersion": "2024-01-01", "name": "v"})),
         "resourceGroup": "rg-new"})
    tpl["$schema"] = ("https://schema.management.azure.com/schemas/2018-05-01/"
                      "subscriptionDeploymentTemplate.json#")
    doc = read(tpl)
    ids = {r["id"] for r in doc.resources}
    assert f"/subscriptions/{SCOPE.subscription}/resourceGroups/rg-new" in ids
    assert (f"/subscriptions/{SCOPE.subscription}/resourceGroups/rg-new/providers/"
            "Microsoft.Network/virtualNetworks/v") in ids


def test_locate_is_asked_for_json_paths() -> None:
    asked: list[tuple[str | int, ...]] = []

    def locate(path: tuple[str | int, ...]) -> SourceLocation | None:
        asked.append(path)
        return SourceLocation("t.json", line=len(asked)) if path[-1] != 0 or len(path) > 2 \
            else None

    inner = template({"type": "Microsoft.ManagedIdentity/userAssignedIdentities",
                      "apiVersion": "2023-01-31", "name": "inner-id"})
    tpl = template({"type": "Microsoft.ManagedIdentity/userAssignedIdentities",
                    "apiVersion": "2023-01-31", "name": "top-id"}, nested("inner", inner))
    doc = read(tpl, locate=locate)
    assert ("resources", 0) in asked
    assert ("resources", 1, "properties", "template", "resources", 0) in asked
    top = doc.locations[norm_id(RG_ID + "/providers/Microsoft.ManagedIdentity/"
                                        "userAssignedIdentities/top-id")]
    assert top == SourceLocation("t.json", address="resources[0]")  # locate said None
    deep = doc.locations[norm_id(RG_ID + "/providers/Microsoft.ManagedIdentity/"
                                         "userAssignedIdentities/inner-id")]
    assert deep.line > 0
    assert deep.address == "resources[1].properties.template.resources[0]"


def test_not_a_template_is_an_issue() -> None:
    doc = read_arm_template({"parameters": {}}, path="p.json")
    assert doc.issues == ("p.json: not an ARM deployment template (no 'resources')",)


# ------------------------------------------------------------------ never raises

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 900) | st.text(max_size=12)
    | st.sampled_from(["[parameters('p')]", "[copyIndex()]", "[reference('x').y]",
                       "[resourceId('A.B/c', 'n')]", "[variables('v')]", "[concat(",
                       "Microsoft.Network/virtualNetworks", "Microsoft.Resources/deployments",
                       "[newGuid()]", "[if(true(), 1)]", "[format('{0}')]", "inner"]),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["type", "name", "properties", "copy", "count", "input",
                                       "condition", "resources", "template", "parameters",
                                       "value", "scope", "existing", "variables", "v", "p",
                                       "expressionEvaluationOptions", "subnets", "outputs"]),
                      children, max_size=5),
    max_leaves=25)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(resources=st.lists(JSON, max_size=4), params=st.dictionaries(
    st.sampled_from(["p", "q"]), JSON, max_size=2), variables=JSON)
def test_read_arm_template_never_raises(resources: list[Any], params: dict[str, Any],
                                        variables: Any) -> None:
    tpl = {"resources": resources, "parameters": {"p": {"type": "string"}},
           "variables": variables}
    doc = read_arm_template(tpl, path="fuzz.json", parameters=params)
    assert isinstance(doc, IacDocument)
    for r in doc.resources:
        json.dumps(r)  # plain JSON: no Unknown left inside


def test_secure_parameters_are_never_read_into_the_document() -> None:
    tpl = template({"type": "Microsoft.ContainerRegistry/registries/tokens",
                    "apiVersion": "2023-07-01", "name": "[format('acr/{0}', parameters('pw'))]",
                    "properties": {"credentials": {"password": "[parameters('pw')]"}}},
                   parameters={"pw": {"type": "secureString"}})
    doc = read(tpl, parameters={"pw": "hunter2-secret"})
    assert "hunter2" not in json.dumps([dict(r) for r in doc.resources])
    assert "hunter2" not in json.dumps([*doc.unknowns, *doc.issues, *doc.refers_to])
    (token,) = doc.resources
    assert token["name"].startswith("unknown-name-")
    assert token["id"].count("/unknown-name-") == 2
    assert any("is secure" in u for u in doc.unknowns)


def quickstart_parameters(name: str) -> dict[str, Any]:
    given = json.loads((QUICKSTARTS / name / "azuredeploy.parameters.json").read_text())
    return {k: v["value"] for k, v in given["parameters"].items()}


def test_private_endpoint_quickstart_names_everything_it_refers_to() -> None:
    """The template creates a private endpoint and its zone group into resources given by ID
    (subnet, private link resource, zone): all of them are for --inventory."""
    values = quickstart_parameters("private-endpoint")
    doc = read_arm_template(quickstart("private-endpoint"), path="azuredeploy.json",
                            parameters=values, scope=SCOPE)
    assert doc.issues == ()
    pe = one(doc, "Microsoft.Network/privateEndpoints")
    assert pe["properties"]["subnet"]["id"] == values["subnetId"]
    group = one(doc, "Microsoft.Network/privateEndpoints/privateDnsZoneGroups")
    assert group["id"].startswith(pe["id"] + "/privateDnsZoneGroups/")
    assert set(doc.refers_to) == {values["subnetId"], values["privateLinkResourceId"],
                                  values["privateDnsZoneId"]}


def test_private_endpoint_to_an_existing_registry_with_the_inventory() -> None:
    """The same quickstart aimed at a registry that exists: its manual connection is Pending,
    written as the registry's connection; the inventory's subnet gives the addresses the
    zone group's records stand in with."""
    registry_id = (f"{RG_ID}/providers/Microsoft.ContainerRegistry/registries/acrshared")
    subnet_id = f"{RG_ID}/providers/Microsoft.Network/virtualNetworks/hub/subnets/pe"
    zone_id = f"{RG_ID}/providers/Microsoft.Network/privateDnsZones/privatelink.azurecr.io"
    existing = {
        registry_id.lower(): {"id": registry_id, "type": "Microsoft.ContainerRegistry/registries",
                              "name": "acrshared", "location": "japaneast",
                              "properties": {"publicNetworkAccess": "Disabled"}},
        subnet_id.lower(): {"id": subnet_id, "properties": {"addressPrefix": "10.20.1.0/24"}},
    }
    values = {**quickstart_parameters("private-endpoint"), "privateEndpointName": "pe-acr",
              "privateLinkResourceId": registry_id, "targetSubResource": ["registry"],
              "subnetId": subnet_id, "privateDnsZoneId": zone_id}
    doc = read_arm_template(quickstart("private-endpoint"), path="azuredeploy.json",
                            parameters=values, scope=SCOPE,
                            reference=lambda rid: existing.get(rid.lower()))
    (conn,) = by_type(doc, "Microsoft.ContainerRegistry/registries/privateEndpointConnections")
    assert conn["id"] == f"{registry_id}/privateEndpointConnections/pe-acr"
    assert conn["properties"]["privateLinkServiceConnectionState"]["status"] == "Pending"
    assert any("acrshared" in u and "Pending on creation" in u for u in doc.unknowns)
    records = {r["name"]: r["properties"]["aRecords"][0]["ipv4Address"]
               for r in by_type(doc, "Microsoft.Network/privateDnsZones/A")}
    assert records == {"acrshared": "10.20.1.4", "acrshared.japaneast.data": "10.20.1.5"}
    inventory = inventory_from_documents([("inventory", [existing[registry_id.lower()]]),
                                          ("azuredeploy.json", list(doc.resources))])
    (registry,) = inventory.registries.values()
    assert [c.status for c in registry.private_endpoint_connections] == ["Pending"]
    assert registry.approved_private_endpoint_ids == ()


# ------------------------------------------------------------------ a user's template

AUTHORED = TESTS / "data" / "iac" / "arm-authored" / "field-report.json"


def explain_template(tpl: dict[str, Any], scope: DeploymentScope) -> dict[str, Any]:
    doc = read_arm_template(tpl, path="field-report.json", scope=scope)
    assert doc.issues == ()
    report = explain_inventory(inventory_from_documents([("field-report.json",
                                                          list(doc.resources))]))
    return {p.consumer.id.rsplit("/", 1)[-1]: p for p in report.pairs}


def test_a_hand_written_field_report_template_predicts_the_field_report() -> None:
    pairs = explain_template(json.loads(AUTHORED.read_text()),
                             DeploymentScope(resource_group="rg-orders", location="japaneast"))
    assert (pairs["orders-worker"].expected_path.value, pairs["orders-worker"].rule) == \
        ("trusted-service", "KB-ACI-002")
    assert (pairs["orders-api"].expected_path.value, pairs["orders-api"].rule) == \
        ("private-endpoint", "KB-ACA-001")


def test_without_the_location_the_data_endpoint_is_unknown_and_said_so() -> None:
    tpl = json.loads(AUTHORED.read_text())
    doc = read_arm_template(tpl, path="field-report.json", scope=DeploymentScope())
    assert any("the region of registry" in u for u in doc.unknowns)
    assert not by_type(doc, "Microsoft.Network/privateDnsZones/A") or all(
        "[" not in r["name"] for r in by_type(doc, "Microsoft.Network/privateDnsZones/A"))
    pairs = explain_template(tpl, DeploymentScope())
    assert pairs["orders-api"].expected_path.value == "unknown"
    assert any("region" in m for m in pairs["orders-api"].missing)


def test_one_mistake_the_bypass_off_denies_the_container_group() -> None:
    tpl = json.loads(AUTHORED.read_text())
    (registry,) = [r for r in tpl["resources"]
                   if r["type"] == "Microsoft.ContainerRegistry/registries"]
    registry["properties"]["networkRuleBypassOptions"] = "None"
    pairs = explain_template(tpl, DeploymentScope(resource_group="rg-orders",
                                                  location="japaneast"))
    assert pairs["orders-worker"].expected_path.value == "denied"
    assert pairs["orders-api"].expected_path.value == "private-endpoint"


def test_where_a_resource_goes_unknown_or_its_condition_unreadable() -> None:
    tpl = template(
        {"type": "Microsoft.Authorization/roleAssignments", "apiVersion": "2022-04-01",
         "name": "r", "scope": "[reference('/subscriptions/s/x').scopeId]"},
        {"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2024-01-01", "name": "v",
         "resourceGroup": "[parameters('rg')]"},
        {"condition": "[parameters('flag')]", "type": "Microsoft.Network/natGateways",
         "apiVersion": "2024-01-01", "name": "nat"},
        parameters={"rg": {"type": "string"}, "flag": {"type": "string", "defaultValue": "yes"}})
    doc = read(tpl)
    assert doc.resources == ()
    assert any(u.startswith("resources[0]: its scope is not known before deployment")
               for u in doc.unknowns)
    assert any(u.startswith("resources[1]: its subscriptionId or resourceGroup is not known")
               for u in doc.unknowns)
    assert doc.issues == ("resources[2]: condition 'yes' is not true or false: the resource is "
                          "not included",)


def test_a_nested_parameter_the_deployment_does_not_pass() -> None:
    inner = template({"type": "Microsoft.ManagedIdentity/userAssignedIdentities",
                      "apiVersion": "2023-01-31", "name": "[parameters('n')]"},
                     parameters={"n": {"type": "string"}})
    doc = read(template(nested("inner", inner)))
    assert "resources[0].properties.template.parameters.n: no value given and no defaultValue " \
           "(the deployment does not pass it)" in doc.unknowns


def test_compiled_bicep_functions_and_resource_info() -> None:
    tpl = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/"
                   "deploymentTemplate.json#",
        "languageVersion": "2.0", "contentVersion": "1.0.0.0",
        "functions": [{"namespace": "__bicep", "members": {"registryName": {
            "parameters": [{"name": "app", "type": "string"}],
            "output": {"type": "string", "value": "[format('acr{0}', parameters('app'))]"}}}}],
        "resources": {
            "acr": {"type": "Microsoft.ContainerRegistry/registries", "apiVersion": "2023-07-01",
                    "name": "[__bicep.registryName('orders')]", "location": "westeurope"},
            "diag": {"type": "Microsoft.Insights/diagnosticSettings",
                     "apiVersion": "2021-05-01-preview", "name": "logs",
                     "scope": "[resourceInfo('acr').id]",
                     "properties": {"logs": "[map(createArray('allLogs'), lambda('g', "
                                            "createObject('categoryGroup', lambdaVariables('g'),"
                                            " 'enabled', true())))]"}},
        },
    }
    doc = read(tpl)
    assert doc.issues == ()
    registry = one(doc, "Microsoft.ContainerRegistry/registries")
    assert registry["name"] == "acrorders"
    diag = one(doc, "Microsoft.Insights/diagnosticSettings")
    assert diag["id"] == registry["id"] + "/providers/Microsoft.Insights/diagnosticSettings/logs"
    assert diag["properties"]["logs"] == [{"categoryGroup": "allLogs", "enabled": True}]


def test_nested_outer_scope_template_with_symbolic_resources() -> None:
    inner = {"languageVersion": "2.0", "resources": {"uami": {
        "type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2023-01-31",
        "name": "[variables('id')]"}}}
    doc = read(template(nested("outer", inner), variables={"id": "id-sym"}))
    assert one(doc, "Microsoft.ManagedIdentity/userAssignedIdentities")["name"] == "id-sym"
    assert doc.issues == ()


def test_replica_regions_get_their_data_records() -> None:
    tpl = template(
        {"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2024-01-01", "name": "v",
         "location": "westeurope", "properties": {"subnets": [
             {"name": "pe", "properties": {"addressPrefix": "10.1.0.0/27"}}]}},
        {"type": "Microsoft.ContainerRegistry/registries", "apiVersion": "2023-07-01",
         "name": "acrgeo", "location": "westeurope", "sku": {"name": "Premium"}},
        {"type": "Microsoft.ContainerRegistry/registries/replications",
         "apiVersion": "2023-07-01", "name": "acrgeo/northeurope", "location": "northeurope"},
        {"type": "Microsoft.Network/privateEndpoints", "apiVersion": "2024-01-01",
         "name": "pe", "location": "westeurope", "properties": {
             "subnet": {"id": "[resourceId('Microsoft.Network/virtualNetworks/subnets', 'v', "
                              "'pe')]"},
             "privateLinkServiceConnections": [{"name": "c", "properties": {
                 "privateLinkServiceId": "[resourceId('Microsoft.ContainerRegistry/registries',"
                                         " 'acrgeo')]", "groupIds": ["registry"]}}]}},
        {"type": "Microsoft.Network/privateDnsZones", "apiVersion": "2020-06-01",
         "name": "privatelink.azurecr.io", "location": "global"},
        {"type": "Microsoft.Network/privateEndpoints/privateDnsZoneGroups",
         "apiVersion": "2024-01-01", "name": "pe/default", "properties": {
             "privateDnsZoneConfigs": [{"name": "z", "properties": {
                 "privateDnsZoneId": "[resourceId('Microsoft.Network/privateDnsZones', "
                                     "'privatelink.azurecr.io')]"}}]}})
    doc = read(tpl)
    records = {r["name"]: r["properties"]["aRecords"][0]["ipv4Address"]
               for r in by_type(doc, "Microsoft.Network/privateDnsZones/A")}
    assert records == {"acrgeo": "10.1.0.4", "acrgeo.westeurope.data": "10.1.0.5",
                       "acrgeo.northeurope.data": "10.1.0.6"}
    (conn,) = one(doc, "Microsoft.ContainerRegistry/registries")["properties"][
        "privateEndpointConnections"]
    assert conn["properties"]["privateLinkServiceConnectionState"]["status"] == "Approved"
