"""Service tags from the Service Tag Discovery API, cached on disk with their changeNumber.

``NetworkManagementClient.service_tags.list(location)`` returns the tags of the cloud the
subscription belongs to (the location is only the reference for the version, not a filter:
REST API "Service Tags - List"). The response carries a ``nextLink`` for further pages, which
the SDK method does not follow; pullpath follows it through the same client's pipeline
(``send_request``), on the same host only.

The pages are merged into one document in the Discovery API shape and saved as
``<cache>/servicetags/discovery/ServiceTags_<Cloud>_<YYYYMMDD>.<location>.json`` (the cache
directory of :mod:`pullpath.adapters.servicetags_files`; the date is the fetch date, which
``published_from_name`` reads back as the publication date). ``pullpath audit`` uses the newest
cached file of the logs' cloud (this or a weekly download, whichever is newer) when it is newer
than the bundled snapshot, else the bundled one (``servicetags_files.choose_tags_file``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import orjson

from pullpath.adapters.azure.arm import same_origin
from pullpath.adapters.azure.errors import AzureCall, LiveAzureError, describe, redact_url
from pullpath.adapters.azure.retry import ClientSettings
from pullpath.adapters.servicetags_files import (
    BUNDLED_CLOUD,
    CachedTags,
    cached_discovery_tags,
    choose_tags_file,
    discovery_dir,
    load_service_tags,
    newest_cached_tags,
    write_cache_file,
)
from pullpath.core.servicetags import (
    ServiceTagError,
    TagIndex,
    parse_service_tags,
)

__all__ = [
    "CachedTags",
    "cached_discovery_tags",
    "choose_service_tags",
    "discovery_dir",
    "fetch_service_tags",
    "merge_pages",
    "save_discovery",
]

MAX_PAGES = 1000
_LOCATION = re.compile(r"^[a-z][a-z0-9]{1,40}$")
ProgressFn = Callable[[str], None]


def _call(subscription: str, location: str) -> AzureCall:
    return AzureCall(
        action="Service Tag Discovery API",
        resource=f"subscription {subscription} (location {location})",
        permission=(
            f"Reader on subscription {subscription} "
            "(Microsoft.Network/locations/serviceTags/read)"
        ),
        not_found_hint=(
            "check --location is an Azure region name such as westeurope "
            "(az account list-locations -o table)"
        ),
    )


def validate_location(location: str) -> str:
    value = location.strip().lower().replace(" ", "")
    if not _LOCATION.match(value):
        raise LiveAzureError(
            f"--location {location!r}: expected an Azure region name such as westeurope"
        )
    return value


def fetch_service_tags(
    credential: Any,
    subscription: str,
    location: str,
    settings: ClientSettings,
    *,
    progress: ProgressFn | None = None,
) -> list[dict[str, Any]]:
    """Every page of the Discovery API response (REST shape, as sent)."""
    from azure.core.exceptions import HttpResponseError
    from azure.core.rest import HttpRequest
    from azure.mgmt.core.exceptions import ARMErrorFormat
    from azure.mgmt.network import NetworkManagementClient

    location = validate_location(location)
    call = _call(subscription, location)
    base = settings.endpoints.arm
    client = NetworkManagementClient(
        credential,
        subscription,
        base_url=base,
        credential_scopes=settings.endpoints.arm_scopes,
        **settings.core_kwargs(),
    )
    pages: list[dict[str, Any]] = []
    with client:
        try:
            first = client.service_tags.list(
                location,
                cls=_raw_json,
            )
        except Exception as exc:
            raise describe(exc, call) from None
        page: Any = first
        for _ in range(MAX_PAGES):
            if not isinstance(page, dict):
                raise LiveAzureError(f"{call.action} on {call.resource}: unexpected response")
            pages.append(page)
            if progress is not None:
                values = page.get("values")
                count = len(values) if isinstance(values, list) else 0
                progress(f"service tags: page {len(pages)}, {count} tag(s)")
            next_link = page.get("nextLink")
            if not isinstance(next_link, str) or not next_link:
                return pages
            if not same_origin(next_link, base):
                raise LiveAzureError(
                    f"{call.action}: the next page is on another host "
                    f"({redact_url(next_link)}); refusing to send the token there"
                )
            try:
                response = client.send_request(HttpRequest("GET", next_link))
                if response.status_code != 200:
                    raise HttpResponseError(response=response, error_format=ARMErrorFormat)
                page = response.json()
            except LiveAzureError:
                raise
            except Exception as exc:
                raise describe(exc, call) from None
    raise LiveAzureError(f"{call.action}: more than {MAX_PAGES} pages")


def _raw_json(pipeline_response: Any, _deserialized: Any, _headers: Any) -> Any:
    return pipeline_response.http_response.json()


def merge_pages(pages: list[dict[str, Any]], *, source: str) -> dict[str, Any]:
    """One Discovery API document from its pages (validated: same changeNumber and cloud)."""
    parse_service_tags(pages, source=source)  # raises ServiceTagError on inconsistent pages
    merged = {k: v for k, v in pages[0].items() if k not in ("values", "nextLink")}
    merged["values"] = [v for page in pages for v in page.get("values", [])]
    return merged


def save_discovery(
    doc: dict[str, Any], *, location: str, fetched: date, cache_dir: Path | None = None
) -> Path:
    """Write the document atomically into the discovery cache; returns its path."""
    cloud = str(doc.get("cloud") or "Public")
    cloud = re.sub(r"[^A-Za-z0-9]", "", cloud) or "Public"
    folder = discovery_dir(cache_dir)
    path = folder / f"ServiceTags_{cloud}_{fetched:%Y%m%d}.{validate_location(location)}.json"
    return write_cache_file(path, orjson.dumps(doc))


def choose_service_tags(
    path: Path | None = None, *, cloud: str = BUNDLED_CLOUD, cache_dir: Path | None = None
) -> tuple[TagIndex, str]:
    """The tag index an audit uses and a one-line note saying which and how old.

    An explicit ``path`` wins. Otherwise the newest cached file of ``cloud`` (a weekly
    download or a Discovery API response, under ``cache_dir``) when it is newer than the
    bundled Public snapshot or of another cloud, else the bundled snapshot
    (``choose_tags_file``). Compiled indexes are cached in the default place.
    """
    if path is not None:
        index = load_service_tags(path)
        return index, _note(index)
    chosen = choose_tags_file(None, cloud, cache_dir)
    cached = newest_cached_tags(cloud, cache_dir) if chosen is not None else None
    if cached is not None:
        cached_index: TagIndex | None
        try:
            cached_index = load_service_tags(cached.path)
        except ServiceTagError:
            cached_index = None  # a damaged cache file: fall back to the bundled snapshot
        if cached_index is not None:
            if cached.kind == "discovery":
                cached_index = cached_index.relabel(
                    source=f"Service Tag Discovery API ({cached.location}, fetched "
                    f"{cached.fetched.isoformat()}, cached {cached.path})",
                    published=cached.fetched,
                )
            return cached_index, _note(cached_index)
    index = load_service_tags(None)
    return index, _note(index)


def _note(index: TagIndex) -> str:
    age = ""
    if index.published is not None:
        days = (date.today() - index.published).days
        age = f", published {index.published.isoformat()} ({days} day(s) ago)"
    return (
        f"service tags: {index.source} (cloud {index.cloud or '?'}, changeNumber "
        f"{index.change_number or '?'}{age})"
    )
