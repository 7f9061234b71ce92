"""`pullpath lab` end to end: the real Azure SDK clients against a loopback ARM and Log
Analytics server (tests/support/lab_server.py, tests/support/lab_fake_azure.py) answering in the shapes of
the official REST API examples, and behaving like the slow and racy parts of Azure: a role
assignment listed only after some reads, a consumer refused for its identity until its
AcrPull is effective, events that reach the workspace late, a resource group created by
someone else between the lab's check and its create."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path as FsPath

import pytest
import yaml
from typer.testing import CliRunner

from pullpath.adapters.azure import credentials
from pullpath.adapters.servicetags_files import load_service_tags
from pullpath.cli.app import app
from pullpath.cli.lab import disagreement_problems
from pullpath.core.servicetags import TagIndex
from pullpath.domain.verdicts import Path
from pullpath.formatters.lab_doc import lab_document
from pullpath.formatters.lab_table import lab_table
from pullpath.lab.report import measured_sources
from pullpath.lab.runner import (
    AzureTarget,
    LabError,
    LabRefused,
    LabRunner,
    PollSettings,
    Waits,
    is_authorization_failure,
)
from pullpath.lab.scenarios import load_scenario
from pullpath.lab.session import run_lab
from tests.support.lab_fake_azure import SUB, FakeAzure
from tests.support.lab_server import FakeCredential, LoopbackServer, Reply, Request
from tests.support.tags import tags_containing

pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")

RUN = "t3stl4b1"
RG = f"rg-pullpath-lab-{RUN}"
RG_PATH = f"/subscriptions/{SUB}/resourcegroups/{RG}"
REGISTRY = f"pplab{RUN}"
REGISTRY_ID = (f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/"
               f"Microsoft.ContainerRegistry/registries/{REGISTRY}")
ACI_CALLER = "4.189.68.203"
"""A Microsoft address (the demo's ACI pull, japaneast), checked against the tag file below."""
FAST = PollSettings(first_delay=60, max_delay=60, timeout=1800, max_polls=12)
WAITS = Waits(poll=30, role_timeout=600, delivery_timeout=600)


@pytest.fixture(scope="module")
def tags() -> TagIndex:
    return load_service_tags(None)


@pytest.fixture
def azure() -> Iterator[FakeAzure]:
    with LoopbackServer() as server:
        fake = FakeAzure(server)
        # Azure as it is slow: the role assignment is listed on the third read, the ACI group
        # is refused once for its identity, events reach the workspace two queries late
        fake.role_reads_before_listed = 2
        fake.refused_attempts = {"ci-aci": 1}
        fake.delivery_delay = 2
        yield fake


class Clock:
    """The runner's clock and sleep: sleeping advances the clock, nothing really waits."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def runner_for(azure: FakeAzure, messages: list[str] | None = None,
               progress: Callable[[str], None] | None = None) -> LabRunner:
    target = AzureTarget(credential=FakeCredential(), subscription_id=SUB,
                         arm_endpoint=azure.server.url, logs_endpoint=azure.server.url,
                         connection_verify=False, retry_total=0, lro_polling_interval=0)
    sink = messages if messages is not None else []
    clock = Clock()
    return LabRunner(target, progress=progress or sink.append, sleep=clock.sleep, clock=clock)


def run(azure: FakeAzure, tags: TagIndex, ident: str = "field-report",
        messages: list[str] | None = None, **kw: object):  # type: ignore[no-untyped-def]
    kw.setdefault("settings", FAST)
    kw.setdefault("waits", WAITS)
    return run_lab(runner_for(azure, messages), load_scenario(ident), location="japaneast",
                   run_id=RUN, tags=tags, **kw)  # type: ignore[arg-type]


def group_deletes(azure: FakeAzure) -> list[str]:
    return [r.path for r in azure.server.sent("DELETE", r"/subscriptions/[^/]+/resourcegroups/"
                                                        r"[^/]+")]


def first(requests: list[Request], method: str, pattern: str) -> int:
    import re

    rx = re.compile(pattern, re.IGNORECASE)
    return next(i for i, r in enumerate(requests) if r.method == method and rx.fullmatch(r.path))


def last(requests: list[Request], method: str, pattern: str) -> int:
    import re

    rx = re.compile(pattern, re.IGNORECASE)
    return max(i for i, r in enumerate(requests) if r.method == method and rx.fullmatch(r.path))


def test_the_caller_ip_is_a_microsoft_address_in_the_bundled_tags() -> None:
    assert tags_containing(ACI_CALLER), "the test's ACI caller must be inside a service tag"


def test_field_report_end_to_end_waits_where_azure_is_slow(azure: FakeAzure,
                                                          tags: TagIndex) -> None:
    messages: list[str] = []
    outcome = run(azure, tags, messages=messages)
    assert outcome.error == ""
    report = outcome.report
    assert report is not None
    reqs = azure.server.requests
    dep = r".*/providers/Microsoft\.Resources/deployments/"
    # the group: created with If-None-Match and no tags, tagged only after 201 Created
    (put,) = azure.server.sent("PUT", rf"/subscriptions/[^/]+/resourcegroups/{RG}")
    assert put.headers.get("if-none-match") == "*"
    assert "tags" not in put.body
    (patch,) = azure.server.sent("PATCH", rf"/subscriptions/[^/]+/resourcegroups/{RG}")
    assert patch.body["tags"] == {"pullpath-lab": RUN, "created-by": "pullpath",
                                  "pullpath-scenario": "field-report"}
    # base, import, then the AcrPull assignments read until listed (404, 404, 200 each)
    role = r".*/providers/Microsoft\.Authorization/roleAssignments/[^/]+"
    assert len(azure.server.sent("GET", role)) == 2 * 3
    base = first(reqs, "PUT", dep + f"pullpath-lab-base-{RUN}")
    imp = first(reqs, "POST", r".*/importImage")
    consumers = first(reqs, "PUT", dep + f"pullpath-lab-consumers-{RUN}")
    assert base < imp < first(reqs, "GET", role) < last(reqs, "GET", role) < consumers
    assert any("waiting for the AcrPull assignment" in m for m in messages)
    # the ACI group refused once for its identity: deployed again, not recorded
    assert len(azure.server.sent("PUT", dep + f"pullpath-lab-consumers-{RUN}")) == 2
    assert any("refused by the registry for their identity" in m for m in messages)
    # the first events proven delivered before the trigger; then stop, start
    query = r"/v1/workspaces/[^/]+/query"
    stop = first(reqs, "POST", r".*/containerGroups/ci-aci-[a-z0-9]+/stop")
    start = first(reqs, "POST", r".*/containerGroups/ci-aci-[a-z0-9]+/start")
    app_stop = first(reqs, "POST", r".*/containerApps/ca-app-[a-z0-9]+/stop")
    app_start = first(reqs, "POST", r".*/containerApps/ca-app-[a-z0-9]+/start")
    assert last(reqs, "PUT", dep + ".*") < first(reqs, "POST", query) < stop < start
    assert start < app_stop < app_start
    assert any("waiting for the diagnostic setting to deliver" in m for m in messages)
    assert any("the diagnostic setting delivers" in m for m in messages)
    assert not azure.server.sent("POST", r".*/restart")  # stop/start is the default
    # collect waited for the pulls after the trigger (they arrive two queries late)
    assert last(reqs, "POST", query) > app_start
    assert any("waiting for a pull by aci" in m for m in messages)
    assert report.collect["complete"] is True
    assert report.trigger == "stop-start"
    # the verdicts: ACI by the bypass from a Microsoft address, ACA through the endpoint
    aci, app_ = report.consumers
    assert aci.prediction.path is Path.TRUSTED_SERVICE
    assert aci.observed_paths == (Path.TRUSTED_SERVICE,)
    assert aci.agreement == "agrees"
    assert aci.documentation == "did-not-hold"  # the docs say private endpoint
    assert {e.caller_ip for e in aci.evidence} == {ACI_CALLER}
    assert aci.evidence[0].source_kind == "azure-platform"
    assert aci.evidence[0].service_tag in tags_containing(ACI_CALLER)
    assert aci.evidence[0].belongs_to_subscription is False
    assert app_.observed_paths == (Path.PRIVATE_ENDPOINT,)
    assert app_.agreement == "agrees"
    assert app_.documentation == "held"
    assert app_.evidence[0].source_kind == "subnet"
    assert app_.evidence[0].owner.endswith("/subnets/aca")
    # teardown: the tagged group was deleted, last
    assert group_deletes(azure) == [RG_PATH]
    assert last(reqs, "DELETE", r".*") > last(reqs, "POST", query)
    assert disagreement_problems(report) == []
    assert report.torn_down is True
    doc = lab_document(report)
    assert doc["consumers"][0]["documented"]["path"] == "private-endpoint"
    assert doc["consumers"][0]["documentation"] == "did-not-hold"
    table = lab_table(report)
    assert "did-not-hold" in table
    assert ACI_CALLER in table
    # every request carried the fake bearer token over TLS, and never a password
    assert all(r.headers.get("authorization", "").startswith("Bearer ") for r in reqs)
    assert "password" not in str([r.body for r in reqs]).lower()


def test_a_group_that_appears_between_check_and_create_is_never_tagged_or_deleted(
        azure: FakeAzure, tags: TagIndex) -> None:
    azure.race_tags = {"owner": "someone-else"}
    outcome = run(azure, tags)
    assert "already existed" in outcome.error
    assert "200" in outcome.error
    group = azure.groups[RG.lower()]
    assert "pullpath-lab" not in group["tags"]
    assert "created-by" not in group["tags"]
    assert not azure.server.sent("PATCH", r".*")
    assert not azure.server.sent("PUT", r".*/deployments/.*")
    assert group_deletes(azure) == []
    assert outcome.torn_down is False


def test_with_a_conditional_create_the_racing_group_is_left_as_it_was(
        azure: FakeAzure, tags: TagIndex) -> None:
    azure.race_tags = {"owner": "someone-else"}
    azure.honour_if_none_match = True
    outcome = run(azure, tags)
    assert "412" in outcome.error
    assert azure.groups[RG.lower()]["tags"] == {"owner": "someone-else"}
    assert not azure.server.sent("PATCH", r".*")
    assert group_deletes(azure) == []


def test_trusted_off_records_the_refusal_after_the_role_timeout(azure: FakeAzure,
                                                                tags: TagIndex) -> None:
    azure.always_refused = {"ci-aci"}
    messages: list[str] = []
    outcome = run(azure, tags, "field-report:trusted-off", messages=messages,
                  waits=Waits(poll=60, role_timeout=300, delivery_timeout=600))
    assert outcome.error == ""
    report = outcome.report
    assert report is not None
    # retried while the role may still be propagating (5 minutes: 1 + 5 attempts), then
    # recorded as the observation
    assert len(azure.server.sent("PUT", r".*/deployments/pullpath-lab-consumers-.*")) == 6
    # the consumers step switched the bypass off before any consumer
    cons = azure.server.sent("PUT", r".*/deployments/pullpath-lab-consumers-.*")[0].body
    (registry,) = [r for r in cons["properties"]["template"]["resources"]
                   if r["type"] == "Microsoft.ContainerRegistry/registries"]
    assert registry["properties"]["networkRuleBypassOptions"] == "None"
    aci, app_ = report.consumers
    assert aci.observed == "deployment-failed"
    assert "InaccessibleImage" in aci.deployment_errors
    assert aci.agreement == "agrees"
    assert aci.documentation == "held"  # "must have Trusted Services enabled"
    assert app_.observed_paths == (Path.PRIVATE_ENDPOINT,)
    assert not azure.server.sent("POST", r".*/containerGroups/.*/(stop|start)")
    assert group_deletes(azure) == [RG_PATH]


def test_a_role_assignment_never_listed_stops_the_run_and_tears_down(azure: FakeAzure,
                                                                     tags: TagIndex) -> None:
    azure.role_reads_before_listed = 1000
    outcome = run(azure, tags, waits=Waits(poll=60, role_timeout=300, delivery_timeout=600))
    assert "AcrPull assignment" in outcome.error
    assert "gave up after 300s" in outcome.error
    assert not azure.server.sent("PUT", r".*/deployments/pullpath-lab-consumers-.*")
    assert group_deletes(azure) == [RG_PATH]


def test_no_trigger_before_the_diagnostic_setting_is_proven(azure: FakeAzure,
                                                            tags: TagIndex) -> None:
    azure.empty_polls = 1000  # nothing ever reaches the workspace
    outcome = run(azure, tags, waits=Waits(poll=60, role_timeout=600, delivery_timeout=300))
    assert "diagnostic setting is not proven to deliver" in outcome.error
    assert azure.query_count == 6  # at 0, 60, ... 300 s
    assert not azure.server.sent("POST", r".*/(stop|start|restart)")
    assert group_deletes(azure) == [RG_PATH]


def test_late_events_are_waited_for(azure: FakeAzure, tags: TagIndex) -> None:
    azure.delivery_delay = 5
    outcome = run(azure, tags)
    assert outcome.report is not None
    assert outcome.report.collect["complete"] is True
    assert outcome.report.collect["polls"] >= 5
    assert all(c.agreement == "agrees" for c in outcome.report.consumers)


@pytest.mark.parametrize(("mode", "aci", "app_"), [
    ("restart", [r".*/containerGroups/ci-aci-\w+/restart"],
     [r".*/containerApps/ca-app-\w+/revisions/[^/]+/restart"]),
    ("new-revision", [r".*/containerGroups/ci-aci-\w+/stop", r".*/containerGroups/ci-aci-\w+/start"],
     []),
])
def test_the_other_triggers(azure: FakeAzure, tags: TagIndex, mode: str, aci: list[str],
                            app_: list[str]) -> None:
    outcome = run(azure, tags, trigger=mode)
    assert outcome.report is not None
    for pattern in (*aci, *app_):
        assert azure.server.sent("POST", pattern), pattern
    if mode == "new-revision":
        (patch,) = azure.server.sent("PATCH", r".*/containerApps/ca-app-\w+")
        assert patch.body["properties"]["template"]["revisionSuffix"]
    assert all(c.agreement == "agrees" for c in outcome.report.consumers)


def test_disagreement_names_the_knowledge_entry_and_the_measured_source(
        azure: FakeAzure, tags: TagIndex) -> None:
    # suppose Container Apps became a trusted service: its pulls come from a Microsoft address
    azure.callers["Microsoft.App/containerApps"] = ACI_CALLER
    outcome = run(azure, tags)
    assert outcome.report is not None
    app_ = outcome.report.consumers[1]
    assert app_.observed_paths == (Path.TRUSTED_SERVICE,)
    assert app_.agreement == "disagrees"
    assert app_.documentation == "did-not-hold"
    today = outcome.report.today.isoformat()
    assert app_.knowledge_update.startswith(f"CONTRADICTED knowledge entry {app_.knowledge_id}")
    assert f"url: pullpath-lab:{RUN}" in app_.knowledge_update
    assert "kind: measured" in app_.knowledge_update
    assert f"verified: {today}" in app_.knowledge_update
    assert "lab:field-report" not in app_.knowledge_update
    (problem,) = disagreement_problems(outcome.report, allow_partial=True)
    assert f"contradict the prediction: {app_.name}" in problem


def test_a_pull_the_audit_cannot_decide_is_inconclusive(azure: FakeAzure,
                                                         tags: TagIndex) -> None:
    # from the ACI subnet, but the registry has no private endpoint: the audit says unknown
    azure.callers["Microsoft.ContainerInstance/containerGroups"] = "10.0.1.4"
    outcome = run(azure, tags, "field-report:aca-no-private-endpoint")
    assert outcome.report is not None
    aci = outcome.report.consumers[0]
    assert aci.observed_paths == (Path.UNKNOWN,)
    assert aci.agreement == "inconclusive"
    # --fail-on-disagreement fails closed: nothing confirms the prediction
    problems = disagreement_problems(outcome.report)
    assert any(f"{aci.name} inconclusive" in p and "--allow-partial" in p for p in problems)
    assert disagreement_problems(outcome.report, allow_partial=True) == [
        p for p in problems if "contradict" in p]


def test_record_writes_measured_sources(azure: FakeAzure, tags: TagIndex) -> None:
    outcome = run(azure, tags)
    assert outcome.report is not None
    entries = measured_sources(outcome.report)
    assert [(e["behaviour"], e["consumer"], e["scenario"]) for e in entries] == [
        ("KB-ACI-002", "aci", "field-report"), ("KB-ACA-001", "aca", "field-report")]
    aci = entries[0]["source"]
    assert aci["url"] == f"pullpath-lab:{RUN}"
    assert aci["kind"] == "measured"
    assert aci["run_id"] == RUN
    assert aci["verified"] == outcome.report.started.date().isoformat()
    assert aci["expect"] == "trusted-service"
    assert ACI_CALLER in aci["says"]
    assert "azure-platform" in aci["says"]
    assert "no resource of the subscription" in aci["says"]
    assert entries[1]["source"]["expect"] == "private-endpoint"


def test_an_observation_that_settled_on_no_path_is_not_recorded(azure: FakeAzure,
                                                                 tags: TagIndex) -> None:
    azure.callers["Microsoft.ContainerInstance/containerGroups"] = "10.0.1.4"  # undecidable
    azure.always_refused = {"ca-app"}  # no private endpoint: the app is refused
    outcome = run(azure, tags, "field-report:aca-no-private-endpoint")
    assert outcome.report is not None
    assert [e["consumer"] for e in measured_sources(outcome.report)] == ["aca"]


def test_restart_failing_permanently_still_tears_down(azure: FakeAzure, tags: TagIndex) -> None:
    azure.restart_reply = Reply(500, {"error": {"code": "InternalServerError",
                                                "message": "restart failed"}})
    outcome = run(azure, tags, trigger="restart")
    assert outcome.report is None
    assert "trigger" in outcome.error
    assert "HTTP 500" in outcome.error
    assert group_deletes(azure) == [RG_PATH]
    assert outcome.torn_down is True


def test_base_deployment_failure_still_tears_down(azure: FakeAzure, tags: TagIndex) -> None:
    azure.fail_step["base"] = {"code": "DeploymentFailed", "message": "quota",
                               "details": [{"code": "SkuNotAvailable", "message": "no"}]}
    outcome = run(azure, tags)
    assert "base deployment" in outcome.error
    assert "SkuNotAvailable" in outcome.error
    assert not azure.server.sent("POST", r".*/importImage")
    assert group_deletes(azure) == [RG_PATH]


def test_interrupt_still_tears_down(azure: FakeAzure, tags: TagIndex) -> None:
    def progress(message: str) -> None:  # the user presses Ctrl-C while the image imports
        if message.startswith("import "):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_lab(runner_for(azure, progress=progress), load_scenario("field-report"),
                location="japaneast", run_id=RUN, settings=FAST, waits=WAITS, tags=tags)
    assert not azure.server.sent("POST", r".*/importImage")
    assert group_deletes(azure) == [RG_PATH]


def test_collect_gives_up_when_the_triggered_pulls_never_arrive(azure: FakeAzure,
                                                                tags: TagIndex) -> None:
    azure.delivery_delay = 0
    original = azure.pull
    triggered = {"on": False}

    def pull(consumer_id: str) -> None:  # the pulls after the trigger are lost
        if not triggered["on"]:
            original(consumer_id)

    azure.pull = pull  # type: ignore[method-assign]
    messages: list[str] = []

    def note(message: str) -> None:
        messages.append(message)
        if message.startswith("stop container group"):
            triggered["on"] = True

    outcome = run_lab(runner_for(azure, progress=note), load_scenario("field-report"),
                      location="japaneast", run_id=RUN, tags=tags, waits=WAITS,
                      settings=PollSettings(first_delay=60, max_delay=60, timeout=1800,
                                            max_polls=3))
    assert outcome.report is not None
    assert outcome.report.collect["complete"] is False
    msg = outcome.report.collect["message"]
    assert "gave up" in msg
    assert "aci" in msg
    assert f"lab collect --run-id {RUN}" in msg
    assert any("waiting for a pull by aci" in m for m in messages)
    assert group_deletes(azure) == [RG_PATH]


def test_down_refuses_an_untagged_group(azure: FakeAzure) -> None:
    azure.add_group("rg-production", {"env": "prod"})
    with pytest.raises(LabRefused, match="does not carry pullpath's tags"):
        runner_for(azure).down(RUN, resource_group="rg-production")
    assert group_deletes(azure) == []


def test_down_refuses_another_runs_group(azure: FakeAzure) -> None:
    azure.add_group(RG, {"pullpath-lab": "zzzzzzzz", "created-by": "pullpath"})
    with pytest.raises(LabRefused, match="not the run ID"):
        runner_for(azure).down(RUN)
    assert group_deletes(azure) == []


def test_down_of_a_missing_group_says_so(azure: FakeAzure) -> None:
    with pytest.raises(LabError, match="does not exist"):
        runner_for(azure).down(RUN)


def test_up_refuses_an_existing_group(azure: FakeAzure) -> None:
    azure.add_group(RG, {"env": "prod"})
    with pytest.raises(LabRefused, match="already exists"):
        runner_for(azure).create_resource_group_for(load_scenario("field-report"),
                                                    location="japaneast", run_id=RUN)
    assert not azure.server.sent("PUT", r".*")


def test_list_shows_leftovers_by_tag(azure: FakeAzure) -> None:
    azure.add_group(RG, {"pullpath-lab": RUN, "created-by": "pullpath",
                         "pullpath-scenario": "field-report"})
    azure.add_group("rg-other", {"pullpath-lab": "x"})  # not created by pullpath
    azure.add_group("rg-plain", {})
    (left,) = runner_for(azure).leftovers()
    assert (left.run_id, left.resource_group, left.scenario) == (RUN, RG, "field-report")


def test_state_trigger_and_collect_as_separate_steps(azure: FakeAzure, tags: TagIndex) -> None:
    from datetime import UTC, datetime, timedelta

    from pullpath.lab.session import observe

    runner = runner_for(azure)
    scenario = load_scenario("field-report:trusted-off")
    azure.always_refused = {"ci-aci"}
    runner.create_resource_group_for(scenario, location="japaneast", run_id=RUN)
    runner.up(scenario, location="japaneast", run_id=RUN, group_exists=True,
              waits=Waits(poll=60, role_timeout=600))
    state = runner.state(RUN)  # rebuilt from the group's tags and the deployments
    assert state.scenario.ident == "field-report:trusted-off"
    assert state.consumer_ids["app"].endswith(f"/containerApps/ca-app-{RUN}")
    assert "aci" not in state.consumer_ids  # its deployment failed: read from the error target
    assert "InaccessibleImage" in state.consumer_errors["aci"]
    assert state.outputs["registryLoginServer"] == f"{REGISTRY}.azurecr.io"
    asked = runner.trigger(state, mode="stop-start")
    assert azure.server.sent("POST", r".*/containerApps/.*/stop")
    report = observe(runner, state, since=datetime.now(UTC) - timedelta(hours=1),
                     settings=FAST, tags=tags, after=asked)
    assert report.consumers[1].agreement == "agrees"
    runner.down(RUN)
    assert group_deletes(azure)


@pytest.mark.parametrize(("codes", "message", "expected"), [
    (("InaccessibleImage",), "The image is not accessible.", True),
    (("ContainerAppOperationError",), "UNAUTHORIZED: authentication required", True),
    (("InaccessibleImage",), "denied: client with IP '4.189.68.203' is not allowed access. "
                             "Refer https://aka.ms/acr/firewall to grant access.", False),
    (("QuotaExceeded",), "no capacity", False),
])
def test_authorization_failures_are_told_from_firewall_denials(
        codes: tuple[str, ...], message: str, expected: bool) -> None:
    assert is_authorization_failure(codes, message) is expected


# ----------------------------------------------------------------------------- the CLI


@pytest.fixture
def cli_azure(azure: FakeAzure, monkeypatch: pytest.MonkeyPatch) -> FakeAzure:
    """The CLI's own runner (real endpoints from the environment, TLS verified against the
    loopback server's certificate) pointed at the fake."""
    monkeypatch.setattr(credentials, "make_credential", lambda tenant=None: FakeCredential())
    monkeypatch.setenv("PULLPATH_ARM_ENDPOINT", azure.server.url)
    monkeypatch.setenv("PULLPATH_LOGS_ENDPOINT", azure.server.url)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(azure.server.cert_path))
    monkeypatch.setenv("PULLPATH_LRO_POLLING_INTERVAL", "0")
    azure.refused_attempts = {}
    azure.role_reads_before_listed = 0
    return azure


