"""Azure service tags: parsing already-decoded JSON and the most-specific-tag index.

Pure: no file I/O (see :mod:`pullpath.adapters.servicetags_files`), no Azure SDK.

Shapes accepted by :func:`parse_service_tags` (camelCase REST and snake_case SDK keys alike):

- the weekly download ``ServiceTags_<Cloud>_<YYYYMMDD>.json``:
  ``{"changeNumber": 375, "cloud": "Public", "values": [{"name", "id", "properties": {...}}]}``;
- a Service Tag Discovery API response (``az network list-service-tags``, SDK
  ``service_tags.list``): the same with string changeNumbers, ``name``/``id``/``type``, no
  regionId/platform/networkFeatures, and a ``nextLink``;
- a list of such pages (concatenated);
- one tag alone (``{"name", "id", "properties"}``) or a list of tags.

The most specific tag for an address (design, Source ``azure-platform``): the longest prefix
first; at the same prefix length a regional service tag beats a non-regional service tag,
which beats ``AzureCloud.<region>``, which beats ``AzureCloud``.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from ipaddress import IPv4Address, IPv6Address
from typing import Any

import numpy as np
import numpy.typing as npt

from pullpath.core.ipindex import PrefixIndex

__all__ = [
    "ServiceTag",
    "ServiceTagError",
    "ServiceTagSet",
    "TagIndex",
    "TagMatch",
    "parse_service_tags",
    "published_from_name",
    "tag_rank",
    "weekly_file_links",
]

INDEX_FORMAT = 1
"""Version of the :meth:`TagIndex.to_arrays` layout (and of the tag ranking baked into it):
bump it when either changes, so on-disk caches of older versions are ignored."""


class ServiceTagError(ValueError):
    """Service tags that cannot be used, with a message saying what is wrong."""


@dataclass(frozen=True, slots=True)
class ServiceTag:
    """One service tag: a name (``AzureContainerRegistry.JapanEast``) and its prefixes."""

    name: str
    region: str
    """Lower-case region (``japaneast``) or "" for a global tag."""
    system_service: str
    """``AzureContainerRegistry``...; "" for ``AzureCloud*`` and a few others."""
    prefixes: tuple[str, ...]
    change_number: str
    """The tag's own changeNumber as text; "" when the document has none."""


@dataclass(frozen=True, slots=True)
class ServiceTagSet:
    """A whole service-tag document (one cloud, one changeNumber)."""

    cloud: str
    """``Public``, ``AzureGovernment``, ``China``...; "" when the document does not say."""
    change_number: str
    """Top-level changeNumber as text (``"375"``); "" for single-tag documents."""
    source: str
    """Human description: a file name, ``bundled ServiceTags_Public_20251028.json``..."""
    published: date | None
    tags: tuple[ServiceTag, ...]
    duplicate_tags: tuple[str, ...] = ()
    """Names seen again after their first occurrence (the first one was kept)."""


@dataclass(frozen=True, slots=True)
class TagMatch:
    """The most specific service tag containing an address."""

    name: str
    region: str
    system_service: str
    prefix: str
    """The matching prefix of ``name`` (canonical CIDR: host bits cleared)."""
    all_tags: tuple[str, ...]
    """Every tag containing the address, most specific first (``name`` is the first)."""


# --------------------------------------------------------------------------- parsing

_NAME_DATE = re.compile(r"ServiceTags_[A-Za-z0-9]+_(\d{4})(\d{2})(\d{2})(?!\d)")


def published_from_name(name: str) -> date | None:
    """Publication date from a file name like ``ServiceTags_Public_20251028.json``."""
    m = _NAME_DATE.search(name)
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


_LINK_DELIMITERS = re.compile(r"[\s\"'<>()\\=,;\[\]{}]+")


def weekly_file_links(page: str, cloud: str) -> list[tuple[str, date]]:
    """The links to ``ServiceTags_<cloud>_<YYYYMMDD>.json`` files in a download page's text
    (HTML, or JSON embedded in it with ``\\/`` or ``\\u002F`` escapes), newest first, each
    with the date in its name. Only absolute ``http(s)://`` links; which hosts are acceptable
    is the caller's decision. Linear in the page's length (the text is cut into tokens at
    quotes, brackets and spaces first, then each token is matched from its start)."""
    text = html.unescape(page).replace("\\/", "/")
    text = re.sub(r"\\u002[fF]", "/", text)
    link = re.compile(
        r"https?://[^/?#]+/(?:[^/?#]+/)*ServiceTags_" + re.escape(cloud) + r"_(\d{8})\.json",
        re.IGNORECASE,
    )
    found: dict[str, date] = {}
    for token in _LINK_DELIMITERS.split(text):
        if "ServiceTags_" not in token and "servicetags_" not in token.lower():
            continue
        m = link.match(token)
        if m is None:
            continue
        day = published_from_name(f"ServiceTags_{cloud}_{m.group(1)}")
        if day is not None:
            found.setdefault(m.group(0), day)
    return sorted(found.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)


