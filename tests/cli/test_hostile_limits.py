"""Limits that hold (issue #8, item 2): the CLI run as a user would (``python -m pullpath``)
on hostile inputs, each with a clear, counted outcome, no traceback, the right exit code, and
bounded memory.

Time is never asserted: every run has a generous subprocess timeout, only as a hang guard.
Memory is the child's peak RSS (``os.wait4``), against generous bounds that a read of the whole
input would exceed by far. The numbers are in docs/limits.md, "Limits".
"""

from __future__ import annotations

import gzip
import json
import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pullpath.adapters.inventory_files import MAX_INVENTORY_BYTES
from pullpath.adapters.logs_files import (
    MAX_COMPRESSION_RATIO,
    MAX_DECOMPRESSED_BYTES,
    MAX_DOCUMENT_BYTES,
    MAX_LINE_BYTES,
    iter_log_files,
)
from pullpath.adapters.servicetags_files import MAX_SERVICE_TAG_BYTES
from pullpath.core.records import MAX_FIELD_CHARS
from pullpath.domain.events import ReadStats
from tests.support import ROOT
from tests.support.hostile import record

HANG_GUARD = 300  # seconds: only to turn a hang into a failure, never a speed assertion
MiB = 1024 * 1024


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    max_rss_mib: float

    def json(self) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(self.stdout)
        return doc


def pullpath(args: Sequence[str], *, cwd: Path, env: dict[str, str] | None = None,
             prefix: Sequence[str] = ()) -> Run:
    """``python -m pullpath ARGS`` in a subprocess; its exit code, output and peak RSS."""
    out, err = cwd / ".stdout", cwd / ".stderr"
    full_env = {**os.environ, "PULLPATH_WORKERS": "1", "COLUMNS": "200", **(env or {})}
    with out.open("wb") as fo, err.open("wb") as fe:
        proc = subprocess.Popen([*prefix, sys.executable, "-m", "pullpath", *args], cwd=cwd,
                                stdout=fo, stderr=fe, stdin=subprocess.DEVNULL, env=full_env)
        timer = threading.Timer(HANG_GUARD, lambda: os.kill(proc.pid, signal.SIGKILL))
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    stderr = err.read_text(errors="replace")
    assert code != -signal.SIGKILL, f"hang guard: killed after {HANG_GUARD}s\n{stderr}"
    assert "Traceback" not in stderr, stderr
    return Run(code, out.read_text(errors="replace"), stderr, usage.ru_maxrss / 1024)


def audit(tmp_path: Path, *logs: Path | str, extra: Sequence[str] = (),
          env: dict[str, str] | None = None, prefix: Sequence[str] = ()) -> Run:
    args = ["audit", "--format", "json"]
    for path in logs:
        args += ["--logs", str(path)]
    return pullpath([*args, *extra], cwd=tmp_path, env=env, prefix=prefix)


@pytest.fixture(scope="module")
def baseline_mib(tmp_path_factory: pytest.TempPathFactory) -> float:
    """Peak memory of the same command on a one-record input: bounds below are stated on top
    of it (imports and the service-tag index), so they test the reader, not the interpreter."""
    tmp = tmp_path_factory.mktemp("baseline")
    log = tmp / "PT1H.json"
    log.write_bytes(lines([record(0)]))
    return audit(tmp, log).max_rss_mib


