"""Service Tag Discovery API: the real NetworkManagementClient over HTTPS against a loopback ARM
endpoint serving the official ServiceTagsList example (split into two pages by nextLink), the
on-disk cache, and which tags an audit then uses."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pullpath.adapters.azure.errors import LiveAzureError
from pullpath.adapters.azure.servicetags_api import (
    cached_discovery_tags,
    choose_service_tags,
)
from pullpath.cli.app import app
from pullpath.workflows.live import update_service_tags
from tests.support.live_server import (
    FakeCredential,
    LoopbackServer,
    Reply,
    Request,
    example_body,
    loopback_settings,
)

SUB = "11111111-2222-3333-4444-555555555555"
PATH = f"/subscriptions/{SUB}/providers/Microsoft.Network/locations/westeurope/serviceTags"


def serve(server: LoopbackServer) -> dict[str, object]:
    body = example_body("ServiceTagsList.json")
    first = copy.deepcopy(body)
    second = copy.deepcopy(body)
    first["values"], second["values"] = body["values"][:3], body["values"][3:]
    first["nextLink"] = f"{server.url}{PATH}?api-version=2024-07-01&$skipToken=page2"
    second.pop("nextLink", None)

    def handler(req: Request) -> Reply:
        return Reply(200, second if req.query.get("$skipToken") == ["page2"] else first)

    server.route("GET", PATH, handler)
    return body  # type: ignore[no-any-return]


def test_update_follows_next_link_and_caches(loopback: LoopbackServer, tls_cert,
                                             tmp_path: Path) -> None:
    body = serve(loopback)
    result = update_service_tags(
        "westeurope", SUB, credential=FakeCredential(), cache_dir=tmp_path,
        settings=loopback_settings(loopback.url, tls_cert[0]), today=date(2026, 1, 15),
    )
    assert len(loopback.requests_to(PATH)) == 2
    assert result.pages == 2
    assert result.tags == len(body["values"])  # type: ignore[arg-type]
    assert result.change_number == body["changeNumber"]
    assert result.cloud == body["cloud"]
    saved = json.loads(result.path.read_text())
    assert [v["name"] for v in saved["values"]] == [
        v["name"] for v in body["values"]  # type: ignore[union-attr]
    ]
    assert "nextLink" not in saved
    assert result.path.name == "ServiceTags_Public_20260115.westeurope.json"

    cached = cached_discovery_tags("Public", tmp_path)
    assert cached is not None
    assert cached.path == result.path
    index, note = choose_service_tags(None, cache_dir=tmp_path)
    assert index.change_number == body["changeNumber"]
    assert index.published == date(2026, 1, 15)
    assert "Discovery API" in index.source
    assert "day(s) ago" in note
    some = body["values"][0]["properties"]["addressPrefixes"][0].split("/")[0]  # type: ignore[index]
    match = index.lookup(some)
    assert match is not None
    assert match.name == body["values"][0]["name"]


def test_older_cache_loses_to_the_bundled_snapshot(loopback: LoopbackServer, tls_cert,
                                                   tmp_path: Path) -> None:
    serve(loopback)
    update_service_tags("westeurope", SUB, credential=FakeCredential(), cache_dir=tmp_path,
                        settings=loopback_settings(loopback.url, tls_cert[0]),
                        today=date(2024, 1, 1))
    index, note = choose_service_tags(None, cache_dir=tmp_path)
    assert "bundled" in note
    assert index.source.startswith("bundled")


def test_403_names_subscription_reader(loopback: LoopbackServer, tls_cert,
                                       tmp_path: Path) -> None:
    body = {"error": {"code": "AuthorizationFailed",
                      "message": "does not have authorization to perform action "
                                 "'Microsoft.Network/locations/serviceTags/read'"}}
    loopback.route("GET", PATH, Reply(403, body))
    with pytest.raises(LiveAzureError) as info:
        update_service_tags("westeurope", SUB, credential=FakeCredential(), cache_dir=tmp_path,
                            settings=loopback_settings(loopback.url, tls_cert[0]))
    assert f"Reader on subscription {SUB}" in str(info.value)
    assert cached_discovery_tags("Public", tmp_path) is None


def test_bad_location_is_refused_before_any_call(loopback: LoopbackServer, tls_cert,
                                                 tmp_path: Path) -> None:
    with pytest.raises(LiveAzureError):
        update_service_tags("west europe/../x", SUB, credential=FakeCredential(),
                            cache_dir=tmp_path, settings=loopback_settings(loopback.url, tls_cert[0]))
    assert loopback.requests == []


def test_cli_update_then_show(loopback: LoopbackServer, tls_cert, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    from pullpath.adapters.azure import credentials

    serve(loopback)
    monkeypatch.setattr(credentials, "make_credential", lambda tenant=None: FakeCredential())
    monkeypatch.setenv("PULLPATH_ARM_ENDPOINT", loopback.url)
    monkeypatch.setenv("PULLPATH_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_cert[0]))
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", SUB)
    runner = CliRunner()
    result = runner.invoke(app, ["service-tags", "update", "--location", "westeurope"])
    assert result.exit_code == 0, result.output
    shown = runner.invoke(app, ["service-tags", "show", "--json"])
    assert shown.exit_code == 0, shown.output
    doc = json.loads(shown.stdout)
    assert doc["cached_discovery"]
    assert doc["source"].startswith("Service Tag Discovery API")
    assert doc["age_days"] is not None
    assert doc["age_days"] >= 0
