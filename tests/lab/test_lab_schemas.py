"""Every rendered lab template, read as Azure reads it: against Microsoft's ARM deployment
template JSON schemas (tests/data/arm-schemas, from Azure/azure-resource-manager-schemas; see
its PROVENANCE.md), offline, with $refs resolved through a local ``referencing`` registry, in a
strict mode that rejects property names the schemas do not declare."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft4Validator, validators
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from pullpath.lab.render import RenderedLab, lab_names, render
from pullpath.lab.scenarios import list_scenarios, load_scenario
from tests.support import TESTS

SCHEMAS = TESTS / "data" / "arm-schemas"
BASE_URL = "https://schema.management.azure.com/schemas/"
TEMPLATE_SCHEMA = BASE_URL + "2019-04-01/deploymentTemplate.json"
TEMPLATE_ONLY = ("dependsOn", "condition", "comments", "copy", "scope")
"""Keys of a template resource that the deployment engine reads (deploymentTemplate.json's
resourceBase), not the resource provider: checked against resourceBase, not the provider."""

SCENARIOS = [ident for name in list_scenarios()
             for ident in (name, *(f"{name}:{v}" for v in load_scenario(name).variants))]

# ----------------------------------------------------------------------------- exceptions
NEWER_THAN_THE_SCHEMAS = {
    ("Microsoft.App/managedEnvironments", "2026-07-01"): "2026-01-01",
    ("Microsoft.App/containerApps", "2026-07-01"): "2026-01-01",
    ("Microsoft.Network/virtualNetworks", "2026-03-01"): "2025-07-01",
    ("Microsoft.Network/privateEndpoints", "2026-03-01"): "2025-07-01",
    ("Microsoft.Network/privateEndpoints/privateDnsZoneGroups", "2026-03-01"): "2025-07-01",
}
"""The templates use the api-versions of the installed SDK models; where the schemas snapshot
has no schema for that version yet, the newest one present is used (and only these)."""

SCHEMA_PATCHES = [
    ("2023-05-01/Microsoft.ContainerInstance.json", "ResourceRequests", "cpu",
     "the schema types cpu as integer; the REST API (ResourceRequests.cpu, double) and the SDK "
     "model (float) take numbers such as 0.5"),
    ("2023-05-01/Microsoft.ContainerInstance.json", "ResourceRequests", "memoryInGB",
     "the schema types memoryInGB as integer; the REST API (double) takes numbers such as 1.5"),
]
"""(file, definition, property, why): known artefacts of Microsoft's schema generator, widened
from integer to number in the test's copy of the schema (PROVENANCE.md names them). Nothing
else is changed."""


def _schema_documents() -> dict[str, dict[str, Any]]:
    docs = {}
    for path in SCHEMAS.rglob("*.json"):
        docs[BASE_URL + path.relative_to(SCHEMAS).as_posix()] = json.loads(path.read_text())
    for rel, definition, prop, _why in SCHEMA_PATCHES:
        node = docs[BASE_URL + rel]["definitions"][definition]["properties"][prop]
        for branch in node["oneOf"]:
            if branch.get("type") == "integer":
                branch["type"] = "number"
                break
        else:
            raise AssertionError(f"{rel} {definition}.{prop} is no longer typed integer: "
                                 "drop the patch")
    return docs


DOCS = _schema_documents()
REGISTRY: Registry = Registry().with_resources(
    (url, Resource(doc, specification=DRAFT4)) for url, doc in DOCS.items())
INDEX: dict[tuple[str, str], str] = {}
"""(resource type lower-case, api-version) -> URL of its resource definition."""
for _url, _doc in DOCS.items():
    for _name, _rd in _doc.get("resourceDefinitions", {}).items():
        _key = (_rd["properties"]["type"]["enum"][0].lower(),
                _rd["properties"]["apiVersion"]["enum"][0])
        INDEX[_key] = f"{_url}#/resourceDefinitions/{_name}"


def _strict_properties(validator: Any, properties: Any, instance: Any,
                       schema: Any) -> Iterator[ValidationError]:
    """``properties`` that also rejects names it does not declare, where the schema leaves
    the object open only by omission (no additionalProperties, no patternProperties)."""
    yield from Draft4Validator.VALIDATORS["properties"](validator, properties, instance, schema)
    if (validator.is_type(instance, "object") and "additionalProperties" not in schema
            and "patternProperties" not in schema):
        for key in instance:
            if key not in properties:
                yield ValidationError(f"unknown property {key!r} (declared: "
                                      f"{', '.join(sorted(properties)) or 'none'})")


StrictValidator = validators.extend(Draft4Validator, {"properties": _strict_properties})


def lab_for(ident: str) -> RenderedLab:
    s = load_scenario(ident)
    return render(s, lab_names(s, "k3v9x2ab"), "japaneast")


def schema_version(rtype: str, api: str) -> str:
    if (rtype.lower(), api) in INDEX:
        return api
    assert (rtype, api) in NEWER_THAN_THE_SCHEMAS, \
        f"no schema for {rtype} {api} and no listed exception"
    return NEWER_THAN_THE_SCHEMAS[(rtype, api)]


def resource_errors(resource: dict[str, Any]) -> list[str]:
    """Strict validation of one template resource: its provider properties against the
    provider's resource definition, its template keys against deploymentTemplate.json."""
    problems: list[str] = []
    version = schema_version(resource["type"], resource["apiVersion"])
    body = {k: v for k, v in resource.items() if k not in TEMPLATE_ONLY}
    body["apiVersion"] = version
    provider = StrictValidator({"$ref": INDEX[(resource["type"].lower(), version)]},
                               registry=REGISTRY)
    errors = list(provider.iter_errors(body))
    if errors:
        e = best_match(errors)
        problems.append(f"{resource['type']} {'.'.join(map(str, e.absolute_path))}: {e.message}")
    engine = Draft4Validator({"$ref": TEMPLATE_SCHEMA + "#/definitions/resourceBase"},
                             registry=REGISTRY)
    problems += [f"{resource['type']} {e.message}" for e in engine.iter_errors(resource)]
    return problems


