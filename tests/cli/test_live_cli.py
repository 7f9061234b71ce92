"""The live options of ``pullpath audit`` end to end (CLI -> real SDK clients -> loopback),
usage errors, and the rule that no token ever reaches the output or the logs."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from pullpath.adapters.azure import credentials
from pullpath.adapters.servicetags_files import load_service_tags
from pullpath.cli.app import app
from pullpath.core.kql import TimeWindow
from pullpath.domain.inventory import Inventory
from pullpath.formatters.audit_doc import audit_document
from pullpath.workflows.live import audit_workspace, fetch_inventory
from tests.support.arm_inventory import REGISTRIES, SUB, serve_all
from tests.support.live_events import LogAnalyticsEngine, generate_events
from tests.support.live_server import (
    FakeCredential,
    LoopbackServer,
    Reply,
    loopback_settings,
)

WS = "63613592-b6f7-4c3d-a390-22ba13102111"
QUERY = f"/v1/workspaces/{WS}/query"
START = datetime(2024, 11, 25, tzinfo=UTC)
END = START + timedelta(days=2)


@pytest.fixture
def live_env(loopback: LoopbackServer, tls_cert, monkeypatch: pytest.MonkeyPatch,
             tmp_path) -> FakeCredential:  # type: ignore[no-untyped-def]
    cred = FakeCredential(marker="cli-secret-marker")
    monkeypatch.setattr(credentials, "make_credential", lambda tenant=None: cred)
    monkeypatch.setenv("PULLPATH_ARM_ENDPOINT", loopback.url)
    monkeypatch.setenv("PULLPATH_LOGS_ENDPOINT", loopback.url)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_cert[0]))
    monkeypatch.setenv("PULLPATH_RETRY_BACKOFF_FACTOR", "0.01")
    monkeypatch.setenv("PULLPATH_RETRY_BACKOFF_MAX", "0.05")
    monkeypatch.setenv("AZURE_CONFIG_DIR", str(tmp_path / "no-az"))
    return cred


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args))


def test_audit_workspace_json(loopback: LoopbackServer, live_env: FakeCredential) -> None:
    events = generate_events(3, 500, START, END)
    loopback.route("POST", QUERY, LogAnalyticsEngine(events))
    result = invoke("audit", "--workspace", WS, "--from", "2024-11-25", "--to", "2024-11-27",
                    "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["schema"] == "pullpath.audit/v1"
    assert doc["summary"]["events"] == sum(1 for e in events if e["OperationName"])
    assert doc["input"]["sources"][0].startswith(f"Log Analytics workspace {WS}")
    assert "workspace" in result.stderr
    assert "service tags:" in result.stderr
    assert len(loopback.requests_to(QUERY)) == 2
    for token in live_env.tokens:
        assert token not in result.stdout
        assert token not in result.stderr


def test_audit_workspace_with_live_inventory(loopback: LoopbackServer,
                                             live_env: FakeCredential) -> None:
    serve_all(loopback)
    loopback.route("POST", QUERY, LogAnalyticsEngine(generate_events(4, 100, START, END)))
    result = invoke("audit", "-w", WS, "--since", "2d", "--subscription", SUB, "-f", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["inventory"]["registries"] == len(REGISTRIES)
    assert doc["inventory"]["files"][0].startswith("Azure Resource Graph")


def test_kql_needs_no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(tenant: str | None = None) -> None:
        raise AssertionError("--kql must not ask for credentials")

    monkeypatch.setattr(credentials, "make_credential", refuse)
    result = invoke("audit", "--workspace", WS, "--kql", "--since", "36h",
                    "--registry", "contosoacr", "--operation", "Pull")
    assert result.exit_code == 0, result.output
    queries = result.stdout.strip().split("\n\n")
    assert len(queries) == 2
    assert all(q.startswith("// pullpath") for q in queries)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "exactly one log source"),
        (("--logs", "x", "--workspace", WS), "not --logs and --workspace"),
        (("--storage-account", "acct", "--kql"), "--kql prints the queries of --workspace"),
        (("--workspace", WS, "--since", "7d", "--from", "2024-11-25"), "not both"),
        (("--workspace", WS, "--registry", "no"), "--registry"),
        (("--storage-account", "acct", "--operation", "Pull"), "--workspace only"),
        (("--logs", "x", "--since", "1d"), "apply to --workspace"),
    ],
)
def test_usage_errors_exit_2(args: tuple[str, ...], message: str, live_env) -> None:  # type: ignore[no-untyped-def]
    result = invoke("audit", *args)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.stderr.split())
    assert "Traceback" not in result.output


def test_403_exits_2_with_the_permission(loopback: LoopbackServer, live_env) -> None:  # type: ignore[no-untyped-def]
    loopback.route("POST", QUERY, Reply(403, {"error": {
        "message": "The provided credentials have insufficient access to perform the requested "
                   "operation", "code": "InsufficientAccessError"}}))
    result = invoke("audit", "--workspace", WS, "--since", "1d")
    assert result.exit_code == 2
    text = " ".join(result.stderr.split())
    assert "Log Analytics Reader" in text
    assert WS in text
    assert "Traceback" not in result.output


def test_unavailable_credentials_say_how_to_sign_in(loopback: LoopbackServer, tls_cert) -> None:
    from azure.identity import CredentialUnavailableError

    from pullpath.adapters.azure.errors import LiveAzureError

    class NoCredential:
        def get_token(self, *scopes: str, **kw: object) -> None:
            raise CredentialUnavailableError("EnvironmentCredential: not configured")

    with pytest.raises(LiveAzureError) as info:
        audit_workspace(WS, TimeWindow(START, END), credential=NoCredential(),
                        settings=loopback_settings(loopback.url, tls_cert[0]),
                        inventory=Inventory(), tags=load_service_tags(None))
    assert "az login" in str(info.value)
    assert loopback.requests == []


def test_no_token_in_logs_even_at_debug(loopback: LoopbackServer, tls_cert,
                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="azure")
    cred = FakeCredential(marker="debug-secret-marker")
    serve_all(loopback)
    loopback.route("POST", QUERY, LogAnalyticsEngine(generate_events(8, 50, START, END)))
    settings = loopback_settings(loopback.url, tls_cert[0])
    report = audit_workspace(WS, TimeWindow(START, END), credential=cred, settings=settings,
                             inventory=Inventory(), tags=load_service_tags(None))
    fetch_inventory([SUB], credential=cred, settings=settings)
    assert cred.tokens
    assert caplog.records
    text = caplog.text + json.dumps(audit_document(report))
    for token in cred.tokens:
        assert token not in text
        assert token.split(".")[1] not in text  # not even the claims part
    assert "Authorization" not in text or "REDACTED" in text


def test_strict_fails_on_a_partial_result(loopback: LoopbackServer, live_env) -> None:  # type: ignore[no-untyped-def]
    from tests.support.live_events import table_response

    doc = table_response([])
    doc["error"] = {"code": "PartialError", "message": "There were some errors",
                    "details": [{"code": "EngineError", "message": "a shard is unavailable"}]}
    loopback.route("POST", QUERY, Reply(200, doc))
    result = invoke("audit", "--workspace", WS, "--since", "1d", "--strict", "-f", "json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["input"]["ignored"] == {"partial-query-result": 1}
    assert "partial" in result.stderr


def test_fail_on_fails_closed_on_a_partial_or_empty_workspace(loopback: LoopbackServer,
                                                               live_env: FakeCredential) -> None:
    """A live audit gates like a file audit: a partial query result or a window without events
    fails --fail-on (exit 1, saying which), unless --allow-partial / --allow-empty."""
    from tests.support.live_events import table_response

    doc = table_response([])
    doc["error"] = {"code": "PartialError", "message": "There were some errors",
                    "details": [{"code": "EngineError", "message": "a shard is unavailable"}]}
    loopback.route("POST", QUERY, Reply(200, doc))
    base = ["audit", "--workspace", WS, "--since", "1d", "-f", "json", "--fail-on", "public"]
    result = invoke(*base)
    assert result.exit_code == 1
    assert "partial-query-result 1" in result.stderr
    assert "no registry events were read" in result.stderr
    assert invoke(*base, "--allow-partial").exit_code == 1  # still no events
    assert invoke(*base, "--allow-partial", "--allow-empty").exit_code == 0
    strict = invoke(*base, "--allow-partial", "--allow-empty", "--strict")
    assert strict.exit_code == 2  # --strict fails on the partial result whatever --fail-on allows
    assert "partial" in strict.stderr


def test_explain_subscription_equals_saved_inventory(loopback: LoopbackServer,
                                                     live_env: FakeCredential, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`explain --subscription` reads the same inventory a saved `pullpath inventory` holds."""
    serve_all(loopback)
    saved = tmp_path / "inventory.json"
    assert invoke("inventory", "-s", SUB, "-o", str(saved)).exit_code == 0
    offline = invoke("explain", "--inventory", str(saved), "-f", "json")
    live = invoke("explain", "--subscription", SUB, "-f", "json")
    assert offline.exit_code == 0, offline.output
    assert live.exit_code == 0, live.output
    off_doc, live_doc = json.loads(offline.stdout), json.loads(live.stdout)
    assert live_doc["pairs"]
    assert live_doc["pairs"] == off_doc["pairs"]
    assert live_doc["findings"] == off_doc["findings"]
    for token in live_env.tokens:
        assert token not in live.stdout


