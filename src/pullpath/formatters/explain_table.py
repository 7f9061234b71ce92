"""The explain report in the terminal: predicted paths, findings, notes, accounting."""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from pullpath.domain.explain import PairPrediction, Severity
from pullpath.domain.report import ExplainReport
from pullpath.domain.verdicts import Path
from pullpath.formatters.common import short_id, term_safe
from pullpath.formatters.table import path_text

SEVERITY_STYLE: dict[Severity, str] = {
    Severity.ERROR: "bold red",
    Severity.WARNING: "bold yellow",
    Severity.NOTE: "cyan",
}

__all__ = [
    "SEVERITY_STYLE",
    "changes_table",
    "findings_table",
    "pairs_table",
    "reasons_text",
    "render_explain",
    "where_text",
]


def where_text(report: ExplainReport, resource_id: str) -> str:
    """``file:line`` of the code that writes the resource ("" when none does)."""
    where = report.location_of(resource_id) if resource_id else None
    if where is None:
        return ""
    return where.file + (f":{where.line}" if where.line else "")


def pairs_table(report: ExplainReport) -> Table:
    table = Table(title="Predicted pull paths", title_justify="left")
    columns = ["Consumer", "Registry", "Expected path", "Rule", "Confidence"]
    if report.code:
        columns.append("Written at")
    for col in columns:
        table.add_column(col, overflow="fold", no_wrap=col in ("Expected path", "Confidence"))
    for p in report.pairs:
        c = p.consumer
        registry = term_safe(p.login_server, 60)
        if p.registry is None:
            registry += " (not in inventory)"
        cells = [  # Text, never str: input must not be parsed as rich markup
            Text(term_safe(f"{c.kind.value} {c.name}", 60)),
            Text(registry),
            path_text(p.expected_path),
            Text(p.rule or "-"),
            Text(p.confidence.value),
        ]
        if report.code:
            cells.append(Text(term_safe(where_text(report, c.id) or "-", 80)))
        table.add_row(*cells)
    return table


def _path_or_none(path: Path | None) -> Text:
    return path_text(path) if path is not None else Text("(no pull)", style="dim")


def changes_table(report: ExplainReport) -> Table | Text:
    """The pairs whose path the change moves, the most serious first (``--baseline``)."""
    if not report.changes:
        return Text(f"No consumer's predicted path changes against "
                    f"{term_safe(report.baseline, 120)}.", style="green")
    table = Table(title=f"Path changes against {term_safe(report.baseline, 120)}",
                  title_justify="left")
    for col in ("Consumer", "Registry", "Before", "", "After", "Why"):
        table.add_column(col, overflow="fold", no_wrap=col in ("Before", "After", ""))
    for c in report.changes:
        table.add_row(Text(term_safe(c.consumer, 60)), Text(term_safe(c.login_server, 60)),
                      _path_or_none(c.before), Text("→"), _path_or_none(c.after),
                      Text(term_safe(c.why[0], 200) if c.why else "-"))
    return table


def _pair_heading(p: PairPrediction) -> Text:
    text = Text()
    text.append(term_safe(f"{p.consumer.kind.value} {p.consumer.name}", 80), style="bold")
    text.append(f" -> {term_safe(p.login_server, 80)}: ")
    text.append_text(path_text(p.expected_path))
    text.append(f" ({p.rule or 'no rule'}, {p.confidence.value} confidence)")
    return text


def reasons_text(report: ExplainReport, *, reasons: int = 12, sources: bool = True) -> Text:
    """Why each prediction was made: the facts, the rule's rationale, sources with dates."""
    text = Text()
    for i, p in enumerate(report.pairs):
        if i:
            text.append("\n")
        text.append_text(_pair_heading(p))
        for reason in p.reasons[:reasons]:
            text.append("\n  - " + term_safe(reason, 600))
        for missing in p.missing:
            text.append("\n  ? missing: " + term_safe(missing, 300), style="yellow")
        if sources:
            for src in p.sources:
                text.append(f"\n    [{src.kind.value} {src.verified}] {term_safe(src.url, 200)}",
                            style="dim")
    return text


def findings_table(report: ExplainReport) -> Table:
    table = Table(title="Findings", title_justify="left", show_lines=True)
    for col in ("Severity", "ID", "Resource", "Finding"):
        table.add_column(col, overflow="fold", no_wrap=col in ("Severity", "ID"))
    for f in report.findings:
        body = Text(term_safe(f.title, 200), style="bold")
        body.append("\n" + term_safe(f.detail, 600), style="")
        body.append(f"\nfix: {term_safe(f.fix_cli.splitlines()[0], 200)} ...", style="dim")
        resource = term_safe(short_id(f.resource_id), 60)
        where = where_text(report, f.resource_id)
        if where:
            resource += "\n" + term_safe(where, 80)
        table.add_row(
            Text(f.severity.value, style=SEVERITY_STYLE[f.severity]),
            Text(f.id),
            Text(resource),
            body,
        )
    return table


def accounting_text(report: ExplainReport) -> Text:
    inv = report.inventory
    text = Text()
    text.append(f"Inventory: {inv.resources} resources from {len(inv.files)} file(s): "
                f"{inv.registries} registries, {inv.consumers} consumers, {inv.subnets} subnets",
                style="bold")
    if inv.issues:
        text.append(f"; {len(inv.issues)} issue(s)", style="yellow")
        for loc, _rid, problem in inv.issues[:5]:
            text.append(f"\n  {term_safe(loc, 120)}: {term_safe(problem, 160)}")
    text.append(f"\nKnowledge base: {report.behaviours} behaviours, {report.finding_rules} "
                "finding rules")
    counts = {s: sum(1 for f in report.findings if f.severity is s) for s in Severity}
    text.append(f"\n{len(report.pairs)} pair(s); findings: "
                + ", ".join(f"{counts[s]} {s.value}" for s in Severity))
    return text


def notes_text(report: ExplainReport) -> Text | None:
    if not report.notes:
        return None
    text = Text()
    for note in report.notes:
        text.append("! ", style="bold yellow")
        text.append(term_safe(note, 500) + "\n")
    return text


def render_explain(report: ExplainReport, console: Console) -> None:
    parts: list[RenderableType] = []
    if report.baseline:
        parts.append(changes_table(report))
    if report.pairs:
        parts.append(pairs_table(report))
        parts.append(reasons_text(report))
    else:
        parts.append(Text("No consumer -> registry pair found in the inventory.", style="yellow"))
    if report.findings:
        parts.append(findings_table(report))
    else:
        parts.append(Text("No findings.", style="green"))
    parts.append(accounting_text(report))
    notes = notes_text(report)
    if notes is not None:
        parts.append(notes)
    console.print(Group(*parts))
