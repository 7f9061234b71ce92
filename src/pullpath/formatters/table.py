"""The default terminal view: flows table, summary by path, accounting, warnings, and what
happened in plain words (``narrative``)."""

from __future__ import annotations

from collections import Counter

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from pullpath.domain.report import AuditReport
from pullpath.domain.resource_id import name_of
from pullpath.domain.verdicts import PATH_ORDER, REQUEST_KINDS, Flow, Path
from pullpath.formatters.common import short_id, short_time, term_safe
from pullpath.formatters.narrative import disagreements, what_happened

PATH_STYLE: dict[Path, str] = {
    Path.PRIVATE_ENDPOINT: "bold green",
    Path.TRUSTED_SERVICE: "bold yellow",
    Path.FIREWALL_RULE: "cyan",
    Path.PUBLIC: "bold red",
    Path.DENIED: "magenta",
    Path.UNKNOWN: "dim",
}


def path_text(path: Path) -> Text:
    return Text(path.value, style=PATH_STYLE[path])


def consumer_text(flow: Flow) -> str:
    c = flow.consumer
    if c.id:
        return f"{c.kind.value} {name_of(c.id)}"
    if c.candidates:
        names = ", ".join(name_of(x) for x in c.candidates[:3])
        return f"? {len(c.candidates)} candidates: {names}"
    return "-"


def source_text(flow: Flow) -> str:
    s = flow.source
    if s.service_tag:
        return f"{s.kind.value} {s.service_tag}"
    if s.subnet_id:
        return f"{s.kind.value} {name_of(s.subnet_id)}"
    if s.kind.value == "subnet" and s.prefix:  # the prefix of subnets in several VNets
        return f"subnet {s.prefix} (several VNets)"
    return s.kind.value


COMPACT_BELOW = 120
"""Terminals narrower than this get the compact flow table (fewer, wider columns)."""


def flows_tables(report: AuditReport, *, width: int, limit: int = 200) -> list[Table]:
    """One table of flows per registry; columns chosen to stay readable at ``width``."""
    if width < COMPACT_BELOW:
        columns = ["Path", "Consumer", "Caller", "Image", "Count"]
    else:
        columns = ["Path", "Consumer", "Caller IP", "Source", "Image", "Op", "Result", "Count",
                   "Last seen (UTC)"]
        if width >= 180:
            columns.insert(columns.index("Count"), "Identity")
    by_registry: dict[str, list[Flow]] = {}
    for flow in report.result.flows[:limit]:
        by_registry.setdefault(flow.registry, []).append(flow)
    tables = []
    for registry, flows in by_registry.items():
        table = Table(title=Text(f"Flows — {term_safe(registry, 80) or 'unknown registry'}"),
                      title_justify="left", expand=False, pad_edge=False)
        for col in columns:
            table.add_column(
                col,
                overflow="fold",
                no_wrap=col in ("Path", "Count", "Op", "Result"),
                min_width=15 if col in ("Caller IP", "Caller") else None,
                justify="right" if col == "Count" else "left",
            )
        for flow in flows:
            table.add_row(*(_cell(flow, col) for col in columns))
        tables.append(table)
    return tables


def _cell(flow: Flow, column: str) -> Text:
    """A table cell. Always ``Text``: a plain string would be parsed as rich markup, and
    logged values must never become markup (links, styles)."""
    if column == "Path":
        cell = path_text(flow.path)
        if flow.expectation is not None and flow.expectation.agrees is False:
            cell.append(" ≠", style="bold red")  # the expected path is listed under the table
        return cell
    if column == "Image":
        image = term_safe(flow.repository + (f":{flow.tag}" if flow.tag else ""), 60)
        return Text(image or f"({term_safe(flow.operation, 20) or '-'})")
    if column == "Last seen (UTC)":
        return Text(short_time(flow.last_seen))
    if column == "Caller":  # compact: the address over its source
        return Text(term_safe(flow.caller_ip, 45) or "-") + Text(
            "\n" + term_safe(source_text(flow), 60), style="dim")
    value = {
        "Consumer": consumer_text(flow),
        "Caller IP": flow.caller_ip,
        "Source": source_text(flow),
        "Op": flow.operation,
        "Result": flow.result,
        "Identity": flow.identity,
        "Count": str(flow.count),
    }[column]
    return Text(term_safe(value, 60) or "-")


def findings_text(report: AuditReport) -> Text | None:
    """The inventory's findings (explain), one line each, so the table hides nothing the
    JSON has."""
    if not report.findings:
        return None
    text = Text(f"Findings ({len(report.findings)}; `pullpath explain` has the fixes):\n",
                style="bold")
    for finding in report.findings:
        severity = finding.severity.value
        style = {"error": "bold red", "warning": "yellow"}.get(severity, "cyan")
        text.append(f"  {severity:<7} ", style=style)
        text.append(term_safe(f"{finding.id} {finding.title}", 200))
        if finding.resource_id:
            text.append(f" ({term_safe(short_id(finding.resource_id), 80)})", style="dim")
        text.append("\n")
    return text


