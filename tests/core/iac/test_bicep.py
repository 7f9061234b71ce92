"""pullpath.core.iac.bicep: a .bicep file read into the ARM template ``az bicep build`` emits.

The main check: for quickstart templates of Azure/azure-quickstart-templates, the translation
of ``main.bicep``, evaluated by pullpath's ARM evaluator, gives the same resources (types, IDs,
properties, dependencies) as the ``azuredeploy.json`` the real Bicep compiler made from it,
evaluated the same way (tests/data/iac/bicep/PROVENANCE.md). Where the evaluator cannot
evaluate a value (``uniqueString()``, ``environment()``, ``listKeys()``...), both sides are
compared as expressions with parameters and variables written out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pullpath.core.iac.armexpr import (
    ArmContext,
    ArmExpressionError,
    evaluate,
    is_expression,
    resource_id,
)
from pullpath.core.iac.bicep import BicepError, bicep_to_template
from pullpath.domain.iac import PLACEHOLDER_SUBSCRIPTION, is_unknown_value
from pullpath.lab.render import lab_names, render
from pullpath.lab.scenarios import load_scenario

DATA = Path(__file__).resolve().parents[2] / "data" / "iac" / "bicep"
RG = "rg-bicep"
LOCATION = "japaneast"


class _Runtime(str):
    """What ``reference()`` returns here: a value known only after deployment, named by the
    resource ID and the property path read from it, so both sides can be compared."""

    def __getitem__(self, key: Any) -> _Runtime:  # type: ignore[override]
        return _Runtime(f"{self}.{key}")

    def __contains__(self, key: object) -> bool:  # type: ignore[override]
        return True  # every property of a deployed resource can be read


Mapping.register(_Runtime)  # the evaluator reads properties of mappings only


def _runtime(rid: str) -> Any:
    return _Runtime(f"runtime:{rid.lower()}")


def _canon(expr: str, params: dict[str, Any], variables: dict[str, Any], depth: int = 0) -> str:
    """An expression with parameters and variables written out and blanks removed."""
    def var(m: re.Match[str]) -> str:
        value = variables[m.group(1)]
        if is_expression(value) and depth < 20:
            return "(" + _canon(value[1:-1], params, variables, depth + 1) + ")"
        return "'" + str(value).replace("'", "''") + "'"

    def param(m: re.Match[str]) -> str:
        return "P" + json.dumps(params[m.group(1)], sort_keys=True)

    text = re.sub(r"variables\('([^']*)'\)", var, expr)
    text = re.sub(r"parameters\('([^']*)'\)", param, text)
    # reference(id, 'api-version') and reference(id) read the same resource
    text = re.sub(r"(reference\(resourceId\([^()]*\))\s*,\s*'\d{4}-\d{2}-\d{2}(?:-preview)?'\)",
                  r"\1)", text)
    pieces = re.split(r"('(?:[^']|'')*')", text)
    return "".join(p if p.startswith("'") else re.sub(r"\s+", "", p) for p in pieces)


class _Resolver:
    """Every value of a template evaluated where the evaluator can, else its canonical text."""

    def __init__(self, template: dict[str, Any], params: dict[str, Any]) -> None:
        self.params = {name: spec["defaultValue"] for name, spec in
                       template.get("parameters", {}).items() if "defaultValue" in spec}
        self.params.update(params)
        assert not [k for k, v in self.params.items() if is_expression(v)], \
            "give every parameter whose default is an expression a value"
        self.variables = dict(template.get("variables", {}))
        self.template = template

    def ctx(self) -> ArmContext:
        return ArmContext(PLACEHOLDER_SUBSCRIPTION, RG, LOCATION, self.params, self.variables,
                          reference=_runtime)

    def value(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {self.value(k) if is_expression(k) else k: self.value(v)
                    for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, str) and is_expression(value):
            try:
                result = evaluate(value, self.ctx())
            except (ArmExpressionError, KeyError, IndexError, TypeError, ValueError):
                return "~" + _canon(value[1:-1], self.params, self.variables)
            return result.lower() if isinstance(result, str) and result.startswith("/") \
                else result
        return value

    def resource_key(self, res: dict[str, Any]) -> str:
        rtype, name = res["type"], self.value(res["name"])
        scope = self.value(res.get("scope", ""))
        if not isinstance(name, str) or name.startswith("~") or (
                isinstance(scope, str) and scope.startswith("~")):
            return f"{rtype.lower()}|{name}|{scope}"
        names = name.split("/")
        if scope:
            if not scope.startswith("/"):
                parts = scope.split("/")
                scope = resource_id(PLACEHOLDER_SUBSCRIPTION, RG, "/".join(
                    [parts[0], *parts[1::2]]), *parts[2::2])
            ns, *types = rtype.split("/")
            return (f"{scope}/providers/{ns}/" + "/".join(
                f"{t}/{n}" for t, n in zip(types, names, strict=True))).lower()
        return resource_id(PLACEHOLDER_SUBSCRIPTION, RG, rtype, *names).lower()

    def resources(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for res in self.template["resources"]:
            if res.get("existing"):
                continue
            body = {k: self.value(v) for k, v in res.items()
                    if k not in ("type", "name", "scope", "dependsOn", "apiVersion")}
            body["type"] = res["type"].lower()
            body["apiVersion"] = res["apiVersion"]
            body["dependsOn"] = sorted(str(self.value(d)) for d in res.get("dependsOn", []))
            out[self.resource_key(res)] = body
        return out


def _read(folder: str) -> tuple[str, dict[str, Any]]:
    return ((DATA / folder / "main.bicep").read_text(encoding="utf-8"),
            json.loads((DATA / folder / "azuredeploy.json").read_text(encoding="utf-8")))


QUICKSTARTS = {
    "container-registry": {"acrName": "pplabacr01", "location": LOCATION},
    "container-registry-with-policies-and-diagnostics": {
        "acrName": "pplabacr02", "location": LOCATION, "enableDiagnostics": True,
        "enableDeleteLock": True, "publicNetworkAccess": "Disabled",
        "networkRuleBypassOptions": "AzureServices", "acrSku": "Premium",
        "logAnalyticsWorkspaceId": "/subscriptions/s/resourceGroups/g/providers/"
                                   "Microsoft.OperationalInsights/workspaces/w",
        "ipRules": {"defaultAction": "Deny", "ipRules": [{"action": "Allow",
                                                          "value": "203.0.113.0/24"}]}},
    "container-app-vnet-internal-environment": {
        "containerAppName": "app-pp", "containerAppEnvName": "env-pp",
        "containerAppLogAnalyticsName": "log-pp", "virtualNetworkName": "vnet-pp",
        "location": LOCATION},
    "private-endpoint-sql": {
        "sqlAdministratorLogin": "pp", "sqlAdministratorLoginPassword": "not-a-secret-1",
        "vmAdminUsername": "pp", "vmAdminPassword": "not-a-secret-2", "location": LOCATION},
}


@pytest.mark.parametrize("folder", sorted(QUICKSTARTS))
def test_translation_evaluates_like_the_compiled_quickstart(folder: str) -> None:
    text, compiled = _read(folder)
    template, _, issues = bicep_to_template(text, path=f"{folder}/main.bicep")
    assert issues == []
    params = QUICKSTARTS[folder]
    ours = _Resolver(template, params).resources()
    theirs = _Resolver(compiled, params).resources()
    assert sorted(ours) == sorted(theirs)
    for key in theirs:
        assert ours[key] == theirs[key], key


def test_the_comparison_sees_a_wrong_property() -> None:
    """The check above would notice a translation that reads one property differently."""
    text, compiled = _read("container-app-vnet-internal-environment")
    wrong = text.replace("vnet.properties.subnets[0].id", "vnet.properties.subnets[1].id")
    template, _, _ = bicep_to_template(wrong, path="main.bicep")
    params = QUICKSTARTS["container-app-vnet-internal-environment"]
    ours, theirs = _Resolver(template, params).resources(), _Resolver(compiled, params).resources()
    assert ours != theirs


def test_subnet_ids_identities_and_network_settings_of_the_quickstarts() -> None:
    text, _ = _read("private-endpoint-sql")
    template, _, _ = bicep_to_template(text, path="main.bicep")
    by_type = {r["type"]: r for r in template["resources"]}
    pe = by_type["Microsoft.Network/privateEndpoints"]
    assert pe["properties"]["subnet"]["id"] == (
        "[resourceId('Microsoft.Network/virtualNetworks/subnets', variables('vnetName'), "
        "variables('subnet1Name'))]")
    aca_text, _ = _read("container-app-vnet-internal-environment")
    aca, _, _ = bicep_to_template(aca_text, path="main.bicep")
    env = next(r for r in aca["resources"] if r["type"] == "Microsoft.App/managedEnvironments")
    assert env["properties"]["vnetConfiguration"]["infrastructureSubnetId"] == (
        "[reference(resourceId('Microsoft.Network/virtualNetworks', "
        "parameters('virtualNetworkName')), '2022-07-01').subnets[0].id]")


# ------------------------------------------------------------------------------ field report


def test_field_report_in_bicep_matches_the_lab_template() -> None:
    scenario = load_scenario("field-report")
    lab = render(scenario, lab_names(scenario, "k3v9x2ab"), LOCATION)
    base = lab.base_parameters()
    acr_id = resource_id(PLACEHOLDER_SUBSCRIPTION, RG, "Microsoft.ContainerRegistry/registries",
                         base["registryName"])
    login_server = _runtime(acr_id)["loginServer"]
    consumers = lab.consumers_parameters(login_server)
    expected: dict[str, dict[str, Any]] = {}
    for tmpl, values in ((lab.base_template, base), (lab.consumers_template, consumers)):
        expected.update(_Resolver(tmpl, values).resources())

    text = (DATA / "field-report" / "main.bicep").read_text(encoding="utf-8")
    template, _, issues = bicep_to_template(text, path="field-report/main.bicep")
    assert issues == []
    params = {k: v for k, v in {**base, **consumers}.items()
              if k not in ("runId", "scenario", "registryLoginServer")}
    ours = _Resolver(template, params).resources()

    assert sorted(ours) == sorted(expected)
    assert sorted(r["type"] for r in ours.values()) == sorted(r["type"] for r in expected.values())
    for key, theirs in expected.items():
        mine = ours[key]
        for part in ("properties", "identity", "sku", "location", "apiVersion"):
            assert mine.get(part) == theirs.get(part), (key, part)


def test_field_report_existing_subnets_are_marked_existing() -> None:
    text = (DATA / "field-report" / "main.bicep").read_text(encoding="utf-8")
    template, _, _ = bicep_to_template(text, path="main.bicep")
    existing = [r for r in template["resources"] if r.get("existing")]
    assert [r["name"] for r in existing] == [
        f"[format('{{0}}/{{1}}', parameters('vnetName'), '{n}')]" for n in ("aci", "aca", "pe")]
    assert all(r["type"] == "Microsoft.Network/virtualNetworks/subnets" for r in existing)


# ------------------------------------------------------------------------------ locations


@pytest.mark.parametrize("folder", [*sorted(QUICKSTARTS), "field-report"])
def test_each_location_points_at_its_resource_line(folder: str) -> None:
    text = (DATA / folder / "main.bicep").read_text(encoding="utf-8")
    template, locations, _ = bicep_to_template(text, path=f"{folder}/main.bicep")
    lines = text.splitlines()
    assert sorted(locations) == [("resources", i) for i in range(len(template["resources"]))]
    for pointer, loc in locations.items():
        assert loc.file == f"{folder}/main.bicep"
        line = lines[loc.line - 1]
        symbol = loc.address.rsplit("::", 1)[-1]
        assert line[loc.column - 1:].startswith(f"resource {symbol} "), (pointer, line)
        assert loc.line <= loc.end_line
        assert lines[loc.end_line - 1].strip().startswith("}"), (pointer, loc)


# ------------------------------------------------------------------------------ constructs


def _one(text: str, **kw: Any) -> tuple[dict[str, Any], list[str]]:
    template, _, issues = bicep_to_template(text, path="t.bicep")
    return template, issues


def test_operator_precedence_is_bicep_s_not_pycep_s() -> None:
    template, issues = _one(
        "param n int = 2\nparam s string = 'x'\nparam o object = {}\n"
        "var a = n > 1 ? 'big' : 'small'\n"
        "var b = !empty(s) && n == 2\n"
        "var c = n + 2 * 3\n"
        "var d = (n + 2) * 3\n"
        "var e = o.size > 1\n"
        "var f = s == 'x' ? o.a : o.b\n"
        "var g = -n\n")
    assert issues == []
    assert template["variables"] == {
        "a": "[if(greater(parameters('n'), 1), 'big', 'small')]",
        "b": "[and(not(empty(parameters('s'))), equals(parameters('n'), 2))]",
        "c": "[add(parameters('n'), mul(2, 3))]",
        "d": "[mul(add(parameters('n'), 2), 3)]",
        "e": "[greater(parameters('o').size, 1)]",
        "f": "[if(equals(parameters('s'), 'x'), parameters('o').a, parameters('o').b)]",
        "g": "[sub(0, parameters('n'))]",
    }


def test_interpolation_becomes_format_with_escaped_braces_and_quotes() -> None:
    template, issues = _one(
        "param p string\nvar v = '${p}-acr'\nvar w = 'it\\'s {x} ${toLower(p)}'\n"
        "var x = 'plain \\${no}'\n")
    assert issues == []
    assert template["variables"] == {
        "v": "[format('{0}-acr', parameters('p'))]",
        "w": "[format('it''s {{x}} {0}', toLower(parameters('p')))]",
        "x": "plain ${no}",
    }


def test_child_resources_by_parent_and_by_nesting() -> None:
    template, issues = _one(
        "resource vnet 'Microsoft.Network/virtualNetworks@2023-05-01' = {\n"
        "  name: 'vnet'\n"
        "  resource aci 'subnets' = {\n    name: 'aci'\n  }\n"
        "}\n"
        "resource pe 'Microsoft.Network/virtualNetworks/subnets@2023-05-01' = {\n"
        "  parent: vnet\n  name: 'pe'\n  properties: {\n    addressPrefix: '10.0.3.0/24'\n  }\n"
        "}\n"
        "resource nic 'Microsoft.Network/networkInterfaces@2023-05-01' = {\n"
        "  name: 'nic'\n  properties: {\n    a: vnet::aci.id\n    b: pe.id\n    c: pe.name\n"
        "  }\n}\n")
    assert issues == []
    _, aci, pe, nic = template["resources"]
    assert (aci["type"], aci["apiVersion"], aci["name"]) == (
        "Microsoft.Network/virtualNetworks/subnets", "2023-05-01",
        "[format('{0}/{1}', 'vnet', 'aci')]")
    assert aci["dependsOn"] == ["[resourceId('Microsoft.Network/virtualNetworks', 'vnet')]"]
    assert pe["name"] == "[format('{0}/{1}', 'vnet', 'pe')]"
    assert "parent" not in pe
    assert nic["properties"] == {
        "a": "[resourceId('Microsoft.Network/virtualNetworks/subnets', 'vnet', 'aci')]",
        "b": "[resourceId('Microsoft.Network/virtualNetworks/subnets', 'vnet', 'pe')]",
        "c": "pe",
    }
    assert sorted(nic["dependsOn"]) == sorted([
        "[resourceId('Microsoft.Network/virtualNetworks/subnets', 'vnet', 'aci')]",
        "[resourceId('Microsoft.Network/virtualNetworks/subnets', 'vnet', 'pe')]"])


def test_existing_resources_are_emitted_as_existing_and_give_no_dependency() -> None:
    template, issues = _one(
        "resource acr 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = {\n"
        "  name: 'shared'\n}\n"
        "resource id 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {\n"
        "  name: 'uami'\n  location: 'westeurope'\n}\n"
        "resource ra 'Microsoft.Authorization/roleAssignments@2022-04-01' = {\n"
        "  name: guid(acr.id, id.id)\n  scope: acr\n"
        "  properties: {\n    principalId: id.properties.principalId\n"
        "    server: acr.properties.loginServer\n    pid: id.identity.principalId\n  }\n}\n")
    assert issues == []
    acr, _, ra = template["resources"]
    assert acr == {"type": "Microsoft.ContainerRegistry/registries", "apiVersion": "2023-07-01",
                   "name": "shared", "existing": True}
    uami = "resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'uami')"
    assert ra["scope"] == "[format('Microsoft.ContainerRegistry/registries/{0}', 'shared')]"
    assert ra["properties"] == {
        "principalId": f"[reference({uami}, '2023-01-31').principalId]",
        "server": "[reference(resourceId('Microsoft.ContainerRegistry/registries', 'shared'), "
                  "'2023-07-01').loginServer]",
        "pid": f"[reference({uami}, '2023-01-31', 'full').identity.principalId]",
    }
    assert ra["dependsOn"] == [f"[{uami}]"]


def test_extension_resource_id_for_a_scoped_resource() -> None:
    template, _ = _one(
        "resource acr 'Microsoft.ContainerRegistry/registries@2023-07-01' = {\n  name: 'r'\n}\n"
        "resource ds 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {\n"
        "  name: 'logs'\n  scope: acr\n}\n"
        "resource other 'Microsoft.Resources/tags@2022-09-01' = {\n"
        "  name: 'default'\n  properties: {\n    x: ds.id\n  }\n}\n")
    assert template["resources"][2]["properties"]["x"] == (
        "[extensionResourceId(resourceId('Microsoft.ContainerRegistry/registries', 'r'), "
        "'Microsoft.Insights/diagnosticSettings', 'logs')]")


def test_loops_become_copy_and_conditions_become_condition() -> None:
    template, issues = _one(
        "param n int = 2\nparam zones array = ['a', 'b']\nparam deploy bool = true\n"
        "resource z 'Microsoft.Network/privateDnsZones@2020-06-01' = [for (zone, i) in zones: {\n"
        "  name: zone\n  location: 'global'\n  tags: {\n    index: string(i)\n  }\n}]\n"
        "resource vnet 'Microsoft.Network/virtualNetworks@2023-05-01' = if (deploy) {\n"
        "  name: 'vnet'\n  properties: {\n"
        "    subnets: [for k in range(0, n): {\n      name: 'sn${k}'\n    }]\n  }\n}\n"
        "var names = [for k in range(0, n): 'x${k}']\n")
    assert issues == []
    zones, vnet = template["resources"]
    assert zones["copy"] == {"name": "z", "count": "[length(parameters('zones'))]"}
    assert zones["name"] == "[parameters('zones')[copyIndex()]]"
    assert zones["tags"] == {"index": "[string(copyIndex())]"}
    assert vnet["condition"] == "[parameters('deploy')]"
    assert vnet["properties"] == {"copy": [{
        "name": "subnets", "count": "[length(range(0, parameters('n')))]",
        "input": {"name": "[format('sn{0}', range(0, parameters('n'))[copyIndex('subnets')])]"},
    }]}
    assert template["variables"]["names"] == {
        "name": "names", "count": "[length(range(0, parameters('n')))]",
        "input": "[format('x{0}', range(0, parameters('n'))[copyIndex('names')])]"}


def test_a_module_is_an_issue_with_the_fallback_and_the_rest_is_read() -> None:
    template, issues = _one(
        "module acr './registry.bicep' = {\n  name: 'acr'\n  params: {}\n}\n"
        "resource app 'Microsoft.App/containerApps@2024-03-01' = {\n  name: 'app'\n"
        "  properties: {\n    server: acr.outputs.loginServer\n    x: 'kept'\n  }\n}\n")
    assert issues[0] == (
        "t.bicep:1: module 'acr' (./registry.bicep) is not followed: its resources are not "
        "read; run `az bicep build --file t.bicep` and give the JSON to "
        "`pullpath explain --template`")
    props = template["resources"][0]["properties"]
    assert is_unknown_value(props["server"])
    assert props["x"] == "kept"
    assert issues[1].startswith("t.bicep:8: an output of module 'acr'")


def test_an_unsupported_construct_is_unknown_with_its_line() -> None:
    template, issues = _one(
        "param items array = []\n"
        "resource vnet 'Microsoft.Network/virtualNetworks@2023-05-01' = {\n"
        "  name: 'vnet'\n  properties: {\n"
        "    a: filter(items, x => x.enabled)\n"
        "    b: loadTextContent('cidr.txt')\n"
        "    c: '10.0.0.0/16'\n  }\n}\n")
    props = template["resources"][0]["properties"]
    assert is_unknown_value(props["a"])
    assert is_unknown_value(props["b"])
    assert props["c"] == "10.0.0.0/16"
    assert [i.split(":")[1] for i in issues] == ["5", "6"]
    assert "lambda" in issues[0]
    assert "loadTextContent() reads another file" in issues[1]


def test_a_secure_parameter_value_is_never_carried() -> None:
    template, issues = _one(
        "@secure()\nparam pw string = 'hunter2-secret'\n"
        "resource vm 'Microsoft.Compute/virtualMachines@2023-03-01' = {\n  name: 'vm'\n"
        "  properties: {\n    a: filter([pw], x => x == pw)\n    b: pw\n  }\n}\n")
    assert template["parameters"]["pw"]["type"] == "securestring"
    assert issues
    assert not any("hunter2" in i for i in issues)
    assert "hunter2" not in json.dumps(template)
    assert is_unknown_value(template["parameters"]["pw"]["defaultValue"])


@pytest.mark.parametrize(("text", "line"), [
    ("resource x 'A/b@1' = {\n  name: 'x'\n  properties: {\n    a: ]\n  }\n}\n", 4),
    ("param a string = '''unterminated\n", 0),
    ("this is not bicep at all\n", 1),
])
def test_an_unparsable_file_is_a_bicep_error_with_the_fallback(text: str, line: int) -> None:
    with pytest.raises(BicepError) as err:
        bicep_to_template(text, path="infra/main.bicep")
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"infra/main.bicep:{line}:" if line else "infra/main.bicep:")
    assert message.endswith("run `az bicep build --file infra/main.bicep` and give the JSON to "
                            "`pullpath explain --template`")


_BICEP_WORDS = st.sampled_from([
    "resource", "param", "var", "module", "existing", "if", "for", "in", "=", "{", "}", "[",
    "]", "(", ")", ":", ".", "::", "?", "!", "&&", "==", "'a'", "'${x}'", "x", "y", "1",
    "\n", " ", "'T/t@1'", "@secure()", "name", "properties", "parent", "scope", ",", "=>",
    "'''", "${", "//", "/*", "*/", "\\",
])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=200),
                 st.lists(_BICEP_WORDS, max_size=60).map(" ".join),
                 st.lists(_BICEP_WORDS, max_size=60).map("".join)))
def test_random_text_raises_nothing_but_bicep_error(text: str) -> None:
    try:
        template, _, issues = bicep_to_template(text, path="f.bicep")
    except BicepError as exc:
        message = str(exc)
        template, issues = {}, [message]
    assert all("\n" not in i for i in issues)
    json.dumps(template)
    assert all(isinstance(i, str) for i in issues)


def test_loop_parents_indexes_and_a_name_that_does_not_fit_its_type() -> None:
    template, issues = _one(
        "param zones array = ['a', 'b']\n"
        "resource z 'Microsoft.Network/privateDnsZones@2020-06-01' = [for zone in zones: {\n"
        "  name: zone\n}]\n"
        "resource link 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2020-06-01' = "
        "[for (zone, i) in zones: {\n  parent: z[i]\n  name: 'link'\n}]\n"
        "resource bad 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2020-06-01' = {\n"
        "  name: 'link'\n}\n"
        "resource t 'Microsoft.Resources/tags@2022-09-01' = {\n  name: 'default'\n"
        "  properties: {\n    first: z[0].id\n    all: z.id\n  }\n}\n")
    _, link, bad, tags = template["resources"]
    assert link["name"] == "[format('{0}/{1}', parameters('zones')[copyIndex()], 'link')]"
    assert link["dependsOn"] == ["z"]
    assert is_unknown_value(bad["name"])
    assert tags["properties"]["first"] == (
        "[resourceId('Microsoft.Network/privateDnsZones', parameters('zones')[0])]")
    assert is_unknown_value(tags["properties"]["all"])
    assert [i.split(":")[1] for i in issues] == ["9", "16"]
    assert "does not have the 2 '/'-separated parts" in issues[0]
    assert "resource loop 'z' used without an index" in issues[1]


def test_an_existing_resource_in_another_group_keeps_its_group() -> None:
    template, issues = _one(
        "resource hub 'Microsoft.Network/virtualNetworks@2023-05-01' existing = {\n"
        "  name: 'hub'\n  scope: resourceGroup('sub-1', 'rg-net')\n}\n"
        "resource t 'Microsoft.Resources/tags@2022-09-01' = {\n  name: 'default'\n"
        "  properties: {\n    hub: hub.id\n  }\n}\n")
    hub, tags = template["resources"]
    assert (hub["subscriptionId"], hub["resourceGroup"], hub["existing"]) == (
        "sub-1", "rg-net", True)
    assert tags["properties"]["hub"] == (
        "[resourceId('sub-1', 'rg-net', 'Microsoft.Network/virtualNetworks', 'hub')]")
    assert issues == ["t.bicep:1: resource 'hub' is in another resource group: its ID is "
                      "resourceId(group, ...)"]


def test_parameters_refer_to_later_parameters_and_functions() -> None:
    template, issues = _one(
        "param name string = '${prefix}-acr'\nparam prefix string = 'pp'\n"
        "param location string = resourceGroup().location\n"
        "resource acr 'Microsoft.ContainerRegistry/registries@2023-07-01' = {\n"
        "  name: name\n  location: location\n}\n"
        "resource acr 'Microsoft.ContainerRegistry/registries@2023-07-01' = {\n  name: 'x'\n}\n")
    assert template["parameters"] == {
        "name": {"type": "string", "defaultValue": "[format('{0}-acr', parameters('prefix'))]"},
        "prefix": {"type": "string", "defaultValue": "pp"},
        "location": {"type": "string", "defaultValue": "[resourceGroup().location]"},
    }
    assert len(template["resources"]) == 1
    assert issues == ["t.bicep:8: resource 'acr' is declared twice: the second is not read"]


def test_a_real_file_with_modules_reads_the_rest_and_names_each_module() -> None:
    text = (DATA / "container-app-acr" / "main.bicep").read_text(encoding="utf-8")
    template, locations, issues = bicep_to_template(text, path="container-app-acr/main.bicep")
    lines = text.splitlines()
    module_issues = [i for i in issues if "is not followed: its resources are not read" in i]
    assert [i.split(":")[1] for i in module_issues] == ["41", "50"]
    for issue in module_issues:
        assert lines[int(issue.split(":")[1]) - 1].startswith("module ")
        assert issue.endswith("run `az bicep build --file container-app-acr/main.bicep` and "
                              "give the JSON to `pullpath explain --template`")
    assert [r["type"] for r in template["resources"]] == [
        "Microsoft.OperationalInsights/workspaces", "Microsoft.App/managedEnvironments",
        "Microsoft.ManagedIdentity/userAssignedIdentities",
        "Microsoft.Authorization/roleAssignments", "Microsoft.App/containerApps"]
    app = template["resources"][-1]
    registry = app["properties"]["configuration"]["registries"][0]
    assert registry["identity"] == ("[resourceId('Microsoft.ManagedIdentity/"
                                    "userAssignedIdentities', format('id-{0}', "
                                    "parameters('containerAppName')))]")
    assert is_unknown_value(registry["server"])
    assert is_unknown_value(app["properties"]["template"]["containers"][0]["image"])
    assert len(locations) == 5


def test_a_nested_reference_to_an_undeclared_child_is_unknown() -> None:
    template, issues = _one(
        "resource vnet 'Microsoft.Network/virtualNetworks@2023-05-01' = {\n  name: 'v'\n}\n"
        "resource nic 'Microsoft.Network/networkInterfaces@2023-05-01' = {\n  name: 'nic'\n"
        "  properties: {\n    a: vnet::nope.id\n    b: vnet.id\n  }\n}\n")
    props = template["resources"][1]["properties"]
    assert is_unknown_value(props["a"])
    assert props["b"] == "[resourceId('Microsoft.Network/virtualNetworks', 'v')]"
    assert issues == ["t.bicep:7: a '::' reference to an unknown resource: the value is unknown"]
