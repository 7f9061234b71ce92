"""Findings: for each stable ID the configuration that raises it and a nearby one that must
not, on inventories derived from the official REST API examples (REST and SDK shape)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from pullpath.knowledge.loader import default_knowledge
from tests.support.explain_world import SHAPES, World
from tests.support.world_edits import (
    aca_no_vnet,
    aci_password,
    aci_system_identity,
    both,
    drop_data_record,
    link_other_vnet,
    open_registry,
    pe_in_aci_subnet,
    pe_pending,
    service_endpoint_registry,
    tasks_bypass_unset,
    trusted_off,
    web_no_vnet_pull,
)

Edit = Callable[[World], None]

AC_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
REPOSITORY_READER = "b93aa761-3e63-49ed-ac28-beffa264f7ac"
READER_ONLY = "acdd72a7-3385-48ef-bd42-f606fba81ae7"  # Reader: pulls in legacy mode
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"  # built-in-roles.md, ms.date 2026-04-09
DATA_IMPORTER = "577a9874-89fd-4f24-9dbd-b5034d0ad23a"  # pulls in both modes
UNRELATED_ROLE = "4d97b98b-1d4f-4787-a291-c67834d212e7"  # Network Contributor: cannot pull


def keep(*names: str) -> Edit:
    def edit(w: World) -> None:
        w.only(*names)
    return edit


def drop(*names: str) -> Edit:
    def edit(w: World) -> None:
        w.drop(*names)
    return edit


def identity_role(role: str, scope: str = "registry") -> Edit:
    """The user-assigned identity's only role assignment: ``role`` at ``scope``."""
    def edit(w: World) -> None:
        ra = w.props("role-acrpull-identity")
        ra["roleDefinitionId"] = ra["roleDefinitionId"].rsplit("/", 1)[0] + "/" + role
        if scope == "resource-group":
            ra["scope"] = w.id("registry").split("/providers/")[0]
    return edit


def abac_registry(w: World) -> None:
    """RBAC Registry + ABAC Repository Permissions (RegistryCreateAbac's roleAssignmentMode)."""
    w.props("registry")["roleAssignmentMode"] = "AbacRepositoryPermissions"


def standard_with_pe(w: World) -> None:
    w.res["registry"]["sku"] = {"name": "Standard", "tier": "Standard"}


def diag_without_pull_logs(w: World) -> None:
    w.props("diagnostic-setting")["logs"] = [
        {"category": "ContainerRegistryLoginEvents", "enabled": True}]


def virtual_nodes(enabled: bool) -> Edit:
    """The AKS virtual nodes add-on (addonProfiles.aciConnectorLinux)."""
    def edit(w: World) -> None:
        w.props("aks")["addonProfiles"] = {"aciConnectorLinux": {"enabled": enabled}}
    return edit


@dataclass(frozen=True)
class Case:
    id: str
    positive: Edit
    negative: Edit
    subject: str
    """The derived resource(s) (file stems, comma-separated) the finding is reported on."""


def nothing(w: World) -> None:
    """The base world as derived: no finding at all."""


CASES = [
    Case("PP001", trusted_off, nothing, "registry"),
    Case("PP002", aci_system_identity, nothing, "aci"),
    # the three consumers share the identity: each is reported
    Case("PP003", identity_role(UNRELATED_ROLE), identity_role(REPOSITORY_READER),
         "aci,containerapp,webapp"),
    Case("PP004", pe_in_aci_subnet, nothing, "registry"),
    Case("PP005", aci_password, both(aci_password, pe_pending), "aci"),
    Case("PP006", aca_no_vnet, both(aca_no_vnet, open_registry), "containerapp"),
    Case("PP007", drop_data_record, nothing, "containerapp,aks,webapp"),
    Case("PP008", web_no_vnet_pull, nothing, "webapp"),
    Case("PP009", tasks_bypass_unset, nothing, "registry"),
    Case("PP010", standard_with_pe, nothing, "registry"),
    Case("PP011", diag_without_pull_logs, nothing, "registry"),
    Case("PP012", both(open_registry, keep("containerapp", "aks", "webapp")), open_registry,
         "registry"),
    Case("PP013", keep("containerapp", "aks", "webapp"), nothing, "registry"),
    Case("PP014", service_endpoint_registry("snet-aks"), nothing, "registry"),
    Case("PP015", service_endpoint_registry("snet-aks", public="Disabled"),
         service_endpoint_registry("snet-aks"), "registry"),
    Case("PP016", service_endpoint_registry("snet-aca", "snet-app"),
         service_endpoint_registry("snet-aks"), "containerapp,webapp"),
    Case("PP017", virtual_nodes(True), both(virtual_nodes(True), pe_pending), "aks"),
]


def test_every_shipped_finding_has_a_case() -> None:
    assert {f.id for f in default_knowledge().findings} == {c.id for c in CASES}


