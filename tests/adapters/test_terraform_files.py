"""read_plan_file: a plan file on disk, its resources located in the .tf files (a test reads each
line back), and every input that is not a plan refused with one line saying what to run."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from pullpath.adapters.terraform_files import (
    MAX_PLAN_BYTES,
    TerraformPlanError,
    read_plan_file,
    scan_blocks,
)
from pullpath.domain.iac import IacDocument, is_unknown_value
from pullpath.domain.inventory import norm_id
from pullpath.knowledge.loader import default_knowledge

DATA = Path(__file__).resolve().parents[1] / "data" / "iac" / "terraform"


def copy_fixture(tmp_path: Path, name: str = "field-report") -> Path:
    target = tmp_path / name
    shutil.copytree(DATA / name, target)
    return target


def location_of(doc: IacDocument, arm_type: str, name: str) -> tuple[str, int, int, int, str]:
    res = next(r for r in doc.resources if r["type"] == arm_type and r["name"] == name)
    loc = doc.locations[norm_id(res["id"])]
    return loc.file, loc.line, loc.column, loc.end_line, loc.address


def line(file: str, number: int) -> str:
    return Path(file).read_text(encoding="utf-8").splitlines()[number - 1]


def test_each_resource_points_at_its_block_in_the_tf_files(tmp_path: Path) -> None:
    folder = copy_fixture(tmp_path)
    doc = read_plan_file(folder / "plan.json")
    file, number, column, end, address = location_of(
        doc, "Microsoft.ContainerInstance/containerGroups", "ci-orders-worker")
    assert file == (folder / "main.tf").as_posix()
    assert line(file, number) == 'resource "azurerm_container_group" "orders_worker" {'
    assert column == 1
    assert line(file, end) == "}"
    assert address == "azurerm_container_group.orders_worker"
    # a module's resource (for_each) is found in the module's source directory
    file, number, _, _, address = location_of(
        doc, "Microsoft.Network/virtualNetworks/subnets", "aci")
    assert file == (folder / "modules" / "network" / "main.tf").as_posix()
    assert line(file, number) == 'resource "azurerm_subnet" "this" {'
    assert address == 'module.network.azurerm_subnet.this["aci"]'
    for res in doc.resources:
        loc = doc.locations[norm_id(res["id"])]
        assert loc.line > 0
        assert line(loc.file, loc.line).startswith('resource "azurerm_')


def test_tf_dirs_give_the_configuration_of_a_plan_kept_elsewhere(tmp_path: Path) -> None:
    folder = copy_fixture(tmp_path)
    plans = tmp_path / "plans"
    plans.mkdir()
    shutil.move(folder / "plan.json", plans / "plan.json")
    alone = read_plan_file(plans / "plan.json")
    assert all(loc.line == 0 and loc.file == (plans / "plan.json").as_posix()
               for loc in alone.locations.values())
    located = read_plan_file(plans / "plan.json", tf_dirs=[folder])
    file, number, *_ = location_of(located, "Microsoft.App/containerApps", "ca-orders-api")
    assert line(file, number) == 'resource "azurerm_container_app" "orders_api" {'


def test_a_module_installed_by_terraform_init_is_found_from_its_manifest(tmp_path: Path) -> None:
    folder = copy_fixture(tmp_path)
    shutil.move(folder / "modules" / "network", tmp_path / "installed")
    manifest = folder / ".terraform" / "modules"
    manifest.mkdir(parents=True)
    (manifest / "modules.json").write_text(json.dumps({"Modules": [
        {"Key": "", "Source": "", "Dir": "."},
        {"Key": "network", "Source": "registry.example/net/azurerm", "Dir":
            os.path.relpath(tmp_path / "installed", folder)}]}), encoding="utf-8")
    doc = read_plan_file(folder / "plan.json")
    file, number, *_ = location_of(doc, "Microsoft.Network/virtualNetworks", "vnet-field-report")
    assert line(file, number) == 'resource "azurerm_virtual_network" "this" {'


def test_role_names_become_role_definition_ids_from_the_knowledge_base(tmp_path: Path) -> None:
    doc = read_plan_file(copy_fixture(tmp_path) / "plan.json")
    acr_pull = next(r.id for r in default_knowledge().pull_roles if r.name == "AcrPull")
    roles = [r for r in doc.resources if r["type"] == "Microsoft.Authorization/roleAssignments"]
    assert len(roles) == 2
    assert all(r["properties"]["roleDefinitionId"].endswith(f"/{acr_pull}") for r in roles)


def test_the_block_scanner_skips_comments_heredocs_and_strings() -> None:
    text = "\n".join([
        '# resource "azurerm_subnet" "commented" {',
        "/*",
        'resource "azurerm_subnet" "in_block_comment" {',
        "*/",
        'resource "azurerm_container_group" "cg" {',
        '  name = "a { brace in a string"  # a comment {',
        '  note = "# not a comment /* nor this"  /* but { this */',
        "  script = <<EOT",
        'resource "azurerm_subnet" "in_heredoc" {',
        "}",
        "EOT",
        "  container {",
        "  }",
        "}",
        '  data "azurerm_subnet" "existing" {',
        "}",
    ])
    found = scan_blocks(text, "x.tf")
    assert set(found) == {("resource", "azurerm_container_group", "cg"),
                          ("data", "azurerm_subnet", "existing")}
    cg = found[("resource", "azurerm_container_group", "cg")]
    assert (cg.line, cg.column, cg.end_line) == (5, 1, 14)
    assert found[("data", "azurerm_subnet", "existing")].column == 3


def test_a_block_written_twice_has_no_line(tmp_path: Path) -> None:
    folder = copy_fixture(tmp_path)
    text = (folder / "main.tf").read_text(encoding="utf-8")
    start = text.index('resource "azurerm_container_group"')
    (folder / "copy.tf").write_text(text[start:], encoding="utf-8")
    doc = read_plan_file(folder / "plan.json")
    _, number, *_ = location_of(doc, "Microsoft.ContainerInstance/containerGroups",
                                "ci-orders-worker")
    assert number == 0


@pytest.mark.parametrize(("content", "says"), [
    (b"{not json", "not JSON"),
    (b'terraform {\n  required_version = ">= 1.5"\n}\nresource "azurerm_resource_group" "x" {\n}\n',
     "Terraform configuration (HCL), not a plan"),
    (b"PK\x03\x04binary", "binary plan file"),
    (b"\xff\xfe\x00garbage", "not UTF-8"),
    (json.dumps({"format_version": "1.0", "terraform_version": "1.9.8",
                 "values": {"root_module": {}}}).encode(), "of a state, not of a plan"),
    (json.dumps({"format_version": "0.2", "planned_values": {}}).encode(), "not supported"),
    (b"[]", "a JSON array"),
])
def test_what_is_not_a_plan_is_refused_in_one_line(tmp_path: Path, content: bytes,
                                                   says: str) -> None:
    path = tmp_path / "input.json"
    path.write_bytes(content)
    with pytest.raises(TerraformPlanError) as err:
        read_plan_file(path)
    message = str(err.value)
    assert says in message
    assert "\n" not in message
    assert message.startswith(str(path))
    if "supported" not in says:
        assert "terraform show -json" in message


def test_a_missing_file_a_directory_and_a_huge_file_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TerraformPlanError, match="cannot be read"):
        read_plan_file(tmp_path / "absent.json")
    with pytest.raises(TerraformPlanError, match="a directory"):
        read_plan_file(tmp_path)
    huge = tmp_path / "huge.json"
    with huge.open("wb") as f:
        f.truncate(MAX_PLAN_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(TerraformPlanError, match="larger than"):
        read_plan_file(huge)


def test_a_tf_file_that_cannot_be_decoded_costs_only_its_lines(tmp_path: Path) -> None:
    folder = copy_fixture(tmp_path)
    (folder / "broken.tf").write_bytes(b"\xff\xfe\x00 resource {{{{")
    doc = read_plan_file(folder / "plan.json")
    file, number, *_ = location_of(doc, "Microsoft.ContainerRegistry/registries",
                                   "acrfieldreport")
    assert line(file, number) == 'resource "azurerm_container_registry" "acr" {'


@pytest.mark.parametrize(("environment", "suffix"), [
    (None, "azurecr.io"), ("usgovernment", "azurecr.us"), ("china", "azurecr.cn"),
    ("german", None)])
def test_a_new_registry_login_server_follows_the_providers_cloud(
        tmp_path: Path, environment: str | None, suffix: str | None) -> None:
    folder = copy_fixture(tmp_path)
    plan = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
    if environment is not None:
        plan["configuration"]["provider_config"]["azurerm"]["expressions"]["environment"] = {
            "constant_value": environment}
    (folder / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    doc = read_plan_file(folder / "plan.json")
    registry = next(r for r in doc.resources
                    if r["type"] == "Microsoft.ContainerRegistry/registries")
    server = registry["properties"]["loginServer"]
    if suffix is None:
        assert is_unknown_value(server)
    else:
        assert server == f"{registry['name']}.{suffix}"
        assert any(server in u and "stands in" in u for u in doc.unknowns)
