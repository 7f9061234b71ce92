"""Collecting: the wait until the diagnostic setting delivers (pulls made before it is active
are lost, not late), the polling with backoff until every triggered consumer's pull is in the
workspace, the KQL query, and the lab's resources read back as the audit's inventory.

The query itself (:meth:`pullpath.lab.runner.LabRunner.query_events`, which reads the base
deployment's outputs) is in :mod:`pullpath.lab.runner`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from azure.core.exceptions import HttpResponseError

from pullpath.domain.events import PullEvent, ReadStats
from pullpath.lab.clients import LabError, LabState, RunnerBase, Waits, _error_codes, _short
from pullpath.lab.render import API_VERSIONS


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


def _no_table_yet(exc: HttpResponseError) -> bool:
    """A new workspace has no registry tables until the first record: the query is refused."""
    code = ",".join(_error_codes(exc))
    return exc.status_code == 400 and ("BadArgument" in code or "Semantic" in code)


class CollectSteps(RunnerBase):
    """Delivery, collection and the inventory of the lab's resources."""

    if TYPE_CHECKING:  # defined by LabRunner (pullpath.lab.runner)
        def query_events(self, state: LabState, since: datetime
                         ) -> tuple[list[PullEvent], ReadStats, list[str]]: ...

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

    # ------------------------------------------------------------------ collect
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


def _api_for_type(rtype: str) -> str:
    """An api-version for GET of a type the lab did not create itself (platform-made NICs)."""
    if rtype.lower().startswith("microsoft.network/"):
        return API_VERSIONS["Microsoft.Network/virtualNetworks"]
    return "2022-09-01"
