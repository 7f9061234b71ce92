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
    from pullpath.domain.iac import DeploymentScope
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


CODE_PANEL = "Infrastructure code (before deploy)"


def _scope(resource_group_id: str | None, location: str | None) -> DeploymentScope:
    """The deployment scope from ``--resource-group-id`` (a placeholder when not given)."""
    from pullpath.domain.iac import DeploymentScope
    from pullpath.domain.resource_id import parse_resource_id

    if not resource_group_id:
        return DeploymentScope(location=location or "")
    rid = parse_resource_id(resource_group_id)
    if rid is None or not rid.subscription or not rid.resource_group or rid.namespace:
        fail(f"--resource-group-id is not a resource group ID: {resource_group_id!r}",
             hint="/subscriptions/<subscription id>/resourceGroups/<name>")
    return DeploymentScope(rid.subscription, rid.resource_group, location or "")


def _code_errors() -> tuple[type[BaseException], ...]:
    from pullpath.adapters.iac_files import IacFileError
    from pullpath.core.iac.bicep import BicepError
    from pullpath.core.iac.terraform import TerraformPlanError

    return (IacFileError, TerraformPlanError, BicepError)


def register(app: typer.Typer) -> None:
    @app.command("explain")
    def explain(
        inventory: list[Path] = typer.Option(
            [], "--inventory", "-i",
            help="ARM resource JSON files or directories (repeatable): az resource list, "
                 "az graph query, ARM lists, single resources; add role assignments, diagnostic "
                 "settings and private DNS zones for the full set of checks. With --template "
                 "or --terraform-plan: the resources that exist already.",
        ),
        format_name: ExplainFormat | None = typer.Option(None, "--format", "-f",
                                                         help=FORMAT_HELP),
        output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file."),
        fail_on_severity: str | None = typer.Option(
            None, "--fail-on-severity", help=FAIL_ON_SEVERITY_HELP,
        ),
        template: list[Path] = typer.Option(
            [], "--template", "-t", rich_help_panel=CODE_PANEL,
            help="An ARM deployment template (.json: also what `az bicep build` and `pullpath "
                 "lab plan` write) or a .bicep file (repeatable). Predicts before deploying.",
        ),
        parameters: list[Path] = typer.Option(
            [], "--parameters", "-p", rich_help_panel=CODE_PANEL,
            help="A deployment parameters file (azuredeploy.parameters.json): one for every "
                 "--template, or one per --template in the same order.",
        ),
        terraform_plan: list[Path] = typer.Option(
            [], "--terraform-plan", rich_help_panel=CODE_PANEL,
            help="`terraform show -json tfplan` output (repeatable).",
        ),
        terraform_dir: list[Path] = typer.Option(
            [], "--terraform-dir", rich_help_panel=CODE_PANEL,
            help="Where the plan's .tf files are, for line numbers (default: the plan's "
                 "folder; repeatable).",
        ),
        resource_group_id: str | None = typer.Option(
            None, "--resource-group-id", rich_help_panel=CODE_PANEL,
            help="The resource group the template deploys to (/subscriptions/<id>/"
                 "resourceGroups/<name>), so its resources' IDs match the inventory's. Default: "
                 "a placeholder.",
        ),
        location: str | None = typer.Option(
            None, "--location", rich_help_panel=CODE_PANEL,
            help="The resource group's region, for resourceGroup().location (default: unknown).",
        ),
        baseline: Path | None = typer.Option(
            None, "--baseline", rich_help_panel=CODE_PANEL,
            help="Compare with this template, plan or inventory (file or folder): the consumers "
                 "whose predicted path changes are shown first.",
        ),
        baseline_parameters: Path | None = typer.Option(
            None, "--baseline-parameters", rich_help_panel=CODE_PANEL,
            help="Parameters of a --baseline template (default: the one --parameters file).",
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
        documentation, and report configurations that will break a pull: from resources that
        exist (--inventory, --subscription) or from infrastructure code before it is deployed
        (--template, --terraform-plan).

        Examples:

            pullpath explain --inventory ./inventory --fail-on-severity error

            pullpath explain --template main.json --parameters main.parameters.json \\
                --inventory ./existing -f sarif -o pullpath.sarif
        """
        fmt = output_format(format_name, output, "explain", EXPLAIN_FORMATS)
        inputs = [*(("--inventory", p) for p in inventory),
                  *(("--template", p) for p in template),
                  *(("--parameters", p) for p in parameters),
                  *(("--terraform-plan", p) for p in terraform_plan),
                  ("--baseline", baseline), ("--baseline-parameters", baseline_parameters)]
        guard_outputs([("--output", output)], inputs)
        threshold = parse_severity(fail_on_severity)
        from pullpath.adapters.inventory_files import InventoryError
        from pullpath.knowledge.loader import KnowledgeError

        has_code = bool(template or terraform_plan)
        if not has_code:
            for name, given in (("--parameters", parameters), ("--terraform-dir", terraform_dir),
                                ("--resource-group-id", resource_group_id),
                                ("--location", location), ("--baseline", baseline),
                                ("--baseline-parameters", baseline_parameters)):
                if given:
                    fail(f"{name} applies to infrastructure code: give --template or "
                         "--terraform-plan")
        if parameters and not template:
            fail("--parameters applies to --template")
        if baseline_parameters and not baseline:
            fail("--baseline-parameters applies to --baseline")
        if len(parameters) > 1 and len(parameters) != len(template):
            fail(f"{len(parameters)} --parameters for {len(template)} --template: give one for "
                 "all templates, or one per template in the same order")
        if inventory and subscription:
            fail("give exactly one inventory source: --inventory FILES or --subscription ID")
        if not has_code and not inventory and not subscription:
            fail("nothing to explain: give --inventory FILES, --subscription ID, --template "
                 "FILE or --terraform-plan FILE",
                 hint="save a live inventory for offline use: pullpath inventory -s ID -o FILE")
        if tenant and not subscription:
            fail("--tenant applies to --subscription (live inventory)")
        for name, paths in (("--template", template), ("--terraform-plan", terraform_plan),
                            ("--parameters", parameters),
                            ("--baseline", [baseline] if baseline else []),
                            ("--baseline-parameters",
                             [baseline_parameters] if baseline_parameters else [])):
            for path in paths:
                if not path.exists():
                    fail(f"{name} {path}: no such file")
        if has_code:
            report = _explain_code(
                template, parameters, terraform_plan, terraform_dir,
                _scope(resource_group_id, location), bool(resource_group_id), inventory,
                subscription, tenant, baseline, baseline_parameters)
        elif subscription:
            from pullpath.cli.live import live_inventory_for
            from pullpath.workflows.explain import explain_inventory

            live_inv = live_inventory_for(subscription, tenant)
            with user_errors(KnowledgeError):
                report = explain_inventory(live_inv)
        else:
            from pullpath.workflows.explain import run_explain

            with user_errors(InventoryError, KnowledgeError):
                report = run_explain(inventory)
        if report.inventory.resources == 0 and not has_code:
            warn("the inventory holds no ARM resources: nothing to explain "
                 "(check the --inventory paths)")
        render_explain_report(report, fmt, output)
        apply_fail_on_severity(report, threshold)


def _explain_code(template: list[Path], parameters: list[Path], plans: list[Path],
                  tf_dirs: list[Path], scope: DeploymentScope, scope_given: bool,
                  inventory: list[Path],
                  subscription: list[str], tenant: str | None,
                  baseline: Path | None, baseline_parameters: Path | None) -> ExplainReport:
    from pullpath.adapters.inventory_files import InventoryError
    from pullpath.knowledge.loader import KnowledgeError
    from pullpath.workflows.iac import CodeSources, run_explain_code

    existing: list[tuple[str, object]] = []
    if subscription:
        from pullpath.cli.live import live_documents_for

        existing = live_documents_for(subscription, tenant)
    sources = CodeSources(templates=tuple(template), parameters=tuple(parameters),
                          plans=tuple(plans), tf_dirs=tuple(tf_dirs), scope=scope,
                          scope_given=scope_given)
    with user_errors(InventoryError, KnowledgeError, lazy=_code_errors):
        return run_explain_code(sources, inventory, existing=existing, baseline=baseline,
                                baseline_parameters=baseline_parameters)
