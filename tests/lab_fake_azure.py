"""A fake Azure for the lab tests: ARM (resource groups, deployments as long-running
operations, registry import, container group restart/stop/start, Container App update,
resource reads) and the Log Analytics query API, on a :class:`LoopbackServer`.

Bodies are the official REST API examples in tests/data/lab (see PROVENANCE.md) with the
lab's IDs, names and submitted property values substituted, as ARM would store them. The
fake reads the deployment request like ARM does (template resources and parameter values);
it does not use pullpath's code.
"""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.lab_server import LoopbackServer, Reply, Request

DATA = Path(__file__).parent / "data" / "lab"
SUB = "11111111-2222-3333-4444-555555555555"
WORKSPACE_GUID = "63613592-b6f7-4c3d-a390-22ba13102111"  # the la-get-example workspaceId
RG_RX = r"/subscriptions/[^/]+/resourcegroups/(?P<rg>[^/]+)"


def example(name: str, status: str = "200") -> Any:
    doc = json.loads((DATA / name).read_text(encoding="utf-8"))
    return copy.deepcopy(doc["responses"][status].get("body"))


def _literal(value: Any) -> bool:
    return not (isinstance(value, str) and value.startswith("[") and value.endswith("]"))


def _literals(props: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if _literal(v) and not isinstance(v, dict | list)}