def test_base_world_is_clean() -> None:
    for shape in SHAPES:
        report = World().explain(shape)
        assert report.findings == ()
        assert report.notes == ()


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_finding_fires(case: Case, shape: str) -> None:
    w = World()
    case.positive(w)
    found = [f for f in w.explain(shape).findings if f.id == case.id]
    assert found, f"{case.id} should fire"
    assert {f.resource_id for f in found} == {w.id(s).lower() for s in case.subject.split(",")}
    spec = default_knowledge().finding(case.id)
    assert spec is not None
    for f in found:
        assert f.severity is spec.severity
        assert "{{" not in f.fix_cli
        assert "{{" not in f.fix_bicep
        assert "{{" not in f.detail


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_finding_does_not_fire_nearby(case: Case, shape: str) -> None:
    w = World()
    case.negative(w)
    assert case.id not in w.finding_ids(shape)


# ------------------------------------------------------------------ unknown is not clean


def test_pull_role_unknown_without_role_assignments() -> None:
    w = World().drop("role-acrpull-identity", "role-acrpull-kubelet", "role-acrpush-task")
    report = w.explain()
    assert "PP003" not in {f.id for f in report.findings}
    assert any("PP003" in n for n in report.notes)


def test_role_at_a_parent_scope_counts() -> None:
    w = World()
    identity_role(AC_PULL, "resource-group")(w)
    assert "PP003" not in w.finding_ids()


def test_reader_role_counts_as_pull_capable() -> None:
    w = World()
    identity_role(READER_ONLY)(w)
    assert "PP003" not in w.finding_ids()


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(("mode", "role", "raised"), [
    ("LegacyRegistryPermissions", AC_PULL, False),
    ("LegacyRegistryPermissions", CONTRIBUTOR, False),
    ("LegacyRegistryPermissions", DATA_IMPORTER, False),
    ("AbacRepositoryPermissions", AC_PULL, True),  # not honored in ABAC-enabled registries
    ("AbacRepositoryPermissions", CONTRIBUTOR, True),  # control plane only there
    ("AbacRepositoryPermissions", READER_ONLY, True),
    ("AbacRepositoryPermissions", REPOSITORY_READER, False),
    ("AbacRepositoryPermissions", DATA_IMPORTER, False),
])
def test_pull_roles_depend_on_the_role_assignment_mode(mode: str, role: str, raised: bool,
                                                       shape: str) -> None:
    w = World().only("aci", "containerapp", "webapp")  # the consumers of that identity
    w.props("registry")["roleAssignmentMode"] = mode
    identity_role(role)(w)
    assert ("PP003" in w.finding_ids(shape)) is raised


def test_repository_role_in_an_rbac_registry_is_not_guessed() -> None:
    """The documentation lists the repository roles for ABAC-enabled registries only: in an
    RBAC-mode registry their effect is unknown, so PP003 is neither raised nor silently
    passed."""
    w = World().only("aci", "containerapp", "webapp")
    identity_role(REPOSITORY_READER)(w)
    report = w.explain()
    assert "PP003" not in {f.id for f in report.findings}
    assert any("PP003 not checked" in n and "not documented" in n for n in report.notes)


def test_abac_registry_with_acrpull_says_why() -> None:
    w = World()
    abac_registry(w)
    finding = next(f for f in w.explain().findings if f.id == "PP003")
    assert "AcrPull" in finding.detail
    assert "RBAC Registry + ABAC Repository Permissions" in finding.detail


@pytest.mark.parametrize("shape", SHAPES)
def test_replica_regions_from_the_data_endpoints_need_records(shape: str) -> None:
    """A geo-replicated registry needs the data record of every region: the dedicated data
    endpoints (dataEndpointHostNames) name the replica regions."""
    w = World()
    w.props("registry")["dataEndpointEnabled"] = True
    w.props("registry")["dataEndpointHostNames"] = ["myregistry.westus.data.azurecr.io",
                                                    "myregistry.eastus.data.azurecr.io"]
    report = w.explain(shape)
    found = [f for f in report.findings if f.id == "PP007"]
    assert found
    assert all("myregistry.eastus.data" in f.detail for f in found)


def test_diagnostics_unknown_without_diagnostic_settings() -> None:
    report = World().drop("diagnostic-setting").explain()
    assert "PP011" not in {f.id for f in report.findings}
    assert any("PP011" in n for n in report.notes)


def test_dns_unknown_without_zones() -> None:
    w = World()
    w.drop("dns-zone", "dns-a-registry", "dns-a-data", "dns-link")
    report = w.explain()
    assert "PP007" not in {f.id for f in report.findings}
    assert any("PP007" in n for n in report.notes)


def test_zone_linked_elsewhere_fires_pp007() -> None:
    w = World()
    link_other_vnet(w)
    assert "PP007" in w.finding_ids()


def test_pp001_groups_consumers_on_the_registry() -> None:
    w = World()
    trusted_off(w)
    second = dict(w.res["aci"])
    second["name"] = "demo2"
    second["id"] = w.id("aci").rsplit("/", 1)[0] + "/demo2"
    w.res["aci2"] = second
    found = [f for f in w.explain().findings if f.id == "PP001"]
    assert len(found) == 1
    assert {w.id("aci").lower(), w.id("aci2").lower()} <= set(found[0].related)


def test_fix_names_the_real_resources() -> None:
    w = World()
    trusted_off(w)
    f = next(f for f in w.explain().findings if f.id == "PP001")
    assert "--name myRegistry" in f.fix_cli
    # ARM IDs are compared lower-case; resource group names are case-insensitive in Azure
    assert "--resource-group myresourcegroup" in f.fix_cli.lower()
