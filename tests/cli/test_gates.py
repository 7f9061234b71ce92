"""Gates fail closed, noise cannot hide a path, and the table says in plain words what happened
(issue 15: items 2 and 7; cases 3, 4 and 12).

The CLI is run as a CI job would run it; every exit code and message is the command's own.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from pullpath.cli.app import app
from tests.support.scenario import Scenario
from tests.support.tags import address_only_in

GATE = "trusted-service,public,unknown"
NO_EVENTS = "no registry events were read from the given logs"
NOT_READ = "could not be read"
NOT_CLASSIFIED = "were read but not classified"


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200", **(env or {})})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def gate(logs: Sequence[Path], *extra: str, env: dict[str, str] | None = None,
         fail_on: str = GATE) -> Result:
    args = ["audit", "--format", "json", "--fail-on", fail_on]
    for path in logs:
        args += ["--logs", str(path)]
    return invoke(*args, *extra, env=env)


def trusted_pulls(root: Path) -> Path:
    """A folder with one readable log: pulls through the trusted-services bypass (not in the
    gate ``--fail-on public``; an inventory next to the folder says so)."""
    sc = Scenario()
    sc.registry("acr1")
    sc.event("acr1", ip=address_only_in("AzureCloud.japaneast"), count=2)
    logs, _ = sc.write(root)
    return logs


def plain(text: str) -> str:
    """Terminal output as words: panel borders and line wrapping removed."""
    return " ".join(text.replace("│", " ").split())


# --------------------------------------------------------------------------- no events


@pytest.mark.parametrize("strict", [False, True])
def test_no_events_fail_the_gate(tmp_path: Path, strict: bool) -> None:
    """An empty folder, a 0-byte file, or a folder of files that are no logs (a broken download
    step) give no evidence: the gate fails, with --strict too, and says why."""
    empty = tmp_path / "empty"
    empty.mkdir()
    zero = tmp_path / "PT1H.json"
    zero.write_bytes(b"")
    flags = ["--strict"] if strict else []
    for logs in (empty, zero):
        result = gate([logs], *flags)
        assert result.exit_code == 1, result.stderr
        assert f"--fail-on: {NO_EVENTS}" in result.stderr
        assert "--allow-empty" in result.stderr
        assert json.loads(result.stdout)["input"]["events_read"] == 0  # the report is written
        allowed = gate([logs], *flags, "--allow-empty")
        assert allowed.exit_code == 0, allowed.stderr
        assert "no evidence" in allowed.stderr


def test_a_folder_of_files_that_are_no_logs(tmp_path: Path) -> None:
    logs = tmp_path / "download"
    logs.mkdir()
    (logs / "README.md").write_text("# the logs are in another castle\n")
    (logs / "empty.json").write_bytes(b"")
    (logs / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    result = gate([logs])
    assert result.exit_code == 1
    assert NO_EVENTS in result.stderr
    assert NOT_READ in result.stderr  # the two files were not logs: said, not passed over
    assert "unrecognised-format 1" in result.stderr
    # --strict fails on the skipped files first (exit 2), and the gate still says its part
    strict = gate([logs], "--strict")
    assert strict.exit_code == 2
    assert "--strict:" in strict.stderr
    assert NO_EVENTS in strict.stderr
    assert gate([logs], "--allow-empty").exit_code == 1  # the unread files remain
    assert gate([logs], "--allow-empty", "--allow-partial").exit_code == 0


def test_events_that_pass_still_pass(tmp_path: Path) -> None:
    logs = trusted_pulls(tmp_path)
    inventory = ("--inventory", str(tmp_path / "inventory.json"))
    result = gate([logs], *inventory, fail_on="public")
    assert result.exit_code == 0, result.stderr
    assert "--fail-on" not in result.stderr
    hit = gate([logs], *inventory, fail_on="trusted-service")
    assert hit.exit_code == 1
    assert "took trusted-service" in hit.stderr


# --------------------------------------------------------------------------- unread inputs


def test_a_damaged_gzip_fails_the_gate_unless_partial_is_allowed(tmp_path: Path) -> None:
    logs = trusted_pulls(tmp_path)
    good = (logs / "PT1H.json").read_bytes()
    packed = gzip.compress(good * 20, mtime=0)
    (logs / "PT1H-2.json.gz").write_bytes(packed[: len(packed) - 12])  # cut short
    result = gate([logs], fail_on="public")
    assert result.exit_code == 1
    assert NOT_READ in result.stderr
    assert "corrupt-compressed-file 1" in result.stderr
    assert "--allow-partial" in result.stderr
    doc = json.loads(result.stdout)
    assert doc["input"]["not_read"] == {"corrupt-compressed-file": 1}
    assert gate([logs], "--allow-partial", fail_on="public").exit_code == 0


def test_entries_that_cannot_be_read_fail_the_gate(tmp_path: Path) -> None:
    """A dangling link and a FIFO in the log folder may hold logs that were not read."""
    logs = trusted_pulls(tmp_path)
    (logs / "PT2H.json").symlink_to(tmp_path / "gone.json")
    os.mkfifo(logs / "pipe.json")
    result = gate([logs], fail_on="public")
    assert result.exit_code == 1
    assert "not-a-regular-file 2" in result.stderr
    assert json.loads(result.stdout)["input"]["not_read"] == {"not-a-regular-file": 2}
    assert gate([logs], "--allow-partial", fail_on="public").exit_code == 0


def test_without_fail_on_nothing_changes(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = invoke("audit", "--logs", str(empty), "--format", "json")
    assert result.exit_code == 0
    assert "--fail-on" not in result.stderr


# --------------------------------------------------------------------------- floods


def two_registries(root: Path, noise: int, *, distinct_callers: bool = False) -> Path:
    """``noise`` pulls of distinct tags (or from distinct private callers) through the private
    endpoint of one registry, then ONE public pull of another registry, open to all
    networks."""
    sc = Scenario()
    sn = sc.vnet("vnet-a", "10.1.0.0/16", {"aks": ("10.1.8.0/22", ""), "pe": ("10.1.5.0/24", "")})
    sc.registry("acrpriv", pe_subnet=sn["pe"])
    sc.registry("acropen", public="Enabled", default_action="Allow")
    for i in range(noise):
        ip = f"10.1.{8 + i // 250}.{i % 250 + 1}" if distinct_callers else "10.1.8.4"
        sc.event("acrpriv", ip=ip, repo="noise", tag=f"t{i}")
    sc.event("acropen", ip="203.0.113.9", repo="app", tag="1.0")
    _logs, inventory = sc.write(root)
    return inventory


@pytest.mark.parametrize("distinct_callers", [False, True])
def test_noise_cannot_push_a_public_pull_out_of_view(tmp_path: Path,
                                                     distinct_callers: bool) -> None:
    """More distinct flow groups than the cap, then one public pull: the pull is still judged,
    in the report and the gate fails; the noise is folded, so the report stays small."""
    inventory = two_registries(tmp_path, 120, distinct_callers=distinct_callers)
    env = {"PULLPATH_MAX_FLOW_GROUPS": "50"}
    result = gate([tmp_path / "logs"], "--inventory", str(inventory), env=env,
                  fail_on="public")
    assert result.exit_code == 1, result.stderr
    assert "1 flow(s), 1 event(s) took public" in result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    summary = doc["summary"]
    assert summary["unclassified_events"] == 0
    assert summary["events"] == doc["input"]["events_read"] == 121
    assert summary["by_path"]["public"] == 1
    assert summary["by_path"]["private-endpoint"] == 120
    (public,) = [f for f in doc["flows"] if f["path"] == "public"]
    assert (public["caller_ip"], public["repository"], public["tag"], public["count"]) == (
        "203.0.113.9", "app", "1.0", 1)
    folded = [f for f in doc["flows"] if f["tag"] == "(other)"]
    assert len(folded) == 1
    assert folded[0]["path"] == "private-endpoint"
    assert folded[0]["caller_ip"] == ("(other)" if distinct_callers else "10.1.8.4")
    assert summary["folded_flows"] == 1
    assert summary["folded_events"] == folded[0]["count"] == 120 - 50  # the first 50 shown
    assert len(doc["flows"]) == 52
    assert any("folded" in w for w in doc["warnings"])
    strict = gate([tmp_path / "logs"], "--inventory", str(inventory), "--strict", env=env,
                  fail_on="unknown")
    assert strict.exit_code == 0, strict.stderr  # folded is not lost: nothing to fail on


def test_beyond_the_judge_key_cap_the_gate_fails_closed(tmp_path: Path) -> None:
    """When even the callers, identities and results are too many to judge, their events are
    unclassified and the gate fails closed, unless partial results are allowed."""
    inventory = two_registries(tmp_path, 200, distinct_callers=True)
    env = {"PULLPATH_MAX_FLOW_GROUPS": "50", "PULLPATH_MAX_JUDGE_KEYS": "100"}
    result = gate([tmp_path / "logs"], "--inventory", str(inventory), env=env,
                  fail_on="public")
    assert result.exit_code == 1
    assert NOT_CLASSIFIED in result.stderr
    assert "--allow-partial" in result.stderr
    doc = json.loads(result.stdout)
    unclassified = doc["summary"]["unclassified_events"]
    assert unclassified == 201 - 100
    assert doc["summary"]["events"] + unclassified == doc["input"]["events_read"] == 201
    assert any("PULLPATH_MAX_JUDGE_KEYS" in w for w in doc["warnings"])
    allowed = gate([tmp_path / "logs"], "--inventory", str(inventory), "--allow-partial",
                   env=env, fail_on="public")
    assert allowed.exit_code == 0, allowed.stderr
    strict = gate([tmp_path / "logs"], "--inventory", str(inventory), "--strict",
                  "--allow-partial", env=env, fail_on="public")
    assert strict.exit_code == 2  # --strict fails on unclassified events whatever --fail-on allows


# --------------------------------------------------------------------------- plain words


def aci_disagreeing(root: Path) -> tuple[Path, Path]:
    """An ACI container group in a VNet (the knowledge base predicts the trusted-services
    bypass) whose logs show its pulls from its subnet through the private endpoint, in three
    flows, and its logins; a Push from the internet is refused."""
    sc = Scenario()
    sn = sc.vnet("vnet-a", "10.1.0.0/16", {
        "aci": ("10.1.1.0/24", "Microsoft.ContainerInstance/containerGroups"),
        "pe": ("10.1.5.0/24", ""),
    })
    sc.registry("acr1", pe_subnet=sn["pe"])
    principal, client = "11111111-aaaa-4aaa-8aaa-111111111111", "22222222-bbbb-4bbb-8bbb-222222222222"
    uami = sc.identity("id-aci", principal, client)
    sc.aci("aci-orders", server="acr1.azurecr.io", subnet=sn["aci"], private_ip="10.1.1.4",
           identity=(uami, principal, client))
    for tag in ("1.0", "1.1", "1.2"):
        sc.event("acr1", ip="10.1.1.4", identity=principal, repo="orders", tag=tag, count=2)
    sc.event("acr1", ip="10.1.1.4", identity=principal, op="Login",
             category="ContainerRegistryLoginEvents", count=4)
    sc.event("acr1", ip="203.0.113.50", op="Push", status="403",
             description="denied: client with IP '203.0.113.50' is not allowed access.")
    return sc.write(root)


def test_table_ends_with_what_happened_and_each_disagreement_once(tmp_path: Path) -> None:
    logs, inventory = aci_disagreeing(tmp_path)
    result = invoke("audit", "--logs", str(logs), "--inventory", str(inventory))
    assert result.exit_code == 0, result.stderr
    out = plain(result.stdout)
    assert "What happened" in out
    tail = out[out.index("What happened"):]
    assert ("ACI container group aci-orders pulled 6 times (orders:1.0, orders:1.1, orders:1.2) "
            "and logged in 4 times from 10.1.1.4 in subnet aci, through the private endpoint."
            ) in tail
    assert "The knowledge base expected trusted-service (rule KB-ACI-" in tail
    assert "was refused once (firewall)" in tail
    assert "from internet address 203.0.113.50: 1 other request (Push)." in tail
    # three flows disagree, from one consumer: said once
    assert result.stdout.count("DISAGREEMENT") == 1
    assert "(10 events in 4 flows)" in out


def test_pulls_logins_and_other_operations_are_counted_apart(tmp_path: Path) -> None:
    logs, inventory = aci_disagreeing(tmp_path)
    base = ["audit", "--logs", str(logs), "--inventory", str(inventory)]
    doc = json.loads(invoke(*base, "--format", "json").stdout)
    summary = doc["summary"]
    assert (summary["pulls"], summary["logins"], summary["other_operations"]) == (6, 4, 1)
    assert summary["events"] == 11
    assert summary["by_path_requests"]["private-endpoint"] == {"pulls": 6, "logins": 4,
                                                               "other": 0}
    assert summary["by_path_requests"]["denied"] == {"pulls": 0, "logins": 0, "other": 1}
    table = invoke(*base).stdout
    assert "Read 11 events from 1 file(s): 6 pulls, 4 logins, 1 other operations" in table
    row = next(line for line in table.splitlines() if line.startswith("│ private-endpoint"))
    # Summary by path: Events, Flows, Pulls, Logins, Other
    assert [c.strip() for c in row.split("│")[2:7]] == ["10", "4", "6", "4", "0"]
    markdown = invoke(*base, "--format", "markdown").stdout
    assert "| Path | What it means | Events | Flows | Pulls | Logins | Other |" in markdown
    assert "(6 pulls, 4 logins, 1 other operations)" in markdown
    html = invoke(*base, "--format", "html").stdout
    assert '<th class="num">Logins</th>' in html