def test_explain_needs_exactly_one_inventory_source(live_env: FakeCredential) -> None:
    assert invoke("explain").exit_code == 2
    both = invoke("explain", "-i", ".", "-s", SUB)
    assert both.exit_code == 2
    assert "exactly one inventory source" in both.stderr


def test_explain_code_over_a_live_subscription_equals_over_a_saved_one(
        loopback: LoopbackServer, live_env: FakeCredential, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`explain --template --subscription`: the code is explained over the live inventory
    exactly as over the same inventory saved with `pullpath inventory`."""
    from tests.support import TESTS

    serve_all(loopback)
    saved = tmp_path / "inventory.json"
    assert invoke("inventory", "-s", SUB, "-o", str(saved)).exit_code == 0
    template = str(TESTS / "data" / "iac" / "arm-authored" / "field-report-switch.json")
    offline = invoke("explain", "-t", template, "--location", "japaneast",
                     "--inventory", str(saved), "-f", "json")
    live = invoke("explain", "-t", template, "--location", "japaneast",
                  "--subscription", SUB, "-f", "json")
    assert offline.exit_code == 0, offline.output
    assert live.exit_code == 0, live.output
    off_doc, live_doc = json.loads(offline.stdout), json.loads(live.stdout)
    alone = json.loads(invoke("explain", "-t", template, "--location", "japaneast",
                              "-f", "json").stdout)
    assert live_doc["inventory"]["resources"] > alone["inventory"]["resources"]
    assert live_doc["pairs"] == off_doc["pairs"]
    assert live_doc["findings"] == off_doc["findings"]
    for token in live_env.tokens:
        assert token not in live.stdout
        assert token not in live.stderr
