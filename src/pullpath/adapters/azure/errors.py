"""Azure SDK errors -> one actionable message: which call, on which resource, and what to do.

A permanent error (401, 403, 404, a bad request) is not retried by the SDK and ends the command
with exit code 2 and a message naming the permission that is missing (e.g. "Log Analytics
Reader on workspace X"). Throttling and server errors that outlast the retry policy say so.
Messages never contain a token, a secret or a SAS signature (URLs lose their query string).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

__all__ = ["AzureCall", "LiveAzureError", "describe", "redact_url"]

_MAX_DETAIL = 300
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
_SIG = re.compile(r"(?i)(sig|signature|code|client_secret|access_token)=[^&\s\"']+")


class LiveAzureError(Exception):
    """An Azure call that failed in a way the user must act on (exit code 2)."""

    def __init__(self, message: str, *, status: int | None = None, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True, slots=True)
class AzureCall:
    """What pullpath was doing, for the error message."""

    action: str
    """e.g. ``Log Analytics query``, ``Resource Graph query``, ``list blobs``."""
    resource: str
    """e.g. ``workspace 1234...``, ``subscription 5678...``, ``storage account z``."""
    permission: str
    """The role that allows the call, e.g. ``Log Analytics Reader on workspace 1234``."""
    not_found_hint: str = ""
    """What a 404 most likely means for this call."""


def redact_url(url: str) -> str:
    """A URL without its query string (a SAS token lives there) and without user info."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<url>"
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def scrub(text: str) -> str:
    """One line, bounded, with anything that looks like a token or signature removed."""
    text = " ".join(str(text).split())
    text = _BEARER.sub(r"\1<redacted>", text)
    text = _JWT.sub("<redacted>", text)
    text = _SIG.sub(lambda m: m.group(1) + "=<redacted>", text)
    if len(text) > _MAX_DETAIL:
        text = text[: _MAX_DETAIL - 3] + "..."
    return text


def _code_and_message(exc: Any) -> tuple[str, str]:
    code = ""
    message = ""
    error = getattr(exc, "error", None)
    if error is not None:
        code = str(getattr(error, "code", "") or "")
        message = str(getattr(error, "message", "") or "")
    storage_code = getattr(exc, "error_code", None)
    if storage_code:
        code = str(getattr(storage_code, "value", storage_code))
    model = getattr(exc, "model", None)
    if not code and model is not None:
        code = str(getattr(model, "code", "") or "")
        message = message or str(getattr(model, "message", "") or "")
    if not message:
        message = str(getattr(exc, "message", "") or exc)
    first = message.strip().splitlines()[0] if message.strip() else ""
    return code, first


def describe(exc: BaseException, call: AzureCall) -> LiveAzureError:
    """The user-facing error for an exception raised by an Azure SDK call."""
    from azure.core.exceptions import (
        ClientAuthenticationError,
        HttpResponseError,
        ServiceRequestError,
        ServiceResponseError,
    )

    where = f"{call.action} on {call.resource}"
    if isinstance(exc, LiveAzureError):
        return exc
    response = getattr(exc, "response", None)
    status = getattr(exc, "status_code", None) or getattr(response, "status_code", None)
    credential_error = _credential_error(exc, ClientAuthenticationError)
    if credential_error is not None and status is None:
        # raised by the credential itself (azure-identity): no token could be obtained
        return LiveAzureError(
            f"{where}: no usable Azure credentials ({scrub(_first_line(credential_error))}). "
            "Sign in with "
            "`az login` (add --tenant for another tenant), or set AZURE_CLIENT_ID / "
            "AZURE_TENANT_ID / AZURE_CLIENT_SECRET, or run where a managed identity is available"
        )
    if isinstance(exc, HttpResponseError) and status is not None:
        code, message = _code_and_message(exc)
        detail = scrub(f"{status}{' ' + code if code else ''}: {message}")
        if status == 401:
            text = (
                f"{where} was not authenticated ({detail}). The token was rejected: sign in "
                "again (`az login`), and check --tenant is the tenant that owns the resource"
            )
        elif status == 403:
            text = (
                f"{where} was refused ({detail}). The signed-in identity needs "
                f"{call.permission} (role assignments can take a few minutes to apply)"
            )
        elif status == 404:
            hint = call.not_found_hint or "check the name or ID, and the subscription"
            text = f"{where}: not found ({detail}); {hint}"
        elif status == 429:
            text = (
                f"{where} is still throttled after the configured retries ({detail}); wait and "
                "run again, or narrow the query (fewer subscriptions, a shorter time range)"
            )
        elif status >= 500:
            text = (
                f"{where} failed with a server error after the configured retries ({detail}); "
                "try again later (PULLPATH_RETRY_TOTAL raises the number of retries)"
            )
        else:
            text = f"{where} failed ({detail})"
        return LiveAzureError(text, status=status, code=code)
    if isinstance(exc, ServiceRequestError):
        return LiveAzureError(
            f"{where}: cannot reach the service ({scrub(_first_line(exc))}); check the network, "
            "proxy (HTTPS_PROXY) and DNS"
        )
    if isinstance(exc, ServiceResponseError):
        return LiveAzureError(
            f"{where}: no complete response after the configured retries "
            f"({scrub(_first_line(exc))}); try again, or raise PULLPATH_READ_TIMEOUT"
        )
    return LiveAzureError(f"{where} failed: {type(exc).__name__}: {scrub(_first_line(exc))}")


def _credential_error(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    """The credential's own error, also when a client re-raised it as a plain
    HttpResponseError (azure-monitor-query does): look along the exception chain."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, kind) and getattr(current, "status_code", None) is None:
            return current
        current = current.__cause__ or current.__context__
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
