"""The Azure clouds (Public, AzureGovernment, China): ``clouds.json``, read and checked.

Which cloud a registry is in follows from its login server's suffix (``azurecr.io``,
``azurecr.us``, ``azurecr.cn``); each cloud has its own weekly service-tag file, published on a
Microsoft Download Center page. The facts and their sources are data in ``clouds.json`` (JSON,
not YAML: every audit reads it, and orjson is already loaded).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import orjson

__all__ = [
    "Cloud",
    "CloudsError",
    "DownloadSite",
    "cloud_by_name",
    "cloud_by_option",
    "cloud_of_login_server",
    "clouds",
    "clouds_of_login_servers",
    "download_site",
]

SCHEMA = "pullpath.clouds/v1"


class CloudsError(ValueError):
    """``clouds.json`` is malformed (a packaging error: the message says where)."""


@dataclass(frozen=True, slots=True)
class Cloud:
    name: str
    """As in a service-tag file's ``cloud`` field: ``Public``, ``AzureGovernment``, ``China``."""
    option: str
    """The value of ``service-tags update --cloud``: ``public``, ``usgov``, ``china``."""
    registry_suffix: str
    """Login servers of the cloud's registries end in ``.<suffix>`` (``azurecr.io``)."""
    download_id: int
    """Microsoft Download Center id of the cloud's weekly service-tag file."""


@dataclass(frozen=True, slots=True)
class DownloadSite:
    base: str
    """``https://www.microsoft.com/download/``: the pages are relative to it."""
    pages: tuple[str, ...]
    """Pages to look for the file's link on, in order, with ``{id}`` for the cloud's id."""
    file_host: str
    """The host the weekly files are served from (``download.microsoft.com``)."""


def _fail(problem: str) -> CloudsError:
    return CloudsError(f"pullpath/knowledge/clouds.json: {problem}")


@lru_cache(maxsize=1)
def _load() -> tuple[tuple[Cloud, ...], DownloadSite]:
    try:
        doc = orjson.loads((resources.files("pullpath") / "knowledge" / "clouds.json").read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise _fail(f"cannot be read ({exc})") from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise _fail(f"schema must be {SCHEMA}")
    out: list[Cloud] = []
    for i, entry in enumerate(doc.get("clouds") or ()):
        try:
            cloud = Cloud(str(entry["name"]), str(entry["option"]),
                          str(entry["registry_suffix"]).lower(), int(entry["download_id"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise _fail(f"clouds[{i}] is malformed ({exc!r})") from None
        out.append(cloud)
    site: Any = doc.get("download")
    try:
        download = DownloadSite(str(site["base"]), tuple(str(p) for p in site["pages"]),
                                str(site["file_host"]))
    except (KeyError, TypeError) as exc:
        raise _fail(f"download is malformed ({exc!r})") from None
    sources = doc.get("sources")
    if not out or not isinstance(sources, list) or not all(
        isinstance(s, dict) and s.get("url") and s.get("verified") and s.get("says")
        for s in sources
    ):
        raise _fail("needs clouds and sources (each with url, verified and says)")
    return tuple(out), download


def clouds() -> tuple[Cloud, ...]:
    return _load()[0]


def download_site() -> DownloadSite:
    return _load()[1]


def cloud_by_option(option: str) -> Cloud | None:
    folded = option.strip().lower()
    return next((c for c in clouds() if c.option == folded), None)


def cloud_by_name(name: str) -> Cloud | None:
    """The cloud of a service-tag file's ``cloud`` field (case-insensitive)."""
    folded = name.strip().lower()
    return next((c for c in clouds() if c.name.lower() == folded), None)


def cloud_of_login_server(login_server: str) -> Cloud | None:
    """The cloud of a registry's login server (``x.azurecr.us``: AzureGovernment), by its
    suffix; None for anything else (a resource ID, an empty or foreign name)."""
    host = login_server.strip().rstrip(".").lower()
    for cloud in clouds():
        if host.endswith("." + cloud.registry_suffix):
            return cloud
    return None


def clouds_of_login_servers(servers: Iterable[str]) -> dict[str, list[str]]:
    """Cloud name -> the login servers of that cloud among ``servers`` (sorted, distinct);
    servers of no known cloud are left out."""
    found: dict[str, set[str]] = {}
    for server in servers:
        cloud = cloud_of_login_server(server)
        if cloud is not None:
            found.setdefault(cloud.name, set()).add(server.strip().rstrip(".").lower())
    return {name: sorted(found[name]) for name in sorted(found)}
