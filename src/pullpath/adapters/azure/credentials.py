"""Credentials and subscriptions, the way ``az`` finds them.

The credential is azure-identity's ``DefaultAzureCredential`` (environment variables, workload
identity, managed identity, Azure CLI, Azure PowerShell, Azure Developer CLI...; the interactive
browser is excluded so that CI never hangs). ``--tenant`` makes every token request for that
tenant. pullpath never reads, prints or logs a token or a secret: it only hands the credential
to the SDK clients.

Subscriptions, like ``az``: ``--subscription`` (an ID or a name, repeatable), else
``AZURE_SUBSCRIPTION_ID``, else the default subscription of the Azure CLI profile
(``$AZURE_CONFIG_DIR/azureProfile.json``, ``~/.azure`` by default), which holds IDs and names
only, no secrets.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

__all__ = [
    "CredentialError",
    "TenantCredential",
    "make_credential",
    "resolve_subscriptions",
    "validate_tenant",
]

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DOMAIN = re.compile(r"^[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+$")


class CredentialError(ValueError):
    """A tenant or subscription that cannot be used, with what to do."""


def validate_tenant(tenant: str) -> str:
    value = tenant.strip()
    if _GUID.match(value) or _DOMAIN.match(value):
        return value
    raise CredentialError(
        f"--tenant {tenant!r}: expected a tenant ID (GUID) or a domain (contoso.onmicrosoft.com)"
    )


class TenantCredential:
    """Wraps a credential so that every token is requested for one tenant (``--tenant``)."""

    def __init__(self, inner: Any, tenant: str) -> None:
        self._inner = inner
        self._tenant = tenant

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        kwargs["tenant_id"] = self._tenant
        return self._inner.get_token(*scopes, **kwargs)

    def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        opts = dict(options or {})
        opts["tenant_id"] = self._tenant
        return self._inner.get_token_info(*scopes, options=opts)

    def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if close is not None:
            close()


def make_credential(tenant: str | None = None) -> Any:
    """``DefaultAzureCredential`` (no interactive browser), for ``tenant`` when given."""
    from azure.identity import DefaultAzureCredential

    if not tenant:
        return DefaultAzureCredential(exclude_interactive_browser_credential=True)
    tenant = validate_tenant(tenant)
    inner = DefaultAzureCredential(
        exclude_interactive_browser_credential=True,
        workload_identity_tenant_id=tenant,
        shared_cache_tenant_id=tenant,
        visual_studio_code_tenant_id=tenant,
        additionally_allowed_tenants=[tenant],
    )
    return TenantCredential(inner, tenant)


def _profile_path(env: Mapping[str, str]) -> Path:
    config = env.get("AZURE_CONFIG_DIR")
    base = Path(config) if config else Path.home() / ".azure"
    return base / "azureProfile.json"


def _profile_subscriptions(env: Mapping[str, str]) -> list[dict[str, Any]]:
    path = _profile_path(env)
    try:
        raw = path.read_bytes()
    except OSError:
        return []
    if raw.startswith(b"\xef\xbb\xbf"):  # az writes the profile with a UTF-8 BOM
        raw = raw[3:]
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return []
    subs = doc.get("subscriptions") if isinstance(doc, dict) else None
    return [s for s in subs if isinstance(s, dict)] if isinstance(subs, list) else []


def resolve_subscriptions(
    given: Sequence[str], *, env: Mapping[str, str] | None = None, required: bool = True
) -> list[str]:
    """Subscription IDs from ``--subscription`` values (IDs or names), or the defaults.

    Raises :class:`CredentialError` when a name is unknown, or when none can be found and
    ``required``.
    """
    env = os.environ if env is None else env
    out: list[str] = []
    profile: list[dict[str, Any]] | None = None
    for value in given:
        text = value.strip()
        if _GUID.match(text):
            sub = text.lower()
        else:
            if profile is None:
                profile = _profile_subscriptions(env)
            matches = [
                str(s.get("id", "")).lower()
                for s in profile
                if str(s.get("name", "")).casefold() == text.casefold()
            ]
            if len(matches) != 1:
                why = "is not in" if not matches else "matches several subscriptions in"
                raise CredentialError(
                    f"--subscription {value!r} {why} the Azure CLI profile "
                    f"({_profile_path(env)}): pass the subscription ID instead "
                    "(az account list -o table)"
                )
            sub = matches[0]
        if sub not in out:
            out.append(sub)
    if out:
        return out
    env_sub = env.get("AZURE_SUBSCRIPTION_ID", "").strip()
    if _GUID.match(env_sub):
        return [env_sub.lower()]
    for s in _profile_subscriptions(env):
        if s.get("isDefault") is True and _GUID.match(str(s.get("id", ""))):
            return [str(s["id"]).lower()]
    if required:
        raise CredentialError(
            "no subscription: pass --subscription ID (repeatable), set AZURE_SUBSCRIPTION_ID, "
            "or choose a default with `az account set --subscription ID`"
        )
    return []
