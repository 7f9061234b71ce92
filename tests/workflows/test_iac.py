"""``workflows.iac.explain_code``: the code's version of a resource replaces the inventory's.

The inventory is the lab's field report as deployed (its would-be documents: the VNet holds its
subnets inline); the code redeclares one of those subnets on its own, as Terraform's
``azurerm_subnet`` or an ARM child resource does."""

from __future__ import annotations

import copy
from typing import Any

from pullpath.domain.iac import IacDocument, IacKind, SourceLocation
from pullpath.domain.inventory import norm_id
from pullpath.lab.predict import would_be_inventory_documents
from pullpath.lab.render import lab_names, render
from pullpath.lab.scenarios import load_scenario
from pullpath.workflows.iac import explain_code


def deployed() -> list[dict[str, Any]]:
    s = load_scenario("field-report")
    return would_be_inventory_documents(render(s, lab_names(s, "k3v9x2ab"), "japaneast"))


def test_a_subnet_the_code_redeclares_replaces_the_inline_one_without_a_conflict() -> None:
    docs = deployed()
    vnet = next(d for d in docs if d["type"] == "Microsoft.Network/virtualNetworks")
    inline = next(s for s in vnet["properties"]["subnets"] if s["properties"].get("delegations"))
    subnet_id = f"{vnet['id']}/subnets/{inline['name']}"
    redeclared = copy.deepcopy(inline)
    redeclared["properties"]["addressPrefix"] = "10.0.9.0/24"  # what the change does
    redeclared.update(id=subnet_id, type="Microsoft.Network/virtualNetworks/subnets")
    code = IacDocument(IacKind.TERRAFORM_PLAN, "plan.json", resources=(redeclared,),
                       locations={norm_id(subnet_id): SourceLocation("main.tf", 12, 1)})
    report = explain_code([code], [("deployed.json", {"value": docs})])
    assert not [i for i in report.inventory.issues if "conflict" in i[2].lower()]
    assert "1 resource(s) of the inventory are replaced by their version in the code" in \
        report.notes
    assert report.location_of(subnet_id) == SourceLocation("main.tf", 12, 1)
    # without the code, the same inventory gives the lab's prediction; with it, the pairs
    # still name the redeclared subnet (read once, from the code)
    alone = explain_code([], [("deployed.json", {"value": docs})])
    assert {p.consumer.id for p in report.pairs} == {p.consumer.id for p in alone.pairs}


def test_code_proves_a_grant_it_makes_but_not_the_absence_of_one() -> None:
    """Infrastructure code holds only its own role assignments: the identity's AcrPull
    written in the template proves it may pull; without it (granted elsewhere, perhaps) the
    role is unknown, never "holds no role" (which would predict a refused pull)."""
    from dataclasses import replace
    from pathlib import Path

    from pullpath.adapters.iac_files import read_template_file
    from pullpath.domain.iac import DeploymentScope

    template = Path(__file__).resolve().parents[1] / "data" / "iac" / "arm-authored" / \
        "field-report-switch.json"
    doc = read_template_file(template, None, DeploymentScope(location="japaneast"))

    def role_fact(code: IacDocument) -> object:
        report = explain_code([code])
        aci = next(p for p in report.pairs if p.consumer.kind.value == "aci")
        assert aci.expected_path.value != "denied"
        return dict(aci.facts)["credential.has_pull_role"]

    assert role_fact(doc) is True
    # the template's AcrPull goes to another principal: this identity's is not in the code
    other = replace(doc, resources=tuple(
        {**r, "properties": {**r["properties"],
                             "principalId": "11111111-2222-3333-4444-555555555555"}}
        if r["type"] == "Microsoft.Authorization/roleAssignments" else r
        for r in doc.resources))
    assert role_fact(other) is None
