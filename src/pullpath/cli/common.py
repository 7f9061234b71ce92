"""Shared CLI plumbing: consoles, output destinations, formats, errors, exit codes."""

from __future__ import annotations

import contextlib
import io
import os
import queue
import stat
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer
from rich.console import Console

from pullpath.formatters.formats import OutputFormat

if TYPE_CHECKING:
    from pullpath.domain.verdicts import Path as NetPath
    from pullpath.formatters.registry import Rendered, Renderers

EXIT_OK = 0
EXIT_FAIL_ON = 1
EXIT_USAGE = 2

stderr = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


Format = OutputFormat
"""The output formats (``--format``); ``formatters.registry`` maps each to its writer."""


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


def write_output(text: Rendered, output: Path | None) -> None:
    """Write to ``--output`` or stdout. Stdout gets the data only; messages go to stderr.
    ``bytes`` are UTF-8 text, written as they are; an iterator of ``bytes`` is UTF-8 text in
    parts, each ending between two characters (``formatters.registry``), written as they come.

    Every output passes ``visible_bytes`` here, the one door all data leaves by: no control,
    bidi or invisible character from a logged value reaches a file or stdout in any format
    (JSON keeps the values exact: they are written as JSON escapes). A file is replaced
    whole (``write_file``)."""
    from pullpath.formatters.common import visible_bytes

    if not isinstance(text, str | bytes):  # parts
        parts = map(visible_bytes, text)
        if output is None:
            for part in parts:
                sys.stdout.write(part.decode("utf-8", "replace"))
            sys.stdout.flush()
            return
        write_file(output, parts)
    else:
        data = text if isinstance(text, bytes) else text.encode("utf-8", "replace")
        safe = visible_bytes(data)
        if output is None:
            sys.stdout.write(text if isinstance(text, str) and safe is data
                             else safe.decode("utf-8", "replace"))
            sys.stdout.flush()
            return
        if isinstance(text, str) and os.linesep != "\n":  # line ends as text files have them
            safe = safe.replace(b"\n", os.linesep.encode("ascii"))
        write_file(output, safe)
    stderr.print(f"[dim]wrote {literal(str(output))}[/]")


def write_file(output: Path, data: bytes | Iterable[bytes]) -> None:
    """Make ``data`` (or its parts, one after the other) the whole content of ``output``
    without ever leaving a part of it there:
    the bytes go to a new temporary file in the target's directory (same file system), are
    flushed to disk and then renamed over the target, which is replaced at once or not at all.
    On an error or an interrupt (Ctrl-C, SIGTERM: see ``cli.app.main``) the temporary file is
    removed and the old file is left as it was; a write error (disk full, file too large) is
    one message and exit code 2. A symbolic link is followed (its target is replaced); the
    replaced file's permission bits are kept. A FIFO or a device (``/dev/stdout``) is written
    to directly: it has nothing to replace."""
    try:
        st: os.stat_result | None = os.stat(output)
    except OSError:
        st = None
    if st is not None and stat.S_ISDIR(st.st_mode):
        fail(f"cannot write {output}: it is a directory", hint="give a file name to --output")
    if st is not None and not stat.S_ISREG(st.st_mode):
        try:
            _write_fd(os.open(output, os.O_WRONLY | getattr(os, "O_BINARY", 0)
                              | getattr(os, "O_CLOEXEC", 0)), data)
        except OSError as exc:
            fail(f"cannot write {output}: {exc.strerror or exc}")
        return
    target = Path(os.path.realpath(output))
    if not target.parent.is_dir():
        fail(f"cannot write {output}: the directory {target.parent} does not exist",
             hint="create it first, or choose another --output")
    flags = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
             | getattr(os, "O_CLOEXEC", 0))
    temp = target  # named before it exists: an interrupt at any point finds it to remove
    done = False
    try:
        for _ in range(100):
            temp = target.with_name(f".{target.name}.{os.urandom(4).hex()}.tmp")
            try:  # a new hidden file with the mode a new file gets (0666 less the umask)
                fd = os.open(temp, flags, 0o666)
                break
            except FileExistsError:  # another's: never to be removed
                temp = target
                continue
            except OSError as exc:
                temp = target
                fail(f"cannot write {output}: cannot create a file in {target.parent}: "
                     f"{exc.strerror or exc}")
        else:
            temp = target
            fail(f"cannot write {output}: no free temporary file name in {target.parent}")
        if st is not None and hasattr(os, "fchmod"):  # (not on Windows before 3.13)
            os.fchmod(fd, stat.S_IMODE(st.st_mode))
        _write_fd(fd, data, sync=True)
        os.replace(temp, target)
        done = True
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}",
             hint="the previous file, if any, is unchanged")
    finally:
        if not done and temp != target:
            with contextlib.suppress(OSError):
                os.unlink(temp)
    _sync_directory(target.parent)


