"""``pullpath explain``: predict each consumer's pull path from configuration, and catch what
will break."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

import typer

from pullpath.cli.common import (
    EXIT_FAIL_ON,
    FORMAT_HELP,
    Format,
    emit_report,
    fail,
    guard_outputs,
    output_format,
    stderr,
    user_errors,
    warn,
)

if TYPE_CHECKING:
    from rich.console import Console

    from pullpath.domain.explain import Severity
    from pullpath.domain.report import ExplainReport

ExplainFormat = Literal["table", "json", "sarif", "markdown", "html"]
EXPLAIN_FORMATS = get_args(ExplainFormat)

FAIL_ON_SEVERITY_HELP = (
    "Exit 1 when a finding at or above this severity exists (error, warning or note). For CI "
    "gates."
)


def render_explain_report(report: ExplainReport, fmt: Format, output: Path | None) -> None:
    """Print or write an explain report in the chosen format."""
    from pullpath.formatters.explain_table import render_explain
    from pullpath.formatters.registry import EXPLAIN_RENDERERS

    emit_report("explain", report, EXPLAIN_RENDERERS, fmt, output, render_explain)


def parse_severity(value: str | None) -> Severity | None:
    if value is None or not value.strip():
        return None
    from pullpath.domain.explain import Severity

    try:
        return Severity(value.strip().lower())
    except ValueError:
        fail(f"--fail-on-severity: unknown severity {value!r}",
             hint="choose from: error, warning, note")


def apply_fail_on_severity(report: ExplainReport, threshold: Severity | None) -> None:
    if threshold is None:
        return
    hits = [f for f in report.findings if f.severity.rank >= threshold.rank]
    if hits:
        ids = ", ".join(sorted({f.id for f in hits}))
        stderr.print(f"[bold red]--fail-on-severity {threshold.value}:[/] {len(hits)} "
                     f"finding(s) ({ids})")
        raise typer.Exit(EXIT_FAIL_ON)


def print_explain_for_demo(console: Console, inventory_dir: Path) -> None:
    """Explain's view of the demo inventory: the prediction, before any log is read."""
    from rich.panel import Panel

    from pullpath.formatters.explain_table import findings_table, pairs_table, reasons_text
    from pullpath.workflows.explain import run_explain

    report = run_explain([inventory_dir])
    console.print(Panel.fit(
        "What `pullpath explain` predicts from the same inventory, before any log is read "
        "(knowledge base: documentation and measurements, with dates).",
        title="pullpath explain", border_style="cyan",
    ))
    console.print(pairs_table(report))
    console.print(reasons_text(report, reasons=8, sources=True))
    if report.findings:
        console.print(findings_table(report))
    else:
        console.print("[green]No findings.[/]")


def register(app: typer.Typer) -> None:
    @app.command("explain")
    def explain(
        inventory: list[Path] = typer.Option(
            [], "--inventory", "-i",
            help="ARM resource JSON files or directories (repeatable): az resource list, "
                 "az graph query, ARM lists, single resources; add role assignments, diagnostic "
                 "settings and private DNS zones for the full set of checks.",
        ),
        format_name: ExplainFormat | None = typer.Option(None, "--format", "-f",
                                                         help=FORMAT_HELP),
        output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file."),
        fail_on_severity: str | None = typer.Option(
            None, "--fail-on-severity", help=FAIL_ON_SEVERITY_HELP,
        ),
        subscription: list[str] = typer.Option(
            [], "--subscription", "-s", rich_help_panel="Live Azure",
            help="Read the inventory live from Resource Graph in these subscriptions (ID or "
                 "name, repeatable) instead of --inventory files.",
        ),
        tenant: str | None = typer.Option(
            None, "--tenant", rich_help_panel="Live Azure",
            help="Tenant ID or domain for the tokens (like az --tenant).",
        ),
    ) -> None:
        """Predict which network path each consumer's pulls will take, with the reason and the
        documentation, and report configurations that will break a pull.

        Example:

            pullpath explain --inventory ./inventory --fail-on-severity error
        """
        fmt = output_format(format_name, output, "explain", EXPLAIN_FORMATS)
        guard_outputs([("--output", output)], [("--inventory", p) for p in inventory])
        threshold = parse_severity(fail_on_severity)
        from pullpath.adapters.inventory_files import InventoryError
        from pullpath.knowledge.loader import KnowledgeError
        from pullpath.workflows.explain import run_explain

        if bool(inventory) == bool(subscription):
            fail("give exactly one inventory source: --inventory FILES or --subscription ID",
                 hint="save a live inventory for offline use: pullpath inventory -s ID -o FILE")
        if subscription:
            from pullpath.cli.live import live_inventory_for
            from pullpath.workflows.explain import explain_inventory

            live_inv = live_inventory_for(subscription, tenant)
            with user_errors(KnowledgeError):
                report = explain_inventory(live_inv)
        else:
            if tenant:
                fail("--tenant applies to --subscription (live inventory)")
            with user_errors(InventoryError, KnowledgeError):
                report = run_explain(inventory)
        if report.inventory.resources == 0:
            warn("the inventory holds no ARM resources: nothing to explain "
                 "(check the --inventory paths)")
        render_explain_report(report, fmt, output)
        apply_fail_on_severity(report, threshold)
