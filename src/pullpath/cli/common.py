"""Shared CLI plumbing: consoles, output destinations, formats, errors, exit codes."""

from __future__ import annotations

import gc
import io
import os
import stat
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console

if TYPE_CHECKING:
    from pullpath.domain.verdicts import Path as NetPath

EXIT_OK = 0
EXIT_FAIL_ON = 1
EXIT_USAGE = 2

stderr = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


_process_ends_with_command = False


def process_ends_with_command() -> None:
    """Called by the console script (``cli.app.main``): the process ends when the command
    does (unlike a caller running commands in process, such as a test's runner)."""
    global _process_ends_with_command
    _process_ends_with_command = True


def keep_until_exit() -> None:
    """Once a command has written its output, everything still alive (an audit's groups,
    flows and report: millions of objects) is only waiting for the process to end. When it
    ends with this command, move it all out of the cyclic collector's reach (``gc.freeze``):
    re-enabling the collector (``adapters.logs_scan.gc_paused``) would otherwise walk it all once
    more, as would the collection at interpreter exit (~0.2 s at a million events)."""
    if _process_ends_with_command:
        gc.freeze()


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    MARKDOWN = "markdown"
    SARIF = "sarif"
    HTML = "html"


class UserError(Exception):
    """An error the user can act on: printed as one clear message, exit code 2."""


def fail(message: str, *, hint: str = "") -> NoReturn:
    stderr.print(f"[bold red]error:[/] {literal(message)}")
    if hint:
        stderr.print(f"[dim]hint:[/] {literal(hint)}")
    raise typer.Exit(EXIT_USAGE)


def literal(text: str, limit: int = 2000) -> str:
    """``text`` (a path, a name, an error's message) for a rich message: shown as it is, never
    read as markup or emoji codes, and terminal-safe (``term_safe``, at most ``limit``
    characters)."""
    from rich.markup import escape

    from pullpath.formatters.common import term_safe

    return escape(term_safe(text, limit))


def warn(message: str) -> None:
    stderr.print(f"[bold yellow]warning:[/] {literal(message)}")


def parse_paths(value: str | None, *, option: str) -> set[NetPath]:
    """``--fail-on trusted-service,public`` -> set of paths, with a clear error for typos."""
    if value is None:
        return set()
    from pullpath.domain.verdicts import Path as NetPath

    out: set[NetPath] = set()
    valid = ", ".join(p.value for p in NetPath)
    for part in value.split(","):
        name = part.strip().lower()
        if not name:
            continue
        try:
            out.add(NetPath(name))
        except ValueError:
            fail(f"{option}: unknown path {part.strip()!r}", hint=f"choose from: {valid}")
    if not out:
        fail(f"{option} needs at least one path", hint=f"choose from: {valid}")
    return out


def write_output(text: str | bytes, output: Path | None) -> None:
    """Write to ``--output`` or stdout. Stdout gets the data only; messages go to stderr.
    ``bytes`` are UTF-8 text, written as they are."""
    if output is None:
        sys.stdout.write(text.decode("utf-8") if isinstance(text, bytes) else text)
        sys.stdout.flush()
        return
    if not output.parent.is_dir():
        fail(f"cannot write {output}: the directory {output.parent} does not exist",
             hint="create it first, or choose another --output")
    try:
        if isinstance(text, bytes):
            _write_over(output, text)
        elif os.linesep == "\n":
            _write_over(output, text.encode("utf-8"))
        else:  # line ends translated as text files have them there
            output.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")
    stderr.print(f"[dim]wrote {literal(str(output))}[/]")


def _write_over(output: Path, data: bytes) -> None:
    """Make ``data`` the whole content of ``output``. An existing file is written over and
    then cut to length, not emptied first: emptying a large file and filling it again makes
    the file system free its blocks and allocate them anew, and ext4 flushes a file emptied
    that way when it is closed (about 40 ms for a 60 MB report). A FIFO or device is written
    to as before."""
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(output, flags, 0o666)
    try:
        with memoryview(data) as view:
            done = 0
            while done < len(view):
                done += os.write(fd, view[done:])
        if stat.S_ISREG(os.fstat(fd).st_mode):
            os.ftruncate(fd, len(data))
    finally:
        os.close(fd)


