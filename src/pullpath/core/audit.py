"""The audit: from pull events to flows with proven paths (pure).

Two routes give the same flows, and a test holds them to it:

- the fast route groups raw events by everything that decides a verdict (``Aggregator``), then
  classifies each distinct group once: cost grows with distinct callers, not with events;
- the reference route (``audit_events_reference``) classifies every event on its own.

Live Log Analytics queries return groups already summarised server-side; they enter the fast
route through ``Aggregator.add_group``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from pullpath.core.classify import Call, Classifier
from pullpath.domain.events import PullEvent, ReadStats
from pullpath.domain.verdicts import (
    PATH_ORDER,
    AuditSummary,
    ConsumerRef,
    Expectation,
    Flow,
    FlowKey,
    PathVerdict,
    Source,
)


@dataclass(frozen=True, slots=True)
class GroupKey:
    """Everything about an event that the verdict or the flow depends on."""

    registry: str
    registry_id: str
    table: str
    operation: str
    repository: str
    tag: str
    caller_ip: str
    identity: str
    result: str
    result_description: str


@dataclass(slots=True)
class GroupStats:
    count: int = 0
    first: datetime | None = None
    last: datetime | None = None

    def add(self, count: int, first: datetime | None, last: datetime | None) -> None:
        self.count += count
        if first is not None and (self.first is None or first < self.first):
            self.first = first
        if last is not None and (self.last is None or last > self.last):
            self.last = last


def registry_label(login_server: str, resource_id: str) -> str:
    """The registry as flows name it: its login server, else the name from its resource ID."""
    if login_server:
        return login_server
    if resource_id:
        return resource_id.rsplit("/", 1)[-1]
    return ""


def group_key(event: PullEvent) -> GroupKey:
    return GroupKey(
        registry_label(event.login_server, event.resource_id),
        event.resource_id,
        event.table.value,
        event.operation,
        event.repository,
        event.tag,
        event.caller_ip,
        event.identity,
        event.result,
        event.result_description,
    )


class Aggregator:
    """Counts events per ``GroupKey`` with first/last time. Memory grows with distinct groups."""

    def __init__(self) -> None:
        self.groups: dict[GroupKey, GroupStats] = {}
        self.events = 0
        self.newest: datetime | None = None

    def add(self, event: PullEvent) -> None:
        self.add_group(group_key(event), 1, event.time, event.time)

    def add_group(self, key: GroupKey, count: int, first: datetime | None,
                  last: datetime | None) -> None:
        stats = self.groups.get(key)
        if stats is None:
            stats = self.groups[key] = GroupStats()
        stats.add(count, first, last)
        self.events += count
        if last is not None and (self.newest is None or last > self.newest):
            self.newest = last

    def add_all(self, events: Iterable[PullEvent]) -> Aggregator:
        for event in events:
            self.add(event)
        return self



@dataclass
class AuditResult:
    flows: list[Flow]
    summary: AuditSummary
    stats: ReadStats
    newest_event: datetime | None = None
    warnings: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    """Inputs whose absence made verdicts unknown (deduplicated)."""


@dataclass(frozen=True, slots=True)
class Verdicts:
    source: Source
    verdict: PathVerdict
    consumer: ConsumerRef


def judge(classifier: Classifier, key: GroupKey) -> Verdicts:
    source = classifier.source(key.caller_ip)
    call = Call(key.registry, key.registry_id, key.caller_ip, key.identity, key.result,
                key.result_description)
    verdict = classifier.path(call, source)
    consumer = classifier.consumer(source, key.identity)
    return Verdicts(source, verdict, consumer)


def flow_key(key: GroupKey, v: Verdicts) -> FlowKey:
    return FlowKey(key.registry, key.operation, key.repository, key.tag,
                   v.source.ip or key.caller_ip, key.identity, key.result, v.verdict.path,
                   v.consumer.id or "|".join(v.consumer.candidates))


ExpectFn = Callable[[Flow], Expectation | None]


def build_flows(
    classifier: Classifier,
    aggregator: Aggregator,
    stats: ReadStats,
    *,
    expect: ExpectFn | None = None,
) -> AuditResult:
    """Classify each distinct group once and merge groups into flows."""
    merged: dict[FlowKey, _Pending] = {}
    for key, gstats in aggregator.groups.items():
        verdicts = judge(classifier, key)
        _accumulate(merged, key, verdicts, gstats.count, gstats.first, gstats.last)
    return _result(merged, stats, aggregator.newest, expect)


def audit_events_reference(
    classifier: Classifier, events: Iterable[PullEvent], stats: ReadStats,
    *, expect: ExpectFn | None = None,
) -> AuditResult:
    """The simple route: classify every event on its own, then group. Tests use it as the
    oracle for the fast route (``Aggregator`` + ``build_flows``)."""
    merged: dict[FlowKey, _Pending] = {}
    newest: datetime | None = None
    for event in events:
        key = group_key(event)
        _accumulate(merged, key, judge(classifier, key), 1, event.time, event.time)
        if event.time is not None and (newest is None or event.time > newest):
            newest = event.time
    return _result(merged, stats, newest, expect)


@dataclass(slots=True)
class _Pending:
    key: GroupKey
    verdicts: Verdicts
    stats: GroupStats


def _accumulate(merged: dict[FlowKey, _Pending], key: GroupKey, verdicts: Verdicts, count: int,
                first: datetime | None, last: datetime | None) -> None:
    fk = flow_key(key, verdicts)
    pending = merged.get(fk)
    if pending is None:
        pending = merged[fk] = _Pending(key, verdicts, GroupStats())
    pending.stats.add(count, first, last)


def _result(merged: dict[FlowKey, _Pending], stats: ReadStats, newest: datetime | None,
            expect: ExpectFn | None) -> AuditResult:
    flows: list[Flow] = []
    for fk, pending in merged.items():
        v = pending.verdicts
        flow = Flow(
            registry=fk.registry,
            operation=fk.operation,
            repository=fk.repository,
            tag=fk.tag,
            caller_ip=fk.caller_ip,
            identity=fk.identity,
            result=fk.result,
            count=pending.stats.count,
            first_seen=pending.stats.first,
            last_seen=pending.stats.last,
            source=v.source,
            verdict=v.verdict,
            consumer=v.consumer,
            registry_id=pending.key.registry_id,
            table=pending.key.table,
        )
        if expect is not None:
            expectation = expect(flow)
            if expectation is not None:
                flow = replace(flow, expectation=expectation)
        flows.append(flow)
    flows.sort(key=sort_key)
    return AuditResult(
        flows=flows,
        summary=summarise(flows),
        stats=stats,
        newest_event=newest,
        missing=sorted({m for f in flows for m in f.verdict.missing}),
    )


def sort_key(flow: Flow) -> tuple[object, ...]:
    return (flow.registry, PATH_ORDER.index(flow.path), -flow.count, flow.repository, flow.tag,
            flow.caller_ip, flow.identity, flow.operation, flow.result, flow.consumer.id)


def summarise(flows: Iterable[Flow]) -> AuditSummary:
    summary = AuditSummary()
    for path in PATH_ORDER:
        summary.by_path[path.value] = 0
    for flow in flows:
        summary.events += flow.count
        summary.by_path[flow.path.value] += flow.count
        kind = flow.source.kind.value
        summary.by_source[kind] = summary.by_source.get(kind, 0) + flow.count
        if flow.expectation is not None and flow.expectation.agrees is False:
            summary.disagreements += 1
    return summary
