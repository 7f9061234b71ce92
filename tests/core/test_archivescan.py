"""The compiled archive scanner (``pullpath.core._archivescan``) against the reference reader.

The scanner takes only the lines it can prove it reads exactly like orjson + ``parse_record``
and hands every other line back to Python. These tests probe that boundary from both sides:

- differential: JSON-lines files built from the archive's record shape, then mutated where the
  scanner decides (key spellings and aliases, escapes, whitespace, types, numbers, nesting,
  times, callers, invalid UTF-8...), read by the fast route (``scan_logs``: compiled, one and
  two workers; and without the compiled module) and by the reference route (``read_events``
  into an ``Aggregator``): the same groups with the same counts and first/last times, the
  same accounting to the last skip example;
- the scanner alone (``fuzz.targets.check_scanner``): it never crashes, consumes whole lines
  only, every line it counts is one orjson decodes, and all lines of one group have one
  ``parse_record`` outcome, with the times Python reads.

Hypothesis runs derandomized (``PULLPATH_FUZZ_SCALE=20`` for more examples, random seed);
``fuzz/targets.py`` has the same checks as the atheris target ``archivescan``.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import tempfile
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from fuzz import targets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pullpath.adapters.logs_fast as logs_fast
import pullpath.adapters.logs_files as logs_files
import pullpath.adapters.logs_scan as logs_scan
from pullpath.core import records
from tests.support.hostile import mutated, seeds

archivescan = pytest.importorskip("pullpath.core._archivescan")

SCALE = int(os.environ.get("PULLPATH_FUZZ_SCALE", "1") or "1")
PROPERTY = settings(max_examples=100 * SCALE, deadline=None, derandomize=SCALE == 1,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.large_base_example])

# --------------------------------------------------------------------------- the record shape

SUB = ("/SUBSCRIPTIONS/6C0F7A3E-5D21-4F7E-9A61-2B8C4D9E1F30/RESOURCEGROUPS/RG-PULLPATH/"
       "PROVIDERS/MICROSOFT.CONTAINERREGISTRY/REGISTRIES/")
REPOSITORY = "ContainerRegistryRepositoryEvents"
LOGIN = "ContainerRegistryLoginEvents"
FIREWALL = ("denied: client with IP '20.1.2.3' is not allowed access. Refer "
            "https://aka.ms/acr/firewall to grant access.")
REGISTRIES = [(SUB + "CONTOSOPROD", "contosoprod.azurecr.io"),
              (SUB + "CONTOSOEDGE", "ContosoEdge.azurecr.io"),
              (SUB + "CONTOSOPUBLIC/", "")]
CATEGORIES = [REPOSITORY, REPOSITORY, REPOSITORY, LOGIN, LOGIN, "AuditEvent",
              "containerregistryrepositoryevents", "<nil>", ""]
OPERATIONS = ["Pull", "Pull", "Pull", "Push", "Login", "Delete", "", "<nil>"]
IDENTITIES = ["6a7f2c1e-4b1d-4c9e-9f0a-2d3e4f5a6b7c", "user@example.com", "", "<nil>",
              "Ünïcödé 用户"]
REPOS = ["team01/svc-01", "orders", "Orders", "", "<nil>"]
TAGS = ["latest", "1.4.2", "sha256:2a871364028e4fcc58cb139239390bc242fa7acee3aaa22ab200422d7"]
DESCRIPTIONS = ["200", "200", "200", "404", "401", "403", FIREWALL, "HttpStatusCode", "",
                "500 Internal Server Error", "http 201", "<nil>"]
RESULT_TYPES = ["HttpStatusCode", "HttpStatusCode", "200", "Failed", ""]
CALLERS = [
    "4.189.68.203", "4.189.68.203:51544", "4.189.68.203:51545", "4.189.68.203:0",
    "4.189.68.203:65535", "4.189.68.203:65536", "4.189.68.203:00080", "4.189.68.203:",
    "10.1.0.9:443", "10.1.0.9", "010.1.0.9:443", "20.50.2.3:1", " 20.50.2.3:2 ",
    "0.0.0.0:443", "0.0.0.0:80", "127.0.0.1:5000", "127.0.0.1:5001", "169.254.10.1:80",
    "169.254.10.1:81", "224.0.0.1:5353", "224.0.0.1:5354", "255.255.255.255:80",
    "255.255.255.255:81", "240.0.0.1:1", "240.0.0.1:2", "2001:db8::5", "[2001:db8::5]:443",
    "[2001:db8::5]:444", "::ffff:20.50.2.3", "fe80::1%eth0", "<nil>", "", "not-an-ip:80",
    "1.2.3.4:80:90", "1.2.3.4:٨٠",
]
TIMES = [
    "2025-01-30T14:19:15.1931730Z", "2025-01-30T14:19:15.193173099Z",
    "2025-01-30T14:19:15.1931730991Z", "2025-01-30T14:19:15Z", "2025-01-30T14:19:15.Z",
    "2025-01-30T14:19:15.1Z", "2025-01-30t14:19:15z", "2025-01-30T14:19:15.1931730+00:00",
    "2025-01-30T14:19:15+01:00", "2025-01-30 14:19:15Z", "2024-02-29T00:00:00.0000001Z",
    "2025-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2000-02-29T23:59:59.9999999Z",
    "2025-01-30T24:00:00Z", "2016-12-31T23:59:60Z", "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59.9999999Z", "0000-01-01T00:00:00Z",
    "2025-13-01T00:00:00Z", "2025-04-31T00:00:00Z", "2025-01-30T14:19Z", "20250130T141915Z",
    " 2025-01-30T14:19:15Z", "2025-01-30T14:19:15Z ", "2025-01-30T14:19:15,5Z",
    "1/30/2025, 2:19:15.193 PM", "2025-01-30 14:19:15", "2025-01-30", "<nil>", "", "now",
    "2025-01-30T14:19:15.1931730ZZ", "2025-01-30T14:19:15.-1Z",
]

# key spellings parse_record reads the same (norm_key: case, "_", " ", "[utc]") and others
ALIASES = {
    "time": ["TimeGenerated", "timeGenerated", "time[UTC]", "TimeGenerated [UTC]", "Time",
             "time_generated", "TIME"],
    "category": ["Category", "Type", "type", "TableName", "table_name", "CATEGORY"],
    "resourceId": ["_ResourceId", "ResourceId", "resource_id", "resourceID"],
    "operationName": ["OperationName", "operation_name", "operation Name", "operationname"],
    "identity": ["Identity", "IDENTITY", "_identity"],
    "resultType": ["ResultType", "result_type"],
    "resultDescription": ["ResultDescription", "result description"],
    "callerIpAddress": ["CallerIpAddress", "caller_ip_address", "callerIPAddress",
                        "Caller IP Address"],
    "correlationId": ["CorrelationId", "correlation_id"],
    "properties": ["Properties", "PROPERTIES", "_properties"],
    "tag": ["Tag", "TAG", "t_a_g"],
    "repository": ["Repository", "repo_sitory"],
    "loginServer": ["LoginServer", "login_server", "loginserver"],
    "digest": ["Digest"],
    "userAgent": ["UserAgent", "user_agent"],
}
UNKNOWN_KEYS = ["level", "foo", "x-extra", "Location", "durationMS", "operationNameX", "tim",
                "", "é", "a b", "a_b", "[x]", "x" * 40, "k\u212aey", "İdentity", "ca\u0301tegory",
                "region_stamp", "jwt_id", "@type", "0", "properties2"]
NUMBERS = [b"0", b"-0", b"1.0", b"-1.5", b"123456789012345", b"1234567890123456",
           b"0.123456789012345", b"0.1234567890123456", b"1e5", b"1E-5", b"-1.5e+3", b"01",
           b"-", b"1.", b".5", b"+1", b"0x10", b"NaN", b"Infinity", b"-Infinity", b"9" * 30,
           b"1e400", b"-0.0", b"true", b"false", b"null", b"tru", b"nul"]


@st.composite
def base_record(draw: st.DrawFn) -> dict[str, str]:
    """The deciding values of one archive record (many records share them)."""
    resource, login_server = draw(st.sampled_from(REGISTRIES))
    category = draw(st.sampled_from(CATEGORIES))
    login = category == LOGIN
    return {
        "category": category,
        "resourceId": resource,
        "operationName": "Login" if login and draw(st.booleans()) else
        draw(st.sampled_from(OPERATIONS)),
        "identity": draw(st.sampled_from(IDENTITIES)),
        "resultType": draw(st.sampled_from(RESULT_TYPES)),
        "resultDescription": draw(st.sampled_from(DESCRIPTIONS)),
        "callerIpAddress": draw(st.sampled_from(CALLERS)),
        "loginServer": login_server,
        "repository": "" if login else draw(st.sampled_from(REPOS)),
        "tag": "" if login else draw(st.sampled_from(TAGS)),
        "login": "1" if login else "",
    }


def _enc(value: object) -> bytes:
    return orjson.dumps(value)


def members(base: dict[str, str], when: str, serial: int) -> list[list[object]]:
    """The archive's record as [key token, value token] pairs in its order; the properties
    bag's value is itself such a list."""
    correlation = f"00000000-0000-4000-8000-{serial:012d}"
    top: list[list[object]] = [
        [b'"time"', _enc(when)], [b'"category"', _enc(base["category"])],
        [b'"resourceId"', _enc(base["resourceId"])],
        [b'"operationName"', _enc(base["operationName"])],
        [b'"identity"', _enc(base["identity"])], [b'"location"', b'"westeurope"'],
        [b'"resultType"', _enc(base["resultType"])],
        [b'"resultDescription"', _enc(base["resultDescription"])],
        [b'"durationMs"', _enc(f"{serial % 97}.{serial:06d}")],
        [b'"callerIpAddress"', _enc(base["callerIpAddress"])],
        [b'"correlationId"', _enc(correlation)],
    ]
    if base["login"]:
        props = [[b'"loginServer"', _enc(base["loginServer"])],
                 [b'"userAgent"', _enc(f"docker/2{serial % 5}.10 go/go1.21")],
                 [b'"tenantId"', b'"aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"'],
                 [b'"jwtId"', _enc(correlation[::-1])]]
        top.append([b'"properties"', props])
        return top
    props = [[b'"tag"', _enc(base["tag"])],
             [b'"digest"', _enc(f"sha256:{serial:064x}")],
             [b'"mediaType"', b'"application/vnd.docker.distribution.manifest.v2+json"'],
             [b'"repository"', _enc(base["repository"])],
             [b'"artifactType"', b'"acr.docker"'],
             [b'"tenantId"', b'"aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"'],
             [b'"loginServer"', _enc(base["loginServer"])],
             [b'"userAgent"', _enc(f"containerd/1.7.{serial % 3}")],
             [b'"size"', _enc(str(1000 + serial % 7))]]
    top.append([b'"properties"', props])
    top.append([b'"RegionStamp"', b'"weu-3"'])
    return top


