"""`pullpath lab` end to end: the real Azure SDK clients against a loopback ARM and Log
Analytics server (tests/lab_server.py, tests/lab_fake_azure.py) answering in the shapes of
the official REST API examples."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pullpath.adapters.servicetags_files import load_service_tags
from pullpath.cli.lab import disagreement_problems
from pullpath.core.servicetags import TagIndex
from pullpath.domain.verdicts import Path
from pullpath.formatters.lab_doc import lab_document
from pullpath.formatters.lab_table import lab_table
from pullpath.lab.runner import AzureTarget, LabError, LabRefused, LabRunner, PollSettings
from pullpath.lab.scenarios import load_scenario
from pullpath.lab.session import run_lab
from tests.conftest import tags_containing
from tests.lab_fake_azure import SUB, FakeAzure, example
from tests.lab_server import FakeCredential, LoopbackServer, Reply

pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")

RUN = "t3stl4b1"
RG = f"rg-pullpath-lab-{RUN}"
REGISTRY = f"pplab{RUN}"
REGISTRY_ID = (f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/"
               f"Microsoft.ContainerRegistry/registries/{REGISTRY}")
ACI_CALLER = "4.189.68.203"
"""A Microsoft address (the demo's ACI pull, japaneast), checked against the tag file below."""
FAST = PollSettings(first_delay=0, max_delay=0, timeout=60, max_polls=8)


@pytest.fixture(scope="module")
def tags() -> TagIndex:
    return load_service_tags(None)


@pytest.fixture
def azure() -> Iterator[FakeAzure]:
    with LoopbackServer() as server:
        yield FakeAzure(server)


def runner_for(azure: FakeAzure, messages: list[str] | None = None) -> LabRunner:
    target = AzureTarget(credential=FakeCredential(), subscription_id=SUB,
                         arm_endpoint=azure.server.url, logs_endpoint=azure.server.url,
                         connection_verify=False, retry_total=0, lro_polling_interval=0)
    sink = messages if messages is not None else []
    return LabRunner(target, progress=sink.append)


def uami_principal() -> str:
    return str(example("IdentityGet.json")["properties"]["principalId"])


def group_deletes(azure: FakeAzure) -> list[str]:
    return [r.path for r in azure.server.sent("DELETE", r"/subscriptions/[^/]+/resourcegroups/"
                                                        r"[^/]+")]


def test_the_caller_ip_is_a_microsoft_address_in_the_bundled_tags() -> None:
    assert tags_containing(ACI_CALLER), "the test's ACI caller must be inside a service tag"


def test_aci_vnet_trusted_end_to_end(azure: FakeAzure, tags: TagIndex) -> None:
    azure.add_pull(registry=REGISTRY, registry_id=REGISTRY_ID, caller=f"{ACI_CALLER}:49870",
                   identity=uami_principal())
    messages: list[str] = []
    outcome = run_lab(runner_for(azure, messages), load_scenario("aci-vnet-trusted"),
                      location="japaneast", run_id=RUN, settings=FAST, tags=tags)
    assert outcome.error == ""
    report = outcome.report
    assert report is not None
    # the deployments went through ARM as long-running operations (201 + async status)
    deps = azure.server.sent("PUT", r".*/providers/Microsoft\.Resources/deployments/.*")
    assert [r.path.rsplit("/", 1)[-1] for r in deps] == [f"pullpath-lab-base-{RUN}",
                                                           f"pullpath-lab-consumers-{RUN}"]
    assert len(azure.server.sent("GET", r"/providers/Test/asyncOperations/op\d+")) >= 4
    # the image was imported before the consumers were deployed
    order = [(r.method, r.path) for r in azure.server.requests]
    imp = next(i for i, (m, p) in enumerate(order) if p.endswith("/importImage"))
    cons = next(i for i, (m, p) in enumerate(order) if m == "PUT" and "consumers" in p)
    assert imp < cons
    body = azure.server.sent("POST", r".*/importImage")[0].body
    assert body["source"] == {"registryUri": "mcr.microsoft.com",
                              "sourceImage": "azuredocs/aci-helloworld:latest"}
    # the container group was restarted, the workspace polled until the events arrived
    assert azure.server.sent("POST", r".*/containerGroups/ci-aci-[a-z0-9]+/restart")
    assert azure.query_count == azure.empty_polls + 1
    assert report.collect["complete"] is True
    assert any("elapsed" in m for m in messages)
    # the verdict
    (aci,) = report.consumers
    assert aci.prediction.path is Path.TRUSTED_SERVICE
    assert aci.observed_paths == (Path.TRUSTED_SERVICE,)
    assert aci.agreement == "agrees"
    assert disagreement_problems(report) == []
    (ev,) = aci.evidence
    assert ev.caller_ip == ACI_CALLER
    assert ev.source_kind == "azure-platform"
    assert ev.service_tag in tags_containing(ACI_CALLER)
    assert ev.belongs_to_subscription is False
    assert aci.knowledge_id == aci.prediction.rule
    assert "re-verified" in aci.knowledge_update
    assert aci.knowledge_id in aci.knowledge_update
    # torn down: the tagged group was deleted
    assert group_deletes(azure) == [f"/subscriptions/{SUB}/resourcegroups/{RG}"]
    assert report.torn_down is True
    doc = lab_document(report)
    assert doc["schema"] == "pullpath.lab/v1"
    assert doc["consumers"][0]["observed"]["evidence"][0]["service_tag"] == ev.service_tag
    assert "agrees" in lab_table(report)
    # every request carried the fake bearer token over TLS, and never a password
    assert all(r.headers.get("authorization", "").startswith("Bearer ")
               for r in azure.server.requests)
    assert "password" not in str([r.body for r in azure.server.requests]).lower()


def test_resource_group_is_created_with_the_lab_tags(azure: FakeAzure, tags: TagIndex) -> None:
    azure.add_pull(registry=REGISTRY, registry_id=REGISTRY_ID, caller=ACI_CALLER,
                   identity=uami_principal())
    run_lab(runner_for(azure), load_scenario("aci-vnet-trusted"), location="japaneast",
            run_id=RUN, settings=FAST, tags=tags, keep=True)
    (put,) = azure.server.sent("PUT", rf"/subscriptions/[^/]+/resourcegroups/{RG}")
    assert put.body["tags"] == {"pullpath-lab": RUN, "created-by": "pullpath",
                                "pullpath-scenario": "aci-vnet-trusted"}
    assert group_deletes(azure) == []  # --keep


def test_aca_private_endpoint_observed_from_the_app_subnet(azure: FakeAzure,
                                                           tags: TagIndex) -> None:
    azure.add_pull(registry=REGISTRY, registry_id=REGISTRY_ID, caller="10.0.2.37",
                   identity=uami_principal())
    outcome = run_lab(runner_for(azure), load_scenario("aca-vnet-private-endpoint"),
                      location="japaneast", run_id=RUN, settings=FAST, tags=tags)
    assert outcome.report is not None
    (app,) = outcome.report.consumers
    assert app.observed_paths == (Path.PRIVATE_ENDPOINT,)
    assert app.agreement == "agrees"
    assert app.evidence[0].source_kind == "subnet"
    assert app.evidence[0].owner.endswith("/subnets/aca")
    # a new revision was asked for
    (patch,) = azure.server.sent("PATCH", r".*/containerApps/ca-app-[a-z0-9]+")
    assert patch.body["properties"]["template"]["revisionSuffix"]
    assert group_deletes(azure)


def test_disagreement_names_the_knowledge_entry_to_update(azure: FakeAzure,
                                                           tags: TagIndex) -> None:
    # suppose Container Apps became a trusted service: the registry logs the app's pull from a
    # Microsoft address instead of its subnet, contradicting the knowledge base
    azure.add_pull(registry=REGISTRY, registry_id=REGISTRY_ID, caller=ACI_CALLER,
                   identity=uami_principal())
    outcome = run_lab(runner_for(azure), load_scenario("aca-vnet-private-endpoint"),
                      location="japaneast", run_id=RUN, settings=FAST, tags=tags)
    assert outcome.report is not None
    (app,) = outcome.report.consumers
    assert app.observed_paths == (Path.TRUSTED_SERVICE,)
    assert app.agreement == "disagrees"
    assert app.knowledge_id == app.prediction.rule  # KB-ACA-001 from explain, or the scenario's
    today = outcome.report.today.isoformat()
    assert app.knowledge_update.startswith(f"CONTRADICTED knowledge entry {app.knowledge_id}")
    assert f"verified: {today}" in app.knowledge_update
    assert "expect: trusted-service" in app.knowledge_update
    assert "url: lab:aca-vnet-private-endpoint" in app.knowledge_update
    assert "CONTRADICTED" in lab_table(outcome.report)
    (problem,) = disagreement_problems(outcome.report, allow_partial=True)
    assert f"contradict the prediction: {app.name}" in problem


def test_a_pull_the_audit_cannot_decide_is_inconclusive(azure: FakeAzure,
                                                         tags: TagIndex) -> None:
    # from the ACI subnet, but the registry has no private endpoint: the audit says unknown
    azure.add_pull(registry=REGISTRY, registry_id=REGISTRY_ID, caller="10.0.1.4",
                   identity=uami_principal())
    outcome = run_lab(runner_for(azure), load_scenario("aci-vnet-trusted"),
                      location="japaneast", run_id=RUN, settings=FAST, tags=tags)
    assert outcome.report is not None
    (aci,) = outcome.report.consumers
    assert aci.observed_paths == (Path.UNKNOWN,)
    assert aci.agreement == "inconclusive"
    assert aci.evidence[0].belongs_to_subscription is True
    # --fail-on-disagreement fails closed: nothing confirms the prediction
    (problem,) = disagreement_problems(outcome.report)
    assert f"{aci.name} inconclusive" in problem
    assert "--allow-partial" in problem
    assert disagreement_problems(outcome.report, allow_partial=True) == []


def test_system_identity_deployment_failure_is_the_expected_observation(
        azure: FakeAzure, tags: TagIndex) -> None:
    azure.fail_step["consumers"] = {
        "code": "DeploymentFailed",
        "message": "At least one resource deployment operation failed.",
        "details": [{"code": "InvalidImageRegistryIdentity",
                     "message": "The identity in the 'imageRegistryCredentials' of container "
                                "group 'ci-aci' not found in container group identity list"}],
    }
    outcome = run_lab(runner_for(azure), load_scenario("aci-vnet-system-identity"),
                      location="japaneast", run_id=RUN, settings=FAST, tags=tags)
    assert outcome.error == ""
    assert outcome.report is not None
    (aci,) = outcome.report.consumers
    assert aci.observed == "deployment-failed"
    assert "InvalidImageRegistryIdentity" in aci.deployment_errors
    assert aci.agreement == "agrees"
    assert not azure.server.sent("POST", r".*/restart")  # nothing to restart
    assert group_deletes(azure)


def test_restart_failing_permanently_still_tears_down(azure: FakeAzure, tags: TagIndex) -> None:
    azure.restart_reply = Reply(500, {"error": {"code": "InternalServerError",
                                                "message": "restart failed"}})
    outcome = run_lab(runner_for(azure), load_scenario("aci-vnet-trusted"),
                      location="japaneast", run_id=RUN, settings=FAST, tags=tags)
    assert outcome.report is None
    assert "restart" in outcome.error or "trigger" in outcome.error
    assert "HTTP 500" in outcome.error
    assert group_deletes(azure) == [f"/subscriptions/{SUB}/resourcegroups/{RG}"]
    assert outcome.torn_down is True


def test_base_deployment_failure_still_tears_down(azure: FakeAzure, tags: TagIndex) -> None:
    azure.fail_step["base"] = {"code": "DeploymentFailed", "message": "quota",
                               "details": [{"code": "SkuNotAvailable", "message": "no"}]}
    outcome = run_lab(runner_for(azure), load_scenario("aci-vnet-trusted"),
                      location="japaneast", run_id=RUN, settings=FAST, tags=tags)
    assert "base deployment" in outcome.error
    assert "SkuNotAvailable" in outcome.error
    assert not azure.server.sent("POST", r".*/importImage")
    assert group_deletes(azure) == [f"/subscriptions/{SUB}/resourcegroups/{RG}"]


def test_interrupt_still_tears_down(azure: FakeAzure, tags: TagIndex) -> None:
    def progress(message: str) -> None:  # the user presses Ctrl-C while the image imports
        if message.startswith("import "):
            raise KeyboardInterrupt

    target = runner_for(azure).target
    with pytest.raises(KeyboardInterrupt):
        run_lab(LabRunner(target, progress=progress), load_scenario("aci-vnet-trusted"),
                location="japaneast", run_id=RUN, settings=FAST, tags=tags)
    assert not azure.server.sent("POST", r".*/importImage")
    assert group_deletes(azure) == [f"/subscriptions/{SUB}/resourcegroups/{RG}"]


def test_collect_gives_up_with_a_clear_message(azure: FakeAzure, tags: TagIndex) -> None:
    azure.empty_polls = 1000
    messages: list[str] = []
    outcome = run_lab(runner_for(azure, messages), load_scenario("aci-vnet-trusted"),
                      location="japaneast", run_id=RUN, tags=tags,
                      settings=PollSettings(first_delay=0, max_delay=0, timeout=60, max_polls=3))
    assert outcome.report is not None
    assert azure.query_count == 3
    assert outcome.report.collect["complete"] is False
    msg = outcome.report.collect["message"]
    assert "gave up" in msg
    assert "aci" in msg
    assert f"lab collect --run-id {RUN}" in msg
    assert outcome.report.consumers[0].agreement == "not-observed"
    assert group_deletes(azure)


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
        runner_for(azure).create_resource_group_for(load_scenario("aci-vnet-trusted"),
                                                    location="japaneast", run_id=RUN)
    assert not azure.server.sent("PUT", r".*")


def test_list_shows_leftovers_by_tag(azure: FakeAzure) -> None:
    azure.add_group(RG, {"pullpath-lab": RUN, "created-by": "pullpath",
                         "pullpath-scenario": "aci-vnet-trusted"})
    azure.add_group("rg-other", {"pullpath-lab": "x"})  # not created by pullpath
    azure.add_group("rg-plain", {})
    (left,) = runner_for(azure).leftovers()
    assert (left.run_id, left.resource_group, left.scenario) == (RUN, RG, "aci-vnet-trusted")


def test_state_trigger_and_collect_as_separate_steps(azure: FakeAzure, tags: TagIndex) -> None:
    from datetime import UTC, datetime, timedelta

    from pullpath.lab.session import observe

    runner = runner_for(azure)
    scenario = load_scenario("aci-vnet-trusted")
    runner.create_resource_group_for(scenario, location="japaneast", run_id=RUN)
    runner.up(scenario, location="japaneast", run_id=RUN, group_exists=True)
    state = runner.state(RUN)  # rebuilt from the group's tags and the deployments' outputs
    assert state.consumer_ids["aci"].endswith(f"/containerGroups/ci-aci-{RUN}")
    assert state.outputs["registryLoginServer"] == f"{REGISTRY}.azurecr.io"
    runner.trigger(state, stop_start=True)
    assert azure.server.sent("POST", r".*/stop")
    assert azure.server.sent("POST", r".*/start")
    azure.add_pull(registry=REGISTRY, registry_id=REGISTRY_ID, caller=ACI_CALLER,
                   identity=uami_principal())
    report = observe(runner, state, since=datetime.now(UTC) - timedelta(hours=1),
                     settings=FAST, tags=tags)
    assert report.consumers[0].agreement == "agrees"
    runner.down(RUN)
    assert group_deletes(azure)