def _get(obj: dict[str, Any], camel: str, snake: str) -> Any:
    if camel in obj:
        return obj[camel]
    return obj.get(snake)


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _change_number(value: object, where: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ServiceTagError(
        f"{where}: changeNumber must be a number or a string, not {_describe(value)}"
    )


def _text(value: object, field: str, where: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    raise ServiceTagError(f"{where}: {field} must be a string, not {_describe(value)}")


def _parse_tag(doc: object, where: str) -> ServiceTag:
    if not isinstance(doc, dict):
        raise ServiceTagError(f"{where}: a service tag must be an object, not {_describe(doc)}")
    name = doc.get("name")
    if name is None or name == "":
        name = doc.get("id")
    if not isinstance(name, str) or not name.strip():
        raise ServiceTagError(f"{where}: a service tag needs a non-empty string 'name'")
    name = name.strip()
    where = f"{where} ({name!r})"
    props = doc.get("properties")
    if not isinstance(props, dict):
        raise ServiceTagError(f"{where}: 'properties' must be an object, not {_describe(props)}")
    prefixes = _get(props, "addressPrefixes", "address_prefixes")
    if not isinstance(prefixes, list | tuple):
        raise ServiceTagError(
            f"{where}: properties.addressPrefixes must be a list, not {_describe(prefixes)}"
        )
    for i, prefix in enumerate(prefixes):
        if not isinstance(prefix, str):
            raise ServiceTagError(
                f"{where}: properties.addressPrefixes[{i}] must be a string, "
                f"not {_describe(prefix)}"
            )
    return ServiceTag(
        name=name,
        region=_text(props.get("region"), "properties.region", where).strip().lower(),
        system_service=_text(
            _get(props, "systemService", "system_service"), "properties.systemService", where
        ).strip(),
        prefixes=tuple(prefixes),
        change_number=_change_number(_get(props, "changeNumber", "change_number"), where),
    )


def _is_page(doc: object) -> bool:
    return isinstance(doc, dict) and "values" in doc


def _is_tag(doc: object) -> bool:
    return isinstance(doc, dict) and "properties" in doc and "values" not in doc


_NOT_TAGS = (
    "not service tags: expected the weekly download or a Discovery API response "
    "(an object with 'values'), a list of such pages, or single tags "
    "(objects with 'name' and 'properties')"
)


def _cloud_from_id(doc: dict[str, Any]) -> str:
    ident = doc.get("id")
    if isinstance(ident, str) and "/serviceTags/" in ident:
        return ident.rsplit("/serviceTags/", 1)[1].strip("/")
    return ""


def parse_service_tags(
    doc: object | Sequence[object],
    *,
    source: str,
    published: date | None = None,
    cloud: str = "",
) -> ServiceTagSet:
    """Service tags from a decoded JSON document (see the module docstring for the shapes).

    ``cloud`` is used when the document does not say (single-tag documents; a Discovery
    API response without ``cloud`` falls back to its id ``.../serviceTags/<cloud>`` first).
    Raises :class:`ServiceTagError` for anything else, never another exception.
    """
    if isinstance(doc, dict):
        docs: list[object] = [doc]
    elif isinstance(doc, list | tuple):
        docs = list(doc)
        if not docs:
            raise ServiceTagError(f"{source}: empty list, no service tags")
    else:
        raise ServiceTagError(f"{source}: {_NOT_TAGS}; got {_describe(doc)}")

    raw_tags: list[tuple[object, str]] = []
    change_number: str | None = None
    doc_cloud = ""
    if all(_is_page(d) for d in docs):
        for n, page in enumerate(docs, 1):
            assert isinstance(page, dict)
            where = f"{source}: page {n}" if len(docs) > 1 else source
            values = page["values"]
            if not isinstance(values, list | tuple):
                raise ServiceTagError(f"{where}: 'values' must be a list, not {_describe(values)}")
            number = _change_number(_get(page, "changeNumber", "change_number"), where)
            if change_number is None:
                change_number = number
            elif number != change_number:
                raise ServiceTagError(
                    f"{where}: changeNumber {number!r} differs from the first page's "
                    f"{change_number!r}; the pages come from different versions, fetch them again"
                )
            page_cloud = _text(page.get("cloud"), "cloud", where).strip() or _cloud_from_id(page)
            if page_cloud and doc_cloud and page_cloud != doc_cloud:
                raise ServiceTagError(
                    f"{where}: cloud {page_cloud!r} differs from the first page's {doc_cloud!r}"
                )
            doc_cloud = doc_cloud or page_cloud
            raw_tags.extend((v, f"{where}: values[{i}]") for i, v in enumerate(values))
    elif all(_is_tag(d) for d in docs):
        raw_tags.extend(
            (d, f"{source}: [{i}]" if len(docs) > 1 else source) for i, d in enumerate(docs)
        )
    else:
        raise ServiceTagError(f"{source}: {_NOT_TAGS}")

    if not raw_tags:
        raise ServiceTagError(f"{source}: 'values' is empty, no service tags")
    tags: list[ServiceTag] = []
    seen: set[str] = set()
    duplicates: list[str] = []
    for raw, where in raw_tags:
        tag = _parse_tag(raw, where)
        if tag.name in seen:
            duplicates.append(tag.name)
            continue
        seen.add(tag.name)
        tags.append(tag)
    return ServiceTagSet(
        cloud=doc_cloud or cloud,
        change_number=change_number or "",
        source=source,
        published=published,
        tags=tuple(tags),
        duplicate_tags=tuple(duplicates),
    )


# --------------------------------------------------------------------------- ranking


def tag_rank(tag: ServiceTag) -> int:
    """0 regional service tag, 1 other service tag, 2 ``AzureCloud.<region>``, 3 ``AzureCloud``.

    Lower is more specific; it only breaks ties between prefixes of the same length.
    """
    folded = tag.name.casefold()
    if folded.startswith("azurecloud"):
        return 3 if folded == "azurecloud" or not tag.region else 2
    if tag.region and tag.system_service:
        return 0
    return 1


# --------------------------------------------------------------------------- the index


class TagIndex:
    """Most-specific service tag for addresses, over a :class:`PrefixIndex`.

    Payload ids are tag positions in (rank, document order), so the index's "lowest payload
    wins ties" is the tag ranking of :func:`tag_rank`.
    """

    __slots__ = (
        "_cache",
        "change_number",
        "cloud",
        "duplicate_tags",
        "names",
        "prefix_index",
        "published",
        "regions",
        "services",
        "source",
    )

    def __init__(
        self,
        *,
        cloud: str,
        change_number: str,
        source: str,
        published: date | None,
        names: tuple[str, ...],
        regions: tuple[str, ...],
        services: tuple[str, ...],
        duplicate_tags: tuple[str, ...],
        prefix_index: PrefixIndex,
    ) -> None:
        """Use :meth:`build` or :meth:`from_arrays`."""
        self.cloud = cloud
        self.change_number = change_number
        self.source = source
        self.published = published
        self.names = names
        """Tag names by payload id (most specific rank first)."""
        self.regions = regions
        self.services = services
        self.duplicate_tags = duplicate_tags
        self.prefix_index = prefix_index
        self._cache: dict[int, TagMatch | None] = {}

    @classmethod
    def build(cls, tags: ServiceTagSet) -> TagIndex:
        order = sorted(range(len(tags.tags)), key=lambda i: (tag_rank(tags.tags[i]), i))
        ranked = [tags.tags[i] for i in order]
        index = PrefixIndex.build(
            (prefix, payload) for payload, tag in enumerate(ranked) for prefix in tag.prefixes
        )
        return cls(
            cloud=tags.cloud,
            change_number=tags.change_number,
            source=tags.source,
            published=tags.published,
            names=tuple(t.name for t in ranked),
            regions=tuple(t.region for t in ranked),
            services=tuple(t.system_service for t in ranked),
            duplicate_tags=tags.duplicate_tags,
            prefix_index=index,
        )

    def relabel(self, *, source: str, published: date | None) -> TagIndex:
        """The same index with another source description and publication date."""
        return TagIndex(
            cloud=self.cloud,
            change_number=self.change_number,
            source=source,
            published=published,
            names=self.names,
            regions=self.regions,
            services=self.services,
            duplicate_tags=self.duplicate_tags,
            prefix_index=self.prefix_index,
        )

    @property
    def rejected_prefixes(self) -> list[str]:
        """Prefixes in the document that are not CIDRs (skipped)."""
        return self.prefix_index.rejected

    def __len__(self) -> int:
        """Number of tags."""
        return len(self.names)

    def __repr__(self) -> str:
        return (
            f"TagIndex(cloud={self.cloud!r}, change_number={self.change_number!r}, "
            f"source={self.source!r}, published={self.published}, tags={len(self.names)}, "
            f"prefixes={len(self.prefix_index)})"
        )

    def _match(self, node: int) -> TagMatch | None:
        if node < 0:
            return None
        cached = self._cache.get(node)
        if cached is not None:
            return cached
        chain = self.prefix_index.chain(node)
        best = chain[0][1][0]
        seen: set[int] = set()
        ordered: list[str] = []
        for _, payloads in chain:
            for p in payloads:
                if p not in seen:
                    seen.add(p)
                    ordered.append(self.names[p])
        match = TagMatch(
            name=self.names[best],
            region=self.regions[best],
            system_service=self.services[best],
            prefix=chain[0][0],
            all_tags=tuple(ordered),
        )
        self._cache[node] = match
        return match

    def lookup(self, ip: str | IPv4Address | IPv6Address) -> TagMatch | None:
        """Most specific tag containing ``ip`` (a logged caller IP is fine); None if none."""
        return self._match(self.prefix_index.locate(ip))

    def lookup_many(self, ips: Sequence[str]) -> list[TagMatch | None]:
        """Vectorised :meth:`lookup` (same order as ``ips``)."""
        return self._matches(self.prefix_index.locate_many(ips))

    def lookup_packed(self, packed: Sequence[bytes | None]) -> list[TagMatch | None]:
        """:meth:`lookup_many` of addresses already packed (``ipaddr.packed_ip``)."""
        return self._matches(self.prefix_index.locate_packed(packed))

    def _matches(self, located: npt.NDArray[np.int32]) -> list[TagMatch | None]:
        nodes = located + 1  # 0: no match
        table: list[TagMatch | None] = [None] * (len(self.prefix_index) + 1)
        present = np.zeros(len(table), dtype=bool)
        present[nodes] = True
        for node in np.flatnonzero(present[1:]).tolist():
            table[node + 1] = self._match(node)
        return [table[n] for n in nodes.tolist()]

    # ------------------------------------------------------------------ caching

    def to_arrays(self) -> dict[str, npt.NDArray[Any]]:
        """Arrays for ``np.savez`` (no pickle): the prefix index plus a JSON blob."""
        meta = {
            "format": INDEX_FORMAT,
            "cloud": self.cloud,
            "change_number": self.change_number,
            "source": self.source,
            "published": self.published.isoformat() if self.published else None,
            "names": self.names,
            "regions": self.regions,
            "services": self.services,
            "duplicate_tags": self.duplicate_tags,
        }
        arrays = {f"ip_{k}": v for k, v in self.prefix_index.to_arrays().items()}
        # stdlib json: it escapes lone surrogates, which a caller's json.loads may produce
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode("ascii"), dtype=np.uint8)
        return arrays

    @classmethod
    def from_arrays(cls, arrays: object) -> TagIndex:
        """Rebuild from :meth:`to_arrays` (a dict or ``NpzFile``); ``ValueError`` if damaged."""
        try:
            blob = np.asarray(arrays["meta"])  # type: ignore[index]
            meta = json.loads(blob.astype(np.uint8).tobytes())
            inner = {k[3:]: arrays[k] for k in arrays if k.startswith("ip_")}  # type: ignore[attr-defined,index]
        except Exception as exc:  # anything wrong with the blob means "not an index"
            raise ValueError(f"not a TagIndex: {exc}") from exc
        if not isinstance(meta, dict) or meta.get("format") != INDEX_FORMAT:
            raise ValueError("TagIndex: unknown format")
        try:
            names = tuple(str(x) for x in meta["names"])
            regions = tuple(str(x) for x in meta["regions"])
            services = tuple(str(x) for x in meta["services"])
            published = date.fromisoformat(meta["published"]) if meta["published"] else None
            fields = {k: str(meta[k]) for k in ("cloud", "change_number", "source")}
            duplicates = tuple(str(x) for x in meta["duplicate_tags"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"TagIndex: bad metadata: {exc}") from exc
        if not len(names) == len(regions) == len(services):
            raise ValueError("TagIndex: metadata lengths differ")
        index = PrefixIndex.from_arrays(inner)
        payloads = index.to_arrays()["node_payloads"]
        if len(payloads) and int(payloads.max()) >= len(names):
            raise ValueError("TagIndex: payload id without a tag")
        return cls(
            cloud=fields["cloud"],
            change_number=fields["change_number"],
            source=fields["source"],
            published=published,
            names=names,
            regions=regions,
            services=services,
            duplicate_tags=duplicates,
            prefix_index=index,
        )
