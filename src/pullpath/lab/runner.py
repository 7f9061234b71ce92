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

Safety rules, enforced here and not only in the CLI:

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

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from pullpath.core.records import RecordError, parse_record
from pullpath.domain.events import PullEvent, ReadStats
from pullpath.lab.render import (
    API_VERSIONS,
    CREATED_BY_TAG,
    LAB_TAG,
    SCENARIO_TAG,
    RenderedLab,
    consumer_type,
    lab_names,
    render,
    valid_run_id,
)
from pullpath.lab.scenarios import Scenario, ScenarioError, load_scenario

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

ProgressFn = Callable[[str], None]



def _resources_client() -> type:
    from azure.mgmt.resource.resources import ResourceManagementClient

    return ResourceManagementClient


def _deployments_client() -> type:
    from azure.mgmt.resource.deployments import DeploymentsMgmtClient

    return DeploymentsMgmtClient


def _registry_client() -> type:
    from azure.mgmt.containerregistry import ContainerRegistryManagementClient

    return ContainerRegistryManagementClient


def _aci_client() -> type:
    from azure.mgmt.containerinstance import ContainerInstanceManagementClient

    return ContainerInstanceManagementClient


def _aca_client() -> type:
    from azure.mgmt.appcontainers import ContainerAppsAPIClient

    return ContainerAppsAPIClient


def _network_client() -> type:
    from azure.mgmt.network import NetworkManagementClient

    return NetworkManagementClient


def _logs_client() -> type:
    from azure.monitor.query import LogsQueryClient

    return LogsQueryClient


_CLIENT_CLASSES: dict[str, Callable[[], type]] = {
    "resources": _resources_client,
    "deployments": _deployments_client,
    "registry": _registry_client,
    "aci": _aci_client,
    "aca": _aca_client,
    "network": _network_client,
    "logs": _logs_client,
}
"""The SDK client class behind each name the runner asks for. Each is imported on first use,
in a plain import: the seven SDK packages take 0.3 s to import together (measured on
2026-12-06), and a command needs them one step at a time (``lab down`` only the resource
client, ``lab plan`` none)."""

class LabError(Exception):
    """A lab step failed: the message says which step, which resource and what to do."""


class LabRefused(LabError):
    """A request pullpath refuses for safety (e.g. deleting a group it did not create)."""


@dataclass(frozen=True, slots=True)
class AzureTarget:
    """Where the SDK clients go and how they authenticate."""

    credential: Any
    """An azure-core ``TokenCredential`` (DefaultAzureCredential in the CLI)."""
    subscription_id: str
    arm_endpoint: str = "https://management.azure.com"
    logs_endpoint: str = "https://api.loganalytics.io"
    connection_verify: bool | str = True
    """False or a CA bundle path for test servers; True (verify) otherwise."""
    retry_total: int | None = None
    """Retries of the SDK retry policy (429/5xx/timeouts); None keeps the SDK default (3)."""
    lro_polling_interval: float | None = None
    """Seconds between long-running-operation polls when the service sends no Retry-After."""

    def client_kwargs(self) -> dict[str, Any]:
        kw: dict[str, Any] = {"connection_verify": self.connection_verify}
        if self.retry_total is not None:
            kw["retry_total"] = self.retry_total
        if self.lro_polling_interval is not None:
            kw["polling_interval"] = self.lro_polling_interval
        return kw


@dataclass(frozen=True, slots=True)
class PollSettings:
    """How ``collect`` waits for the registry's events to reach the workspace (minutes)."""

    first_delay: float = 60.0
    max_delay: float = 300.0
    factor: float = 2.0
    timeout: float = 30 * 60.0
    """Give up after this many seconds."""
    max_polls: int | None = None
    """Give up after this many queries (None: only the timeout)."""


