"""The knowledge base files: the shipped ones load and are complete; malformed ones are refused
with a message that says where and what; the finding pages match the definitions."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import yaml

from pullpath.domain.explain import FACT_SPECS, SourceKind
from pullpath.domain.verdicts import Path as NetPath
from pullpath.knowledge.loader import (
    KnowledgeError,
    load_knowledge,
    parse_behaviours,
    parse_callers,
    parse_findings,
)
from tests.support import ROOT

KNOWLEDGE = ROOT / "src" / "pullpath" / "knowledge"
DOCS = ROOT / "docs" / "findings"


def test_shipped_knowledge_loads() -> None:
    kb = load_knowledge()
    assert len(kb.behaviours) >= 20
    assert len(kb.findings) >= 12
    assert "7f951dda-4ed3-4680-a7ca-43fe172d538d" in {r.id for r in kb.pull_roles}
    assert "b93aa761-3e63-49ed-ac28-beffa264f7ac" in {r.id for r in kb.pull_roles}


_URL_BY_KIND = {
    SourceKind.DOCUMENTED: "https://learn.microsoft.com/",
    SourceKind.ISSUE: "https://github.com/",
    SourceKind.FIELD_REPORT: "field-report:",
    SourceKind.MEASURED: "pullpath-lab:",
}


def test_every_entry_rests_on_dated_sources() -> None:
    kb = load_knowledge()
    for b in kb.behaviours:
        assert b.sources, b.id
        for s in b.sources:
            assert s.verified_date <= date.today()
            assert s.url.startswith(_URL_BY_KIND[s.kind]), (b.id, s.url)
            assert bool(s.run_id) is (s.kind is SourceKind.MEASURED), (b.id, s.url)


def test_the_field_report_is_cited_only_for_what_it_observed() -> None:
    """The 2024-11-25 report saw two configurations: ACI in a VNet with a user-assigned
    identity behind a restricted registry with trusted services on, and ACA in a custom VNet
    with a private endpoint. Nothing else may cite it."""
    kb = load_knowledge()
    citing = {b.id for b in kb.behaviours
              if any(s.kind is SourceKind.FIELD_REPORT for s in b.sources)}
    assert citing == {"KB-ACI-002", "KB-ACA-001"}
    aci = next(b for b in kb.behaviours if b.id == "KB-ACI-002")
    assert {(c.fact, c.values) for c in aci.when} == {
        ("consumer.in_vnet", (True,)), ("credential.method", ("user-assigned-identity",)),
        ("registry.restricted", (True,)), ("registry.trusted_services", (True,))}


def test_coverage_of_the_issue() -> None:
    """Consumers and settings the issue asks the knowledge base to cover."""
    kb = load_knowledge()
    facts_by_consumer: dict[str, set[str]] = {}
    for b in kb.behaviours:
        facts_by_consumer.setdefault(b.consumer, set()).update(c.fact for c in b.when)
    assert {"consumer.in_vnet", "credential.method", "registry.trusted_services"} <= \
        facts_by_consumer["aci"]
    assert {"consumer.in_vnet", "pe.reachable"} <= facts_by_consumer["aca"]
    assert "pe.reachable" in facts_by_consumer["aks"]
    assert "consumer.vnet_image_pull" in facts_by_consumer["appservice"]
    assert {"credential.method", "registry.tasks_bypass"} <= facts_by_consumer["acr-tasks"]
    assert {"registry.premium", "registry.open_to_all", "registry.ip_rules_cover_egress",
            "registry.pe_pending_only"} <= facts_by_consumer["any"]


def test_disputed_entries_follow_the_latest_observation() -> None:
    disputed = [b for b in load_knowledge().behaviours if b.disputed]
    assert disputed, "the ACI-in-VNet case records docs and the field report"
    for b in disputed:
        seen = [s for s in b.sources if s.kind.observation and s.expect]
        assert max(seen, key=lambda s: s.verified_date).expect is b.expect


# ------------------------------------------------------------------ malformed files


def _behaviours_doc() -> dict[str, object]:
    doc = yaml.safe_load((KNOWLEDGE / "behaviours.yaml").read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def _first(doc: dict[str, object]) -> dict[str, object]:
    entries = doc["behaviours"]
    assert isinstance(entries, list)
    first = entries[0]
    assert isinstance(first, dict)
    return first


def _refused(doc: dict[str, object], *words: str) -> None:
    with pytest.raises(KnowledgeError) as err:
        parse_behaviours(yaml.safe_dump(doc), "kb.yaml")
    message = str(err.value)
    assert message.startswith("kb.yaml: ")
    for word in words:
        assert word in message, message


def test_unknown_key_is_refused() -> None:
    doc = _behaviours_doc()
    _first(doc)["expected"] = "public"
    _refused(doc, "KB-ACI-001", "unknown key", "expected")


def test_missing_sources_are_refused() -> None:
    doc = _behaviours_doc()
    _first(doc)["sources"] = []
    _refused(doc, "KB-ACI-001", "sources")


@pytest.mark.parametrize("bad", ["2025-13-01", "last week", "2999-01-01"])
def test_bad_dates_are_refused(bad: str) -> None:
    doc = _behaviours_doc()
    sources = _first(doc)["sources"]
    assert isinstance(sources, list)
    sources[0]["verified"] = bad
    _refused(doc, "verified")


def test_unknown_fact_is_refused() -> None:
    doc = _behaviours_doc()
    _first(doc)["when"] = {"consumer.in_vnett": True}
    _refused(doc, "unknown fact", "consumer.in_vnett")


def test_wrong_value_type_is_refused() -> None:
    doc = _behaviours_doc()
    _first(doc)["when"] = {"consumer.in_vnet": "yes"}
    _refused(doc, "boolean")
    _first(doc)["when"] = {"credential.method": "certificate"}
    _refused(doc, "credential.method")


def test_duplicate_id_is_refused() -> None:
    doc = _behaviours_doc()
    entries = doc["behaviours"]
    assert isinstance(entries, list)
    entries.append(dict(entries[0]))
    _refused(doc, "duplicate")


def _aci_vnet(doc: dict[str, object]) -> dict[str, object]:
    entries = doc["behaviours"]
    assert isinstance(entries, list)
    found = next(e for e in entries if e["id"] == "KB-ACI-002")
    assert isinstance(found, dict)
    return found


def test_observation_must_win() -> None:
    doc = _behaviours_doc()
    _aci_vnet(doc)["expect"] = "private-endpoint"  # the documentation's claim
    _refused(doc, "KB-ACI-002", "observation wins")


def test_a_later_lab_run_overrules_the_field_report() -> None:
    """The shape `pullpath lab run --record` writes: a measured source with its run."""
    doc = _behaviours_doc()
    aci = _aci_vnet(doc)
    sources = aci["sources"]
    assert isinstance(sources, list)
    sources.append({"url": "pullpath-lab:run-20261201-ab12", "kind": "measured",
                    "run_id": "run-20261201-ab12", "verified": "2026-12-01",
                    "expect": "private-endpoint", "says": "observed private-endpoint"})
    _refused(doc, "KB-ACI-002", "observation wins", "measured 2026-12-01")
    aci["expect"] = "private-endpoint"
    rules, _roles, _sources = parse_behaviours(yaml.safe_dump(doc), "kb.yaml")
    entry = next(b for b in rules if b.id == "KB-ACI-002")
    assert entry.sources[-1].run_id == "run-20261201-ab12"
    assert entry.sources[-1].kind is SourceKind.MEASURED


def test_disagreement_without_an_observation_is_refused() -> None:
    doc = _behaviours_doc()
    aci = _aci_vnet(doc)
    sources = aci["sources"]
    assert isinstance(sources, list)
    aci["sources"] = [s for s in sources if s["kind"] != "field-report"] + [
        {"url": "https://learn.microsoft.com/azure/x", "kind": "documented",
         "verified": "2025-01-01", "expect": "trusted-service", "says": "x"}]
    _refused(doc, "KB-ACI-002", "none is an observation")


@pytest.mark.parametrize(("source", "words"), [
    ({"url": "pullpath-lab:r1", "kind": "measured", "verified": "2026-12-01", "says": "x"},
     ("$.behaviours[0].sources[2]", "'run_id' is a required property")),
    ({"url": "lab:aci-vnet-trusted", "kind": "measured", "verified": "2024-11-25", "says": "x"},
     ("'run_id' is a required property", "sources[2].url", "pullpath-lab:<run_id>")),
    ({"url": "pullpath-lab:r1", "kind": "measured", "run_id": "r2", "verified": "2026-12-01",
      "says": "x"}, ("pullpath-lab:<run_id>",)),
    ({"url": "pullpath-lab:r1", "kind": "measured", "run_id": "r1", "verified": "2026-12",
      "says": "x"}, ("YYYY-MM-DD",)),
    ({"url": "https://learn.microsoft.com/azure/x", "kind": "documented", "run_id": "r1",
      "verified": "2025-01-01", "says": "x"}, ("run_id belongs to measured",)),
    ({"url": "field-report:2024-11-25", "kind": "field-report", "verified": "2024-11-26",
      "says": "x"}, ("own date",)),
    ({"url": "field-report:2024-11-25", "kind": "measured", "verified": "2024-11-25",
      "says": "x"}, ("'run_id' is a required property",)),
    ({"url": "https://example.com/blog", "kind": "documented", "verified": "2025-01-01",
      "says": "x"}, ("learn.microsoft.com",)),
    ({"url": "https://learn.microsoft.com/azure/x", "kind": "issue", "verified": "2025-01-01",
      "says": "x"}, ("issues/<n>",)),
    ({"url": "https://learn.microsoft.com/azure/x", "kind": "hearsay", "verified": "2025-01-01",
      "says": "x"}, ("sources[2].kind", "'hearsay' is not one of ['documented', 'issue', "
                     "'field-report', 'measured']")),
])
def test_malformed_sources_are_refused(source: dict[str, str], words: tuple[str, ...]) -> None:
    doc = _behaviours_doc()
    sources = _first(doc)["sources"]
    assert isinstance(sources, list)
    sources.append(source)
    _refused(doc, "KB-ACI-001", *words)


@pytest.mark.parametrize("role", [
    {"id": "7f951dda-4ed3-4680-a7ca-43fe172d538d", "name": "AcrPull"},
    {"id": "7f951dda-4ed3-4680-a7ca-43fe172d538d", "name": "AcrPull", "modes": ["legacy"]},
    {"id": "7f951dda-4ed3-4680-a7ca-43fe172d538d", "name": "AcrPull", "modes": ["rbac"],
     "denied_in": ["rbac"]},
])
def test_malformed_pull_roles_are_refused(role: dict[str, object]) -> None:
    doc = _behaviours_doc()
    roles = doc["pull_roles"]
    assert isinstance(roles, dict)
    roles["roles"] = [role]
    _refused(doc, "pull_roles")


def test_callers_that_are_not_consumers_load() -> None:
    callers = {c.id: c for c in load_knowledge().callers}
    assert set(callers) == {"acr-import", "defender", "machine-learning", "azure-pipelines"}
    assert [c.trusted for c in callers.values()] == [True, True, True, False]
    assert callers["machine-learning"].identity == "managed-identity"


@pytest.mark.parametrize(("edit", "words"), [
    ({"identity": "token"}, ("defender", "$.callers[1].identity")),
    ({"evidence": "defender-plan"}, ("defender", "$.callers[1].evidence")),
    ({"trusted": "yes"}, ("defender", "$.callers[1].trusted")),
    ({"signature": "x"}, ("unknown key", "signature")),
    ({"sources": []}, ("sources",)),
])
def test_malformed_callers_are_refused(edit: dict[str, object], words: tuple[str, ...]) -> None:
    doc = _behaviours_doc()
    callers = doc["callers"]
    assert isinstance(callers, list)
    callers[1].update(edit)
    with pytest.raises(KnowledgeError) as err:
        parse_callers(yaml.safe_dump(doc), "kb.yaml")
    for word in words:
        assert word in str(err.value), str(err.value)


def test_bad_url_is_refused() -> None:
    doc = _behaviours_doc()
    sources = _first(doc)["sources"]
    assert isinstance(sources, list)
    sources[0]["url"] = "http://example.com/insecure"
    _refused(doc, "url")


def test_not_yaml_is_refused_with_a_line_number() -> None:
    with pytest.raises(KnowledgeError, match="line"):
        parse_behaviours("schema: [unclosed\n", "kb.yaml")


def test_finding_with_unknown_placeholder_is_refused() -> None:
    doc = yaml.safe_load((KNOWLEDGE / "findings.yaml").read_text(encoding="utf-8"))
    doc["findings"][0]["fix"]["cli"] = "az acr update --name {{registry}}"
    with pytest.raises(KnowledgeError, match="placeholder"):
        parse_findings(yaml.safe_dump(doc), "f.yaml")


def test_registry_finding_may_not_use_pair_facts() -> None:
    doc = yaml.safe_load((KNOWLEDGE / "findings.yaml").read_text(encoding="utf-8"))
    reg = next(f for f in doc["findings"] if f["scope"] == "registry")
    reg["when"] = {"consumer.kind": "aci"}
    with pytest.raises(KnowledgeError, match="registry facts"):
        parse_findings(yaml.safe_dump(doc), "f.yaml")


def test_user_supplied_files_are_validated(tmp_path: Path) -> None:
    bad = tmp_path / "behaviours.yaml"
    bad.write_text("schema: pullpath.knowledge/v0\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"unknown key|schema|missing"):
        load_knowledge(behaviours=bad)
    with pytest.raises(KnowledgeError, match="cannot read"):
        load_knowledge(behaviours=tmp_path / "absent.yaml")


def test_fact_catalogue_is_consistent() -> None:
    for name, spec in FACT_SPECS.items():
        assert name == spec.name
        assert spec.scope in ("pair", "registry")
    assert {p.value for p in NetPath} >= {"private-endpoint", "trusted-service", "unknown"}


# ------------------------------------------------------------------ finding pages


def _front_matter(text: str) -> dict[str, str]:
    match = re.match(r"^---\n(.*?)\n---\n", text, re.S)
    assert match, "front matter"
    meta = yaml.safe_load(match.group(1))
    assert isinstance(meta, dict)
    return {str(k): str(v) for k, v in meta.items()}


def test_every_finding_has_a_page_in_sync() -> None:
    kb = load_knowledge()
    for f in kb.findings:
        page = DOCS / f"{f.id}.md"
        assert page.exists(), f"docs/findings/{f.id}.md"
        text = page.read_text(encoding="utf-8")
        meta = _front_matter(text)
        assert meta == {"id": f.id, "severity": f.severity.value, "title": f.title}
        for section in ("## What", "## Why it matters", "## How to fix", "### Azure CLI",
                        "### Bicep", "## Related policy", "## Sources"):
            assert section in text, (f.id, section)
        assert f.fix_cli in text, f"{f.id}: CLI fix out of date"
        assert f.fix_bicep in text, f"{f.id}: Bicep fix out of date"
        if f.policy is not None:
            assert f.policy.id in text
        for url in f.docs:
            assert url in text
    pages = {p.stem for p in DOCS.glob("PP*.md")}
    assert pages == {f.id for f in kb.findings}


def test_every_lab_reference_names_a_bundled_scenario_or_variant() -> None:
    """A behaviour's ``lab:`` says which lab run re-measures it: ``scenario`` or
    ``scenario:variant`` of the bundled scenarios (``pullpath lab run --variant``)."""
    from pullpath.lab.scenarios import list_scenarios, load_scenario

    runnable = set(list_scenarios())
    runnable |= {f"{name}:{v}" for name in list_scenarios() for v in load_scenario(name).variants}
    from pullpath.knowledge.loader import default_knowledge

    kb = default_knowledge()
    named = {ref for b in kb.behaviours for ref in b.lab}
    assert named, "no behaviour names a lab run"
    assert named <= runnable, sorted(named - runnable)
