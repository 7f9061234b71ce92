"""Edits of the derived world (tests/support/explain_world.py): each turns one setting of the
official REST API examples into the configuration a knowledge-base rule or a finding is about."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable

from tests.support import TESTS
from tests.support.explain_world import World

EXAMPLES = TESTS / "data" / "explain" / "examples"


Edit = Callable[[World], None]


# ------------------------------------------------------------------ edits of the base world


def open_registry(w: World) -> None:
    w.props("registry")["publicNetworkAccess"] = "Enabled"
    w.props("registry")["networkRuleSet"]["defaultAction"] = "Allow"


def standard_registry(w: World) -> None:
    open_registry(w)
    w.res["registry"]["sku"] = {"name": "Standard", "tier": "Standard"}


def trusted_off(w: World) -> None:
    w.props("registry")["networkRuleBypassOptions"] = "None"


def aci_system_identity(w: World) -> None:
    w.res["aci"]["identity"] = {"type": "SystemAssigned",
                                "principalId": "9e1a7f85-6c2b-4d0e-9f4a-5b6c7d8e9f0a"}
    server = w.props("aci")["imageRegistryCredentials"][0]["server"]
    w.props("aci")["imageRegistryCredentials"] = [{"server": server, "identity": "[system]"}]


def aci_password(w: World) -> None:
    server = w.props("aci")["imageRegistryCredentials"][0]["server"]
    w.props("aci")["imageRegistryCredentials"] = [{"server": server, "username": "myRegistry"}]


def aci_no_vnet(w: World) -> None:
    w.props("aci").pop("subnetIds")
    w.props("aci")["ipAddress"]["type"] = "Public"


def tasks_bypass_unset(w: World) -> None:
    w.props("registry").pop("networkRuleBypassAllowedForTasks")


def pe_pending(w: World) -> None:
    w.props("registry")["privateEndpointConnections"][0]["properties"][
        "privateLinkServiceConnectionState"]["status"] = "Pending"
    w.props("private-endpoint")["privateLinkServiceConnections"][0]["properties"][
        "privateLinkServiceConnectionState"]["status"] = "Pending"


def aca_no_vnet(w: World) -> None:
    w.props("environment").pop("vnetConfiguration")


def drop_data_record(w: World) -> None:
    w.drop("dns-a-data")


def drop_registry_record(w: World) -> None:
    w.drop("dns-a-registry")


def link_other_vnet(w: World) -> None:
    other = w.id("vnet").rsplit("/", 1)[0] + "/hub-vnet"
    w.props("dns-link")["virtualNetwork"]["id"] = other


def web_windows(w: World) -> None:
    w.res["webapp"]["kind"] = "app,container,windows"
    cfg = w.props("webapp")["siteConfig"]
    cfg["windowsFxVersion"] = cfg.pop("linuxFxVersion")
    cfg["linuxFxVersion"] = ""


def task_on_vnet_pool(w: World) -> None:
    """The task runs on a dedicated agent pool in snet-aks: AgentPoolsGet (2019-06-01-preview,
    tests/data/explain/examples), its 200 body under the derived registry, with the API's
    ``virtualNetworkSubnetResourceId`` (absent from the example) naming snet-aks."""
    doc = json.loads((EXAMPLES / "AgentPoolsGet.json").read_text(encoding="utf-8"))
    pool = copy.deepcopy(doc["responses"]["200"]["body"])
    pool["id"] = f"{w.id('registry')}/agentPools/{pool['name']}"
    pool["properties"]["virtualNetworkSubnetResourceId"] = f"{w.id('vnet')}/subnets/snet-aks"
    w.res["agent-pool"] = pool
    w.props("task")["agentPoolName"] = pool["name"]


def task_user_identity(w: World) -> None:
    """The task pulls with the user-assigned identity of the derived world instead."""
    uid = w.id("identity")
    w.res["task"]["identity"] = {"type": "UserAssigned", "userAssignedIdentities": {uid: {}}}


AC_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
REPOSITORY_READER = "b93aa761-3e63-49ed-ac28-beffa264f7ac"


def abac_registry(w: World) -> None:
    """RBAC Registry + ABAC Repository Permissions: the identities' AcrPull is not honored."""
    w.props("registry")["roleAssignmentMode"] = "AbacRepositoryPermissions"


def identity_role(role: str) -> Edit:
    """The user-assigned identity's only role assignment on the registry: ``role``."""
    def edit(w: World) -> None:
        ra = w.props("role-acrpull-identity")
        ra["roleDefinitionId"] = ra["roleDefinitionId"].rsplit("/", 1)[0] + "/" + role
    return edit


def unlink_zone(w: World) -> None:
    """The zone is in the inventory and says it has no VNet link (the link resource gone)."""
    w.drop("dns-link")
    w.props("dns-zone")["numberOfVirtualNetworkLinks"] = 0


def service_endpoint_registry(*subnets: str, public: str = "Enabled") -> Edit:
    """The registry restricted by virtual network rules for ``subnets`` (no private endpoint:
    a registry cannot combine private link and service endpoints)."""
    def edit(w: World) -> None:
        props = w.props("registry")
        props["publicNetworkAccess"] = public
        props["networkRuleSet"] = {"defaultAction": "Deny", "ipRules": [], "virtualNetworkRules": [
            {"action": "Allow", "id": f"{w.id('vnet')}/subnets/{s}"} for s in subnets]}
        props["privateEndpointConnections"] = []
        w.drop("private-endpoint")
    return edit


def aks_outbound(kind: str) -> Edit:
    def edit(w: World) -> None:
        w.props("aks")["networkProfile"]["outboundType"] = kind
    return edit


def web_no_vnet_pull(w: World) -> None:
    w.props("webapp")["vnetImagePullEnabled"] = False


def ip_rules(*rules: str) -> Edit:
    def edit(w: World) -> None:
        w.props("registry")["publicNetworkAccess"] = "Enabled"
        w.props("registry")["networkRuleSet"]["ipRules"] = [
            {"action": "Allow", "value": r} for r in rules]
        # no private endpoint: the IP rule is the only way in
        w.props("registry")["privateEndpointConnections"] = []
        w.drop("private-endpoint")
    return edit


def both(*edits: Edit) -> Edit:
    def edit(w: World) -> None:
        for e in edits:
            e(w)
    return edit


def nothing(w: World) -> None:
    """The base world as derived."""


def pe_in_aci_subnet(w: World) -> None:
    w.props("private-endpoint")["subnet"]["id"] = w.id("vnet") + "/subnets/subnet1"
