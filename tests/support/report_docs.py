"""Report documents and reports shared by the formatter tests, and what a reader of the JSON
document alone expects of a diagram."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from pullpath.domain.report import AuditReport
from tests.support.report_scenarios import HOSTILE, big_scenario


def expected_edges(doc: Mapping[str, Any]) -> tuple[Counter[str], Counter[str], int]:
    """From the JSON document alone: edges per path (one per consumer -- or, unattributed, per
    subnet or source kind -- x registry x path), events per path, and how many edges carry a
    disagreement."""
    groups: dict[tuple[str, str, str], list[Mapping[str, Any]]] = {}
    for f in doc["flows"]:
        c, s = f["consumer"], f["source"]
        if c["id"]:
            start = "consumer:" + c["id"].lower()
        elif s["kind"] == "subnet" and s["subnet_id"]:
            start = "unattributed:" + s["subnet_id"].lower()
        else:
            start = "source:" + s["kind"]
        groups.setdefault((start, f["registry"], f["path"]), []).append(f)
    edges = Counter(path for _, _, path in groups)
    events: Counter[str] = Counter()
    for f in doc["flows"]:
        events[f["path"]] += f["count"]
    disagreeing = sum(1 for flows in groups.values() if any(f["agrees"] is False for f in flows))
    return edges, events, disagreeing


LAB_DOC: dict[str, Any] = {
    "schema": "pullpath.lab/v1",
    "scenario": {"name": "aci-vnet-trusted", "title": "ACI in a VNet", "question": "which way?"},
    "run_id": "pp-1234", "subscription": "s", "resource_group": "rg-pullpath-lab-pp-1234",
    "location": "japaneast", "started": "2026-11-28T10:00:00Z",
    "finished": "2026-11-28T10:20:00Z", "date": "2026-11-28",
    "consumers": [
        {"key": "aci", "kind": "aci", "name": "aci-lab", "resource_id": "/s/x/containergroups/aci-lab",
         "predicted": {"path": "private-endpoint", "source": "docs", "rule": "KB-ACI-001",
                       "reasons": ["the docs say so"]},
         "expected_by_scenario": "trusted-service",
         "observed": {"summary": "trusted-service", "paths": ["trusted-service"],
                      "deployment_errors": [],
                      "evidence": [{"caller_ip": "4.189.68.203", "source_kind": "azure-platform",
                                    "service_tag": "AzureCloud.japaneast", "region": "japaneast",
                                    "owner_resource_id": "", "belongs_to_subscription": False,
                                    "operation": "Pull", "result": "200",
                                    "path": "trusted-service", "count": 2, "identity": "id",
                                    "repository": "hello", "first_seen": None,
                                    "last_seen": None}]},
         "agreement": "disagrees",
         "knowledge": {"id": "KB-ACI-001", "statement": "through the PE", "source": "docs",
                       "as_of": "2025-02-01"},
         "knowledge_update": "CONTRADICTED knowledge entry KB-ACI-001"},
        {"key": "aca", "kind": "aca", "name": "ca-lab", "resource_id": "",
         "predicted": {"path": "private-endpoint", "source": "kb", "rule": "KB-ACA-001",
                       "reasons": []},
         "expected_by_scenario": "private-endpoint",
         "observed": {"summary": "not-observed", "paths": [], "deployment_errors": [],
                      "evidence": []},
         "agreement": "not-observed", "knowledge": None, "knowledge_update": ""},
    ],
    "unattributed_flows": [],
    "collect": {"events": 2, "polls": 3, "complete": True},
    "service_tags": {"cloud": "Public", "change_number": "375", "source": "bundled"},
    "events": 2, "torn_down": True, "warnings": [],
}


def hostile_report() -> AuditReport:
    """The big scenario with hostile text (markup, formula triggers, a lone surrogate, line
    breaks) in the values flows show, some flows sharing their parts."""
    report = big_scenario().report
    texts = [*HOSTILE, "=1+1", "-2", "@x", "caf\u00e9", "lone \udc80 surrogate", "a\r\nb", ""]
    flows = [
        replace(f, repository=texts[i % len(texts)], tag=texts[(i + 3) % len(texts)],
                identity=texts[(i + 5) % len(texts)])
        for i, f in enumerate(report.result.flows)
    ]
    return replace(report, result=replace(report.result, flows=flows))
