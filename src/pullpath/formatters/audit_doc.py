"""The audit report as a plain document: the ``pullpath.audit/v1`` JSON contract.

Every other audit format (CSV, Markdown, HTML, SARIF) is derived from this document or the same
``AuditReport``, so they never disagree on a number.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any

from pullpath import __version__
from pullpath.domain.report import AuditReport
from pullpath.domain.verdicts import (
    AuditResult,
    ConsumerRef,
    Expectation,
    Flow,
    PathVerdict,
    Source,
    TagsInfo,
)
from pullpath.formatters.common import iso, iso_many, safe_text
from pullpath.formatters.sections import finding_doc, inventory_doc, network_doc

AUDIT_SCHEMA = "pullpath.audit/v1"


def source_doc(s: Source) -> dict[str, Any]:
    return {
        "kind": s.kind._value_,
        "ip": s.ip,
        "subnet_id": s.subnet_id or None,
        "vnet_id": s.vnet_id or None,
        "resource_id": s.resource_id or None,
        "service_tag": s.service_tag or None,
        "region": s.region or None,
        "prefix": s.prefix or None,
        "tag_count": s.tag_count,
        "note": s.note or None,
    }


def consumer_doc(c: ConsumerRef) -> dict[str, Any]:
    return {
        "kind": c.kind._value_,
        "id": c.id or None,
        "candidates": list(c.candidates),
        "by": c.by or None,
    }


_FIRST_SEEN = attrgetter("first_seen")
_LAST_SEEN = attrgetter("last_seen")


def flow_tail_doc(s: Source, v: PathVerdict, c: ConsumerRef,
                  e: Expectation | None) -> dict[str, Any]:
    """The keys of a flow's document from ``source`` to ``agrees``: they depend only on the
    flow's source, verdict, consumer and expectation (rendered once per distinct set)."""
    if e is None:
        expected_path = expected_rule = agrees = None
    else:
        expected_path, expected_rule, agrees = e.path._value_, e.rule or None, e.agrees
    return {
        "source": source_doc(s),
        "path": v.path._value_,
        "confidence": v.confidence._value_,
        "denial": v.denial or None,
        "consumer": consumer_doc(c),
        "reasons": [r if r.isascii() else safe_text(r) for r in v.reasons],
        "missing": list(v.missing),
        "expected_path": expected_path,
        "expected_rule": expected_rule,
        "agrees": agrees,
    }


TailFn = Callable[[Source, PathVerdict, ConsumerRef, Expectation | None], dict[str, Any]]
"""Renders the keys of a flow's document from ``source`` on (``flow_tail_doc``)."""


def flow_docs(flows: Sequence[Flow], tail: TailFn = flow_tail_doc,
              shared: dict[tuple[int, int, int, int], tuple[dict[str, Any], Any]] | None = None,
              ) -> list[dict[str, Any]]:
    """The documents of ``flows``, in order.

    Flows share their source, verdict, consumer and expectation objects (one set per judged
    group): each set is rendered once (``tail``) and its parts shared by every flow document
    that shows it (never modify a flow document in place); ``shared`` keeps those renderings
    from one call to the next (the flows of one report rendered in parts). Times are formatted
    in one batch (``iso_many``). ``tail`` is ``flow_tail_doc``, or the JSON writer's rendering
    of the same keys already encoded (``formatters.simple``)."""
    n = len(flows)
    times = iso_many([*map(_FIRST_SEEN, flows), *map(_LAST_SEEN, flows)])
    # (source, verdict, consumer, expectation) by identity -> their rendering; the objects are
    # kept in the value so that no identity is reused while the cache lives
    if shared is None:
        shared = {}
    out: list[dict[str, Any]] = []
    append = out.append
    for i, flow in enumerate(flows):
        s, v, c, e = flow.source, flow.verdict, flow.consumer, flow.expectation
        key = (id(s), id(v), id(c), id(e))
        rendered = shared.get(key)
        if rendered is None:
            rendered = shared[key] = (tail(s, v, c, e), (s, v, c, e))
        registry, operation, repository, tag = (flow.registry, flow.operation, flow.repository,
                                                flow.tag)
        caller_ip, identity, result = flow.caller_ip, flow.identity, flow.result
        append({
            "registry": registry if registry.isascii() else safe_text(registry),
            "registry_id": flow.registry_id,
            "table": flow.table,
            "operation": operation if operation.isascii() else safe_text(operation),
            "repository": repository if repository.isascii() else safe_text(repository),
            "tag": tag if tag.isascii() else safe_text(tag),
            "caller_ip": caller_ip if caller_ip.isascii() else safe_text(caller_ip),
            "identity": identity if identity.isascii() else safe_text(identity),
            "result": result if result.isascii() else safe_text(result),
            "count": flow.count,
            "first_seen": times[i],
            "last_seen": times[n + i],
            **rendered[0],
        })
    return out


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
        "duplicates_dropped": st.duplicates_dropped,
        "duplicates_per_file": {safe_text(name): n for name, n in sorted(st.duplicates.items())},
        "sources": [safe_text(x) for x in report.log_sources],
        "not_read": st.inputs_not_read(),
    }


def tags_doc(tags: TagsInfo) -> dict[str, Any]:
    return {
        "cloud": tags.cloud,
        "change_number": tags.change_number,
        "source": tags.source,
        "published": tags.published or None,
        "warning": tags.warning or None,
        "cloud_mismatch": tags.cloud_mismatch or None,
    }


def summary_doc(result: AuditResult) -> dict[str, Any]:
    summary = result.summary
    return {
        "events": summary.events,
        "unclassified_events": result.unclassified_events,
        "flows": len(result.flows),
        "by_path": dict(summary.by_path),
        "by_source": dict(sorted(summary.by_source.items())),
        "disagreements": summary.disagreements,
        "newest_event": iso(result.newest_event),
        "pulls": summary.requests.get("pulls", 0),
        "logins": summary.requests.get("logins", 0),
        "other_operations": summary.requests.get("other", 0),
        "by_path_requests": {path: dict(counts)
                             for path, counts in summary.by_path_requests.items()},
        "folded_events": result.folded_events,
        "folded_flows": result.folded_flows,
    }


def audit_document(report: AuditReport, flow_tail: TailFn = flow_tail_doc, *,
                   with_flows: bool = True) -> dict[str, Any]:
    """The whole ``pullpath.audit/v1`` document (keys in this order); ``flow_tail`` renders
    the flows' keys from ``source`` on (``flow_docs``). ``with_flows=False``: ``flows`` is
    left empty (the JSON writer writes them in parts)."""
    result = report.result
    return {
        "schema": AUDIT_SCHEMA,
        "pullpath_version": __version__,
        "service_tags": tags_doc(report.tags),
        "input": stats_doc(report),
        "inventory": inventory_doc(report.inventory),
        "flows": flow_docs(result.flows, flow_tail) if with_flows else [],
        "summary": summary_doc(result),
        "findings": [finding_doc(f) for f in report.findings],
        "network": network_doc(report.network) if report.network is not None else None,
        "warnings": [safe_text(w) for w in result.warnings],
        "missing": list(result.missing),
    }
