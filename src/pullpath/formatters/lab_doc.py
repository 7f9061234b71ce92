"""The lab report as a plain document: the ``pullpath.lab/v1`` JSON contract (``lab_json``);
Markdown and HTML are drawn from the same document."""

from __future__ import annotations

import json
from typing import Any

from pullpath.domain.report import Evidence, LabReport
from pullpath.formatters.common import iso, safe_text

LAB_SCHEMA = "pullpath.lab/v1"


def _evidence_doc(e: Evidence) -> dict[str, Any]:
    return {
        "caller_ip": safe_text(e.caller_ip),
        "source_kind": e.source_kind,
        "service_tag": e.service_tag,
        "region": e.region,
        "owner_resource_id": e.owner,
        "belongs_to_subscription": e.belongs_to_subscription,
        "operation": safe_text(e.operation),
        "result": e.result,
        "path": e.path.value,
        "count": e.count,
        "identity": safe_text(e.identity),
        "repository": safe_text(e.repository),
        "first_seen": iso(e.first_seen),
        "last_seen": iso(e.last_seen),
    }


def lab_document(report: LabReport) -> dict[str, Any]:
    s = report.scenario
    consumers = []
    for c in report.consumers:
        consumers.append({
            "key": c.key,
            "kind": c.kind,
            "name": c.name,
            "resource_id": c.resource_id,
            "predicted": {"path": c.prediction.path.value, "source": c.prediction.source,
                          "rule": c.prediction.rule, "reasons": list(c.prediction.reasons),
                          "missing": list(c.prediction.missing)},
            "expected_by_scenario": c.expected.value,
            "documented": ({"path": c.documented.path.value, "source": c.documented.source,
                            "as_of": c.documented.as_of, "says": c.documented.says}
                           if c.documented else None),
            "documentation": c.documentation,
            "observed": {"summary": c.observed,
                         "paths": [p.value for p in c.observed_paths],
                         "deployment_errors": list(c.deployment_errors),
                         "evidence": [_evidence_doc(e) for e in c.evidence]},
            "agreement": c.agreement,
            "knowledge_entry": {"id": c.knowledge_id, "title": c.knowledge_title},
            "knowledge": ({"id": c.knowledge.id, "statement": c.knowledge.statement,
                           "source": c.knowledge.source, "as_of": c.knowledge.as_of}
                          if c.knowledge else None),
            "knowledge_update": c.knowledge_update,
        })
    tags = report.audit.tags if report.audit is not None else None
    return {
        "schema": LAB_SCHEMA,
        "scenario": {"name": s.name, "variant": s.variant, "title": s.title,
                     "question": s.question, "report": s.report},
        "run_id": report.run_id,
        "subscription": report.subscription,
        "resource_group": report.resource_group,
        "location": report.location,
        "started": iso(report.started),
        "finished": iso(report.finished),
        "date": report.today.isoformat(),
        "consumers": consumers,
        "unattributed_flows": [_evidence_doc(e) for e in report.unattributed],
        "collect": report.collect,
        "service_tags": ({"cloud": tags.cloud, "change_number": tags.change_number,
                          "source": tags.source} if tags else None),
        "events": report.audit.result.summary.events if report.audit is not None else 0,
        "torn_down": report.torn_down,
        "trigger": report.trigger,
        "triggered": iso(report.triggered),
        "warnings": list(report.warnings),
    }


def lab_json(report: LabReport) -> str:
    return json.dumps(lab_document(report), indent=2, ensure_ascii=False, default=str) + "\n"
