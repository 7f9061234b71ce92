"""``pullpath explain`` as a user runs it, the ``pullpath.explain/v1`` contract, and the
knowledge base's expectation for audited flows."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pullpath.cli.app import app
from pullpath.core.explain import explainer_for, flow_expectation
from pullpath.domain.inventory import ConsumerKind
from pullpath.domain.verdicts import (
    Confidence,
    ConsumerRef,
    Flow,
    PathVerdict,
    Source,
    SourceKind,
)
from pullpath.domain.verdicts import Path as NetPath
from tests.support import ROOT
from tests.support.explain_world import DERIVED, World
from tests.support.world_edits import aci_system_identity, drop_data_record, trusted_off

DEMO_INVENTORY = ROOT / "src" / "pullpath" / "data" / "demo" / "inventory"
runner = CliRunner()

PAIR_KEYS = {"consumer", "registry", "expected_path", "rule", "confidence", "reasons", "sources",
             "denied_by"}
FINDING_KEYS = {"id", "severity", "title", "resource_id", "related", "detail", "fix", "docs"}


def invoke(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    return result


def write_world(w: World, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, res in w.res.items():
        (folder / f"{name}.json").write_text(json.dumps(res), encoding="utf-8")
    return folder


def test_json_contract_on_the_demo_inventory() -> None:
    result = invoke("explain", "--inventory", str(DEMO_INVENTORY), "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["schema"] == "pullpath.explain/v1"
    assert doc["pairs"]
    for pair in doc["pairs"]:
        assert set(pair) >= PAIR_KEYS
        assert (pair["denied_by"] is None) is (pair["expected_path"] != "denied")
        assert {"id", "kind"} <= set(pair["consumer"])
        assert {"id", "login_server"} <= set(pair["registry"])
        for src in pair["sources"]:
            assert {"url", "verified", "kind"} <= set(src)
            assert src["kind"] in ("documented", "issue", "field-report", "measured")
            assert (src["kind"] == "measured") is bool(src.get("run_id"))
    paths = {p["consumer"]["kind"]: p["expected_path"] for p in doc["pairs"]}
    assert paths == {"aci": "trusted-service", "aca": "private-endpoint"}
    assert doc["inventory"]["resources"] > 0
    assert isinstance(doc["notes"], list)


def test_findings_contract_and_fail_on_severity(tmp_path: Path) -> None:
    w = World()
    trusted_off(w)
    folder = write_world(w, tmp_path / "inv")
    result = invoke("explain", "-i", str(folder), "-f", "json", "--fail-on-severity", "error")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["findings"]
    for f in doc["findings"]:
        assert set(f) >= FINDING_KEYS
        assert {"cli", "bicep"} <= set(f["fix"])
    assert "PP001" in {f["id"] for f in doc["findings"]}


def test_fail_on_severity_below_threshold_passes(tmp_path: Path) -> None:
    w = World().only("containerapp", "aks", "webapp")  # raises PP013 (a note) only
    folder = write_world(w, tmp_path / "inv")
    ok = invoke("explain", "-i", str(folder), "--fail-on-severity", "warning", "-f", "json")
    assert ok.exit_code == 0
    assert {f["id"] for f in json.loads(ok.stdout)["findings"]} == {"PP013"}
    hit = invoke("explain", "-i", str(folder), "--fail-on-severity", "note", "-f", "json")
    assert hit.exit_code == 1


def test_table_and_sarif_to_files(tmp_path: Path) -> None:
    out = tmp_path / "explain.txt"
    assert invoke("explain", "-i", str(DERIVED), "-o", str(out)).exit_code == 0
    assert "Predicted pull paths" in out.read_text(encoding="utf-8")
    sarif = tmp_path / "explain.sarif"
    assert invoke("explain", "-i", str(DERIVED), "-f", "sarif", "-o", str(sarif)).exit_code == 0
    assert json.loads(sarif.read_text(encoding="utf-8"))["version"] == "2.1.0"


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_markdown_and_html_render_or_fail_cleanly(fmt: str) -> None:
    result = invoke("explain", "-i", str(DEMO_INVENTORY), "-f", fmt)
    if result.exit_code == 0:
        assert result.stdout.strip()
    else:
        assert result.exit_code == 2
        assert "not available for explain" in result.output


def test_bad_inputs_exit_2_without_traceback(tmp_path: Path) -> None:
    missing = invoke("explain", "-i", str(tmp_path / "absent"))
    assert missing.exit_code == 2
    assert "does not exist" in missing.output
    bad = invoke("explain", "-i", str(DEMO_INVENTORY), "--fail-on-severity", "fatal")
    assert bad.exit_code == 2
    assert invoke("explain", "-i", str(DEMO_INVENTORY), "-f", "csv").exit_code == 2


def test_empty_inventory_warns_and_reports_nothing(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = invoke("explain", "-i", str(tmp_path / "empty"), "-f", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["pairs"] == []
    assert doc["findings"] == []
    assert any("nothing to explain" in n for n in doc["notes"])


def test_demo_shows_explain_view() -> None:
    result = invoke("demo")
    assert result.exit_code == 0
    assert "pullpath explain" in result.stdout
    assert "KB-ACI-002" in result.stdout


# ------------------------------------------------------------------ audit's expectation


def _flow(path: NetPath, consumer_id: str, registry: str = "myregistry.azurecr.io") -> Flow:
    now = datetime(2024, 11, 25, 10, tzinfo=UTC)
    return Flow(
        registry=registry, operation="Pull", repository="demo1", tag="1.0",
        caller_ip="20.1.2.3", identity="", result="200", count=1, first_seen=now,
        last_seen=now, source=Source(SourceKind.AZURE_PLATFORM, "20.1.2.3"),
        verdict=PathVerdict(path, Confidence.HIGH, ()),
        consumer=ConsumerRef(ConsumerKind.ACI, consumer_id) if consumer_id
        else ConsumerRef.unknown(),
    )


def test_flow_expectation_agrees_disagrees_or_cannot_say() -> None:
    w = World()
    inv = w.inventory()
    aci = w.id("aci").lower()
    agree = flow_expectation(inv, _flow(NetPath.TRUSTED_SERVICE, aci))
    assert agree is not None
    assert (agree.path, agree.agrees) == (NetPath.TRUSTED_SERVICE, True)
    story = flow_expectation(inv, _flow(NetPath.PRIVATE_ENDPOINT, aci))
    assert story is not None
    assert story.agrees is False
    assert story.rule == "KB-ACI-002"
    unproven = flow_expectation(inv, _flow(NetPath.UNKNOWN, aci))
    assert unproven is not None
    assert unproven.agrees is None
    assert flow_expectation(inv, _flow(NetPath.PUBLIC, "")) is None
    assert flow_expectation(inv, _flow(NetPath.PUBLIC, aci, "other.azurecr.io")) is None


def test_flow_expectation_unknown_prediction_never_agrees() -> None:
    w = World()
    w.props("aci")["subnetIds"] = [{"id": "[parameters('subnet')]"}]  # VNet membership unknown
    e = flow_expectation(w.inventory(), _flow(NetPath.TRUSTED_SERVICE, w.id("aci").lower()))
    assert e is not None
    assert (e.path, e.agrees) == (NetPath.UNKNOWN, None)


def test_flow_expectation_from_a_rule_without_network_facts() -> None:
    w = World()
    aci_system_identity(w)
    w.props("aci")["subnetIds"] = [{"id": "[parameters('subnet')]"}]
    e = flow_expectation(w.inventory(), _flow(NetPath.DENIED, w.id("aci").lower()))
    assert e is not None
    assert (e.path, e.rule, e.agrees) == (NetPath.DENIED, "KB-ACI-001", True)


def test_predictions_are_cached_per_inventory() -> None:
    inv = World().inventory()
    first = explainer_for(inv)
    flow = _flow(NetPath.TRUSTED_SERVICE, next(iter(c for c in inv.consumers
                                                    if "containergroups" in c)))
    once = first.expectation(flow)
    cached = first.predictions()
    for _ in range(100):
        assert first.expectation(flow) == once
    assert first.predictions() is cached


def test_audit_json_carries_expectations_and_findings(tmp_path: Path) -> None:
    w = World()
    drop_data_record(w)  # PP007 on the consumers in the VNet
    folder = write_world(w, tmp_path / "inv")
    logs = ROOT / "src" / "pullpath" / "data" / "demo" / "logs"
    result = invoke("audit", "--logs", str(logs), "-i", str(folder), "-f", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert "PP007" in {f["id"] for f in doc["findings"]}
    demo = invoke("audit", "--logs", str(logs), "-i", str(DEMO_INVENTORY), "-f", "json")
    flows = json.loads(demo.stdout)["flows"]
    attributed = [f for f in flows if f["consumer"]["id"]]
    assert attributed
    assert all(f["expected_path"] for f in attributed)
    assert all(f["agrees"] is True for f in attributed)
