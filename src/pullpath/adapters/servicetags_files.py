"""Service tags from files: the weekly download (.json or .json.gz), a saved Discovery API
response, or the bundled snapshot; with an on-disk cache of the compiled index.

The cache lives under ``$PULLPATH_CACHE_DIR`` (else ``$XDG_CACHE_HOME/pullpath``, else
``~/.cache/pullpath``), in ``servicetags/``, one ``.npz`` (no pickle) per file content: the key
is the sha256 of the file's bytes as stored (the gzip bytes for a .gz) plus the index format
version. A cache that cannot be written is skipped; a damaged entry is rebuilt.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import stat
import tempfile
import zlib
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from pullpath.core.servicetags import (
    INDEX_FORMAT,
    ServiceTagError,
    TagIndex,
    parse_service_tags,
    published_from_name,
)

__all__ = [
    "BUNDLED_NAME",
    "CachedTags",
    "cached_discovery_tags",
    "default_cache_dir",
    "discovery_dir",
    "load_service_tags",
    "read_service_tags_json",
    "service_tags_age_warning",
]

BUNDLED_NAME = "ServiceTags_Public_20251028.json"
DOWNLOAD_HINT = (
    "download your cloud's weekly file (Public, AzureGovernment, China; links at "
    "https://learn.microsoft.com/azure/virtual-network/service-tags-overview#discover-service-"
    "tags-by-using-downloadable-json-files) or pass a Discovery API response saved with "
    "`az network list-service-tags --location <region>`"
)
_GZIP_MAGIC = b"\x1f\x8b"
MAX_SERVICE_TAG_BYTES = 128 * 1024 * 1024
"""A service-tag file larger than this (128 MiB, as stored or decompressed) is refused: the
weekly Public file is about 4 MiB; the limit stops a gzip bomb or a wrong file (/dev/zero)."""
_MAX_DECOMPRESSED = MAX_SERVICE_TAG_BYTES


def default_cache_dir() -> Path:
    """``$PULLPATH_CACHE_DIR``, else ``$XDG_CACHE_HOME/pullpath``, else ``~/.cache/pullpath``."""
    env = os.environ.get("PULLPATH_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg) / "pullpath"
    return Path.home() / ".cache" / "pullpath"


def _fail(where: str, what: str) -> ServiceTagError:
    return ServiceTagError(f"{where}: {what}; {DOWNLOAD_HINT}")


def _decompress(data: bytes, where: str) -> bytes:
    if not data.startswith(_GZIP_MAGIC):
        return data
    try:
        out = bytearray()
        rest = data
        while rest:  # a gzip file may hold several concatenated members
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            out += d.decompress(rest, _MAX_DECOMPRESSED + 1 - len(out))
            if len(out) > _MAX_DECOMPRESSED:
                raise _fail(
                    where,
                    f"gzip content is larger than {_MAX_DECOMPRESSED >> 20} MiB, "
                    "not a service-tag file",
                )
            if not d.eof:
                raise _fail(where, "truncated gzip file")
            rest = d.unused_data.lstrip(b"\x00")
        return bytes(out)
    except (zlib.error, EOFError, gzip.BadGzipFile) as exc:
        raise _fail(where, f"not a valid gzip file ({exc})") from exc


def _decode_json(data: bytes, where: str) -> object:
    if not data.strip():
        raise _fail(where, "the file is empty")
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 (PowerShell `>` redirect)
            return orjson.loads(data.decode("utf-16"))
        if data.startswith(b"\xef\xbb\xbf"):  # UTF-8 byte order mark
            data = data[3:]
        return orjson.loads(data)
    except (orjson.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _fail(where, f"not JSON ({exc})") from exc


def read_service_tags_json(data: bytes, where: str) -> object:
    """Decoded JSON of a service-tag file's bytes (.json or gzip, detected by magic bytes)."""
    return _decode_json(_decompress(data, where), where)


def _read_bytes(path: Path | None) -> tuple[bytes, str, str]:
    """(bytes, where for messages, source description)."""
    if path is None:
        where = f"bundled {BUNDLED_NAME}.gz"
        resource = resources.files("pullpath") / "data" / "servicetags" / f"{BUNDLED_NAME}.gz"
        try:
            return resource.read_bytes(), where, f"bundled {BUNDLED_NAME}"
        except OSError as exc:
            raise _fail(
                where, f"the bundled file is missing from the installation ({exc})"
            ) from exc
    where = str(path)
    try:
        if path.exists() and not path.is_dir() and not stat.S_ISREG(path.stat().st_mode):
            raise _fail(where, "not a regular file (a FIFO, device or socket)")
        with path.open("rb") as fh:
            data = fh.read(MAX_SERVICE_TAG_BYTES + 1)
        if len(data) > MAX_SERVICE_TAG_BYTES:
            raise _fail(where, f"larger than {MAX_SERVICE_TAG_BYTES >> 20} MiB, not a "
                               "service-tag file")
        return data, where, where
    except FileNotFoundError as exc:
        raise _fail(where, "no such file") from exc
    except IsADirectoryError as exc:
        raise _fail(where, "is a directory, not a service-tag file") from exc
    except OSError as exc:
        raise _fail(where, f"cannot read the file ({exc.strerror or exc})") from exc