def template_errors(template: dict[str, Any]) -> list[str]:
    """The template itself (parameters, variables, outputs, no unknown top-level key) against
    deploymentTemplate.json; its resources one by one with :func:`resource_errors`."""
    schema = copy.deepcopy(DOCS[TEMPLATE_SCHEMA])
    schema["properties"]["resources"] = {"type": "array"}  # each resource is checked below
    schema.pop("id", None)
    problems = [e.message for e in Draft4Validator(schema, registry=REGISTRY)
                .iter_errors(template)]
    for r in template["resources"]:
        problems += resource_errors(r)
    return problems


@pytest.mark.parametrize("ident", SCENARIOS)
def test_every_template_validates_against_the_deployment_schemas(ident: str) -> None:
    lab = lab_for(ident)
    for step, template in (("base", lab.base_template), ("consumers", lab.consumers_template)):
        assert template_errors(template) == [], f"{ident} {step}"


def test_the_exceptions_are_all_needed() -> None:
    used = {(r["type"], r["apiVersion"]) for ident in SCENARIOS
            for t in (lab_for(ident).base_template, lab_for(ident).consumers_template)
            for r in t["resources"]}
    missing = {k for k in used if (k[0].lower(), k[1]) not in INDEX}
    assert missing == set(NEWER_THAN_THE_SCHEMAS), "update NEWER_THAN_THE_SCHEMAS"
    for (rtype, _api), fallback in NEWER_THAN_THE_SCHEMAS.items():
        newest = max(v for (t, v) in INDEX if t == rtype.lower())
        assert fallback == newest, f"{rtype}: validate against the newest schema present"


def _registry(template: dict[str, Any]) -> dict[str, Any]:
    return next(r for r in template["resources"]
                if r["type"] == "Microsoft.ContainerRegistry/registries")


def test_strict_mode_rejects_a_misspelt_property() -> None:
    registry = copy.deepcopy(_registry(lab_for("field-report").base_template))
    registry["properties"]["networkRuleBypassOption"] = "AzureServices"  # missing the final s
    (problem,) = resource_errors(registry)
    assert "networkRuleBypassOption" in problem


def test_strict_mode_rejects_an_unknown_nested_property_and_a_wrong_value() -> None:
    template = lab_for("field-report").consumers_template
    cg = copy.deepcopy(next(r for r in template["resources"]
                            if r["type"] == "Microsoft.ContainerInstance/containerGroups"))
    cg["properties"]["imageRegistryCredentials"][0]["identityId"] = "x"
    assert resource_errors(cg)
    registry = copy.deepcopy(_registry(lab_for("field-report").base_template))
    registry["properties"]["publicNetworkAccess"] = "Off"
    assert resource_errors(registry)


def test_a_template_key_in_the_wrong_place_is_rejected() -> None:
    template = copy.deepcopy(lab_for("field-report").base_template)
    template["resource"] = []  # not "resources"
    assert any("resource" in p for p in template_errors(template))
