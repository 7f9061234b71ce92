"""Service tags from files: the weekly download (.json or .json.gz), a saved Discovery API
response, or the bundled snapshot; with an on-disk cache of the compiled index, and the caches
of downloaded tag files.

The cache lives under ``$PULLPATH_CACHE_DIR`` (else ``$XDG_CACHE_HOME/pullpath``, else
``~/.cache/pullpath``), in ``servicetags/``:

- one ``.npz`` (no pickle) per file content: the key is the sha256 of the file's bytes as
  stored (the gzip bytes for a .gz) plus the index format version;
- ``weekly/ServiceTags_<Cloud>_<YYYYMMDD>.json``: Microsoft's weekly files as downloaded by
  ``pullpath service-tags update`` (verified before they are saved);
- ``discovery/ServiceTags_<Cloud>_<YYYYMMDD>.<location>.json``: Discovery API responses
  (``service-tags update --discovery``).

A cache that cannot be written is skipped; a damaged entry is rebuilt. Only regular files are
read from the cache: an entry that is a symbolic link, a FIFO, a socket, a device or a
directory is skipped (never opened, so a FIFO cannot block) and replaced when the entry is
written again (an empty directory is removed; a directory with content is left alone and the
entry is not cached).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import os
import re
import stat
import tempfile
import zlib
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO

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
    "BUNDLED_CLOUD",
    "BUNDLED_NAME",
    "CachedTags",
    "cached_discovery_tags",
    "cached_weekly_tags",
    "choose_tags_file",
    "default_cache_dir",
    "discovery_dir",
    "load_service_tags",
    "newest_cached_tags",
    "prune_weekly",
    "read_service_tags_json",
    "save_weekly",
    "service_tags_age_warning",
    "verify_weekly",
    "weekly_dir",
    "write_cache_file",
]

BUNDLED_NAME = "ServiceTags_Public_20251028.json"
BUNDLED_CLOUD = "Public"
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


# ----------------------------------------------------------------------------- cache entries

_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
               | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
"""How cache entries are opened: never through a symbolic link (O_NOFOLLOW), and without
waiting for a writer when the entry is a FIFO (O_NONBLOCK); ``fstat`` then keeps regular files
only."""


def _open_cache_entry(entry: Path) -> BinaryIO | None:
    """The cache entry opened for reading when it is a regular file itself, else None."""
    try:
        fd = os.open(entry, _OPEN_FLAGS)
    except OSError:  # missing, a symbolic link (ELOOP), a directory...
        return None
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            return os.fdopen(fd, "rb")
    except OSError:
        pass
    os.close(fd)
    return None


def _clear_entry(entry: Path) -> None:
    """Remove what stands at ``entry`` unless it is a regular file: a symbolic link (not its
    target), a FIFO, a socket or a device is unlinked, an empty directory removed. A
    directory with content stays (``os.replace`` onto it then fails: the entry is not
    written)."""
    try:
        mode = os.lstat(entry).st_mode
    except OSError:
        return
    if stat.S_ISREG(mode):
        return
    with contextlib.suppress(OSError):
        if stat.S_ISDIR(mode):
            os.rmdir(entry)
        else:
            os.unlink(entry)


def write_cache_file(target: Path, data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically: a temporary file in the same directory,
    flushed to disk, then renamed over ``target`` (whatever non-regular entry stood there is
    replaced, see :func:`_clear_entry`). Raises OSError; the temporary file never stays."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        _clear_entry(target)
        os.replace(tmp, target)
        tmp = ""
    finally:
        if tmp:
            Path(tmp).unlink(missing_ok=True)
    return target


def _load_cached(entry: Path) -> TagIndex | None:
    handle = _open_cache_entry(entry)
    if handle is None:
        return None  # missing, or not a regular file: rebuilt (and the entry replaced)
    try:
        with handle, np.load(handle, allow_pickle=False) as npz:
            return TagIndex.from_arrays(npz)
    except Exception:  # damaged in any way: (re)build it
        return None


def _store_cached(entry: Path, index: TagIndex) -> None:
    try:
        buffer = io.BytesIO()
        # plain arrays only (no object dtype), so np.load(allow_pickle=False) reads it;
        # numpy < 2.1 has no allow_pickle parameter here, hence the untyped call
        savez: Any = np.savez
        savez(buffer, **index.to_arrays())
        write_cache_file(entry, buffer.getvalue())
    except (OSError, ValueError, TypeError):
        return  # read-only or full disk...: caching is an optimisation only


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
        "addresses Microsoft added since may show as internet: run `pullpath service-tags "
        f"update` (no credentials needed), or {DOWNLOAD_HINT}"
    )


# ----------------------------------------------------------------------------- downloaded tags
# Where ``service-tags update`` saves what it fetches (the weekly files, and the Discovery API
# responses of ``adapters.azure.servicetags_api``); read here, so that an audit of local files
# chooses its tags without loading the Azure adapters.

_DISCOVERY_FILE = re.compile(r"^ServiceTags_([A-Za-z0-9]+)_(\d{8})\.([a-z0-9]+)\.json$")
_WEEKLY_FILE = re.compile(r"^ServiceTags_([A-Za-z0-9]+)_(\d{8})\.json$")
WEEKLY_KEPT = 3
"""Weekly files kept per cloud after an update (the newest ones)."""


def discovery_dir(cache_dir: Path | None = None) -> Path:
    return (cache_dir or default_cache_dir()) / "servicetags" / "discovery"


def weekly_dir(cache_dir: Path | None = None) -> Path:
    return (cache_dir or default_cache_dir()) / "servicetags" / "weekly"


@dataclass(frozen=True, slots=True)
class CachedTags:
    path: Path
    cloud: str
    fetched: date
    """The publication date of a weekly file; the fetch date of a Discovery API response."""
    location: str
    """The region a Discovery API response was asked in; "" for a weekly file."""
    kind: str = "discovery"
    """``discovery`` or ``weekly``."""


def _cached(folder: Path, pattern: re.Pattern[str], cloud: str, kind: str) -> list[CachedTags]:
    """The cached files of ``cloud`` in ``folder``: regular files only (a link, FIFO or
    directory under a cache name is skipped, never opened)."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    found: list[CachedTags] = []
    for entry in entries:
        m = pattern.match(entry.name)
        if not m or m.group(1).lower() != cloud.lower():
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
        except OSError:
            continue
        fetched = published_from_name(entry.name)
        if fetched is None:
            continue
        location = m.group(3) if kind == "discovery" else ""
        found.append(CachedTags(folder / entry.name, m.group(1), fetched, location, kind))
    return sorted(found, key=lambda c: (c.fetched, c.path.name), reverse=True)


