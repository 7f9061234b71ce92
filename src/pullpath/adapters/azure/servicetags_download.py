"""Microsoft's weekly service-tag files, downloaded without credentials.

Each cloud's file is published weekly on a Microsoft Download Center page ("Azure IP Ranges and
Service Tags": Public id=56519, Azure Government id=57063, China id=57062; the pages and their
sources are data in ``knowledge/clouds.json``). The page links the file on
``download.microsoft.com`` under a name with its date, ``ServiceTags_<Cloud>_<YYYYMMDD>.json``.
The link has been on the details page and on the confirmation page at different times
(MicrosoftDocs/azure-docs#109308), so both pages are read, in that order, until one links the
file.

HTTP goes through azure-core's pipeline: retries with back-off, redirects, timeouts, TLS
verification and proxies (HTTPS_PROXY) as for the Azure clients, from the same ``PULLPATH_*``
settings (:class:`~pullpath.adapters.azure.retry.ClientSettings`); no credential is involved.
A file link is followed only to ``https://download.microsoft.com`` or to the origin of the pages
themselves (a mirror), and a page or file larger than its bound is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from pullpath.adapters.azure.arm import same_origin
from pullpath.adapters.azure.errors import redact_url, scrub
from pullpath.adapters.azure.retry import USER_AGENT, ClientSettings
from pullpath.adapters.servicetags_files import MAX_SERVICE_TAG_BYTES
from pullpath.core.servicetags import weekly_file_links
from pullpath.knowledge.clouds import Cloud, download_site

__all__ = [
    "MAX_PAGE_BYTES",
    "DownloadError",
    "WeeklyLink",
    "download_weekly_file",
    "find_weekly_file",
    "page_base",
]

MAX_PAGE_BYTES = 8 * 1024 * 1024
"""A download page larger than this (8 MiB; the real pages are far smaller) is refused."""

ProgressFn = Callable[[str], None]


class DownloadError(Exception):
    """A page or file that could not be fetched or is not what it should be (one line)."""

    def __init__(self, message: str, *, unreachable: str = "") -> None:
        super().__init__(message)
        self.unreachable = unreachable
        """The host that could not be reached at all ("" for any other failure)."""


@dataclass(frozen=True, slots=True)
class WeeklyLink:
    cloud: str
    url: str
    published: date
    page: str
    """The page that linked it."""

    @property
    def name(self) -> str:
        return f"ServiceTags_{self.cloud}_{self.published:%Y%m%d}.json"


def page_base(mirror: str | None = None) -> str:
    """Where the download pages are: Microsoft's (``knowledge/clouds.json``) or ``mirror``,
    which must be an https:// URL (a folder: the pages are relative to it)."""
    if not mirror or not mirror.strip():
        return download_site().base
    base = mirror.strip()
    parts = urlsplit(base)
    if parts.scheme != "https" or not parts.hostname:
        raise DownloadError(f"--mirror {redact_url(base)!r}: must be an https:// URL")
    return base if base.endswith("/") else base + "/"


def _client(settings: ClientSettings) -> Any:
    from azure.core import PipelineClient
    from azure.core.pipeline import policies

    kwargs = settings.core_kwargs()
    return PipelineClient(
        base_url="",
        policies=[
            policies.HeadersPolicy(),
            policies.UserAgentPolicy(base_user_agent=USER_AGENT),
            policies.ProxyPolicy(),
            policies.RedirectPolicy(),
            policies.RetryPolicy(**settings.retry.core_kwargs()),
            policies.CustomHookPolicy(),
            policies.NetworkTraceLoggingPolicy(),
            policies.SensitiveHeaderCleanupPolicy(),
        ],
        connection_timeout=kwargs["connection_timeout"],
        read_timeout=kwargs["read_timeout"],
        connection_verify=kwargs["connection_verify"],
    )


