"""Time ``pullpath audit`` against a bare DuckDB scan and a straightforward script.

    python -m pip install '.[bench]'     # DuckDB, for (b)
    python bench/run.py [--events N ...] [--repeat R] [--skip-baseline]

For each size N (default 1,000,000; the dataset is generated once by bench/generate.py) the
same files are processed by three whole processes, each timed from start to exit:

(a) ``python -m pullpath audit --format json --logs ... --inventory ... --output FILE``;
(b) ``bench/duckdb_scan.py``: DuckDB ``read_json`` projecting the same fields, counting rows;
(c) ``bench/baseline.py``: json per line, ``ipaddress`` lookups with a per-address cache.

(a) and (b) run twice: on the dataset's files (150 at 1M events) and on the same events in one
plain file (the files concatenated, gzip ones inflated: ``single/PT1H.json`` beside ``logs``),
the shape of a Log Analytics export or a concatenated archive.

Wall time is the median of R runs for (a) and (b) (one run of (c): it is slow). Memory: the
peak of the sum of RSS over the process and all its children (sampled from /proc every
50 ms; each tool here runs as one process, its threads included), the same with PSS (every
250 ms; shared pages counted once) and the largest single process (``getrusage``). Results go
to bench/out/results-N.json and a table on stdout.
"""

from __future__ import annotations

import argparse
import compileall
import gzip
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import Dataset, ensure_dataset  # noqa: E402

OUT = ROOT / "bench" / "out"
PAGE = os.sysconf("SC_PAGE_SIZE")
TARGETS = {
    "a_over_b_at_1m": 2.0,
    "c_over_a": 10.0,
    "rss_5m_mb": 600.0,
    "rss_5m_over_1m": 1.2,
    "time_5m_over_1m": 5.5,
    "tags_load_s": 0.3,
}


# ----------------------------------------------------------------------------- measuring


@dataclass
class Run:
    wall: float
    user: float
    sys: float
    rss_tree_mb: float
    """Peak of the summed RSS of the process tree (sampled)."""
    rss_max_mb: float
    """Largest single process of the tree (getrusage ru_maxrss)."""
    pss_tree_mb: float
    """Peak of the summed PSS of the process tree (shared pages counted once; sampled)."""
    returncode: int
    stderr: str = ""


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                out.extend(int(x) for x in fh.read().split())
    except OSError:
        pass
    return out


def _tree(pid: int) -> list[int]:
    out = []
    stack = [pid]
    while stack:
        p = stack.pop()
        out.append(p)
        stack.extend(_children(p))
    return out


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * PAGE
    except (OSError, ValueError, IndexError):
        return 0


def _pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def measure(cmd: list[str], *, stdout: Any = subprocess.DEVNULL) -> Run:
    """Run ``cmd`` to completion: wall time, CPU time and peak memory of its process tree."""
    peak = peak_pss = 0
    done = threading.Event()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE, cwd=ROOT)

    def sample() -> None:
        nonlocal peak, peak_pss
        tick = 0
        while not done.is_set():
            pids = _tree(proc.pid)
            peak = max(peak, sum(map(_rss, pids)))
            if tick % 5 == 0:  # PSS is costlier to read: every 250 ms
                peak_pss = max(peak_pss, sum(map(_pss, pids)))
            tick += 1
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    assert proc.stderr is not None
    err = proc.stderr.read()  # the child cannot block on a full stderr pipe
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(wall, usage.ru_utime, usage.ru_stime, peak / 2**20, usage.ru_maxrss / 1024,
               peak_pss / 2**20, proc.returncode, err.decode(errors="replace")[-2000:])


