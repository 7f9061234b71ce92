"""The inventory from Azure: Resource Graph, plus the registries' role assignments and
diagnostic settings (which Resource Graph's ``Resources`` table does not hold).

Resource Graph (azure-mgmt-resourcegraph ``ResourceGraphClient.resources``) returns at most
1,000 rows per page and pages with ``$skipToken`` (the query must project ``id``); a request
names at most 1,000 subscriptions, so more are sent in batches ("Working with large Azure
resource data sets" and "Troubleshoot errors using Azure Resource Graph", learn.microsoft.com).
Rows come back in the REST shape (camelCase, ``properties``), exactly what
:mod:`pullpath.core.inventory` reads from ``az graph query`` output.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from pullpath.adapters.azure.arm import (
    DIAGNOSTIC_SETTINGS_API,
    ROLE_ASSIGNMENTS_API,
    ArmLister,
)
from pullpath.adapters.azure.errors import AzureCall, LiveAzureError, describe
from pullpath.adapters.azure.retry import READ_ONLY_POST, ClientSettings

__all__ = [
    "INVENTORY_TYPES",
    "RESOURCE_GRAPH_API",
    "SUBSCRIPTION_BATCH",
    "InventoryReader",
    "inventory_query",
]

RESOURCE_GRAPH_API = "2024-04-01"
PAGE_SIZE = 1000
SUBSCRIPTION_BATCH = 1000
MAX_PAGES = 100_000

INVENTORY_TYPES: tuple[str, ...] = (
    "microsoft.containerregistry/registries",
    "microsoft.containerregistry/registries/replications",
    "microsoft.containerregistry/registries/tasks",
    "microsoft.network/virtualnetworks",
    "microsoft.network/privateendpoints",
    "microsoft.network/networkinterfaces",
    "microsoft.network/publicipaddresses",
    "microsoft.network/natgateways",
    "microsoft.network/privatednszones",
    "microsoft.network/privatednszones/virtualnetworklinks",
    "microsoft.managedidentity/userassignedidentities",
    "microsoft.containerinstance/containergroups",
    "microsoft.app/managedenvironments",
    "microsoft.app/containerapps",
    "microsoft.app/jobs",
    "microsoft.containerservice/managedclusters",
    "microsoft.web/sites",
)
"""Resource types the inventory reader understands and Resource Graph's ``Resources`` holds.
Network interfaces are limited to private endpoint NICs (they give the endpoints' IPs); other
NICs can be numerous and say nothing about registry pulls."""

PROJECTED_COLUMNS: tuple[str, ...] = (
    "id",
    "name",
    "type",
    "location",
    "kind",
    "sku",
    "identity",
    "properties",
    "tags",
    "resourceGroup",
    "subscriptionId",
    "tenantId",
    "zones",
    "extendedLocation",
    "managedBy",
)

ProgressFn = Callable[[str], None]


def inventory_query() -> str:
    types = ", ".join(f"'{t}'" for t in INVENTORY_TYPES)
    return "\n".join(
        [
            "Resources",
            f"| where type in~ ({types})",
            "| where type !~ 'microsoft.network/networkinterfaces'"
            " or isnotnull(properties.privateEndpoint)",
            f"| project {', '.join(PROJECTED_COLUMNS)}",
            "| order by id asc",
        ]
    )


def _graph_call(subscriptions: Sequence[str]) -> AzureCall:
    scope = (
        f"subscription {subscriptions[0]}"
        if len(subscriptions) == 1
        else f"{len(subscriptions)} subscriptions"
    )
    return AzureCall(
        action="Resource Graph query",
        resource=scope,
        permission=f"Reader on {scope} (read access to the resources, Resource Graph shows only "
        "what the identity can read)",
    )


def _registry_call(action: str, registry_id: str, permission: str) -> AzureCall:
    return AzureCall(
        action=action,
        resource=f"registry {registry_id}",
        permission=f"{permission} on registry {registry_id} (or its resource group/subscription)",
        not_found_hint="the registry may have been deleted since the Resource Graph query",
    )


def _raw_json(pipeline_response: Any, _deserialized: Any, _headers: Any) -> Any:
    """``cls=`` hook of generated clients: the response body as sent (REST shape)."""
    return pipeline_response.http_response.json()


class InventoryReader:
    """Resource Graph pages and the per-registry ARM lists, as REST-shaped dicts."""

    def __init__(
        self, credential: Any, settings: ClientSettings, *, progress: ProgressFn | None = None
    ) -> None:
        from azure.mgmt.resourcegraph import ResourceGraphClient

        self.settings = settings
        self.progress = progress
        self._graph = ResourceGraphClient(
            credential,
            base_url=settings.endpoints.arm,
            credential_scopes=settings.endpoints.arm_scopes,
            api_version=RESOURCE_GRAPH_API,
            **settings.core_kwargs(),
        )
        self._arm = ArmLister(credential, settings)
        self.pages = 0

    def close(self) -> None:
        self._graph.close()
        self._arm.close()

    def __enter__(self) -> InventoryReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _say(self, text: str) -> None:
        if self.progress is not None:
            self.progress(text)

    def resources(self, subscriptions: Sequence[str]) -> Iterator[dict[str, Any]]:
        """Every inventory resource in ``subscriptions`` (all pages, batches of 1,000)."""
        from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

        query = inventory_query()
        subs = list(subscriptions)
        size = SUBSCRIPTION_BATCH
        batches = [subs[i : i + size] for i in range(0, len(subs), size)]
        for batch in batches:
            call = _graph_call(batch)
            skip_token: str | None = None
            seen = 0
            for _ in range(MAX_PAGES):
                request = QueryRequest(
                    subscriptions=batch,
                    query=query,
                    options=QueryRequestOptions(
                        skip_token=skip_token, top=None if skip_token else PAGE_SIZE,
                        result_format="objectArray",
                    ),
                )
                page: Any
                try:
                    page = self._graph.resources(
                        request,
                        cls=_raw_json,
                        retry_on_methods=READ_ONLY_POST,
                    )
                except Exception as exc:
                    raise describe(exc, call) from None
                self.pages += 1
                data = page.get("data") if isinstance(page, dict) else None
                if not isinstance(data, list):
                    raise LiveAzureError(
                        f"Resource Graph query on {call.resource}: unexpected response "
                        "(no 'data' list; pullpath asks for objectArray results)"
                    )
                for row in data:
                    if isinstance(row, dict):
                        seen += 1
                        yield row
                total = page.get("totalRecords")
                self._say(
                    f"Resource Graph: page {self.pages}, {seen:,}"
                    f"{f' of {total:,}' if isinstance(total, int) else ''} resources"
                )
                token = page.get("$skipToken") or page.get("skipToken")
                if not isinstance(token, str) or not token:
                    break
                skip_token = token
            else:
                raise LiveAzureError(f"Resource Graph query: more than {MAX_PAGES} pages")

    def role_assignments(self, registry_id: str) -> Iterator[dict[str, Any]]:
        call = _registry_call(
            "list role assignments",
            registry_id,
            "Reader (Microsoft.Authorization/roleAssignments/read)",
        )
        yield from self._arm.list(
            f"{registry_id}/providers/Microsoft.Authorization/roleAssignments",
            ROLE_ASSIGNMENTS_API,
            call,
            params={"$filter": "atScope()"},
        )

    def diagnostic_settings(self, registry_id: str) -> Iterator[dict[str, Any]]:
        call = _registry_call(
            "list diagnostic settings",
            registry_id,
            "Monitoring Reader or Reader (Microsoft.Insights/diagnosticSettings/read)",
        )
        yield from self._arm.list(
            f"{registry_id}/providers/Microsoft.Insights/diagnosticSettings",
            DIAGNOSTIC_SETTINGS_API,
            call,
        )