def _get(client: Any, url: str, limit: int) -> bytes:
    """The body of ``GET url`` (status 200, at most ``limit`` bytes), or DownloadError."""
    from azure.core.exceptions import AzureError, ServiceRequestError, ServiceResponseError
    from azure.core.rest import HttpRequest

    shown = redact_url(url)
    host = urlsplit(url).hostname or shown
    try:
        response = client.send_request(HttpRequest("GET", url), stream=True)
        try:
            if response.status_code != 200:
                raise DownloadError(f"{shown} answered HTTP {response.status_code}")
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > limit:
                raise DownloadError(f"{shown} is {int(declared):,} bytes, more than the "
                                    f"{limit:,} a service-tag download may be; refused")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > limit:
                    raise DownloadError(f"{shown} is more than the {limit:,} bytes a "
                                        "service-tag download may be; refused")
            return bytes(body)
        finally:
            response.close()
    except DownloadError:
        raise
    except ServiceRequestError as exc:
        raise DownloadError(f"could not reach {host}: {_reason(exc)}",
                            unreachable=host) from None
    except ServiceResponseError as exc:
        raise DownloadError(f"no complete answer from {host}: {_reason(exc)}") from None
    except AzureError as exc:
        raise DownloadError(f"GET {shown} failed: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    """The innermost cause's first line (``[Errno 111] Connection refused``), scrubbed."""
    inner: BaseException = exc
    seen = {id(exc)}
    while True:
        nxt = inner.__cause__ or inner.__context__ or getattr(inner, "inner_exception", None)
        if not isinstance(nxt, BaseException) or id(nxt) in seen:
            break
        seen.add(id(nxt))
        inner = nxt
    text = str(inner).strip() or type(inner).__name__
    for marker in ("Errno", "timed out", "Name or service", "certificate"):
        at = text.find(marker)
        if at > 0:
            text = text[at - 1:] if text[at - 1] == "[" else text[at:]
            break
    return scrub(text.splitlines()[0].rstrip("')\""))


def find_weekly_file(
    cloud: Cloud,
    *,
    settings: ClientSettings,
    base: str | None = None,
    progress: ProgressFn | None = None,
    client: Any = None,
) -> WeeklyLink:
    """The newest weekly file of ``cloud`` linked from its download pages."""
    site = download_site()
    base = page_base(base)
    owned = client is None
    client = client or _client(settings)
    try:
        refused: list[str] = []
        pages = [base + page.format(id=cloud.download_id) for page in site.pages]
        for page in pages:
            if progress is not None:
                progress(f"service tags {cloud.name}: reading {redact_url(page)}?id="
                         f"{cloud.download_id}")
            text = _get(client, page, MAX_PAGE_BYTES).decode("utf-8", "replace")
            for url, published in weekly_file_links(text, cloud.name):
                if _acceptable(url, base, site.file_host):
                    return WeeklyLink(cloud.name, url, published, page)
                refused.append(redact_url(url))
        where = " or ".join(redact_url(p) + f"?id={cloud.download_id}" for p in pages)
        if refused:
            raise DownloadError(f"{where} links {cloud.name} files only on other hosts "
                                f"({', '.join(refused[:2])}); refused")
        raise DownloadError(
            f"{where} links no ServiceTags_{cloud.name}_YYYYMMDD.json file (the page may have "
            "changed): download the file from that page in a browser and pass it with "
            "--service-tags FILE"
        )
    finally:
        if owned:
            client.close()


def _acceptable(url: str, base: str, file_host: str) -> bool:
    parts = urlsplit(url)
    official = parts.scheme == "https" and (parts.hostname or "").lower() == file_host
    return official or same_origin(url, base)


def download_weekly_file(
    link: WeeklyLink,
    *,
    settings: ClientSettings,
    progress: ProgressFn | None = None,
    client: Any = None,
) -> bytes:
    """The bytes of the linked file (at most ``MAX_SERVICE_TAG_BYTES``), unverified."""
    if progress is not None:
        progress(f"service tags {link.cloud}: downloading {link.name} from "
                 f"{urlsplit(link.url).hostname}")
    owned = client is None
    client = client or _client(settings)
    try:
        return _get(client, link.url, MAX_SERVICE_TAG_BYTES)
    finally:
        if owned:
            client.close()
