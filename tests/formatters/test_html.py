"""The HTML report: structure, escaping and CSP without a browser, then in headless Chromium.

Browser tests (``-m browser``) open each report from a file in Debian's ``chromium`` through
Playwright (never a downloaded browser), check the diagram against the report's own JSON
document, use the table's sorting and filtering, listen for console errors, page errors, dialogs
and network requests, and save screenshots under ``tests/artifacts/``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
from collections import Counter
from collections.abc import Iterator, Mapping
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pullpath.cli.app import app
from pullpath.cli.demo import demo_dir, run_demo_audit
from pullpath.formatters.audit_doc import audit_document
from pullpath.formatters.diagram import MAX_PER_SUBNET, build_diagram
from pullpath.formatters.html import audit_html, explain_html, report_html
from tests.support import TESTS
from tests.support.report_docs import LAB_DOC, expected_edges
from tests.support.report_scenarios import HOSTILE, big_scenario, hostile_log_lines

ARTIFACTS = TESTS / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
PATHS = ("private-endpoint", "trusted-service", "firewall-rule", "public", "denied", "unknown")


def csp_hashes_match(html: str) -> None:
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
    assert csp, "no Content-Security-Policy meta"
    policy = unescape(csp.group(1))
    assert "default-src 'none'" in policy
    assert "unsafe-inline" not in policy
    assert "http" not in policy
    for tag, directive in (("style", "style-src"), ("script", "script-src")):
        bodies = re.findall(rf"<{tag}>(.*?)</{tag}>", html, flags=re.S)
        assert len(bodies) == 1, f"exactly one inline <{tag}>"
        digest = base64.b64encode(hashlib.sha256(bodies[0].encode()).digest()).decode()
        assert f"{directive} 'sha256-{digest}'" in policy


def self_contained(html: str) -> None:
    assert not re.search(r"<(script|img|iframe|link|object|embed)\b[^>]*\b(src|href)=", html,
                         flags=re.I)
    assert "@import" not in html
    assert "url(http" not in html
    # the only elements that may point outside are links to documentation
    for m in re.finditer(r'\b(?:src|href)="([^"]*)"', html):
        url = m.group(1)
        assert url.startswith(("#", "https://", "http://")), url


# --------------------------------------------------------------------- no browser needed
def test_demo_html_is_self_contained_with_a_strict_csp() -> None:
    report = run_demo_audit()
    html = audit_html(report)
    csp_hashes_match(html)
    self_contained(html)
    assert html == audit_html(report), "same input, same page"
    doc = audit_document(report)
    assert html.count('<tr data-index="') == len(doc["flows"])
    assert 'data-node-id="registry:contosoacr.azurecr.io"' in html
    # the registry's firewall state and private endpoint come from the inventory
    assert "public network access Disabled" in html
    assert "trusted services allowed (AzureServices)" in html
    assert "private endpoint pe-contosoacr" in html
    for label in ("Service tags", "changeNumber", "375", "2025-10-28", "Registry log events"):
        assert label in html


def test_report_without_inventory_says_what_is_missing() -> None:
    doc = audit_document(run_demo_audit())
    doc["inventory"]["files"] = []
    doc["network"] = None
    html = report_html(doc)
    assert "carries no inventory" in html
    assert "network configuration not in this report" in html


def test_hostile_text_is_escaped_without_a_browser() -> None:
    doc = audit_document(run_demo_audit())
    for f, text in zip(doc["flows"], HOSTILE, strict=False):
        f["repository"] = f["tag"] = f["identity"] = text
        f["reasons"] = [text]
    doc["findings"] = [{
        "id": "PP<1>", "severity": "high\"><script>", "title": HOSTILE[0],
        "resource_id": HOSTILE[1], "related": [HOSTILE[4]], "detail": HOSTILE[2],
        "fix": {"cli": "az acr update </pre><script>alert(1)</script>", "bicep": HOSTILE[3]},
        "docs": ["javascript:alert(1)", "https://learn.microsoft.com/ok\"onmouseover=x",
                 "https://learn.microsoft.com/azure/container-registry/"],
    }]
    html = report_html(doc)
    assert "<script>alert" not in html
    assert "<img" not in html
    assert "<svg onload" not in html
    assert 'href="javascript:' not in html
    assert "onmouseover=" not in html.replace(
        "onmouseover=x", "")
    assert 'href="https://learn.microsoft.com/azure/container-registry/"' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    csp_hashes_match(html)


def test_diagram_layout_does_not_overlap_with_50_consumers() -> None:
    scenario = big_scenario()
    doc = audit_document(scenario.report)
    d = build_diagram(doc, scenario.network)
    consumers = [n for n in d.nodes if n.kind == "consumer"]
    assert len(consumers) == scenario.consumers == 50
    boxes = list(d.nodes) + list(d.ports)
    for i, a in enumerate(boxes):
        assert a.x >= 0, a.id
        assert a.y >= 0, a.id
        assert a.x + a.w <= d.width, a.id
        assert a.y + a.h <= d.height, a.id
        for b in boxes[i + 1:]:
            if {a.kind, b.kind} == {"registry", "port"}:
                continue
            overlap = a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h
            assert not overlap, (a.id, b.id)
    edges, events, disagreeing = expected_edges(doc)
    assert d.edges_by_path() == dict(edges)
    assert sum(e.count for e in d.edges) == sum(events.values())
    assert sum(e.disagrees for e in d.edges) == disagreeing > 0
    # deterministic
    assert build_diagram(doc, scenario.network) == d


def test_diagram_with_one_consumer_is_small_and_complete() -> None:
    doc = audit_document(run_demo_audit())
    doc["flows"] = [f for f in doc["flows"]
                    if (f["consumer"]["id"] or "").endswith("/aci-orders")]
    d = build_diagram(doc)
    assert [n.id.rsplit("/", 1)[-1] for n in d.nodes if n.kind == "consumer"] == ["aci-orders"]
    assert d.edges_by_path() == {"trusted-service": 1}
    assert d.edges[0].via == "source:azure-platform"
    assert d.height < 400
    assert d.width < 1300


def test_crowded_subnet_folds_into_one_node_and_keeps_every_event() -> None:
    flows = []
    sid = "/subscriptions/s/resourcegroups/r/providers/microsoft.network/virtualnetworks/v/" \
          "subnets/crowded"
    for k in range(MAX_PER_SUBNET + 5):
        flows.append({
            "registry": "r.azurecr.io", "path": "private-endpoint", "count": k + 1,
            "consumer": {"kind": "aks", "id": f"/subscriptions/s/x/aks-{k:03d}", "candidates": []},
            "source": {"kind": "subnet", "subnet_id": sid, "ip": f"10.0.0.{k}"},
        })
    d = build_diagram({"schema": "pullpath.audit/v1", "flows": flows})
    nodes = [n for n in d.nodes if n.kind in ("consumer", "unattributed")]
    assert len(nodes) == MAX_PER_SUBNET
    assert sum(e.count for e in d.edges) == sum(int(str(f["count"])) for f in flows)
    assert any("folded" in note for note in d.notes)


def test_explain_and_lab_render() -> None:
    from pullpath.workflows.explain import run_explain

    report = run_explain([demo_dir() / "inventory"])
    html = explain_html(report)
    csp_hashes_match(html)
    assert 'data-schema="pullpath.explain/v1"' in html
    assert html.count('class="pp-edge ') == len(report.pairs)
    assert "KB-ACI" in html
    assert "Findings (" in html
    lab = report_html(LAB_DOC)
    csp_hashes_match(lab)
    assert "Prediction against observation (2)" in lab
    assert "≠ predicted private-endpoint" in lab
    assert 'data-edge-path="trusted-service"' in lab


# --------------------------------------------------------------------------- browser
def _chromium() -> str:
    path = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if path is None:
        why = "Debian chromium is not installed (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        why = "playwright (python) is not installed"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Opened:
    """A report open in a page, with everything the page said or asked for."""

    def __init__(self, browser: Any, path: Path, *, width: int = 1400) -> None:
        self.page = browser.new_page(viewport={"width": width, "height": 900})
        self.console: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        page = self.page
        page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("dialog", self._dialog)
        page.on("request", lambda r: self.requests.append(r.url))
        page.goto(path.resolve().as_uri())
        page.wait_for_selector("html[data-ready=true]")

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(str(dialog.message))
        dialog.dismiss()

    def clean(self) -> None:
        assert self.errors == [], self.errors
        assert [c for c in self.console if c.startswith(("error", "warning"))] == [], self.console
        assert self.dialogs == [], self.dialogs
        assert all(u.startswith(("file:", "data:")) for u in self.requests), self.requests

    def visible_rows(self, table: str = "#pp-flows") -> list[dict[str, str]]:
        rows: list[dict[str, str]] = self.page.eval_on_selector_all(
            f"{table} tbody tr",
            "rows => rows.filter(r => !r.hidden).map(r => ({path: r.dataset.path, "
            "consumer: r.dataset.consumer, registry: r.dataset.registry, "
            "count: r.dataset.count || ''}))")
        return rows

    def edges(self) -> list[dict[str, str]]:
        edges: list[dict[str, str]] = self.page.eval_on_selector_all(
            "svg.pp-diagram g.pp-edge",
            "es => es.map(e => ({path: e.dataset.edgePath, count: e.dataset.count, "
            "from: e.dataset.from, disagrees: e.dataset.disagrees}))")
        return edges

    def nodes(self, kind: str) -> list[str]:
        ids: list[str] = self.page.eval_on_selector_all(
            f'svg.pp-diagram [data-node-kind="{kind}"]', "ns => ns.map(n => n.dataset.nodeId)")
        return ids

    def shot(self, name: str, *, diagram: bool = False) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        out = ARTIFACTS / name
        if diagram:
            self.page.locator(".pp-figure").screenshot(path=str(out))
        else:
            self.page.screenshot(path=str(out), full_page=True)
        assert out.stat().st_size > 1000
        return out


def check_diagram_against(opened: Opened, doc: Mapping[str, Any]) -> None:
    edges, events, disagreeing = expected_edges(doc)
    drawn = opened.edges()
    assert Counter(e["path"] for e in drawn) == edges
    drawn_events: Counter[str] = Counter()
    for e in drawn:
        drawn_events[e["path"]] += int(e["count"])
    assert drawn_events == Counter({p: n for p, n in doc["summary"]["by_path"].items() if n})
    assert drawn_events == +events
    assert sum(e["disagrees"] == "true" for e in drawn) == disagreeing
    consumers = {"consumer:" + f["consumer"]["id"].lower() for f in doc["flows"]
                 if f["consumer"]["id"]}
    assert set(opened.nodes("consumer")) == consumers
    registries = {f["registry"] for f in doc["flows"]}
    assert {n.split(":", 1)[1] for n in opened.nodes("registry")} == registries
    sources = set(opened.nodes("source"))
    assert {"source:azure-platform", "source:internet"} <= sources
    # every edge starts at a drawn node
    ids = set(opened.page.eval_on_selector_all("svg.pp-diagram [data-node-id]",
                                               "ns => ns.map(n => n.dataset.nodeId)"))
    assert {e["from"] for e in drawn} <= ids
    # ... and ends inside a port of its own registry, whose path it is (private endpoint ports
    # admit private-endpoint edges; the other ports are named by path)
    misplaced = opened.page.eval_on_selector_all("svg.pp-diagram g.pp-edge", """es => es.filter(e => {
        const line = e.querySelector('.pp-edge-line');
        const end = line.getPointAtLength(line.getTotalLength());
        const port = [...document.querySelectorAll('g.pp-port')].find(p =>
            p.dataset.nodeId === e.dataset.port && p.dataset.registryNode === e.dataset.to);
        if (!port || port.dataset.portPath !== e.dataset.edgePath) return true;
        const b = port.querySelector('rect').getBBox();
        return !(Math.abs(end.x - b.x) < 1 && end.y >= b.y && end.y <= b.y + b.height);
    }).map(e => e.id)""")
    assert misplaced == []


def check_filter_and_sort(opened: Opened, doc: Mapping[str, Any]) -> None:
    page = opened.page
    flows = doc["flows"]
    assert len(opened.visible_rows()) == len(flows)
    for path in {f["path"] for f in flows}:
        page.select_option('.pp-controls[data-table="pp-flows"] select[data-filter="path"]', path)
        rows = opened.visible_rows()
        assert rows
        assert {r["path"] for r in rows} == {path}
        assert len(rows) == sum(1 for f in flows if f["path"] == path)
    page.click('.pp-controls[data-table="pp-flows"] [data-reset]')
    assert len(opened.visible_rows()) == len(flows)
    # sort by events: ascending, then descending
    page.click('#pp-flows th[data-key="count"] button')
    counts = [int(r["count"]) for r in opened.visible_rows()]
    assert counts == sorted(counts)
    assert page.get_attribute('#pp-flows th[data-key="count"]', "aria-sort") == "ascending"
    page.click('#pp-flows th[data-key="count"] button')
    counts = [int(r["count"]) for r in opened.visible_rows()]
    assert counts == sorted(counts, reverse=True)
    # sort by consumer (text)
    page.click('#pp-flows th[data-key="consumer"] button')
    names = [r["consumer"].lower() for r in opened.visible_rows()]
    assert names == sorted(names, key=lambda s: [int(t) if t.isdigit() else t
                                                 for t in re.split(r"(\d+)", s)])


@pytest.mark.browser
def test_demo_report_in_chromium(browser: Any, tmp_path: Path) -> None:
    out = tmp_path / "demo.html"
    result = CliRunner().invoke(app, ["demo", "--html", str(out)])
    assert result.exit_code == 0, result.output
    assert str(out.resolve()) in result.output.replace("\n", "")
    doc = audit_document(run_demo_audit())
    opened = Opened(browser, out)
    try:
        check_diagram_against(opened, doc)
        # the design's story: ACI through Microsoft's platform by the bypass, ACA through the PE
        edges = {(e["from"].rsplit("/", 1)[-1], e["path"]) for e in opened.edges()}
        assert ("aci-orders", "trusted-service") in edges
        assert ("ca-web", "private-endpoint") in edges
        via = opened.page.get_attribute('g.pp-edge[data-edge-path="trusted-service"]', "data-via")
        assert via == "source:azure-platform"
        assert opened.nodes("port")  # private endpoint, bypass, refusals
        opened.shot("demo-diagram.png", diagram=True)
        check_filter_and_sort(opened, doc)
        # a click on a line filters the table to that consumer and path
        opened.page.locator('g.pp-edge[data-edge-path="private-endpoint"]').dispatch_event(
            "click")
        rows = opened.visible_rows()
        assert rows
        assert {(r["path"], r["consumer"]) for r in rows} == {
            ("private-endpoint", "ACA ca-web")}
        opened.page.click('.pp-controls[data-table="pp-flows"] [data-reset]')
        opened.shot("demo-report.png")
        # print: controls hidden, every row shown, a PDF comes out
        opened.page.emulate_media(media="print")
        assert opened.page.eval_on_selector(
            'select[data-filter="path"]', "e => getComputedStyle(e).display") == "none"
        opened.shot("demo-print.png")
        pdf = opened.page.pdf(format="A4", landscape=True, print_background=True)
        assert pdf.startswith(b"%PDF")
        assert len(pdf) > 10_000
        (ARTIFACTS / "demo-report.pdf").write_bytes(pdf)
        opened.clean()
    finally:
        opened.page.close()


@pytest.mark.browser
def test_50_consumers_in_chromium(browser: Any, tmp_path: Path) -> None:
    scenario = big_scenario()
    doc = audit_document(scenario.report)
    out = tmp_path / "big.html"
    out.write_text(audit_html(scenario.report, network=scenario.network), encoding="utf-8")
    opened = Opened(browser, out)
    try:
        check_diagram_against(opened, doc)
        assert len(opened.nodes("consumer")) == 50
        # consumers are grouped by their subnets (from the inventory) and those by VNet
        placed = {sid for c in scenario.network["consumers"] for sid in c["subnet_ids"]}
        placed |= {f["source"]["subnet_id"] for f in doc["flows"]
                   if not f["consumer"]["id"] and f["source"]["kind"] == "subnet"}
        assert set(opened.nodes("subnet")) == {"subnet:" + s for s in placed}
        assert set(opened.nodes("vnet")) == {"vnet:" + s.split("/subnets/")[0] for s in placed}
        parents = opened.page.eval_on_selector_all(
            'g.pp-node-consumer', "ns => ns.map(n => n.dataset.nodeId)")
        assert len(parents) == 50
        assert len(opened.nodes("unattributed")) == 1
        assert set(opened.nodes("source")) >= {"source:customer-public-ip"}
        assert {e["path"] for e in opened.edges()} == set(PATHS)
        disagreeing = opened.page.locator('g.pp-edge[data-disagrees="true"]')
        assert disagreeing.count() > 0
        label_ids = opened.page.eval_on_selector_all(
            "text.pp-elabel", "ts => ts.filter(t => t.textContent.includes('≠ expected'))"
            ".map(t => t.dataset.edge)")
        assert len(label_ids) == disagreeing.count()
        # legible: drawn at (nearly) natural size, and no two edge labels or nodes collide
        scale = opened.page.eval_on_selector(
            "svg.pp-diagram", "s => s.getBoundingClientRect().width / s.viewBox.baseVal.width")
        assert scale > 0.9
        boxes = opened.page.eval_on_selector_all(
            "text.pp-elabel, svg.pp-diagram g.pp-node rect.pp-box",
            "es => es.map(e => { const b = e.getBBox(); return [b.x, b.y, b.width, b.height]; })")
        for i, (ax, ay, aw, ah) in enumerate(boxes):
            for bx, by, bw, bh in boxes[i + 1:]:
                assert not (ax < bx + bw - 1 and bx < ax + aw - 1 and ay < by + bh - 1
                            and by < ay + ah - 1), ((ax, ay, aw, ah), (bx, by, bw, bh))
        opened.shot("big-diagram.png", diagram=True)
        check_filter_and_sort(opened, doc)
        # filter by consumer and registry, and by text
        page = opened.page
        page.select_option('.pp-controls[data-table="pp-flows"] select[data-filter="consumer"]',
                           "AKS aks-dev-00")
        rows = opened.visible_rows()
        assert {r["path"] for r in rows} == {"firewall-rule", "unknown"}
        page.select_option('.pp-controls[data-table="pp-flows"] select[data-filter="registry"]',
                           "ghostacr.azurecr.io")
        rows = opened.visible_rows()
        assert {r["path"] for r in rows} == {"unknown"}
        assert len(rows) == sum(1 for f in doc["flows"] if f["registry"] == "ghostacr.azurecr.io"
                                and (f["consumer"]["id"] or "").endswith("/aks-dev-00"))
        page.click('.pp-controls[data-table="pp-flows"] [data-reset]')
        page.fill('.pp-controls[data-table="pp-flows"] input[data-filter="text"]', "203.0.113.")
        rows = opened.visible_rows()
        assert len(rows) == sum(1 for f in doc["flows"] if f["caller_ip"].startswith("203.0.113."))
        assert {r["path"] for r in rows} == {"denied"}
        page.click('.pp-controls[data-table="pp-flows"] [data-reset]')
        # the whole page, with the table filtered to the disagreeing path (keeps it short)
        page.select_option('.pp-controls[data-table="pp-flows"] select[data-filter="path"]',
                           "trusted-service")
        opened.shot("big-report-trusted-service.png")
        opened.clean()
    finally:
        opened.page.close()


@pytest.mark.browser
def test_hostile_logs_do_not_run_or_break_the_page(browser: Any, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "PT1H.json").write_text("\n".join(hostile_log_lines()) + "\n", encoding="utf-8")
    inventory = str(demo_dir() / "inventory")
    runner = CliRunner()
    out = tmp_path / "hostile.html"
    res = runner.invoke(app, ["audit", "--logs", str(logs), "--inventory", inventory,
                              "--format", "html", "--output", str(out)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["audit", "--logs", str(logs), "--inventory", inventory,
                              "--format", "json", "--output", str(tmp_path / "h.json")])
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "h.json").read_text(encoding="utf-8"))
    # every hostile record is an event of some flow (records naming the same registry merge)
    assert sum(f["count"] for f in doc["flows"]) == len(hostile_log_lines())
    html = out.read_text(encoding="utf-8")
    csp_hashes_match(html)
    opened = Opened(browser, out)
    try:
        page = opened.page
        assert page.locator("#pp-flows tbody tr").count() == len(doc["flows"])
        assert len(opened.visible_rows()) == len(doc["flows"])
        assert page.locator("script").count() == 1  # ours
        assert page.locator("img, iframe, object, embed, [onerror], [onload]").count() == 0
        assert page.locator("svg").count() == 1
        cells = page.eval_on_selector_all("#pp-flows tbody td", "ts => ts.map(t => t.textContent)")
        for text in HOSTILE:
            assert any(" ".join(text.split()) in " ".join(c.split()) for c in cells), text
        check_diagram_against(opened, doc)
        needle = "<script>alert(1)</script>"
        page.fill('.pp-controls[data-table="pp-flows"] input[data-filter="text"]', needle)
        assert len(opened.visible_rows()) == sum(
            1 for f in doc["flows"] if needle in f["identity"] + f["repository"] + f["tag"]) > 0
        page.click('.pp-controls[data-table="pp-flows"] [data-reset]')
        # hover and click every edge: tooltips and filters with hostile text stay inert
        for k in range(page.locator("g.pp-edge").count()):
            page.locator("g.pp-edge").nth(k).hover(force=True)
            page.locator("g.pp-edge").nth(k).dispatch_event("click")
            assert len(opened.visible_rows()) >= 1
        opened.shot("hostile-report.png")
        opened.clean()
    finally:
        page.close()

    # the Markdown of the same logs, rendered as GitHub would (CommonMark + tables), is inert
    from markdown_it import MarkdownIt

    res = runner.invoke(app, ["audit", "--logs", str(logs), "--inventory", inventory,
                              "--format", "markdown", "--output", str(tmp_path / "h.md")])
    assert res.exit_code == 0, res.output
    rendered = MarkdownIt("commonmark").enable("table").render(
        (tmp_path / "h.md").read_text(encoding="utf-8"))
    md_html = tmp_path / "markdown.html"
    md_html.write_text(f"<!DOCTYPE html><meta charset=utf-8><body>{rendered}"
                       "<script>document.documentElement.dataset.ready='true'</script>",
                       encoding="utf-8")
    opened = Opened(browser, md_html)
    try:
        flows_table = opened.page.locator("h2:text('Flows') + table tbody tr")
        assert flows_table.count() == len(doc["flows"])
        assert opened.page.locator("img, iframe, svg, [onerror], [onload]").count() == 0
        assert opened.page.locator("script").count() == 1
        assert opened.page.locator("a[href^='javascript']").count() == 0
        widths = opened.page.eval_on_selector_all(
            "h2:text('Flows') + table tbody tr", "rs => rs.map(r => r.cells.length)")
        assert set(widths) == {11}
        opened.shot("hostile-markdown.png")
        assert opened.dialogs == []
        assert opened.errors == []
    finally:
        opened.page.close()


@pytest.mark.browser
def test_explain_report_in_chromium(browser: Any, tmp_path: Path) -> None:
    out = tmp_path / "explain.html"
    res = CliRunner().invoke(app, ["explain", "--inventory", str(demo_dir() / "inventory"),
                                   "--format", "html", "--output", str(out)])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(app, ["explain", "--inventory", str(demo_dir() / "inventory"),
                                   "--format", "json"])
    doc = json.loads(res.stdout)
    opened = Opened(browser, out)
    try:
        drawn = Counter(e["path"] for e in opened.edges())
        assert drawn == Counter(p["expected_path"] for p in doc["pairs"])
        page = opened.page
        assert page.locator("#pp-pairs tbody tr").count() == len(doc["pairs"])
        page.select_option('.pp-controls[data-table="pp-pairs"] select[data-filter="path"]',
                           "trusted-service")
        rows = opened.visible_rows("#pp-pairs")
        assert [r["consumer"] for r in rows] == ["ACI aci-orders"]
        opened.shot("explain-report.png")
        opened.clean()
    finally:
        opened.page.close()