def _write_fd(fd: int, data: bytes | Iterable[bytes], *, sync: bool = False) -> None:
    """Write all of ``data`` (or its parts) to ``fd`` (then ``fsync`` it when ``sync``) and
    close it."""
    try:
        if isinstance(data, bytes):
            _write_all(fd, data)
        else:
            _write_parts(fd, data)
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    with memoryview(data) as view:
        done = 0
        while done < len(view):
            done += os.write(fd, view[done:])


PARTS_AHEAD = 4
"""Parts made and waiting for ``_write_parts``'s writer at most (memory: a few parts)."""


def _write_parts(fd: int, parts: Iterable[bytes]) -> None:
    """Write ``parts`` to ``fd`` in order: a second thread writes each while this one makes
    the next (``os.write`` lets go of the interpreter lock, making a part does not), so the
    kernel's copy of a large report overlaps its encoding (at 1M events, 60 MB: 12-140 ms of
    system time). The first write error is raised here, once the writer has stopped; so is an
    interrupt (Ctrl-C), after the parts already handed over are written: the writer never
    outlives ``fd``."""
    handed: queue.Queue[bytes | None] = queue.Queue(PARTS_AHEAD)
    failed: list[OSError] = []

    def writer() -> None:
        while (part := handed.get()) is not None:
            if not failed:
                try:
                    _write_all(fd, part)
                except OSError as exc:
                    failed.append(exc)

    thread = threading.Thread(target=writer, name="pullpath-write", daemon=True)
    thread.start()
    try:
        for part in parts:
            if failed:
                break
            handed.put(part)
    finally:
        # a second Ctrl-C here must neither leave the writer waiting nor let it outlive fd
        stopped = False
        while not stopped:
            with contextlib.suppress(KeyboardInterrupt):
                handed.put(None)
                stopped = True
        while thread.is_alive():
            with contextlib.suppress(KeyboardInterrupt):
                thread.join()
    if failed:
        raise failed[0]


