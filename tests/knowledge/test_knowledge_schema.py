"""The knowledge files' JSON Schemas are the one statement of the files' shape: the shipped
files are valid, the schemas know every fact, path and enum of the engine, every structural
rejection is the schema's (with file, entry and key in the message), the loader refuses what a
schema cannot say, and the parse code never crashes on a shape the schema allows."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pullpath.domain.explain import (
    CALLER_IDENTITIES,
    DENIALS,
    FACT_SPECS,
    ROLE_MODES,
    Severity,
    SourceKind,
)
from pullpath.domain.inventory import ConsumerKind
from pullpath.domain.verdicts import Confidence
from pullpath.domain.verdicts import Path as NetPath
from pullpath.knowledge.check import main
from pullpath.knowledge.loader import (
    KnowledgeError,
    load_knowledge,
    parse_behaviours,
    parse_callers,
    parse_findings,
    read_document,
    schema,
    schema_problems,
)
from tests.support import ROOT

KNOWLEDGE = ROOT / "src" / "pullpath" / "knowledge"


def _doc(name: str) -> dict[str, Any]:
    """A shipped document as the loader reads it (timestamps stay text)."""
    doc, _origin = read_document(KNOWLEDGE / f"{name}.yaml", name, validate=False)
    assert isinstance(doc, dict)
    return copy.deepcopy(doc)


def _parse(name: str, doc: object) -> object:
    """The whole file parsed as pullpath parses it (behaviours: the callers too)."""
    text = yaml.safe_dump(doc)
    if name == "findings":
        return parse_findings(text, "kb.yaml")
    return parse_behaviours(text, "kb.yaml"), parse_callers(text, "kb.yaml")


@pytest.mark.parametrize("name", ["behaviours", "findings", "common"])
def test_every_schema_is_a_valid_2020_12_schema(name: str) -> None:
    jsonschema.Draft202012Validator.check_schema(schema(name))


@pytest.mark.parametrize("name", ["behaviours", "findings"])
def test_shipped_files_match_their_schema(name: str) -> None:
    """The shipped files are not validated at run time (the loader's docstring says why): this
    test is what keeps them valid."""
    assert schema_problems(_doc(name), name, f"{name}.yaml") == []


def test_shipped_files_load_validated() -> None:
    assert load_knowledge(validate=True) == load_knowledge()


def test_schema_knows_every_fact_and_path() -> None:
    defs = schema("common")["$defs"]
    assert set(defs["when"]["propertyNames"]["enum"]) == set(FACT_SPECS)
    assert set(defs["path"]["enum"]) == {p.value for p in NetPath}


def test_schema_enums_are_the_engines() -> None:
    common, beh, fnd = schema("common")["$defs"], schema("behaviours"), schema("findings")
    entry = beh["properties"]["behaviours"]["items"]["properties"]
    role = beh["properties"]["pull_roles"]["properties"]["roles"]["items"]["properties"]
    caller = beh["properties"]["callers"]["items"]["properties"]
    assert common["source"]["properties"]["kind"]["enum"] == [k.value for k in SourceKind]
    assert entry["confidence"]["enum"] == [c.value for c in Confidence
                                           if c is not Confidence.NONE]
    assert entry["denied_by"]["enum"] == list(DENIALS)
    assert set(entry["consumer"]["enum"]) == {k.value for k in ConsumerKind
                                              if k is not ConsumerKind.UNKNOWN} | {"any"}
    assert role["modes"]["items"]["enum"] == list(ROLE_MODES)
    assert role["denied_in"]["items"]["enum"] == list(ROLE_MODES)
    assert caller["identity"]["enum"] == list(CALLER_IDENTITIES)
    finding = fnd["properties"]["findings"]["items"]["properties"]
    assert finding["severity"]["enum"] == [s.value for s in Severity]


# ------------------------------------------------------------------ structural rejections

DELETE = object()
"""A case's value that deletes the key instead of setting it."""
_BEH = _doc("behaviours")
ND = next(i for i, b in enumerate(_BEH["behaviours"]) if b["expect"] != "denied")
NDID = _BEH["behaviours"][ND]["id"]
ROLE = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
SRC = ("behaviours", 0, "sources", 0)


def _source(**edit: object) -> dict[str, object]:
    src: dict[str, object] = {"url": "https://learn.microsoft.com/azure/x", "kind": "documented",
                              "verified": "2025-01-01", "says": "x"}
    src.update(edit)
    return {k: v for k, v in src.items() if v is not DELETE}


# (file, where to set, value or DELETE, the entry named, the JSON path named, words)
# One case per structural check the loader made by hand before the schemas said it all.
STRUCTURAL: list[tuple[str, tuple[Any, ...], object, str, str, str]] = [
    ("behaviours", (), [1], "", "", "is not of type 'object'"),
    ("behaviours", ("extra",), 1, "", "", "unknown key(s) extra"),
    ("behaviours", ("behaviours",), DELETE, "", "", "'behaviours' is a required property"),
    ("behaviours", ("schema",), "pullpath.knowledge/v0", "", "$.schema", "pullpath.knowledge/v1"),
    ("behaviours", ("pull_roles",), [1], "", "$.pull_roles", "not of type 'object'"),
    ("behaviours", ("pull_roles", "extra"), 1, "", "$.pull_roles", "unknown key(s) extra"),
    ("behaviours", ("pull_roles", "sources"), DELETE, "", "$.pull_roles", "'sources' is a requ"),
    ("behaviours", ("pull_roles", "roles"), [], "", "$.pull_roles.roles", "should be non-empty"),
    ("behaviours", ("pull_roles", "roles", 0), "AcrPull", "", "$.pull_roles.roles[0]",
     "not of type 'object'"),
    ("behaviours", ("pull_roles", "roles", 0, "modes"), DELETE, ROLE, "$.pull_roles.roles[0]",
     "'modes' is a required property"),
    ("behaviours", ("pull_roles", "roles", 0, "extra"), 1, ROLE, "$.pull_roles.roles[0]",
     "unknown key(s) extra"),
    ("behaviours", ("pull_roles", "roles", 0, "id"), "AcrPull", "AcrPull", "$.pull_roles.roles[0].id",
     "a GUID"),
    ("behaviours", ("pull_roles", "roles", 0, "name"), " ", ROLE,
     "$.pull_roles.roles[0].name", "a non-empty string"),
    ("behaviours", ("pull_roles", "roles", 0, "modes"), [], ROLE,
     "$.pull_roles.roles[0].modes", "modes must be a non-empty list"),
    ("behaviours", ("pull_roles", "roles", 0, "modes"), ["legacy"], ROLE,
     "$.pull_roles.roles[0].modes[0]", "'legacy' is not one of ['rbac', 'abac']"),
    ("behaviours", ("pull_roles", "roles", 0, "modes"), "rbac", ROLE,
     "$.pull_roles.roles[0].modes", "got 'rbac'"),
    ("behaviours", ("pull_roles", "roles", 0, "denied_in"), "abac", ROLE,
     "$.pull_roles.roles[0].denied_in", "denied_in must be a list"),
    ("behaviours", ("pull_roles", "roles", 0, "denied_in"), ["rbac"], ROLE,
     "$.pull_roles.roles[0].denied_in", "denied_in lists modes that are not in modes"),
    ("behaviours", ("pull_roles", "sources"), [], "", "$.pull_roles.sources", "every entry rests"),
    ("behaviours", ("behaviours",), [], "", "$.behaviours", "should be non-empty"),
    ("behaviours", ("behaviours",), {"a": 1}, "", "$.behaviours", "not of type 'array'"),
    ("behaviours", ("behaviours", 0), "KB-ACI-001", "", "$.behaviours[0]", "not of type 'obj"),
    ("behaviours", ("behaviours", 0, "expected"), "public", "KB-ACI-001", "$.behaviours[0]",
     "unknown key(s) expected (allowed: id, consumer, title, when, expect, confidence,"),
    ("behaviours", ("behaviours", 0, "title"), DELETE, "KB-ACI-001", "$.behaviours[0]",
     "'title' is a required property"),
    ("behaviours", ("behaviours", 0, "title"), None, "KB-ACI-001", "$.behaviours[0].title",
     "a non-empty string, got None"),
    ("behaviours", ("behaviours", 0, "rationale"), "  \n", "KB-ACI-001",
     "$.behaviours[0].rationale", "a non-empty string"),
    ("behaviours", ("behaviours", 0, "id"), "KB-1", "KB-1", "$.behaviours[0].id",
     "id must look like KB-ACI-001, got 'KB-1'"),
    ("behaviours", ("behaviours", 0, "id"), 7, "", "$.behaviours[0].id", "KB-ACI-001, got 7"),
    ("behaviours", ("behaviours", 0, "consumer"), "vm", "KB-ACI-001", "$.behaviours[0].consumer",
     "'vm' is not one of ['aci',"),
    ("behaviours", ("behaviours", 0, "confidence"), "none", "KB-ACI-001",
     "$.behaviours[0].confidence", "'none' is not one of ['high', 'medium', 'low']"),
    ("behaviours", ("behaviours", 0, "lab"), "aci-vnet", "KB-ACI-001", "$.behaviours[0].lab",
     "lab must be a list of scenario names"),
    ("behaviours", ("behaviours", 0, "lab"), [""], "KB-ACI-001", "$.behaviours[0].lab[0]",
     "a non-empty string"),
    ("behaviours", ("behaviours", 0, "expect"), "sideways", "KB-ACI-001",
     "$.behaviours[0].expect", "'sideways' is not one of ['private-endpoint',"),
    ("behaviours", ("behaviours", 0, "denied_by"), DELETE, "KB-ACI-001", "$.behaviours[0]",
     "'denied_by' is a required property (an entry that expects denied"),
    ("behaviours", ("behaviours", 0, "denied_by"), "gremlins", "KB-ACI-001",
     "$.behaviours[0].denied_by", "'gremlins' is not one of ['network', 'authorisation',"),
    ("behaviours", ("behaviours", ND, "denied_by"), "network", NDID,
     f"$.behaviours[{ND}].denied_by", "denied_by belongs to entries that expect denied"),
    ("behaviours", ("behaviours", 0, "when"), {}, "KB-ACI-001", "$.behaviours[0].when",
     "when must be a non-empty mapping of facts to conditions, all of which must hold, got {}"),
    ("behaviours", ("behaviours", 0, "when"), "always", "KB-ACI-001", "$.behaviours[0].when",
     "when must be a non-empty mapping of facts to conditions"),
    ("behaviours", ("behaviours", 0, "when"), {"consumer.in_vnet": {"not": True, "or": False}},
     "KB-ACI-001", "$.behaviours[0].when['consumer.in_vnet']", "a condition: "),
    ("behaviours", ("behaviours", 0, "when"), {"consumer.in_vnet": []}, "KB-ACI-001",
     "$.behaviours[0].when['consumer.in_vnet']", "a condition: "),
    ("behaviours", ("behaviours", 0, "when"), {"consumer.in_vnett": True}, "KB-ACI-001",
     "$.behaviours[0].when", "unknown fact (the facts are listed in docs/knowledge.md), got "
     "'consumer.in_vnett'"),
    ("behaviours", ("behaviours", 0, "sources"), [], "KB-ACI-001", "$.behaviours[0].sources",
     "a non-empty list of sources"),
    ("behaviours", ("behaviours", 0, "sources"), None, "KB-ACI-001", "$.behaviours[0].sources",
     "a non-empty list of sources"),
    ("behaviours", SRC, "docs", "KB-ACI-001", "$.behaviours[0].sources[0]",
     "not of type 'object'"),
    ("behaviours", (*SRC, "says"), DELETE, "KB-ACI-001", "$.behaviours[0].sources[0]",
     "'says' is a required property"),
    ("behaviours", (*SRC, "confidence"), "high", "KB-ACI-001", "$.behaviours[0].sources[0]",
     "unknown key(s) confidence (allowed: url, verified, kind, says, expect, run_id)"),
    ("behaviours", (*SRC, "kind"), "hearsay", "KB-ACI-001", "$.behaviours[0].sources[0].kind",
     "'hearsay' is not one of ['documented', 'issue', 'field-report', 'measured']"),
    ("behaviours", (*SRC, "url"), "", "KB-ACI-001", "$.behaviours[0].sources[0].url",
     "a non-empty string"),
    ("behaviours", (*SRC, "url"), "https://example.com/blog", "KB-ACI-001",
     "$.behaviours[0].sources[0].url", "url must start with https://learn.microsoft.com/"),
    ("behaviours", (*SRC, "verified"), "last week", "KB-ACI-001",
     "$.behaviours[0].sources[0].verified", "a date, YYYY-MM-DD or YYYY-MM, got 'last week'"),
    ("behaviours", (*SRC, "verified"), "2025-13-01", "KB-ACI-001",
     "$.behaviours[0].sources[0].verified", "a date, YYYY-MM-DD or YYYY-MM"),
    ("behaviours", (*SRC, "expect"), "sideways", "KB-ACI-001",
     "$.behaviours[0].sources[0].expect", "'sideways' is not one of"),
    ("behaviours", (*SRC, "run_id"), "r1", "KB-ACI-001", "$.behaviours[0].sources[0].run_id",
     "run_id belongs to measured sources only, not to a documented source"),
    ("behaviours", SRC, _source(kind="issue"), "KB-ACI-001", "$.behaviours[0].sources[0].url",
     "https://github.com/<owner>/<repo>/issues/<n>"),
    ("behaviours", SRC, _source(kind="field-report", url="field-report:yesterday"), "KB-ACI-001",
     "$.behaviours[0].sources[0].url", "field-report:<YYYY-MM-DD>"),
    ("behaviours", SRC, _source(kind="measured", url="pullpath-lab:r1"), "KB-ACI-001",
     "$.behaviours[0].sources[0]", "'run_id' is a required property (a measured source names"),
    ("behaviours", SRC, _source(kind="measured", url="pullpath-lab:-r", run_id="-r"),
     "KB-ACI-001", "$.behaviours[0].sources[0].run_id", "a lab run ID"),
    ("behaviours", SRC, _source(kind="measured", url="pullpath-lab:r1", run_id="r1",
                                verified="2025-01"), "KB-ACI-001",
     "$.behaviours[0].sources[0].verified", "an observation carries the day it was made"),
    ("behaviours", ("callers",), {"a": 1}, "", "$.callers", "not of type 'array'"),
    ("behaviours", ("callers", 1), "defender", "", "$.callers[1]", "not of type 'object'"),
    ("behaviours", ("callers", 1, "signature"), "x", "defender", "$.callers[1]",
     "unknown key(s) signature"),
    ("behaviours", ("callers", 1, "note"), DELETE, "defender", "$.callers[1]",
     "'note' is a required property"),
    ("behaviours", ("callers", 1, "id"), "Defender", "Defender", "$.callers[1].id",
     "a lower-case name like acr-import"),
    ("behaviours", ("callers", 1, "trusted"), "yes", "defender", "$.callers[1].trusted",
     "'yes' is not of type 'boolean'"),
    ("behaviours", ("callers", 1, "identity"), "token", "defender", "$.callers[1].identity",
     "'token' is not one of ['managed-identity', 'none']"),
    ("behaviours", ("callers", 1, "evidence"), None, "defender", "$.callers[1].evidence",
     "None is not one of ['', 'ml-workspace']"),
    ("behaviours", ("callers", 1, "name"), "", "defender", "$.callers[1].name",
     "a non-empty string"),
    ("findings", ("extra",), 1, "", "", "unknown key(s) extra (allowed: schema, findings)"),
    ("findings", ("schema",), "pullpath.findings/v2", "", "$.schema", "pullpath.findings/v1"),
    ("findings", ("findings",), [], "", "$.findings", "should be non-empty"),
    ("findings", ("findings", 0), "PP001", "", "$.findings[0]", "not of type 'object'"),
    ("findings", ("findings", 0, "fixes"), {}, "PP001", "$.findings[0]", "unknown key(s) fixes"),
    ("findings", ("findings", 0, "fix"), DELETE, "PP001", "$.findings[0]",
     "'fix' is a required property"),
    ("findings", ("findings", 0, "id"), "P1", "P1", "$.findings[0].id",
     "id must look like PP001, got 'P1'"),
    ("findings", ("findings", 0, "severity"), "fatal", "PP001", "$.findings[0].severity",
     "'fatal' is not one of ['error', 'warning', 'note']"),
    ("findings", ("findings", 0, "scope"), "tenant", "PP001", "$.findings[0].scope",
     "'tenant' is not one of ['pair', 'registry']"),
    ("findings", ("findings", 0, "subject"), "vm", "PP001", "$.findings[0].subject",
     "'vm' is not one of ['consumer', 'registry']"),
    ("findings", ("findings", 3, "subject"), "consumer", "PP004", "$.findings[3].subject",
     "a registry-scope finding has subject registry"),
    ("findings", ("findings", 0, "detail"), "", "PP001", "$.findings[0].detail",
     "a non-empty string"),
    ("findings", ("findings", 0, "fix"), "az acr update", "PP001", "$.findings[0].fix",
     "not of type 'object'"),
    ("findings", ("findings", 0, "fix", "terraform"), "x", "PP001", "$.findings[0].fix",
     "unknown key(s) terraform (allowed: cli, bicep)"),
    ("findings", ("findings", 0, "fix", "cli"), " ", "PP001", "$.findings[0].fix.cli",
     "a non-empty string"),
    ("findings", ("findings", 0, "docs"), [], "PP001", "$.findings[0].docs",
     "docs must be a non-empty list of https:// URLs"),
    ("findings", ("findings", 0, "docs"), ["http://example.com"], "PP001",
     "$.findings[0].docs[0]", "does not match '^https://'"),
    ("findings", ("findings", 0, "policy"), "deny-public", "PP001", "$.findings[0].policy",
     "not of type 'object'"),
    ("findings", ("findings", 0, "policy"), {"id": ROLE, "name": "x", "effect": "deny"},
     "PP001", "$.findings[0].policy", "unknown key(s) effect"),
    ("findings", ("findings", 0, "policy"), {"id": "deny", "name": "x"}, "PP001",
     "$.findings[0].policy.id", "a GUID, got 'deny'"),
    ("findings", ("findings", 0, "policy"), {"id": ROLE}, "PP001", "$.findings[0].policy",
     "'name' is a required property"),
    ("findings", ("findings", 0, "sources"), "docs", "PP001", "$.findings[0].sources",
     "not of type 'array'"),
]


def _edit(doc: Any, where: tuple[Any, ...], value: object) -> Any:
    if not where:
        return value
    node = doc
    for part in where[:-1]:
        node = node[part]
    if value is DELETE:
        del node[where[-1]]
    else:
        node[where[-1]] = value
    return doc


@pytest.mark.parametrize(("name", "where", "value", "entry", "path", "words"), STRUCTURAL,
                         ids=[f"{c[0]}:{'.'.join(map(str, c[1]))}={str(c[2])[:20]}"
                              for c in STRUCTURAL])
def test_every_structural_rejection_is_the_schemas(
        name: str, where: tuple[Any, ...], value: object, entry: str, path: str,
        words: str) -> None:
    doc = _edit(_doc(name), where, value)
    expected = f"kb.yaml: {entry + ': ' if entry else ''}{path + ': ' if path else ''}"
    problems = schema_problems(doc, name, "kb.yaml")
    assert any(p.startswith(expected) and words in p for p in problems), problems
    with pytest.raises(KnowledgeError) as err:
        _parse(name, doc)
    assert str(err.value).splitlines() == problems  # the schema's words, nothing else


def test_problems_are_counted_past_twenty() -> None:
    doc = _doc("behaviours")
    for b in doc["behaviours"]:
        b["expect"] = "sideways"
    problems = schema_problems(doc, "behaviours", "kb.yaml")
    assert len(problems) == 21
    assert problems[-1].startswith("kb.yaml: ... and ")


# ------------------------------------------------------------------ what a schema cannot say

SEMANTIC: list[tuple[str, tuple[Any, ...], object, str]] = [
    ("behaviours", ("behaviours", 1, "id"), "KB-ACI-001",
     "kb.yaml: KB-ACI-001: $.behaviours[1].id: duplicate id KB-ACI-001"),
    ("behaviours", ("callers", 1, "id"), "acr-import",
     "kb.yaml: acr-import: $.callers[1].id: duplicate id acr-import"),
    ("findings", ("findings", 1, "id"), "PP001",
     "kb.yaml: PP001: $.findings[1].id: duplicate id PP001"),
    ("behaviours", ("behaviours", 0, "when"), {"consumer.in_vnet": "yes"},
     "kb.yaml: KB-ACI-001: $.behaviours[0].when: consumer.in_vnet is a boolean fact: use true "
     "or false, got 'yes'"),
    ("behaviours", ("behaviours", 0, "when"), {"credential.method": {"not": ["certificate"]}},
     "kb.yaml: KB-ACI-001: $.behaviours[0].when: credential.method must be one of"),
    ("findings", ("findings", 3, "when"), {"consumer.kind": "aci"},
     "kb.yaml: PP004: $.findings[3].when: a registry-scope entry can only use registry facts, "
     "not consumer.kind"),
    ("behaviours", (*SRC, "verified"), "2025-02-30",
     "kb.yaml: KB-ACI-001: $.behaviours[0].sources[0].verified: verified is not a valid date"),
    ("behaviours", (*SRC, "verified"), "2999-01",
     "kb.yaml: KB-ACI-001: $.behaviours[0].sources[0].verified: verified date 2999-01 is in the "
     "future"),
    ("behaviours", SRC, _source(kind="measured", url="pullpath-lab:r1", run_id="r2"),
     "kb.yaml: KB-ACI-001: $.behaviours[0].sources[0]: a measured source's url is "
     "pullpath-lab:<run_id>, got 'pullpath-lab:r1' for run 'r2'"),
    ("behaviours", SRC, _source(kind="field-report", url="field-report:2024-11-25",
                                verified="2024-11-26"),
     "kb.yaml: KB-ACI-001: $.behaviours[0].sources[0]: the field report of 2024-11-25 must "
     "carry its own date as verified, got 2024-11-26"),
    ("findings", ("findings", 0, "fix", "cli"), "az acr update --name {{registry}}",
     "kb.yaml: PP001: $.findings[0].fix.cli: unknown placeholder {{registry}}"),
    ("findings", ("findings", 0, "detail"), "{{why:consumer.colour}}",
     "kb.yaml: PP001: $.findings[0].detail: unknown fact in placeholder {{why:consumer.colour}}"),
]


@pytest.mark.parametrize(("name", "where", "value", "message"), SEMANTIC,
                         ids=[c[3].split(": ")[-1][:30] for c in SEMANTIC])
def test_the_loader_refuses_what_a_schema_cannot_say(
        name: str, where: tuple[Any, ...], value: object, message: str) -> None:
    doc = _edit(_doc(name), where, value)
    assert schema_problems(doc, name, "kb.yaml") == []
    with pytest.raises(KnowledgeError) as err:
        _parse(name, doc)
    assert str(err.value).startswith(message), str(err.value)


# ------------------------------------------------------------------ never a crash

_VALUES = st.sampled_from([
    None, True, False, 0, 1.5, "", " ", "x", "KB-ACI-001", "PP001", "2025-01-01", "2025-02-30",
    "2999-01-01", "2025-01", "2025-01-01\n", "denied", "public", "measured", "field-report",
    "documented", "rbac", "registry", "pair", "consumer", "aci", "any", "high", "none",
    "network", "pullpath-lab:r1", "r1", "field-report:2025-01-01",
    "https://learn.microsoft.com/x", "https://github.com/a/b/issues/1", "{{why:x}}",
    "{{consumer_name}}", "consumer.in_vnet", [], {}, [True], ["aci"], {"not": True},
    {"not": ["aci", "ACA"]}, ["rbac", "abac"], [None]])


def _paths(node: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [at]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*at, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*at, i))
    return out