def cached_discovery_tags(
    cloud: str = "Public", cache_dir: Path | None = None
) -> CachedTags | None:
    """The most recently fetched cached Discovery API document of ``cloud``, if any."""
    found = _cached(discovery_dir(cache_dir), _DISCOVERY_FILE, cloud, "discovery")
    return found[0] if found else None


def cached_weekly_tags(cloud: str = "Public", cache_dir: Path | None = None) -> CachedTags | None:
    """The newest cached weekly file of ``cloud``, if any."""
    found = _cached(weekly_dir(cache_dir), _WEEKLY_FILE, cloud, "weekly")
    return found[0] if found else None


def newest_cached_tags(cloud: str = "Public", cache_dir: Path | None = None) -> CachedTags | None:
    """The newer of the cached weekly file and the cached Discovery API response of ``cloud``
    (by date; the weekly file on the same day: it is the published reference, the API may lag
    it by weeks)."""
    candidates = [c for c in (cached_weekly_tags(cloud, cache_dir),
                              cached_discovery_tags(cloud, cache_dir)) if c is not None]
    if not candidates:
        return None
    return max(candidates, key=lambda c: (c.fetched, c.kind == "weekly"))


def choose_tags_file(
    path: Path | None, cloud: str = BUNDLED_CLOUD, cache_dir: Path | None = None
) -> Path | None:
    """The service-tag file an audit uses: ``path`` when given; else the newest cached file
    of ``cloud`` (weekly download or Discovery API), unless the bundled file is of that cloud
    and not older; else None (the bundled file)."""
    if path is not None:
        return path
    cached = newest_cached_tags(cloud, cache_dir)
    if cached is None:
        return None
    bundled = published_from_name(BUNDLED_NAME)
    if cloud.lower() == BUNDLED_CLOUD.lower() and bundled is not None and cached.fetched <= bundled:
        return None
    return cached.path


def verify_weekly(
    data: bytes, *, cloud: str, name: str, where: str, cache_dir: Path | None = None
) -> TagIndex:
    """The index of a downloaded weekly file, after checking that it is one: JSON, an
    object whose ``cloud`` is ``cloud``, with ``changeNumber`` and a non-empty ``values``
    list, read by the service-tag parser into at least one address prefix, its date from
    ``name``. Raises :class:`ServiceTagError` saying what is wrong. The compiled index is
    cached, so the first audit with the file does not build it again."""
    doc = read_service_tags_json(data, where)
    if not isinstance(doc, dict) or "values" not in doc:
        raise ServiceTagError(f"{where}: not a weekly service-tag file (an object with cloud, "
                              "changeNumber and values)")
    got = doc.get("cloud")
    if got != cloud:
        raise ServiceTagError(f"{where}: the file is for cloud {got!r}, not {cloud!r}")
    if doc.get("changeNumber") in (None, ""):
        raise ServiceTagError(f"{where}: the file has no changeNumber")
    if not isinstance(doc["values"], list) or not doc["values"]:
        raise ServiceTagError(f"{where}: the file's values hold no service tag")
    published = published_from_name(name)
    if published is None:
        raise ServiceTagError(f"{where}: {name!r} is not named ServiceTags_<Cloud>_<YYYYMMDD>")
    index = TagIndex.build(parse_service_tags(doc, source=where, published=published))
    if len(index.prefix_index) == 0:
        raise ServiceTagError(f"{where}: the service tags hold no usable address prefix")
    with contextlib.suppress(RuntimeError):  # no home directory for a default cache
        _store_cached(_cache_file(cache_dir or default_cache_dir(), data), index)
    return index


def save_weekly(
    data: bytes, *, cloud: str, published: date, cache_dir: Path | None = None
) -> Path:
    """Save a verified weekly file (atomically) as ``weekly/ServiceTags_<Cloud>_<date>.json``."""
    return write_cache_file(weekly_dir(cache_dir) / f"ServiceTags_{cloud}_{published:%Y%m%d}.json",
                            data)


def prune_weekly(cloud: str, *, keep: int = WEEKLY_KEPT, cache_dir: Path | None = None
                 ) -> list[Path]:
    """Remove the cloud's cached weekly files beyond the ``keep`` newest; returns them."""
    removed = []
    for old in _cached(weekly_dir(cache_dir), _WEEKLY_FILE, cloud, "weekly")[keep:]:
        try:
            old.path.unlink()
            removed.append(old.path)
        except OSError:
            continue
    return removed