def _sync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable (best effort: not every platform or file
    system can open or sync a directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def guard_outputs(outputs: Sequence[tuple[str, Path | None]],
                  inputs: Sequence[tuple[str, Path | None]]) -> None:
    """Refuse (exit 2, naming both) an output that is one of the inputs: the same file
    (device and inode, after following symbolic links) as an input file, or as any file under
    an input directory (where a symbolic link in the tree is followed as the readers follow
    it). Warn when a new output lands inside an input directory: the next run reading that
    directory would read the report as input (and then refuse to write over it).

    Two outputs that name the same file (``demo -o r.html --html r.html``) are refused too:
    the second would replace the first.

    ``outputs`` and ``inputs`` are ``(option, path)`` pairs; None is skipped. Called by every
    command before it starts its work."""
    given = [(option, Path(path)) for option, path in inputs if path is not None]
    written: dict[str, tuple[str, Path]] = {}
    for out_option, output in outputs:
        if output is None:
            continue
        try:
            st: os.stat_result | None = os.stat(output)
        except OSError:
            st = None
        if st is not None and not stat.S_ISREG(st.st_mode):
            continue  # a FIFO or device is written to, not replaced; a directory is refused
        real = os.path.realpath(output)
        if real in written:
            first_option, first = written[real]
            fail(f"{out_option} {output} and {first_option} {first} are the same file: the "
                 "second would replace the first", hint=f"choose another {out_option}")
        written[real] = (out_option, output)
        for in_option, path in given:
            same = _same_file_in(path, st) if st is not None else None
            if same is not None:
                what = (f"the input {in_option} {path}" if same == path
                        else f"{same}, an input under {in_option} {path}")
                fail(f"{out_option} {output} is {what} (the same file): refusing to write "
                     "over an input", hint=f"choose another {out_option}")
            if st is None and os.path.isdir(path) and _inside(real, os.path.realpath(path)):
                warn(f"{out_option} {output} is inside {in_option} {path}: the next run "
                     "reading that directory will read the report as input")


def _inside(path: str, directory: str) -> bool:
    try:
        return os.path.commonpath([path, directory]) == directory
    except ValueError:  # another drive
        return False


def _same_file_in(root: Path, target: os.stat_result) -> Path | None:
    """``root`` when it is the file ``target``, or the first file under the directory
    ``root`` that is; symbolic links followed, each directory walked once."""
    try:
        top = os.stat(root)
    except OSError:
        return None
    if not stat.S_ISDIR(top.st_mode):
        return root if os.path.samestat(top, target) else None
    seen: set[tuple[int, int]] = set()
    stack = [str(root)]
    while stack:
        directory = stack.pop()
        try:
            info = os.stat(directory)
            if (info.st_dev, info.st_ino) in seen:
                continue
            seen.add((info.st_dev, info.st_ino))
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            try:
                if not entry.is_symlink() and not entry.is_dir(follow_symlinks=False) \
                        and entry.inode() != target.st_ino:
                    continue  # the inode from the directory listing: no stat needed
                found = entry.stat()
            except OSError:
                continue
            if stat.S_ISDIR(found.st_mode):
                stack.append(entry.path)
            elif os.path.samestat(found, target):
                return Path(entry.path)
    return None


FORMAT_HELP = ("Output format (default: from the --output file's extension: .json, .csv, "
               ".md, .html, .sarif; else table).")

_EXTENSIONS = {".json": Format.JSON, ".csv": Format.CSV, ".md": Format.MARKDOWN,
               ".markdown": Format.MARKDOWN, ".sarif": Format.SARIF, ".html": Format.HTML,
               ".htm": Format.HTML, ".txt": Format.TABLE}


def format_of_path(path: Path) -> Format | None:
    """The format a file name asks for by its extension (``.sarif.json`` is SARIF), or None."""
    name = path.name.lower()
    if name.endswith(".sarif.json"):
        return Format.SARIF
    return _EXTENSIONS.get(Path(name).suffix)


def output_format(value: str | None, output: Path | None, command: str,
                  formats: Sequence[str]) -> Format:
    """The format to write: ``--format`` when given (with a warning when ``--output``'s
    extension names another one), else the one ``--output``'s extension names, else table.
    ``formats`` are the command's (its ``--format`` choices)."""
    implied = format_of_path(output) if output is not None else None
    if value is not None:
        chosen = Format(value)
        if implied is not None and implied is not Format.TABLE and implied is not chosen:
            warn(f"writing {chosen.value} to {output}, whose extension says {implied.value}")
        return chosen
    if implied is None:
        return Format.TABLE
    if implied.value not in formats:
        fail(f"{command} does not write {implied.value}, which the extension of {output} asks "
             "for", hint=f"give --format: {', '.join(formats)}")
    return implied


R = TypeVar("R")


def emit_report(kind: str, report: R, renderers: Renderers[R], fmt: Format,
                output: Path | None,
                render_table: Callable[[R, Console], None] | None = None) -> None:
    """Print or write a ``kind`` report (audit, explain, lab) in ``fmt``: through its function
    in ``renderers`` (a table of ``formatters.registry``), or, for a table the kind draws on a
    console, through ``render_table``."""
    render = renderers.get(fmt)
    if render is None and fmt is Format.TABLE and render_table is not None:
        if output is None:
            render_table(report, Console(highlight=False))
        else:
            console = Console(record=True, width=160, file=io.StringIO())
            render_table(report, console)
            write_output(console.export_text(), output)
        return
    if render is None:
        fail(f"{kind} does not support --format {fmt.value}")
    text = render(report)
    if not isinstance(text, str) and output is not None and os.linesep != "\n":
        # a text file gets this platform's line ends (``write_output`` sets them in a str)
        text = (text if isinstance(text, bytes) else b"".join(text)).decode("utf-8")
    write_output(text, output)


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
