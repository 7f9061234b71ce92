"""explain's predictions: one positive and one negative case per knowledge-base rule, on
inventories derived from the official REST API examples, in the REST and the SDK shape."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from pullpath.domain.iac import unknown_value
from pullpath.domain.verdicts import Confidence, Path
from pullpath.knowledge.loader import default_knowledge
from tests.support.explain_world import SHAPES, World
from tests.support.world_edits import (
    REPOSITORY_READER,
    Edit,
    abac_registry,
    aca_no_vnet,
    aci_no_vnet,
    aci_password,
    aci_system_identity,
    aks_outbound,
    both,
    drop_data_record,
    drop_registry_record,
    identity_role,
    ip_rules,
    link_other_vnet,
    nothing,
    open_registry,
    pe_pending,
    service_endpoint_registry,
    standard_registry,
    task_on_vnet_pool,
    task_user_identity,
    tasks_bypass_unset,
    trusted_off,
    unlink_zone,
    web_no_vnet_pull,
    web_windows,
)

# ------------------------------------------------------------------ one case per rule


@dataclass(frozen=True)
class Case:
    rule: str
    consumer: str
    positive: Edit
    path: Path
    negative: Edit
    """A nearby configuration where the rule must NOT decide."""


CASES = [
    Case("KB-ACI-001", "aci", aci_system_identity, Path.DENIED, nothing),
    Case("KB-ROLE-001", "containerapp", abac_registry, Path.DENIED,
         both(abac_registry, identity_role(REPOSITORY_READER))),
    Case("KB-ROLE-002", "task", abac_registry, Path.DENIED, nothing),
    Case("KB-REG-001", "containerapp", standard_registry, Path.PUBLIC, open_registry),
    Case("KB-ACI-007", "aci", service_endpoint_registry("snet-aks"), Path.DENIED, nothing),
    Case("KB-ACI-002", "aci", nothing, Path.TRUSTED_SERVICE, trusted_off),
    Case("KB-ACI-003", "aci", aci_no_vnet, Path.TRUSTED_SERVICE, nothing),
    Case("KB-ACI-004", "aci", trusted_off, Path.DENIED, nothing),
    Case("KB-ACI-005", "aci", aci_password, Path.DENIED, both(aci_password, open_registry)),
    Case("KB-ACI-006", "aci", open_registry, Path.PUBLIC, nothing),
    Case("KB-TASKS-005", "task", both(task_on_vnet_pool, tasks_bypass_unset),
         Path.PRIVATE_ENDPOINT, tasks_bypass_unset),
    Case("KB-TASKS-001", "task", tasks_bypass_unset, Path.DENIED, nothing),
    Case("KB-TASKS-002", "task", nothing, Path.TRUSTED_SERVICE, tasks_bypass_unset),
    Case("KB-TASKS-003", "task", open_registry, Path.PUBLIC, nothing),
    Case("KB-TASKS-004", "task", task_user_identity, Path.DENIED,
         both(task_user_identity, open_registry)),
    Case("KB-ACA-001", "containerapp", nothing, Path.PRIVATE_ENDPOINT, pe_pending),
    Case("KB-AKS-001", "aks", nothing, Path.PRIVATE_ENDPOINT, drop_registry_record),
    Case("KB-AKS-003", "aks", both(aks_outbound("block"), drop_registry_record), Path.DENIED,
         aks_outbound("block")),
    Case("KB-SE-001", "aks", service_endpoint_registry("snet-aks"), Path.FIREWALL_RULE,
         service_endpoint_registry("snet-aks", public="Disabled")),
    Case("KB-APP-001", "webapp", nothing, Path.PRIVATE_ENDPOINT, link_other_vnet),
    Case("KB-REG-002", "aks", ip_rules("20.30.40.0/24"), Path.FIREWALL_RULE,
         ip_rules("198.51.100.0/24")),
    Case("KB-PE-001", "containerapp", pe_pending, Path.DENIED, nothing),
    Case("KB-ACA-002", "containerapp", aca_no_vnet, Path.DENIED, both(aca_no_vnet, open_registry)),
    Case("KB-ACA-003", "containerapp", drop_data_record, Path.DENIED, nothing),
    Case("KB-AKS-002", "aks", drop_registry_record, Path.DENIED, nothing),
    Case("KB-APP-003", "webapp", web_no_vnet_pull, Path.DENIED,
         both(web_no_vnet_pull, open_registry)),
    Case("KB-APP-004", "webapp", link_other_vnet, Path.DENIED, nothing),
    Case("KB-REG-003", "containerapp", both(aca_no_vnet, open_registry), Path.PUBLIC,
         aca_no_vnet),
]


def test_every_shipped_rule_has_a_case() -> None:
    shipped = {b.id for b in default_knowledge().behaviours}
    assert shipped == {c.rule for c in CASES}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.rule)
def test_rule_decides(case: Case, shape: str) -> None:
    w = World()
    case.positive(w)
    p = w.pair(case.consumer, shape)
    assert (p.rule, p.expected_path) == (case.rule, case.path)
    assert p.sources, "every prediction names its sources"
    assert p.confidence is not Confidence.NONE


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.rule)
def test_rule_does_not_decide_nearby(case: Case, shape: str) -> None:
    w = World()
    case.negative(w)
    assert w.pair(case.consumer, shape).rule != case.rule


def test_base_world_shapes_agree() -> None:
    w = World()
    rest = [(p.consumer.id, p.expected_path, p.rule) for p in w.explain("rest").pairs]
    sdk = [(p.consumer.id, p.expected_path, p.rule) for p in w.explain("sdk").pairs]
    assert rest == sdk
    assert len(rest) == 5


# ------------------------------------------------------------------ the design's story


def test_aci_in_vnet_observation_wins_over_the_documentation() -> None:
    """The documentation says private endpoint; the 2024-11-25 field report observed the
    trusted-service bypass. It is a field report, not a measurement by pullpath."""
    p = World().pair("aci")
    documented = [s for s in p.sources if s.kind.value == "documented" and s.expect is not None]
    observed = [s for s in p.sources if s.kind.value == "field-report" and s.expect is not None]
    assert documented
    assert observed
    assert not [s for s in p.sources if s.kind.value == "measured"]
    assert p.expected_path is Path.TRUSTED_SERVICE
    assert p.expected_path is not documented[0].expect
    assert p.expected_path is observed[0].expect
    assert any("field report of 2024-11-25 observed trusted-service" in r for r in p.reasons)


@pytest.mark.parametrize("shape", SHAPES)
def test_windows_containers_pull_over_the_vnet_like_linux(shape: str) -> None:
    """The network-protected registry guidance applies to Windows containers too (the older
    claim that they cannot pull over the VNet was superseded)."""
    w = World()
    web_windows(w)
    p = w.pair("webapp", shape)
    assert (p.rule, p.expected_path) == ("KB-APP-001", Path.PRIVATE_ENDPOINT)
    web_no_vnet_pull(w)
    assert w.pair("webapp", shape).rule == "KB-APP-003"


@pytest.mark.parametrize("shape", SHAPES)
def test_task_identity_kind_decides_whether_the_tasks_setting_matters(shape: str) -> None:
    """networkRuleBypassAllowedForTasks concerns system-assigned identities only."""
    w = World()
    task_user_identity(w)
    allowed = w.pair("task", shape)
    tasks_bypass_unset(w)
    unset = w.pair("task", shape)
    assert allowed.rule == unset.rule == "KB-TASKS-004"
    assert allowed.expected_path is Path.DENIED


def test_aca_and_aci_differ_in_the_same_vnet() -> None:
    w = World()
    assert w.pair("containerapp").expected_path is Path.PRIVATE_ENDPOINT
    assert w.pair("aci").expected_path is Path.TRUSTED_SERVICE


# ------------------------------------------------------------------ does the pull work


@pytest.mark.parametrize("shape", SHAPES)
def test_identity_without_a_pull_role_is_denied_by_authorisation(shape: str) -> None:
    """Every consumer of the identity is refused on authorisation once its only role is one
    the registry does not honour, whatever the network path (ACI's bypass included)."""
    w = World()
    abac_registry(w)
    for consumer in ("aci", "containerapp", "webapp", "aks"):
        p = w.pair(consumer, shape)
        assert (p.rule, p.expected_path, p.denied_by) == (
            "KB-ROLE-001", Path.DENIED, "authorisation"), consumer
        assert any("AcrPull" in r for r in p.reasons)
    w2 = World()
    abac_registry(w2)
    identity_role(REPOSITORY_READER)(w2)
    assert w2.pair("containerapp", shape).expected_path is Path.PRIVATE_ENDPOINT


def test_unchecked_roles_are_missing_but_do_not_lower_the_network_confidence() -> None:
    w = World().drop("role-acrpull-identity", "role-acrpull-kubelet", "role-acrpush-task")
    p = w.pair("containerapp")
    assert (p.rule, p.expected_path, p.confidence) == (
        "KB-ACA-001", Path.PRIVATE_ENDPOINT, Confidence.HIGH)
    assert any("role assignments" in m for m in p.missing)
    assert any(r.startswith("not checked: KB-ROLE-001") for r in p.reasons)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("consumer", ["containerapp", "aks", "webapp"])
def test_zone_not_linked_to_the_consumer_vnet_means_the_public_route(consumer: str,
                                                                     shape: str) -> None:
    """A privatelink zone that is in the inventory but linked to no VNet of the consumer does
    not answer there: the name resolves publicly, which a restricted registry refuses."""
    w = World()
    unlink_zone(w)
    p = w.pair(consumer, shape)
    assert (p.expected_path, p.denied_by) == (Path.DENIED, "network")
    assert any("linked to no VNet" in r for r in p.reasons)
    assert "PP007" in w.finding_ids(shape)
    open_registry(w)
    assert w.pair(consumer, shape).expected_path is Path.PUBLIC


def test_zone_with_links_the_inventory_does_not_hold_is_unknown() -> None:
    """numberOfVirtualNetworkLinks says 2, the inventory holds one link (to another VNet): the
    consumer's VNet may be the other one, so reachability is unknown, not refused."""
    w = World()
    link_other_vnet(w)
    w.props("dns-zone")["numberOfVirtualNetworkLinks"] = 2
    p = w.pair("containerapp")
    assert p.expected_path is Path.UNKNOWN
    assert any("more virtual network links than the inventory holds" in m for m in p.missing)
    w.props("dns-zone")["numberOfVirtualNetworkLinks"] = 1
    assert w.pair("containerapp").expected_path is Path.DENIED


# ------------------------------------------------------------------ three-valued facts


def test_registry_not_in_inventory_gives_unknown_with_what_is_missing() -> None:
    w = World().drop("registry")
    report = w.explain()
    aca = next(p for p in report.pairs if p.consumer.kind.value == "aca")
    assert aca.registry is None
    assert aca.expected_path is Path.UNKNOWN
    assert aca.rule == ""
    assert any("not in the inventory" in m for m in aca.missing)


def test_rule_that_needs_no_registry_fact_still_decides_without_the_registry() -> None:
    w = World()
    aci_system_identity(w)
    w.drop("registry")
    p = w.pair("aci")
    assert (p.expected_path, p.rule) == (Path.DENIED, "KB-ACI-001")


def test_unknown_vnet_membership_is_not_guessed() -> None:
    w = World()
    w.props("aci")["subnetIds"] = [{"id": "[resourceId('Microsoft.Network/virtualNetworks/"
                                           "subnets', 'v', 's')]"}]
    p = w.pair("aci")
    assert p.expected_path is Path.UNKNOWN
    assert p.missing


def test_unknown_dns_lowers_confidence_of_a_later_rule() -> None:
    """Open registry, ACA in a VNet, but no DNS zones in the inventory: public is predicted, the
    private-endpoint rule could not be ruled out, so the confidence drops and DNS is missing."""
    w = World()
    open_registry(w)
    w.drop("dns-zone", "dns-a-registry", "dns-a-data", "dns-link")
    p = w.pair("containerapp")
    assert (p.expected_path, p.rule) == (Path.PUBLIC, "KB-REG-003")
    assert p.confidence is Confidence.MEDIUM
    assert any("DNS" in m for m in p.missing)


def test_private_endpoint_in_another_vnet_is_unknown_not_unreachable() -> None:
    """Peering is not read: a private endpoint in another VNet is neither reachable nor not."""
    w = World()
    hub = w.id("vnet").rsplit("/", 1)[0] + "/hub-vnet/subnets/pe"
    w.props("private-endpoint")["subnet"]["id"] = hub
    report = w.explain()
    aca = next(p for p in report.pairs if p.consumer.kind.value == "aca")
    assert aca.expected_path is Path.UNKNOWN
    assert any("peering" in n for n in report.notes)


# ------------------------------------------------------------------ pairs


def test_pairs_come_from_images_credentials_and_kubelet_roles() -> None:
    report = World().explain()
    via_kind = {p.consumer.kind.value for p in report.pairs}
    assert via_kind == {"aci", "aca", "aks", "appservice", "acr-tasks"}
    assert all(p.registry is not None for p in report.pairs)


def test_aks_without_role_assignments_has_no_pair_and_says_why() -> None:
    w = World().drop("role-acrpull-identity", "role-acrpull-kubelet", "role-acrpush-task")
    report = w.explain()
    assert not [p for p in report.pairs if p.consumer.kind.value == "aks"]
    assert any("AKS cluster" in n and "role assignments" in n for n in report.notes)


def test_images_outside_acr_are_not_pairs() -> None:
    w = World()
    w.props("aci")["containers"][0]["properties"]["image"] = "mcr.microsoft.com/azuredocs/hello"
    w.props("aci")["containers"].append({"name": "side", "properties": {
        "image": "nginx", "resources": {"requests": {"cpu": 1, "memoryInGB": 1}}}})
    report = w.explain()
    aci = [p for p in report.pairs if p.consumer.kind.value == "aci"]
    # still paired through its registry credential, never with mcr.microsoft.com
    assert [p.login_server for p in aci] == ["myregistry.azurecr.io"]
    assert any("mcr.microsoft.com" in n for n in report.notes)


def test_login_server_not_in_inventory_makes_an_unknown_pair() -> None:
    w = World()
    w.props("containerapp")["template"]["containers"][0]["image"] = "other.azurecr.io/x:1"
    report = w.explain()
    other = [p for p in report.pairs if p.login_server == "other.azurecr.io"]
    assert len(other) == 1
    assert other[0].registry is None
    assert other[0].expected_path is Path.UNKNOWN


@pytest.mark.parametrize("setting", ["vnetImagePullEnabled", "outboundVnetRouting",
                                     "allTraffic", "WEBSITE_PULL_IMAGE_OVER_VNET"])
@pytest.mark.parametrize("shape", SHAPES)
def test_each_app_service_image_pull_setting_routes_over_the_vnet(setting: str,
                                                                   shape: str) -> None:
    w = World()
    props = w.props("webapp")
    props.pop("vnetImagePullEnabled")
    if setting == "vnetImagePullEnabled":
        props["vnetImagePullEnabled"] = True
    elif setting == "outboundVnetRouting":  # API 2024-11-01 and later
        props["outboundVnetRouting"] = {"imagePullTraffic": True}
    elif setting == "allTraffic":  # routes configuration traffic, image pulls included
        props["outboundVnetRouting"] = {"allTraffic": True, "imagePullTraffic": False}
    else:
        props["siteConfig"]["appSettings"] = [{"name": setting, "value": "true"}]
    p = w.pair("webapp", shape)
    assert (p.rule, p.expected_path) == ("KB-APP-001", Path.PRIVATE_ENDPOINT)


def test_app_service_without_any_image_pull_setting_is_not_guessed() -> None:
    w = World()
    w.props("webapp").pop("vnetImagePullEnabled")
    p = w.pair("webapp")
    assert p.expected_path is Path.UNKNOWN
    assert any("image over VNet" in m for m in p.missing)


def test_a_role_assignment_whose_principal_is_not_known_leaves_the_role_unknown() -> None:
    """Infrastructure code: the identity's AcrPull assignment names a principal known only
    after deployment. Whether the identity holds a pull role is then unknown, not false (which
    would predict a refused pull)."""
    w = World()
    held = w.pair("aci").facts
    assert dict(held)["credential.has_pull_role"] is True
    w.props("role-acrpull-identity")["principalId"] = unknown_value(
        "known after apply: azurerm_role_assignment.pull.principal_id")
    pair = w.pair("aci")
    assert dict(pair.facts)["credential.has_pull_role"] is None
    assert pair.expected_path is not Path.DENIED
    w.drop("role-acrpull-identity")
    assert dict(w.pair("aci").facts)["credential.has_pull_role"] is False