def emit_report(kind: str, report: Any, fmt: Format, output: Path | None,
                render_table: Callable[[Any, Console], None]) -> None:
    """Print or write a ``kind`` report (audit, explain) in ``fmt``: the table through
    ``render_table``, every other format through ``formatters.registry``."""
    if fmt is Format.TABLE:
        if output is None:
            render_table(report, Console(highlight=False))
        else:
            console = Console(record=True, width=160, file=io.StringIO())
            render_table(report, console)
            write_output(console.export_text(), output)
        return
    from pullpath.formatters.registry import bytes_renderer, renderer

    # a file gets the bytes at once where the format has them (write_text would translate
    # line ends on a platform whose are not "\n": there, the text as before)
    render_bytes = (bytes_renderer(kind, fmt.value)
                    if output is not None and os.linesep == "\n" else None)
    if render_bytes is not None:
        write_output(render_bytes(report), output)
        return
    render = renderer(kind, fmt.value)
    if render is None:
        fail(f"{kind} does not support --format {fmt.value}")
    write_output(render(report), output)


def require_format(fmt: Format, supported: tuple[Format, ...], command: str) -> None:
    if fmt not in supported:
        names = ", ".join(f.value for f in supported)
        fail(f"{command} does not support --format {fmt.value}", hint=f"choose from: {names}")


@contextmanager
def user_errors(*kinds: type[BaseException],
                lazy: Callable[[], tuple[type[BaseException], ...]] | None = None
                ) -> Iterator[None]:
    """Turn known input errors into one clear message and exit code 2, never a traceback.

    ``lazy`` gives more kinds, asked only when an exception arrives (their modules need not be
    imported before the work starts)."""
    try:
        yield
    except UserError as exc:
        fail(str(exc))
    except kinds as exc:
        fail(str(exc))
    except Exception as exc:
        if lazy is not None and isinstance(exc, lazy()):
            fail(str(exc))
        raise


def progress_printer(label: str, *, after: float = 1.0) -> Callable[[object], None] | None:
    """A transient progress bar on stderr for long reads (files, bytes, events/s), shown only
    on a terminal and only once the read has taken ``after`` seconds.

    Takes ``adapters.logs_scan.ScanProgress`` snapshots (files_done/files_total,
    bytes_done/bytes_total, events_read, events_skipped, elapsed, done); any object with
    ``events_read``, ``events_skipped`` and ``files`` gives a one-line summary instead.
    """
    if not stderr.is_terminal:
        return None
    return _ProgressDisplay(label, after)


class _ProgressDisplay:
    def __init__(self, label: str, after: float) -> None:
        import time

        self._label = label
        self._after = after
        self._start = time.monotonic()
        self._clock = time.monotonic
        self._bar: Any = None
        self._task: Any = None

    def __call__(self, snap: object) -> None:
        if not hasattr(snap, "bytes_total"):
            self._line(snap)
            return
        if getattr(snap, "done", False):
            self.close()
            return
        elapsed = float(getattr(snap, "elapsed", self._clock() - self._start))
        if self._bar is None:
            if elapsed < self._after:
                return
            from rich.progress import BarColumn, Progress, TextColumn

            # no refresh thread (auto_refresh off): it redraws on each progress snapshot
            self._bar = Progress(
                TextColumn(f"[dim]{escape_markup(self._label)}[/]"),
                BarColumn(bar_width=16),
                TextColumn("[dim]{task.fields[detail]}[/]"),
                console=stderr, transient=True, auto_refresh=False,
            )
            self._bar.start()
            self._task = self._bar.add_task("", total=getattr(snap, "bytes_total", 0) or None,
                                            detail="")
        read = int(getattr(snap, "events_read", 0))
        skipped = int(getattr(snap, "events_skipped", 0))
        done_mb = getattr(snap, "bytes_done", 0) / 1e6
        total_mb = getattr(snap, "bytes_total", 0) / 1e6
        detail = (f"{done_mb:,.0f}/{total_mb:,.0f} MB, "
                  f"{getattr(snap, 'files_done', 0)}/{getattr(snap, 'files_total', 0)} files, "
                  f"{read:,} events, {read / max(elapsed, 1e-6):,.0f}/s"
                  + (f", {skipped:,} skipped" if skipped else ""))
        self._bar.update(self._task, completed=getattr(snap, "bytes_done", 0), detail=detail)
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def _line(self, stats: object) -> None:
        read = getattr(stats, "events_read", 0)
        skipped = getattr(stats, "events_skipped", 0)
        files = len(getattr(stats, "files", ()))
        elapsed = max(self._clock() - self._start, 1e-6)
        stderr.print(
            f"[dim]{escape_markup(self._label)}: {files} file(s), {read:,} events, "
            f"{skipped:,} skipped, {read / elapsed:,.0f} events/s[/]",
            end="\r",
        )


def escape_markup(text: str) -> str:
    from rich.markup import escape

    return escape(text)
