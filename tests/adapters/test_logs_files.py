"""Log readers (adapters/logs_files.py): every input shape and real-world quirk of the audit
issue (#2, item 2), each with its counted outcome.

Records are built from the real archived record (tests/data/acr-logs/, see PROVENANCE.md) and
the demo's archive lines; expected values are read from those, never restated. Every test
checks both reading routes, which must agree on the accounting: ``read_events`` (one
``PullEvent`` per record) and ``scan_logs`` (what ``pullpath audit --logs`` runs).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
from collections import Counter
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from pullpath.adapters.logs_files import (
    MAX_LINE_BYTES,
    SNIFF_BYTES,
    LogInputError,
    read_events,
)
from pullpath.adapters.logs_scan import scan_logs
from pullpath.adapters.servicetags_files import load_service_tags
from pullpath.domain.events import PullEvent, ReadStats, Table
from pullpath.domain.inventory import Inventory
from pullpath.workflows.audit import audit_events
from tests.support import TESTS

REAL = TESTS / "data" / "acr-logs" / "repositoryevents_pull_404_record.json"
DEMO_LOGS = Path(str(resources.files("pullpath").joinpath("data", "demo", "logs")))


def real() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(REAL.read_text(encoding="utf-8"))
    return doc


def demo_records() -> list[dict[str, Any]]:
    out = []
    for path in sorted(DEMO_LOGS.rglob("PT1H.json")):
        out += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return out


def login_record() -> dict[str, Any]:
    return next(r for r in demo_records() if r["category"] == "ContainerRegistryLoginEvents")


def variant(n: int, **top: Any) -> dict[str, Any]:
    """The real record with a distinct correlation id (and top-level fields replaced)."""
    rec = real()
    rec["correlationId"] = f"00000000-0000-0000-0000-{n:012d}"
    rec.update(top)
    return rec


def lines(records: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


def read(*paths: Path) -> tuple[list[PullEvent], ReadStats]:
    """Events by the event route, after checking that the scan route accounts the same."""
    stats = ReadStats()
    events = list(read_events(list(paths), stats))
    scanned = ReadStats()
    aggregator = scan_logs(list(paths), scanned, workers=1)
    assert (scanned.records_seen, scanned.events_read, dict(scanned.skipped)) == (
        stats.records_seen, stats.events_read, dict(stats.skipped))
    assert scanned.per_file == stats.per_file
    assert aggregator.events == stats.events_read
    assert stats.records_seen == stats.events_read + stats.events_skipped
    assert len(events) == stats.events_read
    return events, stats


def skips(stats: ReadStats) -> list[tuple[int | None, str]]:
    return [(s.location.line, s.reason) for s in stats.examples]


# --------------------------------------------------------------------------- archive


def test_archive_json_lines(tmp_path: Path) -> None:
    records = [variant(i) for i in range(3)] + [login_record()]
    path = tmp_path / "PT1H.json"
    path.write_bytes(lines(records))
    events, stats = read(path)
    assert stats.events_read == 4
    assert stats.events_skipped == 0
    assert [e.table for e in events] == [Table.REPOSITORY] * 3 + [Table.LOGIN]
    assert [e.correlation_id for e in events] == [r["correlationId"] for r in records]
    assert stats.per_file[str(path)] == {"records": 4, "events_read": 4, "events_skipped": 0}


def test_demo_archive_directory_recursive(tmp_path: Path) -> None:
    expected = len(demo_records())
    events, stats = read(DEMO_LOGS)
    assert stats.events_read == expected
    assert len(stats.files) == len(list(DEMO_LOGS.rglob("PT1H.json")))
    assert {e.table for e in events} == {Table.REPOSITORY, Table.LOGIN}


def test_records_wrapper_small_and_larger_than_the_sniff_window(tmp_path: Path) -> None:
    """Regression: a document larger than 64 KiB was read only up to the sniff window and
    then refused as invalid JSON (every record of the file lost)."""
    small = tmp_path / "small.json"
    small.write_text(json.dumps({"records": [variant(i) for i in range(5)]}))
    count = SNIFF_BYTES // len(json.dumps(real())) * 3
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"records": [variant(i) for i in range(count)]}, indent=2))
    assert big.stat().st_size > 2 * SNIFF_BYTES
    _, stats = read(small)
    assert stats.events_read == 5
    events, stats = read(big)
    assert stats.events_read == count
    assert stats.events_skipped == 0
    assert events[-1].correlation_id == variant(count - 1)["correlationId"]


def test_records_wrapper_with_bad_entries_counts_each(tmp_path: Path) -> None:
    path = tmp_path / "wrapper.json"
    path.write_text(json.dumps({"records": [variant(1), 42, {"foo": "bar"}, variant(2)]}))
    _, stats = read(path)
    assert stats.events_read == 2
    assert skips(stats) == [(2, "not-an-object"), (3, "not-a-registry-event")]


# --------------------------------------------------------------------------- Log Analytics

LA_COLUMNS = ("TimeGenerated", "OperationName", "CallerIpAddress", "Identity", "Repository",
              "Tag", "Digest", "LoginServer", "UserAgent", "ResultType", "ResultDescription",
              "DurationMs", "CorrelationId", "_ResourceId", "Type")


def la_row(record: dict[str, Any]) -> dict[str, Any]:
    """A record as the Log Analytics table has it: PascalCase columns, no properties bag."""
    props = record.get("properties", {})
    flat = {**props, **{k: v for k, v in record.items() if k != "properties"}}
    source = {"TimeGenerated": "time", "OperationName": "operationName",
              "CallerIpAddress": "callerIpAddress", "Identity": "identity",
              "Repository": "repository", "Tag": "tag", "Digest": "digest",
              "LoginServer": "loginServer", "UserAgent": "userAgent",
              "ResultType": "resultType", "ResultDescription": "resultDescription",
              "DurationMs": "durationMs", "CorrelationId": "correlationId",
              "_ResourceId": "resourceId", "Type": "category"}
    return {col: flat.get(key, "") for col, key in source.items()}


def us_portal_time(iso: str) -> str:
    when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return when.strftime("%m/%d/%Y, %I:%M:%S.%f")[:-3] + when.strftime(" %p")


def test_log_analytics_csv_portal_export(tmp_path: Path) -> None:
    """Portal exports: "TimeGenerated [UTC]" header, US dates with AM/PM, quoted cells.
    Regression: the [UTC] header was not recognised (upper case), so every time was lost."""
    records = [variant(i) for i in range(3)] + [login_record()]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["TimeGenerated [UTC]", *LA_COLUMNS[1:]])
    for rec in records:
        row = la_row(rec)
        row["TimeGenerated"] = us_portal_time(row["TimeGenerated"])
        writer.writerow([row[c] for c in LA_COLUMNS])
    path = tmp_path / "export.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    events, stats = read(path)
    assert stats.events_read == 4
    assert stats.events_skipped == 0
    for event, rec in zip(events, records, strict=True):
        expected = datetime.fromisoformat(rec["time"].replace("Z", "+00:00"))
        assert event.time is not None
        # the portal shows milliseconds
        assert abs((event.time - expected).total_seconds()) < 0.001
    assert [e.table for e in events] == [Table.REPOSITORY] * 3 + [Table.LOGIN]


def test_log_analytics_csv_bad_rows_counted_rest_read(tmp_path: Path) -> None:
    rows = [la_row(variant(i)) for i in range(3)]
    text = ",".join(LA_COLUMNS) + "\r\n"
    text += ",".join(str(rows[0][c]) for c in LA_COLUMNS) + "\r\n"
    text += "only,three,cells\r\n"
    text += ",".join(str(rows[1][c]) for c in LA_COLUMNS) + "\r\n"
    text += "\r\n"  # blank lines are not records
    text += ",".join(str(rows[2][c]) for c in LA_COLUMNS) + "\r\n"
    path = tmp_path / "export.csv"
    path.write_bytes(codecs.BOM_UTF8 + text.encode())
    _, stats = read(path)
    assert stats.events_read == 3
    assert skips(stats) == [(3, "malformed-row")]


def test_log_analytics_json_array(tmp_path: Path) -> None:
    records = [variant(i) for i in range(4)] + [login_record()]
    path = tmp_path / "export.json"
    path.write_text(json.dumps([la_row(r) for r in records], indent=2))
    events, stats = read(path)
    assert stats.events_read == 5
    assert [e.correlation_id for e in events] == [r["correlationId"] for r in records]


def test_log_analytics_query_api_both_tables(tmp_path: Path) -> None:
    """The query API's {"tables": [{"columns", "rows"}]} shape, one table per log table, and
    a row whose length does not match the columns."""
    repo_rows = [la_row(variant(i)) for i in range(3)]
    login_rows = [la_row(login_record())]
    tables = []
    for name, rows in (("PrimaryResult", repo_rows), ("Logins", login_rows)):
        tables.append({"name": name,
                       "columns": [{"name": c, "type": "string"} for c in LA_COLUMNS],
                       "rows": [[r[c] for c in LA_COLUMNS] for r in rows]})
    tables[0]["rows"].append(["too", "short"])
    path = tmp_path / "query.json"
    path.write_text(json.dumps({"tables": tables}))
    events, stats = read(path)
    assert stats.events_read == 4
    assert Counter(e.table for e in events) == {Table.REPOSITORY: 3, Table.LOGIN: 1}
    assert skips(stats) == [(4, "malformed-row")]


# --------------------------------------------------------------------------- quirks


def test_nil_placeholders_string_duration_unknown_fields(tmp_path: Path) -> None:
    rec = variant(1, somethingNew={"deep": [1, {"x": None}]}, durationMs="12.5")
    rec["properties"]["digest"] = "<nil>"
    rec["properties"]["mediaType"] = "<nil>"
    rec["properties"]["unknownBag"] = ["a", "b"]
    path = tmp_path / "PT1H.json"
    path.write_bytes(lines([rec]))
    (event,), _ = read(path)
    assert event.digest == ""
    assert event.repository == real()["properties"]["repository"]


@pytest.mark.parametrize(
    ("logged", "kind", "ip"),
    [
        ("4.189.68.203:51544", None, "4.189.68.203"),  # a port: the address without it
        ("[2001:db8::5]:443", "internet", "2001:db8::5"),
        ("2001:db8::5", "internet", "2001:db8::5"),
        ("", "invalid", ""),
        ("<nil>", "invalid", ""),
        ("not an address", "invalid", ""),
        ("1.2.3.4:99999", "invalid", ""),
        ("999.1.1.1", "invalid", ""),
    ],
)
def test_caller_ip_quirks_have_a_defined_outcome(
    tmp_path: Path, logged: str, kind: str | None, ip: str
) -> None:
    path = tmp_path / "PT1H.json"
    path.write_bytes(lines([variant(1, callerIpAddress=logged)]))
    events, stats = read(path)
    assert stats.events_read == 1
    report = audit_events(events, stats, inventory=Inventory(), tags=load_service_tags(None))
    (flow,) = report.result.flows
    if kind is not None:
        assert flow.source.kind.value == kind
    assert flow.source.ip == ip


def test_bom_and_crlf(tmp_path: Path) -> None:
    records = [variant(i) for i in range(3)]
    path = tmp_path / "PT1H.json"
    path.write_bytes(codecs.BOM_UTF8 + lines(records).replace(b"\n", b"\r\n"))
    events, stats = read(path)
    assert stats.events_read == 3
    assert stats.events_skipped == 0
    assert events[0].correlation_id == records[0]["correlationId"]


def test_truncated_last_line(tmp_path: Path) -> None:
    data = lines([variant(i) for i in range(3)])
    path = tmp_path / "PT1H.json"
    path.write_bytes(data[:-60])  # cut inside the third record, no final newline
    _, stats = read(path)
    assert stats.events_read == 2
    assert skips(stats) == [(3, "truncated-line")]


def test_invalid_middle_line_rest_still_read(tmp_path: Path) -> None:
    records = [variant(i) for i in range(5)]
    data = lines(records[:2]) + b'{"time": "2025-01-30T14:19:15Z", "category": \n' + lines(
        records[2:])
    path = tmp_path / "PT1H.json"
    path.write_bytes(data)
    _, stats = read(path)
    assert stats.events_read == 5
    assert skips(stats) == [(3, "invalid-json")]


def test_damaged_first_lines_do_not_turn_the_file_into_one_bad_document(tmp_path: Path) -> None:
    records = [variant(i) for i in range(4)]
    data = b'{"time": "2025-01-30T14:19:1\n{broken\n' + lines(records)
    path = tmp_path / "PT1H.json"
    path.write_bytes(data)
    _, stats = read(path)
    assert stats.events_read == 4
    assert skips(stats) == [(1, "invalid-json"), (2, "invalid-json")]


def test_first_record_longer_than_the_sniff_window(tmp_path: Path) -> None:
    """Regression: a first line longer than 64 KiB made the whole JSON-lines file one
    invalid document (all records lost, one skip counted)."""
    first = variant(0)
    first["properties"]["userAgent"] = "A" * (2 * SNIFF_BYTES)
    path = tmp_path / "PT1H.json"
    path.write_bytes(lines([first, variant(1), variant(2)]))
    events, stats = read(path)
    assert stats.events_read == 3
    assert stats.events_skipped == 0
    assert events[0].user_agent.startswith("AAAA")


def test_over_long_line_is_skipped_and_the_rest_read(tmp_path: Path) -> None:
    path = tmp_path / "PT1H.json"
    with path.open("wb") as fh:
        fh.write(lines([variant(0)]))
        fh.write(b'{"x": "' + b"B" * (MAX_LINE_BYTES + 10) + b'"}\n')
        fh.write(lines([variant(1)]))
    _, stats = read(path)
    assert stats.events_read == 2
    assert skips(stats) == [(2, "line-too-long")]


def test_invalid_utf8_and_lone_surrogates_are_recovered(tmp_path: Path) -> None:
    """Regression: orjson refuses a line with an invalid UTF-8 byte or a "\\ud800" escape,
    which lost the whole record; the line is now decoded with the bad part replaced."""
    a = json.dumps(variant(0)).encode().replace(b"tipster-service", b"tipster-\xff\xfeservice")
    b = json.dumps(variant(1)).replace("tipster-service", "tipster-\\ud800service").encode()
    path = tmp_path / "PT1H.json"
    path.write_bytes(a + b"\n" + b + b"\n" + lines([variant(2)]))
    events, stats = read(path)
    assert stats.events_read == 3
    assert stats.events_skipped == 0
    assert events[0].repository == "tipster-\ufffd\ufffdservice"
    assert events[1].repository == "tipster-\ufffdservice"


def test_gzip_detected_by_content_not_name(tmp_path: Path) -> None:
    records = [variant(i) for i in range(3)]
    disguised = tmp_path / "PT1H.json"  # gzip content, plain name
    disguised.write_bytes(gzip.compress(lines(records)))
    plain = tmp_path / "other.json.gz"  # plain content, .gz name
    plain.write_bytes(lines([variant(i) for i in range(3, 6)]))  # not duplicates of the first
    _, stats = read(disguised, plain)
    assert stats.events_read == 6
    assert stats.events_skipped == 0


def test_corrupt_gzip_counted(tmp_path: Path) -> None:
    good = gzip.compress(lines([variant(i) for i in range(50)]))
    path = tmp_path / "PT1H.json.gz"
    path.write_bytes(good[: len(good) // 2])
    _, stats = read(path)
    assert stats.skipped["corrupt-compressed-file"] == 1


def test_recursive_directories_hidden_and_empty_files(tmp_path: Path) -> None:
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    (tmp_path / "a" / "PT1H.json").write_bytes(lines([variant(1)]))
    (deep / "PT1H.json").write_bytes(gzip.compress(lines([variant(2), variant(3)])))
    (deep / ".hidden.json").write_bytes(lines([variant(4)]))
    (deep / "empty.json").write_bytes(b"")
    _events, stats = read(tmp_path)
    assert stats.events_read == 3
    assert stats.ignored["hidden-file"] == 1
    assert stats.ignored["empty-file"] == 1
    assert [Path(f).name for f in stats.files] == ["PT1H.json", "PT1H.json", "empty.json"]


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(LogInputError):
        list(read_events([tmp_path / "nope"], ReadStats()))


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_and_without_bom(tmp_path: Path, codec: str) -> None:
    """PowerShell writes UTF-16 (with a BOM); without a BOM it is recognised by its NULs."""
    text = lines([variant(i) for i in range(3)]).decode()
    path = tmp_path / "PT1H.json"
    path.write_bytes(text.encode(codec))
    _, stats = read(path)
    assert stats.events_read == 3
    assert stats.events_skipped == 0


def test_binary_file_is_not_text(tmp_path: Path) -> None:
    path = tmp_path / "image.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 20)
    _, stats = read(path)
    assert skips(stats) == [(None, "not-text")]


def test_text_that_is_not_a_log(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello\nworld\n")
    _, stats = read(path)
    assert skips(stats) == [(1, "unrecognised-format")]