@dataclass(frozen=True, slots=True)
class Waits:
    """The bounded waits of ``lab up``/``lab run`` (seconds)."""

    poll: float = 30.0
    """Between two checks of every wait."""
    role_timeout: float = 900.0
    """How long a new AcrPull assignment may take to be listed and to become effective: a
    consumer refused by the registry for its identity within this bound is deployed again."""
    delivery_timeout: float = 1800.0
    """How long the diagnostic setting may take to deliver the consumers' first events."""


TRIGGERS = ("stop-start", "restart", "new-revision")
"""How ``trigger`` makes the consumers pull again. ``stop-start`` (the default, as in the field
report): ACI stop then start, Container Apps stop then start; ``restart``: ACI restart, the
Container App's active revision restarted; ``new-revision``: ACI stop then start, a new
Container App revision."""

_AUTH_CODES = frozenset({"InaccessibleImage", "RegistryErrorResponse"})
_AUTH_TEXT = re.compile(r"unauthori[sz]ed|authentication required|not authori[sz]ed|"
                        r"insufficient_scope", re.IGNORECASE)
_FIREWALL_TEXT = re.compile(r"not allowed access|aka\.ms/acr/firewall", re.IGNORECASE)


def is_authorization_failure(codes: tuple[str, ...], message: str) -> bool:
    """A consumer's deployment failed because the registry refused its identity (its role
    assignment may not be effective yet), not because the firewall refused its address."""
    if _FIREWALL_TEXT.search(message):
        return False
    return bool(_AUTH_CODES & set(codes)) or bool(_AUTH_TEXT.search(message))


@dataclass(frozen=True)
class LabState:
    """A deployed lab, as far as the runner needs it."""

    run_id: str
    scenario: Scenario
    lab: RenderedLab
    subscription_id: str
    outputs: Mapping[str, Any]
    """Base deployment outputs: registryId, registryLoginServer, workspaceCustomerId."""
    consumer_ids: Mapping[str, str]
    """Consumer key -> resource ID, for consumers that were deployed."""
    consumer_errors: Mapping[str, tuple[str, ...]]
    """Consumer key -> ARM error codes of its failed deployment."""
    consumer_error_messages: Mapping[str, str] = field(default_factory=dict)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def resource_group(self) -> str:
        return self.lab.names.resource_group


@dataclass(frozen=True, slots=True)
class Leftover:
    run_id: str
    resource_group: str
    location: str
    scenario: str
    tags: tuple[tuple[str, str], ...]


@dataclass
class CollectResult:
    events: list[PullEvent]
    stats: ReadStats
    polls: int
    elapsed: float
    complete: bool
    """True when every deployed consumer's pulls were seen."""
    missing: list[str] = field(default_factory=list)
    """Consumer keys without an attributed pull when collection stopped."""
    message: str = ""
    warnings: list[str] = field(default_factory=list)


def build_kql(registry_id: str, since: datetime) -> str:
    """Every registry event since ``since`` for one registry, both tables. ``isfuzzy`` because
    a new workspace has neither table until the first record arrives; no ``project`` because
    the two tables have different columns (the reader ignores the ones it does not know)."""
    start = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    rid = registry_id.lower().replace("'", "")
    return (
        "union isfuzzy=true ContainerRegistryRepositoryEvents, ContainerRegistryLoginEvents\n"
        f"| where TimeGenerated >= datetime({start})\n"
        f"| where _ResourceId =~ '{rid}'\n"
        "| order by TimeGenerated asc\n"
        "| take 10000"
    )


def _error_codes(exc: HttpResponseError) -> tuple[str, ...]:
    """Every error code in an ARM error, nested details included (DeploymentFailed and the
    resource's own code, e.g. InvalidImageRegistryIdentity)."""
    codes: list[str] = []

    def walk(err: Any, depth: int = 0) -> None:
        if err is None or depth > 8:
            return
        code = getattr(err, "code", None) if not isinstance(err, Mapping) else err.get("code")
        if code:
            codes.append(str(code))
        details = (getattr(err, "details", None) if not isinstance(err, Mapping)
                   else err.get("details"))
        for d in details or ():
            walk(d, depth + 1)

    walk(getattr(exc, "error", None))
    if not codes:
        model = getattr(exc, "model", None)
        walk(getattr(model, "error", None))
    if not codes and exc.response is not None:
        try:
            body = json.loads(exc.response.text())
        except ValueError:  # body not JSON: no codes to report
            body = None
        if isinstance(body, dict):
            walk(body.get("error"))
    return tuple(dict.fromkeys(codes))


