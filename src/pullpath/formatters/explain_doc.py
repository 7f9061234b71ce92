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
     "summary": {...}, "inventory": {...}, "notes": [...], "knowledge": {...},
     "code": [...], "baseline": str | null,
     "changes": [{"consumer": {"id", "label"}, "login_server", "before", "after",
                  "before_rule", "after_rule", "why": [...]}]}

For infrastructure code (``explain --template/--terraform-plan``) each pair's consumer and
registry and each finding carry ``location`` (``{"file", "line", "column", "address"}`` or
``null``): where the code writes that resource. ``changes`` (``--baseline``) lists the pairs
whose path the change moves, the most serious first; ``before``/``after`` are ``null`` for a
pair that is new or removed.

``registry.id`` is ``null`` when the login server is not in the inventory; ``rule`` is ``null``
when no knowledge-base entry applied (``expected_path`` is then ``unknown`` and ``missing`` says
why). Markdown, HTML and SARIF are derived from the same ``ExplainReport``.
"""

from __future__ import annotations

import json
from typing import Any

from pullpath import __version__
from pullpath.domain.explain import KbSource, PairPrediction, Severity
from pullpath.domain.iac import SourceLocation
from pullpath.domain.report import ExplainReport, PathChange
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


def location_doc(where: SourceLocation | None) -> dict[str, Any] | None:
    if where is None:
        return None
    return {"file": safe_text(where.file), "line": where.line or None,
            "column": where.column or None, "address": safe_text(where.address) or None}


def change_doc(c: PathChange) -> dict[str, Any]:
    return {
        "consumer": {"id": c.consumer_id, "label": safe_text(c.consumer)},
        "login_server": safe_text(c.login_server),
        "before": c.before.value if c.before is not None else None,
        "after": c.after.value if c.after is not None else None,
        "before_rule": c.before_rule or None,
        "after_rule": c.after_rule or None,
        "why": [safe_text(w) for w in c.why],
    }


def _located(report: ExplainReport, doc: dict[str, Any], *ids: tuple[str, str]) -> None:
    """Add ``location`` to the parts of ``doc`` named in ``ids`` ((key, resource id))."""
    for key, rid in ids:
        part = doc.get(key) if key else doc
        if isinstance(part, dict):
            part["location"] = location_doc(report.location_of(rid)) if rid else None


def explain_document(report: ExplainReport) -> dict[str, Any]:
    doc = _explain_document(report)
    if report.code:
        for p, pdoc in zip(report.pairs, doc["pairs"], strict=True):
            _located(report, pdoc, ("consumer", p.consumer.id), ("registry", p.registry_id))
        for f, fdoc in zip(report.findings, doc["findings"], strict=True):
            _located(report, fdoc, ("", f.resource_id))
        doc["code"] = [safe_text(c) for c in report.code]
    if report.baseline:
        doc["baseline"] = safe_text(report.baseline)
        doc["changes"] = [change_doc(c) for c in report.changes]
    return doc


def _explain_document(report: ExplainReport) -> dict[str, Any]:
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