_PATHS = {name: _paths(_doc(name))[1:] for name in ("behaviours", "findings")}
_SAME_KEY = {name: {p[-1]: [q for q in paths if q[-1] == p[-1]] for p in paths}
             for name, paths in _PATHS.items()}
"""Paths by their last key: a value moved to another place of the same name mostly keeps the
schema's shape and breaks what only the loader checks."""


@st.composite
def _mutated(draw: st.DrawFn, name: str) -> Any:
    doc = _doc(name)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_PATHS[name]))
        try:
            parent: Any = doc
            for part in path[:-1]:
                parent = parent[part]
            key = path[-1]
            action = draw(st.sampled_from(["set", "delete", "add", "copy", "same-key",
                                           "same-key", "same-key"]))
            if action == "delete":
                del parent[key]
            elif action == "add" and isinstance(parent[key], dict):
                parent[key][draw(st.sampled_from(["not", "id", "x", "consumer.kind", "run_id",
                                                  "denied_by", "expect", "policy"]))] = \
                    draw(_VALUES)
            elif action in ("copy", "same-key"):
                other = draw(st.sampled_from(_PATHS[name] if action == "copy" else
                                             _SAME_KEY[name][key]))
                source: Any = doc
                for part in other:
                    source = source[part]
                parent[key] = copy.deepcopy(source)
            else:
                parent[key] = draw(_VALUES)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation moved the path away
    return doc


