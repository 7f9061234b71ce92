"""Build small end-to-end scenarios: ARM inventory (REST shape) + registry log records.

The resource shapes follow the official REST API examples (camelCase, ``properties`` bag), the
log records follow the diagnostic-settings archive shape of tests/data/acr-logs. Addresses used
for Microsoft callers are taken from the bundled service tag file by the tests themselves.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SUB = "0b6c1a44-2f5e-4d1c-9a7b-3c2d1e0f9a8b"
RG = "rg-scenario"
LOC = "japaneast"
BASE = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers"
ACRPULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"


def rid(kind: str, name: str) -> str:
    return f"{BASE}/{kind}/{name}"


@dataclass
class Scenario:
    resources: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)

    # ------------------------------------------------------------ inventory
    def vnet(self, name: str, prefix: str, subnets: dict[str, tuple[str, str]]) -> dict[str, str]:
        """subnets: name -> (prefix, delegation service or "")."""
        vid = rid("Microsoft.Network/virtualNetworks", name)
        out = {}
        subs = []
        for sname, (sprefix, delegation) in subnets.items():
            sid = f"{vid}/subnets/{sname}"
            out[sname] = sid
            props: dict[str, Any] = {"addressPrefix": sprefix}
            if delegation:
                props["delegations"] = [{"name": "d", "properties": {"serviceName": delegation}}]
            subs.append({"id": sid, "name": sname, "properties": props})
        self.resources.append(
            {
                "id": vid,
                "name": name,
                "type": "Microsoft.Network/virtualNetworks",
                "location": LOC,
                "properties": {"addressSpace": {"addressPrefixes": [prefix]}, "subnets": subs},
            }
        )
        return out

    def registry(
        self,
        name: str,
        *,
        sku: str = "Premium",
        public: str = "Disabled",
        default_action: str = "Deny",
        ip_rules: tuple[str, ...] = (),
        bypass: str = "AzureServices",
        pe_subnet: str = "",
        pe_status: str = "Approved",
        pe_ip: str = "",
        tasks_bypass: bool = False,
    ) -> str:
        reg = rid("Microsoft.ContainerRegistry/registries", name)
        pecs = []
        if pe_subnet:
            pe = rid("Microsoft.Network/privateEndpoints", f"pe-{name}")
            pecs.append(
                {
                    "id": f"{reg}/privateEndpointConnections/pe-{name}.1",
                    "properties": {
                        "privateEndpoint": {"id": pe},
                        "privateLinkServiceConnectionState": {"status": pe_status},
                    },
                }
            )
            self.resources.append(
                {
                    "id": pe,
                    "name": f"pe-{name}",
                    "type": "Microsoft.Network/privateEndpoints",
                    "location": LOC,
                    "properties": {
                        "subnet": {"id": pe_subnet},
                        "privateLinkServiceConnections": [
                            {
                                "name": name,
                                "properties": {
                                    "privateLinkServiceId": reg,
                                    "groupIds": ["registry"],
                                    "privateLinkServiceConnectionState": {"status": pe_status},
                                },
                            }
                        ],
                        "customDnsConfigs": [
                            {"fqdn": f"{name}.azurecr.io", "ipAddresses": [pe_ip or "10.9.9.9"]}
                        ],
                    },
                }
            )
        self.resources.append(
            {
                "id": reg,
                "name": name,
                "type": "Microsoft.ContainerRegistry/registries",
                "location": LOC,
                "sku": {"name": sku, "tier": sku},
                "properties": {
                    "loginServer": f"{name}.azurecr.io",
                    "adminUserEnabled": False,
                    "publicNetworkAccess": public,
                    "networkRuleSet": {
                        "defaultAction": default_action,
                        "ipRules": [{"action": "Allow", "value": r} for r in ip_rules],
                    },
                    "networkRuleBypassOptions": bypass,
                    "networkRuleBypassAllowedForTasks": tasks_bypass,
                    "privateEndpointConnections": pecs,
                    "dataEndpointEnabled": False,
                },
            }
        )
        return reg

    def identity(self, name: str, principal: str, client: str) -> str:
        iid = rid("Microsoft.ManagedIdentity/userAssignedIdentities", name)
        self.resources.append(
            {
                "id": iid,
                "name": name,
                "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
                "location": LOC,
                "properties": {"principalId": principal, "clientId": client},
            }
        )
        return iid

    @staticmethod
    def _uami(iid: str, principal: str, client: str) -> dict[str, Any]:
        return {
            "type": "UserAssigned",
            "userAssignedIdentities": {iid: {"principalId": principal, "clientId": client}},
        }

    def aci(
        self,
        name: str,
        *,
        server: str,
        subnet: str = "",
        private_ip: str = "",
        identity: tuple[str, str, str] | None = None,
    ) -> str:
        cid = rid("Microsoft.ContainerInstance/containerGroups", name)
        props: dict[str, Any] = {
            "osType": "Linux",
            "containers": [
                {
                    "name": name,
                    "properties": {
                        "image": f"{server}/{name}:1",
                        "resources": {"requests": {"cpu": 1, "memoryInGB": 2}},
                    },
                }
            ],
        }
        if identity:
            props["imageRegistryCredentials"] = [{"server": server, "identity": identity[0]}]
        if subnet:
            props["subnetIds"] = [{"id": subnet}]
            props["ipAddress"] = {"type": "Private", "ip": private_ip, "ports": [{"port": 80}]}
        res: dict[str, Any] = {
            "id": cid,
            "name": name,
            "location": LOC,
            "type": "Microsoft.ContainerInstance/containerGroups",
            "properties": props,
        }
        if identity:
            res["identity"] = self._uami(*identity)
        self.resources.append(res)
        return cid

    def aca(
        self, name: str, *, server: str, subnet: str, identity: tuple[str, str, str] | None = None
    ) -> str:
        env = rid("Microsoft.App/managedEnvironments", f"env-{name}")
        self.resources.append(
            {
                "id": env,
                "name": f"env-{name}",
                "type": "Microsoft.App/managedEnvironments",
                "location": LOC,
                "properties": {
                    "vnetConfiguration": {"infrastructureSubnetId": subnet, "internal": True}
                },
            }
        )
        app = rid("Microsoft.App/containerApps", name)
        res: dict[str, Any] = {
            "id": app,
            "name": name,
            "type": "Microsoft.App/containerApps",
            "location": LOC,
            "properties": {
                "managedEnvironmentId": env,
                "configuration": {
                    "registries": [
                        {"server": server, "identity": identity[0] if identity else "system"}
                    ]
                },
                "template": {"containers": [{"name": name, "image": f"{server}/{name}:1"}]},
            },
        }
        if identity:
            res["identity"] = self._uami(*identity)
        self.resources.append(res)
        return app

    def nat_gateway(self, name: str, public_ip: str, subnets: list[str]) -> tuple[str, str]:
        pip = rid("Microsoft.Network/publicIPAddresses", f"pip-{name}")
        nat = rid("Microsoft.Network/natGateways", name)
        self.resources.append(
            {
                "id": pip,
                "name": f"pip-{name}",
                "type": "Microsoft.Network/publicIPAddresses",
                "location": LOC,
                "properties": {
                    "ipAddress": public_ip,
                    "natGateway": {"id": nat},
                    "publicIPAllocationMethod": "Static",
                },
            }
        )
        self.resources.append(
            {
                "id": nat,
                "name": name,
                "type": "Microsoft.Network/natGateways",
                "location": LOC,
                "properties": {
                    "publicIpAddresses": [{"id": pip}],
                    "subnets": [{"id": s} for s in subnets],
                },
            }
        )
        return nat, pip

    def aks(self, name: str, *, subnet: str, kubelet: tuple[str, str, str]) -> str:
        aid = rid("Microsoft.ContainerService/managedClusters", name)
        self.resources.append(
            {
                "id": aid,
                "name": name,
                "type": "Microsoft.ContainerService/managedClusters",
                "location": LOC,
                "properties": {
                    "agentPoolProfiles": [
                        {
                            "name": "nodepool1",
                            "count": 3,
                            "vnetSubnetID": subnet,
                            "osType": "Linux",
                            "mode": "System",
                        }
                    ],
                    "identityProfile": {
                        "kubeletidentity": {
                            "resourceId": kubelet[0],
                            "objectId": kubelet[1],
                            "clientId": kubelet[2],
                        }
                    },
                    "networkProfile": {"outboundType": "userAssignedNATGateway"},
                },
            }
        )
        return aid

    def webapp(self, name: str, *, server: str, subnet: str, vnet_image_pull: bool) -> str:
        wid = rid("Microsoft.Web/sites", name)
        self.resources.append(
            {
                "id": wid,
                "name": name,
                "type": "Microsoft.Web/sites",
                "kind": "app,linux,container",
                "location": LOC,
                "properties": {
                    "virtualNetworkSubnetId": subnet,
                    "vnetImagePullEnabled": vnet_image_pull,
                    "siteConfig": {"linuxFxVersion": f"DOCKER|{server}/{name}:1"},
                },
            }
        )
        return wid

    # ---------------------------------------------------------------- logs
    def event(
        self,
        registry: str,
        *,
        ip: str,
        identity: str = "",
        op: str = "Pull",
        repo: str = "app",
        tag: str = "1",
        status: str = "200",
        description: str = "",
        time: str = "2026-11-20T10:00:00.0000000Z",
        category: str = "ContainerRegistryRepositoryEvents",
        count: int = 1,
    ) -> None:
        reg_id = rid("Microsoft.ContainerRegistry/registries", registry).upper()
        for i in range(count):
            props: dict[str, Any] = {
                "loginServer": f"{registry}.azurecr.io",
                "userAgent": "containerd/1.7",
            }
            if category == "ContainerRegistryRepositoryEvents":
                props.update({"repository": repo, "tag": tag, "digest": "<nil>"})
            self.records.append(
                {
                    "time": time.replace("00.0000000Z", f"{i % 60:02d}.0000000Z"),
                    "category": category,
                    "resourceId": reg_id,
                    "operationName": op,
                    "identity": identity,
                    "resultType": "HttpStatusCode",
                    "resultDescription": description or status,
                    "durationMs": "12.5",
                    "callerIpAddress": ip,
                    "correlationId": f"c-{len(self.records)}",
                    "properties": props,
                }
            )

    def write(self, root: Path) -> tuple[Path, Path]:
        inv = root / "inventory.json"
        inv.write_text(json.dumps({"value": self.resources}))
        logs = root / "logs"
        logs.mkdir(exist_ok=True)
        (logs / "PT1H.json").write_text("".join(json.dumps(r) + "\n" for r in self.records))
        return logs, inv
