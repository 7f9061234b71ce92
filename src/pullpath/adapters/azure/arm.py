"""A small ARM client on the azure-core pipeline, for the list calls without a usable SDK.

Role assignments and diagnostic settings of a registry are two GETs on the registry's own
scope. They go through ``azure.mgmt.core.ARMPipelineClient`` with the standard azure-core
policies (retry, ARM challenge authentication, redirects, logging with secrets redacted), like
any azure-mgmt-* client:

- role assignments: ``GET {scope}/providers/Microsoft.Authorization/roleAssignments
  ?$filter=atScope()&api-version=2022-04-01`` (assignments at the registry and above, which
  is where AcrPull is granted; REST API "Role Assignments - List For Scope");
- diagnostic settings: ``GET {resourceUri}/providers/Microsoft.Insights/diagnosticSettings
  ?api-version=2021-05-01-preview``. azure-mgmt-monitor 7.0.0 dropped its
  ``diagnostic_settings`` operations (Azure/azure-sdk-for-python#42425), hence this raw GET.

Pages are followed by ``nextLink``, only on the same host as the endpoint (a token is never
sent to another host). The API versions are pinned so that a new SDK cannot change the shapes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from pullpath.adapters.azure.errors import AzureCall, LiveAzureError, describe, redact_url
from pullpath.adapters.azure.retry import USER_AGENT, ClientSettings

__all__ = [
    "DIAGNOSTIC_SETTINGS_API",
    "ROLE_ASSIGNMENTS_API",
    "ArmLister",
    "same_origin",
]

ROLE_ASSIGNMENTS_API = "2022-04-01"
DIAGNOSTIC_SETTINGS_API = "2021-05-01-preview"
MAX_PAGES = 10_000


def same_origin(url: str, base: str) -> bool:
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)


class ArmLister:
    """``GET`` an ARM list and follow its ``nextLink`` pages."""

    def __init__(self, credential: Any, settings: ClientSettings) -> None:
        from azure.core.pipeline import policies
        from azure.mgmt.core import ARMPipelineClient
        from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy, ARMHttpLoggingPolicy

        self._base = settings.endpoints.arm.rstrip("/")
        kwargs = settings.core_kwargs()
        pipeline_policies = [
            policies.RequestIdPolicy(),
            policies.HeadersPolicy(),
            policies.UserAgentPolicy(base_user_agent=USER_AGENT),
            policies.ProxyPolicy(),
            policies.ContentDecodePolicy(),
            policies.RedirectPolicy(),
            policies.RetryPolicy(**settings.retry.core_kwargs()),
            ARMChallengeAuthenticationPolicy(credential, *settings.endpoints.arm_scopes),
            policies.CustomHookPolicy(),
            policies.NetworkTraceLoggingPolicy(),
            policies.DistributedTracingPolicy(),
            policies.SensitiveHeaderCleanupPolicy(),
            ARMHttpLoggingPolicy(),
        ]
        self._client: Any = ARMPipelineClient(
            base_url=self._base,
            policies=pipeline_policies,
            connection_timeout=kwargs["connection_timeout"],
            read_timeout=kwargs["read_timeout"],
            connection_verify=kwargs["connection_verify"],
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ArmLister:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def list(
        self, path: str, api_version: str, call: AzureCall, *, params: dict[str, str] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Items of ``value`` over every page of ``GET {arm}{path}``."""
        from azure.core.exceptions import (
            ClientAuthenticationError,
            HttpResponseError,
            ResourceNotFoundError,
            map_error,
        )
        from azure.core.rest import HttpRequest
        from azure.mgmt.core.exceptions import ARMErrorFormat

        query = {"api-version": api_version, **(params or {})}
        request = HttpRequest("GET", f"{self._base}{path}", params=query)
        for _page in range(MAX_PAGES):
            try:
                response = self._client.send_request(request)
                if response.status_code != 200:
                    map_error(
                        status_code=response.status_code,
                        response=response,
                        error_map={401: ClientAuthenticationError, 404: ResourceNotFoundError},
                    )
                    raise HttpResponseError(response=response, error_format=ARMErrorFormat)
                body = response.json()
            except LiveAzureError:
                raise
            except ValueError as exc:  # not JSON
                raise LiveAzureError(
                    f"{call.action} on {call.resource}: the response is not JSON ({exc})"
                ) from None
            except Exception as exc:
                raise describe(exc, call) from None
            if not isinstance(body, dict) or not isinstance(body.get("value"), list):
                raise LiveAzureError(
                    f"{call.action} on {call.resource}: unexpected response (no 'value' list)"
                )
            for item in body["value"]:
                if isinstance(item, dict):
                    yield item
            next_link = body.get("nextLink")
            if not isinstance(next_link, str) or not next_link:
                return
            if not same_origin(next_link, self._base):
                raise LiveAzureError(
                    f"{call.action} on {call.resource}: the next page is on another host "
                    f"({redact_url(next_link)}); refusing to send the token there"
                )
            request = HttpRequest("GET", next_link)
        raise LiveAzureError(f"{call.action} on {call.resource}: more than {MAX_PAGES} pages")