class FakeAzure:
    """State of one subscription as the lab sees it."""

    def __init__(self, server: LoopbackServer, *, location: str = "japaneast") -> None:
        self.server = server
        self.location = location
        self.groups: dict[str, dict[str, Any]] = {}
        self.resources: dict[str, dict[str, Any]] = {}
        """Lower-case resource ID -> ARM body."""
        self.deployments: dict[str, dict[str, Any]] = {}
        self.fail_step: dict[str, dict[str, Any]] = {}
        """"base"/"consumers" -> ARM error of a failed deployment."""
        self.restart_reply = Reply(204)
        self.empty_polls = 2
        """Log Analytics answers with no rows this many times first."""
        self.rows: list[list[Any]] = []
        self.query_count = 0
        self.deleted_groups: list[str] = []
        self.public_ips: list[dict[str, Any]] = [example("PublicIpAddressGet.json")]
        self._routes()

    # ----------------------------------------------------------------- helpers
    def rg_id(self, rg: str) -> str:
        return f"/subscriptions/{SUB}/resourceGroups/{rg}"

    def add_group(self, name: str, tags: dict[str, str]) -> None:
        self.groups[name.lower()] = {"id": self.rg_id(name), "name": name, "type":
                                     "Microsoft.Resources/resourceGroups",
                                     "location": self.location, "tags": dict(tags),
                                     "properties": {"provisioningState": "Succeeded"}}

    def resource(self, rg: str, rtype: str, name: str) -> dict[str, Any] | None:
        return self.resources.get(f"{self.rg_id(rg)}/providers/{rtype}/{name}".lower())

    # ----------------------------------------------------------------- routes
    def _routes(self) -> None:
        s = self.server
        # generic resource read, registered first so that specific routes win
        s.route("GET", RG_RX + r"/providers/(?P<rest>.+)", self._get_resource)
        s.route("GET", r"/subscriptions/[^/]+/resourcegroups", self._list_groups)
        s.route("GET", RG_RX, self._get_group)
        s.route("PUT", RG_RX, self._put_group)
        s.route("DELETE", RG_RX, self._delete_group)
        s.route("GET", RG_RX + r"/resources", self._list_resources)
        dep = RG_RX + r"/providers/Microsoft\.Resources/deployments/(?P<name>[^/]+)"
        s.route("PUT", dep, self._put_deployment)
        s.route("GET", dep, self._get_deployment)
        s.route("POST", RG_RX + r"/providers/Microsoft\.ContainerRegistry/registries/[^/]+/"
                r"importImage", self._import)
        cg = RG_RX + r"/providers/Microsoft\.ContainerInstance/containerGroups/[^/]+"
        s.route("POST", cg + "/restart", lambda r: self.restart_reply)
        s.route("POST", cg + "/stop", lambda r: Reply(204))
        s.route("POST", cg + "/start", self._start)
        s.route("PATCH", RG_RX + r"/providers/Microsoft\.App/containerApps/(?P<app>[^/]+)",
                self._patch_app)
        s.route("GET", r"/subscriptions/[^/]+/providers/Microsoft\.Network/publicIPAddresses",
                lambda r: Reply(200, {"value": self.public_ips}))
        s.route("POST", r"/v1/workspaces/(?P<ws>[^/]+)/query", self._query)

    def _group(self, req: Request) -> dict[str, Any] | None:
        assert req.match is not None
        return self.groups.get(req.match["rg"].lower())

    def _get_group(self, req: Request) -> Reply:
        g = self._group(req)
        if g is None:
            assert req.match is not None
            return Reply(404, {"error": {"code": "ResourceGroupNotFound",
                                         "message": f"Resource group '{req.match['rg']}' "
                                                    "could not be found."}})
        return Reply(200, g)

    def _put_group(self, req: Request) -> Reply:
        assert req.match is not None
        self.add_group(req.match["rg"], req.body.get("tags") or {})
        self.groups[req.match["rg"].lower()]["location"] = req.body["location"]
        return Reply(201, self.groups[req.match["rg"].lower()])

    def _delete_group(self, req: Request) -> Reply:
        assert req.match is not None
        name = req.match["rg"].lower()
        if name not in self.groups:
            return Reply(404, {"error": {"code": "ResourceGroupNotFound", "message": name}})
        self.deleted_groups.append(name)
        del self.groups[name]
        # ForceDeleteVMsInResourceGroup.json: 202 with a location header, then 200
        return Reply(202, None, {"Location": self.server.location_operation(pending=1),
                                 "Retry-After": "0"})

    def _list_groups(self, req: Request) -> Reply:
        flt = req.query.get("$filter", "")
        groups = list(self.groups.values())
        if "tagName eq '" in flt:
            tag = flt.split("tagName eq '", 1)[1].split("'", 1)[0]
            groups = [g for g in groups if tag in g["tags"]]
        return Reply(200, {"value": groups})

    def _list_resources(self, req: Request) -> Reply:
        assert req.match is not None
        prefix = self.rg_id(req.match["rg"]).lower() + "/"
        items = [{"id": b["id"], "name": b["name"], "type": b["type"],
                  "location": b.get("location", "")}
                 for rid, b in self.resources.items() if rid.startswith(prefix)]
        return Reply(200, {"value": items})

    def _get_resource(self, req: Request) -> Reply:
        body = self.resources.get(req.path.lower().rstrip("/"))
        if body is None:
            return Reply(404, {"error": {"code": "ResourceNotFound", "message": req.path}})
        return Reply(200, body)

    # ----------------------------------------------------------------- deployments
    def _put_deployment(self, req: Request) -> Reply:
        assert req.match is not None
        rg, name = req.match["rg"], req.match["name"]
        template = req.body["properties"]["template"]
        params = {k: v["value"] for k, v in req.body["properties"]["parameters"].items()}
        types = {r["type"] for r in template["resources"]}
        step = ("consumers" if types & {"Microsoft.ContainerInstance/containerGroups",
                                        "Microsoft.App/containerApps"} else "base")
        dep_id = f"{self.rg_id(rg)}/providers/Microsoft.Resources/deployments/{name}"
        accepted = example("PutDeploymentResourceGroup.json", "201")
        accepted.update({"id": dep_id, "name": name})
        error = self.fail_step.get(step)
        if error is None:
            outputs = self._create(rg, template, params)
            final = example("PutDeploymentResourceGroup.json", "200")
            final.update({"id": dep_id, "name": name})
            final["properties"]["outputs"] = {k: {"type": "String", "value": v}
                                              for k, v in outputs.items()}
            status: dict[str, Any] = {"status": "Succeeded"}
        else:
            final = copy.deepcopy(accepted)
            final["properties"]["provisioningState"] = "Failed"
            final["properties"]["error"] = error
            status = {"status": "Failed", "error": error}
        self.deployments[name.lower()] = final
        url = self.server.async_operation([{"status": "Running"}, status])
        return Reply(201, accepted, {"Azure-AsyncOperation": url, "Retry-After": "0"})

    def _get_deployment(self, req: Request) -> Reply:
        assert req.match is not None
        dep = self.deployments.get(req.match["name"].lower())
        if dep is None:
            return Reply(404, {"error": {"code": "DeploymentNotFound", "message": "no"}})
        return Reply(200, dep)

    def _create(self, rg: str, template: dict[str, Any], p: dict[str, Any]) -> dict[str, Any]:
        """Create the template's resources the way ARM stores them, from the examples."""
        tags = {"pullpath-lab": p["runId"], "created-by": "pullpath",
                "pullpath-scenario": p["scenario"]}
        base = self.rg_id(rg) + "/providers/"
        loc = p["location"]
        outputs: dict[str, Any] = {}
        vnet_id = base + f"Microsoft.Network/virtualNetworks/{p.get('vnetName', '')}"
        uami_id = (base + f"Microsoft.ManagedIdentity/userAssignedIdentities/{p['identityName']}"
                   if "identityName" in p else "")
        uami = self.resources.get(uami_id.lower()) if uami_id else None
        for res in template["resources"]:
            rtype = res["type"]
            props = res.get("properties") or {}
            if rtype == "Microsoft.OperationalInsights/workspaces":
                rid = base + f"{rtype}/{p['workspaceName']}"
                self._put(rid, {"id": rid, "name": p["workspaceName"], "type": rtype,
                                "location": loc, "tags": tags,
                                "properties": {"customerId": WORKSPACE_GUID,
                                               "provisioningState": "Succeeded"}})
            elif rtype == "Microsoft.ContainerRegistry/registries":
                rid = base + f"{rtype}/{p['registryName']}"
                body = example("RegistryGet.json")
                body.update({"id": rid, "name": p["registryName"], "location": loc,
                             "tags": tags, "sku": {"name": "Premium", "tier": "Premium"}})
                body["properties"].update(_literals(props))
                body["properties"]["networkRuleSet"] = props.get("networkRuleSet")
                body["properties"]["loginServer"] = f"{p['registryName']}.azurecr.io"
                self._put(rid, body)
            elif rtype == "Microsoft.Network/virtualNetworks":
                body = example("VirtualNetworkGetWithSubnetDelegation.json")
                subnets = []
                for sub in props["subnets"]:
                    sp = dict(sub["properties"])
                    sp["delegations"] = [
                        {"id": f"{vnet_id}/subnets/{sub['name']}/delegations/{d['name']}",
                         "name": d["name"], "properties": {**d["properties"],
                                                           "provisioningState": "Succeeded"}}
                        for d in sp.get("delegations", [])]
                    subnets.append({"id": f"{vnet_id}/subnets/{sub['name']}",
                                    "name": sub["name"], "properties": sp})
                body.update({"id": vnet_id, "name": p["vnetName"], "location": loc, "tags": tags})
                body["properties"]["addressSpace"] = props["addressSpace"]
                body["properties"]["subnets"] = subnets
                self._put(vnet_id, body)
            elif rtype == "Microsoft.ManagedIdentity/userAssignedIdentities":
                body = example("IdentityGet.json")
                body.update({"id": uami_id, "name": p["identityName"], "location": loc,
                             "tags": tags})
                self._put(uami_id, body)
                uami = body
            elif rtype == "Microsoft.Network/privateEndpoints":
                rid = base + f"{rtype}/{p['privateEndpointName']}"
                reg_id = base + f"Microsoft.ContainerRegistry/registries/{p['registryName']}"
                body = example("PrivateEndpointGet.json")
                conn = body["properties"]["privateLinkServiceConnections"][0]
                conn["id"] = f"{rid}/privateLinkServiceConnections/registry"
                conn["properties"].update({"privateLinkServiceId": reg_id,
                                           "groupIds": ["registry"]})
                body.update({"id": rid, "name": p["privateEndpointName"], "location": loc,
                             "tags": tags})
                body["properties"]["subnet"] = {"id": f"{vnet_id}/subnets/pe"}
                body["properties"]["customDnsConfigs"] = [
                    {"fqdn": f"{p['registryName']}.azurecr.io", "ipAddresses": ["10.0.3.5"]},
                    {"fqdn": f"{p['registryName']}.{loc}.data.azurecr.io",
                     "ipAddresses": ["10.0.3.4"]}]
                self._put(rid, body)
                registry = self.resources[reg_id.lower()]
                registry["properties"]["privateEndpointConnections"] = [{
                    "id": f"{reg_id}/privateEndpointConnections/{p['privateEndpointName']}",
                    "properties": {"privateEndpoint": {"id": rid},
                                   "privateLinkServiceConnectionState": {
                                       "status": "Approved", "description": "Auto-Approved"},
                                   "provisioningState": "Succeeded"}}]
            elif rtype == "Microsoft.App/managedEnvironments":
                rid = base + f"{rtype}/{p['environmentName']}"
                body = example("ManagedEnvironments_Get.json")
                body.update({"id": rid, "name": p["environmentName"], "location": loc,
                             "tags": tags})
                body["properties"]["vnetConfiguration"] = {
                    "infrastructureSubnetId": f"{vnet_id}/subnets/aca", "internal": False}
                self._put(rid, body)
            elif rtype == "Microsoft.ContainerInstance/containerGroups":
                key = next(k[:-4] for k in p if k.endswith("Name") and
                           k[:-4] not in ("registry", "workspace", "vnet", "identity",
                                          "environment", "privateEndpoint"))
                rid = base + f"{rtype}/{p[key + 'Name']}"
                body = example("ContainerGroupsGet_Succeeded.json")
                body.update({"id": rid, "name": p[key + "Name"], "location": loc, "tags": tags})
                body.pop("zones", None)
                bp = body["properties"]
                bp["containers"][0]["properties"]["image"] = \
                    f"{p['registryLoginServer']}/{p['image']}"
                bp["containers"][0]["properties"].pop("volumeMounts", None)
                bp.pop("volumes", None)
                bp["ipAddress"] = {"ip": "10.0.1.4", "type": "Private",
                                   "ports": [{"port": 80, "protocol": "TCP"}]}
                bp["subnetIds"] = [{"id": f"{vnet_id}/subnets/aci"}]
                assert uami is not None
                bp["imageRegistryCredentials"] = [{"server": p["registryLoginServer"],
                                                   "identity": uami_id}]
                body["identity"] = {"type": "UserAssigned", "userAssignedIdentities": {
                    uami_id: {"principalId": uami["properties"]["principalId"],
                              "clientId": uami["properties"]["clientId"]}}}
                self._put(rid, body)
                outputs[f"{key}Id"] = rid
            elif rtype == "Microsoft.App/containerApps":
                key = next(k[:-4] for k in p if k.endswith("Name") and
                           k[:-4] not in ("registry", "workspace", "vnet", "identity",
                                          "environment", "privateEndpoint"))
                rid = base + f"{rtype}/{p[key + 'Name']}"
                env_id = base + f"Microsoft.App/managedEnvironments/{p['environmentName']}"
                body = example("ContainerApps_Get.json")
                body.update({"id": rid, "name": p[key + "Name"], "location": loc, "tags": tags})
                assert uami is not None
                body["identity"] = {"type": "UserAssigned", "userAssignedIdentities": {
                    uami_id: {"principalId": uami["properties"]["principalId"],
                              "clientId": uami["properties"]["clientId"]}}}
                bp = body["properties"]
                bp["environmentId"] = env_id
                bp["managedEnvironmentId"] = env_id
                bp["configuration"]["registries"] = [{"server": p["registryLoginServer"],
                                                      "identity": uami_id}]
                self._put(rid, body)
                outputs[f"{key}Id"] = rid
        for name in template.get("outputs", {}):
            if name == "registryId":
                outputs[name] = base + f"Microsoft.ContainerRegistry/registries/{p['registryName']}"
            elif name == "registryLoginServer":
                outputs[name] = f"{p['registryName']}.azurecr.io"
            elif name == "workspaceCustomerId":
                outputs[name] = WORKSPACE_GUID
        return outputs

    def _put(self, rid: str, body: dict[str, Any]) -> None:
        self.resources[rid.lower()] = body

    # ----------------------------------------------------------------- data plane
    def _import(self, req: Request) -> Reply:
        # ImportImageFromPublicRegistry.json: 202 with Location, then 200
        return Reply(202, None, {"Location": self.server.location_operation(pending=1),
                                 "Retry-After": "0"})

    def _start(self, req: Request) -> Reply:
        url = self.server.async_operation([{"status": "Succeeded"}])
        return Reply(202, None, {"Azure-AsyncOperation": url, "Retry-After": "0"})

    def _patch_app(self, req: Request) -> Reply:
        assert req.match is not None
        rid = req.path.lower()
        body = self.resources.get(rid)
        if body is None:
            return Reply(404, {"error": {"code": "ResourceNotFound", "message": req.path}})
        suffix = req.body.get("properties", {}).get("template", {}).get("revisionSuffix")
        body["properties"]["template"]["revisionSuffix"] = suffix
        url = self.server.async_operation([{"status": "Succeeded"}])
        return Reply(202, None, {"Azure-AsyncOperation": url, "Location": url,
                                 "Retry-After": "0"})

    COLUMNS: tuple[tuple[str, str], ...] = (("TimeGenerated", "datetime"), ("Type", "string"), ("OperationName", "string"),
               ("CallerIpAddress", "string"), ("Identity", "string"), ("Repository", "string"),
               ("Tag", "string"), ("Digest", "string"), ("LoginServer", "string"),
               ("UserAgent", "string"), ("ResultType", "string"),
               ("ResultDescription", "string"), ("CorrelationId", "string"),
               ("_ResourceId", "string"))

    def add_pull(self, *, registry: str, registry_id: str, caller: str, identity: str,
                 result: str = "200", description: str = "") -> None:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        self.rows.append([now, "ContainerRegistryRepositoryEvents", "Pull", caller, identity,
                          "lab/aci-helloworld", "v1", "sha256:" + "ab" * 32,
                          f"{registry}.azurecr.io", "containerd/1.7.22+azure-1", "HttpStatusCode",
                          description or result, str(uuid.uuid4()), registry_id.upper()])

    def _query(self, req: Request) -> Reply:
        self.query_count += 1
        # the shape of la-get-example.json: tables[].columns[{name,type}] and rows
        table = example("la-get-example.json")["tables"][0]
        table["columns"] = [{"name": n, "type": t} for n, t in self.COLUMNS]
        table["rows"] = [] if self.query_count <= self.empty_polls else self.rows
        return Reply(200, {"tables": [table]})
