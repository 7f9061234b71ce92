"""Outputs that cannot be turned against their reader (issue #8, item 3).

Repository names, tags, identities, user agents and login servers in registry logs are chosen
by whoever calls the registry. Records carrying attacks on each output format (terminal escape
sequences, rich markup, spreadsheet formulas, HTML/Markdown, JSON-breaking text, lone
surrogates, NUL, invalid UTF-8) go through the real audit route, then every format is checked:

- CSV: no cell starts with = + - @ tab or CR; the value is kept behind a leading apostrophe;
- terminal table: no escape or control sequence from the input (rich's own colours aside),
  no markup interpreted (the text shows literally), no OSC-8 hyperlink;
- JSON: parses with a strict parser (orjson) from bytes that are valid UTF-8, and carries the
  values (a lone surrogate as U+FFFD);
- HTML: every value escaped; Markdown: when ``formatters/markdown.py`` exists.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import markupsafe
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from pullpath.domain.report import AuditReport
from pullpath.formatters.common import csv_safe, term_safe
from pullpath.formatters.html import audit_html
from pullpath.formatters.markdown import audit_markdown
from pullpath.formatters.simple import audit_csv, audit_json
from pullpath.formatters.table import render_audit
from pullpath.workflows.audit import run_audit
from tests.support.hostile import (
    ALL_ATTACKS,
    CSV_ATTACKS,
    HOSTILE_FIELDS,
    MARKUP_ATTACKS,
    TERMINAL_ATTACKS,
    hostile_text,
    record,
)

CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
RICH_SGR = re.compile(r"\x1b\[[0-9;]*m")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def write_logs(tmp_path: Path, records: list[dict[str, Any]], raw: bytes = b"") -> Path:
    path = tmp_path / "PT1H.json"
    path.write_bytes(b"".join(json.dumps(r).encode() + b"\n" for r in records) + raw)
    return path


def audit_of(tmp_path: Path, records: list[dict[str, Any]], raw: bytes = b"") -> AuditReport:
    return run_audit([write_logs(tmp_path, records, raw)], workers=1)


def table_text(report: AuditReport, width: int = 220) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, color_system="truecolor", width=width)
    render_audit(report, console)
    return buffer.getvalue()


def plain_table(report: AuditReport) -> str:
    buffer = io.StringIO()
    render_audit(report, Console(file=buffer, width=400, color_system=None))
    return buffer.getvalue()


def attack_records() -> list[dict[str, Any]]:
    """One record per attack, in the repository, tag, identity and user agent at once."""
    return [record(i, repository=a, tag=a, identity=a, userAgent=a, loginServer=a)
            for i, a in enumerate(ALL_ATTACKS)]


@pytest.fixture(scope="module")
def attacked(tmp_path_factory: pytest.TempPathFactory) -> AuditReport:
    return audit_of(tmp_path_factory.mktemp("attacks"), attack_records())


# --------------------------------------------------------------------------- CSV


def test_csv_cells_never_start_a_formula(attacked: AuditReport) -> None:
    text = audit_csv(attacked)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header = rows[0]
    cells = [cell for row in rows for cell in row]
    assert not [c for c in cells if c.startswith(CSV_TRIGGERS)]
    repositories = {row[header.index("repository")] for row in rows[1:] if row[0] != "#file"
                    and not row[0].startswith("#")}
    for attack in CSV_ATTACKS:
        stripped = attack.strip()  # logged values are trimmed by the reader
        if stripped.startswith(CSV_TRIGGERS):
            assert "'" + stripped in repositories, attack
        else:
            assert stripped in repositories, attack


@pytest.mark.parametrize("value", [*CSV_ATTACKS, "=1", "+", "-", "@", "\t", "\r", "\n=1"])
def test_csv_safe_neutralises_every_trigger(value: str) -> None:
    safe = csv_safe(value)
    assert not safe.startswith(CSV_TRIGGERS)
    if value.startswith("\r"):  # a CR is shown as its escape, which starts no formula
        assert safe == "\\u000d" + value[1:]
    else:
        assert safe == "'" + value


def test_csv_leaves_ordinary_values_alone() -> None:
    for value in ("app/web", "v1.2.3", "4.189.68.203", "user@example.com", "1.0"):
        assert csv_safe(value) == value


# --------------------------------------------------------------------------- terminal


def test_table_carries_no_escape_or_control_sequence_from_input(attacked: AuditReport) -> None:
    text = table_text(attacked)
    bare = RICH_SGR.sub("", text)
    assert "\x1b" not in bare
    assert not CONTROL.search(bare)
    assert "\x07" not in text
    assert "\x08" not in text
    assert "\x9b" not in text
    assert "\u202e" not in text
    # no OSC-8 hyperlink, neither from the input (shown as the text "\u001b]8;;") nor markup
    assert "\x1b]8;;" not in text
    assert "evil.example" not in text or "[link=" in plain_table(attacked)


def test_table_shows_markup_literally(attacked: AuditReport) -> None:
    """Regression: cells were str, so rich read "[link=...]" in a repository name as markup
    (and ":warning:" as an emoji); logged values are Text now."""
    text = plain_table(attacked)
    assert "[link=http://evil.example/pp-markup]" in text.replace("\n", "").replace("│", "") \
        or "[link=http" in text
    assert "[bold red]" in text
    assert ":warning:" in text


def test_term_safe_strips_each_attack() -> None:
    for attack in TERMINAL_ATTACKS:
        safe = term_safe(attack, 500)
        assert "\x1b" not in safe
        assert not CONTROL.search(safe)
        assert "\n" not in safe
        assert "\u202e" not in safe


def test_strict_locations_on_stderr_are_terminal_safe(tmp_path: Path) -> None:
    """--strict prints locations and details: an invalid line's snippet (raw input) must
    not carry escape sequences to the terminal."""
    evil = b'{"repository": "\x1b]8;;http://evil.example\x07click\x1b]8;;\x07\x1b[2J' + b"\n"
    path = write_logs(tmp_path, [record(1)], raw=evil + b"not json at all \x1b[31m\n")
    proc = subprocess.run(
        [sys.executable, "-m", "pullpath", "audit", "--logs", str(path), "--strict"],
        capture_output=True, timeout=300, check=False,
    )
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert "Traceback" not in err
    assert "\x1b" not in err
    assert f"{path}:2: invalid-json" in err
    assert f"{path}:3: invalid-json" in err
    # the table on stdout is clean too
    assert "\x1b]" not in proc.stdout.decode()


def test_output_paths_are_named_literally_and_written_over_whole(tmp_path: Path) -> None:
    """An --output path with markup and emoji codes is written and named as it is (it once
    ended in a MarkupError traceback); a longer file there is replaced by the report, cut to
    its length, and a shorter one grows to it."""
    logs = write_logs(tmp_path, [record(1), record(2)])
    folder = tmp_path / "odd[" / "x]"  # "[/x]" closes no tag
    folder.mkdir(parents=True)
    out = folder / "r:smile:[bold].json"
    out.write_bytes(b"x" * 5_000_000)  # far longer than the report
    reports = []
    for fmt in ("json", "csv", "json"):
        proc = subprocess.run(
            [sys.executable, "-m", "pullpath", "audit", "--logs", str(logs), "--format", fmt,
             "--output", str(out)],
            capture_output=True, timeout=300, check=False, text=True,
        )
        assert proc.returncode == 0, proc.stderr
        assert "Traceback" not in proc.stderr
        assert f"wrote {out}" in proc.stderr
        reports.append(out.read_bytes())
    json_doc, csv_doc, again = reports
    assert orjson.loads(json_doc)["input"]["events_read"] == 2
    assert csv_doc.startswith(b"registry,")
    assert len(csv_doc) < len(json_doc)
    assert b'"schema"' not in csv_doc  # nothing of the longer JSON report left behind
    assert again == json_doc  # the shorter CSV grew back to the whole JSON report


# --------------------------------------------------------------------------- JSON


def test_json_is_strict_valid_utf8_and_keeps_the_values(attacked: AuditReport) -> None:
    data = audit_json(attacked).encode("utf-8")  # strict: a lone surrogate would raise
    doc = orjson.loads(data)
    repositories = {f["repository"] for f in doc["flows"]}
    for attack in ALL_ATTACKS:
        assert attack.strip() in repositories, attack


def test_json_survives_surrogates_nul_and_invalid_utf8(tmp_path: Path) -> None:
    """Lone surrogates come from "\\ud800" escapes in the input JSON, NUL from "\\u0000",
    invalid UTF-8 from raw bytes: all records are read, the output is strict JSON."""
    raw = (
        b'{"category":"ContainerRegistryRepositoryEvents","operationName":"Pull",'
        b'"callerIpAddress":"203.0.113.1","properties":{"repository":"a\\ud800b",'
        b'"tag":"\\udfff","userAgent":"x\\u0000y"}}\n'
        b'{"category":"ContainerRegistryRepositoryEvents","operationName":"Pull",'
        b'"callerIpAddress":"203.0.113.2","properties":{"repository":"c\xff\xfed",'
        b'"identity":"\xc3\x28"}}\n'
        b'{"category":"ContainerRegistryRepositoryEvents","operationName":"Pull",'
        b'"callerIpAddress":"203.0.113.3","properties":{"repository":"\\ud83d\\ude00 ok"}}\n'
    )
    report = audit_of(tmp_path, [], raw=raw)
    assert report.result.stats.events_read == 3
    for fmt in ("json", "csv", "table"):
        text = {"json": audit_json, "csv": audit_csv, "table": table_text}[fmt](report)
        text.encode("utf-8")
    doc = orjson.loads(audit_json(report).encode("utf-8"))
    repositories = {f["repository"] for f in doc["flows"]}
    assert repositories == {"a\ufffdb", "c\ufffd\ufffdd", "\U0001f600 ok"}
    assert {f["tag"] for f in doc["flows"]} >= {"\ufffd"}


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(st.dictionaries(st.sampled_from(HOSTILE_FIELDS), hostile_text, min_size=1),
                min_size=1, max_size=4))
def test_any_logged_text_gives_safe_outputs(tmp_path: Path,
                                            values: list[dict[str, str]]) -> None:
    records = [record(i, **v) for i, v in enumerate(values)]
    report = audit_of(tmp_path, records)
    assert report.result.stats.events_read == len(records)
    orjson.loads(audit_json(report).encode("utf-8"))
    for row in csv.reader(io.StringIO(audit_csv(report), newline="")):
        assert not [c for c in row if c.startswith(CSV_TRIGGERS)]
    bare = RICH_SGR.sub("", table_text(report))
    assert "\x1b" not in bare
    assert not CONTROL.search(bare)
    page = audit_html(report)
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    audit_markdown(report).encode("utf-8")


# --------------------------------------------------------------------------- HTML, Markdown


def test_html_escapes_everything_from_input(attacked: AuditReport) -> None:
    page = audit_html(attacked)
    page.encode("utf-8")
    assert "<script>alert('pp-xss')" not in page
    assert "<img src=x onerror" not in page
    assert "<!-- pp-comment" not in page
    assert 'href="javascript:' not in page
    assert "\x1b" not in page
    # the values are there, escaped
    assert str(markupsafe.escape("<script>alert('pp-xss')</script>")) in page
    assert "\\u001b]8;;http://evil.example/pp-osc\\u0007" in page  # ESC and BEL shown
    assert "&amp;lt;pp-entity&amp;gt;" in page  # an entity in the input stays text


def test_markdown_escapes_everything_from_input(attacked: AuditReport) -> None:
    """Rendered as CommonMark with GFM tables (markdown-it, rich's own Markdown parser), no
    value from the input becomes markup: no HTML tag, no link, no extra table cell."""
    markdown_it = pytest.importorskip("markdown_it")
    text = audit_markdown(attacked)
    text.encode("utf-8")
    assert "\x1b" not in text
    rendered = markdown_it.MarkdownIt("commonmark").enable("table").render(text)
    assert "<script>alert" not in rendered
    assert "<img src=x" not in rendered
    assert "<!-- pp-comment" not in rendered
    assert 'href="javascript:' not in rendered
    assert "evil.example" not in re.findall(r'href="([^"]*)"', rendered)
    for table in re.findall(r"<table>.*?</table>", rendered, flags=re.S):
        header = len(re.findall(r"<th[ >]", table))
        for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)[1:]:
            assert len(re.findall(r"<td[ >]", row)) == header
    # the values are there, as text
    shown = markupsafe.Markup(rendered).striptags()
    for attack in MARKUP_ATTACKS:
        assert attack.strip() in shown, attack
