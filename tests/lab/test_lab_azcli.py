"""The generated `deploy.sh` of every scenario and variant, read by the real Azure CLI.

1. bash runs each script unchanged, with an ``az`` on PATH that records its arguments and
   answers what the script's control flow needs (IDs, "not yet" then "done" for every wait, a
   first authorisation failure of each consumer). So every ``az`` line, waits and retries
   included, is reached with its variables expanded by bash itself.
2. Every distinct recorded command line is then given to the real Azure CLI (the
   ``azure-cli`` package in its own virtual environment, tests/.azcli, installed by
   scripts/test) with no login, no extension installation and no network but a closed
   loopback proxy: each must get past argument parsing (it then asks for ``az login``);
   "unrecognized arguments", "is misspelled", a missing required argument or a value the CLI
   does not accept fails the test.
3. The resources the script creates are compared with the ARM templates' resources.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pullpath.lab.cli_script import az_cli_script
from pullpath.lab.render import RenderedLab, lab_names, render, would_be_resources
from pullpath.lab.scenarios import list_scenarios, load_scenario
from tests.support import TESTS

HERE = TESTS
AZ_VENV = Path(os.environ.get("PULLPATH_TEST_AZCLI", HERE / ".azcli"))
AZ_PYTHON = AZ_VENV / "bin" / "python"
RUN = "k3v9x2ab"
SCENARIOS = [ident for name in list_scenarios()
             for ident in (name, *(f"{name}:{v}" for v in load_scenario(name).variants))]
PARSE_ERRORS = ("unrecognized arguments", "is misspelled", "the following arguments are required",
                "is not a valid value", "expected one argument", "invalid choice",
                "not recognized by the system")

STUB = r'''#!{python}
"""az, recorded: appends its arguments to $AZ_STUB_LOG and answers what the script needs."""
import json, os, sys, uuid
args = sys.argv[1:]
log = os.environ["AZ_STUB_LOG"]
with open(log, "a", encoding="utf-8") as f:
    f.write(json.dumps(args) + "\n")
with open(log, encoding="utf-8") as f:
    seen = sum(1 for line in f if json.loads(line) == args)
def opt(*names):
    for n in names:
        if n in args:
            return args[args.index(n) + 1]
    return ""
query = opt("--query")
name = opt("-n", "--name")
if args[:2] == ["group", "exists"]:
    print("false")
elif args[:3] == ["role", "assignment", "list"] or "count" in " ".join(args):
    print("0" if seen == 1 else "1")  # every wait: not yet, then done
elif args[:2] in (["container", "create"], ["containerapp", "create"]) and seen == 1:
    print("ERROR: (InaccessibleImage) The image is not accessible. unauthorized: "
          "authentication required", file=sys.stderr)
    sys.exit(1)
elif query == "id":
    print(f"/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/"
          f"{opt('-g')}/providers/Test.{args[0]}/items/{name}")
elif query in ("principalId", "clientId", "customerId"):
    print(uuid.uuid5(uuid.NAMESPACE_URL, query + ":" + name))
elif query == "properties.runningStatus":
    print("Running" if seen == 1 else "Stopped")
'''


def lab_for(ident: str) -> RenderedLab:
    s = load_scenario(ident)
    return render(s, lab_names(s, RUN), "japaneast")


def run_script(script: str, tmp: Path) -> tuple[subprocess.CompletedProcess[str], list[list[str]]]:
    """bash runs the script unchanged with the recording az first on PATH."""
    bin_dir = tmp / "bin"
    bin_dir.mkdir(parents=True)
    stub = bin_dir / "az"
    stub.write_text(STUB.replace("{python}", sys.executable), encoding="utf-8")
    stub.chmod(0o755)
    log = tmp / "az.log"
    log.touch()
    path = tmp / "deploy.sh"
    path.write_text(script, encoding="utf-8")
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "HOME": str(tmp),
           "AZ_STUB_LOG": str(log), "POLL": "0", "LANG": "C.UTF-8"}
    done = subprocess.run(["bash", str(path)], capture_output=True, text=True, env=env,
                          timeout=120, check=False)
    calls = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    return done, calls


def command_words(argv: list[str]) -> tuple[str, ...]:
    words = []
    for a in argv:
        if a.startswith("-"):
            break
        words.append(a)
    return tuple(words)


def script_commands(script: str) -> set[tuple[str, ...]]:
    """The az command words each script line invokes (comments and echoed text left out)."""
    out: set[tuple[str, ...]] = set()
    for line in script.splitlines():
        code = line.split(" # ")[0]
        if code.lstrip().startswith("#"):
            continue
        code = re.sub(r'echo "[^"]*"', "", code)
        code = re.sub(r"'[^']*'", "''", code)
        for m in re.finditer(r"(?:^|[\s(;])az ((?:[a-z][a-z-]*\s+)+)", code):
            out.add(tuple(m.group(1).split()))
    return out


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[list[str]]]:
    out = {}
    for ident in SCENARIOS:
        script = az_cli_script(lab_for(ident))
        done, calls = run_script(script, tmp_path_factory.mktemp(ident.replace(":", "-")))
        assert done.returncode == 0, f"{ident}: {done.stderr[-2000:]}"
        out[ident] = calls
    return out


@pytest.mark.parametrize("ident", SCENARIOS)
def test_bash_reaches_every_az_line_of_the_script(ident: str,
                                                   recorded: dict[str, list[list[str]]]) -> None:
    script = az_cli_script(lab_for(ident))
    executed = {command_words(a) for a in recorded[ident]}
    missing = {" ".join(c) for c in script_commands(script)} - {" ".join(c) for c in executed}
    assert not missing, f"{ident}: never reached: {missing}"
    # the waits looped (the stub says "not yet" first) and the retries retried
    counts: dict[tuple[str, ...], int] = {}
    for a in recorded[ident]:
        counts[command_words(a)] = counts.get(command_words(a), 0) + 1
    assert counts[("role", "assignment", "list")] >= 2 * len(lab_for(ident).scenario.consumers)
    assert counts.get(("container", "create"), 0) == 2
    assert counts.get(("containerapp", "create"), 0) == 2


def _azcli_available() -> bool:
    return AZ_PYTHON.is_file()


def run_real_az(lines: list[list[str]], tmp: Path) -> list[dict[str, Any]]:
    config = tmp / "azure-config"
    config.mkdir()
    env = {
        "PATH": os.environ.get("PATH", ""), "HOME": str(tmp), "LANG": "C.UTF-8",
        "AZURE_CONFIG_DIR": str(config),
        "AZURE_EXTENSION_USE_DYNAMIC_INSTALL": "no",
        "AZURE_CORE_COLLECT_TELEMETRY": "no",
        "AZURE_CORE_NO_COLOR": "true",
        # nothing leaves the machine: any request goes to a closed loopback port
        "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9",
        "https_proxy": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9",
    }
    done = subprocess.run([str(AZ_PYTHON), str(HERE / "support" / "azcli_driver.py")],
                          input="".join(json.dumps(a) + "\n" for a in lines),
                          capture_output=True, text=True, env=env, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    results: list[dict[str, Any]] = json.loads(done.stdout)
    assert [r["argv"] for r in results] == lines
    return results


def parse_problems(result: dict[str, Any]) -> str:
    text = result["output"]
    if any(p in text for p in PARSE_ERRORS):
        return text.strip()[:600]
    if "az login" not in text:  # got past parsing and validation: it needs a login now
        return f"exit {result['exit']} without asking for a login: {text.strip()[:600]}"
    return ""


needs_az = pytest.mark.skipif(
    not _azcli_available() and not os.environ.get("CI"),
    reason=f"the Azure CLI test venv {AZ_VENV} is missing: scripts/test installs it "
           "(python3 -m venv tests/.azcli && tests/.azcli/bin/pip install azure-cli)")


@needs_az
def test_every_az_line_is_accepted_by_the_real_azure_cli(
        recorded: dict[str, list[list[str]]], tmp_path: Path) -> None:
    assert _azcli_available(), f"{AZ_PYTHON} is missing (CI must install it: scripts/test)"
    lines: list[list[str]] = []
    for calls in recorded.values():
        for argv in calls:
            if argv not in lines:
                lines.append(argv)
    results = run_real_az(lines, tmp_path)
    problems = {shlex.join(["az", *r["argv"]]): p for r in results if (p := parse_problems(r))}
    assert problems == {}


@needs_az
def test_the_check_catches_what_the_real_cli_refuses(tmp_path: Path) -> None:
    """The same check on lines the real CLI refuses: the old script's `--tags` on az
    container create, the extension-only `az monitor log-analytics query`, a missing
    required argument and a value the CLI does not accept."""
    assert _azcli_available(), f"{AZ_PYTHON} is missing (CI must install it: scripts/test)"
    bad = [
        ["container", "create", "-g", "rg", "-n", "ci", "--image", "a.azurecr.io/b:c",
         "--tags", "pullpath-lab=x"],
        ["monitor", "log-analytics", "query", "-w", "guid", "--analytics-query", "T"],
        ["container", "create", "-n", "ci", "--image", "a.azurecr.io/b:c"],
        ["acr", "update", "-n", "r", "--allow-trusted-services", "maybe"],
    ]
    results = run_real_az(bad, tmp_path)
    assert all(parse_problems(r) for r in results), [r["output"][:200] for r in results]


# ----------------------------------------------------------------------------- resources

def _opt(argv: list[str], *names: str) -> str:
    for n in names:
        if n in argv:
            return argv[argv.index(n) + 1]
    return ""


RESOURCE_COMMANDS = {
    ("monitor", "log-analytics", "workspace", "create"): "Microsoft.OperationalInsights/workspaces",
    ("acr", "create"): "Microsoft.ContainerRegistry/registries",
    ("monitor", "diagnostic-settings", "create"): "Microsoft.Insights/diagnosticSettings",
    ("network", "vnet", "create"): "Microsoft.Network/virtualNetworks",
    ("identity", "create"): "Microsoft.ManagedIdentity/userAssignedIdentities",
    ("network", "private-endpoint", "create"): "Microsoft.Network/privateEndpoints",
    ("network", "private-dns", "zone", "create"): "Microsoft.Network/privateDnsZones",
    ("network", "private-dns", "link", "vnet", "create"):
        "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
    ("network", "private-endpoint", "dns-zone-group", "create"):
        "Microsoft.Network/privateEndpoints/privateDnsZoneGroups",
    ("containerapp", "env", "create"): "Microsoft.App/managedEnvironments",
    ("container", "create"): "Microsoft.ContainerInstance/containerGroups",
    ("containerapp", "create"): "Microsoft.App/containerApps",
}


def script_resources(calls: list[list[str]]) -> set[tuple[str, str]]:
    out = set()
    for argv in calls:
        rtype = RESOURCE_COMMANDS.get(command_words(argv))
        if rtype is None:
            continue
        name = _opt(argv, "-n", "--name")
        if rtype.endswith("/virtualNetworkLinks"):
            name = f"{_opt(argv, '-z', '--zone-name')}/{name}"
        elif rtype.endswith("/privateDnsZoneGroups"):
            name = f"{_opt(argv, '--endpoint-name')}/{name}"
        out.add((rtype, name))
    return out


@pytest.mark.parametrize("ident", SCENARIOS)
def test_the_script_and_the_templates_build_the_same_resources(
        ident: str, recorded: dict[str, list[list[str]]]) -> None:
    lab = lab_for(ident)
    calls = recorded[ident]
    base, consumers, _ = would_be_resources(lab)
    templates = [*base, *consumers]
    from_templates = {(r.type, r.name) for r in templates
                      if r.type != "Microsoft.Authorization/roleAssignments"}
    assert script_resources(calls) == from_templates
    # one AcrPull assignment per identity, on the registry
    roles = [a for a in calls if command_words(a) == ("role", "assignment", "create")]
    assert len(roles) == sum(r.type == "Microsoft.Authorization/roleAssignments"
                             for r in templates)
    assert {_opt(a, "--role") for a in roles} == {"7f951dda-4ed3-4680-a7ca-43fe172d538d"}
    assert len({_opt(a, "--assignee-object-id") for a in roles}) == len(roles)
    # the subnets, their prefixes and delegations
    (vnet,) = [r for r in templates if r.type == "Microsoft.Network/virtualNetworks"]
    expected = {(s["name"], s["properties"]["addressPrefix"],
                 s["properties"].get("delegations", [{}])[0].get("properties", {})
                 .get("serviceName", "")) for s in vnet.body["properties"]["subnets"]}
    subnets = {(_opt(a, "-n"), _opt(a, "--address-prefixes"), _opt(a, "--delegations"))
               for a in calls if command_words(a) == ("network", "vnet", "subnet", "create")}
    assert subnets == expected
    # the registry's network settings, first and final (the bypass is switched after import)
    registries = [r for r in templates if r.type == "Microsoft.ContainerRegistry/registries"]
    (create,) = [a for a in calls if command_words(a) == ("acr", "create")]
    first = registries[0].body["properties"]
    assert _opt(create, "--sku") == registries[0].body["sku"]["name"]
    assert _opt(create, "--public-network-enabled") == str(
        first["publicNetworkAccess"] == "Enabled").lower()
    assert _opt(create, "--allow-trusted-services") == str(
        first["networkRuleBypassOptions"] == "AzureServices").lower()
    assert _opt(create, "--default-action") == first["networkRuleSet"]["defaultAction"]
    updates = [a for a in calls if command_words(a) == ("acr", "update")]
    if len(registries) == 2:
        final = registries[1].body["properties"]
        assert [_opt(a, "--allow-trusted-services") for a in updates] == [
            str(final["networkRuleBypassOptions"] == "AzureServices").lower()]
    else:
        assert updates == []
    # the consumers: size, network, identity
    for r in templates:
        if r.type == "Microsoft.ContainerInstance/containerGroups":
            (cg,) = {tuple(a) for a in calls if command_words(a) == ("container", "create")}
            req = r.body["properties"]["containers"][0]["properties"]["resources"]["requests"]
            assert float(_opt(list(cg), "--cpu")) == req["cpu"]
            assert float(_opt(list(cg), "--memory")) == req["memoryInGB"]
            assert _opt(list(cg), "--os-type") == r.body["properties"]["osType"]
            subnet = r.body["properties"].get("subnetIds", [{}])[0].get("id", "")
            if subnet:
                assert _opt(list(cg), "--subnet") == subnet.rsplit("/", 1)[-1]
            else:
                assert "--vnet" not in cg
            assert _opt(list(cg), "--acr-identity") == _opt(list(cg), "--assign-identity")
        if r.type == "Microsoft.App/containerApps":
            (ca,) = {tuple(a) for a in calls if command_words(a) == ("containerapp", "create")}
            res = r.body["properties"]["template"]["containers"][0]["resources"]
            assert _opt(list(ca), "--memory") == res["memory"]
            assert _opt(list(ca), "--workload-profile-name") == \
                r.body["properties"]["workloadProfileName"]
            assert _opt(list(ca), "--registry-identity") == _opt(list(ca), "--user-assigned")
