"""ARM template and parameters files: what is read, where each resource is written (read back
from the file), and one clear error for everything else a user may hand over."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from pullpath.adapters.iac_files import (
    MAX_FILE_BYTES,
    IacFileError,
    read_parameters_file,
    read_template_file,
)
from pullpath.cli.app import app
from pullpath.domain.iac import DeploymentScope, IacDocument, is_unknown_value
from pullpath.domain.inventory import norm_id
from tests.support import TESTS

QUICKSTARTS = TESTS / "data" / "iac" / "arm"
SCOPE = DeploymentScope(resource_group="rg-app", location="westeurope")


def assert_locations_point_at_the_resources(doc: IacDocument, text: str) -> None:
    """Each resource's location is the line and column of the opening ``{`` of its object,
    and its ``"type"`` is written between that line and ``end_line``."""
    lines = text.splitlines()
    assert doc.locations
    for r in doc.resources:
        loc = doc.locations[norm_id(r["id"])]
        assert loc.file == doc.path
        if r["type"] == "Microsoft.Network/privateDnsZones/A":  # written where its zone group is
            assert "privateDnsZoneGroups" in "\n".join(lines[loc.line - 1: loc.end_line])
            continue
        assert lines[loc.line - 1][loc.column - 1] == "{", (loc, lines[loc.line - 1])
        body = "\n".join(lines[loc.line - 1: loc.end_line])
        declared = r["type"].rsplit("/", 1)[-1]
        assert '"type"' in body
        assert declared in body


def test_lab_plan_files_are_read_with_their_lines(tmp_path: Path) -> None:
    out = tmp_path / "plan"
    result = CliRunner().invoke(app, ["lab", "plan", "--run-id", "k3v9x2ab",
                                      "--output-dir", str(out)])
    assert result.exit_code == 0, result.output
    base = read_template_file(out / "base.template.json", out / "base.parameters.json", SCOPE)
    assert base.issues == ()
    assert base.path == (out / "base.template.json").as_posix()
    assert_locations_point_at_the_resources(base, (out / "base.template.json").read_text())
    assert {loc.address for loc in base.locations.values()} == {
        f"resources[{i}]" for i in range(len(json.loads(
            (out / "base.template.json").read_text())["resources"]))}


@pytest.mark.parametrize(("name", "parameters"), [
    ("container-app-acr", None),
    ("aci-vnet", "azuredeploy.parameters.json"),
    ("container-registry", "azuredeploy.parameters.json"),
    ("private-endpoint", "azuredeploy.parameters.json"),
])
def test_quickstart_files(name: str, parameters: str | None) -> None:
    folder = QUICKSTARTS / name
    doc = read_template_file(folder / "azuredeploy.json",
                             folder / parameters if parameters else None, SCOPE)
    assert doc.issues == ()
    raw = json.loads((folder / "azuredeploy.json").read_text())
    top_types = {r["type"] for r in raw["resources"]} - {"Microsoft.Resources/deployments"}
    assert top_types <= {r["type"] for r in doc.resources}
    assert_locations_point_at_the_resources(doc, (folder / "azuredeploy.json").read_text())
    if parameters:
        given = json.loads((folder / parameters).read_text())["parameters"]
        names = {r["name"] for r in doc.resources}
        assert all(p["value"] in names for k, p in given.items() if k.endswith("Name"))


def test_nested_resource_location_is_inside_the_nested_template() -> None:
    path = QUICKSTARTS / "container-app-acr" / "azuredeploy.json"
    doc = read_template_file(path, None, SCOPE)
    (registry,) = [r for r in doc.resources if r["type"] == "Microsoft.ContainerRegistry/registries"]
    loc = doc.locations[norm_id(registry["id"])]
    assert loc.address == "resources[5].properties.template.resources[0]"
    lines = path.read_text().splitlines()
    assert '"Microsoft.ContainerRegistry/registries"' in lines[loc.line]  # the line after "{"


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    text = (QUICKSTARTS / "aci-vnet" / "azuredeploy.json").read_text()
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    doc = read_template_file(path, None, SCOPE)
    assert len(doc.resources) == 3
    assert_locations_point_at_the_resources(doc, text)


# ------------------------------------------------------------------ parameters files


def test_parameters_file_shapes(tmp_path: Path) -> None:
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(json.dumps({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/"
                   "deploymentParameters.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"acrName": {"value": "acrone"}, "secret": {"reference": {
            "keyVault": {"id": "/subscriptions/s/resourceGroups/r/providers/"
                               "Microsoft.KeyVault/vaults/kv"}, "secretName": "pw"}}}}))
    values = read_parameters_file(wrapped)
    assert values["acrName"] == "acrone"
    assert is_unknown_value(values["secret"])
    assert "Key Vault secret pw," in values["secret"]
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({"acrName": "acrtwo", "acrSku": "Premium"}))
    assert read_parameters_file(plain) == {"acrName": "acrtwo", "acrSku": "Premium"}


def test_a_key_vault_parameter_is_unknown_in_the_document(tmp_path: Path) -> None:
    params = tmp_path / "p.json"
    params.write_text(json.dumps({"parameters": {"acrName": {"reference": {
        "keyVault": {"id": "kv"}, "secretName": "name"}}}}))
    doc = read_template_file(QUICKSTARTS / "container-registry" / "azuredeploy.json", params,
                             SCOPE)
    assert any("acrName" in u and "Key Vault" in u for u in doc.unknowns)


@pytest.mark.parametrize(("content", "message"), [
    ({"$schema": "x/deploymentParameters.json#", "contentVersion": "1.0.0.0"},
     "no 'parameters' object"),
    ({"parameters": {"a": 1}}, "parameter 'a' has neither 'value' nor 'reference'"),
    ({"resources": []}, "a deployment template, not a parameters file (give it with --template)"),
    ([1, 2], "a parameters file is a JSON object"),
])
def test_bad_parameters_files(tmp_path: Path, content: object, message: str) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(content))
    with pytest.raises(IacFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_parameters_file(path)


# ------------------------------------------------------------------ what is not a template


@pytest.mark.parametrize(("content", "message", "hint"), [
    ('{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/'
     'deploymentParameters.json#", "contentVersion": "1.0.0.0", "parameters": {}}',
     "a parameters file, not a deployment template",
     "give it with --parameters and the template with --template"),
    ('{"format_version": "1.2", "terraform_version": "1.9.0", "planned_values": {}}',
     "a Terraform plan (terraform show -json), not an ARM template",
     "give it with --terraform-plan"),
    ('{"value": [{"id": "/subscriptions/s", "type": "x"}]}',
     "an inventory export (a list of resources), not a deployment template",
     "give it with --inventory"),
    ('{"$schema": "https://json-schema.org/draft/2020-12/schema", "resources": []}',
     "its $schema is 'https://json-schema.org/draft/2020-12/schema'", "give the template file"),
    ('{"contentVersion": "1.0.0.0"}', "it has no 'resources'", "give the template file"),
    ('"text"', "not a JSON object", "give the template's JSON file"),
])
def test_what_is_not_a_template_says_what_it_looks_like(tmp_path: Path, content: str,
                                                        message: str, hint: str) -> None:
    path = tmp_path / "given.json"
    path.write_text(content)
    with pytest.raises(IacFileError) as caught:
        read_template_file(path, None, SCOPE)
    text = str(caught.value)
    assert text.startswith(path.as_posix() + ": ")
    assert message in text
    assert hint in text
    assert "\n" not in text


def test_not_json_says_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "resources": [\n    {"type": }\n  ]\n}\n')
    with pytest.raises(IacFileError) as caught:
        read_template_file(path, None, SCOPE)
    assert caught.value.line == 3
    assert caught.value.column == 14
    assert str(caught.value).startswith(f"{path.as_posix()}:3:14: not JSON: Expecting value")


def test_not_utf8_says_where(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{\n "resources": ["caf\xe9"]}')
    with pytest.raises(IacFileError, match=r"latin1.json:2:20: not UTF-8"):
        read_template_file(path, None, SCOPE)


def test_a_bicep_file_says_to_compile_it(tmp_path: Path) -> None:
    path = tmp_path / "main.bicep"
    shutil.copy(QUICKSTARTS / "container-registry" / "main.bicep", path)
    with pytest.raises(IacFileError, match="az bicep build --file"):
        read_template_file(path, None, SCOPE)


def test_too_large_a_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)  # sparse: nothing is written
    with pytest.raises(IacFileError, match="64 MiB"):
        read_template_file(path, None, SCOPE)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(IacFileError, match="cannot read the template"):
        read_template_file(tmp_path / "none.json", None, SCOPE)
    with pytest.raises(IacFileError, match="is a directory"):
        read_template_file(tmp_path, None, SCOPE)


def test_a_hand_written_template_locations() -> None:
    path = TESTS / "data" / "iac" / "arm-authored" / "field-report.json"
    doc = read_template_file(path, None, SCOPE)
    assert_locations_point_at_the_resources(doc, path.read_text())
    assert {loc.address for loc in doc.locations.values()} == {
        f"resources[{i}]" for i in range(len(json.loads(path.read_text())["resources"]))}


SEED = (QUICKSTARTS / "container-app-acr" / "azuredeploy.json").read_bytes()


@settings(max_examples=150, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, len(SEED)), insert=st.binary(max_size=8),
       keep_tail=st.booleans())
def test_a_damaged_template_file_is_an_error_or_a_document(
        tmp_path: Path, cut: int, insert: bytes, keep_tail: bool) -> None:
    """Bytes of a real template cut and spliced: read_template_file returns a document or
    raises IacFileError, nothing else."""
    data = SEED[:cut] + insert + (SEED[cut + len(insert):] if keep_tail else b"")
    path = tmp_path / "damaged.json"
    path.write_bytes(data)
    problem = ""
    try:
        doc: IacDocument | None = read_template_file(path, None, SCOPE)
    except IacFileError as e:
        doc, problem = None, str(e)
    assert "\n" not in problem
    assert (doc is None) == bool(problem)
