"""How pullpath configures the Azure SDK clients: retries, timeouts, endpoints, TLS.

Retries are left to the SDKs' own retry policies, configured deliberately here and passed as
client keyword arguments (azure-core ``RetryPolicy``: ``retry_total``, ``retry_connect``,
``retry_read``, ``retry_status``, ``retry_backoff_factor``, ``retry_backoff_max``; transport:
``connection_timeout``, ``read_timeout``, ``connection_verify``):

- HTTP 429 and 408/500/502/503/504 are retried with exponential back-off
  (``backoff_factor * 2 ** (retry - 1)`` seconds, capped at ``backoff_max``); a ``Retry-After``,
  ``retry-after-ms`` or ``x-ms-retry-after-ms`` header from the service wins over the back-off.
- Connection failures and read timeouts are retried (``retry_connect`` / ``retry_read``).
- azure-core retries POST only on 500/503/504 and never after a read timeout. The Log Analytics
  query and the Resource Graph query are read-only POSTs, so pullpath passes
  ``retry_on_methods`` with POST for those two calls (:data:`READ_ONLY_POST`).
- Expired tokens: ``BearerTokenCredentialPolicy`` asks the credential for a new token before
  the old one expires (and on a ``WWW-Authenticate`` claims challenge); no extra code needed.
- Azure Storage uses its own ``ExponentialRetry`` (5xx except 501/505, 408, timeouts; storage
  throttles with 503 ServerBusy), built from the same numbers.

Every number can be changed by environment variables (:meth:`ClientSettings.from_env`), and the
tests make the back-offs tiny through these same settings, not by patching the SDK.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pullpath import __version__

__all__ = ["READ_ONLY_POST", "ClientSettings", "Endpoints", "RetrySettings", "SettingsError"]

READ_ONLY_POST = frozenset({"HEAD", "GET", "PUT", "DELETE", "OPTIONS", "TRACE", "POST"})
"""``retry_on_methods`` for read-only POST queries (Log Analytics, Resource Graph)."""

USER_AGENT = f"pullpath/{__version__}"


class SettingsError(ValueError):
    """A PULLPATH_* environment variable with a value that cannot be used."""


@dataclass(frozen=True, slots=True)
class RetrySettings:
    """Retry and timeout numbers for every Azure client pullpath creates."""

    total: int = 6
    """Most retries of one request, whatever the cause."""
    connect: int = 3
    """Retries after a connection error."""
    read: int = 3
    """Retries after a read error or timeout."""
    status: int = 5
    """Retries after a retryable HTTP status (429, 5xx)."""
    backoff_factor: float = 0.8
    """Seconds; the n-th retry waits ``backoff_factor * 2 ** (n - 1)`` (azure-core's formula)."""
    backoff_max: float = 60.0
    """Longest back-off in seconds (a longer Retry-After from the service is still honoured)."""
    connection_timeout: float = 20.0
    """Seconds to establish a connection."""
    read_timeout: float = 120.0
    """Seconds to wait for data on an open connection (ARM, Resource Graph, storage)."""
    query_server_timeout: int = 600
    """Log Analytics ``Prefer: wait=`` seconds (the service maximum is 600)."""
    query_read_timeout: float = 660.0
    """Seconds to wait for a Log Analytics query response (the server may work up to
    ``query_server_timeout``; a little margin on top)."""
    storage_increment_base: float = 3.0
    """Azure Storage ``ExponentialRetry``: the n-th retry waits ``backoff_factor +
    storage_increment_base ** n`` seconds (plus or minus jitter)."""

    def __post_init__(self) -> None:
        for name in ("total", "connect", "read", "status"):
            if getattr(self, name) < 0:
                raise SettingsError(f"retry {name} must not be negative")
        if self.backoff_factor < 0 or self.backoff_max < 0 or self.storage_increment_base < 0:
            raise SettingsError("retry back-off must not be negative")
        if min(self.connection_timeout, self.read_timeout, self.query_read_timeout) <= 0:
            raise SettingsError("timeouts must be positive")
        if not 1 <= self.query_server_timeout <= 600:
            raise SettingsError("the Log Analytics server timeout must be 1 to 600 seconds")

    def core_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of azure-core's ``RetryPolicy`` (any azure-core based client)."""
        return {
            "retry_total": self.total,
            "retry_connect": self.connect,
            "retry_read": self.read,
            "retry_status": self.status,
            "retry_backoff_factor": self.backoff_factor,
            "retry_backoff_max": self.backoff_max,
        }


PUBLIC_ARM = "https://management.azure.com"
PUBLIC_LOGS = "https://api.loganalytics.io"
PUBLIC_BLOB_SUFFIX = "blob.core.windows.net"


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Service endpoints (public cloud by default; override for sovereign clouds or tests)."""

    arm: str = PUBLIC_ARM
    logs: str = PUBLIC_LOGS
    blob_suffix: str = PUBLIC_BLOB_SUFFIX

    @property
    def arm_scopes(self) -> list[str]:
        return [self.arm.rstrip("/") + "/.default"]


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """Everything an Azure client is created with, except the credential."""

    retry: RetrySettings = field(default_factory=RetrySettings)
    endpoints: Endpoints = field(default_factory=Endpoints)
    connection_verify: bool | str = True
    """TLS verification: True, or the path of a CA bundle (never False outside tests)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ClientSettings:
        """Settings with ``PULLPATH_*`` overrides (see docs/live-azure.md)."""
        env = os.environ if env is None else env
        retry = RetrySettings()
        numbers: dict[str, Any] = {}
        for var, name, kind in (
            ("PULLPATH_RETRY_TOTAL", "total", int),
            ("PULLPATH_RETRY_CONNECT", "connect", int),
            ("PULLPATH_RETRY_READ", "read", int),
            ("PULLPATH_RETRY_STATUS", "status", int),
            ("PULLPATH_RETRY_BACKOFF_FACTOR", "backoff_factor", float),
            ("PULLPATH_RETRY_BACKOFF_MAX", "backoff_max", float),
            ("PULLPATH_CONNECTION_TIMEOUT", "connection_timeout", float),
            ("PULLPATH_READ_TIMEOUT", "read_timeout", float),
            ("PULLPATH_QUERY_SERVER_TIMEOUT", "query_server_timeout", int),
            ("PULLPATH_QUERY_READ_TIMEOUT", "query_read_timeout", float),
            ("PULLPATH_STORAGE_RETRY_BASE", "storage_increment_base", float),
        ):
            text = env.get(var, "").strip()
            if not text:
                continue
            try:
                numbers[name] = kind(text)
            except ValueError:
                raise SettingsError(f"{var}={text!r} is not a number") from None
        if numbers:
            retry = replace(retry, **numbers)
        endpoints = Endpoints(
            arm=_url(env, "PULLPATH_ARM_ENDPOINT", PUBLIC_ARM),
            logs=_url(env, "PULLPATH_LOGS_ENDPOINT", PUBLIC_LOGS),
            blob_suffix=env.get("PULLPATH_BLOB_SUFFIX", "").strip() or PUBLIC_BLOB_SUFFIX,
        )
        return cls(retry=retry, endpoints=endpoints)

    def core_kwargs(self, *, read_timeout: float | None = None) -> dict[str, Any]:
        """Keyword arguments for an azure-core / azure-mgmt client constructor."""
        return {
            **self.retry.core_kwargs(),
            "connection_timeout": self.retry.connection_timeout,
            "read_timeout": read_timeout or self.retry.read_timeout,
            "connection_verify": self.connection_verify,
            "user_agent": USER_AGENT,
        }

    def storage_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for an azure-storage-blob client constructor."""
        from azure.storage.blob import ExponentialRetry

        r = self.retry
        # seconds may be fractional (the SDK computes with floats; its hints say int)
        numbers: dict[str, Any] = {
            "initial_backoff": r.backoff_factor,
            "increment_base": r.storage_increment_base,
            "random_jitter_range": min(r.backoff_factor, 3.0),
        }
        policy = ExponentialRetry(
            retry_total=r.total,
            retry_connect=r.connect,
            retry_read=r.read,
            retry_status=r.status,
            **numbers,
        )
        return {
            "retry_policy": policy,
            "connection_timeout": r.connection_timeout,
            "read_timeout": r.read_timeout,
            "connection_verify": self.connection_verify,
            "user_agent": USER_AGENT,
        }


def _url(env: Mapping[str, str], var: str, default: str) -> str:
    text = env.get(var, "").strip().rstrip("/")
    if not text:
        return default
    if not text.startswith("https://"):
        raise SettingsError(f"{var}={text!r}: must be an https:// URL")
    return text
