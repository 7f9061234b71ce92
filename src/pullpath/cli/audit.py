"""``pullpath audit``: prove each pull's network path from the registry's logs."""

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
    keep_until_exit,
    output_format,
    parse_paths,
    progress_printer,
    stderr,
    user_errors,
    warn,
)

if TYPE_CHECKING:
    from rich.console import Console

    from pullpath.formatters.audit_doc import AuditReport

AuditFormat = Literal["table", "json", "csv", "markdown", "html", "sarif"]
AUDIT_FORMATS = get_args(AuditFormat)

FAIL_ON_HELP = (
    "Exit 1 when any flow took one of these paths (comma-separated: private-endpoint, "
    "trusted-service, firewall-rule, public, denied, unknown). For CI gates."
)


def render_report(report: AuditReport, fmt: Format, output: Path | None) -> None:
    """Print or write an audit report in the chosen format."""
    emit_report("audit", report, fmt, output, _render_table)


def _render_table(report: AuditReport, console: Console) -> None:
    from pullpath.formatters.table import render_audit  # only for the table format

    render_audit(report, console)


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
    if report.result.summary.events == 0:
        warn("--fail-on passed on no evidence: no registry events were read (check the log "
             "source and time range)")


def register(app: typer.Typer) -> None:
    @app.command("audit")
    def audit(
        logs: list[Path] = typer.Option(
            [], "--logs", "-l",
            help="Registry log files or directories (repeatable): diagnostic archives "
                 "(PT1H.json, .gz), {\"records\": [...]} files, Log Analytics CSV/JSON exports. "
                 "Give exactly one of --logs, --workspace, --storage-account.",
        ),
        workspace: str | None = typer.Option(
            None, "--workspace", "-w", rich_help_panel="Live Azure",
            help="Log Analytics workspace ID (GUID): query the registry logs there, summarised "
                 "server-side.",
        ),
        storage_account: str | None = typer.Option(
            None, "--storage-account", rich_help_panel="Live Azure",
            help="Storage account name, account URL or container URL of the diagnostic-settings "
                 "archive (insights-logs-containerregistry*): stream the blobs of the range.",
        ),
        since: str | None = typer.Option(
            None, "--since", rich_help_panel="Live Azure",
            help="Audit the last 30m / 12h / 7d / 2w (default 7d).",
        ),
        time_from: str | None = typer.Option(
            None, "--from", rich_help_panel="Live Azure",
            help="Start (ISO 8601 date or time, UTC unless a zone is given).",
        ),
        time_to: str | None = typer.Option(
            None, "--to", rich_help_panel="Live Azure", help="End (default: now).",
        ),
        registry: list[str] = typer.Option(
            [], "--registry", rich_help_panel="Live Azure",
            help="Only this registry: name, login server or resource ID (repeatable).",
        ),
        operation: list[str] = typer.Option(
            [], "--operation", rich_help_panel="Live Azure",
            help="Only these OperationName values, e.g. Pull (repeatable; --workspace only).",
        ),
        kql: bool = typer.Option(
            False, "--kql", rich_help_panel="Live Azure",
            help="Print the KQL query(ies) --workspace would send, without running them.",
        ),
        tenant: str | None = typer.Option(
            None, "--tenant", rich_help_panel="Live Azure",
            help="Tenant ID or domain for the tokens (like az --tenant).",
        ),
        subscription: list[str] = typer.Option(
            [], "--subscription", "-s", rich_help_panel="Live Azure",
            help="Read the inventory live from Resource Graph in these subscriptions (ID or "
                 "name, repeatable) when no --inventory is given.",
        ),
        inventory: list[Path] = typer.Option(
            [], "--inventory", "-i",
            help="ARM resource JSON files or directories (repeatable): az resource list, "
                 "az graph query, ARM lists, single resources.",
        ),
        service_tags: Path | None = typer.Option(
            None, "--service-tags",
            help="Service tags file (weekly download of any cloud, or a saved Discovery API "
                 "response). Default: the cached Discovery API response (pullpath service-tags "
                 "update) when newer than the bundled 2025-10-28 public file, else that file.",
        ),
        format_name: AuditFormat | None = typer.Option(None, "--format", "-f", help=FORMAT_HELP),
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
        fmt = output_format(format_name, output, "audit", AUDIT_FORMATS)
        parse_paths(fail_on, option="--fail-on")  # validate before the work
        given = [name for name, value in (("--logs", logs), ("--workspace", workspace),
                                          ("--storage-account", storage_account)) if value]
        if len(given) != 1:
            fail(
                "give exactly one log source" + (f", not {' and '.join(given)}" if given else ""),
                hint="--logs FILES (offline), --workspace WORKSPACE_ID (Log Analytics) or "
                     "--storage-account NAME (diagnostic-settings archive)",
            )
        if kql and not workspace:
            fail("--kql prints the queries of --workspace; give --workspace WORKSPACE_ID")
        if logs and (since or time_from or time_to or registry or operation or tenant):
            fail("--since/--from/--to/--registry/--operation/--tenant apply to --workspace and "
                 "--storage-account; --logs reads the files whole")
        from pullpath.cli import live

        if output is not None:
            guard_outputs([("--output", output)], [
                *(("--logs", p) for p in logs), *(("--inventory", p) for p in inventory),
                ("--service-tags", live.default_service_tags(service_tags)),
            ])
        if workspace or storage_account:
            live_report = live.live_audit(
                workspace=workspace, storage_account=storage_account, since=since,
                start=time_from, end=time_to, registries=registry, operations=operation,
                kql=kql, tenant=tenant, subscriptions=subscription, inventory_paths=inventory,
                service_tags=service_tags, output=output,
            )
            if live_report is None:  # --kql
                return
            render_report(live_report, fmt, output)
            live.show_tags_age(live_report)
            live.check_partial(live_report, strict)
            check_strict(live_report, strict)
            apply_fail_on(live_report, fail_on)
            return
        if subscription:
            fail("--subscription reads the inventory for --workspace/--storage-account audits; "
                 "with --logs, save it first (pullpath inventory -o FILE) and pass --inventory")
        from pullpath.adapters.logs_files import LogInputError
        from pullpath.adapters.logs_scan import gc_paused
        from pullpath.workflows.audit import run_audit

        with gc_paused():  # the report can be large: see gc_paused
            with user_errors(LogInputError, lazy=_file_input_errors):
                report = run_audit(
                    logs,
                    inventory_paths=inventory,
                    service_tags=service_tags,
                    choose_tags=live.default_service_tags,  # while the logs are read
                    progress=progress_printer("reading logs"),
                )
            render_report(report, fmt, output)
            keep_until_exit()
        live.show_tags_age(report)
        check_strict(report, strict)
        apply_fail_on(report, fail_on)


def _file_input_errors() -> tuple[type[BaseException], ...]:
    """Errors of the inventory and service tag inputs (imported once the logs are being read,
    not before)."""
    from pullpath.adapters.inventory_files import InventoryError
    from pullpath.core.servicetags import ServiceTagError

    return (InventoryError, ServiceTagError)


STRICT_IGNORED = frozenset({"unreadable-directory", "unreadable-entry", "not-a-regular-file"})
"""Inputs that were not read although they may hold logs: ``--strict`` fails on them too
(hidden files, empty files and directory loops lose nothing)."""
STRICT_SHOWN = 5


def check_strict(report: AuditReport, strict: bool) -> None:
    """``--strict``: exit 2 when any record was skipped (or an input could not be read),
    naming the first locations on stderr. Runs after the report is written, so a pipeline
    still has the report to look at."""
    if not strict:
        return
    from pullpath.formatters.common import term_safe

    stats = report.result.stats
    lost = {k: v for k, v in sorted(stats.ignored.items()) if k in STRICT_IGNORED}
    unclassified = report.result.unclassified_events
    if stats.events_skipped == 0 and not lost and not unclassified:
        return
    problems = []
    if stats.events_skipped:
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(stats.skipped.items()))
        problems.append(f"{stats.events_skipped} of {stats.records_seen} record(s) skipped "
                        f"({reasons})")
    if lost:
        problems.append("inputs not read: " + ", ".join(f"{k} {v}" for k, v in lost.items()))
    if unclassified:
        problems.append(f"{unclassified} event(s) not classified (too many distinct flows)")
    stderr.print(f"--strict: {'; '.join(problems)}; exit 2", markup=False, highlight=False,
                 soft_wrap=True)
    for skip in stats.examples[:STRICT_SHOWN]:
        detail = f" ({term_safe(skip.detail, 120)})" if skip.detail else ""
        stderr.print(f"  {term_safe(str(skip.location), 300)}: {term_safe(skip.reason, 60)}"
                     f"{detail}", markup=False, highlight=False, soft_wrap=True)
    more = stats.events_skipped - min(len(stats.examples), STRICT_SHOWN)
    if more > 0:
        stderr.print(f"  ... and {more} more (--format json lists the counts per file)",
                     markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(2)
