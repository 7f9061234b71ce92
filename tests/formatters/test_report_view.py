"""The report view (``pullpath.formatters.report_view``) read directly: the rows, counts and
labels the HTML and Markdown formats show, checked against the JSON document they are built
from (the demo audit, explain on the derived world of the REST API examples, a lab run)."""

from __future__ import annotations

from collections import Counter

import pytest

from pullpath.cli.demo import run_demo_audit
from pullpath.domain.inventory import kind_label
from pullpath.domain.resource_id import name_of
from pullpath.formatters.audit_doc import audit_document
from pullpath.formatters.explain_doc import explain_document
from pullpath.formatters.report_view import (
    LAB_REGISTRY,
    PATHS,
    SOURCE_LABELS,
    TITLES,
    build_view,
    consumer_label,
    safe_url,
)
from tests.support.explain_world import SHAPES, World
from tests.support.report_docs import LAB_DOC
from tests.support.world_edits import link_other_vnet, trusted_off


def test_audit_view_rows_and_counts_are_the_documents() -> None:
    doc = audit_document(run_demo_audit())
    view = build_view(doc)
    assert (view.kind, view.schema, view.summary_unit) == ("audit", doc["schema"], "events")
    assert view.title == TITLES["audit"]
    assert len(view.flows) == len(doc["flows"]) > 0
    for row, f in zip(view.flows, doc["flows"], strict=True):
        assert (row.path, row.count, row.registry) == (f["path"], f["count"], f["registry"])
        assert row.image == (f"{f['repository']}:{f['tag']}" if f["tag"] else f["repository"])
        assert row.consumer_id == (f["consumer"]["id"] or "")
        assert row.agrees is f["agrees"]
    # the summary: one row per path, in the domain's order, events from the document's by_path
    # and flows counted from its flows
    by_path = doc["summary"]["by_path"]
    flows_per_path = Counter(f["path"] for f in doc["flows"])
    assert [pc.path for pc in view.summary][: len(PATHS)] == list(PATHS)
    for pc in view.summary:
        assert pc.events == by_path.get(pc.path, 0)
        assert pc.flows == flows_per_path.get(pc.path, 0)
        requests = doc["summary"]["by_path_requests"][pc.path]
        assert (pc.pulls, pc.logins, pc.other) == (
            requests["pulls"], requests["logins"], requests["other"])
    assert view.has_requests
    assert view.registries == tuple(sorted({f["registry"] for f in doc["flows"]}))
    assert view.disagreements == sum(1 for f in doc["flows"] if f["agrees"] is False)
    assert view.headline.startswith(f"{doc['summary']['events']:,} event(s)")
    assert f"in {len(doc['flows']):,} flow(s)" in view.headline
    # the inputs section
    assert view.inputs.events_read == doc["input"]["events_read"]
    assert view.inputs.records_seen == doc["input"]["records_seen"]
    assert [fc.file for fc in view.inputs.log_files] == [
        x["file"] for x in doc["input"]["per_file"]]
    assert view.inputs.inventory_files == tuple(doc["inventory"]["files"])


def test_audit_view_labels_consumers_and_callers_from_the_document() -> None:
    doc = audit_document(run_demo_audit())
    rows = build_view(doc).flows
    attributed = [(r, f) for r, f in zip(rows, doc["flows"], strict=True) if f["consumer"]["id"]]
    unattributed = [(r, f) for r, f in zip(rows, doc["flows"], strict=True)
                    if not f["consumer"]["id"]]
    assert attributed
    assert unattributed
    for row, f in attributed:
        kind, rid = f["consumer"]["kind"], f["consumer"]["id"]
        assert row.consumer == f"{kind_label(kind, short=True)} {name_of(rid)}"
    for row, f in unattributed:
        assert row.consumer == f"unattributed ({SOURCE_LABELS[f['source']['kind']]})"
        assert row.source_kind == f["source"]["kind"]
    assert sorted(build_view(doc).consumers, key=str.lower) == sorted(
        {r.consumer for r in rows}, key=str.lower)


@pytest.mark.parametrize("edit", [trusted_off, link_other_vnet])
def test_explain_view_pairs_findings_and_summary(edit) -> None:
    world = World()
    edit(world)
    doc = explain_document(world.explain(SHAPES[0]))
    view = build_view(doc)
    assert (view.kind, view.summary_unit) == ("explain", "pairs")
    assert view.flows == []
    assert len(view.pairs) == len(doc["pairs"]) > 0
    for row, p in zip(view.pairs, doc["pairs"], strict=True):
        assert (row.path, row.rule, row.registry_id) == (
            p["expected_path"], p["rule"], p["registry"]["id"])
        assert row.registry == p["registry"]["login_server"]
        assert row.consumer == consumer_label(p["consumer"])
        assert [link.url for link in row.sources] == [
            safe_url(s["url"]) for s in p["sources"]]
    expected = Counter(p["expected_path"] for p in doc["pairs"])
    assert {pc.path: pc.events for pc in view.summary if pc.events} == dict(expected)
    # findings: one row per finding, in the document's order
    assert doc["findings"]
    assert [f.id for f in view.findings] == [f["id"] for f in doc["findings"]]
    assert [f.severity for f in view.findings] == [f["severity"] for f in doc["findings"]]
    assert [f.fix_cli for f in view.findings] == [f["fix"]["cli"] for f in doc["findings"]]
    assert view.has_findings_section
    assert view.headline.startswith(f"{len(doc['pairs']):,} consumer→registry pair(s)")
    assert f"{len(doc['findings']):,} finding(s)" in view.headline


def test_lab_view_rows_evidence_and_agreement() -> None:
    view = build_view(LAB_DOC)
    consumers = LAB_DOC["consumers"]
    assert view.kind == "lab"
    assert [r.agreement for r in view.lab] == [c["agreement"] for c in consumers]
    assert [r.predicted for r in view.lab] == [c["predicted"]["path"] for c in consumers]
    assert [r.observed for r in view.lab] == [c["observed"]["summary"] for c in consumers]
    assert [len(r.evidence) for r in view.lab] == [
        len(c["observed"]["evidence"]) + len(c["observed"]["deployment_errors"])
        for c in consumers]
    # each evidence record is one flow of the lab's registry, counted in the summary
    evidence = [e for c in consumers for e in c["observed"]["evidence"]]
    assert len(view.flows) == len(evidence)
    assert {r.registry for r in view.flows} == {LAB_REGISTRY}
    totals = Counter()
    for e in evidence:
        totals[e["path"]] += e["count"]
    assert {pc.path: pc.events for pc in view.summary if pc.events} == dict(totals)
    assert view.disagreements == sum(1 for c in consumers if c["agreement"] == "disagrees")


def test_unknown_document_is_read_without_a_crash_and_nothing_is_dropped() -> None:
    assert build_view({}).kind == "report"
    assert build_view({}).title == TITLES["report"]
    doc = audit_document(run_demo_audit())
    doc["schema"] = "pullpath.future/v9"
    doc["results"] = [{"name": f["repository"], "where": {"path": f["path"]}}
                      for f in doc["flows"]]
    view = build_view(doc)
    assert view.kind == "audit"  # known by its flows
    (table,) = view.extra
    assert table.key == "results"
    assert table.columns == ("name", "where.path")
    assert table.rows == tuple((f["repository"], f["path"]) for f in doc["flows"])


def test_only_http_urls_become_links() -> None:
    assert safe_url("https://learn.microsoft.com/azure/") == "https://learn.microsoft.com/azure/"
    for bad in ("javascript:alert(1)", "data:text/html,x", "https://a b", "//host/x", None):
        assert safe_url(bad) == ""
