"""JSON and CSV output."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import orjson

from pullpath.domain.report import AuditReport
from pullpath.domain.verdicts import ConsumerRef, Expectation, PathVerdict, Source
from pullpath.formatters.audit_doc import audit_document, flow_docs, flow_tail_doc
from pullpath.formatters.common import CSV_TRIGGERS, csv_safe, safe_text

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
        return _to_json_fallback(document)


def to_json_bytes(document: dict[str, Any]) -> bytes:
    """``to_json(document)`` encoded as UTF-8, without decoding orjson's output first (a
    report of many flows is tens of megabytes)."""
    try:
        return orjson.dumps(document, default=str,
                            option=_ORJSON_OPTIONS | orjson.OPT_APPEND_NEWLINE)
    except (orjson.JSONEncodeError, TypeError):
        return _to_json_fallback(document).encode("utf-8")


def _to_json_fallback(document: dict[str, Any]) -> str:
    return safe_text(json.dumps(document, indent=2, ensure_ascii=False, default=str)) + "\n"


def audit_json(report: AuditReport) -> str:
    """The ``pullpath.audit/v1`` document as text."""
    return audit_json_bytes(report).decode("utf-8")


def audit_json_bytes(report: AuditReport) -> bytes:
    """``to_json_bytes(audit_document(report))``, the same bytes (``audit_json_parts``
    joined)."""
    return b"".join(audit_json_parts(report))


FLOWS_PER_PART = 2_000
"""Flows in one part of ``audit_json_parts`` (about 3.6 MB of JSON at the bench's 1M events)."""

_FLOWS_KEY = b'\n  "flows": '
"""How the document's ``flows`` key begins (it is the only key indented by exactly 2 spaces
that is called so: a string holds no raw new line)."""
_PART_HEAD = b'{\n  "flows": [\n    '
_PART_TAIL = b"\n  ]\n}"
"""What a part's flows are written inside (``_encode({"flows": docs})``): the layout they have
in the whole document."""


def audit_json_parts(report: AuditReport, per_part: int = FLOWS_PER_PART) -> Iterator[bytes]:
    """``audit_json_bytes(report)`` in parts, made one after the other as they are asked for:
    the document up to its flows, the flows ``per_part`` at a time (with the commas
    between them), then the rest. Every part ends between two JSON values, never inside a
    character, so each can be checked and written as it comes (``cli.common.write_file``
    writes one while the next is made: ~60 MB at 1M events).

    Each flow's keys from ``source`` on are encoded once per distinct set rather than once per
    flow (``_encoded_flow_tail``: at 34,000 flows with 13,000 distinct sets, about half the
    time of writing the report; docs/performance.md). A part orjson refuses (a lone
    surrogate, an integer beyond 64 bits) is written by ``json.dumps`` in the same layout
    (``_encode``), so the parts are always the bytes of ``to_json_bytes(audit_document(
    report))``."""
    flows = report.result.flows
    whole = _encode(audit_document(report, with_flows=False)) + b"\n"
    if not flows:
        yield whole
        return
    head, tail = whole.split(_FLOWS_KEY + b"[]", 1)
    yield head + _FLOWS_KEY + b"[\n    "
    shared: dict[tuple[int, int, int, int], tuple[dict[str, Any], Any]] = {}
    for start in range(0, len(flows), per_part):
        part = flows[start:start + per_part]
        try:
            encoded = orjson.dumps({"flows": flow_docs(part, _encoded_flow_tail, shared)},
                                   default=str, option=_ORJSON_OPTIONS)
        except (orjson.JSONEncodeError, TypeError):
            encoded = _encode({"flows": flow_docs(part)})
        if start:
            yield b",\n    "
        yield encoded[len(_PART_HEAD):-len(_PART_TAIL)]
    yield b"\n  ]" + tail


def _encode(document: dict[str, Any]) -> bytes:
    """``to_json_bytes(document)`` without its final new line."""
    try:
        return orjson.dumps(document, default=str, option=_ORJSON_OPTIONS)
    except (orjson.JSONEncodeError, TypeError):
        return _to_json_fallback(document)[:-1].encode("utf-8")


_TAIL_HEAD = b'{\n  "source": '
"""How orjson begins ``flow_tail_doc``'s document (its first key is ``source``)."""
_FLOW_KEY_INDENT = b"\n    "
"""A new line and what turns a key of a document written alone (indented by 2) into a key of
a flow in the report's ``flows`` (indented by 6: the report, its list, the flow)."""


def _encoded_flow_tail(s: Source, v: PathVerdict, c: ConsumerRef,
                       e: Expectation | None) -> dict[str, Any]:
    """``flow_tail_doc(s, v, c, e)`` as one key, ``source``, whose value orjson copies into
    the report as it is (an ``orjson.Fragment``, never checked or re-indented): the bytes
    orjson writes there for the source's document and for the keys after it (``path`` to
    ``agrees``), at the depth of a flow in the report's ``flows``. Valid only there:
    ``audit_json_bytes`` alone uses it, and a test holds its output to
    ``to_json_bytes(audit_document(report))``."""
    raw = orjson.dumps(flow_tail_doc(s, v, c, e), default=str, option=_ORJSON_OPTIONS)
    if not raw.startswith(_TAIL_HEAD):  # another key first: flow_tail_doc changed
        raise TypeError("flow_tail_doc must begin with 'source'")
    # b'{\n  "source": {...},\n  "path": ...,\n  "agrees": null\n}': JSON strings hold no
    # raw new line, so every b"\n" is the layout's
    return {"source": orjson.Fragment(raw[len(_TAIL_HEAD):-2].replace(b"\n",
                                                                      _FLOW_KEY_INDENT))}


def _cell(value: str) -> str:
    return value if value.isascii() and not value.startswith(CSV_TRIGGERS) else csv_safe(value)


def audit_csv(report: AuditReport) -> str:
    doc = audit_document(report)
    out = io.StringIO()
    # RFC 4180 line ends: the writer quotes a value holding any character of the line
    # terminator, so "\r\n" gets both CR and LF quoted ("\n" alone left a bare CR in a value
    # unquoted, and a CR starts a new row in spreadsheets: rows could be forged)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    # every cell goes through ``csv_safe``; the cells flows share (their source, verdict,
    # consumer and expectation: one set per judged group in ``audit_document``) are made
    # once per distinct set, the others once per distinct value
    safe_cells: dict[str, str] = {}
    tails: dict[tuple[object, ...], list[str]] = {}
    rows: list[list[str]] = []
    for f in doc["flows"]:
        src = f["source"]
        con = f["consumer"]
        reasons = f["reasons"]
        agrees = f["agrees"]
        # the sub-objects by identity (alive as long as ``doc``), the rest by value
        tail_key = (id(src), id(con), id(reasons), f["path"], f["confidence"], f["denial"],
                    f["expected_path"], agrees)
        tail = tails.get(tail_key)
        if tail is None:
            tail = tails[tail_key] = [csv_safe(str(cell)) for cell in (
                src["kind"], src["service_tag"] or "", src["region"] or "",
                src["subnet_id"] or "", src["resource_id"] or "", f["path"], f["confidence"],
                f["denial"] or "", con["kind"], con["id"] or "", " ".join(con["candidates"]),
                f["expected_path"] or "", "" if agrees is None else str(agrees).lower(),
                " | ".join(reasons),
            )]
        head: list[str] = []
        for value in (f["registry"], f["operation"], f["repository"], f["tag"], f["caller_ip"],
                      f["identity"], f["result"]):
            safe = safe_cells.get(value)
            if safe is None:
                safe = safe_cells[value] = csv_safe(str(value))
            head.append(safe)
        first, last = f["first_seen"], f["last_seen"]
        head += (_cell(str(f["count"])), _cell(first or ""), _cell(last or ""))
        rows.append(head + tail)
    writer.writerows(rows)
    del rows
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
        f"folded_events={doc['summary'].get('folded_events', 0)}",
        "not_read=" + ";".join(f"{k}:{v}" for k, v in st["not_read"].items()),
    )
    writer.writerow([csv_safe(x) for x in cells] + [""] * (width - len(cells)))
    return out.getvalue()
