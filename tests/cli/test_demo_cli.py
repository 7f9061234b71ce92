"""The demo and the CLI surface, run as a user would (subprocess, installed package)."""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import pullpath
from pullpath import __version__
from tests.support.tags import tags_containing

FLOW_KEYS = {
    "registry",
    "operation",
    "repository",
    "tag",
    "caller_ip",
    "identity",
    "result",
    "count",
    "first_seen",
    "last_seen",
    "source",
    "path",
    "consumer",
    "reasons",
}
DEMO = Path(pullpath.__file__).parent / "data" / "demo"
SOURCE_KEYS = {"kind", "subnet_id", "vnet_id", "resource_id", "service_tag", "region"}


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "pullpath", *args], capture_output=True, text=True, timeout=120
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def demo_doc() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(run("demo", "--format", "json").stdout)
    return doc


def test_version() -> None:
    assert run("--version").stdout.strip() == f"pullpath {__version__}"


@pytest.mark.parametrize(("command", "tuned"), [("audit", True), ("demo", True),
                                               ("lab", False), ("explain", False)])
@pytest.mark.parametrize("blas", [None, "4"])
def test_console_script_tunes_its_own_process_only(command: str, tuned: bool,
                                                   blas: str | None) -> None:
    """The installed ``pullpath`` script is ``pullpath.__main__:main``: it runs an audit (and
    the demo, which is one) with the cyclic collector off, a short switch interval and one
    OpenBLAS thread unless the user chose a number (the command's process ends with it;
    docs/performance.md has what each is worth), other commands (a long lab run) as Python
    sets them, while importing the command line, as a library user may, changes none."""
    code = (
        f"import gc, os, sys\nsys.argv[1:] = [{command!r}]\n"
        "from importlib.metadata import entry_points\n"
        "(script,) = [e for e in entry_points(group='console_scripts') if e.name == 'pullpath']\n"
        "import pullpath.cli.app as app\n"
        "def state(): return (gc.isenabled(), sys.getswitchinterval(),"
        " os.environ.get('OPENBLAS_NUM_THREADS'))\n"
        "print(*state())\n"
        "app.main = lambda: print(script.value, *state())\n"
        "script.load()()\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if blas is not None:
        env["OPENBLAS_NUM_THREADS"] = blas
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True, env=env)
    before = ["True", "0.005", str(blas)]
    after = ["False", "0.0005", blas or "1"] if tuned else before
    assert proc.stdout.split() == [*before, "pullpath.__main__:main", *after]


_ENDING = """
import atexit, sys, threading, time
from pathlib import Path
done = Path(sys.argv[1])
atexit.register(lambda: print("atexit handler ran", file=sys.stderr))
if sys.argv[2] == "thread":
    def late():
        time.sleep(0.3)
        done.write_text("finished")
    threading.Thread(target=late).start()
sys.argv = ["pullpath", *sys.argv[3:]]
from pullpath.__main__ import main
main()
"""


@pytest.mark.parametrize("thread", ["none", "thread"])
def test_a_tuned_command_ends_its_process_as_sys_exit_would(tmp_path: Path, thread: str) -> None:
    """An audit's process ends without tearing the interpreter down (``__main__.end_now``),
    yet as ``sys.exit`` would end it: the exit code of the command, everything printed on
    stdout (a pipe: buffered), the ``atexit`` handlers run, and a thread that is not a daemon
    finishes first."""
    done = tmp_path / "thread.txt"
    proc = subprocess.run(
        [sys.executable, "-c", _ENDING, str(done), thread, "audit", "--logs", str(DEMO / "logs"),
         "--inventory", str(DEMO / "inventory"), "--format", "json",
         "--fail-on", "trusted-service"],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["schema"] == "pullpath.audit/v1"
    assert "atexit handler ran" in proc.stderr
    assert done.exists() == (thread == "thread")


def test_demo_contract(demo_doc: dict[str, Any]) -> None:
    assert demo_doc["schema"] == "pullpath.audit/v1"
    assert {"cloud", "change_number", "source"} <= set(demo_doc["service_tags"])
    assert {"files", "events_read", "events_skipped", "skipped"} <= set(demo_doc["input"])
    assert (
        demo_doc["input"]["events_read"] + demo_doc["input"]["events_skipped"]
        == demo_doc["input"]["records_seen"]
    )
    for flow in demo_doc["flows"]:
        assert set(flow) >= FLOW_KEYS
        assert set(flow["source"]) >= SOURCE_KEYS
        assert {"kind", "id", "candidates"} <= set(flow["consumer"])
        assert flow["reasons"]
    assert sum(demo_doc["summary"]["by_path"].values()) == demo_doc["summary"]["events"]


def test_demo_tells_the_story(demo_doc: dict[str, Any]) -> None:
    pulls = [f for f in demo_doc["flows"] if f["operation"] == "Pull"]
    aci = [f for f in pulls if f["consumer"]["kind"] == "aci"]
    aca = [f for f in pulls if f["consumer"]["kind"] == "aca"]
    assert aci
    assert all(f["path"] == "trusted-service" for f in aci)
    for f in aci:
        # a real Microsoft public address of Japan East, by an independent lookup
        assert "AzureCloud.japaneast" in tags_containing(f["caller_ip"])
        assert f["source"]["service_tag"] == "AzureCloud.japaneast"
        assert not ipaddress.ip_address(f["caller_ip"]).is_private
    assert aca
    assert all(f["path"] == "private-endpoint" for f in aca)
    for f in aca:
        assert ipaddress.ip_address(f["caller_ip"]) in ipaddress.ip_network("10.0.2.0/24")
    denied = [f for f in demo_doc["flows"] if f["path"] == "denied"]
    assert denied
    assert all(f["source"]["kind"] == "internet" for f in denied)


def test_demo_table_has_story() -> None:
    out = run("demo").stdout
    assert "trusted-service" in out
    assert "private-endpoint" in out
    assert "denied" in out
    assert "What happened" in out


@pytest.mark.parametrize("command", [[], ["audit"], ["demo"]])
def test_help(command: list[str]) -> None:
    proc = run(*command, "--help")
    assert "Usage" in proc.stdout


def test_bad_usage_exit_2() -> None:
    proc = run("audit", "--logs", "/nonexistent/logs", check=False)
    assert proc.returncode == 2
    assert "no such file" in proc.stderr
    proc = run("audit", "--logs", ".", "--format", "yaml", check=False)
    assert proc.returncode == 2


def test_unreadable_service_tags_exit_2(tmp_path: Any) -> None:
    bad = tmp_path / "tags.json"
    bad.write_text("{not json")
    proc = run("audit", "--logs", str(tmp_path), "--service-tags", str(bad), check=False)
    assert proc.returncode == 2
    assert str(bad) in proc.stderr


def test_output_directory_must_exist(tmp_path: Any) -> None:
    target = tmp_path / "missing" / "out.json"
    proc = run("demo", "--format", "json", "--output", str(target), check=False)
    assert proc.returncode == 2
    assert "does not exist" in proc.stderr
    assert not target.parent.exists()


def test_fail_on_needs_a_path_and_fails_closed_on_no_events(tmp_path: Any) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    proc = run("audit", "--logs", str(empty), "--fail-on", "", check=False)
    assert proc.returncode == 2
    proc = run("audit", "--logs", str(empty), "--fail-on", "public", "-f", "json", check=False)
    assert proc.returncode == 1
    assert "no registry events were read" in proc.stderr
    proc = run("audit", "--logs", str(empty), "--fail-on", "public", "-f", "json",
               "--allow-empty")
    assert "no evidence" in proc.stderr
