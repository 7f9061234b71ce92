"""Callers that are not consumers, in the audit: a pull from a Microsoft address that no
identity ties to a consumer names the callers that are possible for its registry and path (the
knowledge base's ``callers``: ACR import, Defender for Cloud, Machine Learning, Azure Pipelines
agents, and the inventory's ACI groups), never one of them as the caller. The Machine Learning
workspace is the official REST example (tests/data/explain/examples/WorkspaceGet.json,
PROVENANCE there) pointed at the scenario's registry."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pullpath.cli.app import app
from tests.support import TESTS
from tests.support.scenario import Scenario, rid
from tests.support.tags import address_only_in

runner = CliRunner()
EXAMPLES = TESTS / "data" / "explain" / "examples"
ACI_PRINCIPAL = "11111111-aaaa-4aaa-8aaa-111111111111"
STRANGER = "99999999-cccc-4ccc-8ccc-999999999999"


def workspace(registry_id: str) -> dict[str, Any]:
    doc = json.loads((EXAMPLES / "WorkspaceGet.json").read_text(encoding="utf-8"))
    body: dict[str, Any] = copy.deepcopy(doc["responses"]["200"]["body"])
    body["properties"]["containerRegistry"] = registry_id
    return body


def audit_flow(tmp_path: Path, sc: Scenario, ip: str) -> dict[str, Any]:
    logs, inv = sc.write(tmp_path)
    result = runner.invoke(app, ["audit", "--logs", str(logs), "--inventory", str(inv),
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    flows = [f for f in json.loads(result.stdout)["flows"] if f["caller_ip"] == ip]
    assert len(flows) == 1, flows
    flow: dict[str, Any] = flows[0]
    return flow


def scenario(*, bypass: str = "AzureServices", public: str = "Disabled",
             default_action: str = "Deny", ml: bool = False) -> Scenario:
    sc = Scenario()
    sn = sc.vnet("vnet-a", "10.1.0.0/16", {
        "aci": ("10.1.1.0/24", "Microsoft.ContainerInstance/containerGroups"),
        "pe": ("10.1.5.0/24", "")})
    reg = sc.registry("acr1", pe_subnet=sn["pe"], bypass=bypass, public=public,
                      default_action=default_action)
    uami = sc.identity("id-aci", ACI_PRINCIPAL, "22222222-bbbb-4bbb-8bbb-222222222222")
    sc.aci("aci1", server="acr1.azurecr.io", subnet=sn["aci"], private_ip="10.1.1.4",
           identity=(uami, ACI_PRINCIPAL, "22222222-bbbb-4bbb-8bbb-222222222222"))
    if ml:
        sc.resources.append(workspace(reg))
    return sc


def callers_reason(flow: dict[str, Any]) -> str:
    found = [r for r in flow["reasons"] if "possible callers" in r]
    assert len(found) == 1, flow["reasons"]
    return found[0]


def test_unattributed_bypass_pull_names_the_possible_trusted_callers(tmp_path: Path) -> None:
    sc = scenario(ml=True)
    ip = address_only_in("AzureCloud.japaneast")
    sc.event("acr1", ip=ip, identity=STRANGER)
    flow = audit_flow(tmp_path, sc, ip)
    assert flow["path"] == "trusted-service"
    assert not flow["consumer"]["id"]  # never guessed
    reason = callers_reason(flow)
    assert "the log does not say which trusted service passed the bypass" in reason
    for name in ("aci1", "ACR import", "Microsoft Defender for Cloud",
                 "Azure Machine Learning workspace(s) testworkspace"):
        assert name in reason
    assert "Azure Pipelines" not in reason  # not a trusted service: cannot pass the bypass


def test_without_a_workspace_machine_learning_is_said_absent(tmp_path: Path) -> None:
    sc = scenario()
    ip = address_only_in("AzureCloud.japaneast")
    sc.event("acr1", ip=ip, identity="")
    reason = callers_reason(audit_flow(tmp_path, sc, ip))
    assert "Azure Machine Learning: no workspace in the inventory uses this registry" in reason


def test_a_pull_the_identity_attributes_lists_no_other_callers(tmp_path: Path) -> None:
    sc = scenario(ml=True)
    ip = address_only_in("AzureCloud.japaneast")
    sc.event("acr1", ip=ip, identity=ACI_PRINCIPAL)
    flow = audit_flow(tmp_path, sc, ip)
    assert flow["consumer"]["id"].endswith("/containergroups/aci1")
    assert not any("possible callers" in r for r in flow["reasons"])


@pytest.mark.parametrize(("kw", "result", "path"), [
    ({"public": "Enabled", "default_action": "Allow"}, "200", "public"),
    ({"bypass": "None"}, "403", "denied"),
])
def test_a_public_or_refused_microsoft_caller_may_be_a_caller_that_is_not_trusted(
        tmp_path: Path, kw: dict[str, str], result: str, path: str) -> None:
    sc = scenario(**kw)
    ip = address_only_in("AzureCloud.japaneast")
    sc.event("acr1", ip=ip, identity=STRANGER, status=result)
    flow = audit_flow(tmp_path, sc, ip)
    assert flow["path"] == path
    reason = callers_reason(flow)
    assert "Microsoft-hosted Azure Pipelines agents (not a trusted service)" in reason
    assert "ACR import" in reason


def test_a_workspace_resource_is_read_with_its_registry() -> None:
    from pullpath.core.inventory import inventory_from_documents

    reg = rid("Microsoft.ContainerRegistry/registries", "acr1")
    inv = inventory_from_documents([("ws.json", workspace(reg))])
    (ws,) = inv.platform_callers.values()
    assert (ws.name, ws.registry_ids, ws.managed_identity) == (
        "testworkspace", (reg.lower(),), True)


def test_the_identity_of_a_workspace_is_named_not_attributed(tmp_path: Path) -> None:
    """The log's Identity is the workspace's system-assigned principal (the example's
    identity.principalId): the reason names the workspace, the consumer stays unattributed."""
    sc = scenario(ml=True)
    principal = workspace("")["identity"]["principalId"]
    ip = address_only_in("AzureCloud.japaneast")
    sc.event("acr1", ip=ip, identity=principal)
    flow = audit_flow(tmp_path, sc, ip)
    assert not flow["consumer"]["id"]
    reasons = [r for r in flow["reasons"] if "testworkspace" in r]
    assert len(reasons) == 1
    assert reasons[0].startswith(f"identity {principal} is a managed identity of Azure Machine "
                                 "Learning workspace testworkspace")
