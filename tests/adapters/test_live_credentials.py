"""Credentials, subscriptions and client settings: how the live commands find them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pullpath.adapters.azure.credentials import (
    CredentialError,
    TenantCredential,
    make_credential,
    resolve_subscriptions,
    validate_tenant,
)
from pullpath.adapters.azure.errors import redact_url, scrub
from pullpath.adapters.azure.retry import ClientSettings, SettingsError
from pullpath.adapters.azure.storage_archive import ARCHIVE_CONTAINERS, parse_storage_target

A = "aaaaaaaa-0000-0000-0000-000000000001"
B = "bbbbbbbb-0000-0000-0000-000000000002"


def profile(folder: Path) -> dict[str, str]:
    """An Azure CLI profile as `az login` writes it (UTF-8 with a byte order mark)."""
    doc = {"installationId": "x", "subscriptions": [
        {"id": A, "name": "Production", "isDefault": False, "tenantId": "t", "state": "Enabled",
         "user": {"name": "someone@example.com", "type": "user"}},
        {"id": B, "name": "Lab", "isDefault": True, "tenantId": "t", "state": "Enabled",
         "user": {"name": "someone@example.com", "type": "user"}},
    ]}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "azureProfile.json").write_bytes(b"\xef\xbb\xbf" + json.dumps(doc).encode())
    return {"AZURE_CONFIG_DIR": str(folder)}


def test_subscriptions_like_az(tmp_path: Path) -> None:
    env = profile(tmp_path / "az")
    assert resolve_subscriptions([], env=env) == [B]  # az's default
    assert resolve_subscriptions(["production", A.upper(), "Lab"], env=env) == [A, B]
    assert resolve_subscriptions([], env={**env, "AZURE_SUBSCRIPTION_ID": A}) == [A]
    with pytest.raises(CredentialError, match="az account list"):
        resolve_subscriptions(["Nope"], env=env)
    with pytest.raises(CredentialError, match="--subscription"):
        resolve_subscriptions([], env={"AZURE_CONFIG_DIR": str(tmp_path / "empty")})
    assert resolve_subscriptions([], env={"AZURE_CONFIG_DIR": str(tmp_path)},
                                 required=False) == []


def test_tenant() -> None:
    assert validate_tenant("contoso.onmicrosoft.com") == "contoso.onmicrosoft.com"
    with pytest.raises(CredentialError):
        validate_tenant("not a tenant")

    class Recorder:
        def __init__(self) -> None:
            self.kwargs: list[dict[str, Any]] = []

        def get_token(self, *scopes: str, **kwargs: Any) -> str:
            self.kwargs.append(kwargs)
            return "token"

        def get_token_info(self, *scopes: str, options: Any = None) -> str:
            self.kwargs.append(dict(options or {}))
            return "token"

    inner = Recorder()
    cred = TenantCredential(inner, A)
    cred.get_token("https://management.azure.com/.default")
    cred.get_token_info("https://management.azure.com/.default")
    assert [k["tenant_id"] for k in inner.kwargs] == [A, A]
    built = make_credential(A)  # constructing DefaultAzureCredential contacts nothing
    assert isinstance(built, TenantCredential)
    built.close()


def test_settings_from_env() -> None:
    s = ClientSettings.from_env({
        "PULLPATH_RETRY_TOTAL": "9", "PULLPATH_RETRY_BACKOFF_FACTOR": "0.5",
        "PULLPATH_READ_TIMEOUT": "30", "PULLPATH_ARM_ENDPOINT": "https://management.usgovcloudapi.net/",
    })
    assert s.retry.total == 9
    assert s.retry.backoff_factor == 0.5
    assert s.retry.read_timeout == 30
    assert s.endpoints.arm_scopes == ["https://management.usgovcloudapi.net/.default"]
    kwargs = s.core_kwargs()
    assert kwargs["retry_total"] == 9
    assert kwargs["retry_backoff_factor"] == 0.5
    policy = s.storage_kwargs()["retry_policy"]
    assert policy.total_retries == 9
    for bad in ({"PULLPATH_RETRY_TOTAL": "many"}, {"PULLPATH_RETRY_TOTAL": "-1"},
                {"PULLPATH_LOGS_ENDPOINT": "http://plain.example"},
                {"PULLPATH_QUERY_SERVER_TIMEOUT": "3600"}):
        with pytest.raises(SettingsError):
            ClientSettings.from_env(bad)


def test_storage_targets() -> None:
    loc = parse_storage_target("contosologs")
    assert loc.account_url == "https://contosologs.blob.core.windows.net"
    assert loc.containers == ARCHIVE_CONTAINERS
    assert not loc.has_sas
    sas = parse_storage_target(
        "https://contosologs.blob.core.windows.net/insights-logs-containerregistryloginevents"
        "?sv=2024-05-04&sr=c&sp=rl&sig=SECRETSIGNATURE"
    )
    assert sas.has_sas
    assert sas.containers == ("insights-logs-containerregistryloginevents",)
    assert "SECRET" not in sas.display
    assert "sig" not in sas.display
    emulator = parse_storage_target("https://127.0.0.1:10000/devstoreaccount1")
    assert emulator.account_url == "https://127.0.0.1:10000/devstoreaccount1"
    from pullpath.adapters.azure.errors import LiveAzureError

    for bad in ("http://x.blob.core.windows.net", "Not_An_Account",
                "https://a.blob.core.windows.net/c/blob/path"):
        with pytest.raises(LiveAzureError):
            parse_storage_target(bad)


def test_messages_never_carry_secrets() -> None:
    assert redact_url("https://u:p@a.blob.core.windows.net/c?sig=abc&sv=1") == \
        "https://a.blob.core.windows.net/c"
    text = scrub("Authorization: Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln and "
                 "https://x/?sig=SECRET&client_secret=HIDDEN")
    assert "eyJ" not in text
    assert "SECRET" not in text
    assert "HIDDEN" not in text