def dump(pairs: list[list[object]], ws: tuple[bytes, ...] = (b"",) * 6) -> bytes:
    """One object from the pairs; ``ws``: whitespace after "{", before and after ":", before
    and after ",", before "}"."""
    parts = []
    for key, value in pairs:
        raw = dump(value, ws) if isinstance(value, list) else value  # type: ignore[arg-type]
        parts.append(key + ws[1] + b":" + ws[2] + raw)  # type: ignore[operator]
    return b"{" + ws[0] + (ws[3] + b"," + ws[4]).join(parts) + ws[5] + b"}"  # type: ignore[arg-type]


def key_name(token: bytes) -> str:
    return token[1:-1].decode("utf-8", errors="replace")


# --------------------------------------------------------------------------- mutations

def _escape_one(text: str, index: int) -> bytes:
    """``text`` as a JSON string with one character written as a \\u escape (a surrogate
    pair beyond the BMP)."""
    if not text:
        return b'"\\u0000"'
    i = index % len(text)
    code = ord(text[i])
    if code < 0x10000:
        esc = f"\\u{code:04x}"
    else:
        high, low = divmod(code - 0x10000, 0x400)
        esc = f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}"
    return _enc(text[:i])[:-1] + esc.encode() + _enc(text[i + 1 :])[1:]


RAW_INSERTS = [b"\xff", b"\xc3", b"\xc3\xa9", b"\xf0\x9f\x98\x80", b"\xed\xa0\x80", b"\xc0\xaf",
               b"\xe0\x80\x80", b"\xf4\x90\x80\x80", b"\xf0\x8f\xbf\xbf", b"\xef\xbf\xbf", b"\x7f",
               b"\x01", b"\x1f", b"\t", b"\x00", b"\\ud800", b"\\udc00", b"\\ud83d\\ude00",
               b"\\ude00\\ud83d", b"\\ud83d", b"\\u0000", b"\\u00e9", b"\\/", b"\\n", b"\\\"",
               b"\\\\", b"\\b\\f\\r\\t", b"\\x41", b"\\U0041", b"\\u00G0", b"\\", b"\\u12",
               b"\xe2\x80\xa8", b"\xef\xbb\xbf"]


