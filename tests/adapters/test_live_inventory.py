"""Inventory from Azure: the real ResourceGraphClient and ARM pipeline over HTTPS against a
loopback ARM endpoint serving the official REST API examples (tests/data/live/*.json):
Resource Graph pages chained by $skipToken, role assignments and diagnostic settings pages
chained by nextLink, throttling, and the round trip through ``pullpath inventory --output``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pullpath.adapters.azure.errors import LiveAzureError
from pullpath.adapters.azure.resourcegraph import RESOURCE_GRAPH_API
from pullpath.adapters.inventory_files import read_inventory
from pullpath.cli.app import app
from pullpath.workflows.live import fetch_inventory, inventory_of
from tests.support.arm_inventory import (
    GRAPH,
    PAGE,
    REGISTRIES,
    SUB,
    GraphEngine,
    graph_rows,
    serve_all,
)
from tests.support.live_server import (
    FakeCredential,
    LoopbackServer,
    Reply,
    Request,
    loopback_settings,
)


def test_pages_and_calls(loopback: LoopbackServer, tls_cert) -> None:
    engine = serve_all(loopback)
    live = fetch_inventory([SUB], credential=FakeCredential(),
                           settings=loopback_settings(loopback.url, tls_cert[0]))
    rows = graph_rows()
    assert len(engine.bodies) == -(-len(rows) // PAGE)  # one request per page
    assert engine.bodies[0]["subscriptions"] == [SUB]
    assert engine.bodies[0]["options"].get("$top") == 1000
    assert engine.bodies[0]["options"]["resultFormat"] == "objectArray"
    assert [b["options"].get("$skipToken") for b in engine.bodies[1:]] == [
        f"offset-{PAGE * i}" for i in range(1, len(engine.bodies))
    ]
    assert all(r.query["api-version"] == [RESOURCE_GRAPH_API]
               for r in loopback.requests_to(GRAPH))
    values = live.document["value"]
    assert [v["id"] for v in values[: len(rows)]] == [r["id"] for r in rows]
    types = [v["type"].lower() for v in values[len(rows):]]
    # per registry: two role-assignment pages (the subscription-level one once) + one setting
    assert types.count("microsoft.authorization/roleassignments") == 1 + len(REGISTRIES)
    assert types.count("microsoft.insights/diagnosticsettings") == len(REGISTRIES)
    assert live.registries == len(REGISTRIES)
    assert not live.warnings
    inv = inventory_of(live)
    assert len(inv.registries) == len(REGISTRIES)
    closed = next(r for r in inv.registries.values() if r.name.lower() == "closedregistry")
    assert closed.restricted is True
    assert closed.trusted_services_allowed is True
    assert inv.role_assignments_present
    assert inv.diagnostic_settings_present
    assert {d.target_id for d in inv.diagnostic_settings.values()} == {
        r.lower() for r in REGISTRIES
    }


def test_saved_file_reads_back_identically(loopback: LoopbackServer, tls_cert,
                                           tmp_path: Path) -> None:
    serve_all(loopback)
    live = fetch_inventory([SUB], credential=FakeCredential(),
                           settings=loopback_settings(loopback.url, tls_cert[0]))
    direct = inventory_of(live)
    out = tmp_path / "inventory.json"
    out.write_text(json.dumps(live.document), encoding="utf-8")
    back = read_inventory([out])
    for name in ("vnets", "subnets", "private_endpoints", "nics", "public_ips", "nat_gateways",
                 "registries", "identities", "consumers", "environments", "role_assignments",
                 "diagnostic_settings", "dns_zones", "ignored_types", "resources_seen",
                 "role_assignments_present", "diagnostic_settings_present"):
        assert getattr(back, name) == getattr(direct, name), name
    assert [(i.resource_id, i.problem) for i in back.issues] == [
        (i.resource_id, i.problem) for i in direct.issues
    ]
    assert direct.consumers
    assert direct.subnets


def test_throttled_graph_query_is_retried(loopback: LoopbackServer, tls_cert) -> None:
    engine = GraphEngine(graph_rows())
    throttle = {"error": {"code": "RateLimiting",
                          "message": "Please provide below info when asking for support"}}
    calls = {"n": 0}

    def handler(req: Request) -> Reply:
        calls["n"] += 1
        if calls["n"] == 2:  # the second page is throttled once
            return Reply(429, throttle, {"Retry-After": "1",
                                         "x-ms-user-quota-remaining": "0",
                                         "x-ms-user-quota-resets-after": "00:00:01"})
        return engine(req)

    loopback.route("POST", GRAPH, handler)
    live = fetch_inventory([SUB], credential=FakeCredential(),
                           settings=loopback_settings(loopback.url, tls_cert[0]),
                           role_assignments=False, diagnostic_settings=False)
    assert [v["id"] for v in live.document["value"]] == [r["id"] for r in graph_rows()]
    assert calls["n"] == len(engine.bodies) + 1


def test_graph_403_names_the_permission(loopback: LoopbackServer, tls_cert) -> None:
    body = {"error": {
        "code": "AuthorizationFailed",
        "message": f"The client '0000' with object id '0000' does not have authorization to "
                   f"perform action 'Microsoft.ResourceGraph/resources/read' over scope "
                   f"'/subscriptions/{SUB}' or the scope is invalid.",
    }}
    loopback.route("POST", GRAPH, Reply(403, body))
    with pytest.raises(LiveAzureError) as info:
        fetch_inventory([SUB], credential=FakeCredential(),
                        settings=loopback_settings(loopback.url, tls_cert[0]))
    text = str(info.value)
    assert f"Reader on subscription {SUB}" in text
    assert "AuthorizationFailed" in text


def test_role_assignments_403_is_a_warning(loopback: LoopbackServer, tls_cert) -> None:
    serve_all(loopback)
    denied = {"error": {"code": "AuthorizationFailed", "message": "no roleAssignments/read"}}
    for rid in REGISTRIES:
        loopback.route("GET", f"{rid}/providers/Microsoft.Authorization/roleAssignments",
                       Reply(403, denied))
    live = fetch_inventory([SUB], credential=FakeCredential(),
                           settings=loopback_settings(loopback.url, tls_cert[0]))
    assert len(live.warnings) == len(REGISTRIES)
    assert all("roleAssignments/read" in w and "registry" in w for w in live.warnings)
    assert not inventory_of(live).role_assignments_present


def test_next_link_to_another_host_is_refused(loopback: LoopbackServer, tls_cert) -> None:
    serve_all(loopback)
    rid = REGISTRIES[0]
    loopback.route(
        "GET", f"{rid}/providers/Microsoft.Insights/diagnosticSettings",
        Reply(200, {"value": [], "nextLink": "https://attacker.example/steal?api-version=1"}),
    )
    with pytest.raises(LiveAzureError) as info:
        fetch_inventory([SUB], credential=FakeCredential(),
                        settings=loopback_settings(loopback.url, tls_cert[0]))
    assert "another host" in str(info.value)
    assert "steal" not in str(info.value).split("(")[0]


def test_expiring_token_is_renewed(loopback: LoopbackServer, tls_cert) -> None:
    """Tokens close to expiry are renewed by the SDK's bearer policy before the next request."""
    serve_all(loopback)
    cred = FakeCredential(lifetime=60)  # inside azure-core's 300 s refresh window
    fetch_inventory([SUB], credential=cred, settings=loopback_settings(loopback.url, tls_cert[0]),
                    role_assignments=False, diagnostic_settings=False)
    seen = {r.headers["authorization"] for r in loopback.requests_to(GRAPH)}
    assert len(cred.tokens) >= 2
    assert len(seen) >= 2


def test_cli_inventory_output_file(loopback: LoopbackServer, tls_cert, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from pullpath.adapters.azure import credentials

    serve_all(loopback)
    monkeypatch.setattr(credentials, "make_credential", lambda tenant=None: FakeCredential())
    monkeypatch.setenv("PULLPATH_ARM_ENDPOINT", loopback.url)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_cert[0]))
    monkeypatch.setenv("PULLPATH_RETRY_BACKOFF_FACTOR", "0.01")
    out = tmp_path / "inv.json"
    result = CliRunner().invoke(app, ["inventory", "--subscription", SUB, "--output", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert set(doc) == {"value"}
    assert len(doc["value"]) == len(graph_rows()) + 1 + 2 * len(
        REGISTRIES)
    back = read_inventory([out])
    assert len(back.registries) == len(REGISTRIES)
