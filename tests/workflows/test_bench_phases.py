"""``bench/phases.py`` times the audit the command runs: each phase is measured, and the
report it writes is the one ``pullpath audit --format json`` writes for the same inputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.generate import generate
from bench.phases import PHASES

ROOT = Path(__file__).resolve().parents[2]


def test_phases_time_the_audit_the_command_runs(tmp_path: Path) -> None:
    data = generate(tmp_path / "data", 3_000, seed=5, events_per_hour=1_000)
    timed, by_command = tmp_path / "timed.json", tmp_path / "command.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "phases.py"), "--inner", str(data.logs),
         str(data.inventory), str(timed)],
        check=True, capture_output=True, text=True, cwd=tmp_path)
    phases = json.loads(done.stdout)
    assert list(phases) == list(PHASES)
    assert all(wall >= 0 and cpu >= 0 for wall, cpu in phases.values())
    assert phases["total"][0] >= sum(phases[p][0] for p in PHASES[:-1]) - 1e-6
    subprocess.run(
        [sys.executable, "-m", "pullpath", "audit", "--format", "json", "--logs",
         str(data.logs), "--inventory", str(data.inventory), "--output", str(by_command)],
        check=True, capture_output=True, cwd=tmp_path)
    assert timed.read_bytes() == by_command.read_bytes()
    assert json.loads(timed.read_bytes())["input"]["events_read"] == 3_000