@dataclass
class Tool:
    name: str
    runs: list[Run] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    @property
    def best(self) -> float:
        return min(r.wall for r in self.runs)

    @property
    def rss_tree_mb(self) -> float:
        return max(r.rss_tree_mb for r in self.runs)

    @property
    def rss_max_mb(self) -> float:
        return max(r.rss_max_mb for r in self.runs)

    @property
    def pss_tree_mb(self) -> float:
        return max(r.pss_tree_mb for r in self.runs)

    def summary(self, events: int) -> dict[str, Any]:
        return {
            "wall_s": round(self.wall, 3),
            "best_wall_s": round(self.best, 3),
            "cpu_s": round(statistics.median(r.user + r.sys for r in self.runs), 3),
            "events_per_s": round(events / self.wall),
            "peak_rss_tree_mb": round(self.rss_tree_mb, 1),
            "peak_rss_single_mb": round(self.rss_max_mb, 1),
            "peak_pss_tree_mb": round(self.pss_tree_mb, 1),
            "runs": [asdict(r) | {"stderr": r.stderr[-300:]} for r in self.runs],
        }


# ----------------------------------------------------------------------------- the machine


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) // 1024
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    versions = {}
    for mod in ("duckdb", "orjson", "numpy"):
        try:
            versions[mod] = __import__(mod).__version__
        except Exception:  # not installed: not needed by every tool
            versions[mod] = None
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_mb": mem,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_before": [round(x, 2) for x in load],
        **versions,
    }


def tags_load_time() -> dict[str, float]:
    """Loading the bundled public service tags and building the index, warm (cached compiled
    index), in a fresh process: the best of three."""
    code = (
        "import time; t0 = time.perf_counter()\n"
        "from pullpath.adapters.servicetags_files import load_service_tags\n"
        "t1 = time.perf_counter(); index = load_service_tags(); t2 = time.perf_counter()\n"
        "print(t1 - t0, t2 - t1, len(index.prefix_index))"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)  # warm
    best = (float("inf"), float("inf"), 0.0)
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                             text=True).stdout.split()
        imp, load, prefixes = float(out[0]), float(out[1]), float(out[2])
        if load < best[1]:
            best = (imp, load, prefixes)
    return {"import_s": round(best[0], 4), "load_and_index_s": round(best[1], 4),
            "prefixes": best[2]}


def warm_files(data: Dataset, *more: Path) -> None:
    """Read every input once, so that every tool starts from the page cache."""
    for path in [p for root in (data.logs, *more) for p in root.rglob("*")]:
        if path.is_file():
            with path.open("rb") as fh:
                while fh.read(1 << 24):
                    pass


def single_file(data: Dataset) -> Path:
    """The dataset's log files as one plain JSON-lines file (made once): ``single/PT1H.json``
    under the dataset's root, the files in path order, gzip ones inflated."""
    out = data.root / "single" / "PT1H.json"
    if out.exists():
        return out.parent
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".partial")
    with tmp.open("wb") as sink:
        for path in sorted(data.logs.rglob("PT1H.json*")):
            opener = gzip.open if path.name.endswith(".gz") else open
            last = b"\n"
            with opener(path, "rb") as source:
                while chunk := source.read(1 << 22):
                    sink.write(chunk)
                    last = chunk[-1:]
            if last != b"\n":
                sink.write(b"\n")
    tmp.rename(out)
    return out.parent


# ----------------------------------------------------------------------------- running


def compile_bytecode() -> None:
    """Byte-compile pullpath once, as ``pip install`` does: the timed processes then start
    from cached bytecode even where ``PYTHONDONTWRITEBYTECODE`` is set (it stops writing the
    cache, not reading it)."""
    import pullpath

    compileall.compile_dir(Path(pullpath.__file__).parent, quiet=1)


