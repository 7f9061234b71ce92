"""Large inventories: linking, classifying and predicting grow linearly with the resources.

No timing is asserted: the test makes the work feasible (with the quadratic linking of the
past, the inventory below took minutes to link) and checks that every link is still made.
``bench/inventory_scale.py`` measures the times.
"""

from __future__ import annotations

from pullpath.core.classify import Classifier
from pullpath.core.explain import explainer_for
from pullpath.core.findings import check_findings
from pullpath.core.inventory import inventory_from_documents
from pullpath.domain.inventory import ConsumerKind, norm_id
from pullpath.domain.verdicts import SourceKind
from tests.support.large_inventory import BASE, large_inventory

VNETS = 30_000

UNITS = 5_000


def test_large_inventory_links_every_resource() -> None:
    resources = large_inventory(UNITS)
    assert len(resources) > 20_000
    inv = inventory_from_documents([("large.json", {"value": resources})])
    assert not inv.issues
    assert len(inv.vnets) == UNITS
    assert len(inv.subnets) == 2 * UNITS
    assert len(inv.consumers) == UNITS
    assert len(inv.registries) == UNITS // 10
    # standalone subnet records join their VNet's list; NICs give their endpoint's addresses
    last = norm_id(f"{BASE}/Microsoft.Network/virtualNetworks/vnet-{UNITS - 1}")
    assert inv.vnets[last].subnet_ids == (f"{last}/subnets/apps", f"{last}/subnets/pe")
    pe = inv.private_endpoints[norm_id(f"{BASE}/Microsoft.Network/privateEndpoints/pe-acr4990")]
    assert pe.private_ips == (inv.nics[pe.nic_ids[0]].ip_configurations[0].private_ip,)
    con = inv.consumers[norm_id(f"{BASE}/Microsoft.ContainerInstance/containerGroups/aci-4999")]
    assert con.kind is ConsumerKind.ACI
    assert con.principal_ids
    assert inv.registry_by_login_server("acr4990.azurecr.io") is inv.registries[
        norm_id(f"{BASE}/Microsoft.ContainerRegistry/registries/acr4990")]

    classifier = Classifier(inv, None)
    source = classifier.source(con.private_ips[0])
    assert source.kind is SourceKind.SUBNET
    assert source.subnet_id == con.subnet_ids[0]
    ref = classifier.consumer(source, con.principal_ids[0])
    assert ref.id == con.id

    explainer = explainer_for(inv)
    predictions = explainer.predictions()
    assert len(predictions) == UNITS
    check_findings(explainer)


def test_thirty_thousand_vnets_with_standalone_subnets() -> None:
    """Each VNet's subnet given as a resource of its own: the VNet lists it once linked (the
    quadratic linking of the past compared every subnet with every VNet: 900 million steps)."""
    vnets = [f"{BASE}/Microsoft.Network/virtualNetworks/v{i}" for i in range(VNETS)]
    resources: list[dict[str, object]] = []
    for i, vid in enumerate(vnets):
        prefix = f"10.{i >> 8 & 255}.{i & 255}.0/24"
        resources.append({"id": vid, "type": "Microsoft.Network/virtualNetworks",
                          "properties": {"addressSpace": {"addressPrefixes": [prefix]}}})
        resources.append({"id": f"{vid}/subnets/s", "properties": {"addressPrefix": prefix}})
    inv = inventory_from_documents([("vnets.json", resources)])
    assert not inv.issues
    assert len(inv.subnets) == VNETS
    assert all(inv.vnets[norm_id(v)].subnet_ids == (f"{norm_id(v)}/subnets/s",) for v in vnets)


def test_a_thousand_registries_give_a_summary_diagram() -> None:
    """Past 200 registries the path diagram sums up (one node per consumer kind, one for the
    registries) and the report says so; below, it is drawn in full."""
    from pullpath.formatters.diagram import MAX_DRAWN_REGISTRIES, build_diagram
    from pullpath.formatters.explain_doc import explain_document
    from pullpath.formatters.html import explain_html
    from pullpath.formatters.markdown import explain_markdown
    from pullpath.workflows.explain import explain_inventory

    report = explain_inventory(inventory_from_documents(
        [("r.json", {"value": large_inventory(1_000, registry_every=1)})]))
    assert len(report.pairs) == 1_000
    doc = explain_document(report)
    diagram = build_diagram(doc, doc["network"])
    said = ("1,000 registries and 1,000 consumers are too many to draw one by one (more than "
            f"{MAX_DRAWN_REGISTRIES} registries or 1000 consumers): this diagram sums them up, one "
            "node per consumer kind and one edge per path; the tables list every flow.")
    assert diagram.summary == said
    assert said in diagram.notes
    registries = [n for n in diagram.nodes if n.kind == "registry"]
    assert [r.title for r in registries] == ["1,000 registries"]
    consumers = [n for n in diagram.nodes if n.kind == "consumer"]
    assert [(c.badge, c.title) for c in consumers] == [("ACI", "1,000 consumers")]
    assert sum(e.count for e in diagram.edges) == 1_000
    assert said in explain_markdown(report)
    html = explain_html(report)
    assert said in html
    assert "and 990 more" in html  # the page's header names ten registries, not all

    small = explain_inventory(inventory_from_documents(
        [("r.json", {"value": large_inventory(MAX_DRAWN_REGISTRIES, registry_every=1)})]))
    small_doc = explain_document(small)
    full = build_diagram(small_doc, small_doc["network"])
    assert full.summary == ""
    assert len([n for n in full.nodes if n.kind == "registry"]) == MAX_DRAWN_REGISTRIES


def test_registry_lookup_index_follows_the_registries() -> None:
    """``registry_by_login_server`` is indexed (not a scan per call) and still answers for
    registries added or replaced after a lookup."""
    from dataclasses import replace

    inv = inventory_from_documents([("r.json", {"value": large_inventory(20)})])
    (rid,) = [r for r in inv.registries if r.endswith("/acr10")]
    first = inv.registry_by_login_server("acr10.azurecr.io")
    assert first is inv.registries[rid]
    inv.registries[rid] = replace(first, public_network_access="Enabled")
    assert inv.registry_by_login_server("ACR10.azurecr.io") is inv.registries[rid]
    nameless = replace(first, id=rid + "x", name="other", login_server="")
    inv.registries[nameless.id] = nameless
    assert inv.registry_by_login_server("other.azurecr.io") is nameless
    assert inv.registry_by_login_server("missing.azurecr.io") is None
