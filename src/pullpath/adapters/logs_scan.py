"""Scan local log files into flow groups: the fast route of ``pullpath audit --logs``.

Each file is counted by :func:`pullpath.adapters.logs_files.scan_file` (JSON lines without a
``PullEvent`` per record) into a ``RawGroups``; large inputs are spread over worker processes,
one file at a time (largest first), each worker keeping its own groups and sending them once
at the end. The accounting is exactly that of reading the files in order one by one: every
file's ``ReadStats`` is merged back in file order. Memory grows with distinct groups only,
never with events.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from pullpath.adapters.logs_fast import FastScanner
from pullpath.adapters.logs_files import iter_log_files, scan_file
from pullpath.core.audit import Aggregator, RawGroups
from pullpath.domain.events import ReadStats

__all__ = ["PARALLEL_MIN_BYTES", "LogScan", "ScanProgress", "default_workers", "scan_logs"]

PARALLEL_MIN_BYTES = 48 * 1024 * 1024
"""Below this many bytes of input, one process does it all (workers cost more than they save)."""
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


def default_workers() -> int:
    """Worker processes: ``$PULLPATH_WORKERS`` if set, else the CPUs this process may use."""
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


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The scan allocates millions of short-lived acyclic objects: the cyclic collector only
    slows it down (about 2x) without ever finding garbage."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def scan_logs(
    paths: Sequence[Path],
    stats: ReadStats,
    *,
    workers: int | None = None,
    progress: ProgressFn | None = None,
) -> Aggregator:
    """All events in all files below ``paths``, grouped; skips counted in ``stats``."""
    with LogScan(paths, stats, workers=workers, progress=progress) as scan:
        return scan.result()


class LogScan:
    """A scan started now and collected by :meth:`result`: with worker processes, the caller
    can do other work meanwhile (load service tags and inventory). Use it as a context
    manager: leaving it stops any worker still running.

    Raises ``LogInputError`` at once for a path that does not exist.
    """

    def __init__(self, paths: Sequence[Path], stats: ReadStats, *, workers: int | None = None,
                 progress: ProgressFn | None = None) -> None:
        start = time.monotonic()
        self.stats = stats
        self.files = list(iter_log_files(paths, stats))
        self.sizes = [_size(f) for f in self.files]
        n = default_workers() if workers is None else max(1, workers)
        n = min(n, len(self.files))
        if n > 1 and (sum(self.sizes) < PARALLEL_MIN_BYTES
                      or multiprocessing.current_process().daemon):  # no children allowed
            n = 1
        self.workers = n
        self._meter = _Meter(len(self.files), sum(self.sizes), start, progress)
        self._pool = _Workers(self.files, self.sizes, n) if n > 1 else None
        self._done = False

    def result(self) -> Aggregator:
        """Wait for the scan (or run it here, without workers) and return its groups."""
        try:
            with _gc_paused():
                if self._pool is None:
                    return _scan_here(self.files, self.sizes, self.stats, self._meter)
                return self._pool.collect(self.stats, self._meter)
        finally:
            self.close()

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


def _scan_here(files: list[Path], sizes: list[int], stats: ReadStats, meter: _Meter) -> Aggregator:
    sink = RawGroups()

    def tick() -> None:
        meter.show(stats.events_read, stats.events_skipped)

    scanner = FastScanner(sink, tick if meter.progress is not None else None)
    for path, size in zip(files, sizes, strict=True):
        scan_file(path, stats, scanner)
        meter.files_done += 1
        meter.bytes_done += size
        meter.show(stats.events_read, stats.events_skipped)
    return sink.finish()


# ----------------------------------------------------------------------------- processes


def _context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    # fork: the workers start at once with everything already imported (Linux)
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _worker(files: list[Path], order: list[int], counter: Any, conn: Connection) -> None:
    """Scan files (taking the next index from ``counter``) until none is left; send each
    file's ``ReadStats``, then this worker's groups once."""
    gc.disable()
    try:
        sink = RawGroups()
        scanner = FastScanner(sink)
        while True:
            with counter.get_lock():
                i = counter.value
                counter.value = i + 1
            if i >= len(order):
                break
            index = order[i]
            stats = ReadStats()
            scan_file(files[index], stats, scanner)
            conn.send(("file", index, stats))
        aggregator = sink.finish()
        conn.send(("done", aggregator.to_rows(), aggregator.overflow_events))
    except BaseException:  # report anything, then stop: the parent raises it
        with suppress(OSError):
            conn.send(("error", traceback.format_exc()))
    finally:
        conn.close()


class ScanWorkerError(RuntimeError):
    """A worker process failed (its traceback is the message) or died."""


class _Workers:
    """Worker processes scanning ``files`` (largest first, the next index from a shared
    counter); each sends every file's ``ReadStats`` and, at the end, its groups."""

    def __init__(self, files: list[Path], sizes: list[int], n: int) -> None:
        ctx = _context()
        self.sizes = sizes
        self.count = len(files)
        order = sorted(range(len(files)), key=lambda i: -sizes[i])  # largest first: even finish
        counter = ctx.Value("q", 0)
        self.procs: list[Any] = []
        self.conns: list[Connection] = []
        try:
            for _ in range(n):
                reader, writer = ctx.Pipe(duplex=False)
                proc = ctx.Process(target=_worker, args=(files, order, counter, writer),
                                   daemon=True)
                proc.start()
                writer.close()
                self.procs.append(proc)
                self.conns.append(reader)
        except BaseException:
            self.stop()
            raise

    def collect(self, stats: ReadStats, meter: _Meter) -> Aggregator:
        per_file: dict[int, ReadStats] = {}
        aggregator = Aggregator()
        events = skipped = 0
        pending = set(self.conns)
        while pending:
            for conn in wait(list(pending), timeout=_PROGRESS_EVERY):
                assert isinstance(conn, Connection)
                try:
                    message = conn.recv()
                except EOFError:
                    codes = [p.exitcode for p in self.procs]
                    raise ScanWorkerError(
                        f"a log scan worker process ended unexpectedly (exit codes {codes}); "
                        "out of memory? PULLPATH_WORKERS=1 scans in one process"
                    ) from None
                kind = message[0]
                if kind == "file":
                    _, index, file_stats = message
                    per_file[index] = file_stats
                    events += file_stats.events_read
                    skipped += file_stats.events_skipped
                    meter.files_done += 1
                    meter.bytes_done += self.sizes[index]
                elif kind == "done":
                    aggregator.add_rows(message[1])
                    aggregator.add_overflow(message[2])
                    pending.discard(conn)
                else:
                    raise ScanWorkerError(f"a log scan worker failed:\n{message[1]}")
            meter.show(events, skipped)
        for proc in self.procs:
            proc.join()
        for index in range(self.count):  # in file order: the accounting of a sequential read
            stats.merge(per_file[index])
        return aggregator

    def stop(self) -> None:
        for proc in self.procs:
            if proc.is_alive():
                proc.terminate()
            proc.join()
        for conn in self.conns:
            conn.close()
        self.procs = []
        self.conns = []
