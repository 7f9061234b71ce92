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
    literal,
    output_format,
    parse_paths,
    progress_printer,
    stderr,
    user_errors,
    warn,
)

if TYPE_CHECKING:
    from rich.console import Console

    from pullpath.domain.report import AuditReport
    from pullpath.domain.verdicts import Path as NetPath

AuditFormat = Literal["table", "json", "csv", "markdown", "html", "sarif"]
AUDIT_FORMATS = get_args(AuditFormat)

FAIL_ON_HELP = (
    "Exit 1 when any flow took one of these paths (comma-separated: private-endpoint, "
    "trusted-service, firewall-rule, public, denied, unknown). For CI gates. Fails closed: "
    "also exits 1 when no events were read (--allow-empty), or when inputs could not be read "
    "or events were left unclassified (--allow-partial)."
)
ALLOW_EMPTY_HELP = "With --fail-on: pass when the logs hold no registry events at all."
ALLOW_PARTIAL_HELP = (
    "With --fail-on: pass although some inputs could not be read (unreadable, damaged or "
    "partial) or some events were left unclassified (too many distinct callers)."
)


def render_report(report: AuditReport, fmt: Format, output: Path | None) -> None:
    """Print or write an audit report in the chosen format."""
    from pullpath.formatters.registry import AUDIT_RENDERERS

    emit_report("audit", report, AUDIT_RENDERERS, fmt, output, _render_table)


def _render_table(report: AuditReport, console: Console) -> None:
    from pullpath.formatters.table import render_audit  # only for the table format

    render_audit(report, console)


def fail_on_problems(report: AuditReport, paths: set[NetPath], *, allow_empty: bool = False,
                     allow_partial: bool = False) -> list[str]:
    """Why ``--fail-on`` fails, one line each ([] when it passes): a flow took one of
    ``paths``, or the evidence the verdict rests on is missing (fails closed). Evidence gaps
    count only for a gate (``paths`` given); ``allow_empty``/``allow_partial`` accept them."""
    if not paths:
        return []
    result = report.result
    stats = result.stats
    problems: list[str] = []
    hits = [f for f in result.flows if f.path in paths]
    if hits:
        events = sum(f.count for f in hits)
        names = ", ".join(sorted({f.path.value for f in hits}))
        problems.append(f"{len(hits)} flow(s), {events} event(s) took {names}")
    if stats.events_read == 0 and not allow_empty:
        problems.append("no registry events were read from the given logs (an empty folder, a "
                        "0-byte file, a broken download, the wrong time range?); pass "
                        "--allow-empty to accept")
    if not allow_partial:
        lost = stats.inputs_not_read()
        if lost:
            kinds = ", ".join(f"{k} {v}" for k, v in lost.items())
            problems.append(f"{sum(lost.values())} input(s) could not be read, whole or from a "
                            f"damaged spot on ({kinds}): their events are not judged; pass "
                            "--allow-partial to accept")
        if result.unclassified_events:
            problems.append(f"{result.unclassified_events} event(s) were read but not "
                            "classified (too many distinct callers, identities and results): "
                            "their paths are unknown; pass --allow-partial to accept")
    return problems


