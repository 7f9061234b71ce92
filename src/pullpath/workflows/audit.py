"""Wire adapters and the pure core into an audit: files in, ``AuditReport`` out."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pullpath.adapters.logs_common import max_read_groups
from pullpath.adapters.logs_files import read_warnings
from pullpath.adapters.logs_scan import LogScan, ScanProgress
from pullpath.core.audit import MAX_FLOW_GROUPS, MAX_JUDGE_KEYS, Judgements, build_flows
from pullpath.core.classify import Classifier
from pullpath.core.groups import Aggregator
from pullpath.core.inventory import inventory_warnings
from pullpath.domain.events import PullEvent, ReadStats
from pullpath.domain.inventory import Inventory
from pullpath.domain.verdicts import AuditResult, InventoryInfo, TagsInfo

if TYPE_CHECKING:
    from pullpath.core.servicetags import TagIndex
    from pullpath.domain.report import AuditReport

# Modules only the work after reading needs (the inventory and service tag readers, the
# explainer and knowledge base, the report) are imported where they are used: ``run_audit``
# starts the scan (its worker threads) first, and imports them while the workers read.

ProgressFn = Callable[[ScanProgress], None]


def tags_info(index: TagIndex, warning: str | None = None, cloud_mismatch: str = "") -> TagsInfo:
    published = index.published.isoformat() if index.published else ""
    return TagsInfo(index.cloud, index.change_number, index.source, published, warning or "",
                    cloud_mismatch)


# ----------------------------------------------------------------------------- clouds
# Which cloud the registries are in, from their login servers (knowledge/clouds.json), so that
# the service tags of that cloud are used and a tag file of another cloud is pointed out.


def single_cloud(servers: Iterable[str]) -> str:
    """The one cloud the login servers ``servers`` are in; "" when none or several."""
    from pullpath.knowledge.clouds import clouds_of_login_servers

    found = clouds_of_login_servers(servers)
    return next(iter(found)) if len(found) == 1 else ""


def _inventory_servers(inventory: Inventory) -> list[str]:
    return [r.login_server for r in inventory.registries.values() if r.login_server]


def _log_servers(aggregator: Aggregator, inventory: Inventory) -> list[str]:
    """The login servers of the registries in the logs (a record without one is looked up
    in the inventory by its resource ID)."""
    pairs = {(key.registry, key.registry_id) for key in aggregator.groups}
    servers = []
    for label, registry_id in pairs:
        if "." in label:
            servers.append(label)
            continue
        registry = inventory.registry_for(label, registry_id)
        if registry is not None and registry.login_server:
            servers.append(registry.login_server)
    return servers


def cloud_mismatch(tags: TagIndex, servers: Iterable[str]) -> str:
    """A warning when the registries' login servers are in a cloud other than the tag
    file's (a Government or China file on ``*.azurecr.io`` logs, or the reverse): Microsoft
    addresses of the registries' cloud then show as ``internet``. "" when they agree, or when
    either side does not say."""
    from pullpath.knowledge.clouds import cloud_by_name, clouds_of_login_servers

    found = clouds_of_login_servers(servers)
    tag_cloud = cloud_by_name(tags.cloud) if tags.cloud else None
    if tag_cloud is None or not found:
        return ""
    others = {name: names for name, names in found.items() if name != tag_cloud.name}
    if not others:
        return ""
    seen = "; ".join(f"{name}: {', '.join(names[:3])}{' ...' if len(names) > 3 else ''}"
                     for name, names in others.items())
    options = ",".join(c.option for c in map(cloud_by_name, others) if c is not None)
    mixed = " (and audit each cloud's logs on their own)" if tag_cloud.name in found else ""
    return (
        f"the service tags ({tags.source}) are of cloud {tag_cloud.name}, but registries in "
        f"the audit are in another cloud ({seen}): Microsoft addresses of that cloud show as "
        f"internet; run `pullpath service-tags update --cloud {options}`{mixed} or pass "
        "--service-tags with that cloud's weekly file"
    )


def inventory_info(inv: Inventory) -> InventoryInfo:
    return InventoryInfo(
        files=tuple(inv.files),
        resources=inv.resources_seen,
        registries=len(inv.registries),
        consumers=len(inv.consumers),
        subnets=len(inv.subnets),
        ignored_types=tuple(sorted(inv.ignored_types.items())),
        issues=tuple((i.location, i.resource_id, i.problem) for i in inv.issues),
        duplicates_merged=inv.duplicates_merged,
        without_properties=len(inv.without_properties),
    )


def load_inventory(paths: Sequence[Path]) -> Inventory:
    if not paths:
        return Inventory()
    from pullpath.adapters.inventory_files import read_inventory

    return read_inventory(paths)


def classifier_for(inventory: Inventory, tags: TagIndex | None) -> Classifier:
    """The audit's classifier: with an inventory, the knowledge base's callers that are not
    consumers name the possible callers of unattributed pulls from Microsoft addresses."""
    if inventory.empty:
        return Classifier(inventory, tags)
    from pullpath.knowledge.loader import default_knowledge

    return Classifier(inventory, tags, default_knowledge().callers)


def audit_events(
    events: Iterable[PullEvent],
    stats: ReadStats,
    *,
    inventory: Inventory,
    tags: TagIndex,
    log_sources: Sequence[str] = (),
) -> AuditReport:
    classifier = classifier_for(inventory, tags)
    aggregator = Aggregator(max_read_groups()).add_all(events)
    return finish(classifier, aggregator, stats, inventory=inventory, tags=tags,
                  log_sources=log_sources)


def max_flow_groups() -> int:
    """Distinct groups shown with their repository and tag at most (the others are folded):
    ``$PULLPATH_MAX_FLOW_GROUPS`` when set (a positive integer), else ``MAX_FLOW_GROUPS``.
    More groups take more memory and time (docs/limits.md)."""
    return _positive_env("PULLPATH_MAX_FLOW_GROUPS", MAX_FLOW_GROUPS)


def max_judge_keys() -> int:
    """Distinct judge keys (caller, identity, result at a registry) judged at most:
    ``$PULLPATH_MAX_JUDGE_KEYS`` when set (a positive integer), else ``MAX_JUDGE_KEYS``."""
    return _positive_env("PULLPATH_MAX_JUDGE_KEYS", MAX_JUDGE_KEYS)


def _positive_env(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else default


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
    from pullpath.core.network import network_view
    from pullpath.domain.report import AuditReport

    # one explainer serves both the per-flow expectations and the findings
    explainer = None if inventory.empty else explainer_for(inventory)
    result: AuditResult = build_flows(classifier, aggregator, stats,
                                      expect=explainer.expectation if explainer else None,
                                      max_groups=max_flow_groups(),
                                      max_judged=max_judge_keys(), judgements=judgements)
    result.warnings.extend(warnings)
    result.warnings.extend(inventory_warnings(inventory))
    result.warnings.extend(read_warnings(stats))
    if inventory.empty:
        result.warnings.append(
            "no inventory given: consumers cannot be attributed and paths that need the "
            "registry's configuration are unknown (pass --inventory)"
        )
    if stats.events_read == 0 and stats.records_seen == 0:
        result.warnings.append("no registry events found in the input")
    age = service_tags_age_warning(tags, aggregator.newest)
    mismatch = cloud_mismatch(tags, [*_log_servers(aggregator, inventory),
                                     *_inventory_servers(inventory)])
    if mismatch:
        result.warnings.append(mismatch)
    return AuditReport(
        result=result,
        tags=tags_info(tags, age, mismatch),
        inventory=inventory_info(inventory),
        log_sources=tuple(log_sources),
        findings=tuple(check_findings(explainer)[0]) if explainer else (),
        network=network_view(inventory) if explainer else None,
    )


def run_audit(
    logs: Sequence[Path],
    *,
    inventory_paths: Sequence[Path] = (),
    service_tags: Path | None = None,
    progress: ProgressFn | None = None,
    workers: int | None = None,
    choose_tags: Callable[[Path | None, str], Path | None] | None = None,
) -> AuditReport:
    """Audit local log files: the fast route (files scanned into groups, in ``workers``
    threads for large inputs; default: the CPUs available, ``$PULLPATH_WORKERS``), then each
    distinct group classified once. Same flows as the event-by-event route.

    ``choose_tags``, when given, picks the service tags file from ``service_tags`` and a
    cloud (the CLI prefers the newest cached file of that cloud to the bundled one) while the
    logs are read: for the cloud of the inventory's registries (Public when it does not say).
    When the logs' registries turn out to be in another single cloud, it is asked again for
    that cloud, and the groups are judged again with the tags it gives.
    """
    stats = ReadStats()
    warnings: list[str] = []
    # worker threads start scanning now; this thread meanwhile loads the rest
    with LogScan(logs, stats, workers=workers, progress=progress) as scan:
        inventory = load_inventory(inventory_paths)
        cloud = single_cloud(_inventory_servers(inventory)) or "Public"
        auto = choose_tags is not None and service_tags is None
        if choose_tags is not None:
            service_tags = choose_tags(service_tags, cloud)
        tags = _load_tags(service_tags, auto, warnings)
        # with an inventory this loads the knowledge base (once per process): now, while the
        # workers read, rather than after the scan
        classifier = classifier_for(inventory, tags)
        _import_finish()
        # groups are judged as the workers meet them, while they still read
        ahead = Judgements(classifier, max_flow_groups())
        aggregator = scan.result(on_groups=ahead.add)
    judgements: Judgements | None = ahead
    if auto and choose_tags is not None:
        logs_cloud = single_cloud(_log_servers(aggregator, inventory))
        if logs_cloud and logs_cloud != cloud:
            again = choose_tags(None, logs_cloud)
            if again != service_tags:  # another file: judge the groups again with it
                tags = _load_tags(again, auto, warnings)
                classifier, judgements = classifier_for(inventory, tags), None
    return finish(classifier, aggregator, stats, inventory=inventory, tags=tags,
                  log_sources=[str(p) for p in logs], warnings=[*scan.warnings(), *warnings],
                  judgements=judgements)


def _load_tags(path: Path | None, auto: bool, warnings: list[str]) -> TagIndex:
    """The tags of ``path``. A cached file chosen automatically (``auto``) that cannot be read
    is skipped with a warning, for the bundled file: an unusable cache never stops an audit."""
    from pullpath.adapters.servicetags_files import DOWNLOAD_HINT, load_service_tags
    from pullpath.core.servicetags import ServiceTagError

    if not auto or path is None:
        return load_service_tags(path)
    try:
        return load_service_tags(path)
    except ServiceTagError as exc:
        what = str(exc).replace(f"; {DOWNLOAD_HINT}", "")
        warnings.append(f"the cached service tags cannot be used ({what}); the bundled file "
                        "is used instead (pullpath service-tags update fetches them again)")
        return load_service_tags(None)


def _import_finish() -> None:
    """Import what ``finish`` uses, while the logs are still read."""
    import pullpath.core.explain
    import pullpath.core.findings
    import pullpath.core.network
    import pullpath.domain.report  # noqa: F401
