"""The audit's faster ways (shared renderings, batched times, bytes, libyaml, lazy imports) give
exactly what the plain ways give."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from pullpath.domain.verdicts import Flow
from pullpath.formatters.audit_doc import audit_document
from pullpath.formatters.common import csv_safe, iso, iso_many, safe_text
from pullpath.formatters.simple import (
    CSV_COLUMNS,
    audit_csv,
    audit_json,
    audit_json_bytes,
    audit_json_parts,
    to_json,
    to_json_bytes,
)
from tests.support.report_docs import hostile_report
from tests.support.report_scenarios import big_scenario

DEMO = Path(str(resources.files("pullpath").joinpath("data", "demo")))


def plain_flow_doc(flow: Flow) -> dict[str, Any]:
    """A flow's document made field by field, each flow on its own."""
    s, v, c, e = flow.source, flow.verdict, flow.consumer, flow.expectation
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
            "kind": s.kind.value, "ip": s.ip, "subnet_id": s.subnet_id or None,
            "vnet_id": s.vnet_id or None, "resource_id": s.resource_id or None,
            "service_tag": s.service_tag or None, "region": s.region or None,
            "prefix": s.prefix or None, "tag_count": s.tag_count, "note": s.note or None,
        },
        "path": v.path.value,
        "confidence": v.confidence.value,
        "denial": v.denial or None,
        "consumer": {"kind": c.kind.value, "id": c.id or None, "candidates": list(c.candidates),
                     "by": c.by or None},
        "reasons": [safe_text(r) for r in v.reasons],
        "missing": list(v.missing),
        "expected_path": e.path.value if e is not None else None,
        "expected_rule": (e.rule or None) if e is not None else None,
        "agrees": e.agrees if e is not None else None,
    }


def plain_csv_rows(doc: dict[str, Any]) -> list[list[str]]:
    rows = []
    for f in doc["flows"]:
        src, con = f["source"], f["consumer"]
        row = [
            f["registry"], f["operation"], f["repository"], f["tag"], f["caller_ip"],
            f["identity"], f["result"], f["count"], f["first_seen"] or "", f["last_seen"] or "",
            src["kind"], src["service_tag"] or "", src["region"] or "", src["subnet_id"] or "",
            src["resource_id"] or "", f["path"], f["confidence"], f["denial"] or "",
            con["kind"], con["id"] or "", " ".join(con["candidates"]),
            f["expected_path"] or "", "" if f["agrees"] is None else str(f["agrees"]).lower(),
            " | ".join(f["reasons"]),
        ]
        rows.append([csv_safe(str(cell)) for cell in row])
    return rows