def _never_crashes(name: str, doc: Any) -> None:
    try:
        _parse(name, doc)
    except KnowledgeError as exc:
        message = str(exc)
    else:
        return
    assert message.startswith("kb.yaml: ")  # any other exception fails the test


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated("behaviours"))
def test_mutated_behaviours_load_or_give_a_knowledge_error(doc: Any) -> None:
    _never_crashes("behaviours", doc)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated("findings"))
def test_mutated_findings_load_or_give_a_knowledge_error(doc: Any) -> None:
    _never_crashes("findings", doc)


# ------------------------------------------------------------------ sources, files, check


def _with_source(source: dict[str, str]) -> dict[str, Any]:
    doc = _doc("behaviours")
    doc["behaviours"][0]["sources"].append(source)
    return doc


BAD_SOURCES = [
    {"url": "pullpath-lab:r1", "kind": "measured", "verified": "2026-12-01", "says": "x"},
    {"url": "lab:aci-vnet-trusted", "kind": "measured", "verified": "2024-11-25", "says": "x"},
    {"url": "https://learn.microsoft.com/azure/x", "kind": "documented", "run_id": "r1",
     "verified": "2025-01-01", "says": "x"},
    {"url": "https://example.com/post", "kind": "documented", "verified": "2025-01-01",
     "says": "x"},
    {"url": "lab:aci-vnet-trusted", "kind": "field-report", "verified": "2024-11-25", "says": "x"},
    {"url": "https://learn.microsoft.com/azure/x", "kind": "issue", "verified": "2025-01-01",
     "says": "x"},
    {"url": "https://learn.microsoft.com/azure/x", "kind": "hearsay", "verified": "2025-01-01",
     "says": "x"},
    {"url": "https://learn.microsoft.com/azure/x", "kind": "documented", "verified": "recently",
     "says": "x"},
    {"url": "https://learn.microsoft.com/azure/x", "kind": "documented", "verified": "2025-01-01",
     "says": "x", "confidence": "high"},
]


