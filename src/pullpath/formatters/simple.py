"""JSON and CSV output."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from pullpath.formatters.audit_doc import AuditReport, audit_document
from pullpath.formatters.common import csv_safe

CSV_COLUMNS = (
    "registry", "operation", "repository", "tag", "caller_ip", "identity", "result", "count",
    "first_seen", "last_seen", "source_kind", "service_tag", "region", "subnet_id",
    "source_resource_id", "path", "confidence", "denial", "consumer_kind", "consumer_id",
    "consumer_candidates", "expected_path", "agrees", "reasons",
)


def to_json(document: dict[str, Any]) -> str:
    """Valid JSON for any content (strings were made UTF-8 safe when the document was built)."""
    return json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n"


def audit_json(report: AuditReport) -> str:
    return to_json(audit_document(report))


def audit_csv(report: AuditReport) -> str:
    doc = audit_document(report)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for f in doc["flows"]:
        src = f["source"]
        con = f["consumer"]
        row = [
            f["registry"], f["operation"], f["repository"], f["tag"], f["caller_ip"],
            f["identity"], f["result"], f["count"], f["first_seen"] or "", f["last_seen"] or "",
            src["kind"], src["service_tag"] or "", src["region"] or "", src["subnet_id"] or "",
            src["resource_id"] or "", f["path"], f["confidence"], f["denial"] or "",
            con["kind"], con["id"] or "", " ".join(con["candidates"]),
            f["expected_path"] or "", "" if f["agrees"] is None else str(f["agrees"]).lower(),
            " | ".join(f["reasons"]),
        ]
        writer.writerow([csv_safe(str(cell)) for cell in row])
    st = doc["input"]
    # accounting travels with the data: a trailing comment-like block would break CSV readers,
    # so it is a final row with the same columns, marked in the first cell
    writer.writerow(
        [csv_safe(x) for x in (
            "#summary", f"events_read={st['events_read']}",
            f"events_skipped={st['events_skipped']}",
            "skipped=" + ";".join(f"{k}:{v}" for k, v in st["skipped"].items()),
        )] + [""] * (len(CSV_COLUMNS) - 4)
    )
    return out.getvalue()
