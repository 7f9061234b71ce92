"""The ``pullpath`` command line (typer + rich).

Each command lives in its own module and registers itself here; this module only assembles
them and handles ``--version``.
"""

from __future__ import annotations

import os
import sys

# pullpath uses numpy for vectorised lookups, never for linear algebra: without this, numpy's
# OpenBLAS starts a worker thread per CPU that spins for a while after import, taking CPU
# from the log scanners on a small machine (about 0.1 CPU-s per audit on 2 cores). Set before
# numpy is first imported; a value the user set wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import typer

from pullpath import __version__

app = typer.Typer(
    name="pullpath",
    help=(
        "Which network path does each Azure Container Registry pull really take?\n\n"
        "audit proves it from the registry's logs, explain predicts it from configuration, "
        "lab measures it in a throw-away Azure lab, demo shows the whole story offline."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"pullpath {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", "-V", help="Show the version and exit.", callback=_version,
        is_eager=True,
    ),
) -> None:
    """Which network path does each ACR pull really take?"""


def _register() -> None:
    from pullpath.cli import audit, demo, explain, lab, live

    for module in (audit, demo, explain, live, lab):
        module.register(app)


_register()


def main() -> None:
    from pullpath.cli.common import process_ends_with_command

    process_ends_with_command()
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