def bench(events: int, repeat: int, baseline: bool) -> dict[str, Any]:
    data = ensure_dataset(events, log=lambda m: print(f"  generating: {m}", end="\r",
                                                      file=sys.stderr))
    OUT.mkdir(parents=True, exist_ok=True)
    compile_bytecode()
    tags = tags_load_time()
    audit_out = OUT / f"audit-{events}.json"
    single = single_file(data)
    warm_files(data, single)
    tools = {
        "a": (Tool("pullpath audit"), [sys.executable, "-m", "pullpath", "audit",
                                       "--format", "json", "--logs", str(data.logs),
                                       "--inventory", str(data.inventory),
                                       "--output", str(audit_out)]),
        "b": (Tool("duckdb bare scan"), [sys.executable, str(ROOT / "bench" / "duckdb_scan.py"),
                                         str(data.logs)]),
        "c": (Tool("straightforward script"), [sys.executable,
                                               str(ROOT / "bench" / "baseline.py"),
                                               "--logs", str(data.logs), "--inventory",
                                               str(data.inventory), "--output",
                                               str(OUT / f"baseline-{events}.json")]),
        "a1": (Tool("pullpath audit, one file"), [
            sys.executable, "-m", "pullpath", "audit", "--format", "json", "--logs",
            str(single), "--inventory", str(data.inventory), "--output",
            str(OUT / f"audit-{events}-one-file.json")]),
        "b1": (Tool("duckdb bare scan, one file"), [
            sys.executable, str(ROOT / "bench" / "duckdb_scan.py"), str(single)]),
    }
    for i in range(repeat):
        for key in ("b", "a", "b1", "a1"):
            tool, cmd = tools[key]
            print(f"  {events:,} events: ({key}) {tool.name}, run {i + 1}/{repeat}",
                  file=sys.stderr)
            run = measure(cmd)
            if run.returncode != 0:
                raise SystemExit(f"({key}) failed ({run.returncode}):\n{run.stderr}")
            tool.runs.append(run)
    if baseline:
        tool, cmd = tools["c"]
        print(f"  {events:,} events: (c) {tool.name} (slow)", file=sys.stderr)
        run = measure(cmd)
        if run.returncode != 0:
            raise SystemExit(f"(c) failed ({run.returncode}):\n{run.stderr}")
        tool.runs.append(run)

    doc = json.loads(audit_out.read_text())
    a, b, c, a1, b1 = (tools[k][0] for k in ("a", "b", "c", "a1", "b1"))
    one = json.loads((OUT / f"audit-{events}-one-file.json").read_text())
    result: dict[str, Any] = {
        "events": events,
        "dataset": {"files": data.files, "bytes_on_disk": data.bytes, "lines": data.lines,
                    "path": str(data.root.relative_to(ROOT))},
        "machine": machine(),
        "audit": {"events_read": doc["input"]["events_read"],
                  "events_skipped": doc["input"]["events_skipped"],
                  "flows": len(doc["flows"]), "output_bytes": audit_out.stat().st_size},
        "service_tags": tags,
        "a": a.summary(events),
        "b": b.summary(events),
        "one_file": {"bytes": (single / "PT1H.json").stat().st_size,
                     "events_read": one["input"]["events_read"],
                     "events_skipped": one["input"]["events_skipped"],
                     "flows": len(one["flows"])},
        "a1": a1.summary(events),
        "b1": b1.summary(events),
        "ratios": {"a_over_b": round(a.wall / b.wall, 2),
                   "a1_over_b1": round(a1.wall / b1.wall, 2)},
    }
    if c.runs:
        result["c"] = c.summary(events)
        result["ratios"]["c_over_a"] = round(c.wall / a.wall, 1)
    (OUT / f"results-{events}.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def report(results: list[dict[str, Any]]) -> None:
    m = results[0]["machine"]
    print(f"\nmachine: {m['nproc']} CPUs, {m['cpu']}, {m['ram_mb'] / 1024:.1f} GiB RAM, "
          f"Python {m['python']}, load before {m['load_before']}")
    head = (f"{'events':>10} {'tool':24} {'wall s':>8} {'events/s':>12} {'CPU s':>7} "
            f"{'RSS tree MB':>12} {'PSS tree MB':>12} {'RSS max MB':>11}")
    print(head)
    print("-" * len(head))
    for r in results:
        for key in ("a", "b", "c", "a1", "b1"):
            if key not in r:
                continue
            t = r[key]
            name = {"a": "(a) pullpath audit", "b": "(b) duckdb bare scan",
                    "c": "(c) straightforward", "a1": "(a) one file",
                    "b1": "(b) one file"}[key]
            print(f"{r['events']:>10,} {name:24} {t['wall_s']:>8.2f} {t['events_per_s']:>12,} "
                  f"{t['cpu_s']:>7.2f} {t['peak_rss_tree_mb']:>12.0f} "
                  f"{t['peak_pss_tree_mb']:>12.0f} {t['peak_rss_single_mb']:>11.0f}")
        ratios = r["ratios"]
        extra = f", (c)/(a) = {ratios['c_over_a']}" if "c_over_a" in ratios else ""
        print(f"{'':>10} (a)/(b) = {ratios['a_over_b']}{extra}; {r['audit']['flows']:,} flows; "
              f"service tags load+index {r['service_tags']['load_and_index_s']} s warm")
        if "a1_over_b1" in ratios:
            print(f"{'':>10} one file of {r['one_file']['bytes'] / 1e6:,.0f} MB: (a)/(b) = "
                  f"{ratios['a1_over_b1']}; {r['one_file']['flows']:,} flows")
    by_n = {r["events"]: r for r in _all_results()}
    checks = []
    if 1_000_000 in by_n:
        checks.append(("(a)/(b) <= 2.0 at 1M", by_n[1_000_000]["ratios"]["a_over_b"],
                       TARGETS["a_over_b_at_1m"], "le"))
        if "c_over_a" in by_n[1_000_000]["ratios"]:
            checks.append(("(c)/(a) >= 10 at 1M", by_n[1_000_000]["ratios"]["c_over_a"],
                           TARGETS["c_over_a"], "ge"))
    if 5_000_000 in by_n:
        five = by_n[5_000_000]["a"]
        for measure, label in (("peak_rss_tree_mb", "RSS summed over processes"),
                               ("peak_pss_tree_mb", "PSS summed over processes")):
            checks.append((f"(a) at 5M <= 600 MB, {label}", five.get(measure, 0.0),
                           TARGETS["rss_5m_mb"], "le"))
            if 1_000_000 in by_n and by_n[1_000_000]["a"].get(measure):
                ratio = five.get(measure, 0.0) / by_n[1_000_000]["a"][measure]
                checks.append((f"(a) 5M/1M <= 1.2, {label}", round(ratio, 2),
                               TARGETS["rss_5m_over_1m"], "le"))
        if 1_000_000 in by_n:
            checks.append(("time (a) 5M/1M <= 5.5",
                           round(five["wall_s"] / by_n[1_000_000]["a"]["wall_s"], 2),
                           TARGETS["time_5m_over_1m"], "le"))
    tags = results[-1]["service_tags"]["load_and_index_s"]
    checks.append(("service tags load+index <= 0.3 s warm", tags, TARGETS["tags_load_s"], "le"))
    print("\ntargets (from bench/out/results-*.json):")
    for label, value, limit, how in checks:
        ok = value <= limit if how == "le" else value >= limit
        print(f"  {'PASS' if ok else 'FAIL'}  {label}: {value}")


def _all_results() -> list[dict[str, Any]]:
    out = []
    for path in sorted(OUT.glob("results-*.json")):
        try:
            out.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, action="append",
                        help="dataset size (repeatable; default 1000000)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of (a) and (b) per size; the median is reported (default 3)")
    parser.add_argument("--skip-baseline", action="store_true",
                        help="do not run (c), the slow straightforward script")
    args = parser.parse_args(argv)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    results = [bench(n, max(1, args.repeat), not args.skip_baseline)
               for n in args.events or [1_000_000]]
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
