"""The ARM expression evaluator: functions, unknown values, strict (lab) and lenient (template
reader) modes."""

from __future__ import annotations

from typing import Any

import pytest

from pullpath.core.iac.armexpr import (
    ArmContext,
    ArmExpressionError,
    RuntimeView,
    Unknown,
    evaluate,
    unique_string,
)

SUB = "11111111-2222-3333-4444-555555555555"


def ctx(lenient: bool = True, **params: Any) -> ArmContext:
    return ArmContext(SUB, "rg-app", "japaneast", dict(params), lenient=lenient)


def ev(expr: str, c: ArmContext | None = None) -> Any:
    return evaluate(expr, c or ctx())


@pytest.mark.parametrize(("expr", "expected"), [
    ("[if(equals(1, 1), 'a', 'b')]", "a"),
    ("[not(equals('x', 'y'))]", True),
    ("[and(true(), false())]", False),
    ("[or(false(), true())]", True),
    ("[empty('')]", True),
    ("[empty(createObject())]", True),
    ("[contains('registry', 'gist')]", True),
    ("[contains(createObject('Key', 1), 'key')]", True),
    ("[contains(createArray(1, 2), 3)]", False),
    ("[length(createArray(1, 2, 3))]", 3),
    ("[union(createObject('a', 1), createObject('b', 2))]", {"a": 1, "b": 2}),
    ("[union(createArray(1, 2), createArray(2, 3))]", [1, 2, 3]),
    ("[coalesce(null(), 'x')]", "x"),
    ("[first(createArray('a', 'b'))]", "a"),
    ("[last(split('a/b/c', '/'))]", "c"),
    ("[replace('a-b-c', '-', '')]", "abc"),
    ("[toUpper('acr')]", "ACR"),
    ("[toLower('ACR')]", "acr"),
    ("[substring('registry', 0, 3)]", "reg"),
    ("[take('registry', 3)]", "reg"),
    ("[skip(createArray(1, 2, 3), 1)]", [2, 3]),
    ("[startsWith('Microsoft.App', 'microsoft')]", True),
    ("[endsWith('x.azurecr.io', '.AZURECR.IO')]", True),
    ("[indexOf('repo/image', '/')]", 4),
    ("[trim('  x  ')]", "x"),
    ("[int('42')]", 42),
    ("[bool('true')]", True),
    ("[string(7)]", "7"),
    ("[range(2, 3)]", [2, 3, 4]),
    ("[items(createObject('b', 2, 'a', 1))]", [{"key": "a", "value": 1},
                                                {"key": "b", "value": 2}]),
    ("[format('{0}-{1}', 'a', 2)]", "a-2"),
    ("[concat('a', 'b')]", "ab"),
    ("[concat(createArray(1), createArray(2))]", [1, 2]),
    ("[json('{\"a\": [1]}').a[0]]", 1),
    ("[json('.25')]", 0.25),
    ("[createObject('k', 'v').k]", "v"),
    ("[createObject('Name', 'v').name]", "v"),
    ("[[not an expression]", "[not an expression]"),
    ("[environment().suffixes.acrLoginServer]", ".azurecr.io"),
    ("[environment().name]", "AzureCloud"),
    ("[resourceGroup().id]", f"/subscriptions/{SUB}/resourceGroups/rg-app"),
    ("[subscription().subscriptionId]", SUB),
])
def test_functions(expr: str, expected: Any) -> None:
    c = ctx()
    assert evaluate(expr, c) == expected
    assert c.issues == []


