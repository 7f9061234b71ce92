"""The files the ``--logs`` paths name: files given, files below directories given (sorted,
hidden files and loops counted, not read), each file once even when two paths name it; and
why a path is not a regular file (FIFOs and devices are never opened).

Nothing here reads a file's content; ``logs_files`` does.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

from pullpath.domain.events import ReadStats


class LogInputError(ValueError):
    """A log input that does not exist or cannot be opened at all."""


def iter_log_files(paths: Sequence[Path], stats: ReadStats) -> Iterator[Path]:
    """Files named, and files below directories named (recursive, sorted, loops avoided)."""
    seen: set[str] = set()
    for path in paths:
        yield from _input_files(path, seen, stats)


def log_inputs(paths: Sequence[Path], stats: ReadStats) -> list[list[Path]]:
    """The files of each path given (an input; ``iter_log_files`` in groups): a file below
    two of the paths belongs to the first. Raises ``LogInputError`` for a path that does not
    exist, before anything is read."""
    seen: set[str] = set()
    return [list(_input_files(path, seen, stats)) for path in paths]


def _input_files(path: Path, seen: set[str], stats: ReadStats) -> Iterator[Path]:
    try:
        exists = path.exists()
    except OSError as exc:  # e.g. a name too long
        raise LogInputError(f"{path}: {exc.strerror or exc}") from None
    if not exists:
        if path.is_symlink():
            raise LogInputError(f"{path}: a symbolic link to nothing (broken or a loop)")
        raise LogInputError(f"{path}: no such file or directory")
    if path.is_dir():
        yield from _walk(path, seen, stats)
    else:
        real = os.path.realpath(path)
        if real not in seen:
            seen.add(real)
            yield path


def _walk(root: Path, seen: set[str], stats: ReadStats) -> Iterator[Path]:
    visited_dirs: set[str] = set()
    # each directory with its real path: an entry that is not a symbolic link is its
    # directory's real path plus its name, so only links need ``realpath`` (an archive's
    # deep tree would otherwise cost a ``stat`` per path component of every file)
    stack: list[tuple[Path, str]] = [(root, os.path.realpath(root))]
    while stack:
        directory, real_dir = stack.pop()
        if real_dir in visited_dirs:
            stats.ignored["directory-loop"] += 1
            continue
        visited_dirs.add(real_dir)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            stats.ignored["unreadable-directory"] += 1
            continue
        subdirs: list[tuple[Path, str]] = []
        for entry in entries:
            path = Path(entry.path)
            try:
                real = (os.path.realpath(path) if entry.is_symlink()
                        else os.path.join(real_dir, entry.name))
                if entry.is_dir():
                    subdirs.append((path, real))
                elif entry.is_file():
                    if entry.name.startswith("."):
                        stats.ignored["hidden-file"] += 1
                        continue
                    if real in seen:
                        continue
                    seen.add(real)
                    yield path
                else:
                    stats.ignored["not-a-regular-file"] += 1
            except OSError:
                stats.ignored["unreadable-entry"] += 1
        stack.extend(reversed(subdirs))


def _not_regular(path: Path) -> str:
    """Why ``path`` is not a regular file ("" when it is): FIFOs and devices are never opened
    (a FIFO blocks, /dev/zero never ends)."""
    mode = path.stat().st_mode
    if stat.S_ISREG(mode):
        return ""
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a regular file"
