"""Deterministic generator of realistic ACR diagnostic archives and a matching inventory.

    python bench/generate.py --events 1000000            # -> bench/data/events-1000000/

Output layout (the diagnostic-settings storage archive, as Azure writes it)::

    <out>/logs/insights-logs-containerregistryrepositoryevents/resourceId=/SUBSCRIPTIONS/<SUB>/
        RESOURCEGROUPS/<RG>/PROVIDERS/MICROSOFT.CONTAINERREGISTRY/REGISTRIES/<NAME>/
        y=2025/m=10/d=20/h=10/m=00/PT1H.json            (every third file gzip: PT1H.json.gz)
    <out>/logs/insights-logs-containerregistryloginevents/...
    <out>/inventory/resources.json                      (ARM list: {"value": [...]})
    <out>/manifest.json                                 (what was generated, with the seed)

The mix (weights of all events): AKS nodes pulling privately from many subnets, AKS clusters
behind NAT gateways whose public IPs sit in Microsoft's ranges (allowed by IP rules), ACI
pulling from Microsoft IPs (with ports) drawn from the real service tag ranges of the bundled
file, ACA and App Service over VNet integration, ACR Tasks from the AzureContainerRegistry tag,
on-premises callers in no known subnet, office IPs in the IP rules, internet callers refused by
the firewall (403 with the registry's message), open-registry users (some 401), IPv6 and
unusable caller addresses, and a few damaged lines (invalid JSON, truncated, not an object,
not a registry event, no operation, impossible time). The inventory holds 1,000 subnets in 50
VNets, 200 consumers (AKS, ACI, ACA, App Service), their identities, NAT gateways, a private
endpoint and three registries (private, IP-restricted, open).

Everything is derived from ``--seed``: the same arguments give byte-identical files.
``quirks=True`` (tests) adds rarer shapes: a ``{"records": [...]}`` wrapper file, Log Analytics
style PascalCase lines, other time precisions, non-string values and a CSV export.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import gzip
import io
import ipaddress
import json
import random
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "bench" / "data"
TAGS_FILE = (ROOT / "src" / "pullpath" / "data" / "servicetags"
             / "ServiceTags_Public_20251028.json.gz")
GENERATOR_VERSION = 2

SUB = "6c0f7a3e-5d21-4f7e-9a61-2b8c4d9e1f30"
TENANT = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
RG = "rg-pullpath-bench"
LOCATION = "westeurope"
BASE = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers"
START = datetime(2025, 10, 20, 0, 0, tzinfo=UTC)
EVENTS_PER_HOUR = 40_000
REPOSITORY = "ContainerRegistryRepositoryEvents"
LOGIN = "ContainerRegistryLoginEvents"
FIREWALL_MESSAGE = ("denied: client with IP '{ip}' is not allowed access. "
                    "Refer https://aka.ms/acr/firewall to grant access.")
MEDIA_TYPE = "application/vnd.docker.distribution.manifest.v2+json"

N_VNETS = 50
SUBNETS_PER_VNET = 20
N_AKS, N_AKS_NAT, N_ACI, N_ACA, N_WEB = 120, 20, 40, 20, 20


def rid(kind: str, name: str) -> str:
    return f"{BASE}/{kind}/{name}"


# --------------------------------------------------------------------------- service tags


@dataclass
class TagRanges:
    """IPv4 ranges of the bundled service tag file, read with the standard library only."""

    by_tag: dict[str, list[ipaddress.IPv4Network]]
    starts: list[int]
    ends: list[int]

    @classmethod
    def load(cls, path: Path = TAGS_FILE) -> TagRanges:
        doc = orjson.loads(gzip.decompress(path.read_bytes()))
        by_tag: dict[str, list[ipaddress.IPv4Network]] = {}
        spans: list[tuple[int, int]] = []
        for value in doc["values"]:
            nets = [ipaddress.IPv4Network(p) for p in value["properties"]["addressPrefixes"]
                    if ":" not in p]
            by_tag[value["name"]] = nets
            spans.extend((int(n.network_address), int(n.broadcast_address)) for n in nets)
        spans.sort()
        merged: list[tuple[int, int]] = []
        for start, end in spans:
            if merged and start <= merged[-1][1] + 1:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        return cls(by_tag, [s for s, _ in merged], [e for _, e in merged])

    def is_microsoft(self, ip: int) -> bool:
        i = bisect.bisect_right(self.starts, ip) - 1
        return i >= 0 and ip <= self.ends[i]

    def address_in(self, tag: str, rng: random.Random) -> str:
        nets = self.by_tag[tag]
        weights = [n.num_addresses for n in nets]
        net = rng.choices(nets, weights)[0]
        return str(net.network_address + rng.randrange(1, max(2, net.num_addresses - 1)))

    def internet_address(self, rng: random.Random) -> str:
        while True:
            value = rng.randrange(1 << 24, 224 << 24)
            ip = ipaddress.IPv4Address(value)
            if ip.is_global and not self.is_microsoft(value):
                return str(ip)


# --------------------------------------------------------------------------- the world


@dataclass(frozen=True, slots=True)
class Caller:
    """One client: where it calls from, as whom, which images it pulls."""

    ips: tuple[str, ...]
    identity: str
    images: tuple[tuple[str, str], ...]
    user_agent: str
    port: bool = False
    """Log the address with a random source port (ACI, seen as ``4.189.68.203:51544``)."""
    missing: tuple[str, str] | None = None
    """An image reference this client keeps asking for although it does not exist (404)."""
    unauthorised: bool = False
    """Expired or wrong credentials: every request is refused with 401."""


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    weight: float
    registry: str
    callers: tuple[Caller, ...]
    login_share: float = 0.2
    outcome: str = "ok"
    """ok (200, some 404), firewall (403 with the message), unauthorised (a share of 401)."""
    operations: tuple[str, ...] = ("Pull",)


@dataclass
class World:
    resources: list[dict[str, Any]] = field(default_factory=list)
    registries: dict[str, str] = field(default_factory=dict)
    """name -> resource ID as logged (upper case)."""
    profiles: list[Profile] = field(default_factory=list)


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _images(rng: random.Random, repos: list[str], n: int) -> tuple[tuple[str, str], ...]:
    out = []
    for repo in rng.sample(repos, n):
        out.append((repo, rng.choice(("latest", f"1.{rng.randrange(9)}.{rng.randrange(20)}",
                                      f"2.{rng.randrange(5)}.0"))))
    return tuple(out)


def build_world(seed: int, tags: TagRanges) -> World:
    """Inventory resources and caller profiles, all from ``seed``."""
    rng = random.Random(seed)
    w = World()
    repos = [f"team{a:02d}/svc-{b:02d}" for a in range(20) for b in range(10)]

    # ---- VNets and 1,000 subnets, assigned to consumers in order
    roles = (["aks"] * N_AKS + ["aci"] * N_ACI + ["aca"] * N_ACA + ["web"] * N_WEB + ["pe"])
    delegation = {"aci": "Microsoft.ContainerInstance/containerGroups",
                  "aca": "Microsoft.App/environments", "web": "Microsoft.Web/serverFarms"}
    subnets: dict[str, list[tuple[str, ipaddress.IPv4Network]]] = {}
    k = 0
    for v in range(1, N_VNETS + 1):
        vid = rid("Microsoft.Network/virtualNetworks", f"vnet-{v:02d}")
        subs = []
        for j in range(SUBNETS_PER_VNET):
            role = roles[k] if k < len(roles) else "workload"
            k += 1
            net = ipaddress.IPv4Network(f"10.{v}.{4 * j}.0/22")
            name = f"snet-{role}-{j:02d}"
            sid = f"{vid}/subnets/{name}"
            props: dict[str, Any] = {"addressPrefix": str(net)}
            if role in delegation:
                props["delegations"] = [{"name": "d", "properties": {
                    "serviceName": delegation[role]}}]
            subs.append({"id": sid, "name": name, "properties": props})
            subnets.setdefault(role, []).append((sid, net))
        w.resources.append({
            "id": vid, "name": f"vnet-{v:02d}", "type": "Microsoft.Network/virtualNetworks",
            "location": LOCATION,
            "properties": {"addressSpace": {"addressPrefixes": [f"10.{v}.0.0/16"]},
                           "subnets": subs},
        })

    # ---- NAT gateways for some AKS clusters: public IPs inside Microsoft's ranges
    nat_ips = [tags.address_in("AzureCloud.westeurope", rng) for _ in range(N_AKS_NAT)]
    office = [tags.internet_address(rng) for _ in range(8)]
    office_ips = [str(ipaddress.IPv4Address(int(ipaddress.IPv4Address(o)) & ~15) + i)
                  for o in office for i in range(1, 6)]

    # ---- registries
    pe_sid = subnets["pe"][0][0]
    w.registries = {
        "contosoprod": _registry(w, "contosoprod", public="Disabled", action="Deny",
                                 pe_subnet=pe_sid),
        "contosoedge": _registry(w, "contosoedge", public="Enabled", action="Deny",
                                 ip_rules=[f"{ip}/32" for ip in nat_ips]
                                 + [str(ipaddress.IPv4Network(f"{o}/28", strict=False))
                                    for o in office]),
        "contosopublic": _registry(w, "contosopublic", public="Enabled", action="Allow",
                                   sku="Standard"),
    }

    # ---- consumers (200) and the callers behind them
    aks_private: list[Caller] = []
    aks_nat: list[Caller] = []
    for i, (sid, net) in enumerate(subnets["aks"]):
        principal, client = _guid(rng), _guid(rng)
        uami = _identity(w, f"aks-{i:03d}-agentpool", principal, client)
        aid = rid("Microsoft.ContainerService/managedClusters", f"aks-{i:03d}")
        w.resources.append({
            "id": aid, "name": f"aks-{i:03d}", "type": "Microsoft.ContainerService/managedClusters",
            "location": LOCATION,
            "properties": {
                "agentPoolProfiles": [{"name": "nodepool1", "count": 3, "vnetSubnetID": sid,
                                       "osType": "Linux", "mode": "System"}],
                "identityProfile": {"kubeletidentity": {"resourceId": uami, "objectId": principal,
                                                        "clientId": client}},
                "networkProfile": {"outboundType": "userAssignedNATGateway" if i < N_AKS_NAT
                                   else "loadBalancer"},
            },
        })
        nodes = tuple(str(net.network_address + 4 + n) for n in range(rng.randrange(3, 30)))
        images = _images(rng, repos, rng.randrange(3, 8))
        ua = "containerd/1.7.22+azure-1"
        aks_private.append(Caller(nodes, principal, images, ua))
        if i < N_AKS_NAT:
            nat = rid("Microsoft.Network/natGateways", f"nat-aks-{i:03d}")
            pip = rid("Microsoft.Network/publicIPAddresses", f"pip-nat-aks-{i:03d}")
            w.resources.append({
                "id": pip, "name": f"pip-nat-aks-{i:03d}",
                "type": "Microsoft.Network/publicIPAddresses", "location": LOCATION,
                "properties": {"ipAddress": nat_ips[i], "natGateway": {"id": nat},
                               "publicIPAllocationMethod": "Static"},
            })
            w.resources.append({
                "id": nat, "name": f"nat-aks-{i:03d}", "type": "Microsoft.Network/natGateways",
                "location": LOCATION,
                "properties": {"publicIpAddresses": [{"id": pip}], "subnets": [{"id": sid}]},
            })
            aks_nat.append(Caller((nat_ips[i],), principal, _images(rng, repos, 3), ua))

    aci: list[Caller] = []
    for i, (sid, net) in enumerate(subnets["aci"]):
        principal, client = _guid(rng), _guid(rng)
        uami = _identity(w, f"id-aci-{i:03d}", principal, client)
        name = f"aci-{i:03d}"
        image = _images(rng, repos, 2)
        w.resources.append({
            "id": rid("Microsoft.ContainerInstance/containerGroups", name), "name": name,
            "type": "Microsoft.ContainerInstance/containerGroups", "location": LOCATION,
            "identity": {"type": "UserAssigned", "userAssignedIdentities": {
                uami: {"principalId": principal, "clientId": client}}},
            "properties": {
                "osType": "Linux",
                "containers": [{"name": name, "properties": {
                    "image": f"contosoprod.azurecr.io/{image[0][0]}:{image[0][1]}",
                    "resources": {"requests": {"cpu": 1, "memoryInGB": 2}}}}],
                "imageRegistryCredentials": [{"server": "contosoprod.azurecr.io",
                                              "identity": uami}],
                "subnetIds": [{"id": sid}],
                "ipAddress": {"type": "Private", "ip": str(net.network_address + 4),
                              "ports": [{"port": 80}]},
            },
        })
        # every restart of a container group pulls from another Microsoft address
        ips = tuple(tags.address_in("AzureCloud.westeurope", rng) for _ in range(60))
        aci.append(Caller(ips, principal, image, "azure-container-instances/1.0", port=True))

    aca: list[Caller] = []
    for i, (sid, net) in enumerate(subnets["aca"]):
        env = rid("Microsoft.App/managedEnvironments", f"env-{i:03d}")
        w.resources.append({
            "id": env, "name": f"env-{i:03d}", "type": "Microsoft.App/managedEnvironments",
            "location": LOCATION,
            "properties": {"vnetConfiguration": {"infrastructureSubnetId": sid,
                                                 "internal": True}},
        })
        principal, client = _guid(rng), _guid(rng)
        uami = _identity(w, f"id-aca-{i:03d}", principal, client)
        image = _images(rng, repos, 3)
        w.resources.append({
            "id": rid("Microsoft.App/containerApps", f"app-{i:03d}"), "name": f"app-{i:03d}",
            "type": "Microsoft.App/containerApps", "location": LOCATION,
            "identity": {"type": "UserAssigned", "userAssignedIdentities": {
                uami: {"principalId": principal, "clientId": client}}},
            "properties": {
                "managedEnvironmentId": env,
                "configuration": {"registries": [{"server": "contosoprod.azurecr.io",
                                                  "identity": uami}]},
                "template": {"containers": [{"name": "main",
                                             "image": f"contosoprod.azurecr.io/{image[0][0]}"}]},
            },
        })
        ips = tuple(str(net.network_address + rng.randrange(4, 500)) for _ in range(10))
        aca.append(Caller(ips, principal, image, "containerd/1.7.20-1"))

    web: list[Caller] = []
    for i, (sid, net) in enumerate(subnets["web"]):
        principal = _guid(rng)
        image = _images(rng, repos, 2)
        w.resources.append({
            "id": rid("Microsoft.Web/sites", f"web-{i:03d}"), "name": f"web-{i:03d}",
            "type": "Microsoft.Web/sites", "kind": "app,linux,container", "location": LOCATION,
            "identity": {"type": "SystemAssigned", "principalId": principal, "tenantId": TENANT},
            "properties": {
                "virtualNetworkSubnetId": sid, "vnetImagePullEnabled": True,
                "siteConfig": {"linuxFxVersion":
                               f"DOCKER|contosoprod.azurecr.io/{image[0][0]}:{image[0][1]}",
                               "acrUseManagedIdentityCreds": True},
            },
        })
        ips = tuple(str(net.network_address + rng.randrange(4, 60)) for _ in range(5))
        web.append(Caller(ips, principal, image, "docker/24.0.9 go/go1.21 os/linux"))

    # ---- callers without a consumer in the inventory
    tasks = [Caller(tuple(tags.address_in("AzureContainerRegistry.WestEurope", rng)
                          for _ in range(40)), "", _images(rng, repos, 6),
                    "acr-builder/1.0 buildkit/0.12")]
    onprem = [Caller(tuple(f"172.{rng.randrange(16, 32)}.{rng.randrange(256)}."
                           f"{rng.randrange(1, 255)}" for _ in range(8)),
                     f"dev{i:03d}@contoso.example", _images(rng, repos, 4),
                     "docker/27.3.1 go/go1.22.7 os/linux") for i in range(25)]
    offices = [Caller((ip,), f"ops{i:03d}@contoso.example", _images(rng, repos, 3),
                      "docker/27.3.1 go/go1.22.7 os/windows") for i, ip in enumerate(office_ips)]
    strangers = [Caller(tuple(tags.internet_address(rng) for _ in range(10)),
                        f"user{i:04d}@example.net", _images(rng, repos, 2),
                        "docker/26.1.0 go/go1.21 os/linux") for i in range(150)]
    public_users = [Caller(tuple(tags.internet_address(rng) for _ in range(8)),
                           f"dev{i:04d}@partner.example", _images(rng, repos, 3),
                           "docker/27.0.3 go/go1.21 os/darwin") for i in range(250)]
    ipv6 = [Caller(tuple(f"2a02:{rng.randrange(0x1000, 0xffff):x}:{rng.randrange(0xffff):x}::"
                         f"{rng.randrange(1, 0xffff):x}" for _ in range(4)),
                   f"v6user{i:03d}@example.org", _images(rng, repos, 2), "podman/5.0.2")
            for i in range(25)]
    broken = [Caller(("", "<nil>", "unknown", "10.1.4.7:99999"), "", _images(rng, repos, 2),
                     "curl/8.5.0")]

    # a few deployments keep asking for a tag that was deleted (404), a few open-registry
    # users have expired credentials (401): errors concentrate on some clients, as in life
    aks_private = _with_missing(aks_private, 8)
    aca = _with_missing(aca, 5)
    public_users = [replace(c, unauthorised=True) if i % 10 == 3 else c
                    for i, c in enumerate(public_users)]

    w.profiles = [
        Profile("aks-private", 52.0, "contosoprod", tuple(aks_private)),
        Profile("aks-nat", 8.0, "contosoedge", tuple(aks_nat)),
        Profile("aci", 10.0, "contosoprod", tuple(aci), login_share=0.5),
        Profile("aca", 6.0, "contosoprod", tuple(aca)),
        Profile("appservice", 4.0, "contosoprod", tuple(web)),
        Profile("acr-tasks", 2.0, "contosoprod", tuple(tasks), login_share=0.1,
                operations=("Pull", "Push", "Push", "Untag")),
        Profile("on-premises", 2.5, "contosoprod", tuple(onprem)),
        Profile("office", 3.0, "contosoedge", tuple(offices),
                operations=("Pull", "Pull", "Push", "Delete")),
        Profile("internet-refused", 3.5, "contosoprod", tuple(strangers), login_share=0.7,
                outcome="firewall"),
        Profile("public-users", 8.0, "contosopublic", tuple(public_users), outcome="unauthorised"),
        Profile("ipv6", 0.4, "contosopublic", tuple(ipv6)),
        Profile("unusable-ip", 0.05, "contosoprod", tuple(broken)),
    ]
    return w


def _with_missing(callers: list[Caller], every: int) -> list[Caller]:
    return [replace(c, missing=(c.images[0][0], f"{c.images[0][1]}-deleted"))
            if i % every == 0 else c for i, c in enumerate(callers)]


def _registry(w: World, name: str, *, public: str, action: str, pe_subnet: str = "",
              ip_rules: list[str] | None = None, sku: str = "Premium") -> str:
    reg = rid("Microsoft.ContainerRegistry/registries", name)
    pecs = []
    if pe_subnet:
        pe = rid("Microsoft.Network/privateEndpoints", f"pe-{name}")
        pecs.append({"id": f"{reg}/privateEndpointConnections/pe-{name}.1",
                     "properties": {"privateEndpoint": {"id": pe},
                                    "privateLinkServiceConnectionState": {"status": "Approved"}}})
        w.resources.append({
            "id": pe, "name": f"pe-{name}", "type": "Microsoft.Network/privateEndpoints",
            "location": LOCATION,
            "properties": {
                "subnet": {"id": pe_subnet},
                "privateLinkServiceConnections": [{"name": name, "properties": {
                    "privateLinkServiceId": reg, "groupIds": ["registry"],
                    "privateLinkServiceConnectionState": {"status": "Approved"}}}],
                "customDnsConfigs": [{"fqdn": f"{name}.azurecr.io", "ipAddresses": ["10.5.0.4"]}],
            },
        })
    w.resources.append({
        "id": reg, "name": name, "type": "Microsoft.ContainerRegistry/registries",
        "location": LOCATION, "sku": {"name": sku, "tier": sku},
        "properties": {
            "loginServer": f"{name}.azurecr.io", "adminUserEnabled": False,
            "publicNetworkAccess": public,
            "networkRuleSet": {"defaultAction": action,
                               "ipRules": [{"action": "Allow", "value": r}
                                           for r in (ip_rules or [])]},
            "networkRuleBypassOptions": "AzureServices",
            "privateEndpointConnections": pecs, "dataEndpointEnabled": False,
        },
    })
    return reg.upper()


def _identity(w: World, name: str, principal: str, client: str) -> str:
    iid = rid("Microsoft.ManagedIdentity/userAssignedIdentities", name)
    w.resources.append({
        "id": iid, "name": name, "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
        "location": LOCATION, "properties": {"principalId": principal, "clientId": client,
                                             "tenantId": TENANT},
    })
    return iid


# --------------------------------------------------------------------------- records


def _record(rng: random.Random, registry_id: str, login_server: str, profile: Profile,
            caller: Caller, when: str) -> dict[str, Any]:
    ip = rng.choice(caller.ips)
    if caller.port and ip:
        ip = f"{ip}:{rng.randrange(32768, 61000)}"
    login = rng.random() < profile.login_share
    status = "200"
    description = ""
    repo, tag = rng.choice(caller.images)
    if profile.outcome == "firewall":
        status = "403"
        description = FIREWALL_MESSAGE.format(ip=ip.rsplit(":", 1)[0] if caller.port else ip)
    elif caller.unauthorised:
        status = "401"
    elif not login and caller.missing is not None and rng.random() < 0.2:
        repo, tag = caller.missing
        status = "404"
    correlation = f"{rng.getrandbits(128):032x}"
    correlation = (f"{correlation[:8]}-{correlation[8:12]}-{correlation[12:16]}-"
                   f"{correlation[16:20]}-{correlation[20:]}")
    if login:
        return {
            "time": when, "category": LOGIN, "resourceId": registry_id,
            "operationName": "Login", "identity": caller.identity, "location": LOCATION,
            "resultType": "HttpStatusCode", "resultDescription": description or status,
            "durationMs": f"{rng.uniform(5, 90):.6f}", "callerIpAddress": ip,
            "correlationId": correlation,
            "properties": {"loginServer": login_server, "userAgent": caller.user_agent,
                           "tenantId": TENANT, "jwtId": correlation[::-1]},
        }
    operation = rng.choice(profile.operations)
    digest = f"sha256:{rng.getrandbits(256):064x}" if operation != "Login" else "<nil>"
    return {
        "time": when, "category": REPOSITORY, "resourceId": registry_id,
        "operationName": operation, "identity": caller.identity, "location": LOCATION,
        "resultType": "HttpStatusCode", "resultDescription": description or status,
        "durationMs": f"{rng.uniform(5, 400):.6f}", "callerIpAddress": ip,
        "correlationId": correlation,
        "properties": {"tag": tag, "digest": digest, "mediaType": MEDIA_TYPE,
                       "repository": repo, "artifactType": "acr.docker", "tenantId": TENANT,
                       "loginServer": login_server, "userAgent": caller.user_agent},
        "RegionStamp": "weu-3",
    }


DAMAGE_KINDS = ("truncated", "garbage", "not-an-object", "other-category", "no-operation",
                "bad-time", "blank")


def _damaged(kind: str, good: bytes) -> bytes:
    if kind == "truncated":
        return good[: len(good) // 2]
    if kind == "garbage":
        return b"<html><body>502 Bad Gateway</body></html>"
    if kind == "not-an-object":
        return b'["not", "a", "record"]'
    doc = orjson.loads(good)
    if kind == "other-category":
        doc["category"] = "ContainerRegistryAuditEvents"
    elif kind == "no-operation":
        doc["operationName"] = ""
    elif kind == "bad-time":
        doc["time"] = "2025-13-45T25:61:00.0000000Z"
    else:
        return b""
    return orjson.dumps(doc)


@dataclass
class Dataset:
    root: Path
    logs: Path
    inventory: Path
    events: int
    files: int
    bytes: int
    lines: int


def _archive_path(logs: Path, category: str, registry_id: str, hour: datetime) -> Path:
    return (logs / f"insights-logs-{category.lower()}" / f"resourceId={registry_id}"
            / f"y={hour:%Y}" / f"m={hour:%m}" / f"d={hour:%d}" / f"h={hour:%H}" / "m=00"
            / "PT1H.json")


def generate(out: Path, events: int, *, seed: int = 7, quirks: bool = False,
             damage_every: int = 25_000, gzip_every: int = 3,
             events_per_hour: int = EVENTS_PER_HOUR,
             log: Callable[[str], None] | None = None) -> Dataset:
    """Write ``events`` registry events (plus damaged lines) and the inventory under ``out``."""
    tags = TagRanges.load()
    world = build_world(seed, tags)
    rng = random.Random(seed * 7919 + events)
    logs = out / "logs"
    inv_dir = out / "inventory"
    inv_dir.mkdir(parents=True, exist_ok=True)
    (inv_dir / "resources.json").write_bytes(orjson.dumps({"value": world.resources}))

    weights = [p.weight for p in world.profiles]
    cumulative = [sum(weights[: i + 1]) for i in range(len(weights))]
    total_weight = cumulative[-1]
    hours = max(2, -(-events // events_per_hour))
    written = files = size = lines = 0
    damage_kinds = iter(_cycle(DAMAGE_KINDS, rng))
    next_damage = min(damage_every, max(50, events // 20))
    for h in range(hours):
        hour = START + timedelta(hours=h)
        n = events // hours + (1 if h < events % hours else 0)
        offsets = sorted(rng.randrange(3600 * 10_000_000) for _ in range(n))
        buckets: dict[tuple[str, str], list[bytes]] = {}
        prefix = hour.strftime("%Y-%m-%dT%H:")
        for off in offsets:
            seconds, frac = divmod(off, 10_000_000)
            when = f"{prefix}{seconds // 60:02d}:{seconds % 60:02d}.{frac:07d}Z"
            profile = world.profiles[bisect.bisect_right(cumulative, rng.random() * total_weight)]
            caller = rng.choice(profile.callers)
            reg_name = profile.registry
            rec = _record(rng, world.registries[reg_name], f"{reg_name}.azurecr.io", profile,
                          caller, when)
            if quirks:
                rec = _quirk(rng, rec)
            bucket = buckets.setdefault((rec.get("category", LOGIN), reg_name), [])
            line = orjson.dumps(rec)
            bucket.append(line)
            written += 1
            if written >= next_damage and len(bucket) > 1:
                bucket.append(_damaged(next(damage_kinds), line))
                next_damage += damage_every
        for (category, reg_name), bucket_lines in sorted(buckets.items()):
            path = _archive_path(logs, category, world.registries[reg_name], hour)
            path.parent.mkdir(parents=True, exist_ok=True)
            body = b"\n".join(bucket_lines) + b"\n"
            if quirks and files % 7 == 5:
                body = body[:-1][: len(body) - 40]  # the last line cut short, no newline
            if files % gzip_every == gzip_every - 1:
                path = path.with_name("PT1H.json.gz")
                body = gzip.compress(body, compresslevel=6, mtime=0)
            path.write_bytes(body)
            files += 1
            size += len(body)
            lines += len(bucket_lines)
        if log is not None:
            log(f"hour {h + 1}/{hours}: {written:,} events")
    if quirks:
        files += _quirk_files(logs, world, rng)
    manifest = {"generator": GENERATOR_VERSION, "seed": seed, "events": events,
                "quirks": quirks, "files": files, "bytes_on_disk": size, "lines": lines,
                "hours": hours, "inventory_resources": len(world.resources),
                "subnets": N_VNETS * SUBNETS_PER_VNET,
                "consumers": N_AKS + N_ACI + N_ACA + N_WEB}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return Dataset(out, logs, inv_dir / "resources.json", events, files, size, lines)


def _cycle(items: tuple[str, ...], rng: random.Random) -> Iterator[str]:
    while True:
        order = list(items)
        rng.shuffle(order)
        yield from order


def _quirk(rng: random.Random, rec: dict[str, Any]) -> dict[str, Any]:
    """Rarer but legal shapes, for the equivalence test."""
    roll = rng.random()
    if roll < 0.01:  # Log Analytics export style, PascalCase columns, no properties bag
        props = rec.pop("properties")
        out = {"TimeGenerated": rec["time"].replace("0Z", "Z"), "Type": rec["category"],
               "OperationName": rec["operationName"], "CallerIpAddress": rec["callerIpAddress"],
               "Identity": rec["identity"], "ResultType": rec["resultType"],
               "ResultDescription": rec["resultDescription"], "_ResourceId": rec["resourceId"],
               "LoginServer": props.get("loginServer", ""),
               "Repository": props.get("repository", ""),
               "Tag": props.get("tag", ""), "CorrelationId": rec["correlationId"]}
        return out
    if roll < 0.02:  # other time precisions
        t = rec["time"]
        rec["time"] = rng.choice((t[:23] + "Z", t[:19] + "Z", t[:26] + "+00:00",
                                  t[:19].replace("T", " "), t[:19] + "+09:00"))
    elif roll < 0.025:  # values that are not strings, placeholders, odd spacing and case
        rec["resultDescription"] = int(rec["resultDescription"]) if rec[
            "resultDescription"].isdigit() else rec["resultDescription"]
        rec["identity"] = rng.choice(("<nil>", None, " " + rec["identity"] + " "))
        rec["operationName"] = rng.choice((" Pull", rec["operationName"].lower()))
        props = rec.get("properties")
        if isinstance(props, dict):
            props["loginServer"] = props["loginServer"].upper()
    elif roll < 0.03:  # a second time key, and properties that repeat top-level fields
        rec["TimeGenerated"] = rec["time"]
        props = rec.get("properties")
        if isinstance(props, dict):
            props["callerIpAddress"] = "192.0.2.1"
            props["operationName"] = "Push"
        rec["identity"] = ""
        if isinstance(props, dict):
            props["identity"] = "from-properties@example.com"
    elif roll < 0.033:
        rec["properties"] = json.dumps(rec["properties"])  # a bag that is a string
    elif roll < 0.036:
        rec["callerIpAddress"] = rng.choice((
            "[2001:db8::5]:443", "::ffff:20.50.2.3", " 10.1.0.9 ", "10.1.0.9:0", ":443",
            "1.2.3.4:", "fe80::1%eth0", "not-an-ip:80", "127.0.0.1:5000", "169.254.10.1:80",
            "0.0.0.0:443", "[::1]:443"))
    elif roll < 0.04:
        rec["durationMs"] = {"nested": [1, 2, {"x": None}]}
    return rec


def _quirk_files(logs: Path, world: World, rng: random.Random) -> int:
    """A records wrapper, a CSV export, an empty file and a hidden file."""
    reg = world.registries["contosoprod"]
    profile = world.profiles[0]
    recs = [_record(rng, reg, "contosoprod.azurecr.io", profile, rng.choice(profile.callers),
                    f"2025-10-19T23:{m:02d}:00.0000000Z") for m in range(30)]
    other = logs / "exports"
    other.mkdir(parents=True, exist_ok=True)
    (other / "older-wrapper.json").write_bytes(orjson.dumps({"records": recs}))
    buf = io.StringIO()
    writer = csv.writer(buf)
    cols = ["TimeGenerated [UTC]", "OperationName", "CallerIpAddress", "Identity", "Repository",
            "Tag", "LoginServer", "ResultType", "ResultDescription", "_ResourceId", "Type"]
    writer.writerow(cols)
    for r in recs[:20]:
        p = r["properties"]
        writer.writerow([r["time"], r["operationName"], r["callerIpAddress"], r["identity"],
                         p.get("repository", ""), p.get("tag", ""), p["loginServer"],
                         r["resultDescription"], "", r["resourceId"], r["category"]])
    writer.writerow(["x", "y"])  # malformed row
    (other / "export.csv").write_text(buf.getvalue())
    (other / "empty.json").write_bytes(b"")
    (other / ".hidden.json").write_bytes(orjson.dumps(recs[0]) + b"\n")
    gz = other / "records.json.gz"
    gz.write_bytes(gzip.compress(orjson.dumps({"records": recs[:5]}), mtime=0))
    return 4


def dataset_dir(events: int, base: Path = DATA_DIR) -> Path:
    return base / f"events-{events}"


def ensure_dataset(events: int, *, seed: int = 7, base: Path = DATA_DIR,
                   log: Callable[[str], None] | None = None) -> Dataset:
    """The dataset for ``events`` under ``base``, generated unless an identical one exists."""
    out = dataset_dir(events, base)
    manifest = out / "manifest.json"
    if manifest.exists():
        meta = json.loads(manifest.read_text())
        if (meta.get("generator") == GENERATOR_VERSION and meta.get("seed") == seed
                and meta.get("events") == events):
            return Dataset(out, out / "logs", out / "inventory" / "resources.json", events,
                           meta["files"], meta["bytes_on_disk"], meta["lines"])
    if out.exists():
        import shutil

        shutil.rmtree(out)
    tmp = out.with_name(out.name + ".partial")
    if tmp.exists():
        import shutil

        shutil.rmtree(tmp)
    data = generate(tmp, events, seed=seed, log=log)
    tmp.rename(out)
    return Dataset(out, out / "logs", out / "inventory" / "resources.json", events, data.files,
                   data.bytes, data.lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, action="append",
                        help="events to generate (repeatable; default 100000, 1000000, 5000000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=DATA_DIR)
    args = parser.parse_args(argv)
    for n in args.events or [100_000, 1_000_000, 5_000_000]:
        start = time.monotonic()
        data = ensure_dataset(n, seed=args.seed, base=args.out,
                              log=lambda m: print(f"  {m}", end="\r", file=sys.stderr))
        print(f"{data.root}: {n:,} events, {data.files} files, {data.bytes / 1e6:,.0f} MB on "
              f"disk ({time.monotonic() - start:.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
