"""Wire the live Azure adapters to the pure core: audits from a workspace or a storage archive,
the inventory from Resource Graph, and service tags from Microsoft's weekly downloads (no
credentials) or the Discovery API.

Every function takes the credential and the :class:`ClientSettings` explicitly (the CLI builds
them; tests point them at loopback servers), and an optional ``progress`` callback for stderr.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pullpath.adapters.azure.errors import LiveAzureError
from pullpath.adapters.azure.loganalytics import (
    DEFAULT_WINDOW,
    MIN_WINDOW,
    WorkspaceReader,
    plan_queries,
)
from pullpath.adapters.azure.resourcegraph import InventoryReader
from pullpath.adapters.azure.retry import ClientSettings
from pullpath.adapters.azure.servicetags_api import (
    fetch_service_tags,
    merge_pages,
    save_discovery,
)
from pullpath.adapters.azure.storage_archive import (
    ArchiveLocation,
    ArchiveReader,
    hour_window,
)
from pullpath.adapters.logs_common import max_read_groups
from pullpath.adapters.servicetags_files import (
    BUNDLED_CLOUD,
    BUNDLED_NAME,
    cached_weekly_tags,
    choose_tags_file,
    prune_weekly,
    save_weekly,
    verify_weekly,
)
from pullpath.core.groups import Aggregator
from pullpath.core.inventory import inventory_from_documents
from pullpath.core.kql import MAX_RESULT_ROWS, RegistryFilter, TimeWindow
from pullpath.core.servicetags import (
    ServiceTagError,
    TagIndex,
    parse_service_tags,
    published_from_name,
)
from pullpath.domain.events import ReadStats
from pullpath.domain.inventory import Inventory, norm_id
from pullpath.domain.report import AuditReport
from pullpath.knowledge.clouds import Cloud
from pullpath.workflows.audit import classifier_for, finish

__all__ = [
    "INVENTORY_SOURCE",
    "LiveInventory",
    "TagsUpdate",
    "WeeklyUpdate",
    "audit_storage",
    "audit_workspace",
    "fetch_inventory",
    "in_use",
    "update_service_tags",
    "update_weekly_service_tags",
]

ProgressFn = Callable[[str], None]
INVENTORY_SOURCE = "Azure Resource Graph"
_REGISTRY_TYPE = "microsoft.containerregistry/registries"


def audit_workspace(
    workspace: str,
    window: TimeWindow,
    *,
    credential: Any,
    settings: ClientSettings,
    inventory: Inventory,
    tags: TagIndex,
    registries: Sequence[RegistryFilter] = (),
    operations: Sequence[str] = (),
    step: timedelta = DEFAULT_WINDOW,
    min_window: timedelta = MIN_WINDOW,
    row_limit: int = MAX_RESULT_ROWS,
    progress: ProgressFn | None = None,
) -> AuditReport:
    """Audit from a Log Analytics workspace: server-side summarised groups, classified once."""
    plan = plan_queries(window, registries=registries, operations=operations, step=step)
    stats = ReadStats()
    aggregator = Aggregator(max_read_groups())
    with WorkspaceReader(
        credential, workspace, settings, progress=progress, min_window=min_window,
        row_limit=row_limit,
    ) as reader:
        outcome = reader.read(
            plan, aggregator, stats, registries=registries, operations=operations
        )
    warnings = list(outcome.partial)
    if outcome.partial:
        warnings.insert(
            0,
            f"{len(outcome.partial)} of {outcome.queries} workspace queries returned partial "
            "results: the counts below are lower bounds",
        )
    source = (
        f"Log Analytics workspace {workspace}, {window.label()}: {outcome.queries} "
        f"summarising query(ies)"
        + (f", {outcome.bisections} window split(s)" if outcome.bisections else "")
    )
    return finish(
        classifier_for(inventory, tags), aggregator, stats, inventory=inventory, tags=tags,
        log_sources=[source], warnings=warnings,
    )


def audit_storage(
    location: ArchiveLocation,
    window: TimeWindow,
    *,
    credential: Any,
    settings: ClientSettings,
    inventory: Inventory,
    tags: TagIndex,
    registries: Sequence[RegistryFilter] = (),
    progress: ProgressFn | None = None,
) -> AuditReport:
    """Audit from the diagnostic-settings archive in a storage account (streamed blobs)."""
    stats = ReadStats()
    hours = hour_window(window)
    with ArchiveReader(credential, location, settings, progress=progress) as reader:
        aggregator = Aggregator(max_read_groups()).add_all(
            reader.read_events(window, stats, registries=registries)
        )
        missing = list(reader.missing_containers)
        read = reader.blobs_read
    warnings = [
        f"container {name} does not exist in {location.display}: no "
        f"{_category(name)} were archived there (check the registry's diagnostic settings)"
        for name in missing
    ]
    source = (
        f"storage archive {location.display} ({', '.join(location.containers)}), "
        f"{hours.label()} (whole hours): {read} blob(s)"
    )
    return finish(
        classifier_for(inventory, tags), aggregator, stats, inventory=inventory, tags=tags,
        log_sources=[source], warnings=warnings,
    )


def _category(container: str) -> str:
    name = container.removeprefix("insights-logs-")
    return {
        "containerregistryrepositoryevents": "ContainerRegistryRepositoryEvents",
        "containerregistryloginevents": "ContainerRegistryLoginEvents",
    }.get(name, name)


@dataclass(frozen=True, slots=True)
class LiveInventory:
    """What ``pullpath inventory`` saves, and what it could not read."""

    document: dict[str, Any]
    """``{"value": [...]}``: Resource Graph rows, then role assignments and diagnostic settings
    of each registry, all in the REST shape."""
    subscriptions: tuple[str, ...]
    registries: int
    warnings: tuple[str, ...] = field(default=())


def fetch_inventory(
    subscriptions: Sequence[str],
    *,
    credential: Any,
    settings: ClientSettings,
    role_assignments: bool = True,
    diagnostic_settings: bool = True,
    progress: ProgressFn | None = None,
) -> LiveInventory:
    """Resource Graph across ``subscriptions``, plus each registry's role assignments and
    diagnostic settings. A registry whose role assignments or diagnostic settings cannot be
    read gives a warning (with the permission needed), not a failure."""
    warnings: list[str] = []
    with InventoryReader(credential, settings, progress=progress) as reader:
        resources = list(reader.resources(subscriptions))
        registry_ids = sorted(
            {
                str(r.get("id"))
                for r in resources
                if str(r.get("type", "")).lower() == _REGISTRY_TYPE and r.get("id")
            },
            key=str.lower,
        )
        extra: list[dict[str, Any]] = []
        seen: set[str] = set()
        for n, rid in enumerate(registry_ids, 1):
            if progress is not None:
                progress(f"registry {n}/{len(registry_ids)}: role assignments, diagnostic settings")
            lists = []
            if role_assignments:
                lists.append(reader.role_assignments)
            if diagnostic_settings:
                lists.append(reader.diagnostic_settings)
            for lister in lists:
                try:
                    for item in lister(rid):
                        key = norm_id(str(item.get("id", "")))
                        if key and key in seen:
                            continue
                        seen.add(key)
                        extra.append(item)
                except LiveAzureError as exc:
                    if exc.status in (401, 403, 404):
                        warnings.append(str(exc))
                        continue
                    raise
    return LiveInventory(
        document={"value": [*resources, *extra]},
        subscriptions=tuple(subscriptions),
        registries=len(registry_ids),
        warnings=tuple(warnings),
    )


def inventory_documents(live: LiveInventory) -> list[tuple[str, object]]:
    """The live inventory as one labelled document, as inventory files are read."""
    return [(f"{INVENTORY_SOURCE} ({', '.join(live.subscriptions)})", live.document)]


def inventory_of(live: LiveInventory) -> Inventory:
    docs = inventory_documents(live)
    inventory = inventory_from_documents(docs)
    inventory.files.append(docs[0][0])
    return inventory


@dataclass(frozen=True, slots=True)
class TagsUpdate:
    path: Path
    cloud: str
    change_number: str
    tags: int
    pages: int


def update_service_tags(
    location: str,
    subscription: str,
    *,
    credential: Any,
    settings: ClientSettings,
    cache_dir: Path | None = None,
    today: date | None = None,
    progress: ProgressFn | None = None,
) -> TagsUpdate:
    """Fetch the Discovery API's service tags and store them in the cache."""
    pages = fetch_service_tags(credential, subscription, location, settings, progress=progress)
    source = f"Service Tag Discovery API ({location})"
    doc = merge_pages(pages, source=source)
    tagset = parse_service_tags(doc, source=source)
    path = save_discovery(doc, location=location, fetched=today or date.today(),
                          cache_dir=cache_dir)
    return TagsUpdate(path, tagset.cloud, tagset.change_number, len(tagset.tags), len(pages))


