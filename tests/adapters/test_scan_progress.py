"""Progress of long log reads: snapshots from the scan (files, bytes, events) and the
transient bar on stderr that ``pullpath audit`` shows on a terminal after a second."""

from __future__ import annotations

import io
import itertools
from pathlib import Path

import pytest
from bench.generate import generate
from rich.console import Console

import pullpath.adapters.logs_scan as logs_scan
import pullpath.cli.common as common
from pullpath.adapters.logs_scan import ScanProgress, scan_logs
from pullpath.domain.events import ReadStats


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("progress"), 12_000, seed=4,
                    events_per_hour=1_500).logs


@pytest.mark.parametrize("workers", [1, 2])
def test_scan_reports_files_bytes_and_events_as_it_goes(
    logs: Path, workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logs_scan, "_PROGRESS_EVERY", 0.001)
    monkeypatch.setattr(logs_scan, "PARALLEL_MIN_BYTES", 0)
    snaps: list[ScanProgress] = []
    stats = ReadStats()
    scan_logs([logs], stats, workers=workers, progress=snaps.append)
    assert snaps
    assert snaps[-1].done
    assert sum(s.done for s in snaps) == 1
    last = snaps[-1]
    files = [p for p in logs.rglob("*") if p.is_file()]
    assert last.files_total == len(files)
    assert last.bytes_total == sum(p.stat().st_size for p in files)
    assert last.events_read == stats.events_read == 12_000
    for before, after in itertools.pairwise(snaps):
        assert after.bytes_done >= before.bytes_done
        assert after.files_done >= before.files_done
        assert after.elapsed >= before.elapsed


def test_the_bar_shows_on_a_terminal_after_the_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    monkeypatch.setattr(common, "stderr", Console(file=out, force_terminal=True, width=120))
    show = common.progress_printer("reading logs", after=1.0)
    assert show is not None

    def snap(elapsed: float, done: bool = False) -> ScanProgress:
        return ScanProgress(files_done=3, files_total=10, bytes_done=30_000_000,
                            bytes_total=100_000_000, events_read=60_000, events_skipped=2,
                            elapsed=elapsed, done=done)

    show(snap(0.5))
    assert out.getvalue() == ""  # nothing for reads shorter than the delay
    show(snap(2.0))
    text = out.getvalue()
    assert "reading logs" in text
    assert "30/100 MB" in text
    assert "3/10 files" in text
    assert "60,000 events" in text
    assert "30,000/s" in text
    assert "2 skipped" in text
    show(snap(2.5, done=True))  # closed: the bar is transient


def test_no_bar_when_stderr_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common, "stderr", Console(file=io.StringIO(), force_terminal=False))
    assert common.progress_printer("reading logs") is None


@pytest.mark.parametrize("workers", [1, 2])
def test_run_audit_leaves_the_process_as_it_was(
    logs: Path, workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A library call changes no process-wide state: the caller's garbage collector stays on
    (during the call too: the progress callback sees it on), its switch interval and its
    environment stay as they were (issue 17, item 3)."""
    import gc
    import os
    import sys

    from pullpath.workflows.audit import run_audit

    monkeypatch.setattr(logs_scan, "_PROGRESS_EVERY", 0.0)
    monkeypatch.setattr(logs_scan, "PARALLEL_MIN_BYTES", 0)
    assert gc.isenabled()
    interval, environ = sys.getswitchinterval(), dict(os.environ)
    seen: list[tuple[bool, float]] = []

    def progress(_: ScanProgress) -> None:
        seen.append((gc.isenabled(), sys.getswitchinterval()))

    report = run_audit([logs], progress=progress, workers=workers)
    assert report.result.stats.events_read == 12_000
    assert seen
    assert all(state == (True, interval) for state in seen)
    assert gc.isenabled()
    assert sys.getswitchinterval() == interval
    assert dict(os.environ) == environ


def test_importing_the_library_and_the_cli_edits_no_environment() -> None:
    """``OPENBLAS_NUM_THREADS`` (and any other process tuning) is set by the console script's
    entry (``pullpath.__main__.main``) only, never when a module is imported."""
    import subprocess
    import sys

    code = ("import os, sys; before = dict(os.environ); "
            "import pullpath.cli.app, pullpath.workflows.audit, pullpath.adapters.logs_scan; "
            "sys.exit(0 if dict(os.environ) == before else 1)")
    env = {k: v for k, v in __import__("os").environ.items() if k != "OPENBLAS_NUM_THREADS"}
    assert subprocess.run([sys.executable, "-c", code], env=env).returncode == 0
