"""Hostile and broken inputs for the tests of issue #8 (hypothesis strategies and builders).

Records start from the real archived record (tests/data/acr-logs/) and the demo archive; the
fields a caller of the registry chooses (repository, tag, identity, user agent...) are
replaced with hostile text. Each file builder returns the bytes and the records it holds, so
tests count independently of the code under test.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from tests.support import ROOT, TESTS

REAL = TESTS / "data" / "acr-logs" / "repositoryevents_pull_404_record.json"
CORPUS = ROOT / "fuzz" / "corpus"

# Text that attacks a reader of each output format. Markers ("pp-...") let tests find them.
TERMINAL_ATTACKS = (
    "\x1b[31mpp-red\x1b[0m",
    "\x1b]8;;http://evil.example/pp-osc\x07click\x1b]8;;\x07",
    "\x1b]8;;http://evil.example/pp-osc-st\x1b\\click\x1b]8;;\x1b\\",
    "\x1b]0;pp-title\x07",
    "pp-bel\x07\x07",
    "pp-back\x08\x08\x08ok",
    "pp-cr\rspoof",
    "\x9b31mpp-c1",
    "pp-\u202eflip",
    "[link=http://evil.example/pp-markup]pp-link[/link]",
    "[bold red]pp-style[/]",
    ":warning: pp-emoji",
    "pp-line\nfake row",
)
CSV_ATTACKS = (
    '=HYPERLINK("http://evil.example/pp","pp-click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
)
MARKUP_ATTACKS = (
    "<script>alert('pp-xss')</script>",
    '"><img src=x onerror=alert(\'pp-img\')>',
    "[pp-md](javascript:alert(1))",
    "| pp | table |",
    "`pp-code`",
    "<!-- pp-comment",
    "&lt;pp-entity&gt;",
)
JSON_ATTACKS = ("pp-nul\x00end", '"pp-quote\\', "pp-\u2028sep", "pp-\ufeffbom")
ALL_ATTACKS = TERMINAL_ATTACKS + CSV_ATTACKS + MARKUP_ATTACKS + JSON_ATTACKS

HOSTILE_FIELDS = ("repository", "tag", "identity", "userAgent", "loginServer", "digest")
"""Fields in the ``properties`` bag or at the top level that a caller chooses."""


def real_record() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(REAL.read_text(encoding="utf-8"))
    return doc


def record(n: int, **values: str) -> dict[str, Any]:
    """The real record, distinct by ``n``, with hostile values in the fields named."""
    rec = real_record()
    rec["correlationId"] = f"00000000-0000-0000-0000-{n:012d}"
    props = rec["properties"]
    for key, value in values.items():
        if key in rec:
            rec[key] = value
        else:
            props[key] = value
    return rec


hostile_text = st.one_of(
    st.sampled_from(ALL_ATTACKS),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x2FF), max_size=20),
    st.builds(lambda a, b: a + b, st.sampled_from(ALL_ATTACKS), st.sampled_from(ALL_ATTACKS)),
)


@st.composite
def hostile_records(draw: st.DrawFn, n: int) -> dict[str, Any]:
    fields = draw(st.lists(st.sampled_from(HOSTILE_FIELDS), unique=True, min_size=1))
    return record(n, **{f: draw(hostile_text) for f in fields})


# --------------------------------------------------------------------------- file shapes

LA_COLUMNS = ("TimeGenerated", "Type", "OperationName", "CallerIpAddress", "Identity",
              "Repository", "Tag", "Digest", "LoginServer", "UserAgent", "ResultType",
              "ResultDescription", "DurationMs", "CorrelationId", "_ResourceId")
_LA_SOURCE = {"TimeGenerated": "time", "Type": "category", "OperationName": "operationName",
              "CallerIpAddress": "callerIpAddress", "Identity": "identity",
              "Repository": "repository", "Tag": "tag", "Digest": "digest",
              "LoginServer": "loginServer", "UserAgent": "userAgent",
              "ResultType": "resultType", "ResultDescription": "resultDescription",
              "DurationMs": "durationMs", "CorrelationId": "correlationId",
              "_ResourceId": "resourceId"}


def la_row(rec: dict[str, Any]) -> dict[str, Any]:
    flat = {**rec.get("properties", {}), **{k: v for k, v in rec.items() if k != "properties"}}
    return {col: flat.get(key, "") for col, key in _LA_SOURCE.items()}


# Damage that is certain to be skipped, with the reason each gives, per file shape.
LINE_DAMAGE = {
    "invalid-json": b'{"time": "2025-01-30T14:19:15Z", "category": ',
    "not-an-object": b"[1, 2, 3]",
    "not-a-registry-event": b'{"foo": "bar"}',
    "missing-operation": b'{"category": "ContainerRegistryRepositoryEvents", "time": "2025-01-30T14:19:15Z"}',
    "invalid-time": b'{"category": "ContainerRegistryRepositoryEvents", "operationName": "Pull", "time": "not a time"}',
}
ITEM_DAMAGE: dict[str, object] = {
    "not-an-object": 42,
    "not-a-registry-event": {"foo": "bar"},
    "missing-operation": {"category": "ContainerRegistryRepositoryEvents"},
    "invalid-time": {"category": "ContainerRegistryRepositoryEvents", "operationName": "Pull",
                     "time": "not a time"},
}
SHAPES = ("jsonlines", "wrapper", "la-array", "la-tables", "la-csv")


@dataclass
class Built:
    """A log file's bytes and what it holds, counted by the test, not by pullpath."""

    data: bytes
    good: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def damage(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def build(shape: str, items: list[dict[str, Any] | str]) -> Built:
    """A file of ``shape`` from records (dicts) and damage (reason strings)."""
    out = Built(b"")
    if shape == "jsonlines":
        chunks = []
        for item in items:
            if isinstance(item, str):
                chunks.append(LINE_DAMAGE[item])
                out.damage(item)
            else:
                chunks.append(json.dumps(item).encode())
                out.good += 1
        out.data = b"\n".join(chunks) + b"\n" if chunks else b""
        return out
    if shape == "la-csv":
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(LA_COLUMNS)
        for item in items:
            if isinstance(item, str):
                writer.writerow(["only", "three", "cells"])
                out.damage("malformed-row")
            else:
                row = la_row(item)
                writer.writerow([str(row[c]).replace("\x00", "") for c in LA_COLUMNS])
                out.good += 1
        out.data = text.getvalue().encode("utf-8", errors="surrogatepass")
        return out
    values: list[object] = []
    rows: list[object] = []
    for item in items:
        if isinstance(item, str):
            if shape == "la-tables":
                rows.append(["too", "short"])
                out.damage("malformed-row")
            else:
                reason = item if item in ITEM_DAMAGE else "not-a-registry-event"
                values.append(ITEM_DAMAGE[reason])
                out.damage(reason)
        else:
            out.good += 1
            if shape == "wrapper":
                values.append(item)
            else:
                row = la_row(item)
                values.append(row)
                rows.append([row[c] for c in LA_COLUMNS])
    if shape == "wrapper":
        doc: object = {"records": values}
    elif shape == "la-array":
        doc = values
    else:
        doc = {"tables": [{"name": "PrimaryResult",
                           "columns": [{"name": c, "type": "string"} for c in LA_COLUMNS],
                           "rows": rows}]}
    out.data = json.dumps(doc, indent=1).encode()
    return out


def seeds(kind: str) -> list[bytes]:
    return [p.read_bytes() for p in sorted((CORPUS / kind).iterdir()) if p.is_file()]


# --------------------------------------------------------------------------- mutations

TOKENS = (b"\n", b"\r\n", b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", b'"', b"\\", b"{", b"}", b"[",
          b"]", b",", b":", b"\\ud800", b"\\u0000", b'"records"', b'"tables"', b'"value"',
          b'"properties"', b"<nil>", b"\x1f\x8b", b"1e999", b"-0", b"null", b"9" * 30,
          b"[" * 200, b"\x1b[31m", b"=cmd", "é€𝄞".encode())


@st.composite
def mutated(draw: st.DrawFn, pool: list[bytes]) -> bytes:
    """A seed after 1-4 byte-level mutations (flip, insert a token, delete, duplicate,
    truncate, splice with another seed)."""
    data = bytearray(draw(st.sampled_from(pool)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(("flip", "insert", "delete", "dup", "truncate", "splice")))
        n = len(data)
        pos = draw(st.integers(0, n)) if n else 0
        if op == "flip" and n:
            data[min(pos, n - 1)] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            data[pos:pos] = draw(st.sampled_from(TOKENS))
        elif op == "delete" and n:
            data[pos : pos + draw(st.integers(1, 64))] = b""
        elif op == "dup" and n:
            data[pos:pos] = data[pos : pos + draw(st.integers(1, 256))]
        elif op == "truncate":
            del data[pos:]
        elif op == "splice":
            other = draw(st.sampled_from(pool))
            cut = draw(st.integers(0, len(other)))
            data[pos:] = other[cut:]
    return bytes(data)
