"""One large plain file scanned by every worker: line-aligned byte ranges of a JSON-lines file.

The reference route (``logs_files._read_stream``) decides whether a file is JSON lines and
where its lines start (after a UTF-8 byte order mark, say): :func:`json_lines_start` runs that
very route on the file's first bytes and answers only when it would hand the rest of the file,
as it is, to a ``LineSink`` (plain UTF-8 bytes, not re-encoded, not gzip). Those bytes are then
cut into ranges (:func:`plan_ranges`) at line starts: a range starts after the first newline at
or after its nominal start (the first range at the start), and ends with the line holding its
nominal end, so a line crossing a nominal boundary is read once, by the range it starts in.

Each range is read by ``FastScanner.json_lines`` like a file of its own (:func:`scan_range`),
its line numbers counted from 1; :func:`merge_ranges` adds the lines of the ranges before it to
its skips' line numbers and merges the ranges in order: the accounting of one sequential read
(counts, skips with reasons and line numbers, times, duplicates). Gzip files are read whole:
their members cannot be found without inflating them.
"""

from __future__ import annotations

import dataclasses
import io
import os
from pathlib import Path
from typing import IO, NoReturn

from pullpath.adapters.logs_fast import FastScanner
from pullpath.adapters.logs_files import (
    _GZIP_MAGIC,
    MAX_LINE_BYTES,
    SNIFF_BYTES,
    _not_regular,
    _read_stream,
)
from pullpath.domain.events import Location, PullEvent, ReadStats, Skip

__all__ = ["SPLIT_BYTES", "RangeResult", "json_lines_start", "merge_ranges", "plan_ranges",
           "scan_range"]

SPLIT_BYTES = 32 * 1024 * 1024
"""A plain JSON-lines file larger than this is split into ranges of about this many bytes."""
_PROBE_LIMIT = SNIFF_BYTES + MAX_LINE_BYTES + SNIFF_BYTES + 1
"""More than the reference route reads before it hands a file's lines over (sniff window,
NUL padding read past, the one byte telling whether the head is the whole file)."""
_FIND_STEP = 64 * 1024


class _Range(io.RawIOBase):
    """Bytes ``start`` to ``end`` (None: the end) of an open file."""

    def __init__(self, raw: IO[bytes], start: int, end: int | None) -> None:
        self.raw = raw
        self.pos = start
        self.end = end
        raw.seek(start)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        room = len(buffer) if self.end is None else min(len(buffer), self.end - self.pos)
        if room <= 0:
            return 0
        got = self.raw.readinto(memoryview(buffer)[:room]) or 0  # type: ignore[attr-defined]
        self.pos += got
        return got


class _Found(Exception):
    def __init__(self, head: bytes, stream: object) -> None:
        self.head = head
        self.stream = stream


class _Probe:
    """A ``LineSink`` that stops the route where it hands the lines over."""

    duplicates = None

    def json_lines(self, head: bytes, stream: object, name: str, stats: ReadStats) -> NoReturn:
        raise _Found(head, stream)

    def add(self, event: PullEvent) -> NoReturn:  # another format: not split
        raise _Found(b"", None)


def json_lines_start(path: Path) -> int | None:
    """The offset from which the reference route reads ``path``'s bytes, as they are, as JSON
    lines (line 1 starts there); None when it reads them otherwise (gzip, another encoding,
    another format, unreadable)."""
    try:
        if _not_regular(path):
            return None
        with path.open("rb", buffering=0) as raw:
            if raw.read(2) == _GZIP_MAGIC:
                return None
            prefix = _Range(raw, 0, _PROBE_LIMIT)
            try:
                for _ in _read_stream(prefix, str(path), ReadStats(), _Probe()):  # type: ignore[arg-type]
                    return None
            except _Found as found:
                if found.stream is not prefix or prefix.pos >= _PROBE_LIMIT:
                    return None
                start = prefix.pos - len(found.head)
                # the head is the file's bytes just before where the route read on: the lines
                # are the file's bytes from ``start`` on
                if start < 0 or os.pread(raw.fileno(), len(found.head), start) != found.head:
                    return None
                return start
    except (OSError, ValueError):
        return None
    return None


def _newline_after(fd: int, at: int, size: int) -> int:
    """The offset just after the first newline at or after ``at`` (``size``: none)."""
    while at < size:
        chunk = os.pread(fd, _FIND_STEP, at)
        if not chunk:
            break
        cut = chunk.find(b"\n")
        if cut >= 0:
            return at + cut + 1
        at += len(chunk)
    return size


def plan_ranges(path: Path, start: int, size: int,
                range_bytes: int) -> list[tuple[int, int | None]]:
    """The line-aligned ranges (start, end; None: to the end of the file) of the lines from
    ``start`` of ``path`` (``size`` bytes), about ``range_bytes`` each."""
    bounds = [start]
    with path.open("rb", buffering=0) as raw:
        fd = raw.fileno()
        nominal = start + range_bytes
        while nominal < size:
            bound = _newline_after(fd, max(nominal, bounds[-1]), size)
            if bound >= size:
                break
            bounds.append(bound)
            nominal = max(nominal + range_bytes, bound)
    return [(a, b) for a, b in zip(bounds, [*bounds[1:], None], strict=True)]


@dataclasses.dataclass(slots=True)
class RangeResult:
    stats: ReadStats
    lines: int
    """The lines of the range (its last line's number)."""
    failed: bool = False
    """Reading it failed (counted as ``unreadable-file``, as a sequential read counts it)."""


def scan_range(path: Path, start: int, end: int | None, scanner: FastScanner) -> RangeResult:
    """Count one range's lines into ``scanner``, numbered from 1."""
    name = str(path)
    stats = ReadStats()
    stats.file_stats(name)
    try:
        with path.open("rb", buffering=0) as raw:
            lines = scanner.json_lines(b"", _Range(raw, start, end), name, stats)
    except OSError as exc:  # as ``logs_files._read_file`` counts it
        stats.count_skip(Skip(Location(name), "unreadable-file", str(exc)[:200]))
        return RangeResult(stats, 0, failed=True)
    return RangeResult(stats, lines)


def merge_ranges(parts: list[RangeResult]) -> ReadStats:
    """The ranges of one file as one sequential read: each range's line numbers moved on by
    the lines before it. (Should reading a range fail midway, which a sequential read would
    end at, the other ranges' events are kept, counted, and numbered as if it had no lines.)"""
    out = ReadStats()
    before = 0
    for part in parts:
        if before:
            part.stats.examples = [
                skip if skip.location.line is None else dataclasses.replace(
                    skip, location=Location(skip.location.file, skip.location.line + before))
                for skip in part.stats.examples]
        out.merge(part.stats)
        before += part.lines
    return out