def apply_gates(report: AuditReport, *, strict: bool, fail_on: str | None,
                allow_empty: bool = False, allow_partial: bool = False) -> None:
    """``--strict`` and ``--fail-on``, after the report is written (a pipeline still has the
    report to look at). Every condition that tripped is printed on stderr; ``--strict``'s
    exit 2 (damaged input) takes precedence over ``--fail-on``'s exit 1."""
    strict_lines = strict_problems(report) if strict else []
    paths = parse_paths(fail_on, option="--fail-on")
    problems = fail_on_problems(report, paths, allow_empty=allow_empty,
                                allow_partial=allow_partial)
    for line in strict_lines:
        stderr.print(line, markup=False, highlight=False, soft_wrap=True)
    for problem in problems:
        stderr.print(f"[bold red]--fail-on:[/] {literal(problem)}")
    if strict_lines:
        raise typer.Exit(2)
    if problems:
        raise typer.Exit(EXIT_FAIL_ON)
    if paths and report.result.stats.events_read == 0:  # --allow-empty
        warn("--fail-on passed on no evidence: no registry events were read (--allow-empty)")


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
                 "response). Default: the newest cached file of the registries' cloud "
                 "(pullpath service-tags update) when newer than the bundled 2025-10-28 Public "
                 "file, else that file.",
        ),
        format_name: AuditFormat | None = typer.Option(None, "--format", "-f", help=FORMAT_HELP),
        output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file."),
        fail_on: str | None = typer.Option(None, "--fail-on", help=FAIL_ON_HELP),
        allow_empty: bool = typer.Option(False, "--allow-empty", help=ALLOW_EMPTY_HELP),
        allow_partial: bool = typer.Option(False, "--allow-partial", help=ALLOW_PARTIAL_HELP),
        strict: bool = typer.Option(
            False, "--strict",
            help="Exit 2 if any record was skipped (damaged logs), listing the first locations, "
                 "or if the service tags are of another cloud than the registries; takes "
                 "precedence over --fail-on's exit 1.",
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
            apply_gates(live_report, strict=strict, fail_on=fail_on, allow_empty=allow_empty,
                        allow_partial=allow_partial)
            return
        if subscription:
            fail("--subscription reads the inventory for --workspace/--storage-account audits; "
                 "with --logs, save it first (pullpath inventory -o FILE) and pass --inventory")
        from pullpath.adapters.logs_files import LogInputError
        from pullpath.workflows.audit import run_audit

        with user_errors(LogInputError, lazy=_file_input_errors):
            report = run_audit(
                logs,
                inventory_paths=inventory,
                service_tags=service_tags,
                choose_tags=live.default_service_tags,  # while the logs are read
                progress=progress_printer("reading logs"),
            )
        render_report(report, fmt, output)
        live.show_tags_age(report)
        apply_gates(report, strict=strict, fail_on=fail_on, allow_empty=allow_empty,
                    allow_partial=allow_partial)


def _file_input_errors() -> tuple[type[BaseException], ...]:
    """Errors of the inventory and service tag inputs (imported once the logs are being read,
    not before)."""
    from pullpath.adapters.inventory_files import InventoryError
    from pullpath.core.servicetags import ServiceTagError

    return (InventoryError, ServiceTagError)


STRICT_SHOWN = 5


def strict_problems(report: AuditReport) -> list[str]:
    """What ``--strict`` fails on (exit 2), as the lines to print ([] when nothing): any
    record skipped, an input not read although it may hold logs (``UNREAD_INPUTS``: hidden
    files, empty files and directory loops lose nothing), events left unclassified, a partial
    workspace query, service tags of another cloud; with the first locations."""
    from pullpath.domain.events import PARTIAL_RESULTS, UNREAD_INPUTS
    from pullpath.formatters.common import term_safe

    stats = report.result.stats
    lost = {k: v for k, v in sorted(stats.ignored.items()) if k in UNREAD_INPUTS}
    unclassified = report.result.unclassified_events
    partial = stats.ignored.get(PARTIAL_RESULTS, 0)
    mismatch = report.tags.cloud_mismatch
    problems = []
    if stats.events_skipped:
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(stats.skipped.items()))
        problems.append(f"{stats.events_skipped} of {stats.records_seen} record(s) skipped "
                        f"({reasons})")
    if lost:
        problems.append("inputs not read: " + ", ".join(f"{k} {v}" for k, v in lost.items()))
    if unclassified:
        problems.append(f"{unclassified} event(s) not classified (too many distinct flows)")
    if partial:
        problems.append(f"{partial} workspace query(ies) returned partial results (see the "
                        "warnings)")
    if mismatch:
        problems.append(mismatch)
    if not problems:
        return []
    lines = [f"--strict: {'; '.join(problems)}; exit 2"]
    for skip in stats.examples[:STRICT_SHOWN]:
        detail = f" ({term_safe(skip.detail, 120)})" if skip.detail else ""
        lines.append(f"  {term_safe(str(skip.location), 300)}: {term_safe(skip.reason, 60)}"
                     f"{detail}")
    more = stats.events_skipped - min(len(stats.examples), STRICT_SHOWN)
    if more > 0:
        lines.append(f"  ... and {more} more (--format json lists the counts per file)")
    return lines
