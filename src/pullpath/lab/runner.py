"""Drive a lab in Azure through the Azure SDK clients: up, import, trigger, collect, down.

The runner receives its endpoints and credential (:class:`AzureTarget`), so tests point the
real SDK clients at a loopback server. Azure itself holds the lab's state: the resource group
(tagged with the run ID and the scenario) and its deployments' outputs, so ``lab trigger``,
``lab collect`` and ``lab down`` need only the run ID.

Honest sequencing: after the base deployment the runner waits (bounded, with progress) until
every ``AcrPull`` assignment is listed on the registry; a consumer whose deployment fails
because the registry refuses its identity while the assignment may still be propagating is
deployed again, not recorded (:meth:`LabRunner.deploy_consumers`); before any trigger it waits
until the diagnostic setting has delivered the consumers' first events
(:meth:`LabRunner.wait_for_delivery`), because pulls made before the setting is active are lost,
not late.

The steps live beside this module, by phase: :mod:`.clients` (target, clients, errors, state),
:mod:`.deploying` (resource group, deployments, image import), :mod:`.triggering`,
:mod:`.collecting` (delivery, collection, inventory) and :mod:`.cleanup` (``lab down``,
``lab list``). :class:`LabRunner` combines them and keeps the entry points that read the
deployments' outputs (``registryId``, ``registryLoginServer``, ``workspaceCustomerId``, the
role assignment and consumer IDs); every public name is importable from here.

Safety rules, enforced by the runner (:mod:`.deploying`, :mod:`.cleanup`) and not
only in the CLI:

- the resource group is created by pullpath: a GET must find no group, the PUT carries
  ``If-None-Match: *`` and no tags, and only a ``201 Created`` answer makes the group pullpath's
  (a ``200`` means a same-named group appeared between the check and the create: refused,
  never tagged, deployed into or deleted). Then the tags ``pullpath-lab: <run-id>`` and
  ``created-by: pullpath`` are added; :meth:`LabRunner.down` deletes a resource group only when
  it carries both, with the given run ID, and refuses anything else with the reason;
- nothing uses the registry's admin user or any password: consumers pull with a managed
  identity, the runner authenticates with the given token credential;
- no token or secret is ever printed: progress lines name resources and durations only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from pullpath.core.records import RecordError, parse_record
from pullpath.domain.events import PullEvent, ReadStats
from pullpath.lab.cleanup import CleanupSteps, Leftover
from pullpath.lab.clients import AzureTarget, LabError, LabRefused, LabState, Waits
from pullpath.lab.collecting import CollectResult, CollectSteps, PollSettings, build_kql
from pullpath.lab.deploying import (
    DeploySteps,
    _as_dict,
    _codes_in,
    _DeploymentFailed,
    is_authorization_failure,
)
from pullpath.lab.render import (
    API_VERSIONS,
    SCENARIO_TAG,
    RenderedLab,
    lab_names,
    render,
    valid_run_id,
)
from pullpath.lab.scenarios import Scenario, ScenarioError, load_scenario
from pullpath.lab.triggering import TRIGGERS, TriggerSteps

__all__ = [
    "TRIGGERS",
    "AzureTarget",
    "CollectResult",
    "LabError",
    "LabRefused",
    "LabRunner",
    "LabState",
    "Leftover",
    "PollSettings",
    "Waits",
    "build_kql",
    "is_authorization_failure",
]


class LabRunner(DeploySteps, TriggerSteps, CollectSteps, CleanupSteps):
    """One runner per subscription; methods are the lab's steps."""

    # ------------------------------------------------------------------ up
    def create_resource_group_for(self, scenario: Scenario, *, location: str,
                                  run_id: str) -> None:
        self.create_resource_group(render(scenario, lab_names(scenario, run_id), location))

    def up(self, scenario: Scenario, *, location: str, run_id: str,
           group_exists: bool = False, waits: Waits | None = None) -> LabState:
        """Resource group, base deployment, image import, the wait for the role assignments,
        consumers deployment (retried while the registry refuses a consumer's identity within
        the role timeout).

        A failure of the base deployment or the import raises :class:`LabError` (the group
        exists and must be torn down by the caller); a failed consumers deployment is an
        observation and is recorded in the state (some scenarios expect it)."""
        w = waits or Waits()
        names = lab_names(scenario, run_id)
        lab = render(scenario, names, location)
        started = datetime.now(UTC)
        if not group_exists:
            self.create_resource_group(lab)
        try:
            outputs = self._deploy(lab, names.base_deployment, lab.base_template,
                                   lab.base_parameters(), "base deployment")
        except _DeploymentFailed as exc:
            raise LabError(f"base deployment {names.base_deployment} failed"
                           f"{' (' + ', '.join(exc.codes) + ')' if exc.codes else ''}: "
                           f"{exc.message}") from None
        self.import_image(lab)
        listed_at = self.wait_for_role_assignments(lab, outputs, w)
        consumer_ids, errors, messages = self.deploy_consumers(
            lab, outputs, deadline=listed_at + w.role_timeout, poll=w.poll)
        return LabState(run_id, scenario, lab, self.target.subscription_id, outputs,
                        consumer_ids, errors, messages, started)

    def wait_for_role_assignments(self, lab: RenderedLab, outputs: Mapping[str, Any],
                                  waits: Waits) -> float:
        """Poll until every consumer's AcrPull assignment is listed on the registry (bounded by
        ``waits.role_timeout``); returns the clock time it was, from which the consumers'
        authorisation retries are bounded."""
        resources = self._client("resources").resources
        api = API_VERSIONS["Microsoft.Authorization/roleAssignments"]
        pending: dict[str, str] = {}
        for c in lab.scenario.consumers:
            rid = outputs.get(f"{c.key}RoleAssignmentId")
            if not rid:
                raise LabError(f"the base deployment returned no {c.key}RoleAssignmentId "
                               "output; check the deployment in the portal")
            pending[lab.names.identity(c.key)] = str(rid)
        start = self._clock()
        polls = 0
        while True:
            polls += 1
            for identity, rid in list(pending.items()):
                try:
                    resources.get_by_id(rid, api_version=api)
                except ResourceNotFoundError:
                    continue
                except HttpResponseError as exc:
                    raise LabError(self._arm_message("read the AcrPull assignment of", identity,
                                                     exc)) from None
                del pending[identity]
            elapsed = self._clock() - start
            if not pending:
                self.say(f"AcrPull assignments listed on registry {lab.names.registry} "
                         f"after {polls} poll(s), {elapsed:.0f}s")
                return self._clock()
            if elapsed >= waits.role_timeout:
                raise LabError(
                    f"gave up after {elapsed:.0f}s and {polls} poll(s): the AcrPull assignment "
                    f"of {', '.join(pending)} is not listed on registry {lab.names.registry}; "
                    "raise --role-timeout or check the base deployment")
            self.say(f"waiting for the AcrPull assignment of {', '.join(pending)} on registry "
                     f"{lab.names.registry} (poll {polls}, {elapsed:.0f}s of "
                     f"{waits.role_timeout:.0f}s)")
            self._sleep(waits.poll)

    def deploy_consumers(self, lab: RenderedLab, outputs: Mapping[str, Any], *,
                         deadline: float, poll: float
                         ) -> tuple[dict[str, str], dict[str, tuple[str, ...]], dict[str, str]]:
        """Deploy the consumers; while a consumer fails because the registry refuses its
        identity and the clock is before ``deadline`` (its role assignment may still be
        propagating), deploy again: that failure is not the observation. Returns (deployed
        consumer IDs, ARM error codes and message of each consumer that failed)."""
        names = lab.names
        params = lab.consumers_parameters(str(outputs["registryLoginServer"]))
        attempt = 0
        while True:
            attempt += 1
            label = "consumers deployment" + (f" (attempt {attempt})" if attempt > 1 else "")
            try:
                out = self._deploy(lab, names.consumers_deployment, lab.consumers_template,
                                   params, label)
            except _DeploymentFailed as exc:
                failures = self._consumer_failures(lab, exc)
                refused = [k for k, (codes, msg) in failures.items()
                           if is_authorization_failure(codes, msg)]
                left = deadline - self._clock()
                if refused and left > 0:
                    self.say(f"consumer(s) {', '.join(refused)} refused by the registry for "
                             "their identity (AcrPull may not be effective yet): deploying "
                             f"again in {poll:.0f}s ({left:.0f}s left of the role timeout)")
                    self._sleep(poll)
                    continue
                for key, (codes, _msg) in failures.items():
                    self.say(f"consumer {key} failed to deploy: {', '.join(codes) or 'error'}")
                deployed = {c.key: self._consumer_id(lab, c.key) for c in lab.scenario.consumers
                            if c.key not in failures}
                return (deployed, {k: v[0] for k, v in failures.items()},
                        {k: v[1] for k, v in failures.items()})
            return ({c.key: str(out[f"{c.key}Id"]) for c in lab.scenario.consumers}, {}, {})

    # ------------------------------------------------------------------ state from Azure
    def state(self, run_id: str) -> LabState:
        """Rebuild a lab's state from its tagged resource group and deployment outputs."""
        if not valid_run_id(run_id):
            raise LabError(f"run ID {run_id!r} is not a pullpath lab run ID (8 lower-case "
                           "letters and digits); `pullpath lab list` shows the runs")
        rg_name = f"rg-pullpath-lab-{run_id}"
        group = self._owned_group(rg_name, run_id)
        tags = dict(group.tags or {})
        try:
            scenario = load_scenario(tags.get(SCENARIO_TAG, ""))
        except ScenarioError as exc:
            raise LabError(f"resource group {rg_name}: its {SCENARIO_TAG} tag names no "
                           f"scenario this pullpath knows ({exc})") from None
        lab = render(scenario, lab_names(scenario, run_id), group.location)
        dep = self._client("deployments").deployments
        try:
            base = dep.get(rg_name, lab.names.base_deployment)
        except HttpResponseError as exc:
            raise LabError(self._arm_message("read deployment", lab.names.base_deployment,
                                             exc)) from None
        outputs = {k: v.get("value") for k, v in (base.properties.outputs or {}).items()}
        ids: dict[str, str] = {}
        errors: dict[str, tuple[str, ...]] = {}
        try:
            cons = dep.get(rg_name, lab.names.consumers_deployment)
        except ResourceNotFoundError:
            errors = {c.key: ("NotDeployed",) for c in scenario.consumers}
            return LabState(run_id, scenario, lab, self.target.subscription_id, outputs, ids,
                            errors)
        except HttpResponseError as exc:
            raise LabError(self._arm_message("read deployment", lab.names.consumers_deployment,
                                             exc)) from None
        cons_out = {k: v.get("value") for k, v in (cons.properties.outputs or {}).items()}
        if all(f"{c.key}Id" in cons_out for c in scenario.consumers):
            ids = {c.key: str(cons_out[f"{c.key}Id"]) for c in scenario.consumers}
        else:  # a failed consumers deployment: which consumers exist?
            st = cons.properties.provisioning_state
            tree = _as_dict(getattr(cons.properties, "error", None))
            failed = _DeploymentFailed((str(getattr(st, "value", st)), *_codes_in(tree)),
                                       "consumers deployment failed", tree)
            failures = self._consumer_failures(lab, failed)
            errors = {k: v[0] for k, v in failures.items()}
            ids = {c.key: self._consumer_id(lab, c.key) for c in scenario.consumers
                   if c.key not in failures}
        return LabState(run_id, scenario, lab, self.target.subscription_id, outputs, ids, errors)

    # ------------------------------------------------------------------ collect
    def query_events(self, state: LabState, since: datetime) -> tuple[list[PullEvent], ReadStats,
                                                                       list[str]]:
        """One Log Analytics query: the registry's events since ``since``."""
        from azure.monitor.query import LogsQueryStatus

        workspace = str(state.outputs["workspaceCustomerId"])
        kql = build_kql(str(state.outputs["registryId"]), since)
        end = datetime.now(UTC) + timedelta(minutes=5)
        warnings: list[str] = []
        result = self._client("logs").query_workspace(
            workspace, kql, timespan=(since - timedelta(minutes=5), end))
        if result.status == LogsQueryStatus.PARTIAL:
            warnings.append(f"Log Analytics returned partial results: {result.partial_error}")
            tables = result.partial_data
        else:
            tables = result.tables
        stats = ReadStats()
        events: list[PullEvent] = []
        label = f"workspace {workspace}"
        for table in tables or ():
            columns = [str(c) for c in table.columns]
            for i, row in enumerate(table.rows):
                record = dict(zip(columns, list(row), strict=False))
                try:
                    events.append(parse_record(record))
                    stats.count_read(label)
                except RecordError as exc:
                    from pullpath.domain.events import Location, Skip
                    stats.count_skip(Skip(Location(label, i), exc.reason, exc.detail))
        return events, stats, warnings