def summary_table(report: AuditReport) -> Table:
    """Events by path, pulls, logins and other operations counted apart."""
    summary = report.result.summary
    table = Table(title="Summary by path (events)", title_justify="left")
    table.add_column("Path")
    for column in ("Events", "Flows", "Pulls", "Logins", "Other"):
        table.add_column(column, justify="right")
    flows = Counter(f.path for f in report.result.flows)
    for path in PATH_ORDER:
        requests = summary.by_path_requests.get(path.value, {})
        table.add_row(path_text(path), str(summary.by_path.get(path.value, 0)), str(flows[path]),
                      *(str(requests.get(kind, 0)) for kind in REQUEST_KINDS))
    return table


MAX_FILES_SHOWN = 10
"""Files with skipped records listed in the table view (JSON and CSV list every file)."""


def accounting_text(report: AuditReport) -> Text:
    st = report.result.stats
    tags = report.tags
    requests = report.result.summary.requests
    text = Text()
    text.append(f"Read {st.events_read} events from {len(st.files)} file(s)", style="bold")
    if st.events_read:
        text.append(f": {requests.get('pulls', 0)} pulls, {requests.get('logins', 0)} logins, "
                    f"{requests.get('other', 0)} other operations")
        if report.result.unclassified_events:
            text.append(f", {report.result.unclassified_events} unclassified", style="bold yellow")
    if st.duplicates_dropped:
        text.append(f"; {st.duplicates_dropped} duplicate event(s) dropped (already read from "
                    "an earlier --logs path)", style="bold")
    if st.events_skipped:
        text.append(f"; skipped {st.events_skipped} of {st.records_seen} records: ",
                    style="bold yellow")
        text.append(", ".join(f"{k} {v}" for k, v in sorted(st.skipped.items())))
        damaged = [(name, c) for name, c in st.per_file.items() if c.get("events_skipped")]
        for name, c in damaged[:MAX_FILES_SHOWN]:
            text.append(f"\n  {term_safe(name, 120)}: {c['records']} records, "
                        f"{c['events_read']} read, {c['events_skipped']} skipped")
        if len(damaged) > MAX_FILES_SHOWN:
            text.append(f"\n  ... {len(damaged) - MAX_FILES_SHOWN} more file(s) with skipped "
                        "records: --format json lists every file")
        text.append("\n  first skipped:", style="dim")
        for skip in st.examples[:5]:
            text.append(f"\n  {term_safe(str(skip.location), 120)}: {term_safe(skip.reason, 40)}")
            if skip.detail:
                text.append(f" ({term_safe(skip.detail, 80)})")
    if st.ignored:
        text.append("\nNot read (not log records): ", style="yellow")
        text.append(", ".join(f"{term_safe(k, 40)} {v}" for k, v in sorted(st.ignored.items())))
    text.append("\n")
    pub = f", published {term_safe(tags.published, 40)}" if tags.published else ""
    text.append(f"Service tags: {term_safe(tags.cloud, 40)} changeNumber "
                f"{term_safe(tags.change_number, 40)} ({term_safe(tags.source, 120)}{pub})")
    inv = report.inventory
    if inv.resources:
        text.append(f"\nInventory: {inv.resources} resources from {len(inv.files)} file(s): "
                    f"{inv.registries} registries, {inv.consumers} consumers, "
                    f"{inv.subnets} subnets")
        if inv.duplicates_merged:
            text.append(f"; {inv.duplicates_merged} duplicate record(s) merged")
        if inv.issues:
            text.append(f"; {len(inv.issues)} issue(s)", style="yellow")
    else:
        text.append("\nInventory: none given (pass --inventory to attribute consumers and prove "
                    "paths)", style="yellow")
    return text


def warnings_text(report: AuditReport) -> Text | None:
    lines = list(report.result.warnings)
    if report.tags.warning:
        lines.insert(0, report.tags.warning)
    for missing in report.result.missing:
        lines.append(f"missing evidence: {missing}")
    found = disagreements(report)
    lines.extend(f"DISAGREEMENT: {line}" for line in found[:10])
    if len(found) > 10:
        lines.append(f"... {len(found) - 10} more consumers disagree with the knowledge base "
                     "(--format json: each flow's expected_path and agrees)")
    if not lines:
        return None
    text = Text()
    for line in lines:
        text.append("! ", style="bold yellow")
        text.append(term_safe(line, 2000) + "\n")
    return text


def render_audit(report: AuditReport, console: Console) -> None:
    parts: list[object] = list(flows_tables(report, width=console.width))
    if len(report.result.flows) > 200:
        parts.append(Text(f"... {len(report.result.flows) - 200} more flows: use --format json "
                          "or csv for all of them", style="dim"))
    parts.extend([summary_table(report), accounting_text(report)])
    findings = findings_text(report)
    if findings is not None:
        parts.append(findings)
    warn = warnings_text(report)
    if warn is not None:
        parts.append(warn)
    story = what_happened(report)
    if story:
        parts.append(Panel(Text("\n".join(f"- {line}" for line in story)),
                           title="What happened", border_style="green"))
    console.print(Group(*parts))  # type: ignore[arg-type]
