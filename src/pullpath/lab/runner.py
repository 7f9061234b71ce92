"""Drive a lab in Azure through the Azure SDK clients: up, import, trigger, collect, down.

The runner receives its endpoints and credential (:class:`AzureTarget`), so tests point the
real SDK clients at a loopback server. Azure itself holds the lab's state: the resource group
(tagged with the run ID and the scenario) and its deployments' outputs, so ``lab trigger``,
``lab collect`` and ``lab down`` need only the run ID.

Safety rules, enforced here and not only in the CLI:

- the resource group is created by pullpath with the tags ``pullpath-lab: <run-id>`` and
  ``created-by: pullpath``; :meth:`LabRunner.down` deletes a resource group only when it
  carries both, with the given run ID, and refuses anything else with the reason;
- nothing uses the registry's admin user or any password: consumers pull with a managed
  identity, the runner authenticates with the given token credential;
- no token or secret is ever printed: progress lines name resources and durations only.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import import_module
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
    lab_names,
    render,
    valid_run_id,
)
from pullpath.lab.scenarios import Scenario, load_scenario

__all__ = [
    "AzureTarget",
    "CollectResult",
    "LabError",
    "LabRefused",
    "LabRunner",
    "LabState",
    "Leftover",
    "PollSettings",
    "build_kql",
]

ProgressFn = Callable[[str], None]



_CLIENT_CLASSES: dict[str, tuple[str, str]] = {
    "resources": ("azure.mgmt.resource.resources", "ResourceManagementClient"),
    "deployments": ("azure.mgmt.resource.deployments", "DeploymentsMgmtClient"),
    "registry": ("azure.mgmt.containerregistry", "ContainerRegistryManagementClient"),
    "aci": ("azure.mgmt.containerinstance", "ContainerInstanceManagementClient"),
    "aca": ("azure.mgmt.appcontainers", "ContainerAppsAPIClient"),
    "network": ("azure.mgmt.network", "NetworkManagementClient"),
    "logs": ("azure.monitor.query", "LogsQueryClient"),
}
"""The SDK client behind each name the runner asks for (imported on first use)."""

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
        module, class_name = _CLIENT_CLASSES[name]
        cls = getattr(import_module(module), class_name)
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
           group_exists: bool = False) -> LabState:
        """Resource group, base deployment, image import, consumers deployment.

        A failure of the base deployment or the import raises :class:`LabError` (the group
        exists and must be torn down by the caller); a failed consumers deployment is an
        observation and is recorded in the state (some scenarios expect it)."""
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
        consumer_ids: dict[str, str] = {}
        errors: dict[str, tuple[str, ...]] = {}
        messages: dict[str, str] = {}
        try:
            cons_out = self._deploy(lab, names.consumers_deployment, lab.consumers_template,
                                    lab.consumers_parameters(str(outputs["registryLoginServer"])),
                                    "consumers deployment")
            for c in scenario.consumers:
                consumer_ids[c.key] = str(cons_out[f"{c.key}Id"])
        except _DeploymentFailed as exc:
            for c in scenario.consumers:
                errors[c.key] = exc.codes
                messages[c.key] = exc.message
            self.say(f"consumers deployment failed: {', '.join(exc.codes) or exc.message}")
        return LabState(run_id, scenario, lab, self.target.subscription_id, outputs,
                        consumer_ids, errors, messages, started)

    def create_resource_group(self, lab: RenderedLab) -> None:
        n = lab.names
        tags = {LAB_TAG: n.run_id, CREATED_BY_TAG[0]: CREATED_BY_TAG[1],
                SCENARIO_TAG: lab.scenario.name}
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
        try:
            self._timed(f"create resource group {n.resource_group} ({lab.location})",
                        lambda: rg.create_or_update(n.resource_group,
                                                    {"location": lab.location, "tags": tags}))
        except HttpResponseError as exc:
            raise LabError(self._arm_message("create resource group", n.resource_group,
                                             exc)) from None

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
            codes = _error_codes(exc)
            raise _DeploymentFailed(codes, _short(exc)) from None
        props = getattr(result, "properties", None)
        raw_state = getattr(props, "provisioning_state", None) or ""
        state = str(getattr(raw_state, "value", raw_state))
        if state not in ("Succeeded", ""):
            raise _DeploymentFailed((str(state),), f"{label} ended in state {state}")
        raw = getattr(props, "outputs", None) or {}
        outputs = {k: (v.get("value") if isinstance(v, Mapping) else v) for k, v in raw.items()}
        missing = [k for k in template.get("outputs", {}) if k not in outputs]
        if missing:
            raise LabError(f"{label} {name} succeeded but returned no output(s) "
                           f"{', '.join(missing)}; check the deployment in the portal")
        return outputs

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
        scenario = load_scenario(tags.get(SCENARIO_TAG, ""))
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
            cons_out = {k: v.get("value") for k, v in (cons.properties.outputs or {}).items()}
            for c in scenario.consumers:
                if f"{c.key}Id" in cons_out:
                    ids[c.key] = str(cons_out[f"{c.key}Id"])
                else:
                    st = cons.properties.provisioning_state
                    errors[c.key] = (str(getattr(st, "value", st)),)
        except ResourceNotFoundError:
            errors = {c.key: ("NotDeployed",) for c in scenario.consumers}
        return LabState(run_id, scenario, lab, self.target.subscription_id, outputs, ids, errors)

    # ------------------------------------------------------------------ trigger
    def trigger(self, state: LabState, *, stop_start: bool = False) -> datetime:
        """Make every deployed consumer pull again: restart (or stop + start) each ACI
        container group, a new revision of each Container App. Returns when it was asked."""
        asked = datetime.now(UTC)
        rg = state.resource_group
        for c in state.scenario.consumers:
            if c.key not in state.consumer_ids:
                continue
            name = state.lab.names.consumer(c.key)
            try:
                if c.kind == "aci":
                    self._trigger_aci(rg, name, stop_start)
                else:
                    self._new_revision(rg, name)
            except HttpResponseError as exc:
                raise LabError(self._arm_message("trigger a pull on", name, exc)) from None
        return asked

    def _trigger_aci(self, rg: str, name: str, stop_start: bool) -> None:
        groups = self._client("aci").container_groups
        if stop_start:
            self._timed(f"stop container group {name}", lambda: groups.stop(rg, name))
            self._timed(f"start container group {name}",
                        lambda: groups.begin_start(rg, name).result())
        else:
            self._timed(f"restart container group {name}",
                        lambda: groups.begin_restart(rg, name).result())

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
                seen: Callable[[list[PullEvent]], list[str]]) -> CollectResult:
        """Poll the workspace with backoff until ``seen(events)`` reports no missing
        consumer, or give up after ``settings.timeout`` (or ``max_polls``) with a clear
        message. ``seen`` returns the keys of consumers whose pulls are still missing."""
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
                code = ",".join(_error_codes(exc))
                if exc.status_code in (400,) and ("BadArgument" in code or "Semantic" in code):
                    # a new workspace: the registry tables do not exist until the first record
                    events, stats = [], ReadStats()
                else:
                    raise LabError(self._logs_message(state, exc)) from None
            missing = seen(events) if state.consumer_ids else []
            elapsed = self._clock() - start
            self.say(f"collect: poll {polls}, {len(events)} event(s), waiting for "
                     f"{', '.join(missing) or 'nothing'}, {elapsed:.0f}s elapsed")
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
    def __init__(self, codes: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.codes = codes
        self.message = message


def _api_for_type(rtype: str) -> str:
    """An api-version for GET of a type the lab did not create itself (platform-made NICs)."""
    if rtype.lower().startswith("microsoft.network/"):
        return API_VERSIONS["Microsoft.Network/virtualNetworks"]
    return "2022-09-01"