def test_lab_trigger_waits_for_delivery_and_collect_waits_for_pulls_after_it(
        cli_azure: FakeAzure, tags: TagIndex) -> None:
    azure = cli_azure
    runner = runner_for(azure)
    scenario = load_scenario("field-report")
    runner.create_resource_group_for(scenario, location="japaneast", run_id=RUN)
    runner.up(scenario, location="japaneast", run_id=RUN, group_exists=True, waits=WAITS)
    result = CliRunner().invoke(app, ["lab", "trigger", "--run-id", RUN, "--subscription", SUB,
                                      "--poll", "0", "--delivery-timeout", "60"])
    assert result.exit_code == 0, result.output
    reqs = azure.server.requests
    assert first(reqs, "POST", r"/v1/workspaces/[^/]+/query") < \
        first(reqs, "POST", r".*/containerGroups/[^/]+/stop")
    assert "the diagnostic setting delivers" in result.stderr
    asked = result.stdout.strip()
    result = CliRunner().invoke(app, ["lab", "collect", "--run-id", RUN, "--subscription", SUB,
                                      "--after", asked, "--first-delay", "0", "--max-delay",
                                      "0", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert "waiting for a pull by" in result.stderr
    doc = json.loads(result.stdout)
    assert [c["agreement"] for c in doc["consumers"]] == ["agrees", "agrees"]


def test_lab_run_cli_records_measured_sources(cli_azure: FakeAzure, tmp_path: FsPath) -> None:
    azure = cli_azure
    record = tmp_path / "measured.yaml"
    result = CliRunner().invoke(app, [
        "lab", "run", "--run-id", RUN, "--subscription", SUB, "--poll", "0",
        "--first-delay", "0", "--max-delay", "0", "--collect-timeout", "60",
        "--delivery-timeout", "60", "--role-timeout", "60", "--format", "json",
        "--record", str(record)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["scenario"]["name"] == "field-report"  # the default scenario
    assert doc["trigger"] == "stop-start"
    text = record.read_text()
    assert text.startswith(f"# pullpath lab run {RUN}")
    entries = yaml.safe_load(text)
    assert [e["behaviour"] for e in entries] == ["KB-ACI-002", "KB-ACA-001"]
    assert {e["source"]["kind"] for e in entries} == {"measured"}
    assert {e["source"]["url"] for e in entries} == {f"pullpath-lab:{RUN}"}
    assert "recorded 2 observation(s)" in result.stderr
    assert group_deletes(azure) == [RG_PATH]


def test_lab_run_cli_refuses_a_bad_trigger_before_any_call() -> None:
    result = CliRunner().invoke(app, ["lab", "run", "--trigger", "reboot"])
    assert result.exit_code == 2
    assert "not a trigger" in result.output
