"""``pullpath audit``: prove each pull's network path from the registry's logs."""

from __future__ import annotations

import io
from pathlib import Path

import typer

from pullpath.cli.common import (
    EXIT_FAIL_ON,
    Format,
    fail,
    parse_paths,
    progress_printer,
    require_format,
    stderr,
    user_errors,
    write_output,
)
from pullpath.formatters.audit_doc import AuditReport

AUDIT_FORMATS = (Format.TABLE, Format.JSON, Format.CSV, Format.MARKDOWN, Format.HTML, Format.SARIF)

FAIL_ON_HELP = (
    "Exit 1 when any flow took one of these paths (comma-separated: private-endpoint, "
    "trusted-service, firewall-rule, public, denied, unknown). For CI gates."
)


def render_report(report: AuditReport, fmt: Format, output: Path | None) -> None:
    """Print or write an audit report in the chosen format."""
    if fmt is Format.TABLE:
        from rich.console import Console

        from pullpath.formatters.table import render_audit

        if output is None:
            render_audit(report, Console(highlight=False))
        else:
            console = Console(record=True, width=160, file=io.StringIO())
            render_audit(report, console)
            write_output(console.export_text(), output)
        return
    if fmt is Format.JSON:
        from pullpath.formatters.simple import audit_json

        write_output(audit_json(report), output)
    elif fmt is Format.CSV:
        from pullpath.formatters.simple import audit_csv

        write_output(audit_csv(report), output)
    else:
        from pullpath.formatters import registry as formatters

        renderer = formatters.audit_renderer(fmt.value)
        if renderer is None:
            fail(f"--format {fmt.value} is not available for audit in this version")
        write_output(renderer(report), output)


def apply_fail_on(report: AuditReport, fail_on: str | None) -> None:
    paths = parse_paths(fail_on, option="--fail-on")
    if not paths:
        return
    hits = [f for f in report.result.flows if f.path in paths]
    if hits:
        events = sum(f.count for f in hits)
        names = ", ".join(sorted({f.path.value for f in hits}))
        stderr.print(f"[bold red]--fail-on:[/] {len(hits)} flow(s), {events} event(s) took "
                     f"{names}")
        raise typer.Exit(EXIT_FAIL_ON)


def register(app: typer.Typer) -> None:
    @app.command("audit")
    def audit(
        logs: list[Path] = typer.Option(
            ..., "--logs", "-l",
            help="Registry log files or directories (repeatable): diagnostic archives "
                 "(PT1H.json, .gz), {\"records\": [...]} files, Log Analytics CSV/JSON exports.",
        ),
        inventory: list[Path] = typer.Option(
            [], "--inventory", "-i",
            help="ARM resource JSON files or directories (repeatable): az resource list, "
                 "az graph query, ARM lists, single resources.",
        ),
        service_tags: Path | None = typer.Option(
            None, "--service-tags",
            help="Service tags file (weekly download of any cloud, or a saved Discovery API "
                 "response). Default: the bundled 2025-10-28 public file.",
        ),
        fmt: Format = typer.Option(Format.TABLE, "--format", "-f", help="Output format."),
        output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file."),
        fail_on: str | None = typer.Option(None, "--fail-on", help=FAIL_ON_HELP),
        strict: bool = typer.Option(
            False, "--strict",
            help="Exit 2 if any record was skipped (damaged logs), listing the first locations.",
        ),
    ) -> None:
        """Prove which network path each pull took, from the registry's own logs.

        Example:

            pullpath audit --logs ./logs --inventory ./inventory.json --fail-on public
        """
        require_format(fmt, AUDIT_FORMATS, "audit")
        parse_paths(fail_on, option="--fail-on")  # validate before the work
        from pullpath.adapters.inventory_files import InventoryError
        from pullpath.adapters.logs_files import LogInputError
        from pullpath.core.servicetags import ServiceTagError
        from pullpath.workflows.audit import run_audit

        with user_errors(LogInputError, InventoryError, ServiceTagError):
            report = run_audit(
                logs,
                inventory_paths=inventory,
                service_tags=service_tags,
                progress=progress_printer("reading logs"),
            )
        render_report(report, fmt, output)
        check_strict(report, strict)
        apply_fail_on(report, fail_on)


def check_strict(report: AuditReport, strict: bool) -> None:
    stats = report.result.stats
    if not strict or stats.events_skipped == 0:
        return
    stderr.print(f"[bold red]--strict:[/] {stats.events_skipped} record(s) skipped")
    for skip in stats.examples[:5]:
        stderr.print(f"  {skip.location}: {skip.reason} {skip.detail}", markup=False)
    raise typer.Exit(2)
