"""Scenarios for the HTML and Markdown report tests, built from domain objects.

``big_scenario()``: 50 consumers (ACI, ACA, AKS, App Service) across 4 VNets and 9 subnets plus
a few outside any VNet, two inventoried registries (one restricted with two private endpoints, an
IP rule and trusted services; one open to all networks) and one registry missing from the
inventory, with every path: private-endpoint, trusted-service, firewall-rule, public, denied and
unknown, unattributed callers inside a subnet and on the internet, and disagreements with the
expected path. Events go through the real classifier and flow builder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pullpath.adapters.servicetags_files import load_service_tags
from pullpath.core.audit import build_flows
from pullpath.core.classify import Classifier
from pullpath.core.groups import Aggregator
from pullpath.core.network import network_view
from pullpath.core.servicetags import TagIndex
from pullpath.domain.events import PullEvent, ReadStats, Table
from pullpath.domain.inventory import (
    Consumer,
    ConsumerKind,
    Inventory,
    NatGateway,
    PrivateEndpoint,
    PrivateEndpointConnection,
    PublicIp,
    Registry,
    Subnet,
    VirtualNetwork,
)
from pullpath.domain.report import AuditReport
from pullpath.domain.verdicts import Expectation, Flow, InventoryInfo
from pullpath.domain.verdicts import Path as NetPath
from pullpath.formatters.sections import network_doc
from pullpath.workflows.audit import tags_info

SUB = "/subscriptions/00000000-0000-0000-0000-000000000050/resourcegroups/rg-big/providers"
T0 = datetime(2024, 11, 25, 8, 0, tzinfo=UTC)

_TAGS: TagIndex | None = None


def tags() -> TagIndex:
    global _TAGS
    if _TAGS is None:
        _TAGS = load_service_tags(None)
    return _TAGS


def vnet_id(name: str) -> str:
    return f"{SUB}/microsoft.network/virtualnetworks/{name}"


def subnet_id(vnet: str, name: str) -> str:
    return f"{vnet_id(vnet)}/subnets/{name}"


KIND_TYPES = {
    ConsumerKind.ACI: "microsoft.containerinstance/containergroups",
    ConsumerKind.ACA: "microsoft.app/containerapps",
    ConsumerKind.AKS: "microsoft.containerservice/managedclusters",
    ConsumerKind.APP_SERVICE: "microsoft.web/sites",
}


@dataclass
class Scenario:
    inventory: Inventory
    report: AuditReport
    network: dict[str, Any]
    consumers: int


def _registry(name: str, *, pna: str, action: str, rules: tuple[str, ...], bypass: str,
              pes: tuple[str, ...]) -> Registry:
    rid = f"{SUB}/microsoft.containerregistry/registries/{name}"
    return Registry(
        id=rid, name=name, location="japaneast", login_server=f"{name}.azurecr.io",
        sku="Premium", public_network_access=pna, default_action=action, ip_rules=rules,
        bypass=bypass, bypass_for_tasks=None,
        private_endpoint_connections=tuple(
            PrivateEndpointConnection(f"{rid}/privateendpointconnections/{pe.rsplit('/', 1)[-1]}",
                                      pe, "Approved") for pe in pes),
        data_endpoint_enabled=False, admin_user_enabled=False,
    )


def big_scenario() -> Scenario:
    inv = Inventory()
    aci = "Microsoft.ContainerInstance/containerGroups"
    layout = {
        "vnet-prod-east": [("snet-aci", "10.1.1.0/24", aci),
                           ("snet-aca", "10.1.2.0/23", "Microsoft.App/environments"),
                           ("snet-pe", "10.1.9.0/24", "")],
        "vnet-prod-west": [("snet-aks", "10.2.0.0/20", ""),
                           ("snet-web", "10.2.16.0/24", "Microsoft.Web/serverFarms")],
        "vnet-dev": [("snet-aci-dev", "10.3.1.0/24", aci),
                     ("snet-aks-dev", "10.3.16.0/20", ""),
                     ("snet-jump", "10.3.200.0/24", "")],
        "vnet-shared": [("snet-pe-shared", "10.4.9.0/24", "")],
    }
    prefixes: dict[str, str] = {}
    for vnet, subnets in layout.items():
        sids = []
        for name, prefix, deleg in subnets:
            sid = subnet_id(vnet, name)
            sids.append(sid)
            prefixes[sid] = prefix
            inv.subnets[sid] = Subnet(sid, name, vnet_id(vnet), (prefix,),
                                      (deleg,) if deleg else (), location="japaneast")
        first = subnets[0][1].split(".")
        inv.vnets[vnet_id(vnet)] = VirtualNetwork(vnet_id(vnet), vnet, "japaneast",
                                                  (f"{first[0]}.{first[1]}.0.0/16",), tuple(sids))
    pe_east = f"{SUB}/microsoft.network/privateendpoints/pe-big-east"
    pe_shared = f"{SUB}/microsoft.network/privateendpoints/pe-big-shared"
    big = _registry("bigacr", pna="Enabled", action="Deny", rules=("198.51.100.0/28",),
                    bypass="AzureServices", pes=(pe_east, pe_shared))
    opened = _registry("openacr", pna="Enabled", action="Allow", rules=(), bypass="AzureServices",
                       pes=())
    inv.registries[big.id] = big
    inv.registries[opened.id] = opened
    for pe, sid, ip in ((pe_east, subnet_id("vnet-prod-east", "snet-pe"), "10.1.9.4"),
                        (pe_shared, subnet_id("vnet-shared", "snet-pe-shared"), "10.4.9.4")):
        inv.private_endpoints[pe] = PrivateEndpoint(
            pe, pe.rsplit("/", 1)[-1], "japaneast", sid, (big.id,), ("Approved",), ("registry",),
            (), (ip,))
    nat = f"{SUB}/microsoft.network/natgateways/nat-aks"
    pip = f"{SUB}/microsoft.network/publicipaddresses/pip-nat-aks"
    inv.public_ips[pip] = PublicIp(pip, "pip-nat-aks", "198.51.100.5", nat)
    inv.nat_gateways[nat] = NatGateway(nat, "nat-aks", (pip,), (),
                                       (subnet_id("vnet-dev", "snet-aks-dev"),))

    events: list[PullEvent] = []
    expectations: dict[str, NetPath] = {}
    n = 0

    def consumer(kind: ConsumerKind, name: str, sid: str = "", *, public_ip: str = "") -> Consumer:
        nonlocal n
        n += 1
        principal = f"00000000-0000-4000-8000-{n:012d}"
        cid = f"{SUB}/{KIND_TYPES[kind]}/{name}"
        c = Consumer(kind, cid, name, "japaneast", subnet_ids=(sid,) if sid else (),
                     principal_ids=(principal,), public_ips=(public_ip,) if public_ip else ())
        inv.consumers[cid] = c
        return c

    def pull(c: Consumer | None, ip: str, registry: Registry | str, *, count: int,
             result: str = "200", desc: str = "", repo: str = "app", identity: str = "") -> None:
        login = registry.login_server if isinstance(registry, Registry) else registry
        rid = registry.id if isinstance(registry, Registry) else ""
        who = identity or (c.principal_ids[0] if c is not None else "")
        for k in range(count):
            events.append(PullEvent(
                time=T0 + timedelta(minutes=len(events)), table=Table.REPOSITORY,
                operation="Pull", caller_ip=ip, identity=who, repository=repo,
                tag=f"1.{k % 3}", digest="", login_server=login, user_agent="containerd/1.7",
                result=result, result_description=desc or result,
                correlation_id=f"c-{len(events)}", resource_id=rid,
            ))

    def host(sid: str, k: int) -> str:
        base = prefixes[sid].split("/")[0].rsplit(".", 1)[0]
        return f"{base}.{10 + k}"

    # vnet-prod-east: 10 ACI pull by the trusted-service bypass (expected: private endpoint),
    # 8 ACA pull through the private endpoint
    for k in range(10):
        sid = subnet_id("vnet-prod-east", "snet-aci")
        c = consumer(ConsumerKind.ACI, f"aci-orders-{k:02d}", sid)
        pull(c, f"4.189.68.{200 + k}:{40000 + k}", big, count=1 + k % 4)
        expectations[c.id] = NetPath.PRIVATE_ENDPOINT
    for k in range(8):
        sid = subnet_id("vnet-prod-east", "snet-aca")
        c = consumer(ConsumerKind.ACA, f"ca-web-{k:02d}", sid)
        pull(c, host(sid, k), big, count=2 + k)
        expectations[c.id] = NetPath.PRIVATE_ENDPOINT
    # vnet-prod-west: 8 AKS clusters through the private endpoint, 6 web apps public to openacr
    for k in range(8):
        sid = subnet_id("vnet-prod-west", "snet-aks")
        c = consumer(ConsumerKind.AKS, f"aks-prod-{k:02d}", sid)
        pull(c, host(sid, k), big, count=5 + 3 * k)
        expectations[c.id] = NetPath.PRIVATE_ENDPOINT
    for k in range(6):
        sid = subnet_id("vnet-prod-west", "snet-web")
        c = consumer(ConsumerKind.APP_SERVICE, f"app-web-{k:02d}", sid,
                     public_ip=f"20.43.64.{10 + k}")
        pull(c, f"20.43.64.{10 + k}", opened, count=1 + k)
    # vnet-dev: 6 ACI (3 trusted, 3 refused: authorisation), 6 AKS behind a NAT gateway whose
    # public IP is an IP rule (firewall-rule), one unknown registry
    for k in range(6):
        c = consumer(ConsumerKind.ACI, f"aci-dev-{k:02d}", subnet_id("vnet-dev", "snet-aci-dev"))
        if k < 3:
            pull(c, f"4.189.69.{10 + k}", big, count=2)
        else:
            pull(c, f"4.189.69.{10 + k}", big, count=1, result="401")
    for k in range(6):
        c = consumer(ConsumerKind.AKS, f"aks-dev-{k:02d}", subnet_id("vnet-dev", "snet-aks-dev"))
        pull(c, "198.51.100.5", big, count=3 + k)
        expectations[c.id] = NetPath.FIREWALL_RULE
        if k == 0:
            pull(c, "198.51.100.5", "ghostacr.azurecr.io", count=4)
    # an unattributed caller in the jump subnet, through the private endpoint
    pull(None, host(subnet_id("vnet-dev", "snet-jump"), 0), big, count=7, identity="admin@x")
    # 6 consumers outside any VNet: ACI pulling by the bypass, web apps from openacr
    for k in range(3):
        c = consumer(ConsumerKind.ACI, f"aci-novnet-{k:02d}")
        pull(c, f"4.189.70.{10 + k}", big, count=1)
    for k in range(3):
        c = consumer(ConsumerKind.APP_SERVICE, f"app-novnet-{k:02d}", public_ip=f"20.43.65.{k + 1}")
        pull(c, f"20.43.65.{k + 1}", opened, count=2)
    # the internet, refused by the firewall
    for k in range(3):
        ip = f"203.0.113.{50 + k}"
        pull(None, ip, big, count=2, result="403", identity="alex@contoso.example",
             desc=f"denied: client with IP '{ip}' is not allowed access. "
                  "Refer https://aka.ms/acr/firewall to grant access.")
    assert n == 50, n

    stats = ReadStats()
    stats.count_read("generated-50-consumers.json", len(events))
    aggregator = Aggregator().add_all(events)

    def expect(flow: Flow) -> Expectation | None:
        want = expectations.get(flow.consumer.id)
        if want is None or flow.path is NetPath.DENIED or flow.path is NetPath.UNKNOWN:
            return None
        return Expectation(want, "test-rule", flow.path is want)

    result = build_flows(Classifier(inv, tags()), aggregator, stats, expect=expect)
    report = AuditReport(
        result=result, tags=tags_info(tags()),
        inventory=InventoryInfo(resources=60, registries=2, consumers=50, subnets=9),
        log_sources=("generated in tests/support/report_scenarios.py",),
    )
    return Scenario(inv, report, network_doc(network_view(inv)), n)


HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "it's a \"quoted\" `tick` | pipe [link](javascript:alert(1)) *star* _u_ #h",
    "--> end\nsubgraph x[\"boom\"]\n",
    "]]></svg><svg onload=alert(1)>",
    "&lt;b&gt; {{ 7*7 }} ${7*7} @everyone",
]


def hostile_log_lines() -> list[str]:
    """Diagnostic-archive records (JSON lines) whose repository, tag, identity and user agent
    carry markup and Markdown/Mermaid-breaking text, pulled against the demo registry."""
    import json

    rid = ("/SUBSCRIPTIONS/11111111-2222-3333-4444-555555555555/RESOURCEGROUPS/RG-PULLPATH-DEMO/"
           "PROVIDERS/MICROSOFT.CONTAINERREGISTRY/REGISTRIES/CONTOSOACR")
    lines: list[str] = []
    ips = ["10.0.2.68", "4.189.68.203", "203.0.113.50", "198.18.0.1", "not-an-ip<script>"]
    for k, text in enumerate(HOSTILE):
        for j, ip in enumerate(ips):
            rec = {
                "time": f"2024-11-25T10:{k:02d}:{j:02d}.0000000Z",
                "category": "ContainerRegistryRepositoryEvents",
                "resourceId": rid,
                "operationName": "Pull",
                "identity": text,
                "location": "japaneast",
                "resultType": "HttpStatusCode",
                "resultDescription": "403" if ip.startswith("203.") else "200",
                "callerIpAddress": ip,
                "correlationId": f"hostile-{k}-{j}",
                "properties": {
                    "loginServer": "contosoacr.azurecr.io",
                    "repository": f"repo{k}/{text}",
                    "tag": text,
                    "digest": "sha256:" + "0" * 64,
                    "userAgent": text,
                },
            }
            lines.append(json.dumps(rec))
    # a registry whose login server itself is hostile (a forged archive)
    rec["properties"]["loginServer"] = '"><script>alert(2)</script>|`x`.azurecr.io'
    rec["correlationId"] = "hostile-registry"
    lines.append(json.dumps(rec))
    return lines
