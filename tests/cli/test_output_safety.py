"""Outputs never hurt inputs, are replaced whole, follow their file name, and carry nothing a
terminal or viewer acts on (issue 15: cases 1, 2, 10, 12 in part, 13).

Everything runs the real command line as a user does (``python -m pullpath`` in a
subprocess: the console script's handling of signals and of stdout/stderr is part of what is
tested), on log files built from the real archived record (``tests/support/hostile.py``).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import resource
import shutil
import signal
import stat
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pullpath.formatters.common import UNSAFE_RANGES, visible, visible_bytes
from tests.support import ROOT
from tests.support.hostile import record

DEMO = ROOT / "src" / "pullpath" / "data" / "demo"
SCENARIOS = ROOT / "src" / "pullpath" / "lab" / "scenarios"


def pullpath(*args: str | Path, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    if "stdout" not in kwargs and "stderr" not in kwargs:
        kwargs["capture_output"] = True
    proc = subprocess.run([sys.executable, "-m", "pullpath", *map(str, args)], text=True,
                          timeout=300, check=False, **kwargs)
    assert "Traceback" not in (proc.stderr or ""), proc.stderr
    return proc


def write_logs(path: Path, records: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(json.dumps(r).encode() + b"\n" for r in records))
    return path


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    return write_logs(tmp_path / "logs" / "PT1H.json", [record(i) for i in range(3)])


def leftovers(directory: Path) -> list[str]:
    """Temporary files a write left behind (hidden ``.NAME.*.tmp``)."""
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


# --------------------------------------------------------------------------- 1. outputs never hurt inputs


def test_output_onto_the_log_file_is_refused_and_the_log_kept(logs: Path) -> None:
    before = logs.read_bytes()
    for fmt in (["-f", "csv"], []):
        proc = pullpath("audit", "--logs", logs, *fmt, "-o", logs)
        assert proc.returncode == 2
        error, hint = proc.stderr.strip().splitlines()[-2:]
        assert error == (f"error: --output {logs} is the input --logs {logs} (the same file): "
                         "refusing to write over an input")
        assert hint == "hint: choose another --output"
        assert logs.read_bytes() == before


def test_output_onto_a_file_under_a_logs_directory_is_refused(tmp_path: Path, logs: Path) -> None:
    nested = write_logs(tmp_path / "logs" / "y=2024" / "m=11" / "PT1H.json", [record(9)])
    before = nested.read_bytes()
    proc = pullpath("audit", "--logs", tmp_path / "logs", "-f", "json", "-o", nested)
    assert proc.returncode == 2
    assert f"is {nested}, an input under --logs {tmp_path / 'logs'}" in proc.stderr
    assert nested.read_bytes() == before


def test_output_through_a_link_to_an_input_is_refused(tmp_path: Path, logs: Path) -> None:
    before = logs.read_bytes()
    symlink = tmp_path / "report.json"
    symlink.symlink_to(logs)
    hardlink = tmp_path / "hard.json"
    os.link(logs, hardlink)
    for out in (symlink, hardlink):
        proc = pullpath("audit", "--logs", logs, "-o", out)
        assert proc.returncode == 2, out
        assert f"--output {out} is the input --logs {logs}" in proc.stderr
    assert logs.read_bytes() == before
    assert symlink.is_symlink()


def test_a_link_inside_the_logs_directory_makes_its_target_an_input(tmp_path: Path) -> None:
    """The readers follow symbolic links in a --logs directory: the file a link points to
    is read, so it is an input too."""
    elsewhere = write_logs(tmp_path / "exports" / "day1.json", [record(1)])
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "day1.json").symlink_to(elsewhere)
    (folder / "loop").symlink_to(folder)  # a loop is walked once
    before = elsewhere.read_bytes()
    proc = pullpath("audit", "--logs", folder, "-f", "json", "-o", elsewhere)
    assert proc.returncode == 2
    assert "an input under --logs" in proc.stderr
    assert elsewhere.read_bytes() == before


def test_inventory_and_service_tags_are_inputs_too(tmp_path: Path, logs: Path) -> None:
    inventory = tmp_path / "inv.json"
    shutil.copy(DEMO / "inventory" / "resources.json", inventory)
    tags = tmp_path / "tags.json"
    tags.write_text(json.dumps({"changeNumber": 1, "cloud": "Public", "values": []}))
    cases = [
        ("--inventory", inventory, ["audit", "--logs", logs, "--inventory", inventory]),
        ("--service-tags", tags, ["audit", "--logs", logs, "--service-tags", tags]),
        ("--inventory", inventory, ["explain", "--inventory", inventory, "-f", "json"]),
        ("--inventory", tmp_path, ["explain", "--inventory", tmp_path]),  # a file under it
    ]
    for option, path, args in cases:
        before = {p: p.read_bytes() for p in (inventory, tags)}
        proc = pullpath(*args, "-o", inventory if path is tmp_path else path)
        assert proc.returncode == 2, (args, proc.stderr)
        assert option in proc.stderr
        assert "refusing to write over an input" in proc.stderr
        assert {p: p.read_bytes() for p in (inventory, tags)} == before


def test_demo_and_lab_refuse_their_own_inputs(tmp_path: Path) -> None:
    """demo's inputs are the bundled scenario files; lab plan's is the scenario file."""
    bundled = DEMO / "inventory" / "role-assignments.json"
    before = bundled.read_bytes()
    try:
        proc = pullpath("demo", "-f", "json", "-o", bundled)
        assert proc.returncode == 2
        assert "an input under the demo scenario" in proc.stderr
    finally:  # never leave the repository's data changed, even when this test fails
        bundled.write_bytes(before)
    scenario = tmp_path / "plan.json"
    shutil.copy(SCENARIOS / "field-report.yaml", scenario)
    original = scenario.read_bytes()
    proc = pullpath("lab", "plan", scenario, "--output-dir", tmp_path)
    assert proc.returncode == 2
    assert f"--output-dir {scenario} is the input scenario" in proc.stderr
    assert scenario.read_bytes() == original
    assert not (tmp_path / "base.template.json").exists()  # refused before writing any file


def test_two_outputs_naming_one_file_are_refused(tmp_path: Path) -> None:
    """demo -o and --html (like lab run -o and --record) may not name one file, also through
    a link: the second write would replace the first."""
    report = tmp_path / "report.html"
    report.write_text("old report\n")
    link = tmp_path / "link.html"
    link.symlink_to(report)
    for html in (report, link):
        proc = pullpath("demo", "-o", report, "--html", html)
        assert proc.returncode == 2
        assert f"--html {html} and --output {report} are the same file" in proc.stderr
    assert report.read_text() == "old report\n"


def test_a_new_report_in_a_logs_directory_warns_then_is_an_input(tmp_path: Path,
                                                                 logs: Path) -> None:
    report = logs.parent / "report.json"
    first = pullpath("audit", "--logs", logs.parent, "-o", report)
    assert first.returncode == 0
    assert "warning:" in first.stderr
    assert "will read the report as input" in first.stderr
    assert orjson.loads(report.read_bytes())["schema"] == "pullpath.audit/v1"
    again = pullpath("audit", "--logs", logs.parent, "-o", report)
    assert again.returncode == 2
    assert "refusing to write over an input" in again.stderr


# --------------------------------------------------------------------------- 2. replaced whole


def test_a_report_is_renamed_into_place_keeping_the_mode(tmp_path: Path, logs: Path) -> None:
    out = tmp_path / "out" / "report.json"
    out.parent.mkdir()
    out.write_bytes(b"x" * 1_000_000)
    out.chmod(0o640)
    old_inode = out.stat().st_ino
    link = tmp_path / "latest.json"
    link.symlink_to(out)
    proc = pullpath("audit", "--logs", logs, "-o", link)  # through a link: its target
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink()
    assert orjson.loads(out.read_bytes())["input"]["events_read"] == 3
    assert out.stat().st_ino != old_inode  # a new file renamed over the old one
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert leftovers(out.parent) == []


def _limited(limit: int) -> Any:
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a core dump
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_a_write_error_leaves_the_old_report_and_no_temporary_file(tmp_path: Path) -> None:
    """A real write error in the middle of the report: the file size limit (RLIMIT_FSIZE)
    makes write(2) fail with EFBIG once 4 KiB are written."""
    out = tmp_path / "report.json"
    out.write_bytes(b'{"old": "report"}\n')
    proc = pullpath("demo", "-f", "json", "-o", out, preexec_fn=_limited(4096))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[0] == f"error: cannot write {out}: File too large"
    assert "unchanged" in proc.stderr
    assert out.read_bytes() == b'{"old": "report"}\n'
    assert leftovers(tmp_path) == []


def test_a_write_error_in_a_later_part_leaves_the_old_report(tmp_path: Path,
                                                              big_logs: Path) -> None:
    """A report of many flows is written in parts, one while the next is made: a write error
    after the first megabyte (a later part, in the writer's thread) is the same one message,
    exit code 2, the old report whole and no temporary file."""
    out = tmp_path / "report.json"
    out.write_bytes(b'{"old": "report"}\n')
    proc = pullpath("audit", "--logs", big_logs, "-f", "json", "-o", out,
                    preexec_fn=_limited(1 << 20))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines()[0] == f"error: cannot write {out}: File too large"
    assert out.read_bytes() == b'{"old": "report"}\n'
    assert leftovers(tmp_path) == []


@contextlib.contextmanager
def small_filesystem(path: Path, size: str) -> Iterator[Path]:
    path.mkdir()
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                       check=True, capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=False, capture_output=True, timeout=30)


def test_disk_full_leaves_the_old_report(tmp_path: Path) -> None:
    with small_filesystem(tmp_path / "small", "64k") as disk:
        out = disk / "report.json"
        out.write_bytes(b"old report\n")
        filler = disk / "filler"
        with contextlib.suppress(OSError), filler.open("wb") as handle:
            while True:  # fill it up, leaving less than the report needs
                handle.write(b"f" * 4096)
                handle.flush()
        filler.write_bytes(filler.read_bytes()[:-8192])
        proc = pullpath("demo", "-f", "json", "-o", out)
        assert proc.returncode == 2
        assert f"cannot write {out}: No space left on device" in proc.stderr
        assert out.read_bytes() == b"old report\n"
        assert leftovers(disk) == []


def many_flows(path: Path, count: int) -> Path:
    """Logs with ``count`` distinct callers: a report of tens of megabytes."""
    return write_logs(path, [record(i, callerIpAddress=f"10.{i >> 16 & 255}.{i >> 8 & 255}."
                                    f"{i & 255}", repository=f"app-{i % 97}", tag=f"v{i}")
                             for i in range(count)])


@pytest.fixture(scope="module")
def big_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return many_flows(tmp_path_factory.mktemp("big") / "PT1H.json", 30_000)


_SIGNAL_WHILE_WRITING = """
import os, signal, sys
sig = int(sys.argv[1])
# as from a terminal: a test runner's worker may have started us with SIGINT ignored
signal.signal(signal.SIGINT, signal.default_int_handler)
real_write, fired = os.write, []

def write(fd, data):  # the report's bytes go out through os.write (cli.common._write_fd)
    done = real_write(fd, data[: max(1, len(data) // 2)])
    if not fired:  # half of the first chunk is on disk, in the temporary file: interrupt
        fired.append(fd)
        os.kill(os.getpid(), sig)
    return done

os.write = write
sys.argv = ["pullpath", *sys.argv[2:]]
from pullpath.__main__ import main
main()
"""
"""The real command line, with a signal sent to itself from inside the report's first write
(no race with a polling parent: the interrupt always lands in the middle of the write)."""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_while_writing_leaves_a_whole_report(tmp_path: Path, big_logs: Path,
                                                          sig: signal.Signals) -> None:
    """The signal arrives while the report is being written, half of it in the temporary
    file: the old report stays whole, no temporary file is left, and the exit code is the
    signal's. Without a signal the same command writes the whole new report."""
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "report.json"
    old = b"{}\n" + b"x" * 80_000_000  # longer than the new report: a mix would show
    out.write_bytes(old)
    args = ["audit", "--logs", str(big_logs), "-f", "json", "-o", str(out)]
    child = subprocess.run([sys.executable, "-c", _SIGNAL_WHILE_WRITING, str(int(sig)), *args],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=300,
                           check=False)
    assert b"Traceback" not in child.stderr
    assert child.returncode == (130 if sig == signal.SIGINT else 143), child.stderr
    assert out.read_bytes() == old
    assert leftovers(folder) == []
    whole = subprocess.run([sys.executable, "-m", "pullpath", *args], capture_output=True,
                           timeout=300, check=False)
    assert whole.returncode == 0, whole.stderr
    assert orjson.loads(out.read_bytes())["input"]["events_read"] == 30_000
    assert leftovers(folder) == []


# --------------------------------------------------------------------------- 3. stdout / stderr


def closed_pipe() -> int:
    """The write end of a pipe nobody reads any more (``| head -c1`` after head exited)."""
    read, write = os.pipe()
    os.close(read)
    return write


def _close_fd(fd: int) -> Any:
    return lambda: os.close(fd)


@pytest.mark.parametrize("args", [["demo", "-f", "json"], ["demo"], ["--help"]])
def test_stdout_write_errors_exit_2_with_one_line(args: list[str]) -> None:
    full = open("/dev/full", "w")  # noqa: SIM115
    pipe = closed_pipe()
    try:
        for stdout, preexec, reason in ((full, None, "No space left on device"),
                                        (pipe, None, "Broken pipe"),
                                        (None, _close_fd(1), "it is closed")):
            proc = pullpath(*args, stdout=stdout, stderr=subprocess.PIPE, preexec_fn=preexec)
            assert proc.returncode == 2, (reason, proc.stderr)
            assert proc.stderr == f"error: cannot write to standard output: {reason}\n"
    finally:
        full.close()
        os.close(pipe)


def test_stderr_write_errors_exit_2_without_a_traceback(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    full = open("/dev/full", "w")  # noqa: SIM115
    pipe = closed_pipe()
    try:
        for stderr, preexec in ((full, None), (pipe, None), (None, _close_fd(2))):
            out.unlink(missing_ok=True)
            proc = pullpath("demo", "-f", "json", "-o", out, stdout=subprocess.PIPE,
                            stderr=stderr, preexec_fn=preexec)
            # the report is written, then its "wrote" line cannot be: exit 2, not 0 or 1
            assert proc.returncode == 2
            assert proc.stdout == ""
            assert orjson.loads(out.read_bytes())["schema"] == "pullpath.audit/v1"
    finally:
        full.close()
        os.close(pipe)


def test_a_fail_on_gate_with_a_broken_stdout_is_an_error_not_a_finding(logs: Path) -> None:
    """1 means "a --fail-on path was taken"; a report that could not be written is 2."""
    pipe = closed_pipe()
    try:
        proc = pullpath("audit", "--logs", logs, "--fail-on", "unknown", "-f", "json",
                        stdout=pipe, stderr=subprocess.PIPE)
    finally:
        os.close(pipe)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: cannot write to standard output: Broken pipe")
    assert "Exception ignored" not in proc.stderr


# --------------------------------------------------------------------------- 4, 5. formats


@pytest.mark.parametrize(("name", "check"), [
    ("r.html", lambda b: b.startswith(b"<!DOCTYPE html>")),
    ("r.HTM", lambda b: b.startswith(b"<!DOCTYPE html>")),
    ("r.json", lambda b: orjson.loads(b)["schema"] == "pullpath.audit/v1"),
    ("r.csv", lambda b: b.startswith(b"registry,operation,")),
    ("r.md", lambda b: b.startswith(b"#")),
    ("r.markdown", lambda b: b.startswith(b"#")),
    ("r.sarif", lambda b: orjson.loads(b)["version"] == "2.1.0"),
    ("r.sarif.json", lambda b: orjson.loads(b)["version"] == "2.1.0"),
    ("r.txt", lambda b: "Summary by path" in b.decode()),
    ("r.out", lambda b: "Summary by path" in b.decode()),  # unknown: the table, as before
])
def test_the_format_follows_the_extension(tmp_path: Path, logs: Path, name: str,
                                          check: Any) -> None:
    out = tmp_path / name
    proc = pullpath("audit", "--logs", logs, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert check(out.read_bytes())
    assert "warning" not in proc.stderr


def test_an_explicit_format_wins_with_a_warning(tmp_path: Path, logs: Path) -> None:
    out = tmp_path / "report.html"
    proc = pullpath("audit", "--logs", logs, "-f", "json", "-o", out)
    assert proc.returncode == 0
    assert orjson.loads(out.read_bytes())["schema"] == "pullpath.audit/v1"
    assert f"warning: writing json to {out}, whose extension says html" in proc.stderr
    quiet = pullpath("audit", "--logs", logs, "-f", "json", "-o", tmp_path / "r.txt")
    assert "warning" not in quiet.stderr  # .txt holds any text


def test_an_extension_the_command_cannot_write_is_refused(tmp_path: Path) -> None:
    inventory = DEMO / "inventory"
    proc = pullpath("explain", "--inventory", inventory, "-o", tmp_path / "r.csv")
    assert proc.returncode == 2
    assert "explain does not write csv" in proc.stderr
    assert "give --format: table, json, sarif, markdown, html" in proc.stderr
    assert not (tmp_path / "r.csv").exists()
    demo = pullpath("demo", "-o", tmp_path / "r.sarif")
    assert demo.returncode == 2
    assert "demo does not write sarif" in demo.stderr
    ok = pullpath("demo", "-o", tmp_path / "r.html")  # the case
    assert ok.returncode == 0
    assert (tmp_path / "r.html").read_bytes().startswith(b"<!DOCTYPE")


FORMAT_CHOICES = re.compile(r"--format\s+-f\s+<([a-z|]+)>")


@pytest.mark.parametrize(("command", "formats"), [
    (["audit"], "table|json|csv|markdown|html|sarif"),
    (["explain"], "table|json|sarif|markdown|html"),
    (["demo"], "table|json|csv|markdown|html"),
    (["lab", "collect"], "table|json|markdown|html"),
    (["lab", "run"], "table|json|markdown|html"),
    (["lab", "plan"], "table|json"),
    (["lab", "list"], "table|json"),
])
def test_help_lists_only_the_formats_the_command_writes(command: list[str],
                                                       formats: str) -> None:
    proc = pullpath(*command, "--help", env={**os.environ, "COLUMNS": "250"})
    assert proc.returncode == 0
    assert FORMAT_CHOICES.findall(proc.stdout) == [formats]
    bad = pullpath(*command, "--format", "yaml")
    assert bad.returncode == 2
    assert "'yaml' is not one of" in bad.stderr
    for name in formats.split("|"):
        assert f"'{name}'" in bad.stderr


# --------------------------------------------------------------------------- 6. nothing live in any output

HOSTILE = (
    "\x1b[31mred\x1b[0m",
    "\x1b]8;;http://evil.example/pp\x07click\x1b]8;;\x07",
    "\x1b]8;;http://evil.example/st\x1b\\st\x1b]8;;\x1b\\",
    "rlo\u202eflip\u202c",
    "iso\u2066late\u2069 lrm\u200e rlm\u200f alm\u061c",
    "c1\x9b31m csi del\x7f bel\x07 bs\x08 vt\x0b ff\x0c cr\rx",
    "zw\u200bsp\u200d bom\ufeff shy\xad ls\u2028 ps\u2029 tag\U000e0041",
)
FIELDS = ("repository", "tag", "identity", "userAgent")
# what no output may carry: the characters of UNSAFE_RANGES, an independent list here
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\xad\u061c\u200b-\u200f\u2028-\u202e"
                       "\u2066-\u2069\ufeff\U000e0000-\U000e007f]")


@pytest.fixture(scope="module")
def hostile_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    return write_logs(folder / "PT1H.json", [
        record(i, **dict.fromkeys(FIELDS, f"pp{i}-{value}"))
        for i, value in enumerate(HOSTILE)
    ])


def _forbidden(text: str, fmt: str) -> list[str]:
    if fmt == "csv":  # rows end in CRLF; a CR anywhere else would be live
        text = text.replace("\r\n", "\n")
    return FORBIDDEN.findall(text)


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown", "sarif", "html"])
def test_no_control_or_bidi_character_reaches_any_output(tmp_path: Path, hostile_logs: Path,
                                                         fmt: str) -> None:
    out = tmp_path / f"report.{fmt}"
    to_file = pullpath("audit", "--logs", hostile_logs, "-f", fmt, "-o", out)
    to_stdout = pullpath("audit", "--logs", hostile_logs, "-f", fmt)
    assert to_file.returncode == to_stdout.returncode == 0, to_file.stderr
    data = out.read_bytes()
    for text in (data.decode("utf-8"), to_stdout.stdout):
        assert _forbidden(text, fmt) == [], fmt
    assert FORBIDDEN.findall(to_file.stderr + to_stdout.stderr) == []
    if fmt == "json":  # JSON escapes them: the values are exact
        doc = orjson.loads(data)
        assert {f["tag"] for f in doc["flows"]} == {f"pp{i}-{v.strip()}"
                                                   for i, v in enumerate(HOSTILE)}
    if fmt == "csv":  # the values are there, shown as escapes
        rows = list(csv.reader(io.StringIO(data.decode(), newline="")))
        tags = {row[rows[0].index("tag")] for row in rows[1:] if not row[0].startswith("#")}
        assert tags == {f"pp{i}-{visible(v.strip())}" for i, v in enumerate(HOSTILE)}
        assert r"pp3-rlo\u202eflip\u202c" in tags


def test_the_unsafe_set_covers_every_control_and_format_character() -> None:
    """UNSAFE_RANGES holds every character Unicode (this Python's version) calls a control
    (Cc), a format character (Cf: bidi controls, zero-width, invisible) or a line/paragraph
    separator, but tab and line feed."""
    unsafe = {c for a, b in UNSAFE_RANGES for c in range(a, b + 1)}
    wanted = {c for c in range(sys.maxunicode + 1)
              if unicodedata.category(chr(c)) in ("Cc", "Cf", "Zl", "Zp")} - {9, 10}
    assert wanted <= unsafe
    assert not FORBIDDEN.search(visible("".join(map(chr, sorted(unsafe)))))


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.text(alphabet=st.characters(exclude_categories=["Cs"])), max_size=6))
def test_json_through_visible_bytes_parses_to_the_same_values(values: list[str]) -> None:
    document = {"values": values, "keys": {v: len(v) for v in values}}
    raw = orjson.dumps(document, option=orjson.OPT_INDENT_2)
    safe = visible_bytes(raw)
    assert orjson.loads(safe) == document
    assert json.loads(safe.decode()) == document
    assert FORBIDDEN.findall(safe.decode().replace("\r", "")) == []
    if safe is raw:
        assert FORBIDDEN.findall(raw.decode()) == []


def test_visible_bytes_leaves_ordinary_output_alone() -> None:
    text = "Flows — contosoacr.azurecr.io ┃ caller… 😀 é\r\n\t".encode()
    assert visible_bytes(text) is text  # not even copied
