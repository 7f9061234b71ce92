"""``pullpath demo``: the design's story, offline, on a bundled scenario."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

import typer
from rich.console import Console

from pullpath.cli.common import (
    FORMAT_HELP,
    Format,
    guard_outputs,
    literal,
    output_format,
    stderr,
)

if TYPE_CHECKING:
    from pullpath.domain.report import AuditReport

DemoFormat = Literal["table", "json", "csv", "markdown", "html"]
DEMO_FORMATS = get_args(DemoFormat)


def demo_dir() -> Path:
    """The bundled scenario: ``logs/`` (diagnostic archive layout) and ``inventory/``."""
    return Path(str(resources.files("pullpath").joinpath("data", "demo")))


def run_demo_audit() -> AuditReport:
    from pullpath.workflows.audit import run_audit

    base = demo_dir()
    return run_audit([base / "logs"], inventory_paths=[base / "inventory"])


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        format_name: DemoFormat | None = typer.Option(None, "--format", "-f", help=FORMAT_HELP),
        output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file."),
        html: Path | None = typer.Option(
            None, "--html", help="Also write the HTML report to this file and print its path.",
        ),
        show_files: bool = typer.Option(
            False, "--show-files", help="Print where the bundled scenario files are, to copy them.",
        ),
    ) -> None:
        """Run the whole story offline: ACI pulls by the trusted-services bypass, ACA through
        the private endpoint, a laptop on the internet is refused.

        The scenario's log and inventory files are ordinary inputs: copy them
        (--show-files) and run `pullpath audit` on them.
        """
        fmt = output_format(format_name, output, "demo", DEMO_FORMATS)
        if show_files:
            typer.echo(str(demo_dir()))
            raise typer.Exit()
        guard_outputs([("--output", output), ("--html", html)], [("the demo scenario", demo_dir())])
        report = run_demo_audit()
        from pullpath.cli.audit import render_report

        if fmt is Format.TABLE and output is None:
            from rich.panel import Panel

            console = Console(highlight=False)
            console.print(Panel.fit(
                "A Premium registry with public access disabled, trusted services allowed and a "
                "private endpoint. ACI in a VNet subnet and ACA in 10.0.2.0/24 pull from it with "
                "user-assigned identities. What did each pull really do?",
                title="pullpath demo", border_style="cyan",
            ))
            render_report(report, fmt, None)  # ends with what happened, in plain words
            _explain_view(console)
        else:
            render_report(report, fmt, output)
        if html is not None:
            render_report(report, Format.HTML, html)
            stderr.print(f"HTML report: {literal(str(html.resolve()))}")


def _explain_view(console: Console) -> None:
    """Explain's prediction for the same inventory, when explain is part of this build."""
    try:
        from pullpath.cli.explain import print_explain_for_demo
    except ImportError:
        return
    print_explain_for_demo(console, demo_dir() / "inventory")