@st.composite
def string_token(draw: st.DrawFn, value: str) -> bytes:
    """A JSON string token for ``value``, written in one of the ways that probe the scanner
    (the same text escaped, bytes inserted, placeholders, long, case...)."""
    style = draw(st.sampled_from(["escape-one", "ascii", "insert", "pad", "case", "nil", "long",
                                  "text"]))
    if style == "escape-one":
        return _escape_one(value, draw(st.integers(0, 64)))
    if style == "ascii":
        return json.dumps(value + draw(st.sampled_from(["", "é", "😀", "/"])),
                          ensure_ascii=True).replace("/", "\\/").encode()
    if style == "insert":
        raw = _enc(value)
        at = draw(st.integers(1, len(raw) - 1))
        return raw[:at] + draw(st.sampled_from(RAW_INSERTS)) + raw[at:]
    if style == "pad":
        return _enc(draw(st.sampled_from([" ", "\t", "\u00a0", "\u3000", "\n"])) + value
                    + draw(st.sampled_from(["", " ", "\r"])))
    if style == "case":
        return _enc(draw(st.sampled_from([value.lower(), value.upper(), value.swapcase()])))
    if style == "nil":
        return _enc(draw(st.sampled_from(["<nil>", "<NIL>", " <nil> ", "null", "None", "n/a",
                                          "-", "<null>", ""])))
    if style == "long":  # around MAX_VALUE (bytes) and MAX_FIELD_CHARS (characters)
        n = draw(st.sampled_from([2047, 2048, 2049, 3000]))
        unit = draw(st.sampled_from(["x", "é", "€", "😀"]))
        per = len(unit.encode()) if draw(st.booleans()) else 1
        return _enc(unit * (n // per))
    return _enc(draw(st.text(max_size=12)))


NON_STRINGS = [b"null", b"0", b"42", b"1.5", b"-0", b"true", b"false", b"{}", b"[]",
               b'{"a":"b"}', b'["x"]', b'[{"x":null}]', b'{"value":"Pull"}', b"1e3"]


def _nested(depth: int, kind: str) -> bytes:
    if kind == "array":
        return b"[" * depth + b"]" * depth
    if kind == "object":
        return b'{"a":' * depth + b"1" + b"}" * depth
    return b'[{"k":' * (depth // 2) + b'"v"' + b"}]" * (depth // 2)


def _pick(draw: st.DrawFn, top: list[list[object]], props_too: bool = True
          ) -> tuple[list[list[object]], int] | None:
    """A member list (the top level, or the properties bag when there is one) and an index."""
    lists = [top]
    for _, value in top:
        if props_too and isinstance(value, list) and value:
            lists.append(value)
    target = draw(st.sampled_from(lists))
    if not target:
        return None
    return target, draw(st.integers(0, len(target) - 1))


MUTATIONS = ("shuffle", "drop", "dup", "rename", "extra", "non-string", "string", "time",
             "caller", "description", "bag", "nest", "number")


@st.composite
def mutate(draw: st.DrawFn, top: list[list[object]]) -> None:
    """One structural or value mutation of a record's members, in place."""
    op = draw(st.sampled_from(MUTATIONS))
    picked = _pick(draw, top)
    if picked is None:
        return
    target, i = picked
    if op == "shuffle":
        order = draw(st.permutations(range(len(target))))
        target[:] = [target[j] for j in order]
    elif op == "drop":
        del target[i]
    elif op == "dup":
        key, value = target[i]
        if not isinstance(value, list) and draw(st.booleans()):
            value = draw(st.sampled_from([b'"Push"', b'"<nil>"', b'""', b'"AuditEvent"',
                                          b'"2025-01-30T15:00:00Z"', b'"9.9.9.9:1"', b"null"]))
        target.insert(draw(st.integers(0, len(target))), [key, value])
    elif op == "rename":
        name = key_name(target[i][0])  # type: ignore[arg-type]
        choices = [*ALIASES.get(name, []), name.upper(), name.capitalize(), name + "_" * 30,
                   "_" * 30 + name, "_".join(name), " " + name, name + " ", name + "[UTC]",
                   name + "[utc]", name + "\u00e9", "\u0130" + name]
        spelled = draw(st.sampled_from(choices))
        if draw(st.integers(0, 4)) == 0:
            target[i][0] = _escape_one(name, draw(st.integers(0, 30)))
        else:
            target[i][0] = _enc(spelled)
    elif op == "extra":
        name = draw(st.sampled_from(UNKNOWN_KEYS))
        value = draw(st.one_of(st.sampled_from(NON_STRINGS), st.sampled_from(NUMBERS),
                               st.builds(_enc, st.text(max_size=8))))
        token = _escape_one(name, draw(st.integers(0, 9))) if draw(st.integers(0, 5)) == 0 \
            else _enc(name)
        target.insert(draw(st.integers(0, len(target))), [token, value])
    elif op == "non-string":
        target[i][1] = draw(st.sampled_from(NON_STRINGS))
    elif op == "string":
        value = target[i][1]
        if isinstance(value, list):
            return
        try:
            text = orjson.loads(value)  # type: ignore[arg-type]
        except orjson.JSONDecodeError:
            return
        if isinstance(text, str):
            target[i][1] = draw(string_token(text))
    elif op in ("time", "caller", "description"):
        name = {"time": "time", "caller": "callerIpAddress",
                "description": "resultDescription"}[op]
        pool = {"time": TIMES, "caller": CALLERS, "description": DESCRIPTIONS}[op]
        for member in top:
            if member[0] == _enc(name):
                member[1] = _enc(draw(st.sampled_from(pool)))
                return
        top.insert(draw(st.integers(0, len(top))), [_enc(name), _enc(draw(st.sampled_from(pool)))])
    elif op == "bag":
        for member in top:
            if member[0] == b'"properties"':
                member[1] = draw(st.sampled_from([b"null", b'"{\\"tag\\":\\"x\\"}"', b"[]", b"{}",
                                                  b'[{"repository":"orders"}]', b"0"]))
                return
    elif op == "nest":
        depth = draw(st.sampled_from([1, 30, 31, 32, 33, 40]))
        kind = draw(st.sampled_from(["array", "object", "mixed"]))
        name = draw(st.sampled_from(["durationMs", "level", "correlationId", "digest", "extra"]))
        target.insert(draw(st.integers(0, len(target))), [_enc(name), _nested(depth, kind)])
    elif op == "number":
        name = draw(st.sampled_from(["durationMs", "size", "level", "correlationId", "x"]))
        target.insert(draw(st.integers(0, len(target))), [_enc(name),
                                                           draw(st.sampled_from(NUMBERS))])


WHITESPACE = [b"", b"", b"", b" ", b"\t", b"\r", b" \t ", b"\r\r"]
NOT_JSON_WHITESPACE = [b"\x0c", b"\x0b", b"\xc2\xa0", b"\n"]  # "\n" splits the record
LINE_DAMAGE = ("trailing-comma", "comment", "single-quotes", "truncate", "lead", "trail",
               "bom", "flip", "tail-garbage", "two-objects")
SPECIAL_LINES = [b"", b" ", b"\t", b"\r", b"\x0c", b"{}", b" {} ", b"[]", b"[1,2,3]", b'"text"',
                 b"null", b"42", b"{", b"}", b"{,}", b'{"a":1,}', b"<html>502</html>",
                 b'{"foo":"bar"}', b'{"time":"2025-01-30T14:19:15Z"}',
                 b'{"category":"ContainerRegistryRepositoryEvents"}',
                 b'{"properties":{}}', b'{"properties":{"repository":"orders"}}',
                 b'{"records":[]}', b'{"operationName":"Pull"}', b'{"tag":"x"}',
                 b"\xef\xbb\xbf{}", b"{/*c*/}", b'{"a":NaN}']


@st.composite
def line_damage(draw: st.DrawFn, line: bytes) -> bytes:
    kind = draw(st.sampled_from(LINE_DAMAGE))
    if kind == "trailing-comma":
        return line[:-1] + b",}"
    if kind == "comment":
        return line[:1] + b"/* c */" + line[1:] if draw(st.booleans()) else line + b" // c"
    if kind == "single-quotes":
        return line.replace(b'"', b"'", draw(st.integers(1, 6)))
    if kind == "truncate":
        return line[: draw(st.integers(0, max(0, len(line) - 1)))]
    if kind == "lead":
        return draw(st.sampled_from(WHITESPACE[3:] + NOT_JSON_WHITESPACE[:3])) + line
    if kind == "trail":
        return line + draw(st.sampled_from([b" ", b"\t", b"\r", b"\r\r", b" \r", b"\x0c"]))
    if kind == "bom":
        return b"\xef\xbb\xbf" + line
    if kind == "flip":
        at = draw(st.integers(0, len(line) - 1))
        return line[:at] + bytes([line[at] ^ (1 << draw(st.integers(0, 7)))]) + line[at + 1 :]
    if kind == "tail-garbage":
        return line + draw(st.sampled_from([b"x", b"}", b",", b"{}", b"\\"]))
    return line + line


@st.composite
def archive_lines(draw: st.DrawFn, max_lines: int = 30) -> list[bytes]:
    """Lines of one archive: a few base records shared by many lines (groups, first/last),
    some mutated, some damaged, some not records at all."""
    bases = draw(st.lists(base_record(), min_size=1, max_size=5))
    n = draw(st.integers(1, max_lines))
    hour = draw(st.integers(0, 23))
    lines = []
    for serial in range(n):
        base = draw(st.sampled_from(bases))
        kind = draw(st.sampled_from(["plain"] * 5 + ["mutated"] * 4 + ["damaged", "special"]))
        if kind == "special":
            lines.append(draw(st.sampled_from(SPECIAL_LINES)))
            continue
        seconds = draw(st.integers(0, 3599))
        digits = draw(st.sampled_from([7, 7, 7, 0, 3, 9]))
        fraction = f".{draw(st.integers(0, 10**digits - 1)):0{digits}d}" if digits else ""
        when = f"2025-01-30T{hour:02d}:{seconds // 60:02d}:{seconds % 60:02d}{fraction}Z"
        top = members(base, when, serial)
        ws: tuple[bytes, ...] = (b"",) * 6
        if kind == "mutated":
            for _ in range(draw(st.integers(1, 3))):
                draw(mutate(top))
            if draw(st.integers(0, 3)) == 0:
                ws = tuple(draw(st.sampled_from(WHITESPACE)) for _ in range(6))
                if draw(st.integers(0, 5)) == 0:
                    at = draw(st.integers(0, 5))
                    ws = (*ws[:at], draw(st.sampled_from(NOT_JSON_WHITESPACE)), *ws[at + 1 :])
        line = dump(top, ws)
        if kind == "damaged":
            line = draw(line_damage(line))
        lines.append(line)
    return lines


@st.composite
def archives(draw: st.DrawFn) -> list[tuple[str, bytes]]:
    """1-3 files (name, bytes): plain or gzip, LF or CRLF, with or without a final newline.
    Each starts with a plain record so that it is read as JSON lines."""
    files = []
    for i in range(draw(st.integers(1, 3))):
        lines = draw(archive_lines())
        first = members({"category": REPOSITORY, "resourceId": REGISTRIES[0][0],
                         "operationName": "Pull", "identity": IDENTITIES[0],
                         "resultType": "HttpStatusCode", "resultDescription": "200",
                         "callerIpAddress": "4.189.68.203:51544", "loginServer": REGISTRIES[0][1],
                         "repository": "orders", "tag": "latest", "login": ""},
                        "2025-01-30T14:19:15.1931730Z", 10_000 + i)
        lines.insert(0, dump(first))
        eol = draw(st.sampled_from([b"\n", b"\r\n"]))
        data = eol.join(lines) + (eol if draw(st.booleans()) else b"")
        name = f"h={i:02d}/PT1H.json"
        if draw(st.integers(0, 3)) == 0:
            data, name = gzip.compress(data, mtime=0), name + ".gz"
        files.append((name, data))
    return files


# --------------------------------------------------------------------------- the routes

@contextmanager
def archive_dir(files: list[tuple[str, bytes]]) -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="pullpath-archivescan-"))
    try:
        for name, data in files:
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        yield root
    finally:
        shutil.rmtree(root)


def check_all_routes(root: Path, *more: Path, python_too: bool = True) -> None:
    """The fast route (compiled, one and two workers, two workers with every file split into
    ranges; and without the compiled module) gives exactly the reference route's groups and
    accounting (``more``: further inputs)."""
    paths = [root, *more]
    reference = targets.reference_route(paths)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(logs_scan, "PARALLEL_MIN_BYTES", 0)  # two workers even for small inputs
        for workers in (1, 2):
            targets.check_routes(targets.fast_route(paths, workers), reference,
                                 f"compiled, {workers} worker(s)")
        # one file in line-aligned ranges read by both workers (adapters.logs_split)
        targets.check_routes(targets.fast_route(paths, 2, split_bytes=61), reference,
                             "compiled, 2 workers, files split")
        if python_too:
            mp.setattr(logs_fast, "_Compiled", None)
            mp.setattr(logs_fast, "_Catalog", None)
            targets.check_routes(targets.fast_route(paths, 2), reference, "python")


def check_scanner_on(files: list[tuple[str, bytes]], cut_seed: int = 0) -> None:
    """``check_scanner`` on each file's decompressed bytes, whole and in buffers."""
    for name, data in files:
        raw = gzip.decompress(data) if name.endswith(".gz") else data
        targets.check_scanner(raw)
        if cut_seed:
            step = 1 + cut_seed % 97
            targets.check_scanner(raw, cuts=list(range(step, len(raw), step)))


# --------------------------------------------------------------------------- tests

def test_mapped_keys_are_the_records_field_keys() -> None:
    assert set(archivescan.mapped_keys()) == set(records._FIELD_KEYS) | {"properties"}
    assert len(archivescan.mapped_keys()) == len(set(archivescan.mapped_keys()))


@PROPERTY
@given(archives())
def test_fast_route_equals_reference_on_mutated_archives(files: list[tuple[str, bytes]]) -> None:
    with archive_dir(files) as root:
        check_all_routes(root)


def _python_read(name: str, data: bytes) -> tuple[str, bytes]:
    """The file with a key on each line that the compiled scanner leaves to Python (an
    unmapped key with "_"), which ``parse_record`` ignores."""
    raw = gzip.decompress(data) if name.endswith(".gz") else data
    raw = b"\n".join(line.replace(b"{", b'{"extra_key": 1, ', 1) for line in raw.split(b"\n"))
    return name, gzip.compress(raw, mtime=0) if name.endswith(".gz") else raw


@PROPERTY
@given(archives())
def test_duplicates_across_inputs_agree_on_mutated_archives(
        files: list[tuple[str, bytes]]) -> None:
    """The archive given twice, the second copy read by Python (``_python_read``): each event
    with a correlation ID is dropped from the input given second, by every route, whichever
    tier (compiled or Python) made its fingerprint and whichever looked it up."""
    copies = ([(f"a/{name}", data) for name, data in files]
              + [("b/" + name, data) for name, data in (_python_read(*f) for f in files)])
    with archive_dir(copies) as root:
        check_all_routes(root / "a", root / "b")
        check_all_routes(root / "b", root / "a", python_too=False)


@settings(PROPERTY, max_examples=120 * SCALE)
@given(archive_lines(max_lines=40), st.integers(0, 10_000))
def test_scanner_alone_on_mutated_lines(lines: list[bytes], cut_seed: int) -> None:
    data = b"\n".join(lines) + b"\n"
    targets.check_scanner(data)
    targets.check_scanner(data, cuts=list(range(1 + cut_seed % 131, len(data), 1 + cut_seed % 131)))
    targets.check_scanner(data, ask=targets.ASK_ALL)


@settings(PROPERTY, max_examples=300 * SCALE)
@given(st.one_of(st.binary(max_size=400), mutated(seeds("logs")),
                 st.lists(st.sampled_from([*SPECIAL_LINES, *RAW_INSERTS, b"\n", b"\r\n", b"{",
                                           b'"time":"2025-01-30T14:19:15Z"', b'"callerIpAddress"',
                                           b':"1.2.3.4:5"', b",", b"}"]), max_size=40)
                 .map(b"".join)))
def test_scanner_never_crashes_on_bytes(data: bytes) -> None:
    """Any bytes: no exception, whole lines only, and what is counted reads as Python reads."""
    targets.check_scanner(data)
    targets.check_scanner(data, max_groups=1, max_line=64)


@settings(PROPERTY, max_examples=200 * SCALE)
@given(mutated(seeds("logs")))
def test_fuzz_target_on_mutated_seeds(data: bytes) -> None:
    targets.fuzz_archivescan(data)


def test_fuzz_target_replays_the_seeds() -> None:
    for data in seeds("logs"):
        targets.fuzz_archivescan(data)


# ---- every boundary case of the brief, each in a file of its own (deterministic coverage)

def _case_record(**changes: object) -> list[list[object]]:
    base = {"category": REPOSITORY, "resourceId": REGISTRIES[0][0], "operationName": "Pull",
            "identity": IDENTITIES[0], "resultType": "HttpStatusCode",
            "resultDescription": "200", "callerIpAddress": "4.189.68.203:51544",
            "loginServer": REGISTRIES[0][1], "repository": "orders", "tag": "latest",
            "login": ""}
    top = members(base, "2025-01-30T14:19:15.1931730Z", 1)
    for name, token in changes.items():
        raw = token if isinstance(token, bytes) else _enc(token)
        for pairs in (top, top[-2][1]):
            for member in pairs:  # type: ignore[union-attr]
                if member[0] == _enc(name):
                    member[1] = raw
    return top


def _with_key(key: bytes, value: bytes, bag: bool = False) -> bytes:
    top = _case_record()
    (top[-2][1] if bag else top).insert(3, [key, value])  # type: ignore[union-attr]
    return dump(top)


def _renamed(name: str, spelled: bytes) -> bytes:
    top = _case_record()
    for pairs in (top, top[-2][1]):
        for member in pairs:  # type: ignore[union-attr]
            if member[0] == _enc(name):
                member[0] = spelled
    return dump(top)


BOUNDARY: dict[str, bytes] = {
    "plain": dump(_case_record()),
    "reordered": dump(list(reversed(_case_record()))),
    "crlf-inside-ws": dump(_case_record(), (b" ", b"\r", b" ", b"\t", b" \r", b" ")),
    "missing-operation": dump([m for m in _case_record() if m[0] != b'"operationName"']),
    "unknown-category": dump(_case_record(category="AuditEvent")),
    "dup-category": _with_key(b'"category"', b'"AuditEvent"'),
    "dup-time": _with_key(b'"time"', b'"2025-01-30T15:00:00Z"'),
    "dup-unknown": _with_key(b'"location"', b'"eastus"'),
    "dup-tag-in-bag": _with_key(b'"tag"', b'"other"', bag=True),
    "extra-top": _with_key(b'"foo"', b'{"a":[1,2,{"b":null}]}'),
    "extra-bag": _with_key(b'"foo"', b'"bar"', bag=True),
    "extra-empty-key": _with_key(b'""', b'"x"'),
    "key-escaped": _renamed("category", b'"c\\u0061tegory"'),
    "key-escaped-unknown": _with_key(b'"f\\u006fo"', b'"bar"'),
    "key-non-ascii": _with_key("catégory".encode(), b'"AuditEvent"'),
    "key-kelvin": _with_key('"\u212aey"'.encode(), b'"x"'),
    "key-dotted-i": _with_key('"\u0130dentity"'.encode(), b'"someone"'),
    "time-in-bag": _with_key(b'"time"', b'"2025-01-30T15:00:00Z"', bag=True),
    "identity-in-bag": _with_key(b'"identity"', b'"from-bag"', bag=True),
    "caller-in-bag": _with_key(b'"callerIpAddress"', b'"9.9.9.9"', bag=True),
    "category-in-bag": _with_key(b'"category"', b'"AuditEvent"', bag=True),
    "bag-in-bag": _with_key(b'"properties"', b'{"tag":"x"}', bag=True),
    "bag-null": dump([m if m[0] != b'"properties"' else [m[0], b"null"]
                      for m in _case_record()]),
    "bag-string": dump([m if m[0] != b'"properties"' else [m[0], b'"{}"']
                        for m in _case_record()]),
    "bag-empty": dump([m if m[0] != b'"properties"' else [m[0], b"{}"] for m in _case_record()]),
    "top-repository": _with_key(b'"repository"', b'"top-level-repo"'),
    "top-tag": _with_key(b'"tag"', b'"top-tag"'),
    "table-name": _with_key(b'"tableName"', b'"ContainerRegistryLoginEvents"'),
    "value-escaped-same": dump(_case_record(operationName=b'"P\\u0075ll"')),
    "value-slash": dump(_case_record(resourceId=REGISTRIES[0][0].replace("/", "\\/").encode()
                                     .join([b'"', b'"']))),
    "value-newline": dump(_case_record(identity=b'"a\\nb"')),
    "value-quote": dump(_case_record(identity=b'"a\\"b"')),
    "value-e-acute-escaped": dump(_case_record(identity=b'"\\u00e9"')),
    "value-emoji-pair": dump(_case_record(identity=b'"\\ud83d\\ude00"')),
    "value-lone-surrogate": dump(_case_record(identity=b'"\\ud800"')),
    "value-lone-surrogate-other": dump(_case_record(userAgent=b'"\\udfff"')),
    "value-raw-utf8": dump(_case_record(identity="Ünïcödé 用户 😀".encode().join([b'"', b'"']))),
    "value-invalid-utf8": dump(_case_record(identity=b'"a\xffb"')),
    "value-invalid-utf8-other": dump(_case_record(userAgent=b'"a\xc3"')),
    "value-encoded-surrogate": dump(_case_record(repository=b'"a\xed\xa0\x80b"')),
    "value-overlong": dump(_case_record(tag=b'"\xc0\xaf"')),
    "value-control": dump(_case_record(identity=b'"a\x01b"')),
    "value-tab-raw": dump(_case_record(digest=b'"a\tb"')),
    "value-del": dump(_case_record(identity=b'"a\x7fb"')),
    "value-nul-escape": dump(_case_record(identity=b'"a\\u0000b"')),
    "value-padded": dump(_case_record(operationName=b'" Pull "')),
    "value-nil": dump(_case_record(identity=b'"<nil>"', tag=b'"<NIL>"')),
    "value-null": dump(_case_record(identity=b"null")),
    "value-number": dump(_case_record(operationName=b"42")),
    "value-object": dump(_case_record(repository=b'{"name":"orders"}')),
    "value-array": dump(_case_record(tag=b'["latest"]')),
    "value-bool": dump(_case_record(category=b"true")),
    "value-2048": dump(_case_record(repository=_enc("r" * 2048))),
    "value-2049": dump(_case_record(repository=_enc("r" * 2049))),
    "value-2048-chars-multibyte": dump(_case_record(repository=_enc("é" * 1025))),
    "value-3000-other": dump(_case_record(userAgent=_enc("u" * 3000))),
    "duration-number": dump(_case_record(durationMs=b"38.212784")),
    **{f"number-{n.decode(errors='replace')[:12]}": dump(_case_record(durationMs=n))
       for n in NUMBERS},
    "trailing-comma": dump(_case_record())[:-1] + b",}",
    "trailing-comma-bag": dump(_case_record()).replace(b'"size":"1001"', b'"size":"1001",'),
    "comment": b"/*x*/" + dump(_case_record()),
    "lead-spaces": b"   " + dump(_case_record()),
    "trail-spaces-cr": dump(_case_record()) + b" \r",
    "trail-ff": dump(_case_record()) + b"\x0c",
    "lead-nbsp": b"\xc2\xa0" + dump(_case_record()),
    **{f"depth-{d}-{kind}": _with_key(b'"level"', _nested(d, kind))
       for d in (30, 31, 32, 33, 40) for kind in ("array", "object", "mixed")},
    **{f"depth-{d}-bag": _with_key(b'"foo"', _nested(d, "array"), bag=True)
       for d in (29, 30, 31, 32)},
    **{f"time {t!r}": dump(_case_record(time=t)) for t in TIMES},
    "time-null": dump(_case_record(time=b"null")),
    "time-number": dump(_case_record(time=b"1738246755")),
    "time-escaped": dump(_case_record(time=b'"2025-01-30T14:19:15\\u005a"')),
    "time-missing": dump([m for m in _case_record() if m[0] != b'"time"']),
    **{f"caller {c!r}": dump(_case_record(callerIpAddress=c)) for c in CALLERS},
    "caller-missing": dump([m for m in _case_record() if m[0] != b'"callerIpAddress"']),
    "caller-null": dump(_case_record(callerIpAddress=b"null")),
    **{f"description {d[:20]!r}": dump(_case_record(resultDescription=d)) for d in DESCRIPTIONS},
    "description-denial-resulttype": dump(_case_record(resultType=FIREWALL,
                                                       resultDescription="")),
    **{f"alias {name}->{alias}": _renamed(name, _enc(alias))
       for name, aliases in ALIASES.items() for alias in aliases},
    **{f"long-underscore {name}": _renamed(name, _enc(name + "_" * 30))
       for name in ("category", "identity", "callerIpAddress", "tag", "properties")},
    "long-underscore-new-identity": _with_key(_enc("identity" + "_" * 30), b'"alice"'),
    "long-spaces-new-identity": _with_key(_enc(" " * 30 + "identity"), b'"alice"'),
    "long-underscore-new-tag-in-bag": _with_key(_enc("_" * 32 + "tag"), b'"v9"', bag=True),
    "long-key-unknown": _with_key(_enc("x" * 64), b'"y"'),
    "login-record": dump(members({"category": LOGIN, "resourceId": REGISTRIES[1][0],
                                  "operationName": "Login", "identity": "",
                                  "resultType": "HttpStatusCode", "resultDescription": "401",
                                  "callerIpAddress": "20.50.2.3:443",
                                  "loginServer": REGISTRIES[1][1], "repository": "", "tag": "",
                                  "login": "1"}, "2025-01-30T14:19:15.1931730Z", 2)),
    "empty-object": b"{}",
    "not-object": b"[1,2,3]",
    "blank": b"",
    "spaces": b"   ",
    "string-line": b'"x"',
    "nan": b'{"a":NaN}',
}


def _variants(line: bytes) -> list[bytes]:
    """The case line and a few like it that differ in what the scanner must key or must not
    key (identity, caller port, time, correlation)."""
    out = [line]
    for old, new in ((b"6a7f2c1e-4b1d-4c9e-9f0a-2d3e4f5a6b7c", b"user@example.com"),
                     (b":51544", b":51545"), (b"14:19:15", b"14:59:01"),
                     (b"00000000-0000-4000-8000-000000000001", b"ffffffff-0000-4000-8000-0")):
        if old in line:
            out.append(line.replace(old, new))
    return out


@pytest.mark.parametrize("case", list(BOUNDARY), ids=list(BOUNDARY))
def test_boundary_case(case: str) -> None:
    """Each case among real records, several times with varied values, plain and gzip."""
    plain = dump(_case_record())
    line = BOUNDARY[case]
    lines = [plain, *_variants(line), plain.replace(b"orders", b"payments"), *_variants(line),
             line]
    data = b"\n".join(lines) + b"\n"
    targets.check_scanner(data)
    files = [("a/PT1H.json", data), ("b/PT1H.json.gz", gzip.compress(data + line, mtime=0))]
    with archive_dir(files) as root:
        check_all_routes(root)


def test_boundary_cases_together() -> None:
    """All cases in one file (groups shared across cases, the examples' first 20 skips)."""
    lines = [line for case in BOUNDARY.values() for line in _variants(case)]
    data = b"\r\n".join(lines)
    with archive_dir([("PT1H.json", data)]) as root:
        check_all_routes(root)


def test_the_compiled_tier_counts_the_plain_cases() -> None:
    """The boundary cases are not all fallbacks: the archive's own shape (and harmless
    variations of it) is counted by the scanner itself."""
    expected_counted = ["plain", "reordered", "crlf-inside-ws", "missing-operation",
                        "unknown-category", "dup-unknown", "extra-top", "extra-bag",
                        "duration-number", "value-raw-utf8", "value-del",
                        "value-2048", "value-nil", "login-record", "lead-spaces",
                        "trail-spaces-cr", "depth-30-array", "empty-object",
                        "time '2025-01-30T14:19:15Z'", "time '0001-01-01T00:00:00Z'",
                        "time '2024-02-29T00:00:00.0000001Z'", "caller '0.0.0.0:443'",
                        "caller '4.189.68.203:00080'", "long-key-unknown"]
    for case in expected_counted:
        seen = targets.check_scanner(BOUNDARY[case] + b"\n")
        assert seen.ids[0] >= 0, case


# ---- unroutable callers keep their ports; routable ones are keyed by address

@pytest.mark.parametrize("ask", ["all", "fast-route"])
def test_unroutable_callers_are_not_merged_across_ports(ask: str) -> None:
    """Ports of unroutable addresses stay in the caller (a flow shows them as logged), whether
    the scanner asks Python about every address or only about the first octets the fast route
    says may be unroutable."""
    octets = targets.ASK_ALL if ask == "all" else targets.production_ask()
    callers = ["0.0.0.0:443", "0.0.0.0:80", "127.0.0.1:5000", "127.0.0.1:5001",
               "169.254.10.1:80", "169.254.10.1:81", "224.0.0.1:1", "224.0.0.1:2",
               "255.255.255.255:80", "255.255.255.255:81", "240.0.0.1:1", "240.0.0.1:2",
               "127.255.255.254:1", "127.255.255.254:2", "239.255.255.250:1900",
               "239.255.255.250:1901", "169.254.169.254:80", "169.254.169.254:81",
               "4.189.68.203:1", "4.189.68.203:2", "4.189.68.203:65535", "4.189.68.203:0",
               "169.253.1.1:1", "169.253.1.1:2", "0.1.2.3:1", "0.1.2.3:2"]
    unroutable = callers[:18]
    lines = [dump(_case_record(callerIpAddress=c)) for c in callers * 2]
    data = b"\n".join(lines) + b"\n"
    seen = targets.check_scanner(data, ask=octets)
    assert seen.counted == len(lines)
    # the unroutable callers apart, each routable address's ports in one group
    routable = {"4.189.68.203", "169.253.1.1", "0.1.2.3"}
    assert len(seen.groups) == len(unroutable) + len(routable)
    with archive_dir([("PT1H.json", data)]) as root:
        check_all_routes(root)
        fast, _ = targets.fast_route([root])
    assert {key.caller_ip for key in fast.groups} == {*unroutable, *routable}


# ---- the cap on groups held (PULLPATH_MAX_READ_GROUPS)

def _distinct_callers(n: int, start: int = 0) -> list[bytes]:
    return [dump(_case_record(callerIpAddress=f"20.0.{(start + i) // 250}.{(start + i) % 250 + 1}",
                              identity=f"id-{(start + i) % 3}"))
            for i in range(n)]


def _capped(root: Path, cap: int, compiled: bool, workers: int = 1) -> tuple[object, ...]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PULLPATH_MAX_READ_GROUPS", str(cap))
        mp.setattr(logs_scan, "PARALLEL_MIN_BYTES", 0)
        if not compiled:
            mp.setattr(logs_fast, "_Compiled", None)
            mp.setattr(logs_fast, "_Catalog", None)
        aggregator, stats = targets.fast_route([root], workers)
    assert aggregator.events == stats.events_read  # read = counted in groups + overflow
    targets.check_stats(stats)
    return (targets.snapshot(aggregator), aggregator.overflow_events,
            targets.accounting(stats))


@pytest.mark.parametrize("cap", [1, 3, 10, 40])
def test_group_cap_overflow_matches_the_python_route(cap: int) -> None:
    lines = _distinct_callers(30) + _distinct_callers(30)  # every group twice
    data = b"\n".join(lines) + b"\n"
    seen = targets.check_scanner(data, max_groups=cap)
    overflow_lines = sum(1 for i in seen.ids if i == -2)
    assert overflow_lines == (2 * (30 - cap) if cap < 30 else 0)
    with archive_dir([("PT1H.json", data)]) as root:
        compiled = _capped(root, cap, compiled=True)
        python = _capped(root, cap, compiled=False)
        reference = targets.reference_route([root])
    assert compiled == python
    assert compiled[1] == overflow_lines
    assert compiled[2] == targets.accounting(reference[1])  # overflow events are read events


def test_error_groups_count_towards_the_compiled_scanners_group_cap() -> None:
    """Keys whose resolution is an error are held by the compiled scanner like groups (their
    lines are skips) and count towards its ``max_groups``; the reference reader holds
    nothing for a skip. The accounting (reads and skips, line by line) is the same."""
    errors = [dump(_case_record(category=f"Other{i}")) for i in range(3)]
    lines = errors + _distinct_callers(3)
    data = b"\n".join(lines) + b"\n"
    with archive_dir([("PT1H.json", data)]) as root:
        compiled = _capped(root, 3, compiled=True)
        python = _capped(root, 3, compiled=False)
    assert compiled[1] == 3  # the readable records came after three error keys: overflow
    assert python[1] == 0
    assert compiled[2] == python[2]


# ---- lines at the buffer's edges and over the line limit (small limits, same code paths)

@contextmanager
def small_line_limit(limit: int) -> Iterator[None]:
    """Both readers' line limit at ``limit`` (the fast route's buffer twice it, the sniffed
    head half), as the real limits stand to each other (4 MiB, 8 MiB, 64 KiB)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(logs_files, "SNIFF_BYTES", limit // 2)
        mp.setattr(logs_files, "MAX_LINE_BYTES", limit)
        mp.setattr(logs_fast, "MAX_LINE_BYTES", limit)
        mp.setattr(logs_fast, "_BUFFER", 2 * limit)
        yield


@settings(PROPERTY, max_examples=40 * SCALE)
@given(archives(), st.sampled_from([700, 1100, 1500]))
def test_small_line_limit_and_buffer(files: list[tuple[str, bytes]], limit: int) -> None:
    """With ``MAX_LINE_BYTES`` small (both readers use it; the fast route's buffer is twice
    it), records cross buffer edges and some lines are over the limit: still the same. The
    sniffed head stays smaller than the buffer, as with the real limits (64 KiB, 8 MiB)."""
    with small_line_limit(limit), archive_dir(files) as root:
        check_all_routes(root)
    check_scanner_on(files, cut_seed=limit)


@pytest.mark.parametrize("eol", [b"\n", b"\r\n"], ids=["lf", "crlf"])
def test_lines_at_the_line_limit(eol: bytes) -> None:
    """Lines of the limit's length, one byte either side, with and without a final newline:
    read, or ``line-too-long``, alike in every route (the compiled scanner too: ``max_line``)."""
    limit = 1200
    record = dump(_case_record())

    def sized(n: int, pad_key: bool) -> bytes:
        if pad_key:  # the padding inside the record: an unknown key
            top = _case_record()
            top.insert(2, [b'"pad"', b'""'])
            short = len(dump(top))
            top[2][1] = _enc("p" * (n - short))
            return dump(top)
        return b" " * (n - len(record)) + record  # leading spaces

    lengths = [limit - 2, limit - 1, limit, limit + 1, limit + 2]
    lines = [record] + [sized(n - len(eol) + 1, pad) for n in lengths for pad in (True, False)]
    data = eol.join(lines) + eol
    files = [("all/PT1H.json", data)]
    files += [(f"last-{n}-{pad}/PT1H.json", record + eol + sized(n, pad))
              for n in lengths for pad in (True, False)]
    with small_line_limit(limit), archive_dir(files) as root:
        check_all_routes(root)
        _, stats = targets.reference_route([root])
    assert stats.skipped["line-too-long"] >= 4
    assert stats.events_read >= 10
    seen = targets.check_scanner(data, max_line=limit)
    assert -1 in seen.ids
    assert seen.counted >= 5


def test_damaged_gzip_reads_the_same_records_before_the_damage() -> None:
    data = b"\n".join([dump(_case_record())] * 1200) + b"\n"
    damaged = bytearray(gzip.compress(data, mtime=0))
    damaged[-8] ^= 1  # the CRC-32 in the trailer: every byte inflates, then the check fails
    with archive_dir([("PT1H.json.gz", bytes(damaged))]) as root:
        check_all_routes(root, python_too=False)



_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MIN_US = (datetime.min.replace(tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)
_MAX_US = (datetime.max.replace(tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)


def _reference_datetime(micros: int) -> datetime | None:
    if not _MIN_US <= micros <= _MAX_US:
        return None
    return _EPOCH + timedelta(microseconds=micros)


@given(st.lists(st.one_of(
    st.integers(_MIN_US, _MAX_US),
    st.integers(-(2**63), 2**63 - 1),
    st.sampled_from([_MIN_US, _MAX_US, _MIN_US - 1, _MAX_US + 1, 0, -1, 1, -(2**63), 2**63 - 1]),
), max_size=50))
def test_utc_datetimes_are_the_epoch_plus_the_microseconds(values: list[int]) -> None:
    """The groups' times become aware UTC datetimes in C: the epoch plus the microseconds,
    None outside datetime's range (the sentinels of groups without a time)."""
    compiled = pytest.importorskip("pullpath.core._archivescan")
    got = compiled.utc_datetimes(array("q", values).tobytes())
    assert got == [_reference_datetime(v) for v in values]
    assert all(t is None or t.tzinfo is UTC for t in got)


def test_resolve_known_makes_the_groups_whose_parts_are_all_known() -> None:
    """``resolve_known`` makes exactly the groups the Python loop would make with the memos
    (template with caller and identity replaced), leaves the rest to it in order, and skips
    groups another scanner's news resolved already."""
    from pullpath.core._archivescan import resolve_known
    from pullpath.core.groups import GroupKey
    from pullpath.core.records import RecordError

    template = GroupKey("r.azurecr.io", "/sub/r", "ContainerRegistryRepositoryEvents", "Pull",
                        "app", "v1", "first-caller", "first-identity", "200", "")
    error = RecordError("not-a-registry-event", "x")
    done = template._replace(caller_ip="done")
    keys: list[object] = [None, None, None, None, done, error, None]
    templates: list[object] = [template, None, error]
    callers = {"1.2.3.4:5": "1.2.3.4", None: ""}
    identities = {"id": "id", None: ""}

    def item(gid: int, tid: int, identity: str | None,
             caller: str | None) -> tuple[object, ...]:
        return (gid, tid, gid * 10, 0, 5, identity, caller, 0, "200")

    news = [
        item(0, 0, "id", "1.2.3.4:5"),    # all known: made in C
        item(1, 0, "id", "9.9.9.9"),      # caller not in the memo
        item(2, 1, "id", "1.2.3.4:5"),    # template not resolved
        item(3, 0, None, None),           # absent caller and identity, both memoised
        item(4, 0, "id", "1.2.3.4:5"),    # resolved by another scanner
        item(5, 0, "id", "1.2.3.4:5"),    # its group is an error
        item(6, 2, "id", "1.2.3.4:5"),    # its template is an error
    ]
    fresh: list[object] = []
    rest = resolve_known(news, keys, templates, callers, identities, GroupKey, fresh)
    assert rest == [news[1], news[2], news[5], news[6]]
    made = [template._replace(caller_ip="1.2.3.4", identity="id"),
            template._replace(caller_ip="", identity="")]
    assert fresh == made
    assert all(type(k) is GroupKey for k in fresh)
    assert keys == [made[0], None, None, made[1], done, error, None]
    assert keys[0] is fresh[0]
    with pytest.raises(IndexError):
        resolve_known([item(9, 0, "id", "x")], keys, templates, callers, identities, GroupKey, [])
    with pytest.raises(TypeError):
        resolve_known([(0, 0)], keys, templates, callers, identities, GroupKey, [])


def test_templates_differing_only_in_their_description_share_a_family(tmp_path: Path) -> None:
    """Templates equal but for resultDescription (a registry's denials, each naming its
    caller) share a family id; another resultType, category or an absent description makes
    another family. The Python side derives the family's other templates from the first one
    parsed: every route still gives the reference route's groups."""
    descriptions = ["200", "404", FIREWALL, FIREWALL.replace("20.1.2.3", "20.9.9.9"), "",
                    "<nil>", " 403 ", "HttpStatusCode", "http 201", "500 Internal Server Error",
                    "Ünïcödé"]
    lines = [dump(_case_record(resultDescription=d)) for d in descriptions]
    other_type = dump(_case_record(resultType="Failed", resultDescription="404"))
    other_category = dump(_case_record(category=LOGIN, resultDescription="404"))
    absent = dump([m for m in _case_record() if m[0] != b'"resultDescription"'])
    data = b"\n".join([*lines, other_type, other_category, absent, *lines]) + b"\n"
    scanner = archivescan.Scanner(1 << 20, 1 << 20, bytes(256), archivescan.Catalog())
    consumed, _groups, news, fallbacks, _host = scanner.scan(data)
    assert consumed == len(data)
    assert not fallbacks
    family = {line: fid for _g, _t, line, _s, _e, _i, _c, fid, _d in news}
    described = {line: text for _g, _t, line, _s, _e, _i, _c, _f, text in news}
    n = len(lines)
    assert len(news) == n + 3  # the repeated lines are no news
    assert len({family[i] for i in range(n)}) == 1
    assert len({family[i] for i in range(n + 3)}) == 4
    assert [described[i] for i in range(n)] == descriptions
    assert described[n + 2] is None
    (tmp_path / "PT1H.json").write_bytes(data)
    check_all_routes(tmp_path, python_too=False)


# ---- groups handed to Python once per catalog, not once per scanner

def _errors_and_groups() -> bytes:
    """Lines of three groups and of two keys whose resolution is an error, each twice."""
    lines = [*_distinct_callers(3), dump(_case_record(category="Other0")),
             dump(_case_record(category="Other1"))]
    return b"\n".join(lines + lines) + b"\n"


def _news_ids(news: list[tuple[object, ...]]) -> list[object]:
    return [item[0] for item in news]


def test_a_group_the_catalog_knows_resolved_is_no_news_to_another_scanner() -> None:
    """A scanner meeting a group that another scanner met is handed it as news until the
    catalog is told the group is resolved (``Catalog.resolved``); from then on a scanner
    meeting it counts it without news. Its lines get the same ids either way."""
    data = _errors_and_groups()
    catalog = archivescan.Catalog()

    def scan() -> tuple[bytes, list[tuple[object, ...]]]:
        consumed, groups, news, fallbacks, host = archivescan.Scanner(
            1 << 20, 1 << 20, bytes(256), catalog).scan(data)
        assert (consumed, fallbacks, host) == (len(data), [], -1)
        return groups, news

    first_groups, first_news = scan()
    assert _news_ids(first_news) == [0, 1, 2, 3, 4]
    second_groups, second_news = scan()  # met, not resolved yet: news again
    assert second_groups == first_groups
    assert _news_ids(second_news) == _news_ids(first_news)
    catalog.resolved(first_news[:2])
    third_groups, third_news = scan()
    assert third_groups == first_groups
    assert _news_ids(third_news) == [2, 3, 4]
    catalog.resolved(third_news)
    assert scan() == (first_groups, [])
    assert catalog.group_count == 5
    with pytest.raises(IndexError):
        catalog.resolved([(5, *first_news[0][1:])])
    with pytest.raises(IndexError):
        catalog.resolved([(-1, *first_news[0][1:])])
    with pytest.raises(TypeError):
        catalog.resolved(tuple(first_news))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        catalog.resolved([()])


def test_keys_that_differ_in_one_byte_or_one_boundary_are_other_groups() -> None:
    """Group keys are hashed over lanes of 32 bytes and a last partial word read overlapping
    the key's end, and compared whole: records that differ only in the last byte of a value,
    or only in where the bytes of two adjacent values are cut, are groups of their own, at
    every key length modulo 32 and past the tables' growth (1,024 slots at first)."""
    records = []
    for n in range(70):  # every key length modulo 32, several times
        for last in "ab":
            records.append(_case_record(identity="i" * n + last))
    for i in range(1, 14):  # resultType | resultDescription cut elsewhere
        both = "HttpStatusCode200"
        records.append(_case_record(resultType=both[:i], resultDescription=both[i:]))
    records += [_case_record(callerIpAddress=f"20.1.{i // 250}.{i % 250 + 1}") for i in range(1500)]
    lines = [dump(r) for r in records]
    assert len(set(lines)) == len(lines)
    data = b"\n".join(lines) + b"\n"
    scanner = archivescan.Scanner(1 << 20, 1 << 20, bytes(256), archivescan.Catalog())
    consumed, first, news, fallbacks, host = scanner.scan(data)
    assert (consumed, fallbacks, host) == (len(data), [], -1)
    assert array("i", first).tolist() == list(range(len(lines)))  # each line a new group
    assert len(news) == scanner.group_count == len(lines)
    _, again, news, _, _ = scanner.scan(data)
    assert again == first
    assert news == []
    ids, counts, _, _ = scanner.groups()
    assert array("q", ids).tolist() == list(range(len(lines)))
    assert set(array("q", counts).tolist()) == {2}


def test_news_met_by_two_scanners_are_resolved_before_either_counts_them() -> None:
    """Two scanners meet the same groups before either's news is resolved: both are handed
    them; resolving the second's resolves every group it counted (errors among ``skips``),
    resolving the first's then passes by them (each group once among the new groups), and a
    third scanner gets no news at all."""
    data = _errors_and_groups()
    shared = logs_fast.Resolutions()

    def scanner() -> archivescan.Scanner:
        return archivescan.Scanner(1 << 20, 1 << 20, bytes(256), shared.catalog)

    _consumed, first_groups, first_news, _f, _h = scanner().scan(data)
    _consumed, second_groups, second_news, _f, _h = scanner().scan(data)
    assert _news_ids(second_news) == _news_ids(first_news)
    shared.resolve(memoryview(data), second_news)
    counted = set(memoryview(second_groups).cast("i"))
    assert all(shared.keys[gid] is not None for gid in counted)
    errors = [gid for gid in counted if isinstance(shared.keys[gid], records.RecordError)]
    assert len(errors) == 2
    assert [gid for gid in sorted(counted) if shared.skips.take(gid + 2, mode="clip")] == errors
    keys = list(shared.keys)
    shared.resolve(memoryview(data), first_news)
    assert shared.keys == keys
    assert len(shared.new_groups()) == 3  # the three groups, once
    _consumed, third_groups, third_news, _f, _h = scanner().scan(data)
    assert third_groups == first_groups == second_groups
    assert third_news == []


def test_scanners_sharing_resolutions_count_error_groups_as_skips(tmp_path: Path) -> None:
    """Two fast scanners sharing one ``Resolutions`` (as the worker threads do) read a file
    one after the other: the second is handed nothing to resolve, and both count the lines
    of the error groups as skips, line by line as the reference reader does."""
    from pullpath.adapters.logs_files import scan_file
    from pullpath.core.groups import Aggregator
    from pullpath.domain.events import ReadStats

    path = tmp_path / "PT1H.json"
    path.write_bytes(_errors_and_groups())
    reference, reference_stats = targets.reference_route([tmp_path])
    shared = logs_fast.Resolutions()
    handed: list[int] = []
    resolve = shared.resolve

    def counting(data: memoryview, news: list[tuple[object, ...]]) -> None:
        handed.append(len(news))
        resolve(data, news)

    total = Aggregator()
    for expect_news in (5, 0):
        handed.clear()
        scanner = logs_fast.FastScanner(shared=shared)
        stats = ReadStats()
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(shared, "resolve", counting)
            scan_file(path, stats, scanner)
        assert sum(handed) == expect_news
        assert stats.events_skipped == 4
        assert targets.accounting(stats) == targets.accounting(reference_stats)
        total.merge(scanner.finish())
    shared.add_to(total)
    want = {key: (2 * count, first, last)
            for key, (count, first, last) in targets.snapshot(reference).items()}
    assert targets.snapshot(total) == want


def test_caller_keys_canonical_is_flow_address_or_the_value() -> None:
    """``CallerKeys.canonical`` (with its shortcuts: a dotted quad is itself, ``a.b.c.d:port``
    of a surely routable address is the address) keys every caller as its definition says:
    ``flow_address(value)``, or the value as logged when a flow shows it so; the callers of
    the compiled scanner's tests, odd ports, and every first octet."""
    from pullpath.core.groups import CallerKeys
    from pullpath.core.ipaddr import flow_address
    from pullpath.core.records import clean

    callers = [*CALLERS, "20.50.2.3:65535", "20.50.2.3:99999", "20.50.2.3:000001",
               "1.2.3.4:0", "1.2.3.4:+1", "1.2.3.4:١", "1.2.3.04:1",
               *(f"{octet}.1.2.3:{port}" for octet in range(256) for port in (1, 65535))]
    keys = CallerKeys()
    for caller in callers:
        text = clean(caller)
        assert keys.canonical(text) == (flow_address(text) or text), caller
