"""``--format markdown``: same numbers as the JSON, a Mermaid diagram, and nothing from the input
that can become markup, links or a broken table (checked by rendering with a CommonMark parser)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from pullpath.cli.app import app
from pullpath.cli.demo import demo_dir, run_demo_audit
from pullpath.formatters.audit_doc import audit_document
from pullpath.formatters.diagram import build_diagram, diagram_mermaid, mermaid_text
from pullpath.formatters.markdown import (
    audit_markdown,
    explain_markdown,
    md_code,
    md_text,
    report_markdown,
)
from tests.support.report_docs import LAB_DOC, expected_edges
from tests.support.report_scenarios import HOSTILE, big_scenario, hostile_log_lines

MD = MarkdownIt("commonmark").enable("table")


def render(markdown: str) -> str:
    html: str = MD.render(markdown)
    return html


def section_table(html: str, heading: str) -> list[list[str]]:
    """Cells (as HTML) of the first table after the ``<h2>`` starting with ``heading``."""
    start = html.index(f"<h2>{heading}")
    table = html[start:].split("<table>", 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    return [re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
            for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)]


MERMAID_LINE = re.compile(
    r'^\s*(flowchart LR'
    r'|subgraph n\d+\["[^"<>`|\n]*"\]'
    r'|end'
    r'|n\d+\["[^"<>`|\n]*"\]'
    r'|n\d+\(\["[^"<>`|\n]*"\]\)'
    r'|n\d+\[\("([^"<>`|\n]|<br/>)*"\)\]'
    r'|n\d+ (-->|-\.->)\|"[^"<>`|\n]*"\| n\d+'
    r'|linkStyle \d+ stroke:#[0-9a-f]{6},stroke-width:[\d.]+px(,stroke-dasharray:\d+ \d+)?)$')


def mermaid_of(markdown: str) -> str:
    m = re.search(r"^```mermaid\n(.*?)\n```$", markdown, flags=re.S | re.M)
    assert m, "no mermaid block"
    return m.group(1)


def check_mermaid(block: str) -> None:
    for line in block.splitlines():
        assert MERMAID_LINE.match(line), line


# ----------------------------------------------------------------------------- escaping
@pytest.mark.parametrize("text", HOSTILE)
def test_md_text_and_code_are_inert(text: str) -> None:
    html = render(f"| a | b |\n| --- | --- |\n| {md_text(text)} | {md_code(text)} |\n")
    assert "<script" not in html
    assert "<img" not in html
    assert "<svg" not in html
    assert "<a " not in html
    assert "<em>" not in html
    assert "<strong>" not in html
    cells = section_like_cells(html)
    assert len(cells) == 2, html


def section_like_cells(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1]
    return re.findall(r"<td>(.*?)</td>", body, flags=re.S)


def test_md_text_keeps_plain_text_readable() -> None:
    assert md_text("ACA ca-web") == "ACA ca-web"
    assert md_text("0.1.0") == "0.1.0"
    assert md_text("1. not a list") == "1\\. not a list"
    assert md_text("a\nb\r\nc") == "a b c"
    assert md_text("x | y") == "x \\| y"
    assert md_code("a`b") == "``a`b``"
    assert md_code("`") == "`` ` ``"
    assert md_code("") == "-"
    assert "http\\://" in md_text("see http://evil.example")


def test_mermaid_labels_cannot_break_out() -> None:
    for text in HOSTILE:
        label = mermaid_text(text, 200)
        assert not set(label) & set("{}()'*$&!?") - set("()")
        assert '"' not in label
        assert "<" not in label
        assert "`" not in label
        assert "\n" not in label
        assert "|" not in label
        assert "[" not in label


# ------------------------------------------------------------------------------ reports
def test_demo_markdown_matches_the_json() -> None:
    report = run_demo_audit()
    doc = audit_document(report)
    markdown = audit_markdown(report)
    assert markdown == audit_markdown(report)
    html = render(markdown)
    summary = section_table(html, "Summary by path")
    got = {re.sub(r"<.*?>", "", row[0]): int(row[2].replace(",", "")) for row in summary}
    assert got == doc["summary"]["by_path"]
    flows = section_table(html, "Flows")
    assert len(flows) == len(doc["flows"])
    assert all(len(row) == 11 for row in flows)
    block = mermaid_of(markdown)
    check_mermaid(block)
    assert "ACA ca-web" in block
    assert "Microsoft platform" in block
    assert "public network access Disabled" in block
    assert "changeNumber" in markdown
    assert "375" in markdown


def test_50_consumers_markdown() -> None:
    scenario = big_scenario()
    doc = audit_document(scenario.report)
    markdown = audit_markdown(scenario.report, network=scenario.network)
    html = render(markdown)
    assert len(section_table(html, "Flows")) == len(doc["flows"])
    assert "Disagreements with the knowledge base" in markdown
    block = mermaid_of(markdown)
    check_mermaid(block)
    diagram = build_diagram(doc, scenario.network)
    assert block == diagram_mermaid(diagram).rstrip("\n")
    edges, _, _ = expected_edges(doc)
    consumers = {f["consumer"]["id"] for f in doc["flows"] if f["consumer"]["id"]}
    assert len(re.findall(r'^\s+n\d+\["(ACI|ACA|AKS|APP) ', block, flags=re.M)) == len(consumers)
    assert block.count("subgraph") == len({n.id for n in diagram.groups})
    # one Mermaid link per diagram edge, plus one per (via node, registry, path)
    vias = {(e.via, e.registry, e.path) for e in diagram.edges if e.via}
    assert block.count("linkStyle") == sum(edges.values()) + len(vias)


def test_markdown_truncates_long_tables_and_says_so() -> None:
    doc = audit_document(big_scenario().report)
    markdown = report_markdown(doc, max_rows=10)
    assert len(section_table(render(markdown), "Flows")) == 10
    assert f"{len(doc['flows']) - 10:,} more flows not shown here" in markdown


def test_hostile_logs_markdown_via_cli(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "PT1H.json").write_text("\n".join(hostile_log_lines()) + "\n", encoding="utf-8")
    out = tmp_path / "r.md"
    res = CliRunner().invoke(app, ["audit", "--logs", str(logs), "--inventory",
                                   str(demo_dir() / "inventory"), "--format", "markdown",
                                   "--output", str(out)])
    assert res.exit_code == 0, res.output
    markdown = out.read_text(encoding="utf-8")
    html = render(markdown)
    for tag in ("<script", "<img", "<svg", "<iframe", '<a href="javascript'):
        assert tag not in html
    rows = section_table(html, "Flows")
    as_json = CliRunner().invoke(app, ["audit", "--logs", str(logs), "--inventory",
                                       str(demo_dir() / "inventory"), "--format", "json"])
    # one row per flow of the JSON contract (records that name the same registry merge)
    assert len(rows) == len(json.loads(as_json.stdout)["flows"])
    assert all(len(r) == 11 for r in rows)
    check_mermaid(mermaid_of(markdown))
    # the hostile text is there, as text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


FINDINGS_DOC: dict[str, Any] = {
    "schema": "pullpath.explain/v1",
    "pullpath_version": "0.1.0",
    "pairs": [{
        "consumer": {"id": "/s/x/containergroups/aci-1", "kind": "aci", "name": "aci-1"},
        "registry": {"id": None, "login_server": "r.azurecr.io", "name": "r"},
        "expected_path": "trusted-service", "rule": "KB-ACI-002", "confidence": "high",
        "reasons": ["because | of [this](javascript:x)"],
        "sources": [{"url": "javascript:alert(1)", "verified": "2024-11-25", "kind": "measured"},
                    {"url": "https://learn.microsoft.com/azure/x_(y)", "verified": "2025-02-01",
                     "kind": "documented"}],
        "missing": [],
    }],
    "findings": [{
        "id": "PP001", "severity": "high", "title": "Trusted services are off <b>",
        "resource_id": "/s/x/registries/r", "related": ["/s/x/containergroups/aci-1"],
        "detail": "ACI needs them\n# not a heading",
        "fix": {"cli": "az acr update --allow-trusted-services true\n```\nrm -rf /\n```",
                "bicep": "resource r 'x' = {}"},
        "docs": ["https://learn.microsoft.com/azure/container-registry/allow-access-trusted"],
        "policy": {"id": "d0793b48-0edc-4296-a390-4c75d1bdfd71", "name": "No unrestricted"},
    }],
    "notes": ["no role assignments in the inventory"],
}


def test_explain_markdown_with_findings() -> None:
    markdown = report_markdown(FINDINGS_DOC)
    html = render(markdown)
    assert "<h3>HIGH: <code>PP001</code> Trusted services are off &lt;b&gt;</h3>" in html
    # the fix stays one code block even with a fence inside
    blocks = re.findall(r"<pre><code class=\"language-bash\">(.*?)</code></pre>", html, re.S)
    assert len(blocks) == 1
    assert "rm -rf /" in blocks[0]
    assert 'href="javascript' not in html
    assert 'href="https://learn.microsoft.com/azure/x_(y)"' in html
    assert "<h1>" in html
    assert html.count("<h1>") == 1
    assert "No unrestricted (d0793b48-0edc-4296-a390-4c75d1bdfd71)" in html
    assert "Not checked: no role assignments" in markdown
    rows = section_table(html, "Consumer")
    assert len(rows) == 1
    assert len(rows[0]) == 7
    check_mermaid(mermaid_of(markdown))


def test_explain_markdown_from_the_real_explain() -> None:
    from pullpath.workflows.explain import run_explain

    report = run_explain([demo_dir() / "inventory"])
    markdown = explain_markdown(report)
    rows = section_table(render(markdown), "Consumer")
    assert len(rows) == len(report.pairs)
    block = mermaid_of(markdown)
    check_mermaid(block)
    assert "predicted trusted-service" in block


def test_lab_markdown() -> None:
    markdown = report_markdown(LAB_DOC)
    html = render(markdown)
    rows = section_table(html, "Prediction against observation")
    assert len(rows) == 2
    assert "≠ predicted private-endpoint" in rows[0][3]
    assert "CONTRADICTED knowledge entry KB-ACI-001" in markdown
    check_mermaid(mermaid_of(markdown))


def test_markdown_from_json_file_is_the_same(tmp_path: Path) -> None:
    """The renderers read the JSON contract: a saved ``--format json`` renders the same."""
    report = run_demo_audit()
    doc = json.loads(json.dumps(audit_document(report)))
    assert report_markdown(doc) == audit_markdown(report)
