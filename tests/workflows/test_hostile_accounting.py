"""Nothing lost (issue #8, items 4 and 5): for any input, events read + events skipped =
records seen, per file and per reason, in every output format; ``--strict`` turns any skip
into exit code 2 with the first locations.

Inputs are constructed by the test: N records (with hostile text in the fields a caller
chooses) and K damaged entries of known reasons, in every file shape, spread over files. The
test counts them itself; pullpath's numbers must match, in JSON, CSV, the terminal table,
Markdown and HTML.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from pullpath.domain.report import AuditReport
from pullpath.formatters.html import audit_html
from pullpath.formatters.markdown import audit_markdown
from pullpath.formatters.simple import audit_csv, audit_json
from pullpath.formatters.table import render_audit
from pullpath.workflows.audit import run_audit
from tests.support.hostile import (
    ITEM_DAMAGE,
    LINE_DAMAGE,
    SHAPES,
    Built,
    build,
    hostile_records,
    real_record,
)

DAMAGE_BY_SHAPE = {
    "jsonlines": sorted(LINE_DAMAGE),
    "wrapper": sorted(ITEM_DAMAGE),
    "la-array": sorted(ITEM_DAMAGE),
    "la-tables": ["malformed-row"],
    "la-csv": ["malformed-row"],
}


@st.composite
def log_files(draw: st.DrawFn) -> list[tuple[str, list[dict[str, Any] | str]]]:
    files = []
    n = 0
    for _ in range(draw(st.integers(1, 3))):
        shape = draw(st.sampled_from(SHAPES))
        items: list[dict[str, Any] | str] = []
        for _ in range(draw(st.integers(0, 6))):
            if draw(st.integers(0, 3)) == 0:
                items.append(draw(st.sampled_from(DAMAGE_BY_SHAPE[shape])))
            else:
                n += 1
                items.append(draw(hostile_records(n)))
        files.append((shape, items))
    return files


def write(tmp_path: Path, files: list[tuple[str, list[dict[str, Any] | str]]]
          ) -> dict[str, Built]:
    out = {}
    for i, (shape, items) in enumerate(files):
        built = build(shape, items)
        path = tmp_path / f"f{i}-{shape}.{'csv' if shape == 'la-csv' else 'json'}"
        path.write_bytes(built.data)
        out[str(path)] = built
    return out


def table(report: AuditReport) -> str:
    buffer = io.StringIO()
    render_audit(report, Console(file=buffer, width=400, color_system=None))
    return buffer.getvalue()


def check_every_format(report: AuditReport, expected: dict[str, Built]) -> None:
    """The expected counts, per file and per reason, in JSON, CSV, table, Markdown, HTML."""
    good = sum(b.good for b in expected.values())
    reasons: Counter[str] = Counter()
    for b in expected.values():
        reasons.update(b.skipped)
    skipped = sum(reasons.values())
    files = list(expected)  # an empty file is listed too (with 0 records)

    doc = json.loads(audit_json(report))
    inp = doc["input"]
    assert inp["events_read"] == good
    assert inp["events_skipped"] == skipped
    assert inp["records_seen"] == good + skipped
    assert inp["skipped"] == dict(reasons)
    per_file = {f["file"]: f for f in inp["per_file"]}
    for name in files:
        b = expected[name]
        assert per_file[name]["events_read"] == b.good, name
        assert per_file[name]["events_skipped"] == sum(b.skipped.values()), name
        assert per_file[name]["records"] == b.good + sum(b.skipped.values()), name

    rows = list(csv.reader(io.StringIO(audit_csv(report), newline="")))
    summary = rows[-1]
    assert summary[0] == "#summary"
    assert f"events_read={good}" in summary
    assert f"events_skipped={skipped}" in summary
    assert f"records_seen={good + skipped}" in summary
    assert "skipped=" + ";".join(f"{k}:{v}" for k, v in sorted(reasons.items())) in summary
    csv_files = {r[1].removeprefix("file="): r for r in rows if r[0] == "#file"}
    for name in files:
        b = expected[name]
        assert f"records={b.good + sum(b.skipped.values())}" in csv_files[name]
        assert f"events_read={b.good}" in csv_files[name]
        assert f"events_skipped={sum(b.skipped.values())}" in csv_files[name]

    text = table(report)
    assert f"Read {good} events from {len(files)} file(s)" in text
    if skipped:
        assert f"skipped {skipped} of {good + skipped} records" in text
        for reason, n in reasons.items():
            assert f"{reason} {n}" in text
        for name in files:
            b = expected[name]
            if b.skipped:
                line = (f"{name}: {b.good + sum(b.skipped.values())} records, {b.good} read, "
                        f"{sum(b.skipped.values())} skipped")
                assert line in text

    md = audit_markdown(report)
    assert f"{good:,} read, {skipped:,} skipped, of {good + skipped:,} records" in md
    for reason, n in reasons.items():
        assert f"{reason} {n:,}" in md
    for name in files:
        b = expected[name]
        assert re.search(re.escape(name) + r"` \| " + f"{b.good + sum(b.skipped.values()):,}"
                         + r" \| " + f"{b.good:,}" + r" \| "
                         + f"{sum(b.skipped.values()):,}", md), name

    page = audit_html(report)
    assert f"{good:,} read, {skipped:,} skipped, of {good + skipped:,} records" in page
    for reason, n in reasons.items():
        assert f"{reason}: {n:,}" in page
    for name in files:
        b = expected[name]
        assert (f'<td class="num">{b.good + sum(b.skipped.values())}</td>'
                f'<td class="num">{b.good}</td>'
                f'<td class="num">{sum(b.skipped.values())}</td>') in page


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(log_files())
def test_read_plus_skipped_is_records_seen_in_every_format(
    tmp_path_factory: pytest.TempPathFactory,
    files: list[tuple[str, list[dict[str, Any] | str]]],
) -> None:
    tmp_path = tmp_path_factory.mktemp("acct")
    expected = write(tmp_path, files)
    report = run_audit([tmp_path], workers=1)
    check_every_format(report, expected)


def test_mixed_shapes_in_one_directory(tmp_path: Path) -> None:
    """A fixed case of the property above, every shape and every damage at once."""
    from tests.support.hostile import record

    files: list[tuple[str, list[dict[str, Any] | str]]] = []
    n = 0
    for shape in SHAPES:
        items: list[dict[str, Any] | str] = []
        for reason in DAMAGE_BY_SHAPE[shape]:
            n += 1
            items += [record(n, repository=f"=cmd{n}"), reason]
        files.append((shape, items))
    expected = write(tmp_path, files)
    report = run_audit([tmp_path], workers=1)
    check_every_format(report, expected)


# --------------------------------------------------------------------------- --strict


def pullpath(*args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "pullpath", *args], capture_output=True,
                          text=True, timeout=300, check=False)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def test_strict_fails_on_any_skip_with_the_first_locations(tmp_path: Path) -> None:
    from tests.support.hostile import record

    items: list[dict[str, Any] | str] = [record(1), "invalid-json", record(2),
                                         "not-an-object", "missing-operation", record(3),
                                         "invalid-time", "not-a-registry-event",
                                         "invalid-json", record(4)]
    built = build("jsonlines", items)
    path = tmp_path / "PT1H.json"
    path.write_bytes(built.data)
    clean = tmp_path / "clean.json"
    clean.write_bytes(build("jsonlines", [record(5)]).data)

    ok = pullpath("audit", "--logs", str(clean), "--strict", "--format", "json")
    assert ok.returncode == 0

    lax = pullpath("audit", "--logs", str(path), "--format", "json")
    assert lax.returncode == 0
    strict = pullpath("audit", "--logs", str(path), "--strict", "--format", "json")
    assert strict.returncode == 2
    assert json.loads(strict.stdout)["input"]["events_skipped"] == 6  # report still written
    err = strict.stderr
    assert "--strict: 6 of 10 record(s) skipped" in err
    damaged_lines = [i + 1 for i, item in enumerate(items) if isinstance(item, str)]
    shown = [line for line in err.splitlines() if line.startswith(f"  {path}:")]
    assert len(shown) == 5  # the first few
    for line, number in zip(shown, damaged_lines, strict=False):
        reason = items[number - 1]
        assert isinstance(reason, str)
        assert line.startswith(f"  {path}:{number}: {reason}"), line
    assert "... and 1 more" in err

    # --strict decides before --fail-on: damaged logs are exit 2 even when a path matches
    both = pullpath("audit", "--logs", str(path), "--strict", "--fail-on", "unknown")
    assert both.returncode == 2
    only_fail_on = pullpath("audit", "--logs", str(clean), "--strict", "--fail-on", "unknown")
    assert only_fail_on.returncode == 1


def test_strict_counts_a_file_that_is_not_readable(tmp_path: Path) -> None:
    (tmp_path / "PT1H.json").write_bytes(b"\x00\x01\x02 binary")
    proc = pullpath("audit", "--logs", str(tmp_path), "--strict")
    assert proc.returncode == 2
    assert f"{tmp_path / 'PT1H.json'}: not-text" in proc.stderr


def test_distinct_groups_beyond_the_cap_are_counted_not_held(tmp_path: Path) -> None:
    """Millions of distinct callers: beyond PULLPATH_MAX_READ_GROUPS new groups are only
    counted (unclassified), so memory is bounded; nothing is lost from the accounting."""
    n, cap = 3_000, 500
    lines = []
    for i in range(n):
        rec = real_record()
        rec["callerIpAddress"] = f"198.51.{i // 250}.{i % 250}"
        rec["correlationId"] = f"c-{i}"
        lines.append(json.dumps(rec))
    log = tmp_path / "PT1H.json"
    log.write_text("\n".join(lines) + "\n")
    for workers in ("1", "2"):
        env = {**os.environ, "PULLPATH_MAX_READ_GROUPS": str(cap), "PULLPATH_WORKERS": workers}
        proc = subprocess.run([sys.executable, "-m", "pullpath", "audit", "--logs", str(log),
                               "-f", "json", "--strict"], capture_output=True, text=True,
                              env=env, timeout=300)
        assert "Traceback" not in proc.stderr
        assert proc.returncode == 2  # --strict: unclassified events
        doc = json.loads(proc.stdout)
        assert doc["input"]["events_read"] == n
        classified = sum(f["count"] for f in doc["flows"])
        assert doc["summary"]["unclassified_events"] > 0
        assert classified + doc["summary"]["unclassified_events"] == n
        assert len(doc["flows"]) <= cap * int(workers)
        assert any("PULLPATH_MAX_READ_GROUPS" in w for w in doc["warnings"])