def _cache_file(cache_dir: Path, data: bytes) -> Path:
    digest = hashlib.sha256(data).hexdigest()
    return cache_dir / "servicetags" / f"{digest}-v{INDEX_FORMAT}.npz"


def _load_cached(entry: Path) -> TagIndex | None:
    try:
        with np.load(entry, allow_pickle=False) as npz:
            return TagIndex.from_arrays(npz)
    except Exception:  # missing, or damaged in any way: (re)build it
        return None


def _store_cached(entry: Path, index: TagIndex) -> None:
    tmp_name = ""
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=entry.parent, prefix=entry.stem, suffix=".tmp", delete=False
        ) as tmp:
            tmp_name = tmp.name
            # plain arrays only (no object dtype), so np.load(allow_pickle=False) reads it;
            # numpy < 2.1 has no allow_pickle parameter here, hence the untyped call
            savez: Any = np.savez
            savez(tmp, **index.to_arrays())
        os.replace(tmp_name, entry)
        tmp_name = ""
    except (OSError, ValueError, TypeError):
        return  # read-only or full disk...: caching is an optimisation only
    finally:
        if tmp_name:
            Path(tmp_name).unlink(missing_ok=True)


def load_service_tags(
    path: Path | str | None = None, *, cache_dir: Path | None = None, use_cache: bool = True
) -> TagIndex:
    """The compiled service-tag index of a file (``None``: the bundled Public snapshot).

    Reads the weekly download of any cloud or a saved Discovery API response, as .json or
    gzip (detected by content). The publication date comes from a file name like
    ``ServiceTags_Public_20251028.json``. Raises :class:`ServiceTagError` naming the file and
    what to do when the file is missing, not JSON or not service tags.
    """
    if path is not None:
        path = Path(path)
    data, where, source = _read_bytes(path)
    name = BUNDLED_NAME if path is None else path.name
    published = published_from_name(name)

    entry = None
    if use_cache:
        try:
            entry = _cache_file(cache_dir or default_cache_dir(), data)
        except RuntimeError:  # no home directory to put a default cache in
            entry = None
    if entry is not None:
        cached = _load_cached(entry)
        if cached is not None:
            return cached.relabel(source=source, published=published)

    doc = read_service_tags_json(data, where)
    try:
        tagset = parse_service_tags(doc, source=source, published=published)
    except ServiceTagError as exc:
        raise ServiceTagError(f"{exc}; {DOWNLOAD_HINT}") from exc
    index = TagIndex.build(tagset)
    if len(index.prefix_index) == 0:
        bad = index.rejected_prefixes
        detail = f" ({len(bad)} not CIDRs, e.g. {bad[0]!r})" if bad else ""
        raise _fail(where, f"the service tags hold no usable address prefix{detail}")
    if entry is not None:
        _store_cached(entry, index)
    return index


def service_tags_age_warning(
    index: TagIndex, newest_event: datetime | None, *, max_days: int = 90
) -> str | None:
    """A warning when the tags were published more than ``max_days`` before the newest event.

    None when fresh enough or when there is no event; a tag file without a date says that its
    age cannot be checked. Tags change weekly, so an old file may miss newer Microsoft ranges
    and report them as ``internet``.
    """
    if newest_event is None:
        return None
    if index.published is None:
        return (
            f"service tags {index.source} carry no publication date (a Discovery API response "
            "or a renamed file): their age against the events cannot be checked; tags change "
            "weekly, so an old file may show addresses Microsoft added since as internet"
        )
    age = (newest_event.date() - index.published).days
    if age <= max_days:
        return None
    return (
        f"service tags {index.source} (cloud {index.cloud or '?'}, changeNumber "
        f"{index.change_number or '?'}) were published {index.published.isoformat()}, "
        f"{age} days before the newest event ({newest_event.date().isoformat()}); "
        f"addresses Microsoft added since may show as internet: {DOWNLOAD_HINT}"
    )


# ----------------------------------------------------------------------------- Discovery API cache
# Where ``adapters.azure.servicetags_api`` saves what it fetches; read here, so that an audit of
# local files chooses its tags without loading the Azure adapters.

_DISCOVERY_FILE = re.compile(r"^ServiceTags_([A-Za-z0-9]+)_(\d{8})\.([a-z0-9]+)\.json$")


def discovery_dir(cache_dir: Path | None = None) -> Path:
    return (cache_dir or default_cache_dir()) / "servicetags" / "discovery"


@dataclass(frozen=True, slots=True)
class CachedTags:
    path: Path
    cloud: str
    fetched: date
    location: str


def cached_discovery_tags(
    cloud: str = "Public", cache_dir: Path | None = None
) -> CachedTags | None:
    """The most recently fetched cached Discovery API document of ``cloud``, if any."""
    folder = discovery_dir(cache_dir)
    try:
        names = os.listdir(folder)
    except OSError:
        return None
    best: CachedTags | None = None
    for name in names:
        m = _DISCOVERY_FILE.match(name)
        if not m or m.group(1).lower() != cloud.lower():
            continue
        fetched = published_from_name(name)
        if fetched is None:
            continue
        entry = CachedTags(folder / name, m.group(1), fetched, m.group(3))
        if best is None or (entry.fetched, entry.path.name) > (best.fetched, best.path.name):
            best = entry
    return best
