"""JSON and CSV output."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import orjson

from pullpath.formatters.audit_doc import AuditReport, audit_document
from pullpath.formatters.common import csv_safe, safe_text

CSV_COLUMNS = (
    "registry", "operation", "repository", "tag", "caller_ip", "identity", "result", "count",
    "first_seen", "last_seen", "source_kind", "service_tag", "region", "subnet_id",
    "source_resource_id", "path", "confidence", "denial", "consumer_kind", "consumer_id",
    "consumer_candidates", "expected_path", "agrees", "reasons",
)


_ORJSON_OPTIONS = (
    orjson.OPT_INDENT_2
    | orjson.OPT_NON_STR_KEYS
    | orjson.OPT_PASSTHROUGH_DATETIME  # rendered by default=str, as json.dumps did
    | orjson.OPT_PASSTHROUGH_DATACLASS
)


def to_json(document: dict[str, Any]) -> str:
    """Valid JSON, encodable as UTF-8, for any content: NUL and control characters are
    escaped by the encoder, and a lone surrogate anywhere (a value, a key, a ``default=str``
    rendering) becomes U+FFFD, which can only occur inside a JSON string.

    orjson writes it (the standard library's indenting encoder is pure Python: minutes for a
    few hundred thousand flows); what orjson refuses (a lone surrogate, an integer beyond 64
    bits) goes through ``json.dumps``, same layout."""
    try:
        # the newline by orjson: `+ "\n"` would copy a report of many flows once more
        return orjson.dumps(document, default=str,
                            option=_ORJSON_OPTIONS | orjson.OPT_APPEND_NEWLINE).decode()
    except (orjson.JSONEncodeError, TypeError):
        return safe_text(json.dumps(document, indent=2, ensure_ascii=False, default=str)) + "\n"


def audit_json(report: AuditReport) -> str:
    return to_json(audit_document(report))


def audit_csv(report: AuditReport) -> str:
    doc = audit_document(report)
    out = io.StringIO()
    # RFC 4180 line ends: the writer quotes a value holding any character of the line
    # terminator, so "\r\n" gets both CR and LF quoted ("\n" alone left a bare CR in a value
    # unquoted, and a CR starts a new row in spreadsheets: rows could be forged)
    writer = csv.writer(out, lineterminator="\r\n")
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
    # so it is rows with the same columns, marked in the first cell: one "#file" row per file
    # read, then the "#summary" row last
    width = len(CSV_COLUMNS)
    cells: tuple[str, ...]
    for f in st["per_file"]:
        cells = ("#file", f"file={f['file']}", f"records={f['records']}",
                 f"events_read={f['events_read']}", f"events_skipped={f['events_skipped']}")
        writer.writerow([csv_safe(x) for x in cells] + [""] * (width - len(cells)))
    cells = (
        "#summary", f"events_read={st['events_read']}",
        f"events_skipped={st['events_skipped']}",
        "skipped=" + ";".join(f"{k}:{v}" for k, v in st["skipped"].items()),
        f"records_seen={st['records_seen']}", f"files={st['files']}",
        "ignored=" + ";".join(f"{k}:{v}" for k, v in st["ignored"].items()),
        f"unclassified_events={doc['summary'].get('unclassified_events', 0)}",
    )
    writer.writerow([csv_safe(x) for x in cells] + [""] * (width - len(cells)))
    return out.getvalue()