@pytest.mark.parametrize("make", [lambda: big_scenario().report, hostile_report])
def test_flow_documents_are_made_as_one_by_one(make: Any) -> None:
    report = make()
    assert len(report.result.flows) > 100
    doc = audit_document(report)
    assert doc["flows"] == [plain_flow_doc(f) for f in report.result.flows]
    reference = to_json(doc)  # the document as the plain encoder path writes it
    assert audit_json(report) == reference
    assert audit_json_bytes(report) == reference.encode("utf-8")
    expected = io.StringIO()
    writer = csv.writer(expected, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(plain_csv_rows(doc))
    text = audit_csv(report)
    assert text.startswith(expected.getvalue())
    assert text[len(expected.getvalue()):].startswith(("#file,", "#summary,"))  # then accounting


def test_the_json_writer_encodes_each_shared_flow_tail_once() -> None:
    """``audit_json_bytes`` gives the plain encoder's bytes while encoding the keys flows
    share (source to agrees) once per distinct set: the flows that share a set show the same
    encoded object, not one copy each."""
    from pullpath.formatters.simple import _encoded_flow_tail

    report = big_scenario().report
    flows = report.result.flows
    doc = audit_document(report, _encoded_flow_tail)
    tails = {id(f["source"]) for f in doc["flows"]}
    sets = {(id(f.source), id(f.verdict), id(f.consumer), id(f.expectation)) for f in flows}
    assert len(tails) == len(sets) < len(flows)
    assert audit_json_bytes(report) == to_json_bytes(audit_document(report))


@pytest.mark.parametrize("where", ["note", "consumer", "reason", "none"])
def test_the_json_writer_falls_back_as_the_plain_encoder_does(where: str) -> None:
    """A value orjson refuses (a lone surrogate where no ``safe_text`` cleans it, an integer
    beyond 64 bits) in the flows' shared keys: the same bytes as the plain path, which falls
    back to ``json.dumps``; valid UTF-8 JSON either way. And a report without flows."""
    report = big_scenario().report
    flows = report.result.flows
    f = flows[0]
    if where == "note":
        f = replace(f, source=replace(f.source, note="lone \udc80", tag_count=2**70))
    elif where == "consumer":
        f = replace(f, consumer=replace(f.consumer, id="c\ud800"))
    elif where == "reason":
        f = replace(f, verdict=replace(f.verdict, reasons=("caf\u00e9 \udc80",)))
    flows = [f, *flows[1:]] if where != "none" else []
    report = replace(report, result=replace(report.result, flows=flows))
    data = audit_json_bytes(report)
    assert data == to_json_bytes(audit_document(report))
    assert data.decode("utf-8") == audit_json(report)
    assert len(json.loads(data)["flows"]) == len(flows)


@pytest.mark.parametrize("refused", [None, 0, 4, 9])
def test_the_json_parts_are_the_document_each_ending_between_values(refused: int | None) -> None:
    """``audit_json_parts`` (what the CLI writes as it comes): joined, the plain encoder's
    bytes; each part is whole UTF-8 text (it ends between two characters), and a flow orjson
    refuses (an integer beyond 64 bits) in any part, the first, a middle or the last, is
    written as the plain encoder writes it."""
    report = big_scenario().report
    flows = list(report.result.flows[:10])
    if refused is not None:
        f = flows[refused]
        flows[refused] = replace(f, source=replace(f.source, note="caf\u00e9 \u202e",
                                                   tag_count=2**70))
    report = replace(report, result=replace(report.result, flows=flows))
    parts = list(audit_json_parts(report, per_part=4))
    assert b"".join(parts) == to_json_bytes(audit_document(report))
    assert len(parts) == 1 + 3 + 2 + 1  # head, three parts of flows, two commas, the rest
    for part in parts:
        part.decode("utf-8")


def test_iso_many_is_iso_of_each() -> None:
    utc = [datetime(2024, 11, 25, 10, 0, 1, tzinfo=UTC),
           datetime(2024, 11, 25, 10, 0, 1, 5, tzinfo=UTC), None,
           datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)]
    assert iso_many(utc) == [iso(v) for v in utc]
    other = [*utc, datetime(2024, 11, 25, 12, 0, tzinfo=timezone(timedelta(hours=2)))]
    assert iso_many(other) == [iso(v) for v in other]
    assert iso_many([]) == []


@pytest.mark.skipif(getattr(yaml, "CSafeLoader", None) is None, reason="PyYAML without libyaml")
@pytest.mark.parametrize("name", ["behaviours.yaml", "findings.yaml"])
def test_shipped_knowledge_parses_the_same_with_libyaml(name: str) -> None:
    text = resources.files("pullpath.knowledge").joinpath(name).read_text("utf-8")
    assert yaml.load(text, Loader=yaml.CSafeLoader) == yaml.safe_load(text)


def test_the_cli_imports_no_audit_machinery_before_a_command_needs_it() -> None:
    code = ("import sys, pullpath.cli.app; "
            "print(sorted(m for m in ('numpy', 'yaml', 'pullpath.core.audit', "
            "'pullpath.formatters.audit_doc', 'pullpath.domain.verdicts', 'rich.markdown') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    assert out.strip() == "[]"


def test_missing_inventory_is_a_usage_error(tmp_path: Path) -> None:
    # the inventory's error type is only imported once the logs are being read
    proc = subprocess.run(
        [sys.executable, "-m", "pullpath", "audit", "--logs", str(DEMO / "logs"),
         "--inventory", str(tmp_path / "missing"), "--format", "json"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "inventory path does not exist" in proc.stderr
    assert "Traceback" not in proc.stderr


