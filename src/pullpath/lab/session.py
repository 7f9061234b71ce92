"""A whole lab run: up (with its waits), proof that the logs are delivered, trigger, collect,
audit, compare, and teardown in ``finally``.

The observation is the existing audit (``pullpath.workflows.audit.audit_events``) of the
collected events, with the lab's deployed resources (read back through ARM) and the
subscription's public IPs as the inventory.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pullpath.core.inventory import inventory_from_documents
from pullpath.core.servicetags import TagIndex
from pullpath.domain.events import PullEvent, ReadStats
from pullpath.domain.inventory import Inventory
from pullpath.domain.report import AuditReport, LabReport
from pullpath.lab.predict import predict_for_scenario
from pullpath.lab.report import compare, evidence_of, missing_consumers
from pullpath.lab.runner import (
    CollectResult,
    LabError,
    LabRunner,
    LabState,
    PollSettings,
    Waits,
)
from pullpath.lab.scenarios import Scenario

__all__ = ["LabOutcome", "observe", "run_lab"]


def _audit(events: list[PullEvent], stats: ReadStats, inventory: Inventory,
           tags: TagIndex, source: str) -> AuditReport:
    from pullpath.workflows.audit import audit_events

    return audit_events(events, stats, inventory=inventory, tags=tags, log_sources=[source])


def observe(
    runner: LabRunner,
    state: LabState,
    *,
    since: datetime,
    settings: PollSettings,
    tags: TagIndex,
    today: date | None = None,
    torn_down: bool | None = None,
    warnings: list[str] | None = None,
    after: datetime | None = None,
    trigger: str = "",
) -> LabReport:
    """Collect the registry's events since ``since``, audit them against the lab's resources
    and compare each consumer's observed path with the prediction. With ``after`` (the
    trigger's time) collection waits until each deployed consumer has a pull after it."""
    docs = runner.fetch_resources(state)
    inventory = inventory_from_documents([(f"resource group {state.resource_group}", docs)])
    source = f"Log Analytics workspace {state.outputs.get('workspaceCustomerId')}"

    def seen(events: list[PullEvent]) -> list[str]:
        recent = [e for e in events if after is None or (e.time is not None and e.time >= after)]
        audit = _audit(recent, ReadStats(), inventory, tags, source)
        return missing_consumers(audit, dict(state.consumer_ids))

    collected: CollectResult = runner.collect(state, since=since, settings=settings, seen=seen,
                                              after=after)
    audit = _audit(collected.events, collected.stats, inventory, tags, source)
    return build_report(runner, state, audit, collected, today=today, torn_down=torn_down,
                        warnings=[*(warnings or []), *collected.warnings], trigger=trigger,
                        triggered=after)


def build_report(runner: LabRunner, state: LabState, audit: AuditReport | None,
                 collected: CollectResult | None, *, today: date | None = None,
                 torn_down: bool | None = None, warnings: list[str] | None = None,
                 trigger: str = "", triggered: datetime | None = None) -> LabReport:
    day = today or datetime.now(UTC).date()
    predictions = predict_for_scenario(state.lab)
    names = dict(state.lab.names.consumers)
    consumers = compare(state.scenario, run_id=state.run_id, predictions=predictions,
                        consumer_ids=dict(state.consumer_ids), consumer_names=names,
                        deployment_errors=dict(state.consumer_errors), audit=audit, today=day)
    attributed = {c.resource_id.lower() for c in consumers if c.resource_id}
    unattributed = tuple(evidence_of(f) for f in (audit.result.flows if audit else [])
                         if f.consumer.id.lower() not in attributed)
    notes = list(warnings or [])
    if audit is not None:
        notes.extend(audit.result.warnings)
    for p, c in zip(predictions, state.scenario.consumers, strict=True):
        if p.source == "explain" and p.path is not c.expect.path:
            notes.append(f"explain predicts {p.path.value} for {c.key}, the scenario expects "
                         f"{c.expect.path.value}")
    for key, msg in state.consumer_error_messages.items():
        notes.append(f"consumer {key} deployment: {msg}")
    collect: dict[str, Any] = {}
    if collected is not None:
        collect = {"polls": collected.polls, "elapsed_s": round(collected.elapsed, 1),
                   "complete": collected.complete, "missing": collected.missing,
                   "events": collected.stats.events_read, "message": collected.message}
    return LabReport(
        scenario=state.scenario, run_id=state.run_id, subscription=state.subscription_id,
        resource_group=state.resource_group, location=state.lab.location,
        started=state.started, finished=datetime.now(UTC), consumers=consumers,
        unattributed=unattributed, collect=collect, audit=audit, warnings=tuple(notes),
        torn_down=torn_down, today=day, trigger=trigger, triggered=triggered,
    )


@dataclass
class LabOutcome:
    report: LabReport | None
    error: str = ""
    """Why the run stopped early (the report is then None or partial)."""
    torn_down: bool = False
    teardown_error: str = ""


@contextmanager
def _shielded(say: Callable[[str], None]) -> Iterator[None]:
    """While tearing down, a Ctrl-C does not abandon the deletion: it is reported and
    ignored (only possible in the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        say("teardown in progress: deleting the lab resource group first (Ctrl-C ignored)")

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_lab(
    runner: LabRunner,
    scenario: Scenario,
    *,
    location: str,
    run_id: str,
    settings: PollSettings,
    tags: TagIndex,
    keep: bool = False,
    trigger: str = "stop-start",
    waits: Waits | None = None,
    wait_for_delete: bool = True,
) -> LabOutcome:
    """up (group, base, import, AcrPull wait, consumers with authorisation retries) → wait
    until the diagnostic setting delivers the consumers' first pulls → trigger → collect the
    pulls after the trigger → report, with teardown in ``finally`` unless ``keep``. A failure
    or a Ctrl-C in any step still deletes the (tagged) resource group pullpath created."""
    w = waits or Waits()
    outcome = LabOutcome(report=None)
    state: LabState | None = None
    created = False
    interrupted = False
    try:
        runner.create_resource_group_for(scenario, location=location, run_id=run_id)
        created = True
        state = runner.up(scenario, location=location, run_id=run_id, group_exists=True,
                          waits=w)
        since = state.started
        after = None
        if state.consumer_ids:
            runner.wait_for_delivery(state, since=since, waits=w)
            after = runner.trigger(state, mode=trigger)
        outcome.report = observe(runner, state, since=since, settings=settings, tags=tags,
                                 after=after, trigger=trigger if after else "")
    except LabError as exc:
        outcome.error = str(exc)
        runner.say(f"error: {exc}")
    except KeyboardInterrupt:
        interrupted = True
        outcome.error = "interrupted (Ctrl-C)"
        runner.say("interrupted: tearing down")
    finally:
        if created and not keep:
            with _shielded(runner.say):
                try:
                    runner.down(run_id, wait=wait_for_delete)
                    outcome.torn_down = True
                except LabError as exc:
                    outcome.teardown_error = str(exc)
                    runner.say(f"teardown failed: {exc}")
        elif created:
            runner.say(f"kept resource group rg-pullpath-lab-{run_id} (--keep); delete it with "
                       f"`pullpath lab down --run-id {run_id}`")
    if outcome.report is not None:
        outcome.report = _with_teardown(outcome.report, outcome.torn_down if not keep else False)
    if interrupted:
        raise KeyboardInterrupt
    return outcome


def _with_teardown(report: LabReport, torn_down: bool) -> LabReport:
    from dataclasses import replace

    return replace(report, torn_down=torn_down)
