"""A loopback ARM endpoint serving an inventory from the official REST API examples: Resource
Graph pages chained by $skipToken, role assignments and diagnostic settings pages chained by
nextLink."""

from __future__ import annotations

import copy
from typing import Any

from tests.support.live_server import (
    LoopbackServer,
    Reply,
    Request,
    example_body,
)

SUB = "00000000-0000-0000-0000-000000000000"
GRAPH = "/providers/Microsoft.ResourceGraph/resources"
EXAMPLES = [
    "RegistryGet.json", "ContainerGroupsGet_Succeeded.json",
    "VirtualNetworkGetWithSubnetDelegation.json", "PrivateEndpointGet.json",
    "NetworkInterfaceGet.json", "PublicIpAddressGet.json", "NatGatewayGet.json",
    "ManagedEnvironments_Get.json", "ContainerApps_Get.json", "ManagedClustersGet.json",
    "GetWebApp.json",
]
PAGE = 4


def graph_rows() -> list[dict[str, Any]]:
    """Resource Graph rows: the examples' resources as Resource Graph returns them (lower-case
    type, resourceGroup and subscriptionId columns), plus a restricted registry derived from
    RegistryGet (the examples' registries are all open)."""
    rows = []
    for name in EXAMPLES:
        body = copy.deepcopy(example_body(name))
        parts = body["id"].split("/")
        body["type"] = body["type"].lower()
        body["subscriptionId"], body["resourceGroup"] = parts[2], parts[4]
        rows.append(body)
    closed = copy.deepcopy(rows[0])
    closed["id"] = closed["id"].replace("myRegistry", "closedRegistry")
    closed["name"] = "closedRegistry"
    closed["properties"]["loginServer"] = "closedregistry.azurecr.io"
    closed["properties"]["publicNetworkAccess"] = "Disabled"
    closed["properties"]["networkRuleSet"] = {"defaultAction": "Deny", "ipRules": []}
    closed["properties"]["networkRuleBypassOptions"] = "AzureServices"
    rows.append(closed)
    return rows


REGISTRIES = [r["id"] for r in graph_rows() if r["type"].endswith("/registries")]


class GraphEngine:
    """Resource Graph with $skipToken paging in the envelope of ResourcesFirstPageQuery.json."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, req: Request) -> Reply:
        body = req.json()
        self.bodies.append(body)
        token = (body.get("options") or {}).get("$skipToken")
        start = int(token.split("-")[1]) if token else 0
        page = self.rows[start : start + PAGE]
        envelope = copy.deepcopy(example_body("ResourcesFirstPageQuery.json"))
        envelope.update(totalRecords=len(self.rows), count=len(page), data=page)
        if start + PAGE < len(self.rows):
            envelope["$skipToken"] = f"offset-{start + PAGE}"
        else:
            envelope.pop("$skipToken", None)
        return Reply(200, envelope)


def role_pages(server: LoopbackServer, registry_id: str) -> None:
    base = example_body("RoleAssignments_ListForScope.json")["value"][0]
    first = copy.deepcopy(base)
    second = copy.deepcopy(base)
    second["id"] = f"{registry_id}/providers/Microsoft.Authorization/roleAssignments/acrpull-1"
    second["name"] = "acrpull-1"
    second["properties"]["scope"] = registry_id
    second["properties"]["roleDefinitionId"] = (
        "/providers/Microsoft.Authorization/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d"
    )
    path = f"{registry_id}/providers/Microsoft.Authorization/roleAssignments"

    def handler(req: Request) -> Reply:
        assert req.query["api-version"] == ["2022-04-01"]
        if req.query.get("$skiptoken") == ["2"]:
            return Reply(200, {"value": [second]})
        assert req.query["$filter"] == ["atScope()"]
        return Reply(200, {"value": [first],
                           "nextLink": f"{server.url}{path}?api-version=2022-04-01"
                                       "&$filter=atScope()&$skiptoken=2"})

    server.route("GET", path, handler)


def diag_pages(server: LoopbackServer, registry_id: str) -> None:
    setting = copy.deepcopy(example_body("listDiagnosticSettings.json")["value"][0])
    setting["id"] = f"{registry_id}/providers/microsoft.insights/diagnosticSettings/mysetting"
    setting["properties"]["logs"] = [
        {"category": "ContainerRegistryRepositoryEvents", "enabled": True},
        {"category": "ContainerRegistryLoginEvents", "enabled": True},
    ]
    server.route("GET", f"{registry_id}/providers/Microsoft.Insights/diagnosticSettings",
                 Reply(200, {"value": [setting]}))


def serve_all(server: LoopbackServer) -> GraphEngine:
    engine = GraphEngine(graph_rows())
    server.route("POST", GRAPH, engine)
    for rid in REGISTRIES:
        role_pages(server, rid)
        diag_pages(server, rid)
    return engine