@pytest.mark.parametrize(("expr", "expected"), [
    ("[resourceId('Microsoft.Network/virtualNetworks/subnets', 'vnet', 'pe')]",
     f"/subscriptions/{SUB}/resourceGroups/rg-app/providers/Microsoft.Network/virtualNetworks/"
     "vnet/subnets/pe"),
    ("[resourceId('rg-net', 'Microsoft.Network/virtualNetworks', 'vnet')]",
     f"/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet"),
    ("[resourceId('sub-2', 'rg-net', 'Microsoft.Network/virtualNetworks', 'vnet')]",
     "/subscriptions/sub-2/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet"),
    ("[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'r1')]",
     f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/r1"),
    ("[subscriptionResourceId('sub-2', 'Microsoft.Authorization/roleDefinitions', 'r1')]",
     "/subscriptions/sub-2/providers/Microsoft.Authorization/roleDefinitions/r1"),
    ("[tenantResourceId('Microsoft.Management/managementGroups', 'mg')]",
     "/providers/Microsoft.Management/managementGroups/mg"),
    ("[extensionResourceId('/subscriptions/s/resourceGroups/r/providers/A.B/c/d', "
     "'Microsoft.Authorization/roleAssignments', 'g')]",
     "/subscriptions/s/resourceGroups/r/providers/A.B/c/d/providers/"
     "Microsoft.Authorization/roleAssignments/g"),
])
def test_resource_ids(expr: str, expected: str) -> None:
    c = ctx()
    assert evaluate(expr, c) == expected
    assert c.trace[-1][1] == expected


@pytest.mark.parametrize("expr", [
    "[newGuid()]", "[utcNow()]", "[listKeys('x', '2021-01-01').keys[0]]",
    "[listCredentials('x', '2021-01-01')]", "[reference('/subscriptions/s/x').loginServer]",
    "[concat('a', newGuid())]", "[toLower(utcNow())]", "[if(equals(newGuid(), 'x'), 1, 2)]",
    "[coalesce(utcNow(), 'x')]", "[and(true(), equals(newGuid(), 'x'))]",
    "[environment().suffixes.storage]", "[deployer().objectId]",
])
def test_values_known_only_at_deployment_are_unknown(expr: str) -> None:
    c = ctx()
    assert isinstance(evaluate(expr, c), Unknown)
    assert c.issues == []


@pytest.mark.parametrize(("expr", "expected"), [
    ("[if(equals(1, 1), 'a', newGuid())]", "a"),
    ("[if(equals(1, 2), newGuid(), 'b')]", "b"),
    ("[coalesce(null(), 'x', utcNow())]", "x"),
    ("[and(false(), equals(newGuid(), 'x'))]", False),
    ("[or(true(), equals(newGuid(), 'x'))]", True),
    ("[length(createArray(newGuid(), 1))]", 2),
])
def test_an_unknown_argument_the_result_does_not_depend_on_is_ignored(expr: str,
                                                                      expected: Any) -> None:
    assert ev(expr) == expected


def test_containers_hold_an_unknown_element() -> None:
    value = ev("[createObject('a', newGuid(), 'b', 'x')]")
    assert isinstance(value["a"], Unknown)
    assert value["b"] == "x"


def test_unsupported_function_is_an_issue_in_lenient_mode_and_an_error_in_strict() -> None:
    c = ctx()
    c.where = "resources[2]"
    assert isinstance(evaluate("[dateTimeAdd('2020-01-01', 'P1D')]", c), Unknown)
    assert c.issues == ["resources[2]: function dateTimeAdd() is not supported by "
                        "pullpath's evaluator"]
    with pytest.raises(ArmExpressionError, match="dateTimeAdd"):
        evaluate("[dateTimeAdd('2020-01-01', 'P1D')]", ctx(lenient=False))


@pytest.mark.parametrize("expr", [
    "[parameters('missing')]", "[variables('nope')]", "[substring('ab', 5)]",
    "[createObject('a', 1).b]", "[createArray(1)[3]]", "[resourceId('noslash', 'x')]",
    "[if(1, 2)]", "[format('{3}', 'a')]", "[concat('a']", "[int('x')]", "[copyIndex()]",
    "[div(1, 0)]", "[json('{')]", "[a.b]", "[items('x')]",
])
def test_a_broken_expression_is_an_issue_never_an_exception(expr: str) -> None:
    c = ctx()
    assert isinstance(evaluate(expr, c), Unknown)
    assert len(c.issues) == 1


def test_a_variable_that_refers_to_itself_is_an_issue() -> None:
    c = ctx()
    c.variables = {"a": "[variables('b')]", "b": "[variables('a')]"}
    assert isinstance(evaluate("[variables('a')]", c), Unknown)
    assert any("refers to itself" in i for i in c.issues)


def test_variables_with_copy() -> None:
    c = ctx()
    c.variables = {"copy": [{"name": "subnets", "count": 2, "input": {
        "name": "[format('s{0}', copyIndex('subnets'))]"}}]}
    assert evaluate("[variables('subnets')]", c) == [{"name": "s0"}, {"name": "s1"}]


def test_property_copy_and_unknown_count() -> None:
    c = ctx(n=2)
    value = evaluate({"copy": [{"name": "rules", "count": "[parameters('n')]",
                                "input": {"i": "[copyIndex('rules', 1)]"}}]}, c)
    assert value == {"rules": [{"i": 1}, {"i": 2}]}
    value = evaluate({"copy": [{"name": "rules", "count": "[length(listKeys('x', 'y'))]",
                                "input": {}}]}, c)
    assert isinstance(value["rules"], Unknown)


def test_unique_string_is_a_deterministic_named_stand_in() -> None:
    c = ctx()
    first = evaluate("[uniqueString(resourceGroup().id)]", c)
    assert first == evaluate("[uniqueString(resourceGroup().id)]", c)
    assert first == unique_string(f"/subscriptions/{SUB}/resourceGroups/rg-app")
    assert len(first) == 13
    assert first.isalnum()
    assert first.islower()
    assert first != evaluate("[uniqueString('other')]", c)
    assert len(c.standins) == 2
    assert "stand-in" in c.standins[0]


def test_reference_reads_what_the_callback_gives_and_unknown_beyond_it() -> None:
    seen: list[tuple[str, bool]] = []

    def reference(rid: str, full: bool = False) -> Any:
        seen.append((rid, full))
        return RuntimeView("reference(r)", {"loginServer": "r.azurecr.io"})

    c = ctx()
    c.reference = reference
    assert evaluate("[reference('/subscriptions/s/r').loginServer]", c) == "r.azurecr.io"
    assert isinstance(evaluate("[reference('/subscriptions/s/r').dataEndpointHostNames]", c),
                      Unknown)
    evaluate("[reference('/subscriptions/s/r', '2023-01-01', 'Full').id]", c)
    assert seen[-1] == ("/subscriptions/s/r", True)


def test_strict_mode_raises_for_reference_without_a_callback() -> None:
    with pytest.raises(ArmExpressionError, match="cannot be evaluated here"):
        evaluate("[reference('/subscriptions/s/r').x]", ctx(lenient=False))


def test_unknown_function_form_of_the_domain_marker() -> None:
    value = ev("[unknown('known after apply: x')]")
    assert value == Unknown("known after apply: x")


def test_deeply_nested_expression_is_an_issue() -> None:
    c = ctx()
    deep = "[" + "string(" * 400 + "'x'" + ")" * 400 + "]"
    assert isinstance(evaluate(deep, c), Unknown)
    assert c.issues


def test_guid_is_a_deterministic_named_stand_in() -> None:
    c = ctx()
    first = evaluate("[guid(resourceGroup().id, 'role')]", c)
    assert first == evaluate("[guid(resourceGroup().id, 'role')]", c)
    assert first != evaluate("[guid(resourceGroup().id, 'other')]", c)
    assert any(first in note and "stand-in" in note for note in c.standins)


@pytest.mark.parametrize(("expr", "expected"), [
    ("[map(createArray(1, 2), lambda('x', mul(lambdaVariables('x'), 10)))]", [10, 20]),
    ("[filter(createArray(1, 2, 3), lambda('x', greater(lambdaVariables('x'), 1)))]", [2, 3]),
    ("[reduce(createArray(1, 2, 3), 0, lambda('acc', 'x', add(lambdaVariables('acc'), "
     "lambdaVariables('x'))))]", 6),
    ("[sort(createArray(3, 1, 2), lambda('a', 'b', less(lambdaVariables('a'), "
     "lambdaVariables('b'))))]", [1, 2, 3]),
    ("[toObject(createArray('a', 'b'), lambda('k', lambdaVariables('k')), lambda('v', "
     "toUpper(lambdaVariables('v'))))]", {"a": "A", "b": "B"}),
    ("[mapValues(createObject('a', 1), lambda('v', string(lambdaVariables('v'))))]",
     {"a": "1"}),
    ("[tryGet(createObject('a', createObject('b', 1)), 'a', 'b')]", 1),
    ("[tryGet(createObject('a', 1), 'missing')]", None),
    ("[objectKeys(createObject('a', 1, 'b', 2))]", ["a", "b"]),
    ("[shallowMerge(createArray(createObject('a', 1), createObject('a', 2, 'b', 3)))]",
     {"a": 2, "b": 3}),
    ("[flatten(createArray(createArray(1), createArray(2, 3)))]", [1, 2, 3]),
    ("[intersection(createArray(1, 2, 3), createArray(2, 3, 4))]", [2, 3]),
    ("[join(createArray('a', 'b'), ',')]", "a,b"),
    ("[padLeft('7', 3, '0')]", "007"),
    ("[base64ToString(base64('acr'))]", "acr"),
    ("[uriComponent('a b/c')]", "a%20b%2Fc"),
])
def test_higher_order_and_object_functions(expr: str, expected: Any) -> None:
    c = ctx()
    assert evaluate(expr, c) == expected
    assert c.issues == []


def test_a_lambda_over_an_unknown_value_is_unknown() -> None:
    assert isinstance(ev("[filter(createArray(1), lambda('x', equals(newGuid(), 'a')))]"),
                      Unknown)
    assert isinstance(ev("[map(json(newGuid()), lambda('x', 1))]"), Unknown)


def test_user_defined_functions_see_only_their_parameters() -> None:
    c = ctx(prefix="outer")
    c.functions = {"__bicep.acrname": {
        "parameters": [{"name": "prefix", "type": "string"}],
        "output": {"type": "string", "value": "[format('acr{0}', parameters('prefix'))]"}}}
    assert evaluate("[__bicep.acrName('inner')]", c) == "acrinner"
    assert isinstance(evaluate("[__bicep.missing('x')]", c), Unknown)
    assert any("not defined in the template" in i for i in c.issues)
