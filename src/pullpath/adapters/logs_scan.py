"""Scan local log files into flow groups: the fast route of ``pullpath audit --logs``.

Each file is counted by :func:`pullpath.adapters.logs_files.scan_file` (JSON lines by the
compiled scanner where it is installed, every other line by the reference reader:
``adapters.logs_fast``); large inputs are spread over worker threads,
one file at a time (largest first), or one line-aligned range of a large plain JSON-lines file
(``adapters.logs_split``), each thread with its own groups, merged at the end. The
compiled scanner and zlib work without the interpreter lock, so threads scan in parallel. The
accounting is exactly that of reading the files in order one by one: every file's
``ReadStats`` is merged back in file order. Memory grows with distinct groups only, never with
events; with more than one path given, the paths are read one after the other, and each
event's fingerprint (8 bytes) is kept to drop an event a later path holds again
(``logs_files.Duplicates``).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from pullpath.adapters.logs_common import max_read_groups
from pullpath.adapters.logs_fast import FastScanner, Resolutions, compiled_installed
from pullpath.adapters.logs_files import Duplicates, log_inputs, scan_file
from pullpath.adapters.logs_split import (
    SPLIT_BYTES,
    RangeResult,
    json_lines_start,
    merge_ranges,
    plan_ranges,
    scan_range,
)
from pullpath.core.groups import Aggregator, GroupKey
from pullpath.domain.events import ReadStats

__all__ = ["PARALLEL_MIN_BYTES", "SPLIT_BYTES", "LogScan", "ScanProgress", "default_workers",
           "scan_logs"]

PARALLEL_MIN_BYTES = 8 * 1024 * 1024
"""Below this many bytes of input, one thread does it all."""
_PROGRESS_EVERY = 0.25  # seconds


@dataclass(frozen=True, slots=True)
class ScanProgress:
    """Where a scan is, for progress displays."""

    files_done: int
    files_total: int
    bytes_done: int
    """Bytes of the files as stored (compressed for gzip)."""
    bytes_total: int
    events_read: int
    events_skipped: int
    elapsed: float
    done: bool = False


ProgressFn = Callable[[ScanProgress], None]
GroupsFn = Callable[[list[GroupKey]], None]
"""Called by the waiting thread with groups the compiled scanner met since the last call."""
_HAND_OVER_EVERY = 0.02  # seconds: how often a waiting ``result`` hands new groups over


def default_workers() -> int:
    """Worker threads: ``$PULLPATH_WORKERS`` if set, else the CPUs this process may use."""
    env = os.environ.get("PULLPATH_WORKERS", "").strip()
    if env.isdigit():
        return max(1, int(env))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def scan_logs(
    paths: Sequence[Path],
    stats: ReadStats,
    *,
    workers: int | None = None,
    progress: ProgressFn | None = None,
    split_bytes: int | None = None,
) -> Aggregator:
    """All events in all files below ``paths``, grouped; skips counted in ``stats``."""
    with LogScan(paths, stats, workers=workers, progress=progress,
                 split_bytes=split_bytes) as scan:
        return scan.result()


class LogScan:
    """A scan started now and collected by :meth:`result`: with worker threads, the caller
    can do other work meanwhile (load service tags and inventory). Use it as a context
    manager: leaving it stops the workers (after the file each is reading).

    With worker threads, a plain JSON-lines file larger than ``split_bytes`` (default
    ``SPLIT_BYTES``) is split into line-aligned ranges of about that size, read by every worker
    (``adapters.logs_split``).

    Raises ``LogInputError`` at once for a path that does not exist.
    """

    def __init__(self, paths: Sequence[Path], stats: ReadStats, *, workers: int | None = None,
                 progress: ProgressFn | None = None, split_bytes: int | None = None) -> None:
        start = time.monotonic()
        self.stats = stats
        self.inputs = [[(f, _size(f)) for f in files] for files in log_inputs(paths, stats)]
        """Per path given: its files with their sizes."""
        self.files = [f for files in self.inputs for f, _ in files]
        self.sizes = [size for files in self.inputs for _, size in files]
        n = default_workers() if workers is None else max(1, workers)
        if n > 1 and sum(self.sizes) < PARALLEL_MIN_BYTES:
            n = 1
        split_bytes = SPLIT_BYTES if split_bytes is None else max(1, split_bytes)
        self.splits: list[dict[int, list[tuple[int, int | None]]]] = [
            _splits(files, split_bytes) if n > 1 else {} for files in self.inputs]
        """Per input: its files read in ranges (by index), with their ranges."""
        tasks = len(self.files) + sum(len(ranges) - 1 for split in self.splits
                                      for ranges in split.values())
        self.workers = n = min(n, tasks)
        self.duplicates = Duplicates() if len(self.inputs) > 1 else None
        self._meter = _Meter(len(self.files), sum(self.sizes), start, progress)
        self._pool = self._start(0) if n > 1 else None
        self._done = False

    def _start(self, index: int) -> _Workers | None:
        """Start the workers on the files of input ``index`` (None: it has none)."""
        if self.duplicates is not None:
            self.duplicates.start_input(collect=index < len(self.inputs) - 1)
        files = self.inputs[index]
        if not files:
            return None
        return _Workers([f for f, _ in files], [size for _, size in files], self.workers,
                        self.duplicates, (self._meter.files_done, self._meter.bytes_done),
                        self.splits[index])

    def result(self, on_groups: GroupsFn | None = None) -> Aggregator:
        """Wait for the scan (or run it here, without workers) and return its groups.

        While it waits for worker threads, ``on_groups`` gets the groups they have met so far
        (each once, in batches; perhaps not all of them): the caller can work on them while
        the logs are still read."""
        try:
            if self.workers <= 1:
                return _scan_here(self.inputs, self.stats, self._meter, self.duplicates)
            if len(self.inputs) == 1:
                assert self._pool is not None
                return self._pool.collect(self.stats, self._meter, on_groups)
            aggregator = Aggregator(max_read_groups())
            for index in range(len(self.inputs)):  # one after the other (duplicates)
                if index:
                    self._pool = self._start(index)
                if self._pool is not None:
                    part = self._pool.collect(self.stats, self._meter, on_groups)
                    self._pool.stop()
                    aggregator.merge(part)
                    aggregator.add_overflow(part.overflow_events)
            return aggregator
        finally:
            self.close()

    def warnings(self) -> list[str]:
        """What the report should say about how the logs were read."""
        if compiled_installed() or sum(self.sizes) < PARALLEL_MIN_BYTES:
            return []
        return ["pullpath's compiled log scanner is not installed (no C compiler when it was "
                "installed): the logs were read line by line, with the same results but several "
                "times slower; reinstall with gcc and the Python headers available"]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.stop()
        if not self._done:
            self._done = True
            self._meter.finish(self.stats)  # always: a progress display must be closed

    def __enter__(self) -> LogScan:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Meter:
    def __init__(self, files: int, total: int, start: float, progress: ProgressFn | None) -> None:
        self.files_total = files
        self.bytes_total = total
        self.start = start
        self.progress = progress
        self.files_done = 0
        self.bytes_done = 0
        self.last = start

    def show(self, events: int, skipped: int) -> None:
        if self.progress is None:
            return
        now = time.monotonic()
        if now - self.last < _PROGRESS_EVERY:
            return
        self.last = now
        self.progress(ScanProgress(self.files_done, self.files_total, self.bytes_done,
                                   self.bytes_total, events, skipped, now - self.start))

    def finish(self, stats: ReadStats) -> None:
        if self.progress is not None:
            now = time.monotonic()
            self.progress(ScanProgress(self.files_done, self.files_total, self.bytes_done,
                                       self.bytes_total, stats.events_read,
                                       stats.events_skipped, now - self.start, done=True))


def _splits(files: list[tuple[Path, int]],
            split_bytes: int) -> dict[int, list[tuple[int, int | None]]]:
    """The files of one input to read in ranges (by index), with their ranges."""
    out: dict[int, list[tuple[int, int | None]]] = {}
    for index, (path, size) in enumerate(files):
        if size <= split_bytes:
            continue
        start = json_lines_start(path)
        if start is None:
            continue
        try:
            ranges = plan_ranges(path, start, size, split_bytes)
        except OSError:
            continue
        if len(ranges) > 1:
            out[index] = ranges
    return out


def _scan_here(inputs: list[list[tuple[Path, int]]], stats: ReadStats, meter: _Meter,
               duplicates: Duplicates | None) -> Aggregator:
    def tick() -> None:
        meter.show(stats.events_read, stats.events_skipped)

    shared = Resolutions()
    scanner = FastScanner(tick if meter.progress is not None else None, shared)
    for index, files in enumerate(inputs):
        if duplicates is not None:
            duplicates.start_input(collect=index < len(inputs) - 1)
            scanner.set_input(duplicates)
        for path, size in files:
            scan_file(path, stats, scanner)
            meter.files_done += 1
            meter.bytes_done += size
            meter.show(stats.events_read, stats.events_skipped)
    aggregator = scanner.finish()
    shared.add_to(aggregator)
    return aggregator


# ----------------------------------------------------------------------------- threads


_Task = tuple[int, int, int, int | None, int]
"""A file's index, its range's index (-1: the whole file), the range's start and end, and its
bytes."""


class _Workers:
    """Worker threads scanning ``files`` (largest first: they finish together), each taking
    the next file (or range of a file in ``splits``) until none is left, with its own scanner;
    every file's ``ReadStats`` is kept for the merge in file order."""

    def __init__(self, files: list[Path], sizes: list[int], n: int,
                 duplicates: Duplicates | None = None, done: tuple[int, int] = (0, 0),
                 splits: dict[int, list[tuple[int, int | None]]] | None = None) -> None:
        self.files = files
        self.duplicates = duplicates
        self.done = done
        """Files and bytes of the inputs read before (progress counts on from there)."""
        self.sizes = sizes
        self.splits = splits or {}
        tasks: list[_Task] = []
        for i, size in enumerate(sizes):
            ranges = self.splits.get(i)
            if ranges is None:
                tasks.append((i, -1, 0, None, size))
                continue
            for part, (start, end) in enumerate(ranges):
                tasks.append((i, part, start, end, (size if end is None else end) - start))
        self.order = sorted(tasks, key=lambda task: -task[4])
        n = min(n, len(tasks))
        self.ranges_left = {i: len(ranges) for i, ranges in self.splits.items()}
        self.per_range: dict[int, list[RangeResult | None]] = {
            i: [None] * len(ranges) for i, ranges in self.splits.items()}
        self.lock = threading.Lock()
        self.next = 0
        self.stopping = False
        self.per_file: dict[int, ReadStats] = {}
        self.results: list[Aggregator] = []
        self.errors: list[BaseException] = []
        self.shared = Resolutions()
        self.events = self.skipped = self.files_done = self.bytes_done = 0
        self.threads = [threading.Thread(target=self._work, name=f"pullpath-scan-{i}",
                                         daemon=True) for i in range(n)]
        for thread in self.threads:
            thread.start()

    def _take(self) -> _Task | None:
        with self.lock:
            if self.stopping or self.errors or self.next >= len(self.order):
                return None
            task = self.order[self.next]
            self.next += 1
            return task

    def _work(self) -> None:
        try:
            scanner = FastScanner(shared=self.shared)
            if self.duplicates is not None:
                scanner.set_input(self.duplicates)
            while (task := self._take()) is not None:
                index, part, start, end, size = task
                if part < 0:
                    stats = ReadStats()
                    scan_file(self.files[index], stats, scanner)
                else:
                    result = scan_range(self.files[index], start, end, scanner)
                    stats = result.stats
                with self.lock:
                    if part < 0:
                        self.per_file[index] = stats
                        self.files_done += 1
                    else:
                        self.per_range[index][part] = result
                        self.ranges_left[index] -= 1
                        self.files_done += not self.ranges_left[index]
                    self.events += stats.events_read
                    self.skipped += stats.events_skipped
                    self.bytes_done += size
            aggregator = scanner.finish()
            with self.lock:
                self.results.append(aggregator)
        except BaseException as exc:  # raised again by collect()
            with self.lock:
                self.errors.append(exc)

    def collect(self, stats: ReadStats, meter: _Meter,
                on_groups: GroupsFn | None = None) -> Aggregator:
        wait = _PROGRESS_EVERY if on_groups is None else _HAND_OVER_EVERY
        for thread in self.threads:
            while thread.is_alive():
                thread.join(wait)
                if on_groups is not None:
                    on_groups(self.shared.new_groups())
                with self.lock:
                    meter.files_done = self.done[0] + self.files_done
                    meter.bytes_done = self.done[1] + self.bytes_done
                    events, skipped = self.events, self.skipped
                # ``stats`` holds the inputs read before (merged at the end of each)
                meter.show(stats.events_read + events, stats.events_skipped + skipped)
        if self.errors:
            raise self.errors[0]
        aggregator = Aggregator(max_read_groups())
        for part in self.results:
            aggregator.merge(part)
            aggregator.add_overflow(part.overflow_events)
        self.shared.add_to(aggregator)
        for index in range(len(self.files)):  # in file order: the accounting of a sequential read
            parts = self.per_range.get(index)
            if parts is None:
                stats.merge(self.per_file[index])
            else:
                stats.merge(merge_ranges(cast(list[RangeResult], parts)))
        return aggregator

    def stop(self) -> None:
        """Let the threads end after the file (or range) each is reading (they cannot be
        interrupted)."""
        with self.lock:
            self.stopping = True
        for thread in self.threads:
            thread.join()
