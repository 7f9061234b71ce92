"""The audit report as a plain document: the ``pullpath.audit/v1`` JSON contract.

Every other audit format (CSV, Markdown, HTML, SARIF) is derived from this document or the same
``AuditReport``, so they never disagree on a number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pullpath import __version__
from pullpath.core.audit import AuditResult
from pullpath.domain.verdicts import Flow, InventoryInfo, TagsInfo
from pullpath.formatters.common import iso, safe_text

AUDIT_SCHEMA = "pullpath.audit/v1"


@dataclass
class AuditReport:
    """Everything an audit output shows."""

    result: AuditResult
    tags: TagsInfo
    inventory: InventoryInfo = field(default_factory=InventoryInfo)
    log_sources: tuple[str, ...] = ()
    """Human descriptions of where the logs came from (files, workspace, storage account)."""
    findings: list[dict[str, Any]] = field(default_factory=list)
    """Findings from the knowledge base (explain), when an inventory was given."""
    network: dict[str, Any] | None = None
    """The inventory's network around the registries (``network_view``), for diagrams."""


def flow_doc(flow: Flow) -> dict[str, Any]:
    s = flow.source
    v = flow.verdict
    c = flow.consumer
    e = flow.expectation
    return {
        "registry": safe_text(flow.registry),
        "registry_id": flow.registry_id,
        "table": flow.table,
        "operation": safe_text(flow.operation),
        "repository": safe_text(flow.repository),
        "tag": safe_text(flow.tag),
        "caller_ip": safe_text(flow.caller_ip),
        "identity": safe_text(flow.identity),
        "result": safe_text(flow.result),
        "count": flow.count,
        "first_seen": iso(flow.first_seen),
        "last_seen": iso(flow.last_seen),
        "source": {
            "kind": s.kind.value,
            "ip": s.ip,
            "subnet_id": s.subnet_id or None,
            "vnet_id": s.vnet_id or None,
            "resource_id": s.resource_id or None,
            "service_tag": s.service_tag or None,
            "region": s.region or None,
            "prefix": s.prefix or None,
            "tag_count": s.tag_count,
            "note": s.note or None,
        },
        "path": v.path.value,
        "confidence": v.confidence.value,
        "denial": v.denial or None,
        "consumer": {
            "kind": c.kind.value,
            "id": c.id or None,
            "candidates": list(c.candidates),
            "by": c.by or None,
        },
        "reasons": [safe_text(r) for r in v.reasons],
        "missing": list(v.missing),
        "expected_path": e.path.value if e is not None else None,
        "expected_rule": (e.rule or None) if e is not None else None,
        "agrees": e.agrees if e is not None else None,
    }


def stats_doc(report: AuditReport) -> dict[str, Any]:
    st = report.result.stats
    return {
        "files": len(st.files),
        "records_seen": st.records_seen,
        "events_read": st.events_read,
        "events_skipped": st.events_skipped,
        "skipped": dict(sorted(st.skipped.items())),
        "per_file": [
            {"file": safe_text(name), **counts} for name, counts in sorted(st.per_file.items())
        ],
        "skipped_examples": [
            {
                "file": safe_text(s.location.file),
                "line": s.location.line,
                "reason": s.reason,
                "detail": safe_text(s.detail),
            }
            for s in st.examples
        ],
        "ignored": dict(sorted(st.ignored.items())),
        "sources": [safe_text(x) for x in report.log_sources],
    }


def tags_doc(tags: TagsInfo) -> dict[str, Any]:
    return {
        "cloud": tags.cloud,
        "change_number": tags.change_number,
        "source": tags.source,
        "published": tags.published or None,
        "warning": tags.warning or None,
    }


def inventory_doc(info: InventoryInfo) -> dict[str, Any]:
    return {
        "files": [safe_text(f) for f in info.files],
        "resources": info.resources,
        "registries": info.registries,
        "consumers": info.consumers,
        "subnets": info.subnets,
        "ignored_types": dict(info.ignored_types),
        "issues": [
            {"location": safe_text(loc), "resource_id": safe_text(rid), "problem": safe_text(p)}
            for loc, rid, p in info.issues
        ],
    }


def audit_document(report: AuditReport) -> dict[str, Any]:
    result = report.result
    summary = result.summary
    return {
        "schema": AUDIT_SCHEMA,
        "pullpath_version": __version__,
        "service_tags": tags_doc(report.tags),
        "input": stats_doc(report),
        "inventory": inventory_doc(report.inventory),
        "flows": [flow_doc(f) for f in result.flows],
        "summary": {
            "events": summary.events,
            "unclassified_events": result.unclassified_events,
            "flows": len(result.flows),
            "by_path": dict(summary.by_path),
            "by_source": dict(sorted(summary.by_source.items())),
            "disagreements": summary.disagreements,
            "newest_event": iso(result.newest_event),
        },
        "findings": report.findings,
        "network": report.network,
        "warnings": [safe_text(w) for w in result.warnings],
        "missing": list(result.missing),
    }
