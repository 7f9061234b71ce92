"""Storage-account archive: the real BlobServiceClient against Azurite (HTTPS, OAuth bearer
tokens), with append blobs laid out exactly as diagnostic settings write them:
``insights-logs-containerregistry{repository,login}events/resourceId=/SUBSCRIPTIONS/<SUB>/
RESOURCEGROUPS/<RG>/PROVIDERS/MICROSOFT.CONTAINERREGISTRY/REGISTRIES/<NAME>/y=/m=/d=/h=/m=00/
PT1H.json``, one JSON record per line (records in the archive shape of
tests/data/live/repositoryevents_pull_404_record.json)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pullpath.adapters.azure.errors import LiveAzureError
from pullpath.adapters.azure.storage_archive import (
    ARCHIVE_CONTAINERS,
    ArchiveReader,
    date_prefixes,
    hour_window,
    parse_storage_target,
)
from pullpath.adapters.logs_files import read_events
from pullpath.adapters.servicetags_files import load_service_tags
from pullpath.core.kql import TimeWindow, parse_registry
from pullpath.domain.events import ReadStats
from pullpath.domain.inventory import Inventory
from pullpath.formatters.audit_doc import audit_document
from pullpath.workflows.audit import audit_events
from pullpath.workflows.live import audit_storage
from tests.support.live_events import TABLE_LOGIN, generate_events
from tests.support.live_server import (
    AZURITE_ACCOUNT,
    AZURITE_KEY,
    LIVE_DATA,
    Azurite,
    FakeCredential,
    LoopbackServer,
    Reply,
    loopback_settings,
)

pytestmark = pytest.mark.azurite

REGISTRY_IDS = {
    "CONTOSOACR": "/SUBSCRIPTIONS/11111111-2222-3333-4444-555555555555/RESOURCEGROUPS/"
                  "RG-PULLPATH-DEMO/PROVIDERS/MICROSOFT.CONTAINERREGISTRY/REGISTRIES/CONTOSOACR",
    "FABRIKAMREG": "/SUBSCRIPTIONS/22222222-3333-4444-5555-666666666666/RESOURCEGROUPS/"
                   "RG-OTHER/PROVIDERS/MICROSOFT.CONTAINERREGISTRY/REGISTRIES/FABRIKAMREG",
}
DAY = datetime(2024, 11, 25, tzinfo=UTC)
HOURS = [DAY - timedelta(hours=2) + timedelta(hours=h) for h in range(20)]  # 24th 22h .. 25th 17h


def archive_record(e: dict[str, Any], resource_id: str) -> dict[str, Any]:
    """A generated Log Analytics row in the archive (diagnostic settings) shape."""
    props = {"loginServer": e["LoginServer"] or "<nil>", "userAgent": e["UserAgent"],
             "digest": e.get("Digest", "<nil>"), "tenantId": "00000000-0000-0000-0000-000000000011"}
    if e["Type"] != TABLE_LOGIN:
        props.update(repository=e["Repository"], tag=e["Tag"] or "<nil>")
    return {
        "time": e["TimeGenerated"], "resourceId": resource_id, "category": e["Type"],
        "operationName": e["OperationName"], "identity": e["Identity"],
        "location": "westeurope", "resultType": e["ResultType"],
        "resultDescription": e["ResultDescription"], "durationMs": e["DurationMs"],
        "callerIpAddress": e["CallerIpAddress"], "correlationId": e["CorrelationId"],
        "properties": props,
    }


def blob_name(resource_id: str, hour: datetime) -> str:
    return (f"resourceId={resource_id}/y={hour:%Y}/m={hour:%m}/d={hour:%d}/h={hour:%H}/m=00/"
            "PT1H.json")


def container_for(category: str) -> str:
    return f"insights-logs-{category.lower()}"


@pytest.fixture(scope="module")
def archive(azurite: Azurite) -> dict[str, bytes]:
    """Upload the archive once; returns {container/blob: content}."""
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient(azurite.blob_url, credential={
        "account_name": AZURITE_ACCOUNT, "account_key": AZURITE_KEY,
    }, connection_verify=str(azurite.ca))
    for c in ARCHIVE_CONTAINERS:  # a fresh in-memory Azurite per session
        service.create_container(c)
    blobs: dict[tuple[str, str], list[str]] = {}
    for i, rid in enumerate(REGISTRY_IDS.values()):
        for j, hour in enumerate(HOURS):
            for e in generate_events(100 * i + j, 40, hour, hour + timedelta(hours=1)):
                if not e["OperationName"]:
                    e["OperationName"] = "Pull"
                rec = archive_record(e, rid)
                blobs.setdefault((container_for(e["Type"]), blob_name(rid, hour)), []).append(
                    json.dumps(rec))
    # the real anonymised record (archive shape as seen in the wild) into one of the hours
    real = (LIVE_DATA / "repositoryevents_pull_404_record.json").read_text().strip()
    real_doc = json.loads(real)
    real_doc["resourceId"] = REGISTRY_IDS["CONTOSOACR"]
    real_doc["time"] = "2024-11-25T10:19:15.1931730Z"
    key = (ARCHIVE_CONTAINERS[0], blob_name(REGISTRY_IDS["CONTOSOACR"], DAY + timedelta(hours=10)))
    blobs[key].append(json.dumps(real_doc))
    # a blob outside the layout (ignored, counted)
    stray = (ARCHIVE_CONTAINERS[0], f"resourceId={REGISTRY_IDS['CONTOSOACR']}/y=2024/m=11/d=25/"
                                    "notes.txt")
    out: dict[str, bytes] = {}
    for (container, name), lines in [*blobs.items(), (stray, ["not a log"])]:
        data = ("\n".join(lines) + "\n").encode()
        client = service.get_blob_client(container, name)
        client.create_append_blob()
        client.append_block(data)
        out[f"{container}/{name}"] = data
    service.close()
    return out


def settings_for(azurite: Azurite):  # type: ignore[no-untyped-def]
    return loopback_settings("https://127.0.0.1:1", azurite.ca)


def local_copy(tmp_path: Path, archive: dict[str, bytes], keep) -> Path:  # type: ignore[no-untyped-def]
    root = tmp_path / "local"
    for key, data in archive.items():
        if keep(key):
            path = root / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    return root


def in_hours(key: str, window: TimeWindow) -> bool:
    from pullpath.adapters.azure.storage_archive import blob_hour

    hour = blob_hour(key[key.index("/y=") + 1 :])
    return hour is not None and window.start <= hour < window.end


def test_reads_only_the_hours_of_the_range_like_the_file_reader(
    azurite: Azurite, archive: dict[str, bytes], tmp_path: Path
) -> None:
    window = TimeWindow(DAY + timedelta(hours=9, minutes=30), DAY + timedelta(hours=12, minutes=5))
    hours = hour_window(window)
    assert (hours.start.hour, hours.end.hour) == (9, 13)
    tags = load_service_tags(None)
    location = parse_storage_target(azurite.blob_url)
    cred = FakeCredential()
    report = audit_storage(location, window, credential=cred, settings=settings_for(azurite),
                           inventory=Inventory(), tags=tags)
    assert cred.calls  # bearer tokens were used (Azurite OAuth)

    expected = [k for k in archive if in_hours(k, hours) and k.endswith("PT1H.json")]
    assert len(expected) == 4 * 2 * 2  # 4 hours x 2 registries x 2 categories
    stats = report.result.stats
    assert sorted(f.split(f"/{AZURITE_ACCOUNT}/", 1)[1] for f in stats.files) == sorted(expected)

    root = local_copy(tmp_path, archive, lambda k: k in expected)
    file_stats = ReadStats()
    by_file = audit_events(read_events([root], file_stats), file_stats, inventory=Inventory(),
                           tags=tags)
    assert audit_document(report)["flows"] == audit_document(by_file)["flows"]
    assert stats.events_read == file_stats.events_read > 0
    assert stats.skipped == file_stats.skipped
    assert any(f.identity == "user@example.com" and f.result == "404"
               for f in report.result.flows)  # the real record is in
    assert "whole hours" in report.log_sources[0]
    assert "16 blob(s)" in report.log_sources[0]


def test_registry_filter_prunes_the_listing(azurite: Azurite, archive: dict[str, bytes]) -> None:
    window = TimeWindow(DAY, DAY + timedelta(hours=2))
    location = parse_storage_target(azurite.blob_url)
    stats = ReadStats()
    with ArchiveReader(FakeCredential(), location, settings_for(azurite)) as reader:
        events = list(reader.read_events(window, stats,
                                         registries=[parse_registry("fabrikamreg")]))
        assert reader.blobs_read == 2 * 2
    assert events
    assert {e.resource_id.rsplit("/", 1)[-1] for e in events} == {"fabrikamreg"}


def test_whole_day_prefix_and_stray_blob(azurite: Azurite, archive: dict[str, bytes]) -> None:
    window = TimeWindow(DAY, DAY + timedelta(days=1))
    assert date_prefixes(window) == ["y=2024/m=11/d=25/"]
    stats = ReadStats()
    with ArchiveReader(FakeCredential(), parse_storage_target(azurite.blob_url),
                       settings_for(azurite)) as reader:
        list(reader.read_events(window, stats, registries=[parse_registry("contosoacr")]))
        assert reader.blobs_read == 18 * 2  # hours 00..17 of the 25th exist
    assert stats.ignored["archive-blob-outside-layout"] == 1


def test_sas_container_url_never_shows_the_signature(azurite: Azurite,
                                                     archive: dict[str, bytes]) -> None:
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    container = ARCHIVE_CONTAINERS[1]
    sas = generate_container_sas(
        AZURITE_ACCOUNT, container, account_key=AZURITE_KEY,
        permission=ContainerSasPermissions(read=True, list=True),
        expiry=datetime.now(UTC) + timedelta(hours=1),
    )
    location = parse_storage_target(f"{azurite.blob_url}/{container}?{sas}")
    assert location.has_sas
    assert location.containers == (container,)
    cred = FakeCredential()
    report = audit_storage(location, TimeWindow(DAY, DAY + timedelta(hours=3)), credential=cred,
                           settings=settings_for(azurite), inventory=Inventory(),
                           tags=load_service_tags(None))
    assert cred.calls == []  # the SAS is the credential
    assert report.result.stats.events_read > 0
    text = json.dumps(audit_document(report))
    assert "sig=" not in text
    assert sas.split("sig=")[1][:10] not in text
    assert all(f.table == TABLE_LOGIN for f in report.result.flows)


def test_missing_container_is_a_warning(azurite: Azurite, archive: dict[str, bytes]) -> None:
    location = parse_storage_target(f"{azurite.blob_url}/insights-logs-nothing-here")
    report = audit_storage(location, TimeWindow(DAY, DAY + timedelta(hours=1)),
                           credential=FakeCredential(), settings=settings_for(azurite),
                           inventory=Inventory(), tags=load_service_tags(None))
    assert any("does not exist" in w for w in report.result.warnings)
    assert report.result.stats.events_read == 0


def test_large_blob_is_streamed_in_chunks(azurite: Azurite, archive: dict[str, bytes]) -> None:
    from azure.storage.blob import BlobServiceClient

    from pullpath.adapters.azure.storage_archive import CHUNK_BYTES

    rid = REGISTRY_IDS["FABRIKAMREG"].replace("FABRIKAMREG", "BIGREG")
    hour = DAY + timedelta(days=3)
    events = generate_events(77, 200, hour, hour + timedelta(hours=1))
    line = (json.dumps(archive_record({**events[0], "OperationName": "Pull",
                                       "Type": "ContainerRegistryRepositoryEvents",
                                       "Repository": "big", "Tag": "v1"}, rid)) + "\n").encode()
    copies = (2 * CHUNK_BYTES + CHUNK_BYTES // 2) // len(line) + 1
    service = BlobServiceClient(azurite.blob_url, credential={
        "account_name": AZURITE_ACCOUNT, "account_key": AZURITE_KEY,
    }, connection_verify=str(azurite.ca))
    blob = service.get_blob_client(ARCHIVE_CONTAINERS[0], blob_name(rid, hour))
    blob.create_append_blob()
    block = line * (copies // 3 + 1)
    for _ in range(3):
        blob.append_block(block)
    total = 3 * (copies // 3 + 1)
    service.close()

    stats = ReadStats()
    with ArchiveReader(FakeCredential(), parse_storage_target(azurite.blob_url),
                       settings_for(azurite)) as reader:
        n = sum(1 for _ in reader.read_events(TimeWindow(hour, hour + timedelta(hours=1)), stats,
                                              registries=[parse_registry("bigreg")]))
        assert reader.range_gets >= 3  # > 2.5 chunks: several ranged GETs, never one
        assert reader.bytes_read == len(block) * 3
    assert n == total == stats.events_read


def test_403_names_storage_blob_data_reader(loopback: LoopbackServer, tls_cert) -> None:
    """Azurite does not check roles; the documented error comes from the loopback server."""
    xml = ('<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthorizationPermissionMismatch'
           "</Code><Message>This request is not authorized to perform this operation using "
           "this permission.\nRequestId:0000\nTime:2024-11-25T10:00:00.0000000Z</Message></Error>")
    loopback.route("GET", "/acct/insights-logs-containerregistryrepositoryevents",
                   Reply(403, xml, {"Content-Type": "application/xml",
                                    "x-ms-error-code": "AuthorizationPermissionMismatch"}))
    location = parse_storage_target(
        f"{loopback.url}/acct/insights-logs-containerregistryrepositoryevents")
    with pytest.raises(LiveAzureError) as info:
        audit_storage(location, TimeWindow(DAY, DAY + timedelta(hours=1)),
                      credential=FakeCredential(),
                      settings=loopback_settings(loopback.url, tls_cert[0]),
                      inventory=Inventory(), tags=load_service_tags(None))
    text = str(info.value)
    assert "Storage Blob Data Reader" in text
    assert "AuthorizationPermissionMismatch" in text


def test_cli_audit_storage_account(azurite: Azurite, archive: dict[str, bytes],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from pullpath.adapters.azure import credentials
    from pullpath.cli.app import app

    cred = FakeCredential()
    monkeypatch.setattr(credentials, "make_credential", lambda tenant=None: cred)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(azurite.ca))
    result = CliRunner().invoke(app, [
        "audit", "--storage-account", azurite.blob_url, "--from", "2024-11-25T10:00:00Z",
        "--to", "2024-11-25T11:00:00Z", "--registry", "contosoacr", "--format", "json",
    ])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["input"]["files"] == 2  # one hour, one registry, two categories
    assert doc["summary"]["events"] == doc["input"]["events_read"] > 0
    assert cred.calls