def lines(records: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


def per_file(doc: dict[str, Any], name: str) -> dict[str, Any]:
    (entry,) = [f for f in doc["input"]["per_file"] if Path(f["file"]).name == name]
    return entry


def reasons(doc: dict[str, Any]) -> dict[str, tuple[int | None, str]]:
    """file name -> (line, reason) of its first skip."""
    out: dict[str, tuple[int | None, str]] = {}
    for ex in doc["input"]["skipped_examples"]:
        out.setdefault(Path(ex["file"]).name, (ex["line"], ex["reason"]))
    return out


def assert_accounting(doc: dict[str, Any]) -> None:
    inp = doc["input"]
    assert inp["records_seen"] == inp["events_read"] + inp["events_skipped"]
    assert inp["events_skipped"] == sum(inp["skipped"].values())
    assert sum(f["records"] for f in inp["per_file"]) == inp["records_seen"]


# --------------------------------------------------------------------------- huge lines


def test_300_mib_of_huge_lines_and_fields_in_bounded_memory(tmp_path: Path, baseline_mib: float) -> None:
    """Written streaming: a 150 MiB line (over the line limit: skipped, line-too-long, never
    held) and 50 records whose repository is a distinct 3 MiB value (under the line limit:
    read, the value cut to MAX_FIELD_CHARS). Regression: the fast route kept each distinct raw
    value as a group key (150 MiB held here)."""
    path = tmp_path / "PT1H.json"
    chunk = b"A" * MiB
    with path.open("wb") as fh:
        fh.write(lines([record(1)]))
        fh.write(b'{"category": "ContainerRegistryRepositoryEvents", "userAgent": "')
        for _ in range(150):
            fh.write(chunk)
        fh.write(b'"}\n')
        for i in range(50):
            rec = json.dumps(record(100 + i, repository="@@@")).encode()
            fh.write(rec.replace(b"@@@", b"%d-" % i + b"R" * (3 * MiB)) + b"\n")
        fh.write(lines([record(2)]))
    assert path.stat().st_size > 300 * MiB
    try:
        run = audit(tmp_path, path)
    finally:
        path.unlink()  # 300 MiB: not left behind in pytest's kept temporary directories
    assert run.code == 0
    doc = run.json()
    assert_accounting(doc)
    assert doc["input"]["events_read"] == 52
    assert doc["input"]["skipped"] == {"line-too-long": 1}
    assert reasons(doc)["PT1H.json"] == (2, "line-too-long")
    assert max(len(f["repository"]) for f in doc["flows"]) == MAX_FIELD_CHARS
    # holding the long line or the long values would take 150+ MiB on top of the baseline
    assert run.max_rss_mib < baseline_mib + 100, (run.max_rss_mib, baseline_mib)


def test_csv_field_of_64_mib_is_skipped_in_bounded_memory(tmp_path: Path, baseline_mib: float) -> None:
    """A quoted CSV cell of 64 MiB (16x the line limit, 64x the field limit: enough to show
    it is never held whole, at a fifth of the JSON test's disk cost)."""
    header = "TimeGenerated,Type,OperationName,CallerIpAddress,Repository\r\n"
    good = "2025-01-30T14:19:15Z,ContainerRegistryRepositoryEvents,Pull,203.0.113.18,app\r\n"
    path = tmp_path / "export.csv"
    with path.open("wb") as fh:
        fh.write((header + good).encode())
        fh.write(b'2025-01-30T14:19:15Z,ContainerRegistryRepositoryEvents,Pull,203.0.113.19,"')
        for _ in range(64):
            fh.write(b"B" * MiB)
        fh.write(b'"\r\n')
        fh.write(good.encode())
    run = audit(tmp_path, path)
    assert run.code == 0
    doc = run.json()
    assert_accounting(doc)
    assert doc["input"]["events_read"] == 2
    assert doc["input"]["events_skipped"] >= 1
    assert set(doc["input"]["skipped"]) <= {"line-too-long", "malformed-row"}
    assert run.max_rss_mib < baseline_mib + 150, (run.max_rss_mib, baseline_mib)


# --------------------------------------------------------------------------- deep nesting


def test_deeply_nested_json_everywhere(tmp_path: Path) -> None:
    depth = 100_000
    logs = tmp_path / "logs"
    logs.mkdir()
    nested = b"[" * depth + b"]" * depth
    (logs / "line.json").write_bytes(lines([record(1)]) + nested + b"\n" + lines([record(2)]))
    (logs / "document.json").write_bytes(b'{"records": ' + nested + b"}")
    (logs / "deep-record.json").write_bytes(
        b'{"category": "ContainerRegistryRepositoryEvents", "operationName": "Pull", '
        b'"properties": ' + b'{"a": ' * depth + b"1" + b"}" * depth + b"}\n")
    inventory = tmp_path / "inventory.json"
    inventory.write_bytes(b'{"value": ' + nested + b"}")
    run = audit(tmp_path, logs, extra=["--inventory", str(inventory)])
    assert run.code == 0
    doc = run.json()
    assert_accounting(doc)
    found = reasons(doc)
    assert found["line.json"] == (2, "invalid-json")  # beyond the decoder's depth limit
    assert found["document.json"][1] == "too-deeply-nested"
    assert found["deep-record.json"][1] in ("invalid-json", "too-deeply-nested")
    assert per_file(doc, "line.json")["events_read"] == 2
    assert any("inventory.json" in i["location"] for i in doc["inventory"]["issues"])

    tags = tmp_path / "tags.json"
    tags.write_bytes(b'{"values": ' + nested + b"}")
    run = audit(tmp_path, logs, extra=["--service-tags", str(tags)])
    assert run.code == 2
    assert "tags.json" in run.stderr


def test_nesting_within_the_decoder_limit_is_read(tmp_path: Path) -> None:
    """A record with a properties bag nested 1000 deep (under orjson's 1024) still reads:
    only the fields pullpath knows are looked at, at fixed depths."""
    path = tmp_path / "PT1H.json"
    rec = json.dumps(record(1)).encode()
    extra = b', "extra": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    path.write_bytes(rec[:-1] + extra + b"\n")
    run = audit(tmp_path, path)
    assert run.code == 0
    assert run.json()["input"]["events_read"] == 1


# --------------------------------------------------------------------------- directories


def test_directory_with_symlink_loops_fifo_device_and_bad_links(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    sub = logs / "a" / "b"
    sub.mkdir(parents=True)
    (sub / "PT1H.json").write_bytes(lines([record(1), record(2)]))
    (sub / "up").symlink_to("../..")  # loop to an ancestor
    (logs / "self").symlink_to("self")  # a link to itself
    (logs / "dangling").symlink_to("nowhere")
    (logs / "again").symlink_to(sub)  # the same directory twice
    (logs / "zero").symlink_to("/dev/zero")  # a device
    os.mkfifo(logs / "fifo")  # opened, it would block forever
    run = audit(tmp_path, logs)
    assert run.code == 0
    doc = run.json()
    assert_accounting(doc)
    assert doc["input"]["events_read"] == 2  # the one real file, read once
    assert doc["input"]["files"] == 1
    ignored = doc["input"]["ignored"]
    assert ignored.get("directory-loop", 0) >= 1
    assert ignored.get("not-a-regular-file", 0) + ignored.get("unreadable-entry", 0) >= 4


def test_each_file_is_listed_once_by_its_real_path(tmp_path: Path) -> None:
    """Links to files and directories of the tree, a root named through a link and a root
    named twice: every regular file once, in walk order."""
    logs = tmp_path / "logs"
    deep = logs / "y=2024" / "m=11"
    deep.mkdir(parents=True)
    (deep / "PT1H.json").write_bytes(b"")
    (logs / "other.json").write_bytes(b"")
    (logs / "alias.json").symlink_to(deep / "PT1H.json")  # the same file by another name
    (logs / "y=link").symlink_to("y=2024")  # the same directory by another name
    (tmp_path / "root-link").symlink_to(logs)
    stats = ReadStats()
    found = list(iter_log_files([tmp_path / "root-link", logs, logs / "other.json"], stats))
    assert found == [tmp_path / "root-link" / "alias.json", tmp_path / "root-link" / "other.json"]
    assert stats.ignored == {"directory-loop": 2}  # y=link, met in each walk of the tree


def test_fifo_and_device_named_directly_are_not_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    good = tmp_path / "PT1H.json"
    good.write_bytes(lines([record(1)]))
    run = audit(tmp_path, fifo, "/dev/zero", good)
    assert run.code == 0
    doc = run.json()
    assert_accounting(doc)
    assert doc["input"]["events_read"] == 1
    assert doc["input"]["skipped"] == {"not-a-regular-file": 2}
    assert reasons(doc)["fifo.json"] == (None, "not-a-regular-file")
    run = audit(tmp_path, fifo, good, extra=["--strict"])
    assert run.code == 2
    assert "fifo.json" in run.stderr
    # the other readers refuse them too, with a message, not a hang
    run = audit(tmp_path, good, extra=["--service-tags", str(fifo)])
    assert run.code == 2
    assert "regular file" in run.stderr
    run = audit(tmp_path, good, extra=["--service-tags", "/dev/zero"])
    assert run.code == 2
    run = audit(tmp_path, good, extra=["--inventory", str(fifo)])
    assert run.code == 0
    assert any("regular file" in i["problem"] for i in run.json()["inventory"]["issues"])
    inventory = tmp_path / "inventory"
    inventory.mkdir()
    os.mkfifo(inventory / "resources.json")  # found in a directory: never opened either
    run = audit(tmp_path, good, extra=["--inventory", str(inventory)])
    assert run.code == 0
    assert any("regular file" in i["problem"] for i in run.json()["inventory"]["issues"])
    run = audit(tmp_path, good, extra=["--inventory", "x" * 5000])
    assert run.code == 2


def _without_dac_override() -> list[str]:
    """A command prefix under which permission bits apply (root ignores them)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: permission bits cannot be tested")
    caps = "-dac_override,-dac_read_search"
    return [setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}", "--"]


def test_permission_denied_files_and_directories(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    locked_dir = logs / "locked"
    locked_dir.mkdir(parents=True)
    (locked_dir / "PT1H.json").write_bytes(lines([record(9)]))
    (logs / "PT1H.json").write_bytes(lines([record(1)]))
    locked = logs / "secret.json"
    locked.write_bytes(lines([record(2)]))
    locked.chmod(0)
    locked_dir.chmod(0)
    prefix = _without_dac_override()
    try:
        run = audit(tmp_path, logs, prefix=prefix)
        assert run.code == 0
        doc = run.json()
        assert_accounting(doc)
        assert doc["input"]["events_read"] == 1
        assert reasons(doc)["secret.json"] == (None, "unreadable-file")
        assert doc["input"]["ignored"].get("unreadable-directory") == 1
        run = audit(tmp_path, logs, prefix=prefix, extra=["--strict"])
        assert run.code == 2
        assert "secret.json" in run.stderr
        assert "unreadable-file" in run.stderr
    finally:
        locked_dir.chmod(stat.S_IRWXU)
        locked.chmod(stat.S_IRUSR | stat.S_IWUSR)


# --------------------------------------------------------------------------- not text


def test_files_that_are_not_text(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    rng = random.Random(8)
    (logs / "random.bin").write_bytes(bytes(rng.randrange(256) for _ in range(200_000)))
    (logs / "elf.json").write_bytes(Path(sys.executable).resolve().read_bytes()[:100_000])
    text = lines([record(1), record(2)]).decode()
    (logs / "utf16-bom.json").write_bytes(text.encode("utf-16"))
    (logs / "utf16le-nobom.json").write_bytes(text.encode("utf-16-le"))
    (logs / "utf16be-nobom.json").write_bytes(text.encode("utf-16-be"))
    (logs / "latin1.csv").write_bytes(
        "TimeGenerated,Type,OperationName,CallerIpAddress,Repository\n"
        "2025-01-30T14:19:15Z,ContainerRegistryRepositoryEvents,Pull,203.0.113.5,caf\xe9\n"
        .encode("latin-1"))
    run = audit(tmp_path, logs)
    assert run.code == 0
    doc = run.json()
    assert_accounting(doc)
    for name in ("utf16-bom.json", "utf16le-nobom.json", "utf16be-nobom.json"):
        assert per_file(doc, name) == {"file": per_file(doc, name)["file"], "records": 2,
                                       "events_read": 2, "events_skipped": 0}
    assert per_file(doc, "latin1.csv")["events_read"] == 1  # bad byte replaced, row read
    assert per_file(doc, "elf.json")["events_read"] == 0
    assert per_file(doc, "random.bin")["events_read"] == 0
    assert reasons(doc)["elf.json"][1] == "not-text"


# --------------------------------------------------------------------------- gzip bombs


def test_gzip_bomb_by_ratio_is_refused_early(tmp_path: Path, baseline_mib: float) -> None:
    """~1000:1 (a long line of one byte): refused once 64 MiB came out, never inflated
    further, whatever its full size (here 4 GiB from a 4 MiB file)."""
    member = gzip.compress(b"x" * (64 * MiB), mtime=0)
    path = tmp_path / "PT1H.json.gz"
    with path.open("wb") as fh:
        fh.write(gzip.compress(lines([record(1)]) + b'{"a": "', mtime=0))
        for _ in range(64):
            fh.write(member)
    run = audit(tmp_path, path)
    assert run.code == 0
    doc = run.json()
    assert_accounting(doc)
    # the bomb's long line counts as one over-long line, then the rest is refused
    assert doc["input"]["skipped"] == {"line-too-long": 1, "decompressed-too-large": 1}
    (bomb,) = [x for x in doc["input"]["skipped_examples"]
               if x["reason"] == "decompressed-too-large"]
    assert f"{MAX_COMPRESSION_RATIO}:1" in bomb["detail"]
    assert doc["input"]["events_read"] == 1  # what came before the bomb is kept
    assert run.max_rss_mib < baseline_mib + 150, (run.max_rss_mib, baseline_mib)


def test_gzip_over_the_decompressed_limit_is_refused(tmp_path: Path, baseline_mib: float) -> None:
    """A ratio of ~55:1 (below the bomb ratio) that inflates past MAX_DECOMPRESSED_BYTES
    (1 GiB): refused there, 20 MiB on disk."""
    rng = random.Random(5)
    block = bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz ") for _ in range(16384))
    member = gzip.compress((block * 65)[:MiB], mtime=0)
    assert MiB / len(member) < MAX_COMPRESSION_RATIO
    path = tmp_path / "big.json.gz"
    count = MAX_DECOMPRESSED_BYTES // MiB + 50
    with path.open("wb") as fh:
        fh.write(gzip.compress(b'{"a": "', mtime=0))
        for _ in range(count):
            fh.write(member)
    run = audit(tmp_path, path, extra=["--strict"])
    assert run.code == 2
    doc = run.json()  # the report is written before --strict fails
    assert doc["input"]["skipped"] == {"line-too-long": 1, "decompressed-too-large": 1}
    assert "decompressed-too-large" in run.stderr
    assert f"{MAX_DECOMPRESSED_BYTES // MiB} MiB" in run.stderr
    assert run.max_rss_mib < baseline_mib + 150, (run.max_rss_mib, baseline_mib)
    path.unlink()
    # the inventory and service-tag readers cap decompression too (300 MiB from 300 KiB)
    bomb = tmp_path / "bomb.json.gz"
    bomb.write_bytes(gzip.compress(b" " * MiB, mtime=0) * 300)
    good = tmp_path / "PT1H.json"
    good.write_bytes(lines([record(1)]))
    run = audit(tmp_path, good, extra=["--inventory", str(bomb)])
    assert run.code == 0
    assert any("larger than" in i["problem"] for i in run.json()["inventory"]["issues"])
    assert run.max_rss_mib < baseline_mib + 500, (run.max_rss_mib, baseline_mib)
    run = audit(tmp_path, good, extra=["--service-tags", str(bomb)])
    assert run.code == 2
    assert "larger than" in run.stderr


# --------------------------------------------------------------------------- many callers


def test_many_distinct_callers_beyond_the_flow_limit(tmp_path: Path) -> None:
    """More distinct groups than PULLPATH_MAX_FLOW_GROUPS: the largest are flows of their own,
    the rest are judged all the same and folded into a few flows, so the report stays small and
    every event has a path; beyond PULLPATH_MAX_JUDGE_KEYS the events of the rest are counted as
    unclassified and reported, and --strict fails on it."""
    path = tmp_path / "PT1H.json"
    base = json.dumps(record(0)).replace("203.0.113.18", "{ip}")
    with path.open("w") as fh:
        for _ in range(50):  # one big group: 50 pulls from the same address
            fh.write(base.replace("{ip}", "198.51.100.7") + "\n")
        for i in range(8_000):  # 8,000 callers once each
            fh.write(base.replace("{ip}", f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}") + "\n")
    env = {"PULLPATH_MAX_FLOW_GROUPS": "500"}
    run = audit(tmp_path, path, env=env)
    assert run.code == 0
    doc = run.json()
    assert_accounting(doc)
    assert doc["input"]["events_read"] == 8_050
    assert len(doc["flows"]) == 501  # the 500 largest groups and one folded flow
    assert doc["summary"]["events"] == 8_050
    assert doc["summary"]["unclassified_events"] == 0
    assert doc["summary"]["folded_events"] == 8_050 - 50 - 499
    assert any(f["caller_ip"] == "198.51.100.7" and f["count"] == 50 for f in doc["flows"])
    assert any(f["caller_ip"] == "(other)" and f["count"] == 8_050 - 50 - 499
               for f in doc["flows"])
    assert any("folded" in w for w in doc["warnings"])
    env["PULLPATH_MAX_JUDGE_KEYS"] = "2000"
    run = audit(tmp_path, path, env=env)
    doc = run.json()
    assert_accounting(doc)
    assert doc["summary"]["unclassified_events"] == 8_050 - 50 - 1_999
    assert doc["summary"]["events"] + doc["summary"]["unclassified_events"] == 8_050
    assert any("not classified" in w for w in doc["warnings"])
    run = audit(tmp_path, path, env=env, extra=["--strict"])
    assert run.code == 2
    assert "not classified" in run.stderr
    run = pullpath(["audit", "--logs", str(path), "--format", "csv"], cwd=tmp_path, env=env)
    assert "unclassified_events=" in run.stdout.splitlines()[-1]


# --------------------------------------------------------------------------- exit codes


def test_exit_codes_for_bad_usage_and_unusable_input(tmp_path: Path) -> None:
    run = audit(tmp_path, tmp_path / "does-not-exist")
    assert run.code == 2
    assert "does-not-exist" in run.stderr
    (tmp_path / "loop").symlink_to("loop")
    run = audit(tmp_path, tmp_path / "loop")
    assert run.code == 2
    assert "symbolic link" in run.stderr
    run = audit(tmp_path, "x" * 5000)
    assert run.code == 2
    good = tmp_path / "PT1H.json"
    good.write_bytes(lines([record(1)]))
    garbage = tmp_path / "tags.json"
    garbage.write_bytes(b"\x00\x01garbage")
    run = audit(tmp_path, good, extra=["--service-tags", str(garbage)])
    assert run.code == 2
    run = audit(tmp_path, good, extra=["--service-tags", str(tmp_path)])
    assert run.code == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    run = audit(tmp_path, empty)
    assert run.code == 0
    assert run.json()["input"]["records_seen"] == 0
    assert any("no registry events" in w for w in run.json()["warnings"])


def test_limits_are_what_this_page_says() -> None:
    """docs/limits.md states each limit with the constant that sets it."""
    page = (ROOT / "docs" / "limits.md").read_text()
    rows = {line.split(" | ")[0].strip("| "): line
            for line in page.split("\n## Limits\n", 1)[1].splitlines() if line.startswith("| ")}
    expected = {
        "one JSON line, or one physical CSV line": f"{MAX_LINE_BYTES // MiB} MiB (`MAX_LINE_BYTES`)",
        "one logged value (repository, tag, identity...)": f"{MAX_FIELD_CHARS:,} characters",
        "one JSON document (`{\"records\": [...]}`, a Log Analytics array or query response)":
            f"{MAX_DOCUMENT_BYTES // MiB} MiB (`MAX_DOCUMENT_BYTES`)",
        "a gzip file (detected by content, one or more members)":
            f"{MAX_DECOMPRESSED_BYTES // MiB // 1024} GiB decompressed",
        "an inventory file": f"{MAX_INVENTORY_BYTES // MiB} MiB as stored or decompressed",
        "a service-tag file": f"{MAX_SERVICE_TAG_BYTES // MiB} MiB as stored or decompressed",
    }
    for row, text in expected.items():
        assert text in rows[row], row
    assert f"a {MAX_COMPRESSION_RATIO}:1 ratio" in rows[
        "a gzip file (detected by content, one or more members)"]
