"""The ``pullpath`` command line (typer + rich).

Each command lives in its own module and registers itself here; this module only assembles
them and handles ``--version``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from typing import Any

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


class StreamFailed(BaseException):
    """A write to stdout or stderr failed (a closed pipe, a full disk, a closed descriptor).

    A BaseException, like KeyboardInterrupt: no ``except Exception`` on the way takes it for
    an input error, and click does not turn it into exit code 1 as it does a broken pipe's
    OSError; ``main`` makes it one line and exit code 2."""

    def __init__(self, stream: str, reason: str) -> None:
        super().__init__(f"cannot write to {stream}: {reason}")
        self.stream = stream


class _Guarded:
    """``sys.stdout`` or ``sys.stderr`` for the console script: the stream's own behaviour,
    but a failed write or flush raises ``StreamFailed``. ``stream`` None: the descriptor was
    closed when the process started (``>&-``); writing anything to it fails."""

    def __init__(self, stream: Any, name: str) -> None:
        self._stream = stream
        self._name = name

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # a text stream (click probes with bytes)
            raise TypeError("write() argument must be str")
        if self._stream is None:
            if not text:
                return 0
            raise StreamFailed(self._name, "it is closed")
        try:
            written: int = self._stream.write(text)
        except OSError as exc:
            raise StreamFailed(self._name, exc.strerror or str(exc)) from None
        return written

    def flush(self) -> None:
        if self._stream is None:
            return
        try:
            self._stream.flush()
        except OSError as exc:
            raise StreamFailed(self._name, exc.strerror or str(exc)) from None

    def isatty(self) -> bool:
        return self._stream is not None and bool(self._stream.isatty())

    def __getattr__(self, name: str) -> Any:
        if self._stream is None:
            raise AttributeError(name)
        return getattr(self._stream, name)


_terminated = False


def _on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM ends the command as Ctrl-C does (KeyboardInterrupt), so that what is being
    written is cleaned up (``cli.common.write_file``: the temporary file removed, the old
    report left), then exit code 143."""
    global _terminated
    _terminated = True
    raise KeyboardInterrupt


def _occupy_closed_descriptors() -> None:
    """A standard descriptor closed at start (``>&-``, ``2>&-``) is opened on the null device,
    so that no file opened later gets its number (and a child process's output)."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)


def _silence(fd: int) -> None:
    """Point ``fd`` at the null device: output still buffered for a failed stream is then
    dropped at exit instead of failing again ("Exception ignored ... BrokenPipeError")."""
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, fd)
    os.close(null)


def main() -> None:
    """The console script (``pullpath``, ``python -m pullpath``): runs the command, then
    turns a failed write to stdout or stderr into one line on the other stream (when it
    still works) and exit code 2, never a traceback or click's exit code 1 for a broken pipe
    (1 is --fail-on's); SIGTERM is handled as Ctrl-C."""
    from pullpath.cli.common import EXIT_USAGE

    stdout_closed, stderr_closed = sys.stdout is None, sys.stderr is None
    _occupy_closed_descriptors()
    sys.stdout = _Guarded(sys.stdout, "standard output")
    sys.stderr = _Guarded(sys.stderr, "standard error")
    signal.signal(signal.SIGTERM, _on_sigterm)
    code: int | str | None
    try:
        try:
            app()
        finally:
            sys.stdout.flush()  # here, not at exit, where a failure could not be reported
    except SystemExit as exc:
        code = exc.code
    except KeyboardInterrupt:
        code = 130
    except StreamFailed as exc:
        code = EXIT_USAGE
        for fd, closed, stream in ((1, stdout_closed, "standard output"),
                                   (2, stderr_closed, "standard error")):
            if exc.stream == stream and not closed:
                _silence(fd)
        if exc.stream != "standard error":
            with contextlib.suppress(StreamFailed):
                sys.stderr.write(f"error: {exc}\n")
                sys.stderr.flush()
    if _terminated:
        code = 143
    if code in (130, 143):
        with contextlib.suppress(StreamFailed):
            sys.stderr.write("terminated\n" if _terminated else "interrupted\n")
    sys.exit(code)
