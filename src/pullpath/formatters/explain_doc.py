"""The explain report as a plain document: the ``pullpath.explain/v1`` JSON contract.

Contract (stable; keys are only ever added)::

    {"schema": "pullpath.explain/v1",
     "pairs": [{"consumer": {"id", "kind", "name"},
                "registry": {"id", "login_server", "name"},
                "expected_path", "rule", "confidence", "reasons": [...],
                "sources": [{"url", "verified", "kind", "says"}],
                "missing": [...], "credential", "facts": {...}}],
     "findings": [{"id", "severity", "title", "resource_id", "related": [...], "detail",
                   "fix": {"cli", "bicep"}, "docs": [...], "policy", "help_uri"}],
     "summary": {...}, "inventory": {...}, "notes": [...], "knowledge": {...}}

``registry.id`` is ``null`` when the login server is not in the inventory; ``rule`` is ``null``
when no knowledge-base entry applied (``expected_path`` is then ``unknown`` and ``missing`` says
why). Markdown, HTML and SARIF are derived from the same ``ExplainReport``.
"""

from __future__ import annotations

import json
from typing import Any

from pullpath import __version__
from pullpath.domain.explain import KbSource, PairPrediction, Severity
from pullpath.domain.report import ExplainReport
from pullpath.domain.verdicts import PATH_ORDER
from pullpath.formatters.common import safe_text
from pullpath.formatters.sections import finding_doc, inventory_doc, network_doc

__all__ = ["EXPLAIN_SCHEMA", "explain_document", "explain_json", "pair_doc"]

EXPLAIN_SCHEMA = "pullpath.explain/v1"


def source_doc(source: KbSource) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "url": source.url,
        "verified": source.verified,
        "kind": source.kind.value,
        "says": source.says,
    }
    if source.run_id:  # measured sources only: the pullpath lab run
        doc["run_id"] = source.run_id
    return doc


def pair_doc(p: PairPrediction) -> dict[str, Any]:
    c = p.consumer
    reg = p.registry
    return {
        "consumer": {"id": c.id, "kind": c.kind.value, "name": safe_text(c.name)},
        "registry": {
            "id": reg.id if reg is not None else None,
            "login_server": safe_text(p.login_server),
            "name": safe_text(reg.name if reg is not None else p.login_server.split(".", 1)[0]),
        },
        "expected_path": p.expected_path.value,
        "rule": p.rule or None,
        "confidence": p.confidence.value,
        "reasons": [safe_text(r) for r in p.reasons],
        "sources": [source_doc(s) for s in p.sources],
        "missing": [safe_text(m) for m in p.missing],
        "credential": p.credential,
        "facts": dict(p.facts),
        "denied_by": p.denied_by or None,
    }


def summary_doc(report: ExplainReport) -> dict[str, Any]:
    by_path = {p.value: 0 for p in PATH_ORDER}
    for pair in report.pairs:
        by_path[pair.expected_path.value] += 1
    by_severity = {s.value: 0 for s in Severity}
    for f in report.findings:
        by_severity[f.severity.value] += 1
    return {
        "pairs": len(report.pairs),
        "by_expected_path": by_path,
        "findings": len(report.findings),
        "by_severity": by_severity,
    }


def explain_document(report: ExplainReport) -> dict[str, Any]:
    return {
        "schema": EXPLAIN_SCHEMA,
        "pullpath_version": __version__,
        "pairs": [pair_doc(p) for p in report.pairs],
        "findings": [finding_doc(f) for f in report.findings],
        "summary": summary_doc(report),
        "inventory": inventory_doc(report.inventory),
        "network": network_doc(report.network) if report.network is not None else None,
        "notes": [safe_text(n) for n in report.notes],
        "knowledge": {
            "files": list(report.knowledge),
            "behaviours": report.behaviours,
            "findings": report.finding_rules,
        },
    }


def explain_json(report: ExplainReport) -> str:
    return json.dumps(explain_document(report), indent=2, ensure_ascii=False) + "\n"
