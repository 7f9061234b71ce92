"""SARIF 2.1.0 output validates against the vendored OASIS schema and locates every result at
the Azure resource it concerns."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import jsonschema

from pullpath.core.audit import summarise
from pullpath.domain.events import ReadStats
from pullpath.domain.explain import Finding
from pullpath.domain.inventory import ConsumerKind
from pullpath.domain.report import AuditReport
from pullpath.domain.verdicts import (
    AuditResult,
    Confidence,
    ConsumerRef,
    Expectation,
    Flow,
    PathVerdict,
    Source,
    SourceKind,
    TagsInfo,
)
from pullpath.domain.verdicts import Path as NetPath
from pullpath.formatters.sarif import audit_sarif, explain_sarif
from tests.support import ROOT, TESTS
from tests.support.explain_world import World
from tests.support.world_edits import aci_password, drop_data_record, pe_in_aci_subnet, trusted_off

SCHEMA = TESTS / "data" / "sarif" / "sarif-schema-2.1.0.json"


@lru_cache(maxsize=1)
def validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)


def valid(text: str) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(text)
    errors = sorted(validator().iter_errors(log), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    return log


def broken_world() -> World:
    w = World()
    trusted_off(w)
    drop_data_record(w)
    pe_in_aci_subnet(w)
    return w


def test_explain_sarif_validates_and_locates_results_at_resources() -> None:
    w = broken_world()
    report = w.explain()
    assert len({f.id for f in report.findings}) >= 3
    log = valid(explain_sarif(report))
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [s.id for s in report.specs]
    for rule in rules:
        assert rule["helpUri"].endswith(f"/docs/findings/{rule['id']}.md")
        assert (ROOT / "docs" / "findings" / f"{rule['id']}.md").exists()
    inventory_ids = {r["id"].lower() for r in w.res.values()}
    assert len(run["results"]) == len(report.findings)
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        logical = result["locations"][0]["logicalLocations"][0]
        assert logical["kind"] == "resource"
        assert logical["fullyQualifiedName"] in inventory_ids
        assert result["level"] in ("error", "warning", "note")


def test_explain_sarif_without_findings_is_valid() -> None:
    log = valid(explain_sarif(World().explain()))
    assert log["runs"][0]["results"] == []


def _flow(path: NetPath, *, expected: NetPath | None = None, repository: str = "orders",
          consumer: str = "") -> Flow:
    now = datetime(2024, 11, 25, 10, 0, tzinfo=UTC)
    expectation = None
    if expected is not None:
        expectation = Expectation(expected, "KB-ACI-002", expected is path)
    return Flow(
        registry="myregistry.azurecr.io", operation="Pull", repository=repository, tag="1.0",
        caller_ip="20.1.2.3", identity="", result="200", count=3, first_seen=now,
        last_seen=now,
        source=Source(SourceKind.AZURE_PLATFORM, "20.1.2.3", service_tag="AzureCloud.westus"),
        verdict=PathVerdict(path, Confidence.HIGH, ("reason",)),
        consumer=ConsumerRef(ConsumerKind.ACI, consumer) if consumer else ConsumerRef.unknown(),
        registry_id="/subscriptions/x/resourcegroups/rg/providers/"
                    "microsoft.containerregistry/registries/myregistry",
        expectation=expectation,
    )


def _audit_report(flows: list[Flow], findings: tuple[Finding, ...]) -> AuditReport:
    result = AuditResult(flows=flows, summary=summarise(flows), stats=ReadStats())
    return AuditReport(result=result, tags=TagsInfo("Public", "375", "test"),
                       findings=findings)


def test_audit_sarif_validates_with_flows_disagreements_and_findings() -> None:
    aci = "/subscriptions/x/resourcegroups/rg/providers/microsoft.containerinstance/" \
          "containergroups/demo1"
    flows = [
        _flow(NetPath.PRIVATE_ENDPOINT),
        _flow(NetPath.TRUSTED_SERVICE, expected=NetPath.TRUSTED_SERVICE, consumer=aci),
        _flow(NetPath.PUBLIC, repository="evil\x1b[31m\u202e\ud800name"),
        _flow(NetPath.DENIED),
        _flow(NetPath.UNKNOWN),
        _flow(NetPath.TRUSTED_SERVICE, expected=NetPath.PRIVATE_ENDPOINT, consumer=aci,
              repository="web"),
    ]
    w = World()
    aci_password(w)
    findings = w.explain().findings
    assert findings
    log = valid(audit_sarif(_audit_report(flows, findings)))
    run = log["runs"][0]
    by_rule: dict[str, int] = {}
    for r in run["results"]:
        by_rule[r["ruleId"]] = by_rule.get(r["ruleId"], 0) + 1
    # private-endpoint flows are what is wanted: no result; the disagreement gets its own
    assert by_rule["PPA001"] == 2
    assert by_rule["PPA006"] == 1
    assert {"PPA002", "PPA004", "PPA005"} <= set(by_rule)
    assert {f.id for f in findings} <= set(by_rule)
    json.dumps(log).encode("utf-8")  # hostile text stays encodable


def test_audit_sarif_of_an_empty_audit_is_valid() -> None:
    log = valid(audit_sarif(_audit_report([], ())))
    assert log["runs"][0]["results"] == []


def test_fingerprints_are_stable_and_distinct() -> None:
    report = broken_world().explain()
    first = json.loads(explain_sarif(report))["runs"][0]["results"]
    second = json.loads(explain_sarif(replace(report)))["runs"][0]["results"]
    prints = [r["partialFingerprints"]["pullpathFinding/v1"] for r in first]
    assert prints == [r["partialFingerprints"]["pullpathFinding/v1"] for r in second]
    assert len(set(prints)) == len(prints)
