"""The diagram's typed steps, tested directly: the network section read as typed values
(``report_view.read_network``), the rows the diagram draws (``report_view.diagram_input``), the
frozen graph (``diagram.model``) and the pure layout (``diagram.layout``)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from pullpath.formatters.diagram import MAX_PER_SUBNET, build_diagram, build_graph, layout
from pullpath.formatters.report_view import build_view, diagram_input, read_network

SUB = "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/virtualNetworks/v/subnets/a"
VNET = SUB.split("/subnets/")[0]
REG = "/subscriptions/s/resourceGroups/r/providers/Microsoft.ContainerRegistry/registries/reg"
PE = "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/privateEndpoints/pe-a"

NETWORK: dict[str, Any] = {
    "registries": [{
        "id": REG, "name": "reg", "login_server": "reg.azurecr.io", "sku": "Premium",
        "public_network_access": "Disabled", "default_action": "Deny", "bypass": "AzureServices",
        "ip_rules": ["203.0.113.0/24"],
        "private_endpoints": [{"id": PE, "name": "pe-a", "subnet_id": SUB, "vnet_id": VNET,
                               "status": "Approved", "private_ips": ["10.0.0.5"]}],
    }],
    "vnets": [{"id": VNET, "name": "v", "address_prefixes": ["10.0.0.0/16"]}],
    "subnets": [{"id": SUB, "name": "a", "vnet_id": VNET, "prefixes": ["10.0.0.0/24"],
                 "delegations": []}],
    "consumers": [{"id": "/subscriptions/s/x/aks-1", "kind": "aks", "name": "aks-1",
                   "subnet_ids": [SUB.lower()]}],
}


def flow(consumer: str, path: str, count: int, **source: Any) -> dict[str, Any]:
    return {"registry": "reg.azurecr.io", "path": path, "count": count,
            "consumer": {"kind": "aks", "id": consumer, "candidates": []},
            "source": {"kind": "subnet", "subnet_id": SUB, "vnet_id": VNET, **source}}


def test_network_section_is_read_as_typed_values_and_damage_costs_only_the_record() -> None:
    damaged = {
        "registries": [NETWORK["registries"][0], "not a record",
                       {"id": 7, "ip_rules": "not a list", "private_endpoints": [None]}],
        "vnets": "not a list",
        "subnets": NETWORK["subnets"],
    }
    net = read_network(damaged)
    assert [r.login_server for r in net.registries] == ["reg.azurecr.io", "", ""]
    assert net.registries[0].private_endpoints[0].private_ips == ("10.0.0.5",)
    assert net.registries[2].id == "7"
    assert net.registries[2].ip_rules == ()
    assert len(net.registries[2].private_endpoints) == 1  # counted, though empty
    assert net.vnets == ()
    assert net.consumers == ()
    assert net.subnets[0].prefixes == ("10.0.0.0/24",)


def test_diagram_input_reads_flows_else_pairs_else_a_lab_audit() -> None:
    audit = {"schema": "pullpath.audit/v1", "flows": [flow("/subscriptions/s/x/aks-1",
                                                             "private-endpoint", 3)],
             "pairs": [{"consumer": {"id": "c"}, "registry": {"id": REG}}]}
    inp = diagram_input(audit)
    assert [f.count for f in inp.flows] == [3]
    assert inp.pairs == ()  # pairs are drawn only when there are no flows
    assert inp.network is None
    assert diagram_input(audit, view=build_view(audit)) == inp

    explain = {"schema": "pullpath.explain/v1", "network": NETWORK,
               "pairs": [{"consumer": {"id": "c", "kind": "aci"},
                          "registry": {"id": REG, "login_server": "reg.azurecr.io"},
                          "expected_path": "trusted-service"}]}
    inp = diagram_input(explain)
    assert [(p.login_server, p.expected_path) for p in inp.pairs] == [
        ("reg.azurecr.io", "trusted-service")]
    assert inp.network is not None
    assert inp.network.registries[0].sku == "Premium"

    lab = {"schema": "pullpath.lab/v1", "audit": {"flows": audit["flows"], "network": NETWORK}}
    inp = diagram_input(lab)
    assert [f.consumer_id for f in inp.flows] == ["/subscriptions/s/x/aks-1"]
    assert inp.network is not None
    assert len(inp.network.subnets) == 1


def test_graph_is_frozen_and_sums_routes_by_consumer_registry_and_path() -> None:
    doc = {"schema": "pullpath.audit/v1", "network": NETWORK, "flows": [
        flow("/subscriptions/s/x/aks-1", "private-endpoint", 3),
        flow("/subscriptions/s/x/aks-1", "private-endpoint", 4, ip="10.0.0.9"),
        flow("/subscriptions/s/x/aks-1", "denied", 1),
    ]}
    g = build_graph(diagram_input(doc))
    routes = {(r.source, r.path): (r.count, r.flows, r.vnet) for r in g.routes}
    assert routes == {
        ("consumer:/subscriptions/s/x/aks-1", "private-endpoint"): (7, 2, VNET.lower()),
        ("consumer:/subscriptions/s/x/aks-1", "denied"): (1, 1, VNET.lower()),
    }
    [group] = g.groups
    assert group.subnet == SUB.lower()
    assert group.vnet == VNET.lower()
    assert [m.name for m in group.members] == ["aks-1"]
    assert g.pe_vnet("registry:reg.azurecr.io", "pe:" + PE.lower()) == VNET.lower()
    assert g.notes == ()  # it has an inventory and nothing folded
    with pytest.raises(dataclasses.FrozenInstanceError):
        g.routes[0].count = 0  # type: ignore[misc]


def test_crowded_subnet_is_folded_in_the_graph_and_the_layout_is_pure() -> None:
    doc = {"schema": "pullpath.audit/v1", "flows": [
        flow(f"/subscriptions/s/x/aks-{k:03d}", "private-endpoint", k + 1)
        for k in range(MAX_PER_SUBNET + 5)]}
    g = build_graph(diagram_input(doc))
    [group] = g.groups
    assert len(group.members) == MAX_PER_SUBNET
    assert group.members[-1].id == "more:" + SUB.lower()
    assert group.members[-1].name == "+6 more consumers"
    assert sum(r.count for r in g.routes) == sum(k + 1 for k in range(MAX_PER_SUBNET + 5))
    routes = g.routes
    first = layout(g)
    assert layout(g) == first  # same graph, same picture; the graph is left as it was
    assert g.routes == routes
    assert build_diagram(doc) == first


def test_trusted_service_pair_is_drawn_through_the_microsoft_platform() -> None:
    doc = {"schema": "pullpath.explain/v1", "pairs": [
        {"consumer": {"id": "/subscriptions/s/x/aci-1", "kind": "aci"},
         "registry": {"id": REG, "login_server": "reg.azurecr.io"},
         "expected_path": "trusted-service", "rule": "aci-trusted"}]}
    g = build_graph(diagram_input(doc))
    [route] = g.routes
    assert route.via == ("source:azure-platform",)
    assert route.predicted
    assert g.predicted
    assert route.rules == frozenset({"aci-trusted"})
    assert any("carries no inventory" in note for note in g.notes)
