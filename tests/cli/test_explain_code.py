"""``pullpath explain`` on infrastructure code, as a user runs it (issue 19): the lab's own
templates, Bicep, Terraform plans, code mixed with resources that exist, SARIF on the lines
that cause the results, ``--baseline`` and the pre-commit hooks.

Expected paths are never written here: they come from ``lab plan`` (explain on the lab's own
would-be inventory) or from a variant whose single change implies the difference."""

from __future__ import annotations

import json
import shlex
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from pullpath.cli.app import app
from pullpath.domain.iac import PLACEHOLDER_SUBSCRIPTION
from pullpath.lab.predict import would_be_inventory_documents
from pullpath.lab.render import lab_names, render
from pullpath.lab.scenarios import list_scenarios, load_scenario
from tests.support import ROOT, TESTS

TF = TESTS / "data" / "iac" / "terraform"
BICEP = TESTS / "data" / "iac" / "bicep"
SARIF_SCHEMA = TESTS / "data" / "sarif" / "sarif-schema-2.1.0.json"
RUN = "k3v9x2ab"

runner = CliRunner()


def invoke(*args: str | Path, env: dict[str, str] | None = None) -> Any:
    result = runner.invoke(app, [str(a) for a in args], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    return result


def scenarios_and_variants() -> list[str]:
    out = []
    for name in list_scenarios():
        out.append(name)
        out += [f"{name}:{v}" for v in load_scenario(name).variants]
    return out


def lab_plan(tmp: Path, scenario: str) -> dict[str, Any]:
    """``pullpath lab plan -d`` as a user runs it: templates, parameters and plan.json."""
    result = invoke("lab", "plan", scenario, "--run-id", RUN, "-d", tmp, "-f", "json")
    assert result.exit_code == 0, result.stderr
    plan: dict[str, Any] = json.loads((tmp / "plan.json").read_text(encoding="utf-8"))
    return plan


def explain_lab_templates(tmp: Path, plan: dict[str, Any], *more: str | Path) -> Any:
    rg = f"/subscriptions/{PLACEHOLDER_SUBSCRIPTION}/resourceGroups/{plan['resource_group']}"
    return invoke("explain", "-t", tmp / "base.template.json", "-p", tmp / "base.parameters.json",
                  "-t", tmp / "consumers.template.json", "-p",
                  tmp / "consumers.parameters.json", "--resource-group-id", rg, *more)


@pytest.mark.parametrize("scenario", scenarios_and_variants())
def test_lab_plan_templates_predict_what_lab_plan_states(tmp_path: Path, scenario: str) -> None:
    plan = lab_plan(tmp_path, scenario)
    result = explain_lab_templates(tmp_path, plan, "-f", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    got = {p["consumer"]["name"]: (p["expected_path"], p["rule"]) for p in doc["pairs"]}
    names = lab_names(load_scenario(*scenario.split(":")), RUN)
    stated = {names.consumer(p["consumer"]): (p["path"], p["rule"]) for p in plan["prediction"]}
    assert stated
    assert got == stated
    assert doc["code"] == [f"ARM template {tmp_path.as_posix()}/base.template.json",
                           f"ARM template {tmp_path.as_posix()}/consumers.template.json"]
    assert not [n for n in doc["notes"] if "which it does not create" in n]


@lru_cache(maxsize=1)
def sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(schema)


def line_at(uri: str, line: int) -> str:
    path = ROOT / uri if not Path(uri).is_absolute() else Path(uri)
    return path.read_text(encoding="utf-8").splitlines()[line - 1]


def sarif_of(result: Any) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(result.stdout)
    errors = sorted(sarif_validator().iter_errors(log), key=str)
    assert not errors, errors[0]
    return log


def test_terraform_variant_findings_sit_on_the_lines_that_cause_them(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The trusted-off plan (network_rule_bypass_option = "None"): PP001 on the registry's
    block, the refused pull on the container group's block, each line read back."""
    monkeypatch.chdir(ROOT)
    plan = (TF / "field-report-trusted-off" / "plan.json").relative_to(ROOT)
    result = invoke("explain", "--terraform-plan", plan, "-f", "sarif",
                    "--fail-on-severity", "error")
    assert result.exit_code == 1  # PP001 is an error
    results = sarif_of(result)["runs"][0]["results"]
    by_rule = {r["ruleId"]: r for r in results}
    for rule, declaration in (("PP001", 'resource "azurerm_container_registry"'),
                              ("PPE001", 'resource "azurerm_container_group"')):
        phys = by_rule[rule]["locations"][0]["physicalLocation"]
        assert phys["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        uri = phys["artifactLocation"]["uri"]
        assert uri.endswith("field-report-trusted-off/main.tf")
        assert not Path(uri).is_absolute()
        assert line_at(uri, phys["region"]["startLine"]).startswith(declaration)
    assert by_rule["PPE001"]["level"] == "error"
    assert "denied" in by_rule["PPE001"]["message"]["text"]


def test_bicep_lines_and_the_same_prediction_as_the_lab(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    plan = lab_plan(tmp_path, "field-report")
    monkeypatch.chdir(ROOT)
    rg = f"/subscriptions/{PLACEHOLDER_SUBSCRIPTION}/resourceGroups/{plan['resource_group']}"
    # the Bicep file takes the lab's names as parameters (both templates' values)
    values = {**json.loads((tmp_path / "base.parameters.json").read_text())["parameters"],
              **json.loads((tmp_path / "consumers.parameters.json").read_text())["parameters"]}
    params = tmp_path / "main.parameters.json"
    params.write_text(json.dumps({"parameters": values}), encoding="utf-8")
    bicep = (BICEP / "field-report" / "main.bicep").relative_to(ROOT)
    result = invoke("explain", "-t", bicep, "-p", params, "--resource-group-id", rg,
                    "--location", plan["location"], "-f", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    names = lab_names(load_scenario("field-report"), RUN)
    got = {p["consumer"]["name"]: p["expected_path"] for p in doc["pairs"]}
    assert got == {names.consumer(p["consumer"]): p["path"] for p in plan["prediction"]}
    for pair in doc["pairs"]:
        where = pair["consumer"]["location"]
        assert line_at(where["file"], where["line"]).startswith(
            f"resource {where['address']} ")


def test_code_over_an_inventory_takes_what_it_refers_to_from_the_inventory(
        tmp_path: Path) -> None:
    """The consumers template alone refers to the VNet, registry and identities it does not
    create: without them the paths cannot be predicted and the notes name each missing one;
    with them as --inventory (what exists once the base step ran) the prediction is the
    lab's."""
    plan = lab_plan(tmp_path, "field-report")
    rg = f"/subscriptions/{PLACEHOLDER_SUBSCRIPTION}/resourceGroups/{plan['resource_group']}"
    alone = invoke("explain", "-t", tmp_path / "consumers.template.json", "-p",
                   tmp_path / "consumers.parameters.json", "--resource-group-id", rg, "-f", "json")
    assert alone.exit_code == 0, alone.stderr
    doc = json.loads(alone.stdout)
    missing = [n for n in doc["notes"] if "which it does not create" in n]
    assert any("/subnets/aci" in n for n in missing)
    assert {p["expected_path"] for p in doc["pairs"]} <= {"unknown"}

    s = load_scenario("field-report")
    lab = render(s, lab_names(s, RUN), plan["location"])
    existing = tmp_path / "existing.json"
    base_only = [d for d in would_be_inventory_documents(lab)
                 if d["type"] not in ("Microsoft.ContainerInstance/containerGroups",
                                      "Microsoft.App/containerApps")]
    existing.write_text(json.dumps({"value": base_only}), encoding="utf-8")
    mixed = invoke("explain", "-t", tmp_path / "consumers.template.json", "-p",
                   tmp_path / "consumers.parameters.json", "--resource-group-id", rg,
                   "-i", existing, "-f", "json")
    assert mixed.exit_code == 0, mixed.stderr
    doc = json.loads(mixed.stdout)
    assert not [n for n in doc["notes"] if "which it does not create" in n]
    names = lab_names(s, RUN)
    assert {p["consumer"]["name"]: p["expected_path"] for p in doc["pairs"]} == \
        {names.consumer(p["consumer"]): p["path"] for p in plan["prediction"]}


def test_the_code_replaces_the_inventory_s_version_of_a_resource(tmp_path: Path) -> None:
    """The inventory holds the field report as deployed (trusted services on); the code is the
    trusted-off variant of the same names: the code's registry wins, no conflict, and the
    note counts what was replaced."""
    plan = lab_plan(tmp_path / "off", "field-report:trusted-off")
    s = load_scenario("field-report")
    lab = render(s, lab_names(s, RUN), plan["location"])
    existing = tmp_path / "existing.json"
    existing.write_text(json.dumps({"value": would_be_inventory_documents(lab)}), "utf-8")
    result = explain_lab_templates(tmp_path / "off", plan, "-i", existing, "-f", "json")
    doc = json.loads(result.stdout)
    names = lab_names(s, RUN)
    got = {p["consumer"]["name"]: p["expected_path"] for p in doc["pairs"]}
    assert got == {names.consumer(p["consumer"]): p["path"] for p in plan["prediction"]}
    assert any("replaced by their version in the code" in n for n in doc["notes"])
    assert not doc["inventory"].get("conflicts")


def test_baseline_shows_the_changed_consumer_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    after = (TF / "field-report-trusted-off" / "plan.json").relative_to(ROOT)
    before = (TF / "field-report" / "plan.json").relative_to(ROOT)
    table = invoke("explain", "--terraform-plan", after, "--baseline", before,
                   env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.stderr
    out = table.stdout
    assert out.index("Path changes against") < out.index("Predicted pull paths")
    change_row = next(line for line in out.splitlines() if "→" in line)
    assert "trusted-service" in change_row
    assert "denied" in change_row
    assert "ci-orders-worker" in change_row
    doc = json.loads(invoke("explain", "--terraform-plan", after, "--baseline", before,
                            "-f", "json").stdout)
    assert doc["baseline"] == before.as_posix()
    assert [(c["consumer"]["label"], c["before"], c["after"]) for c in doc["changes"]] == \
        [("ACI ci-orders-worker", "trusted-service", "denied")]
    same = json.loads(invoke("explain", "--terraform-plan", before, "--baseline", before,
                             "-f", "json").stdout)
    assert same["changes"] == []
    md = invoke("explain", "--terraform-plan", after, "--baseline", before, "-f", "markdown")
    assert md.stdout.index("## Path changes against") < md.stdout.index("## Path diagram")
    html = invoke("explain", "--terraform-plan", after, "--baseline", before, "-f", "html")
    assert html.stdout.index("id=\"changes\"") < html.stdout.index("id=\"diagram\"")


def test_an_inventory_baseline_is_what_exists_today(tmp_path: Path) -> None:
    plan = lab_plan(tmp_path / "off", "field-report:trusted-off")
    s = load_scenario("field-report")
    lab = render(s, lab_names(s, RUN), plan["location"])
    today = tmp_path / "today"
    today.mkdir()
    (today / "resources.json").write_text(
        json.dumps({"value": would_be_inventory_documents(lab)}), "utf-8")
    doc = json.loads(explain_lab_templates(tmp_path / "off", plan, "--baseline", today,
                                           "-f", "json").stdout)
    assert [(c["before"], c["after"]) for c in doc["changes"]] == [("trusted-service", "denied")]


@pytest.mark.parametrize(("args", "message"), [
    (["--parameters", "x.json"], "applies to infrastructure code"),
    (["--baseline", "x.json", "-i", "."], "applies to infrastructure code"),
    (["-t", "a.json", "-t", "b.json", "-p", "1.json", "-p", "2.json", "-p", "3.json"],
     "3 --parameters for 2 --template"),
    (["-t", "missing.json"], "no such file"),
    (["--terraform-plan", "nope.json"], "no such file"),
])
def test_usage_errors_exit_2_with_one_line(args: list[str], message: str) -> None:
    result = invoke("explain", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("content", "message"), [
    ('{"format_version": "1.2", "planned_values": {}}', "a Terraform plan"),
    ('{"value": []}', "not a deployment template"),
    ("resource x 'y' = {", "not JSON"),
])
def test_wrong_files_exit_2_naming_what_they_are(tmp_path: Path, content: str,
                                                 message: str) -> None:
    path = tmp_path / "t.json"
    path.write_text(content, encoding="utf-8")
    result = invoke("explain", "-t", path)
    assert result.exit_code == 2
    assert message.lower() in result.stderr.lower()
    assert "Traceback" not in result.stderr


def test_an_unparsable_bicep_file_says_to_build_it(tmp_path: Path) -> None:
    path = tmp_path / "main.bicep"
    path.write_text("resource x 'Microsoft.Foo/bar@2020-01-01' = {{{\n", encoding="utf-8")
    result = invoke("explain", "-t", path)
    assert result.exit_code == 2
    assert "az bicep build" in result.stderr


def test_a_template_given_as_inventory_is_named(tmp_path: Path) -> None:
    plan = lab_plan(tmp_path, "field-report")
    result = invoke("explain", "-i", tmp_path / "base.template.json", "-f", "json")
    doc = json.loads(result.stdout)
    assert plan["resource_group"]
    assert any("ARM deployment template" in i["problem"] and "--template" in i["problem"]
               for i in doc["inventory"]["issues"])


def test_the_output_is_never_one_of_the_code_inputs(tmp_path: Path) -> None:
    lab_plan(tmp_path, "field-report")
    template = tmp_path / "base.template.json"
    before = template.read_bytes()
    result = invoke("explain", "-t", template, "-o", template)
    assert result.exit_code == 2
    assert "is the input --template" in result.stderr
    assert template.read_bytes() == before


def test_pre_commit_hooks_run_as_documented(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each hook of .pre-commit-hooks.yaml, its entry with the args docs/ci.md shows (on the
    repository's fixtures): the template hook passes, the Terraform hook fails on the variant
    whose registry refuses ACI (exit 1), as a pre-commit hook must."""
    monkeypatch.chdir(ROOT)
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"pullpath-explain-template", "pullpath-explain-terraform"}
    for hook in hooks.values():
        assert hook["pass_filenames"] is False
        assert hook["language"] == "python"
    ci = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    assert "id: pullpath-explain-template" in ci
    assert "id: pullpath-explain-terraform" in ci

    def run(hook: str, *args: str | Path) -> Any:
        entry = shlex.split(hooks[hook]["entry"])
        assert entry[0] == "pullpath"
        return invoke(*entry[1:], *args)

    template = (TESTS / "data" / "iac" / "arm-authored" / "field-report-switch.json"
                ).relative_to(ROOT)
    mistake = template.with_name("field-report-switch.trusted-off.parameters.json")
    ok = run("pullpath-explain-template", "--template", template, "--location", "japaneast")
    assert ok.exit_code == 0, ok.stderr
    bad = run("pullpath-explain-template", "--template", template, "--parameters", mistake,
              "--location", "japaneast")
    assert bad.exit_code == 1
    tf = TF.relative_to(ROOT)
    ok = run("pullpath-explain-terraform", "--terraform-plan", tf / "field-report" / "plan.json")
    assert ok.exit_code == 0, ok.stderr
    bad = run("pullpath-explain-terraform", "--terraform-plan",
              tf / "field-report-trusted-off" / "plan.json")
    assert bad.exit_code == 1
    assert "PP001" in bad.stdout


AUTHORED = TESTS / "data" / "iac" / "arm-authored"


def region_text(phys: dict[str, Any]) -> str:
    lines = (ROOT / phys["artifactLocation"]["uri"]).read_text(encoding="utf-8").splitlines()
    region = phys["region"]
    return "\n".join(lines[region["startLine"] - 1:region["endLine"]])


def test_a_hand_written_template_and_its_one_mistake(monkeypatch: pytest.MonkeyPatch) -> None:
    """The field report as a user writes azuredeploy.json, and the same with trustedServices
    false: the finding sits on the registry's resource object, the refused pull on the
    container group's, and the baseline names what changed first."""
    monkeypatch.chdir(ROOT)
    template = (AUTHORED / "field-report-switch.json").relative_to(ROOT)
    mistake = (AUTHORED / "field-report-switch.trusted-off.parameters.json").relative_to(ROOT)
    good = invoke("explain", "-t", template, "--location", "japaneast", "-f", "json")
    assert good.exit_code == 0, good.stderr
    paths = {p["consumer"]["kind"]: p["expected_path"] for p in json.loads(good.stdout)["pairs"]}
    assert paths["aci"] == "trusted-service"  # the field report's observation
    assert paths["aca"] == "private-endpoint"

    bad = invoke("explain", "-t", template, "-p", mistake, "--location", "japaneast",
                 "-f", "sarif", "--fail-on-severity", "error")
    assert bad.exit_code == 1
    by_rule = {r["ruleId"]: r for r in sarif_of(bad)["runs"][0]["results"]}
    registry = region_text(by_rule["PP001"]["locations"][0]["physicalLocation"])
    assert '"type": "Microsoft.ContainerRegistry/registries"' in registry
    group = region_text(by_rule["PPE001"]["locations"][0]["physicalLocation"])
    assert '"type": "Microsoft.ContainerInstance/containerGroups"' in group

    doc = json.loads(invoke("explain", "-t", template, "-p", mistake, "--location", "japaneast",
                            "--baseline", template, "-f", "json").stdout)
    assert doc["changes"] == []  # the baseline template takes the same parameters
    defaults = AUTHORED / "no.parameters.json"
    doc = json.loads(invoke("explain", "-t", template, "-p", mistake, "--location", "japaneast",
                            "--baseline", template, "--baseline-parameters", defaults,
                            "-f", "json").stdout)
    (change,) = doc["changes"]
    assert (change["before"], change["after"]) == ("trusted-service", "denied")
    assert "networkRuleBypassOptions None" in change["why"][0]


def test_without_the_region_the_note_says_to_give_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    template = (AUTHORED / "field-report-switch.json").relative_to(ROOT)
    doc = json.loads(invoke("explain", "-t", template, "-f", "json").stdout)
    assert "--location" in doc["notes"][0]
    aca = next(p for p in doc["pairs"] if p["consumer"]["kind"] == "aca")
    assert aca["expected_path"] == "unknown"
    assert any("region" in m for m in aca["missing"])