def _no_table_yet(exc: HttpResponseError) -> bool:
    """A new workspace has no registry tables until the first record: the query is refused."""
    code = ",".join(_error_codes(exc))
    return exc.status_code == 400 and ("BadArgument" in code or "Semantic" in code)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


class LabRunner:
    """One runner per subscription; methods are the lab's steps."""

    def __init__(self, target: AzureTarget, *, progress: ProgressFn | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.target = target
        self._progress = progress
        self._sleep = sleep
        self._clock = clock
        self._clients: dict[str, Any] = {}

    # ------------------------------------------------------------------ clients
    def _client(self, name: str) -> Any:
        client = self._clients.get(name)
        if client is not None:
            return client
        t = self.target
        cls = _CLIENT_CLASSES[name]()
        if name == "logs":  # a data-plane client: an endpoint, no subscription
            client = cls(t.credential, endpoint=t.logs_endpoint, **t.client_kwargs())
        else:
            client = cls(t.credential, t.subscription_id, base_url=t.arm_endpoint,
                         **t.client_kwargs())
        self._clients[name] = client
        return client

    def close(self) -> None:
        for client in self._clients.values():
            close = getattr(client, "close", None)
            if callable(close):
                close()
        self._clients.clear()

    def say(self, message: str) -> None:
        if self._progress is not None:
            self._progress(message)

    def _timed(self, label: str, fn: Callable[[], Any]) -> Any:
        start = self._clock()
        self.say(f"{label} ...")
        result = fn()
        self.say(f"{label}: done in {self._clock() - start:.0f}s")
        return result

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

    def create_resource_group(self, lab: RenderedLab) -> None:
        """Create the lab's group, refusing any group pullpath did not create itself: the GET
        must find none, the PUT (``If-None-Match: *``, no tags) must answer 201 Created; only
        then are pullpath's tags added."""
        n = lab.names
        tags = {LAB_TAG: n.run_id, CREATED_BY_TAG[0]: CREATED_BY_TAG[1],
                SCENARIO_TAG: lab.scenario.ident}
        rg = self._client("resources").resource_groups
        try:
            existing = rg.get(n.resource_group)
        except ResourceNotFoundError:
            existing = None
        except HttpResponseError as exc:
            raise LabError(self._arm_message("read resource group", n.resource_group,
                                             exc)) from None
        if existing is not None:
            raise LabRefused(
                f"resource group {n.resource_group} already exists; pullpath only uses a group "
                "it creates itself. Choose another run ID (or let pullpath pick one)."
            )
        status: dict[str, int] = {}

        def created(pipeline_response: Any, deserialized: Any, headers: Any) -> Any:
            status["code"] = pipeline_response.http_response.status_code
            return deserialized

        try:
            self._timed(f"create resource group {n.resource_group} ({lab.location})",
                        lambda: rg.create_or_update(n.resource_group, {"location": lab.location},
                                                    headers={"If-None-Match": "*"}, cls=created))
        except HttpResponseError as exc:
            if exc.status_code == 412:
                raise LabRefused(
                    f"resource group {n.resource_group} appeared between pullpath's check and "
                    "its create (412 Precondition Failed): left untouched. Choose another run "
                    "ID.") from None
            raise LabError(self._arm_message("create resource group", n.resource_group,
                                             exc)) from None
        if status.get("code") != 201:
            raise LabRefused(
                f"resource group {n.resource_group} already existed when pullpath created it "
                f"(ARM answered {status.get('code')}, not 201 Created): it appeared between "
                "the check and the create. pullpath will not tag it, deploy into it or delete "
                "it. (A resource group PUT replaces its tags: if ARM did not honour "
                "If-None-Match, the group's own tags were cleared; pullpath added none.)"
            )
        try:
            rg.update(n.resource_group, {"tags": tags})
        except HttpResponseError as exc:
            message = self._arm_message("tag resource group", n.resource_group, exc)
            try:  # created by pullpath (201) a moment ago and still empty: remove it again
                rg.begin_delete(n.resource_group).result()
            except HttpResponseError:
                message += f"; delete the empty group {n.resource_group} yourself"
            raise LabError(message) from None

    def _deploy(self, lab: RenderedLab, name: str, template: Mapping[str, Any],
                values: Mapping[str, Any], label: str) -> dict[str, Any]:
        body = {"properties": {"mode": "Incremental", "template": template,
                               "parameters": lab.as_arm_parameters(values)}}
        client = self._client("deployments")

        def run() -> Any:
            poller = client.deployments.begin_create_or_update(
                lab.names.resource_group, name, body)
            return poller.result()

        try:
            result = self._timed(f"{label} {name}", run)
        except HttpResponseError as exc:
            raise _DeploymentFailed(_error_codes(exc), _short(exc), _error_tree(exc)) from None
        props = getattr(result, "properties", None)
        raw_state = getattr(props, "provisioning_state", None) or ""
        state = str(getattr(raw_state, "value", raw_state))
        if state not in ("Succeeded", ""):
            tree = _as_dict(getattr(props, "error", None))
            raise _DeploymentFailed((str(state), *_codes_in(tree)),
                                    f"{label} ended in state {state}", tree)
        raw = getattr(props, "outputs", None) or {}
        outputs = {k: (v.get("value") if isinstance(v, Mapping) else v) for k, v in raw.items()}
        missing = [k for k in template.get("outputs", {}) if k not in outputs]
        if missing:
            raise LabError(f"{label} {name} succeeded but returned no output(s) "
                           f"{', '.join(missing)}; check the deployment in the portal")
        return outputs

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

    def _consumer_id(self, lab: RenderedLab, key: str) -> str:
        c = next(c for c in lab.scenario.consumers if c.key == key)
        return (f"/subscriptions/{self.target.subscription_id}/resourceGroups/"
                f"{lab.names.resource_group}/providers/{consumer_type(c)}/"
                f"{lab.names.consumer(key)}")

    def _consumer_failures(self, lab: RenderedLab, exc: _DeploymentFailed
                           ) -> dict[str, tuple[tuple[str, ...], str]]:
        """Which consumers a failed deployment failed, with their own error codes and message:
        by the error details' ``target`` (ARM names the failed resource there), else by each
        consumer's provisioning state."""
        by_target = _errors_by_target(exc.tree)
        out: dict[str, tuple[tuple[str, ...], str]] = {}
        for c in lab.scenario.consumers:
            rid = self._consumer_id(lab, c.key).lower()
            for target, found in by_target.items():
                if target == rid or target.endswith("/" + lab.names.consumer(c.key).lower()):
                    out[c.key] = found
        if out:
            return out
        resources = self._client("resources").resources
        for c in lab.scenario.consumers:
            try:
                body = resources.get_by_id(self._consumer_id(lab, c.key),
                                           api_version=API_VERSIONS[consumer_type(c)])
                state = str((body.properties or {}).get("provisioningState", ""))
            except HttpResponseError:
                state = ""
            if state != "Succeeded":
                out[c.key] = (exc.codes, exc.message)
        return out or {c.key: (exc.codes, exc.message) for c in lab.scenario.consumers}

    def import_image(self, lab: RenderedLab) -> None:
        """Import the test image with the registry import API (an ARM operation; ACR import is
        itself a trusted-service operation): the registry's closed public endpoint is never
        touched from here."""
        img = lab.scenario.image
        body = {"source": {"registryUri": img.source_registry, "sourceImage": img.source_image},
                "targetTags": [img.target], "mode": "Force"}
        registries = self._client("registry").registries
        try:
            self._timed(
                f"import {img.source_registry}/{img.source_image} as {img.target}",
                lambda: registries.begin_import_image(lab.names.resource_group,
                                                      lab.names.registry, body).result(),
            )
        except HttpResponseError as exc:
            raise LabError(self._arm_message("import the test image into",
                                             lab.names.registry, exc)) from None

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

    # ------------------------------------------------------------------ delivery
    def wait_for_delivery(self, state: LabState, *, since: datetime, waits: Waits) -> int:
        """Poll the workspace until the registry's first events since ``since`` (the
        consumers' own pulls at deployment) are there: proof that the diagnostic setting
        delivers, so that the trigger's pulls will be seen. Pulls made before the setting is
        active are lost, not late. Raises :class:`LabError` after ``waits.delivery_timeout``."""
        workspace = state.outputs.get("workspaceCustomerId")
        start = self._clock()
        polls = 0
        while True:
            polls += 1
            events = self._poll_events(state, since)
            elapsed = self._clock() - start
            if events:
                self.say(f"the diagnostic setting delivers: {len(events)} registry event(s) in "
                         f"workspace {workspace} after {polls} poll(s), {elapsed:.0f}s")
                return len(events)
            if elapsed >= waits.delivery_timeout:
                raise LabError(
                    f"gave up after {elapsed:.0f}s and {polls} poll(s): no event of the "
                    f"consumers' first pulls reached workspace {workspace}, so the diagnostic "
                    "setting is not proven to deliver and a trigger could not be observed. "
                    "Raise --delivery-timeout, or run with --keep and use `pullpath lab "
                    f"trigger --run-id {state.run_id}` and `lab collect` later.")
            self.say(f"waiting for the diagnostic setting to deliver the consumers' first pulls "
                     f"to workspace {workspace} (poll {polls}, {elapsed:.0f}s of "
                     f"{waits.delivery_timeout:.0f}s)")
            self._sleep(waits.poll)

    def _poll_events(self, state: LabState, since: datetime) -> list[PullEvent]:
        try:
            events, _stats, _warnings = self.query_events(state, since)
        except HttpResponseError as exc:
            if _no_table_yet(exc):
                return []
            raise LabError(self._logs_message(state, exc)) from None
        return events

    # ------------------------------------------------------------------ trigger
    def trigger(self, state: LabState, *, mode: str = "stop-start") -> datetime:
        """Make every deployed consumer pull again (see :data:`TRIGGERS`). Returns when it
        was asked: the collection waits for pulls after that."""
        if mode not in TRIGGERS:
            raise LabError(f"unknown trigger {mode!r}; one of {', '.join(TRIGGERS)}")
        asked = datetime.now(UTC)
        rg = state.resource_group
        for c in state.scenario.consumers:
            if c.key not in state.consumer_ids:
                continue
            name = state.lab.names.consumer(c.key)
            try:
                if c.kind == "aci":
                    self._trigger_aci(rg, name, mode)
                elif mode == "new-revision":
                    self._new_revision(rg, name)
                elif mode == "restart":
                    self._restart_revision(rg, name)
                else:
                    self._stop_start_app(rg, name)
            except HttpResponseError as exc:
                raise LabError(self._arm_message("trigger a pull on", name, exc)) from None
        return asked

    def _trigger_aci(self, rg: str, name: str, mode: str) -> None:
        groups = self._client("aci").container_groups
        if mode == "restart":
            self._timed(f"restart container group {name}",
                        lambda: groups.begin_restart(rg, name).result())
            return
        self._timed(f"stop container group {name}", lambda: groups.stop(rg, name))
        self._timed(f"start container group {name}",
                    lambda: groups.begin_start(rg, name).result())

    def _stop_start_app(self, rg: str, name: str) -> None:
        apps = self._client("aca").container_apps
        self._timed(f"stop container app {name}", lambda: apps.begin_stop(rg, name).result())
        self._timed(f"start container app {name}", lambda: apps.begin_start(rg, name).result())

    def _restart_revision(self, rg: str, name: str) -> None:
        app = self._client("aca").container_apps.get(rg, name)
        props = getattr(app, "properties", None)
        revision = (getattr(props, "latest_ready_revision_name", None)
                    or getattr(props, "latest_revision_name", None))
        if not revision:
            raise LabError(f"container app {name} has no revision to restart")
        revisions = self._client("aca").container_apps_revisions
        self._timed(f"restart revision {revision} of container app {name}",
                    lambda: revisions.restart_revision(rg, name, revision))

    def _new_revision(self, rg: str, name: str) -> None:
        apps = self._client("aca").container_apps
        app = apps.get(rg, name)
        body = app.as_dict()
        template = body.setdefault("properties", {}).setdefault("template", {})
        template["revisionSuffix"] = "t" + datetime.now(UTC).strftime("%H%M%S")
        self._timed(f"new revision {template['revisionSuffix']} of container app {name}",
                    lambda: apps.begin_update(rg, name, body).result())

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

    def collect(self, state: LabState, *, since: datetime, settings: PollSettings,
                seen: Callable[[list[PullEvent]], list[str]],
                after: datetime | None = None) -> CollectResult:
        """Poll the workspace with backoff until ``seen(events)`` reports no missing
        consumer, or give up after ``settings.timeout`` (or ``max_polls``) with a clear
        message. ``seen`` returns the keys of consumers whose pulls are still missing;
        ``after`` (the trigger's time) only words the progress lines."""
        start = self._clock()
        delay = settings.first_delay
        polls = 0
        events: list[PullEvent] = []
        stats = ReadStats()
        warnings: list[str] = []
        missing = [c.key for c in state.scenario.consumers if c.key in state.consumer_ids]
        if not missing:
            self.say("collect: no consumer was deployed, so no pull can be expected; "
                     "one query for anything that reached the registry")
        while True:
            polls += 1
            try:
                events, stats, warns = self.query_events(state, since)
                warnings = warns
            except HttpResponseError as exc:
                if not _no_table_yet(exc):
                    raise LabError(self._logs_message(state, exc)) from None
                events, stats = [], ReadStats()
            missing = seen(events) if state.consumer_ids else []
            elapsed = self._clock() - start
            names = dict(state.lab.names.consumers)
            wanted = ", ".join(f"{k} ({names.get(k, k)})" for k in missing)
            when = f" after {after.astimezone(UTC):%H:%M:%SZ}" if after else ""
            self.say(f"collect: poll {polls}, {len(events)} event(s) in workspace "
                     f"{state.outputs.get('workspaceCustomerId')}; "
                     + (f"waiting for a pull by {wanted}{when}" if missing else "nothing missing")
                     + f", {elapsed:.0f}s of {settings.timeout:.0f}s")
            if not missing:
                return CollectResult(events, stats, polls, elapsed, True, [], "", warnings)
            out_of_polls = settings.max_polls is not None and polls >= settings.max_polls
            if elapsed + delay > settings.timeout or out_of_polls:
                message = (
                    f"gave up after {elapsed:.0f}s and {polls} quer{'y' if polls == 1 else 'ies'}: "
                    f"no pull attributed to {', '.join(missing)} in workspace "
                    f"{state.outputs['workspaceCustomerId']}. Registry logs usually reach Log "
                    "Analytics within 5-15 minutes; run `pullpath lab collect --run-id "
                    f"{state.run_id}` again later (use --keep with `lab run`), or raise "
                    "--collect-timeout."
                )
                self.say(message)
                return CollectResult(events, stats, polls, elapsed, False, missing, message,
                                     warnings)
            self._sleep(delay)
            delay = min(settings.max_delay, max(delay * settings.factor, delay))

    # ------------------------------------------------------------------ inventory
    def fetch_resources(self, state: LabState) -> list[dict[str, Any]]:
        """Every resource of the lab's group (GET each with its api-version, so properties are
        in), plus every public IP address in the subscription: the evidence for "does the
        caller IP belong to any resource of ours"."""
        resources = self._client("resources").resources
        docs: list[dict[str, Any]] = []
        try:
            listed = list(resources.list_by_resource_group(state.resource_group))
        except HttpResponseError as exc:
            raise LabError(self._arm_message("list resources of", state.resource_group,
                                             exc)) from None
        for item in listed:
            rtype = str(item.type)
            version = API_VERSIONS.get(rtype) or _api_for_type(rtype)
            try:
                full = resources.get_by_id(item.id, api_version=version)
            except HttpResponseError as exc:
                self.say(f"warning: cannot read {item.id}: {_short(exc)}")
                continue
            docs.append(full.as_dict())
        try:
            for pip in self._client("network").public_ip_addresses.list_all():
                docs.append(pip.as_dict())
        except HttpResponseError as exc:
            self.say("warning: cannot list the subscription's public IP addresses "
                     f"({_short(exc)}); customer-owned IPs cannot be recognised")
        return docs

    # ------------------------------------------------------------------ down / list
    def _owned_group(self, name: str, run_id: str) -> Any:
        rg = self._client("resources").resource_groups
        try:
            group = rg.get(name)
        except ResourceNotFoundError:
            raise LabError(f"resource group {name} does not exist (already deleted?); "
                           "`pullpath lab list` shows the lab groups that remain") from None
        except HttpResponseError as exc:
            raise LabError(self._arm_message("read resource group", name, exc)) from None
        tags = {str(k).lower(): str(v) for k, v in (group.tags or {}).items()}
        if tags.get(CREATED_BY_TAG[0]) != CREATED_BY_TAG[1] or LAB_TAG not in tags:
            raise LabRefused(
                f"refusing to touch resource group {name}: it does not carry pullpath's tags "
                f"({LAB_TAG}=<run-id>, {CREATED_BY_TAG[0]}={CREATED_BY_TAG[1]}), so pullpath "
                "did not create it. Delete it yourself if you really mean to."
            )
        if tags[LAB_TAG] != run_id:
            raise LabRefused(
                f"refusing to touch resource group {name}: its {LAB_TAG} tag is "
                f"{tags[LAB_TAG]!r}, not the run ID {run_id!r} you gave"
            )
        return group

    def down(self, run_id: str, *, resource_group: str | None = None, wait: bool = True) -> str:
        """Delete the lab's resource group, only if it carries pullpath's tags and this run
        ID. Returns the group's name."""
        name = resource_group or f"rg-pullpath-lab-{run_id}"
        self._owned_group(name, run_id)
        rg = self._client("resources").resource_groups
        try:
            poller = rg.begin_delete(name)
            if wait:
                self._timed(f"delete resource group {name}", poller.result)
            else:
                self.say(f"deleting resource group {name} (not waiting)")
        except ResourceNotFoundError:
            self.say(f"resource group {name} is already gone")
        except HttpResponseError as exc:
            raise LabError(self._arm_message("delete resource group", name, exc)
                           + f"; retry with `pullpath lab down --run-id {run_id}`") from None
        return name

    def leftovers(self) -> list[Leftover]:
        rg = self._client("resources").resource_groups
        out: list[Leftover] = []
        try:
            groups = list(rg.list(filter=f"tagName eq '{LAB_TAG}'"))
        except HttpResponseError as exc:
            raise LabError(self._arm_message("list resource groups in subscription",
                                             self.target.subscription_id, exc)) from None
        for g in groups:
            tags = {str(k): str(v) for k, v in (g.tags or {}).items()}
            if tags.get(CREATED_BY_TAG[0]) != CREATED_BY_TAG[1]:
                continue
            out.append(Leftover(tags.get(LAB_TAG, ""), str(g.name), str(g.location),
                                tags.get(SCENARIO_TAG, ""), tuple(sorted(tags.items()))))
        return sorted(out, key=lambda x: x.resource_group)

    # ------------------------------------------------------------------ messages
    def _arm_message(self, action: str, what: str, exc: HttpResponseError) -> str:
        status = exc.status_code
        hint = ""
        if status == 403:
            hint = (" (permission denied: the lab needs Contributor and User Access "
                    "Administrator, or Owner, on the subscription)")
        elif status == 401:
            hint = " (not signed in: run `az login` or set AZURE_* environment variables)"
        codes = ", ".join(_error_codes(exc))
        return f"cannot {action} {what}: HTTP {status}{' ' + codes if codes else ''}: " \
               f"{_short(exc)}{hint}"

    def _logs_message(self, state: LabState, exc: HttpResponseError) -> str:
        ws = state.outputs.get("workspaceCustomerId")
        hint = (" (Log Analytics Reader on the workspace is needed)"
                if exc.status_code == 403 else "")
        return f"cannot query Log Analytics workspace {ws}: HTTP {exc.status_code}: " \
               f"{_short(exc)}{hint}"


class _DeploymentFailed(LabError):
    def __init__(self, codes: tuple[str, ...], message: str,
                 tree: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.codes = codes
        self.message = message
        self.tree: Mapping[str, Any] = tree or {}


def _error_tree(exc: HttpResponseError) -> dict[str, Any]:
    """The ARM error of a failed request or long-running operation, as a plain mapping."""
    if exc.response is not None:
        try:
            body = json.loads(exc.response.text())
        except ValueError:  # body not JSON: no tree
            body = None
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            return dict(body["error"])
    error = getattr(exc, "error", None)
    if error is not None:
        return {"code": getattr(error, "code", ""), "message": getattr(error, "message", ""),
                "target": getattr(error, "target", ""),
                "details": [{"code": getattr(d, "code", ""), "message": getattr(d, "message", ""),
                             "target": getattr(d, "target", "")}
                            for d in getattr(error, "details", None) or ()]}
    return {}


def _as_dict(model: Any) -> dict[str, Any]:
    as_dict = getattr(model, "as_dict", None)
    return dict(as_dict()) if callable(as_dict) else {}


def _codes_in(tree: Mapping[str, Any], depth: int = 0) -> tuple[str, ...]:
    if not isinstance(tree, Mapping) or depth > 8:
        return ()
    codes = [str(tree["code"])] if tree.get("code") else []
    for d in tree.get("details") or ():
        codes.extend(_codes_in(d, depth + 1))
    return tuple(dict.fromkeys(codes))


def _messages_in(tree: Mapping[str, Any], depth: int = 0) -> list[str]:
    if not isinstance(tree, Mapping) or depth > 8:
        return []
    out = [str(tree["message"])] if tree.get("message") else []
    for d in tree.get("details") or ():
        out.extend(_messages_in(d, depth + 1))
    return out


def _errors_by_target(tree: Mapping[str, Any]) -> dict[str, tuple[tuple[str, ...], str]]:
    """Lower-case target (resource ID) -> (error codes, messages) of every error detail that
    names one, nested details included."""
    out: dict[str, tuple[tuple[str, ...], str]] = {}

    def walk(err: Any, depth: int) -> None:
        if not isinstance(err, Mapping) or depth > 8:
            return
        target = str(err.get("target") or "").lower()
        if target:
            out[target] = (_codes_in(err), " ".join(_messages_in(err))[:1000])
        for d in err.get("details") or ():
            walk(d, depth + 1)

    walk(tree, 0)
    return out


def _api_for_type(rtype: str) -> str:
    """An api-version for GET of a type the lab did not create itself (platform-made NICs)."""
    if rtype.lower().startswith("microsoft.network/"):
        return API_VERSIONS["Microsoft.Network/virtualNetworks"]
    return "2022-09-01"

