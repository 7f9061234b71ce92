"""``--format markdown``: the report for pull-request comments and wikis (GitHub-flavoured).

The same view as the HTML page (:mod:`report_view`): headline, a Mermaid version of the path
diagram (:func:`diagram.diagram_mermaid`), the summary by path, the flows (or explain pairs, or
lab results), findings with their fixes and links, and the inputs used.

Everything from the input is escaped for where it lands: values from the logs (images, caller
IPs, identities) become code spans (no links, no mentions, no markup inside), other text has
Markdown's punctuation backslash-escaped and ``<``/``>``/``&`` written as entities, and table
cells never contain a raw ``|`` or newline. Links are only made from absolute http(s) URLs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pullpath.domain.report import AuditReport, ExplainReport, LabReport
from pullpath.formatters.audit_doc import audit_document
from pullpath.formatters.common import visible
from pullpath.formatters.diagram import build_diagram, diagram_mermaid
from pullpath.formatters.explain_doc import explain_document
from pullpath.formatters.lab_doc import lab_document
from pullpath.formatters.report_view import (
    PATH_DESCRIPTIONS,
    FlowRow,
    Link,
    ReportView,
    build_view,
    network_of,
)

MAX_ROWS = 200
"""Rows per table; the rest is counted in a note (GitHub comments hold 65,536 characters)."""

_ESCAPE = re.compile(r"([\\`*_\[\]#|~$])")
_LEADING = re.compile(r"^(\s*)(\d{1,9}(?=[.)](?:\s|$))|(?=[-+=](?:[\s=-]|$)))(.)")
_AUTOLINK = re.compile(r"(?i)(://|www\.)")


def _clean(value: object) -> str:
    text = "" if value is None else str(value)
    return visible(" ".join(text.split()))  # one line; what is left shown as escapes


def md_text(value: object, limit: int = 0) -> str:
    """Inline text: no markup, links, HTML or line breaks can come out of ``value``."""
    text = _clean(value)
    if limit and len(text) > limit:
        text = text[: limit - 1] + "…"
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _ESCAPE.sub(r"\\\1", text)
    text = _AUTOLINK.sub(lambda m: m.group(1).replace(":", "\\:").replace(".", "\\."), text)
    return _LEADING.sub(lambda m: m.group(1) + m.group(2) + "\\" + m.group(3), text)


def md_code(value: object, *, table: bool = True, limit: int = 200) -> str:
    """A code span holding ``value`` verbatim (one line); ``-`` when empty."""
    text = _clean(value)
    if not text:
        return "-"
    if limit and len(text) > limit:
        text = text[: limit - 1] + "…"
    runs = [len(r) for r in re.findall(r"`+", text)]
    fence = "`" * (max(runs, default=0) + 1)
    if text.startswith("`") or text.endswith("`"):
        text = f" {text} "
    if table:
        text = text.replace("|", "\\|")
    return f"{fence}{text}{fence}"


def md_link(link: Link) -> str:
    if link.url:
        return f"[{md_text(_short(link.text), 90)}](<{link.url}>)"
    return md_code(link.text)


def _short(text: str) -> str:
    return text.split("://", 1)[-1]


def _fenced(code: str, lang: str) -> list[str]:
    """A fenced block that ``code`` cannot close: the fence is longer than any run inside."""
    runs = [len(r) for r in re.findall(r"`{3,}", code)]
    fence = "`" * max(3, max(runs, default=0) + 1)
    return [f"{fence}{lang}", code.rstrip("\n"), fence]


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]],
           align: Sequence[str] = ()) -> list[str]:
    out = ["| " + " | ".join(headers) + " |"]
    marks = [("---:" if a == "r" else "---") for a in (list(align) or ["l"] * len(headers))]
    out.append("| " + " | ".join(marks) + " |")
    out.extend("| " + " | ".join(cells) + " |" for cells in rows)
    return out


def _more(shown: int, total: int, what: str) -> list[str]:
    if total <= shown:
        return []
    return ["", f"*{total - shown:,} more {what} not shown here: see `--format json`, `csv` or "
                "`html` for all of them.*"]


def _path_cell(row: FlowRow) -> str:
    cell = f"**{md_text(row.path)}**"
    if row.disagrees:
        cell += f" ≠ expected {md_text(row.expected_path or '?')}"
    return cell


def _flows(view: ReportView, max_rows: int) -> list[str]:
    out = [f"## Flows ({len(view.flows):,})", ""]
    rows = []
    for r in view.flows[:max_rows]:
        result = md_code(r.result) + (f" ({md_text(r.denial)})" if r.denial else "")
        rows.append([
            _path_cell(r), md_text(r.consumer, 80), md_code(r.registry, limit=80),
            md_code(r.operation), md_code(r.image), md_code(r.caller_ip),
            md_text(r.source, 80), md_code(r.identity, limit=80), result, f"{r.count:,}",
            md_text(r.last_seen.replace("T", " ")[:19] if r.last_seen else "-"),
        ])
    out += _table(["Path", "Consumer", "Registry", "Op", "Image", "Caller IP", "Source",
                   "Identity", "Result", "Events", "Last seen (UTC)"], rows,
                  ["l"] * 9 + ["r", "l"])
    out += _more(min(max_rows, len(view.flows)), len(view.flows), "flows")
    disagreeing = [r for r in view.flows if r.disagrees]
    if disagreeing:
        out += ["", "**Disagreements with the knowledge base**", ""]
        for r in disagreeing[:max_rows]:
            rule = f" (rule {md_code(r.expected_rule, table=False)})" if r.expected_rule else ""
            out.append(f"- {md_text(r.consumer, 80)}: observed **{md_text(r.path)}**, expected "
                       f"**{md_text(r.expected_path or '?')}**{rule}")
    return out


def _pairs(view: ReportView, max_rows: int) -> list[str]:
    out = [f"## Consumer → registry pairs ({len(view.pairs):,})", ""]
    rows = []
    for r in view.pairs[:max_rows]:
        why = "<br>".join(md_text(x, 300) for x in r.reasons[:6])
        if r.missing:
            why += "<br>missing: " + "; ".join(md_text(m, 200) for m in r.missing)
        sources = "<br>".join(
            md_link(link) + (f" ({md_text(note)})" if note else "")
            for link, note in zip(r.sources, r.source_notes, strict=False))
        rows.append([f"**{md_text(r.path)}**", md_text(r.consumer, 80), md_text(r.registry, 80),
                     md_code(r.rule), md_text(r.confidence), why or "-", sources or "-"])
    out += _table(["Expected path", "Consumer", "Registry", "Rule", "Confidence", "Why",
                   "Sources"], rows)
    out += _more(min(max_rows, len(view.pairs)), len(view.pairs), "pairs")
    return out


def _lab(view: ReportView, max_rows: int) -> list[str]:
    out = [f"## Prediction against observation ({len(view.lab):,})", ""]
    rows = []
    for r in view.lab[:max_rows]:
        observed = f"**{md_text(r.observed)}**"
        if r.disagrees:
            observed += f" ≠ predicted {md_text(r.predicted)}"
        rows.append([md_text(r.consumer, 80), f"{md_text(r.predicted)} {md_code(r.rule)}",
                     md_text(r.expected_by_scenario), observed, md_text(r.agreement),
                     "<br>".join(md_text(e, 200) for e in r.evidence[:5]) or "-"])
    out += _table(["Consumer", "Predicted", "Scenario expects", "Observed", "Agreement",
                   "Evidence"], rows)
    updates = [r.knowledge_update for r in view.lab if r.knowledge_update]
    if updates:
        out += ["", "**Knowledge base**", ""]
        out += [f"- {md_text(u, 1000)}" for u in updates]
    return out


def _findings(view: ReportView) -> list[str]:
    out = [f"## Findings ({len(view.findings):,})", ""]
    if not view.findings:
        out.append("No findings.")
    for f in view.findings:
        ident = f"{md_code(f.id, table=False)} " if f.id else ""
        out += [f"### {md_text(f.severity.upper())}: {ident}{md_text(f.title)}", ""]
        if f.resource_id:
            out.append(f"Resource: {md_code(f.resource_id, table=False, limit=400)}")
        if f.related:
            out.append("Related: " + ", ".join(md_code(r, table=False, limit=400)
                                              for r in f.related))
        if f.resource_id or f.related:
            out.append("")
        if f.detail:
            out += [md_text(f.detail), ""]
        if f.fix_cli:
            out += ["Fix with the Azure CLI:", "", *_fenced(f.fix_cli, "bash"), ""]
        if f.fix_bicep:
            out += ["Fix in Bicep:", "", *_fenced(f.fix_bicep, "bicep"), ""]
        if f.policy:
            out += [f"Related Azure Policy: {md_text(f.policy)}", ""]
        if f.docs:
            out += ["Docs: " + " · ".join(md_link(d) for d in f.docs), ""]
    return out


def _inputs(view: ReportView) -> list[str]:
    inp = view.inputs
    out = ["## Inputs used", ""]
    for w in ([inp.tags_warning] if inp.tags_warning else []) + list(inp.warnings):
        out.append(f"> **Warning:** {md_text(w)}")
    if inp.tags_warning or inp.warnings:
        out.append("")
    if inp.has_logs:
        out.append(f"- Registry log events: {inp.events_read or 0:,} read, "
                   f"{inp.events_skipped or 0:,} skipped, of {inp.records_seen or 0:,} records "
                   f"in {len(inp.log_files):,} file(s)")
        if inp.duplicates_dropped:
            out.append(f"- Duplicates dropped: {inp.duplicates_dropped:,} (events an earlier "
                       "log path already held)")
        if inp.skipped:
            out.append("- Skipped, by reason: " + ", ".join(f"{md_text(k)} {n:,}"
                                                           for k, n in inp.skipped))
        if inp.ignored:
            out.append("- Ignored inputs: " + ", ".join(f"{md_text(k)} {n:,}"
                                                       for k, n in inp.ignored))
        if inp.log_sources:
            out.append("- Log sources: " + ", ".join(md_code(s, table=False, limit=300)
                                                    for s in inp.log_sources))
    if inp.tags:
        out.append("- Service tags: " + " · ".join(f"{md_text(k)} {md_code(v, table=False)}"
                                                   for k, v in inp.tags))
    if inp.inventory_counts:
        out.append("- Inventory: " + ", ".join(f"{n:,} {md_text(k)}"
                                               for k, n in inp.inventory_counts)
                   + f" from {len(inp.inventory_files):,} file(s)")
    for label, value in inp.other:
        out.append(f"- {md_text(label)}: {md_text(value, 600)}")
    if inp.inventory_ignored:
        out.append("- Inventory types ignored: " + ", ".join(
            f"{md_code(k, table=False)} {n:,}" for k, n in inp.inventory_ignored))
    for m in inp.missing:
        out.append(f"- Missing evidence: {md_text(m)}")
    for n in inp.notes:
        out.append(f"- Not checked: {md_text(n)}")
    if inp.skipped_examples:
        out += ["", "First skipped records:", ""]
        out += _table(["File", "Line", "Reason", "Detail"], (
            [md_code(s.file, limit=120), md_text(s.line), md_text(s.reason),
             md_code(s.detail, limit=120)] for s in inp.skipped_examples))
    if inp.log_files:  # accounting per file (issue #8): files with skipped records first
        files = sorted(inp.log_files, key=lambda f: (-f.skipped, f.file))
        shown = files[:MAX_ROWS]
        out += ["", "Records per file:", ""]
        out += _table(["File", "Records", "Read", "Skipped"], (
            [md_code(f.file, limit=300), f"{f.records:,}", f"{f.read:,}", f"{f.skipped:,}"]
            for f in shown), align="lrrr")
        out += _more(len(shown), len(files), "files")
    if inp.inventory_issues:
        out += ["", "Inventory issues:", ""]
        out += _table(["Where", "Resource", "Problem"], (
            [md_code(loc, limit=120), md_code(rid, limit=200), md_text(problem, 300)]
            for loc, rid, problem in inp.inventory_issues))
    return out


def _changes(view: ReportView) -> list[str]:
    out = [f"## Path changes against {md_code(view.baseline, table=False)} "
           f"({len(view.changes):,})", ""]
    if not view.changes:
        return [*out, "No consumer's predicted path changes."]
    rows = [[md_text(c.consumer, 80), md_text(c.registry, 80),
             f"{md_text(c.before or '(no pull)')} → **{md_text(c.after or '(no pull)')}**",
             md_text(c.why, 300) or "-"] for c in view.changes]
    return out + _table(["Consumer", "Registry", "Path", "What changed"], rows)


def render_markdown(view: ReportView, mermaid: str, *, max_rows: int = MAX_ROWS,
                    diagram_note: str = "") -> str:
    """``diagram_note``: said above the diagram (``Diagram.summary``: it sums up)."""
    out = [f"# {md_text(view.title)}", ""]
    if view.headline:
        out += [md_text(view.headline), ""]
    meta = [f"schema {md_code(view.schema, table=False)}" if view.schema else "",
            f"pullpath {md_text(view.version or '?')}"]
    if view.registries:
        meta.append("registries: " + ", ".join(md_code(r, table=False)
                                               for r in view.registries[:10]))
    out += [" · ".join(m for m in meta if m), ""]
    if view.baseline:
        out += [*_changes(view), ""]
    out += ["## Path diagram", ""]
    if diagram_note:
        out += [f"*{md_text(diagram_note)}*", ""]
    out += [*_fenced(mermaid, "mermaid"), ""]
    unit = view.summary_unit
    out += ["## Summary by path", ""]
    kinds = ["Pulls", "Logins", "Other"] if view.has_requests else []
    headers = (["Path", "What it means", unit.capitalize()] + (["Flows"] if view.flows else [])
               + kinds)
    rows = [[f"**{md_text(s.path)}**", md_text(PATH_DESCRIPTIONS.get(s.path, "")),
             f"{s.events:,}"] + ([f"{s.flows:,}"] if view.flows else [])
            + ([f"{s.pulls:,}", f"{s.logins:,}", f"{s.other:,}"] if kinds else [])
            for s in view.summary]
    out += _table(headers, rows, ["l", "l"] + ["r"] * (len(headers) - 2))
    if view.disagreements:
        out += ["", f"**{view.disagreements:,}** row(s) took a different path than the knowledge "
                    "base expects (marked ≠)."]
    out.append("")
    if view.lab:
        out += [*_lab(view, max_rows), ""]
    if view.flows:
        out += [*_flows(view, max_rows), ""]
    if view.pairs:
        out += [*_pairs(view, max_rows), ""]
    if view.has_findings_section:
        out += _findings(view)
    for t in view.extra:
        out += [f"## {md_text(t.title)} ({len(t.rows):,})", ""]
        out += _table([md_text(c) for c in t.columns],
                      ([md_text(cell, 200) or "-" for cell in row] for row in t.rows[:max_rows]))
        out += [*_more(min(max_rows, len(t.rows)), len(t.rows), "rows"), ""]
    out += _inputs(view)
    out += ["", f"<sub>Generated by pullpath {md_text(view.version or '?')}.</sub>", ""]
    return "\n".join(out)


def report_markdown(doc: Mapping[str, Any], *, network: Mapping[str, Any] | None = None,
                    max_rows: int = MAX_ROWS) -> str:
    """Any pullpath document (audit, explain, lab) as GitHub-flavoured Markdown. The diagram
    draws ``network`` when given, else the document's own ``network`` section."""
    net = network if network is not None else network_of(doc)
    view = build_view(doc)
    diagram = build_diagram(doc, net, view=view)
    return render_markdown(view, diagram_mermaid(diagram), diagram_note=diagram.summary,
                           max_rows=max_rows)


def audit_markdown(report: AuditReport, *, network: Mapping[str, Any] | None = None) -> str:
    return report_markdown(audit_document(report), network=network)


def explain_markdown(report: ExplainReport, *, network: Mapping[str, Any] | None = None) -> str:
    return report_markdown(explain_document(report), network=network)


def lab_markdown(report: LabReport, *, network: Mapping[str, Any] | None = None) -> str:
    return report_markdown(lab_document(report), network=network)