@dataclass(frozen=True, slots=True)
class WeeklyUpdate:
    """What ``service-tags update`` did for one cloud."""

    cloud: str
    status: str
    """``downloaded``, ``current`` (the newest file was cached already) or ``failed``."""
    path: Path | None = None
    published: date | None = None
    change_number: str = ""
    tags: int = 0
    message: str = ""
    """Why it failed, and which tags audits keep using."""


MAX_DAYS_AHEAD = 2
"""A linked file dated more than this many days after today is refused (a wrong clock on a
mirror, or a page that is not Microsoft's: a future date would win over every later file)."""


def update_weekly_service_tags(
    clouds: Sequence[Cloud],
    *,
    settings: ClientSettings,
    mirror: str | None = None,
    cache_dir: Path | None = None,
    today: date | None = None,
    progress: ProgressFn | None = None,
) -> list[WeeklyUpdate]:
    """Fetch each cloud's newest weekly file from its download page, verify it and cache it
    (``servicetags_files.verify_weekly`` and ``save_weekly``). A cloud that fails keeps its
    cached file (nothing is written before the new one is verified) and does not stop the
    others."""
    from pullpath.adapters.azure.servicetags_download import (
        DownloadError,
        download_weekly_file,
        find_weekly_file,
        page_base,
    )

    today = today or date.today()
    base = page_base(mirror)
    results: list[WeeklyUpdate] = []
    unreachable: DownloadError | None = None  # the pages' host: not asked again
    for cloud in clouds:
        try:
            if unreachable is not None:
                raise unreachable
            link = find_weekly_file(cloud, settings=settings, base=base, progress=progress)
            if (link.published - today).days > MAX_DAYS_AHEAD:
                raise DownloadError(f"{link.page} links {link.name}, dated after today "
                                    f"({today.isoformat()}); refused")
            cached = cached_weekly_tags(cloud.name, cache_dir)
            if cached is not None and cached.path.name == link.name:
                results.append(WeeklyUpdate(cloud.name, "current", cached.path, link.published))
                continue
            data = download_weekly_file(link, settings=settings, progress=progress)
            index = verify_weekly(data, cloud=cloud.name, name=link.name, where=link.url,
                                  cache_dir=cache_dir)
            path = save_weekly(data, cloud=cloud.name, published=link.published,
                               cache_dir=cache_dir)
            prune_weekly(cloud.name, cache_dir=cache_dir)
        except (DownloadError, ServiceTagError, OSError) as exc:
            if isinstance(exc, DownloadError) and exc.unreachable == urlsplit(base).hostname:
                unreachable = exc
            results.append(WeeklyUpdate(cloud.name, "failed",
                                        message=f"{exc}; {in_use(cloud.name, cache_dir)}"))
            continue
        results.append(WeeklyUpdate(cloud.name, "downloaded", path, link.published,
                                    index.change_number, len(index)))
    return results


def in_use(cloud: str, cache_dir: Path | None = None) -> str:
    """Which tags audits of ``cloud``'s logs keep using (a failed update's message)."""
    chosen = choose_tags_file(None, cloud, cache_dir)
    if chosen is not None:
        return f"the cached {chosen.name} stays in use"
    bundled = published_from_name(BUNDLED_NAME)
    day = bundled.isoformat() if bundled else "?"
    if cloud.lower() == BUNDLED_CLOUD.lower():
        return f"the bundled file from {day} stays in use"
    return (f"audits of {cloud} logs keep using the bundled {BUNDLED_CLOUD} file from {day}, "
            f"which does not hold {cloud}'s addresses")
