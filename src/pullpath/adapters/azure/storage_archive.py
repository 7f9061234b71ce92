"""Registry logs from a storage-account archive (azure-storage-blob).

Diagnostic settings that archive to a storage account write one container per category,
``insights-logs-containerregistryrepositoryevents`` and
``insights-logs-containerregistryloginevents``, and one append blob per resource and hour::

    resourceId=/SUBSCRIPTIONS/<SUB>/RESOURCEGROUPS/<RG>/PROVIDERS/MICROSOFT.CONTAINERREGISTRY/
        REGISTRIES/<NAME>/y=YYYY/m=MM/d=DD/h=HH/m=00/PT1H.json

with one JSON record per line (Azure Monitor, "Send to Azure Storage" in the diagnostic
settings documentation).

Only blobs of the audited hours are read: the resource levels are walked with delimiter
listings (pruned by ``--registry``), then each registry's blobs are listed with
``name_starts_with`` per year, month or day covering the range, and filtered by their
``h=`` hour. Each blob is streamed in chunks (``max_chunk_get_size``) through the file
reader's record parser (:func:`pullpath.adapters.logs_files.read_stream`), never loaded whole.
The range is widened to whole hours (a blob holds one hour).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pullpath.adapters.azure.errors import AzureCall, LiveAzureError, describe, redact_url
from pullpath.adapters.azure.retry import ClientSettings
from pullpath.adapters.logs_files import read_stream
from pullpath.core.kql import RegistryFilter, TimeWindow
from pullpath.domain.events import PullEvent, ReadStats
from pullpath.domain.resource_id import name_of

__all__ = [
    "ARCHIVE_CONTAINERS",
    "CHUNK_BYTES",
    "ArchiveLocation",
    "ArchiveReader",
    "blob_hour",
    "date_prefixes",
    "hour_window",
    "parse_storage_target",
]

ARCHIVE_CONTAINERS = (
    "insights-logs-containerregistryrepositoryevents",
    "insights-logs-containerregistryloginevents",
)
CHUNK_BYTES = 4 * 1024 * 1024
"""Bytes per ranged GET while streaming a blob (also the first GET's size)."""
ROOT_PREFIX = "resourceId=/SUBSCRIPTIONS/"
REGISTRY_LEVEL = "PROVIDERS/MICROSOFT.CONTAINERREGISTRY/REGISTRIES/"

_ACCOUNT = re.compile(r"^[a-z0-9]{3,24}$")
_CONTAINER = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$")
_HOUR = re.compile(r"/y=(\d{4})/m=(\d{2})/d=(\d{2})/h=(\d{2})/")
ProgressFn = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class ArchiveLocation:
    """Where the archive is: an account URL and the containers to read."""

    account_url: str
    """``https://<account>.blob.core.windows.net`` (or a path-style emulator URL), with the
    SAS query string when one was given (never shown: see :attr:`display`)."""
    containers: tuple[str, ...]
    has_sas: bool = False

    @property
    def display(self) -> str:
        return redact_url(self.account_url)


def parse_storage_target(
    text: str, *, blob_suffix: str = "blob.core.windows.net"
) -> ArchiveLocation:
    """``--storage-account``: an account name, an account URL or a container URL (a SAS query
    string is allowed and used as the credential)."""
    value = (text or "").strip()
    if _ACCOUNT.match(value):
        return ArchiveLocation(f"https://{value}.{blob_suffix}", ARCHIVE_CONTAINERS)
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if parts is None or parts.scheme != "https" or not parts.hostname:
        raise LiveAzureError(
            f"--storage-account {redact_url(value)!r}: expected a storage account name "
            "(3-24 lower-case letters and digits), an https:// account URL or a container URL"
        )
    segments = [s for s in parts.path.split("/") if s]
    path_style = parts.hostname.replace(".", "").isdigit() or parts.hostname == "localhost"
    account_segments = segments[:1] if path_style else []
    rest = segments[len(account_segments):]
    if len(rest) > 1:
        raise LiveAzureError(
            f"--storage-account {redact_url(value)!r}: give the account or one container, "
            "not a blob path"
        )
    base_path = "/" + "/".join(account_segments) if account_segments else ""
    account_url = urlunsplit((parts.scheme, parts.netloc, base_path, parts.query, ""))
    if rest:
        container = rest[0]
        if not _CONTAINER.match(container):
            raise LiveAzureError(f"--storage-account: {container!r} is not a container name")
        containers: tuple[str, ...] = (container,)
    else:
        containers = ARCHIVE_CONTAINERS
    return ArchiveLocation(account_url, containers, has_sas="sig=" in parts.query)


def hour_window(window: TimeWindow) -> TimeWindow:
    """``window`` widened to whole hours (the archive's granularity)."""
    start = window.start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    end = window.end.astimezone(UTC)
    if end != end.replace(minute=0, second=0, microsecond=0):
        end = end.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return TimeWindow(start, end)


def date_prefixes(window: TimeWindow) -> list[str]:
    """``y=/m=/d=`` path prefixes covering the hours of ``window``: a whole year or month
    when the window covers it, else single days (few list calls, no blob outside the range)."""
    hours = hour_window(window)
    first = hours.start.date()
    last = (hours.end - timedelta(hours=1)).date()
    out: list[str] = []
    day = first
    while day <= last:
        year_end = day.replace(month=12, day=31)
        month_next = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        month_end = month_next - timedelta(days=1)
        if day.month == 1 and day.day == 1 and year_end <= last:
            out.append(f"y={day.year:04d}/")
            day = year_end + timedelta(days=1)
        elif day.day == 1 and month_end <= last:
            out.append(f"y={day.year:04d}/m={day.month:02d}/")
            day = month_next
        else:
            out.append(f"y={day.year:04d}/m={day.month:02d}/d={day.day:02d}/")
            day += timedelta(days=1)
    return out


def blob_hour(name: str) -> datetime | None:
    """The hour a ``.../y=YYYY/m=MM/d=DD/h=HH/...`` blob holds, or None."""
    m = _HOUR.search("/" + name)
    if not m:
        return None
    try:
        return datetime(int(m[1]), int(m[2]), int(m[3]), int(m[4]), tzinfo=UTC)
    except ValueError:
        return None


class _DownloadStream(io.RawIOBase):
    """A byte stream over a ``StorageStreamDownloader``: each read fetches the next range."""

    def __init__(self, downloader: Any) -> None:
        self._downloader = downloader

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._downloader.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        return n


def _registry_matches(prefix: str, filters: Sequence[RegistryFilter]) -> bool:
    if not filters:
        return True
    resource = prefix[len("resourceId="):].rstrip("/").lower()
    name = name_of(resource)
    for f in filters:
        if f.kind == "resource-id" and resource == f.value:
            return True
        if f.kind != "resource-id" and name == f.name:
            return True
    return False


class ArchiveReader:
    """Lists and streams the archive blobs of a time window."""

    def __init__(
        self,
        credential: Any,
        location: ArchiveLocation,
        settings: ClientSettings,
        *,
        progress: ProgressFn | None = None,
    ) -> None:
        from azure.storage.blob import BlobServiceClient

        self.location = location
        self.progress = progress
        account = location.display
        self._call = AzureCall(
            action="read the log archive",
            resource=f"storage account {account}",
            permission=(
                f"Storage Blob Data Reader on storage account {account} or its containers "
                "(a data-plane role: Reader or Owner alone cannot read blobs)"
            ),
            not_found_hint="check the account name or URL",
        )
        self.missing_containers: list[str] = []
        self.blobs_listed = 0
        self.blobs_read = 0
        self.bytes_read = 0
        self.range_gets = 0
        """Ranged GETs of blob content (one per chunk): the stream never holds a blob whole."""
        self._client = BlobServiceClient(
            location.account_url,
            credential=None if location.has_sas else credential,
            max_single_get_size=CHUNK_BYTES,
            max_chunk_get_size=CHUNK_BYTES,
            raw_response_hook=self._on_response,
            **settings.storage_kwargs(),
        )

    def _on_response(self, response: Any) -> None:
        request = response.http_request
        if request.method == "GET" and (
            "x-ms-range" in request.headers or "Range" in request.headers
        ):
            self.range_gets += 1
            body = response.http_response.headers.get("Content-Length")
            if body and body.isdigit():
                self.bytes_read += int(body)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ArchiveReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _say(self, text: str) -> None:
        if self.progress is not None:
            self.progress(text)

    def read_events(
        self,
        window: TimeWindow,
        stats: ReadStats,
        *,
        registries: Sequence[RegistryFilter] = (),
    ) -> Iterator[PullEvent]:
        """Every event in the blobs of the hours of ``window`` (skips counted in ``stats``)."""
        hours = hour_window(window)
        for container in self.location.containers:
            for blob in self._blobs(container, hours, registries, stats):
                yield from self._read_blob(container, blob, stats)

    # -- listing -------------------------------------------------------------------------

    def _guard(self, action: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except LiveAzureError:
            raise
        except Exception as exc:
            raise describe(exc, _with_action(self._call, action)) from None

    def _prefixes(self, container: Any, prefix: str) -> list[str]:
        from azure.storage.blob import BlobPrefix

        def run() -> list[str]:
            return [
                item.name
                for item in container.walk_blobs(name_starts_with=prefix, delimiter="/")
                if isinstance(item, BlobPrefix)
            ]

        result: list[str] = self._guard(f"list {container.container_name}/{prefix}", run)
        return result

    def _registry_prefixes(
        self, container: Any, registries: Sequence[RegistryFilter]
    ) -> list[str]:
        exact = [r for r in registries if r.kind == "resource-id"]
        if registries and len(exact) == len(registries):
            return [f"resourceId={r.value.upper()}/" for r in exact]
        found: list[str] = []
        for sub in self._prefixes(container, ROOT_PREFIX):
            for group in self._prefixes(container, sub + "RESOURCEGROUPS/"):
                for reg in self._prefixes(container, group + REGISTRY_LEVEL):
                    if _registry_matches(reg, registries):
                        found.append(reg)
        return found

    def _blobs(
        self,
        container_name: str,
        hours: TimeWindow,
        registries: Sequence[RegistryFilter],
        stats: ReadStats,
    ) -> Iterator[str]:
        container = self._client.get_container_client(container_name)
        self._say(f"{self.location.display}/{container_name}: finding registries")
        # no exists() call first: a container SAS may list blobs but not read the container's
        # properties; a missing container shows up as 404 ContainerNotFound on the first list
        try:
            prefixes = self._registry_prefixes(container, registries)
            dates = date_prefixes(hours)
            first = self._listing(container, prefixes[0] + dates[0]) if prefixes else []
        except LiveAzureError as exc:
            if exc.status == 404 and exc.code in ("ContainerNotFound", ""):
                self.missing_containers.append(container_name)
                return
            raise
        for n, reg in enumerate(prefixes):
            for d, day in enumerate(dates):
                names = first if n == 0 and d == 0 else self._listing(container, reg + day)
                for name in names:
                    self.blobs_listed += 1
                    hour = blob_hour(name[len(reg):])
                    if hour is None:
                        stats.ignored["archive-blob-outside-layout"] += 1
                        continue
                    if hours.start <= hour < hours.end:
                        yield name

    def _listing(self, container: Any, prefix: str) -> list[str]:
        def run() -> list[str]:
            return [b.name for b in container.list_blobs(name_starts_with=prefix)]

        names: list[str] = self._guard(f"list {container.container_name}/{prefix}", run)
        return names

    # -- reading -------------------------------------------------------------------------

    def _read_blob(self, container_name: str, name: str, stats: ReadStats) -> Iterator[PullEvent]:
        label = f"{self.location.display}/{container_name}/{name}"
        blob = self._client.get_blob_client(container_name, name)
        downloader = self._guard(
            f"download {container_name}/{name}", lambda: blob.download_blob(max_concurrency=1)
        )
        self.blobs_read += 1
        stream = io.BufferedReader(_DownloadStream(downloader), buffer_size=CHUNK_BYTES)
        events = read_stream(stream, label, stats)
        while True:
            try:
                event = next(events)
            except StopIteration:
                break
            except LiveAzureError:
                raise
            except Exception as exc:
                raise describe(
                    exc, _with_action(self._call, f"download {container_name}/{name}")
                ) from None
            yield event
        if self.blobs_read % 50 == 0:
            self._say(
                f"{self.location.display}: {self.blobs_read} blob(s), "
                f"{self.bytes_read / 1e6:,.1f} MB, {stats.events_read:,} events"
            )


def _with_action(call: AzureCall, action: str) -> AzureCall:
    return AzureCall(action, call.resource, call.permission, call.not_found_hint)