@pytest.mark.parametrize("source", BAD_SOURCES, ids=lambda s: f"{s['kind']}:{s['url'][:20]}")
def test_schema_and_loader_refuse_the_same_bad_source(source: dict[str, str]) -> None:
    doc = _with_source(source)
    problems = schema_problems(doc, "behaviours", "kb.yaml")
    assert problems, "the schema accepts it"
    with pytest.raises(KnowledgeError) as err:
        parse_behaviours(yaml.safe_dump(doc), "kb.yaml")
    assert str(err.value).splitlines() == problems


def test_a_recorded_lab_run_is_valid_for_both() -> None:
    doc = _with_source({"url": "pullpath-lab:run-1", "kind": "measured", "run_id": "run-1",
                        "verified": "2026-12-01", "says": "observed denied"})
    assert schema_problems(doc, "behaviours", "kb.yaml") == []
    parse_behaviours(yaml.safe_dump(doc), "kb.yaml")


def test_a_given_file_is_validated_first(tmp_path: Path) -> None:
    doc = _doc("findings")
    doc["findings"][0]["severity"] = "fatal"
    bad = tmp_path / "findings.yaml"
    bad.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(findings=bad)
    assert str(err.value) == (f"{bad}: PP001: $.findings[0].severity: 'fatal' is not one of "
                              "['error', 'warning', 'note']")
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="None is not of type 'object'"):
        load_knowledge(behaviours=empty)


