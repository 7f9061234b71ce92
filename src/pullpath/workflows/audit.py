"""Wire adapters and the pure core into an audit: files in, ``AuditReport`` out."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pullpath.adapters.logs_files import read_warnings
from pullpath.adapters.logs_scan import LogScan, ScanProgress, gc_paused
from pullpath.core.audit import (
    MAX_FLOW_GROUPS,
    Aggregator,
    AuditResult,
    ExpectFn,
    Judgements,
    build_flows,
)
from pullpath.core.classify import Classifier
from pullpath.domain.events import PullEvent, ReadStats
from pullpath.domain.inventory import Inventory
from pullpath.domain.verdicts import Expectation, Flow, InventoryInfo, TagsInfo

if TYPE_CHECKING:
    from pullpath.core.servicetags import TagIndex
    from pullpath.formatters.audit_doc import AuditReport

# Modules only the work after reading needs (the inventory and service tag readers, the
# explainer and knowledge base, the report) are imported where they are used: ``run_audit``
# starts the scan (its worker threads) first, and imports them while the workers read.

ProgressFn = Callable[[ScanProgress], None]


def tags_info(index: TagIndex, warning: str | None = None) -> TagsInfo:
    published = index.published.isoformat() if index.published else ""
    return TagsInfo(index.cloud, index.change_number, index.source, published, warning or "")


def inventory_info(inv: Inventory) -> InventoryInfo:
    return InventoryInfo(
        files=tuple(inv.files),
        resources=inv.resources_seen,
        registries=len(inv.registries),
        consumers=len(inv.consumers),
        subnets=len(inv.subnets),
        ignored_types=tuple(sorted(inv.ignored_types.items())),
        issues=tuple((i.location, i.resource_id, i.problem) for i in inv.issues),
    )


def load_inventory(paths: Sequence[Path]) -> Inventory:
    if not paths:
        return Inventory()
    from pullpath.adapters.inventory_files import read_inventory

    return read_inventory(paths)


def audit_events(
    events: Iterable[PullEvent],
    stats: ReadStats,
    *,
    inventory: Inventory,
    tags: TagIndex,
    log_sources: Sequence[str] = (),
) -> AuditReport:
    classifier = Classifier(inventory, tags)
    aggregator = Aggregator().add_all(events)
    return finish(classifier, aggregator, stats, inventory=inventory, tags=tags,
                  log_sources=log_sources)


def _per_consumer(expect: ExpectFn) -> ExpectFn:
    """``expect`` asked once per consumer, registry, path and kind of request rather than once
    per flow: the knowledge base predicts for a consumer and a registry (the key holds more than
    ``Explainer.expectation`` reads today, never less). Flows without an attributed consumer
    have no expectation (``Explainer.expectation``): asked directly, never cached."""
    cache: dict[tuple[str, ...], Expectation | None] = {}

    def cached(flow: Flow) -> Expectation | None:
        consumer = flow.consumer.id
        if not consumer:
            return expect(flow)
        # strings only: hashing the ConsumerRef or the Path member runs Python code
        key = (consumer, flow.registry, flow.registry_id, flow.verdict.path._value_,
               flow.operation, flow.table, flow.result, flow.identity)
        found = cache.get(key, _MISSING)
        if found is _MISSING:
            found = cache[key] = expect(flow)
        return found  # type: ignore[return-value]

    return cached


_MISSING = object()


def max_flow_groups() -> int:
    """Distinct groups classified at most: ``$PULLPATH_MAX_FLOW_GROUPS`` when set (a positive
    integer), else ``MAX_FLOW_GROUPS``. More groups take more memory and time (README,
    "Limits and hostile input")."""
    value = os.environ.get("PULLPATH_MAX_FLOW_GROUPS", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else MAX_FLOW_GROUPS


def finish(
    classifier: Classifier,
    aggregator: Aggregator,
    stats: ReadStats,
    *,
    inventory: Inventory,
    tags: TagIndex,
    log_sources: Sequence[str] = (),
    warnings: Sequence[str] = (),
    judgements: Judgements | None = None,
) -> AuditReport:
    from pullpath.adapters.servicetags_files import service_tags_age_warning
    from pullpath.core.explain import explainer_for
    from pullpath.core.findings import check_findings
    from pullpath.formatters.audit_doc import AuditReport
    from pullpath.formatters.explain_doc import finding_doc
    from pullpath.formatters.network_view import network_view

    # one explainer serves both the per-flow expectations and the findings
    explainer = None if inventory.empty else explainer_for(inventory)
    result: AuditResult = build_flows(classifier, aggregator, stats,
                                      expect=_per_consumer(explainer.expectation)
                                      if explainer else None,
                                      max_groups=max_flow_groups(), judgements=judgements)
    result.warnings.extend(warnings)
    result.warnings.extend(read_warnings(stats))
    if inventory.empty:
        result.warnings.append(
            "no inventory given: consumers cannot be attributed and paths that need the "
            "registry's configuration are unknown (pass --inventory)"
        )
    if stats.events_read == 0 and stats.records_seen == 0:
        result.warnings.append("no registry events found in the input")
    age = service_tags_age_warning(tags, aggregator.newest)
    return AuditReport(
        result=result,
        tags=tags_info(tags, age),
        inventory=inventory_info(inventory),
        log_sources=tuple(log_sources),
        findings=[finding_doc(f) for f in check_findings(explainer)[0]] if explainer else [],
        network=network_view(inventory) if explainer else None,
    )


def run_audit(
    logs: Sequence[Path],
    *,
    inventory_paths: Sequence[Path] = (),
    service_tags: Path | None = None,
    progress: ProgressFn | None = None,
    workers: int | None = None,
    choose_tags: Callable[[Path | None], Path | None] | None = None,
) -> AuditReport:
    """Audit local log files: the fast route (files scanned into groups, in ``workers``
    threads for large inputs; default: the CPUs available, ``$PULLPATH_WORKERS``), then each
    distinct group classified once. Same flows as the event-by-event route.

    ``choose_tags``, when given, picks the service tags file from ``service_tags`` (the CLI
    prefers a newer cached Discovery API document to the bundled one) while the logs are read.
    """
    with gc_paused():
        stats = ReadStats()
        # worker threads start scanning now; this thread meanwhile loads the rest
        with LogScan(logs, stats, workers=workers, progress=progress) as scan:
            from pullpath.adapters.servicetags_files import load_service_tags
            from pullpath.knowledge.loader import default_knowledge

            if choose_tags is not None:
                service_tags = choose_tags(service_tags)
            tags = load_service_tags(service_tags)
            inventory = load_inventory(inventory_paths)
            classifier = Classifier(inventory, tags)
            if not inventory.empty:
                default_knowledge()  # loaded once per process: now rather than after the scan
            _import_finish()
            # groups are judged as the workers meet them, while they still read
            judgements = Judgements(classifier, max_flow_groups())
            aggregator = scan.result(on_groups=judgements.add)
        return finish(classifier, aggregator, stats, inventory=inventory, tags=tags,
                      log_sources=[str(p) for p in logs], warnings=scan.warnings(),
                      judgements=judgements)


def _import_finish() -> None:
    """Import what ``finish`` and the report formats use, while the logs are still read."""
    import pullpath.core.explain
    import pullpath.core.findings
    import pullpath.formatters.audit_doc
    import pullpath.formatters.explain_doc
    import pullpath.formatters.network_view  # noqa: F401
