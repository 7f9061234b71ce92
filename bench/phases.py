"""Where one ``pullpath audit --format json`` spends its time, phase by phase.

    python bench/phases.py [--events N] [--one-file] [--repeat R] [--output FILE]

Each run is a fresh process doing what the console script does for
``audit --format json --logs ... --inventory ... --output FILE`` (the same process tuning,
``pullpath.__main__.tune_process``), with a clock read between the phases: the imports, the
scan (worker threads reading, while this thread loads the inventory, service tags and knowledge
base and judges the callers met so far), the flows (``workflows.audit.finish``), the JSON
document, and writing it. Wall and CPU milliseconds (CPU: user + system of the whole process,
worker threads included), the median of R runs; the interpreter's own start is not in it.
The dataset is bench/generate.py's (``bench/run.py`` makes the one-file copy).
Complements bench/run.py, which times whole processes against DuckDB: on a shared host compare
the CPU column, which the neighbours' load moves far less than the wall column.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PHASES = (
    "imports: typer, the commands",
    "imports: the audit workflow",
    "scan, loading, judging",
    "flows (finish)",
    "JSON document, written in parts as made (write_output)",
    "total",
)


def inner(logs: Path, inventory: Path, output: Path) -> dict[str, tuple[float, float]]:
    """One audit in this process, timed by phase: {phase: (wall ms, CPU ms)}."""
    start = time.perf_counter(), time.process_time()
    from pullpath.__main__ import tune_process

    tune_process()
    marks = [start]

    def mark() -> None:
        marks.append((time.perf_counter(), time.process_time()))

    import typer  # noqa: F401

    import pullpath.cli.app  # noqa: F401

    mark()
    import pullpath.workflows.audit as workflow
    from pullpath.cli import live

    mark()
    finish = workflow.finish

    def timed_finish(*args, **kwargs):  # type: ignore[no-untyped-def]
        mark()
        return finish(*args, **kwargs)

    workflow.finish = timed_finish
    report = workflow.run_audit([logs], inventory_paths=[inventory],
                                choose_tags=live.default_service_tags)
    mark()
    from pullpath.cli.common import write_output
    from pullpath.formatters.simple import audit_json_parts

    write_output(audit_json_parts(report), output)
    mark()
    spans = {name: (marks[i], marks[i + 1]) for i, name in enumerate(PHASES[:-1])}
    spans["total"] = (marks[0], marks[-1])
    return {name: (1000 * (b[0] - a[0]), 1000 * (b[1] - a[1]))
            for name, (a, b) in spans.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--one-file", action="store_true",
                        help="the dataset's one plain file (single/PT1H.json) instead of its files")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "out" / "phases.json",
                        help="where each run writes its report")
    parser.add_argument("--inner", nargs=3, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inner:
        print(json.dumps(inner(*args.inner)))
        return 0
    data = ROOT / "bench" / "data" / f"events-{args.events}"
    logs = data / "single" if args.one_file else data / "logs"
    inventory = data / "inventory" / "resources.json"
    if not logs.exists():
        raise SystemExit(f"{logs} does not exist: run bench/run.py --events {args.events} first")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    runs = []
    for _ in range(args.repeat):
        done = subprocess.run([sys.executable, __file__, "--inner", str(logs), str(inventory),
                               str(args.output)], check=True, capture_output=True, text=True)
        runs.append(json.loads(done.stdout))
    print(f"{logs} ({args.repeat} runs, median; load {os.getloadavg()[0]:.1f})")
    print("| phase | wall ms | CPU ms |\n|---|---:|---:|")
    for name in PHASES:
        wall = statistics.median(run[name][0] for run in runs)
        cpu = statistics.median(run[name][1] for run in runs)
        print(f"| {name} | {wall:.0f} | {cpu:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