_SOURCE = ("{url: 'https://learn.microsoft.com/x', verified: '2025-01-01', kind: documented, "
           "says: x}")
_BOMB = (f"schema: pullpath.knowledge/v1\npull_roles: {{roles: [], sources: [&s {_SOURCE}]}}\n"
         "behaviours:\n- &b {id: KB-ACI-001, consumer: aci, title: t, when: {dns.ok: true}, "
         "expect: public, confidence: high, rationale: r, sources: [" + ", ".join(["*s"] * 1000)
         + "]}\n" + "".join(["- *b\n"] * 1000))
"""Two thousand aliases that the validator would walk as a million sources."""


@pytest.mark.parametrize(("text", "words"), [
    ("[" * 100_000 + "]" * 100_000, "nested more than 64 levels deep"),
    ("a: " + "{b: " * 1000 + "1" + "}" * 1000, "nested more than 64 levels deep"),
    (_BOMB, "more than 100,000 values (aliases expanded)"),
])
def test_deep_or_alias_multiplied_files_are_refused_before_they_are_built(
        text: str, words: str) -> None:
    """libyaml's composer crashes the process on the first one (the hand-written loader let it
    too); the validator would walk the third's aliases as a million sources."""
    with pytest.raises(KnowledgeError) as err:
        parse_behaviours(text, "kb.yaml")
    assert str(err.value) == f"kb.yaml: {words}"


