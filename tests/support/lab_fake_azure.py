"""A fake Azure for the lab tests: ARM (resource groups, deployments as long-running
operations, role assignments, registry import, container group restart/stop/start, Container
App stop/start/update/revision restart, resource reads) and the Log Analytics query API, on a
:class:`LoopbackServer`.

It behaves like the slow and racy parts of Azure the lab must wait for: a role assignment
that is listed only after some reads, a consumer refused for its identity until its AcrPull
is effective, registry events that reach the workspace only some queries after the pull,
consumers that pull when they are created and when they start again, and a resource group
that someone else creates between the lab's check and its create.

Bodies are the official REST API examples in tests/data/lab (see PROVENANCE.md) with the
lab's IDs, names and submitted property values substituted, as ARM would store them. The
fake reads the deployment request like ARM does (template resources and parameter values);
it does not use pullpath's code.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from tests.support import TESTS
from tests.support.lab_server import LoopbackServer, Reply, Request

DATA = TESTS / "data" / "lab"
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
        self.empty_polls = 0
        """Log Analytics answers with no rows this many times first."""
        self.delivery_delay = 2
        """A pull's event is in the workspace only this many queries after the pull."""
        self.rows: list[tuple[int, list[Any]]] = []
        """(first query that sees it, row)."""
        self.query_count = 0
        self.deleted_groups: list[str] = []
        self.public_ips: list[dict[str, Any]] = [example("PublicIpAddressGet.json")]
        # -- the slow and racy parts
        self.role_reads_before_listed = 0
        """A new role assignment answers 404 to this many reads, then 200."""
        self.role_reads: dict[str, int] = {}
        self.refused_attempts: dict[str, int] = {}
        """Consumer name prefix (``ci-aci``, ``ca-app``) -> how many of its deployments the
        registry refuses for its identity (its AcrPull not effective yet) before it works."""
        self.always_refused: set[str] = set()
        """Consumer name prefixes whose image the registry never lets them pull."""
        self.callers: dict[str, str] = {"Microsoft.ContainerInstance/containerGroups":
                                        "4.189.68.203:49870",
                                        "Microsoft.App/containerApps": "10.0.2.37"}
        """The caller IP the registry logs for each consumer type's pulls."""
        self.honour_if_none_match = False
        """Answer 412 to a PUT with If-None-Match: * on an existing group (ARM's newer
        conditional-request contract) instead of updating it with 200."""
        self.race_tags: dict[str, str] | None = None
        """When set, a same-named resource group with these tags appears between the lab's
        GET and its PUT."""
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
        s.route("PATCH", RG_RX, self._patch_group)
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
        app = RG_RX + r"/providers/Microsoft\.App/containerApps/(?P<app>[^/]+)"
        s.route("PATCH", app, self._patch_app)
        s.route("POST", app + "/stop", self._app_stop)
        s.route("POST", app + "/start", self._app_start)
        s.route("POST", app + r"/revisions/(?P<rev>[^/]+)/restart", self._app_restart)
        s.route("GET", RG_RX + r"/providers/.+/providers/Microsoft\.Authorization/"
                r"roleAssignments/(?P<ra>[^/]+)", self._get_role_assignment)
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
        name = req.match["rg"]
        if self.race_tags is not None and name.lower() not in self.groups:
            self.add_group(name, self.race_tags)  # someone else was quicker
        existed = name.lower() in self.groups
        if existed and self.honour_if_none_match and req.headers.get("if-none-match") == "*":
            return Reply(412, {"error": {"code": "PreconditionFailed",
                                         "message": f"Resource group '{name}' exists."}})
        # ARM's PUT replaces: tags not sent are tags removed
        self.add_group(name, req.body.get("tags") or {})
        self.groups[name.lower()]["location"] = req.body["location"]
        return Reply(200 if existed else 201, self.groups[name.lower()])

    def _patch_group(self, req: Request) -> Reply:
        g = self._group(req)
        if g is None:
            return Reply(404, {"error": {"code": "ResourceGroupNotFound", "message": "no"}})
        if "tags" in req.body:  # PATCH keeps what it is not given
            g["tags"] = dict(req.body["tags"] or {})
        return Reply(200, g)

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
                 for rid, b in self.resources.items()
                 # extension resources (role assignments) are not resources of the group
                 if rid.startswith(prefix) and rid.count("/providers/") == 1]
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
        outputs: dict[str, Any] = {}
        if error is None:
            try:
                outputs = self._create(rg, template, params)
            except _Failed as failed:
                error = failed.error
        if error is None:
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

    @staticmethod
    def _name(res: dict[str, Any], p: dict[str, Any]) -> str:
        """A template resource's name as ARM evaluates the few forms the lab uses."""
        name = res["name"]
        m = re.fullmatch(r"\[parameters\('([^']+)'\)\]", name)
        if m:
            return str(p[m[1]])
        m = re.fullmatch(r"\[format\('\{0\}/\{1\}', (.+), (.+)\)\]", name)
        if m:
            parts = []
            for arg in (m[1], m[2]):
                pm = re.fullmatch(r"parameters\('([^']+)'\)", arg)
                parts.append(str(p[pm[1]]) if pm else arg.strip("'"))
            return "/".join(parts)
        return name

    @staticmethod
    def _param_of(res: dict[str, Any]) -> str:
        m = re.fullmatch(r"\[parameters\('([^']+)'\)\]", res["name"])
        return m[1] if m else ""

    def _create(self, rg: str, template: dict[str, Any], p: dict[str, Any]) -> dict[str, Any]:
        """Create the template's resources the way ARM stores them, from the examples; the
        consumers the registry refuses fail, the others are created (and pull)."""
        tags = {"pullpath-lab": p["runId"], "created-by": "pullpath",
                "pullpath-scenario": p["scenario"]}
        base = self.rg_id(rg) + "/providers/"
        loc = p["location"]
        outputs: dict[str, Any] = {}
        failures: list[dict[str, Any]] = []
        vnet_id = base + f"Microsoft.Network/virtualNetworks/{p.get('vnetName', '')}"
        reg_id = base + f"Microsoft.ContainerRegistry/registries/{p.get('registryName', '')}"
        for res in template["resources"]:
            rtype = res["type"]
            props = res.get("properties") or {}
            name = self._name(res, p)
            rid = base + f"{rtype}/{name}"
            if rtype == "Microsoft.OperationalInsights/workspaces":
                self._put(rid, {"id": rid, "name": name, "type": rtype,
                                "location": loc, "tags": tags,
                                "properties": {"customerId": WORKSPACE_GUID,
                                               "provisioningState": "Succeeded"}})
            elif rtype == "Microsoft.ContainerRegistry/registries":
                body = self.resources.get(rid.lower()) or example("RegistryGet.json")
                body.update({"id": rid, "name": name, "location": loc,
                             "tags": tags, "sku": {"name": "Premium", "tier": "Premium"}})
                body["properties"].update(_literals(props))
                body["properties"]["networkRuleSet"] = props.get("networkRuleSet")
                body["properties"]["loginServer"] = f"{name}.azurecr.io"
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
                body.update({"id": vnet_id, "name": name, "location": loc, "tags": tags})
                body["properties"]["addressSpace"] = props["addressSpace"]
                body["properties"]["subnets"] = subnets
                self._put(vnet_id, body)
            elif rtype == "Microsoft.ManagedIdentity/userAssignedIdentities":
                body = example("IdentityGet.json")
                body.update({"id": rid, "name": name, "location": loc, "tags": tags})
                body["properties"]["principalId"] = str(uuid.uuid5(uuid.NAMESPACE_URL,
                                                                    "principal:" + name))
                body["properties"]["clientId"] = str(uuid.uuid5(uuid.NAMESPACE_URL,
                                                                 "client:" + name))
                self._put(rid, body)
            elif rtype == "Microsoft.Authorization/roleAssignments":
                pass  # recorded with its output below: ARM's guid() is ARM's
            elif rtype == "Microsoft.Network/privateEndpoints":
                body = example("PrivateEndpointGet.json")
                conn = body["properties"]["privateLinkServiceConnections"][0]
                conn["id"] = f"{rid}/privateLinkServiceConnections/registry"
                conn["properties"].update({"privateLinkServiceId": reg_id,
                                           "groupIds": ["registry"]})
                body.update({"id": rid, "name": name, "location": loc, "tags": tags})
                body["properties"]["subnet"] = {"id": f"{vnet_id}/subnets/pe"}
                body["properties"]["customDnsConfigs"] = [
                    {"fqdn": f"{p['registryName']}.azurecr.io", "ipAddresses": ["10.0.3.5"]},
                    {"fqdn": f"{p['registryName']}.{loc}.data.azurecr.io",
                     "ipAddresses": ["10.0.3.4"]}]
                self._put(rid, body)
                registry = self.resources[reg_id.lower()]
                registry["properties"]["privateEndpointConnections"] = [{
                    "id": f"{reg_id}/privateEndpointConnections/{name}",
                    "properties": {"privateEndpoint": {"id": rid},
                                   "privateLinkServiceConnectionState": {
                                       "status": "Approved", "description": "Auto-Approved"},
                                   "provisioningState": "Succeeded"}}]
            elif rtype == "Microsoft.App/managedEnvironments":
                body = example("ManagedEnvironments_Get.json")
                body.update({"id": rid, "name": name, "location": loc, "tags": tags})
                body["properties"]["vnetConfiguration"] = {
                    "infrastructureSubnetId": f"{vnet_id}/subnets/aca", "internal": False}
                self._put(rid, body)
            elif rtype in ("Microsoft.ContainerInstance/containerGroups",
                           "Microsoft.App/containerApps"):
                key = self._param_of(res)[: -len("Name")]
                failure = self._refusal(rid, name)
                if failure is not None:
                    failures.append(failure)
                    continue
                self._consumer(rtype, rid, name, key, p, loc, tags, base, vnet_id, props)
                outputs[f"{key}Id"] = rid
        for name in template.get("outputs", {}):
            if name == "registryId":
                outputs[name] = reg_id
            elif name == "registryLoginServer":
                outputs[name] = f"{p['registryName']}.azurecr.io"
            elif name == "workspaceCustomerId":
                outputs[name] = WORKSPACE_GUID
            elif name.endswith("RoleAssignmentId"):
                key = name[: -len("RoleAssignmentId")]
                ra = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{reg_id}|{p[key + 'IdentityName']}"))
                ra_id = f"{reg_id}/providers/Microsoft.Authorization/roleAssignments/{ra}"
                body = example("RoleAssignments_Get.json")
                body.update({"id": ra_id, "name": ra})
                body["properties"].update({
                    "roleDefinitionId": f"/subscriptions/{SUB}/providers/Microsoft."
                                        "Authorization/roleDefinitions/"
                                        "7f951dda-4ed3-4680-a7ca-43fe172d538d",
                    "principalType": "ServicePrincipal", "scope": reg_id})
                self._put(ra_id, body)
                outputs[name] = ra_id
        if failures:
            raise _Failed({"code": "DeploymentFailed",
                           "message": "At least one resource deployment operation failed.",
                           "details": failures})
        return outputs

    def _refusal(self, rid: str, name: str) -> dict[str, Any] | None:
        """The registry refuses the consumer's identity (its AcrPull not effective yet, or
        never): ARM's ResourceDeploymentFailure naming the resource, the provider's error
        inside."""
        prefix = name.rsplit("-", 1)[0]
        left = self.refused_attempts.get(prefix, 0)
        if prefix not in self.always_refused and left <= 0:
            return None
        self.refused_attempts[prefix] = left - 1
        return {"code": "ResourceDeploymentFailure", "target": rid,
                "message": "The resource write operation failed to complete successfully, "
                           "because it reached terminal provisioning state 'Failed'.",
                "details": [{"code": "InaccessibleImage",
                             "message": f"The image '{name}' in container group is not "
                                        "accessible. unauthorized: authentication required"}]}

    def _consumer(self, rtype: str, rid: str, name: str, key: str, p: dict[str, Any],
                  loc: str, tags: dict[str, str], base: str, vnet_id: str,
                  props: dict[str, Any]) -> None:
        uami_id = (base + "Microsoft.ManagedIdentity/userAssignedIdentities/"
                   + p[key + "IdentityName"])
        uami = self.resources[uami_id.lower()]
        identity = {"type": "UserAssigned", "userAssignedIdentities": {
            uami_id: {"principalId": uami["properties"]["principalId"],
                      "clientId": uami["properties"]["clientId"]}}}
        if rtype == "Microsoft.ContainerInstance/containerGroups":
            body = example("ContainerGroupsGet_Succeeded.json")
            body.update({"id": rid, "name": name, "location": loc, "tags": tags,
                         "identity": identity})
            body.pop("zones", None)
            bp = body["properties"]
            bp["containers"][0]["properties"]["image"] = \
                f"{p['registryLoginServer']}/{p['image']}"
            bp["containers"][0]["properties"].pop("volumeMounts", None)
            bp.pop("volumes", None)
            if "subnetIds" in props:
                bp["ipAddress"] = {"ip": "10.0.1.4", "type": "Private",
                                   "ports": [{"port": 80, "protocol": "TCP"}]}
                bp["subnetIds"] = [{"id": f"{vnet_id}/subnets/aci"}]
            else:
                bp.pop("ipAddress", None)
                bp.pop("subnetIds", None)
            bp["imageRegistryCredentials"] = [{"server": p["registryLoginServer"],
                                               "identity": uami_id}]
        else:
            env_id = base + f"Microsoft.App/managedEnvironments/{p['environmentName']}"
            body = example("ContainerApps_Get.json")
            body.update({"id": rid, "name": name, "location": loc, "tags": tags,
                         "identity": identity})
            bp = body["properties"]
            bp["environmentId"] = env_id
            bp["managedEnvironmentId"] = env_id
            bp["configuration"]["registries"] = [{"server": p["registryLoginServer"],
                                                  "identity": uami_id}]
        self._put(rid, body)
        self.pull(rid)  # a new consumer pulls its image

    def pull(self, consumer_id: str) -> None:
        """The consumer pulls: the registry logs it, the workspace shows it later."""
        body = self.resources[consumer_id.lower()]
        uami = next(iter(body["identity"]["userAssignedIdentities"].values()))
        registry = next(b for b in self.resources.values()
                        if b["type"] == "Microsoft.ContainerRegistry/registries")
        self.add_pull(registry=registry["name"], registry_id=registry["id"],
                      caller=self.callers[body["type"]], identity=uami["principalId"])

    def _put(self, rid: str, body: dict[str, Any]) -> None:
        self.resources[rid.lower()] = body

    # ----------------------------------------------------------------- data plane
    def _import(self, req: Request) -> Reply:
        # ImportImageFromPublicRegistry.json: 202 with Location, then 200
        return Reply(202, None, {"Location": self.server.location_operation(pending=1),
                                 "Retry-After": "0"})

    def _start(self, req: Request) -> Reply:
        self.pull(req.path.rsplit("/", 1)[0])  # starting a group is a new deployment: it pulls
        url = self.server.async_operation([{"status": "Succeeded"}])
        return Reply(202, None, {"Azure-AsyncOperation": url, "Retry-After": "0"})

    def _app_stop(self, req: Request) -> Reply:
        body = self.resources[req.path.rsplit("/", 1)[0].lower()]
        body["properties"]["runningStatus"] = "Stopped"
        url = self.server.async_operation([{"status": "InProgress"}, {"status": "Succeeded"}])
        return Reply(202, None, {"Azure-AsyncOperation": url, "Retry-After": "0"})

    def _app_start(self, req: Request) -> Reply:
        rid = req.path.rsplit("/", 1)[0]
        self.resources[rid.lower()]["properties"]["runningStatus"] = "Running"
        self.pull(rid)
        url = self.server.async_operation([{"status": "Succeeded"}])
        return Reply(202, None, {"Azure-AsyncOperation": url, "Retry-After": "0"})

    def _app_restart(self, req: Request) -> Reply:
        self.pull(req.path.split("/revisions/")[0])
        return Reply(200, None)

    def _get_role_assignment(self, req: Request) -> Reply:
        rid = req.path.lower().rstrip("/")
        body = self.resources.get(rid)
        reads = self.role_reads[rid] = self.role_reads.get(rid, 0) + 1
        if body is None or reads <= self.role_reads_before_listed:
            return Reply(404, {"error": {"code": "RoleAssignmentNotFound",
                                         "message": "The role assignment was not found."}})
        return Reply(200, body)

    def _patch_app(self, req: Request) -> Reply:
        assert req.match is not None
        rid = req.path.lower()
        body = self.resources.get(rid)
        if body is None:
            return Reply(404, {"error": {"code": "ResourceNotFound", "message": req.path}})
        suffix = req.body.get("properties", {}).get("template", {}).get("revisionSuffix")
        body["properties"]["template"]["revisionSuffix"] = suffix
        self.pull(req.path)  # a new revision, new replicas: they pull
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
        """A registry event, in the workspace from the ``delivery_delay``-th next query on."""
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        row = [now, "ContainerRegistryRepositoryEvents", "Pull", caller, identity,
               "lab/aci-helloworld", "v1", "sha256:" + "ab" * 32, f"{registry}.azurecr.io",
               "containerd/1.7.22+azure-1", "HttpStatusCode", description or result,
               str(uuid.uuid4()), registry_id.upper()]
        self.rows.append((self.query_count + 1 + self.delivery_delay, row))

    def _query(self, req: Request) -> Reply:
        self.query_count += 1
        # the shape of la-get-example.json: tables[].columns[{name,type}] and rows
        table = example("la-get-example.json")["tables"][0]
        table["columns"] = [{"name": n, "type": t} for n, t in self.COLUMNS]
        table["rows"] = [] if self.query_count <= self.empty_polls else [
            row for visible, row in self.rows if self.query_count >= visible]
        return Reply(200, {"tables": [table]})


class _Failed(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("message", ""))
        self.error = error