def test_the_shipped_files_are_loaded_without_jsonschema() -> None:
    """The run-time path: a fresh process loads the shipped files and never imports it."""
    code = ("import sys\nfrom pullpath.knowledge.loader import default_knowledge\n"
            "kb = default_knowledge()\nassert kb.behaviours and kb.findings\n"
            "print(sorted(m for m in ('jsonschema', 'referencing') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_check_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert "valid:" in capsys.readouterr().out
    bad = tmp_path / "behaviours.yaml"
    doc = _doc("behaviours")
    doc["behaviours"][0]["expect"] = "sideways"
    doc["behaviours"][1]["sources"][0].pop("says")
    bad.write_text(yaml.safe_dump(doc), encoding="utf-8")
    assert main([str(bad)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert any(line.startswith(f"{bad}: KB-ACI-001: $.behaviours[0].expect: ") for line in err)
    assert any("$.behaviours[1].sources[0]: 'says' is a required property" in line
               for line in err)
    doc = _doc("behaviours")
    doc["behaviours"][1]["id"] = doc["behaviours"][0]["id"]
    bad.write_text(yaml.safe_dump(doc), encoding="utf-8")
    assert main([str(bad)]) == 1
    assert "duplicate id KB-ACI-001" in capsys.readouterr().err
    assert main([str(tmp_path / "absent.yaml")]) == 1
    assert "cannot read" in capsys.readouterr().err


