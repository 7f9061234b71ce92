"""ARM resource JSON -> :class:`~pullpath.domain.inventory.Inventory`. Pure: no I/O, no SDK.

Two shapes of the same resource are read alike:

* the REST shape (``{"id", "name", "type", "location", "properties": {...}}``, camelCase), as
  ARM, ``az resource show``, Resource Graph and the REST API examples give it;
* the SDK shape (what ``as_dict()`` of an azure-mgmt-* model gives): ``properties`` flattened
  to the top level and snake_case keys.

Every key is compared normalised (lower-case, without ``_`` and ``-``), and a field is looked
up in ``properties`` first, then at the top level (envelope fields such as ``id`` and
``identity`` the other way round). The SDK renames a few fields outright; those are listed as
aliases where they are read (``ipRules[].value`` is ``ip_address_or_range``).

Containers are unwrapped by :func:`iter_resources`: a single resource, a list, an ARM list
``{"value": [...]}``, a Resource Graph result ``{"data": [...]}`` (object array or table), a
REST API example file (its 200/201 response body), nested in any way.

Nothing raises on bad input: a value of the wrong type, an unevaluated ARM template
expression or a container that holds no resources is recorded as an
:class:`~pullpath.domain.inventory.InventoryIssue` and the field is treated as absent.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Final, TypeVar

from pullpath.core.inventory_more import (
    aks_egress_ip_ids,
    aks_settings,
    environment_settings,
    registry_settings,
    task_pool_subnet,
    task_settings,
    web_image_pull_flags,
    zone_link_count,
)
from pullpath.domain.inventory import (
    Consumer,
    ConsumerKind,
    DiagnosticSetting,
    Inventory,
    InventoryIssue,
    IpConfiguration,
    ManagedEnvironment,
    ManagedIdentity,
    NatGateway,
    NetworkInterface,
    PrivateDnsZone,
    PrivateEndpoint,
    PrivateEndpointConnection,
    PublicIp,
    Registry,
    RegistryCredential,
    ResourceConflict,
    RoleAssignment,
    Subnet,
    VirtualNetwork,
    norm_id,
)
from pullpath.domain.resource_id import (
    name_of,
    parent_of,
    parse_resource_id,
    subscription_of,
    type_of,
)

__all__ = [
    "MAX_DEPTH",
    "InventoryBuilder",
    "InventoryError",
    "build_inventory",
    "export_hint",
    "image_registry",
    "inventory_from_documents",
    "inventory_warnings",
    "is_arm_expression",
    "iter_resources",
    "logs_hint",
    "looks_like_inventory",
    "norm_location",
    "split_image",
    "without_properties_problem",
]

MAX_DEPTH: Final = 64
"""Deepest container nesting :func:`iter_resources` follows (lists in lists, value in data...)."""

_D = TypeVar("_D")


class InventoryError(ValueError):
    """An inventory input that cannot be read at all (a path that does not exist)."""


# --------------------------------------------------------------------------------------------
# small pure helpers


@functools.lru_cache(maxsize=4096)
def _nk(key: str) -> str:
    """Normalised key: ``addressPrefix``, ``address_prefix`` and ``AddressPrefix`` compare equal
    (cached: an inventory repeats a few hundred keys in every resource)."""
    return key.replace("_", "").replace("-", "").lower()


_ENVELOPE: Final = frozenset(
    _nk(k)
    for k in (
        "id",
        "name",
        "type",
        "location",
        "kind",
        "identity",
        "sku",
        "tags",
        "etag",
        "zones",
        "managedBy",
        "plan",
        "extendedLocation",
        "systemData",
        "resourceGroup",
        "subscriptionId",
        "tenantId",
    )
)
"""Top-level ARM fields: looked up at the top level first (``properties`` may reuse a name)."""


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def is_arm_expression(value: str) -> bool:
    """An unevaluated ARM template expression (``[resourceId(...)]``).

    Expressions are function calls, so ``[system]`` (ACI's literal for the system identity) is
    not one; ``[[`` escapes a literal bracket.
    """
    v = value.strip()
    return v.startswith("[") and v.endswith("]") and not v.startswith("[[") and "(" in v


def norm_location(location: str) -> str:
    """``North Central US`` and ``northcentralus`` compare equal: lower-case, no spaces."""
    return location.replace(" ", "").lower()


_IMAGE_HOST = re.compile(r"^[^/]+[.:][^/]*$|^localhost$")


def image_registry(image: str) -> str:
    """Registry host of an image reference (lower-case); "" for Docker Hub short names."""
    ref = image.strip()
    if "|" in ref:  # App Service "DOCKER|host/repo:tag"
        ref = ref.split("|", 1)[1]
    if "/" not in ref:
        return ""
    host = ref.split("/", 1)[0]
    return host.lower() if _IMAGE_HOST.match(host) else ""


def split_image(image: str) -> tuple[str, str, str, str]:
    """(registry host, repository, tag, digest) of an image reference: host, repository and
    digest lower-case, the tag as written; "" for a part it does not give
    (``contosoacr.azurecr.io/orders:1.4.2``, ``host/team/app@sha256:...``, App Service
    ``DOCKER|host/repo:tag``)."""
    ref = image.strip()
    if "|" in ref:
        ref = ref.split("|", 1)[1].strip()
    host = image_registry(ref)
    rest = ref.split("/", 1)[1] if host else ref
    rest, _, digest = rest.partition("@")
    path, _, last = rest.rpartition("/")
    name, _, tag = last.partition(":")
    repository = f"{path}/{name}" if path else name
    return host, repository.lower(), tag, digest.lower()


def _usable_prefix(c: _Ctx, subnet: str, prefix: str) -> bool:
    """Is ``prefix`` a subnet's address range pullpath can look callers up in? An invalid one
    (``10.0.2.0/33``, garbage) or a catch-all (``0.0.0.0/0``, ``::/0``: every caller would be
    "in" the subnet) is an inventory issue and not used."""
    try:
        network = ipaddress.ip_network(prefix, strict=False)
    except ValueError:
        c.issue(f"subnet {subnet}: addressPrefix {prefix!r} is not an IP prefix: not used")
        return False
    if network.prefixlen == 0:
        c.issue(f"subnet {subnet}: addressPrefix {prefix} covers every address (a catch-all, "
                "not a subnet's range): not used, callers are not looked up in it")
        return False
    return True


def _uniq(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _lookup(obj: Mapping[Any, object], name: str) -> object | None:
    if name in obj:
        return obj[name]
    want = _nk(name)
    for key, value in obj.items():
        if isinstance(key, str) and _nk(key) == want:
            return value
    return None


def _field(obj: Mapping[Any, object], name: str) -> object | None:
    """``name`` in ``obj.properties`` then in ``obj`` (envelope names: top level first)."""
    props = _lookup(obj, "properties")
    top_first = _nk(name) in _ENVELOPE
    if top_first:
        value = _lookup(obj, name)
        if value is not None:
            return value
    if isinstance(props, Mapping):
        value = _lookup(props, name)
        if value is not None:
            return value
    return None if top_first else _lookup(obj, name)


_NOT_PROPERTIES: Final = _ENVELOPE | {
    _nk(k) for k in ("properties", "changedTime", "createdTime", "provisioningState")
}
"""Top-level keys of ``az resource list`` output, which carries no properties."""


def _has_properties(res: Mapping[Any, object]) -> bool:
    """True when the resource carries its properties (``az resource list`` output does not)."""
    props = _lookup(res, "properties")
    if isinstance(props, Mapping):
        return True
    return any(isinstance(k, str) and _nk(k) not in _NOT_PROPERTIES for k in res)


def _merge(old: _D, new: _D) -> _D:
    """Field-wise merge of two records of the same thing: a non-empty new value wins."""
    changes: dict[str, Any] = {}
    for f in fields(old):  # type: ignore[arg-type]
        o, n = getattr(old, f.name), getattr(new, f.name)
        if n is None or (isinstance(n, str | tuple) and not n):
            changes[f.name] = o
        elif f.name == "system_identity":
            changes[f.name] = bool(o) or bool(n)
        else:
            changes[f.name] = n
    return replace(old, **changes)  # type: ignore[type-var]


_NOTHING: Final = object()

_ARM_NAMES: Final = {
    "public_network_access": "publicNetworkAccess",
    "default_action": "networkRuleSet.defaultAction",
    "ip_rules": "networkRuleSet.ipRules",
    "bypass": "networkRuleBypassOptions",
    "bypass_for_tasks": "networkRuleBypassAllowedForTasks",
    "private_endpoint_connections": "privateEndpointConnections",
    "data_endpoint_enabled": "dataEndpointEnabled",
    "admin_user_enabled": "adminUserEnabled",
    "login_server": "loginServer",
    "replica_locations": "replications",
    "prefixes": "addressPrefix",
    "address_prefixes": "addressSpace.addressPrefixes",
    "subnet_ids": "subnets",
    "nat_gateway_id": "natGateway",
    "ip_address": "ipAddress",
    "status": "privateLinkServiceConnectionState.status",
    "principal_id": "principalId",
    "client_id": "clientId",
    "principal_ids": "identity principalIds",
    "client_ids": "identity clientIds",
    "identity_ids": "identity.userAssignedIdentities",
    "credentials": "registry credentials",
    "private_ips": "private IPs",
    "public_ips": "public IPs",
    "static_ip": "staticIp",
    "outbound_ips": "outboundIpAddresses",
    "infrastructure_subnet_id": "vnetConfiguration.infrastructureSubnetId",
    "environment_id": "managedEnvironmentId",
}
"""How conflicting fields are named in inventory issues: by the ARM property they come from."""


def _is_blank(value: object) -> bool:
    """Absent from a record: "", () or None."""
    return value is None or (isinstance(value, str | tuple) and not value)


def _blank_of(value: object) -> object:
    if isinstance(value, str):
        return ""
    if isinstance(value, tuple):
        return ()
    return None


def _agree(values: Iterable[object]) -> tuple[object, bool]:
    """The one value the non-blank ``values`` agree on (``_NOTHING`` when there is none), and
    whether they disagree. Strings compare case-insensitively (ARM names and enums are), the
    spelling kept is the same whatever the input order."""
    distinct: list[object] = []
    for value in values:
        if _is_blank(value):
            continue
        probe = value.casefold() if isinstance(value, str) else value
        for i, seen in enumerate(distinct):
            if (seen.casefold() if isinstance(seen, str) else seen) == probe:
                if isinstance(value, str) and isinstance(seen, str) and value < seen:
                    distinct[i] = value
                break
        else:
            distinct.append(value)
    if len(distinct) > 1:
        return _NOTHING, True
    return (distinct[0] if distinct else _NOTHING), False


def _show_item(value: object) -> str:
    if isinstance(value, PrivateEndpointConnection):
        return f"{name_of(value.private_endpoint_id or value.id)} {value.status or '(no status)'}"
    if isinstance(value, RegistryCredential):
        return f"{value.server or '(own registry)'} by {value.method}"
    return _show(value)


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        text = ", ".join(_show_item(v) for v in value)
    else:
        text = _show_item(value) if isinstance(
            value, PrivateEndpointConnection | RegistryCredential) else str(value)
    text = text or "(none)"
    return text if len(text) <= 80 else text[:79] + "…"


def _reconcile(versions: list[tuple[str, Any]]) -> tuple[Any, list[tuple[str, str]]]:
    """One record from every version of a resource, whatever their order: each field takes
    the value the versions that set it agree on; a field set to different values in two
    versions is a conflict and taken as absent (unknown). ``facts`` agree key by key.
    Returns the record and the conflicts as (ARM name, values with their locations)."""
    first = versions[0][1]
    changes: dict[str, Any] = {}
    clashes: list[tuple[str, str]] = []

    def where(values: list[object]) -> str:
        said = [f"{_show(v)} at {loc}" for (loc, _), v in zip(versions, values, strict=True)
                if not _is_blank(v)]
        return "; ".join(said[:4]) + (f"; +{len(said) - 4} more" if len(said) > 4 else "")

    for f in fields(first):
        name = f.name
        if name == "facts":
            facts = [dict(rec.facts) for _, rec in versions]
            kept: list[tuple[str, str]] = []
            for key in dict.fromkeys(k for d in facts for k in d):
                values: list[object] = [d.get(key) for d in facts]
                value, clash = _agree(values)
                if clash:
                    clashes.append((key, where(values)))
                elif value is not _NOTHING:
                    kept.append((key, str(value)))
            changes[name] = tuple(kept)
            continue
        values = [getattr(rec, name) for _, rec in versions]
        if f.type == "bool":  # a flag (system_identity): False is "not set"
            values = [v or None for v in values]
            value, _ = _agree(values)
            changes[name] = value is not _NOTHING
            continue
        value, clash = _agree(values)
        if clash:
            clashes.append((_ARM_NAMES.get(name, name), where(values)))
        changes[name] = _blank_of(getattr(first, name)) if value is _NOTHING else value
    return replace(first, **changes), clashes


# --------------------------------------------------------------------------------------------
# containers


def _pointer(base: str, *parts: object) -> str:
    tail = "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)
    return f"{base}/{tail}" if "#" in base else f"{base}#/{tail}"


def _looks_like_resource(doc: Mapping[Any, object]) -> bool:
    if "id" in doc:
        return True
    rtype = doc.get("type")
    return isinstance(rtype, str) and "/" in rtype


def iter_resources(
    doc: object, location: str, issues: list[InventoryIssue] | None = None
) -> Iterator[tuple[str, dict[str, object]]]:
    """Every resource dict in ``doc`` with its location label (``file.json#/value/3``).

    Problems with the containers (a ``value`` that is not a list, a scalar where a resource
    should be, an incomplete page) are appended to ``issues`` when a list is given.
    """
    sink: list[InventoryIssue] = issues if issues is not None else []
    yield from _unwrap(doc, location, sink, 0)


def _unwrap(
    doc: object, loc: str, issues: list[InventoryIssue], depth: int
) -> Iterator[tuple[str, dict[str, object]]]:
    def issue(problem: str) -> None:
        issues.append(InventoryIssue(loc, "", problem))

    if depth > MAX_DEPTH:
        issue(f"containers nested more than {MAX_DEPTH} levels deep: not read")
        return
    if isinstance(doc, list):
        for i, item in enumerate(doc):
            yield from _unwrap(item, _pointer(loc, i), issues, depth + 1)
        return
    if not isinstance(doc, dict):
        issue(f"not a resource: a JSON {_kind(doc)}")
        return
    responses = doc.get("responses")
    if isinstance(responses, dict) and (
        "parameters" in doc or any(str(k).isdigit() for k in responses)
    ):
        for code in ("200", "201"):
            response = responses.get(code)
            if isinstance(response, dict) and response.get("body") is not None:
                body_loc = _pointer(loc, "responses", code, "body")
                yield from _unwrap(response["body"], body_loc, issues, depth + 1)
                return
        issue("REST API example without a 200/201 response body: no resource in it")
        return
    if _looks_like_resource(doc):
        yield loc, doc
        return
    if "value" in doc:
        value = doc["value"]
        next_link = doc.get("nextLink")
        if isinstance(next_link, str) and next_link:
            issue(
                "ARM list has a nextLink: only this page is in the input, later pages are missing"
            )
        if isinstance(value, list):
            for i, item in enumerate(value):
                yield from _unwrap(item, _pointer(loc, "value", i), issues, depth + 1)
        else:
            issue(f"'value' is a JSON {_kind(value)}, not a list of resources")
        return
    if "data" in doc:
        yield from _unwrap_graph(doc, loc, issues, depth)
        return
    keys = ", ".join(sorted(str(k) for k in doc)[:8])
    issue(f"no resources found (an object with keys: {keys or 'none'})")


def _unwrap_graph(
    doc: dict[str, object], loc: str, issues: list[InventoryIssue], depth: int
) -> Iterator[tuple[str, dict[str, object]]]:
    """Resource Graph ``{"data": ...}``: objectArray (a list) or table (columns and rows)."""
    for key in ("$skipToken", "skipToken", "skip_token"):
        token = doc.get(key)
        if isinstance(token, str) and token:
            issues.append(
                InventoryIssue(
                    loc, "", "Resource Graph result has a skip token: later pages are missing"
                )
            )
            break
    if str(doc.get("resultTruncated", "")).lower() == "true":
        issues.append(InventoryIssue(loc, "", "Resource Graph result is truncated"))
    data = doc["data"]
    if isinstance(data, list):
        for i, item in enumerate(data):
            yield from _unwrap(item, _pointer(loc, "data", i), issues, depth + 1)
        return
    if isinstance(data, dict) and isinstance(data.get("rows"), list):
        columns = data.get("columns")
        names: list[str] = []
        if isinstance(columns, list):
            for col in columns:
                name = col.get("name") if isinstance(col, dict) else col
                names.append(name if isinstance(name, str) else "")
        if not names or not all(names):
            issues.append(InventoryIssue(loc, "", "Resource Graph table without usable columns"))
            return
        rows = data["rows"]
        assert isinstance(rows, list)
        for i, row in enumerate(rows):
            row_loc = _pointer(loc, "data", "rows", i)
            if not isinstance(row, list) or len(row) != len(names):
                issues.append(
                    InventoryIssue(
                        row_loc, "", f"table row is not a list of {len(names)} cells: not read"
                    )
                )
                continue
            yield from _unwrap(dict(zip(names, row, strict=True)), row_loc, issues, depth + 1)
        return
    issues.append(
        InventoryIssue(loc, "", f"'data' is a JSON {_kind(data)}, not resources or a table")
    )


_SAMPLE: Final = 5
"""Items of a document looked at to tell logs from inventory."""


def _items(doc: object, *keys: str) -> list[object]:
    """The first items of a list, or of the list under one of ``keys`` of an object (the
    object itself when it has none)."""
    if isinstance(doc, list):
        return doc[:_SAMPLE]
    if isinstance(doc, Mapping):
        for key in keys:
            value = _lookup(doc, key)
            if isinstance(value, list):
                return value[:_SAMPLE]
        return [doc]
    return []


def _arm_resource(item: object) -> bool:
    """An ARM resource: an ``id`` that is a resource ID and a ``type`` with a namespace."""
    if not isinstance(item, Mapping):
        return False
    rid, rtype = _lookup(item, "id"), _lookup(item, "type")
    return (isinstance(rid, str) and parse_resource_id(rid) is not None
            and isinstance(rtype, str) and "/" in rtype)


def looks_like_inventory(doc: object) -> bool:
    """Is a decoded JSON document ARM resources (``az resource list``, ``az graph query``, an
    ARM list or a single resource) rather than registry logs? For the logs reader's "did you
    mean --inventory" hint."""
    items = _items(doc, "value", "data")
    return bool(items) and all(_arm_resource(i) for i in items)


def logs_hint(doc: object) -> str:
    """What registry logs ``doc`` holds, when it is logs rather than ARM resources (archive
    records, ``{"records": [...]}``, a Log Analytics export or query response); "" when it is
    not. For the inventory reader's "did you mean --logs" hint."""
    from pullpath.core.records import RecordError, parse_record

    tables = _lookup(doc, "tables") if isinstance(doc, Mapping) else None
    if isinstance(tables, list):
        for table in tables[:_SAMPLE]:
            columns = _lookup(table, "columns") if isinstance(table, Mapping) else None
            names = {_nk(c["name"]) for c in columns if isinstance(c, Mapping)
                     and isinstance(c.get("name"), str)} if isinstance(columns, list) else set()
            if "operationname" in names and names & {"calleripaddress", "loginserver"}:
                return "a Log Analytics query response of registry events"
        return ""
    items = _items(doc, "records")
    if not items or any(_arm_resource(i) for i in items):
        return ""
    found: list[str] = []
    for item in items:
        try:
            found.append(parse_record(item).table.value)
        except RecordError:
            continue
    if not found:
        return ""
    return f"registry log records ({', '.join(dict.fromkeys(found))})"


# --------------------------------------------------------------------------------------------
# reading one resource


@dataclass
class _Ctx:
    """Typed access to one resource's fields; wrong types become issues, never exceptions."""

    location: str
    resource_id: str
    issues: list[InventoryIssue]

    def issue(self, problem: str) -> None:
        self.issues.append(InventoryIssue(self.location, self.resource_id, problem))

    def get(self, obj: object, path: str, where: str = "") -> object | None:
        cur = obj
        walked = where
        for part in path.split("."):
            if cur is None:
                return None
            if not isinstance(cur, Mapping):
                self.issue(f"expected an object at {walked.rstrip('.')}, got {_kind(cur)}")
                return None
            cur = _field(cur, part)
            if cur is None:
                return None
            walked += part + "."
        return cur

    def s(self, obj: object, path: str, where: str = "") -> str:
        value = self.get(obj, path, where)
        return self._str(value, where + path)

    def _str(self, value: object, name: str) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            self.issue(f"expected a string at {name}, got {_kind(value)}")
            return ""
        if is_arm_expression(value):
            self.issue(f"unevaluated ARM expression in {name}: {value}")
            return ""
        return value.strip()

    def b(self, obj: object, path: str, where: str = "") -> bool | None:
        value = self.get(obj, path, where)
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        self.issue(f"expected true/false at {where + path}, got {_kind(value)}")
        return None

    def lst(self, obj: object, path: str, where: str = "") -> list[object]:
        value = self.get(obj, path, where)
        if value is None:
            return []
        if not isinstance(value, list):
            self.issue(f"expected an array at {where + path}, got {_kind(value)}")
            return []
        return value

    def objs(
        self, obj: object, path: str, where: str = ""
    ) -> list[tuple[str, Mapping[Any, object]]]:
        out: list[tuple[str, Mapping[Any, object]]] = []
        for i, item in enumerate(self.lst(obj, path, where)):
            name = f"{where}{path}[{i}]"
            if isinstance(item, Mapping):
                out.append((name + ".", item))
            elif item is not None:
                self.issue(f"expected an object at {name}, got {_kind(item)}")
        return out

    def strs(self, obj: object, path: str, where: str = "") -> tuple[str, ...]:
        items = self.lst(obj, path, where)
        return _uniq(self._str(v, f"{where}{path}[{i}]") for i, v in enumerate(items))

    def ref(self, obj: object, path: str, where: str = "") -> str:
        """The ``id`` of a ``{"id": ...}`` reference, normalised."""
        return norm_id(self.s(obj, path + ".id", where))

    def refs(self, obj: object, path: str, where: str = "") -> tuple[str, ...]:
        return _uniq(norm_id(self.s(item, "id", w)) for w, item in self.objs(obj, path, where))

    def ips(self, obj: object, path: str, where: str = "") -> tuple[str, ...]:
        """A list of addresses, or one comma-separated string (App Service)."""
        value = self.get(obj, path, where)
        if isinstance(value, str):
            return _uniq(p.strip() for p in self._str(value, where + path).split(","))
        return self.strs(obj, path, where)


@dataclass
class _Identity:
    principal_ids: list[str] = field(default_factory=list)
    client_ids: list[str] = field(default_factory=list)
    identity_ids: list[str] = field(default_factory=list)
    system: bool = False


@dataclass(frozen=True)
class _PendingCred:
    """A consumer's registry credential naming its identity by client id (App Service
    ``acrUserManagedIdentityID``, ACR task custom registries): resolved to the identity's
    resource id once every resource is read."""

    consumer_id: str
    server: str
    client_id: str


_Handler = Callable[["_Ctx", Mapping[Any, object], str, str], None]

_CONSUMER_TYPES: Final = {
    "microsoft.containerinstance/containergroups": ConsumerKind.ACI,
    "microsoft.app/containerapps": ConsumerKind.ACA,
    "microsoft.app/jobs": ConsumerKind.ACA,
    "microsoft.containerservice/managedclusters": ConsumerKind.AKS,
    "microsoft.web/sites": ConsumerKind.APP_SERVICE,
    "microsoft.containerregistry/registries/tasks": ConsumerKind.ACR_TASKS,
}


class InventoryBuilder:
    """Collects resources, then :meth:`finish` links them and returns the :class:`Inventory`."""

    def __init__(self) -> None:
        self._inv = Inventory()
        self._pecs: dict[str, dict[str, PrivateEndpointConnection]] = defaultdict(dict)
        self._replicas: dict[str, list[str]] = defaultdict(list)
        self._zone_names: dict[str, str] = {}
        self._zone_records: dict[str, dict[str, list[str]]] = defaultdict(dict)
        self._zone_links: dict[str, list[str]] = defaultdict(list)
        self._zone_link_counts: dict[str, int | None] = {}
        self._pending_creds: list[_PendingCred] = []
        self._task_registry: dict[str, str] = {}
        self._agent_pool_subnets: dict[str, list[str]] = defaultdict(list)
        self._task_pools: dict[str, str] = {}
        """ACR task agent pool id -> its subnet ("" when it has none)."""
        self._finished = False
        self._sparse = False
        self._location = ""
        self._origin: dict[int, dict[str, str]] = defaultdict(dict)
        """Where each table's records were first read: by ``id(table)``, then resource ID."""
        self._versions: dict[tuple[int, str], _Versions] = {}
        self._sparse_ids: dict[str, str] = {}
        """Resources read without their properties (``az resource list``), with where."""
        self._full_ids: set[str] = set()
        inv = self._inv
        self._what = {id(table): what for table, what in (
            (inv.vnets, "VNet"), (inv.subnets, "subnet"),
            (inv.private_endpoints, "private endpoint"), (inv.nics, "network interface"),
            (inv.public_ips, "public IP"), (inv.nat_gateways, "NAT gateway"),
            (inv.registries, "registry"), (inv.identities, "managed identity"),
            (inv.consumers, "consumer"), (inv.environments, "Container Apps environment"),
            (inv.role_assignments, "role assignment"),
            (inv.diagnostic_settings, "diagnostic setting"),
        )}

    # -- input -------------------------------------------------------------------------------

    def _put(self, table: dict[str, _D], key: str, value: _D, where: str = "") -> None:
        """Store a resource's record. The same resource read again (resource IDs compare
        case-insensitively) is kept as one more version: :meth:`finish` merges the versions
        field by field whatever their order (a version without a setting, such as
        ``az resource list`` output, fills only the blanks) and reports settings they give
        different values as a conflict (``Inventory.conflicts``)."""
        location = f"{self._location} ({where.rstrip('.')})" if where else self._location
        if self._sparse:
            self._sparse_ids.setdefault(key, location)
        else:
            self._full_ids.add(key)
        origin = self._origin[id(table)]
        first = origin.get(key)
        if first is None:  # a fragment (an identity seen by its consumers) is replaced
            table[key] = value
            origin[key] = location
            return
        versions = self._versions.get((id(table), key))
        if versions is None:
            what = self._what.get(id(table), "private endpoint connection")
            versions = _Versions(what, table, [(first, table[key])])
            self._versions[(id(table), key)] = versions
        versions.records.append((location, value))

    def add_issue(self, location: str, problem: str, resource_id: str = "") -> None:
        self._inv.issues.append(InventoryIssue(location, resource_id, problem))

    def add_file(self, path: str) -> None:
        self._inv.files.append(path)
        self.note_source_name(path)

    def add_skipped_file(self, path: str) -> None:
        self._inv.skipped_files.append(path)

    def note_source_name(self, name: str) -> None:
        """A file (base name) or REST operation named after role assignments or diagnostic
        settings carries that list, even when it is empty (``roleAssignments.json`` holding
        ``{"value": []}``)."""
        base = re.split(r"[\\/]", name)[-1]
        key = _nk(base.replace(" ", "").replace(".", ""))
        if "roleassignment" in key:
            self._inv.role_assignments_present = True
        if "diagnosticsetting" in key:
            self._inv.diagnostic_settings_present = True

    def add_document(self, doc: object, location: str) -> None:
        """A decoded JSON document in any container shape."""
        if isinstance(doc, dict):
            op = doc.get("operationId")
            if isinstance(op, str):
                self.note_source_name(op)
        logs = logs_hint(doc)
        if logs:
            self.add_issue(location, f"{logs}, not ARM resources: not read as inventory (did "
                                     "you mean --logs?)")
            return
        for loc, res in iter_resources(doc, location, self._inv.issues):
            self.add_resource(loc, res)

    def add_resource(self, location: str, res: object) -> None:
        """One resource dict (REST or SDK shape)."""
        self._inv.resources_seen += 1
        if not isinstance(res, Mapping):
            self.add_issue(location, f"not a resource: a JSON {_kind(res)}")
            return
        ctx = _Ctx(location, "", self._inv.issues)
        rid = norm_id(ctx.s(res, "id"))
        ctx.resource_id = rid
        given = ctx.s(res, "type").lower()
        inferred = type_of(rid)
        rtype = given or inferred
        if inferred.endswith("/diagnosticsettings"):
            rtype = "microsoft.insights/diagnosticsettings"  # some examples mislabel the type
        if not rid:
            self.add_issue(
                location, f"resource without an id (type {rtype or 'unknown'}): not read"
            )
            if rtype:
                self._inv.ignored_types[rtype] += 1
            return
        if not rtype:
            self.add_issue(location, "resource without a type: not read", rid)
            self._inv.ignored_types["(no type)"] += 1
            return
        handler = self._handler(rtype)
        self._sparse = not _has_properties(res)
        self._location = location
        if handler is None:
            self._inv.ignored_types[rtype] += 1
            return
        try:
            handler(ctx, res, rid, rtype)
        except Exception as exc:  # last resort: one bad resource never stops the others
            ctx.issue(f"could not read {rtype}: {type(exc).__name__}: {exc}")

    def _handler(self, rtype: str) -> _Handler | None:
        table: dict[str, _Handler] = {
            "microsoft.network/virtualnetworks": self._vnet,
            "microsoft.network/virtualnetworks/subnets": self._subnet_resource,
            "microsoft.network/privateendpoints": self._private_endpoint,
            "microsoft.network/networkinterfaces": self._nic,
            "microsoft.network/publicipaddresses": self._public_ip,
            "microsoft.network/natgateways": self._nat_gateway,
            "microsoft.containerregistry/registries": self._registry,
            "microsoft.containerregistry/registries/privateendpointconnections": self._registry_pec,
            "microsoft.containerregistry/registries/replications": self._replication,
            "microsoft.containerregistry/registries/agentpools": self._task_agent_pool,
            "microsoft.managedidentity/userassignedidentities": self._user_identity,
            "microsoft.app/managedenvironments": self._environment,
            "microsoft.containerservice/managedclusters/agentpools": self._agent_pool,
            "microsoft.authorization/roleassignments": self._role_assignment,
            "microsoft.insights/diagnosticsettings": self._diagnostic_setting,
            "microsoft.network/privatednszones": self._dns_zone,
            "microsoft.network/privatednszones/a": self._dns_a_record,
            "microsoft.network/privatednszones/virtualnetworklinks": self._dns_link,
        }
        if rtype in table:
            return table[rtype]
        if rtype in _CONSUMER_TYPES:
            return self._consumer
        if rtype.startswith("microsoft.network/") and rtype.endswith("/privatednszonegroups"):
            return self._dns_zone_group
        return None

    # -- network -----------------------------------------------------------------------------

    def _vnet(self, c: _Ctx, res: Mapping[Any, object], rid: str, rtype: str) -> None:
        location = norm_location(c.s(res, "location"))
        subnet_ids = [self._subnet(c, sub, w, rid) for w, sub in c.objs(res, "subnets")]
        self._put(
            self._inv.vnets,
            rid,
            VirtualNetwork(
                id=rid,
                name=c.s(res, "name") or name_of(rid),
                location=location,
                address_prefixes=c.strs(res, "addressSpace.addressPrefixes"),
                subnet_ids=_uniq(subnet_ids),
            ),
        )

    def _subnet_resource(self, c: _Ctx, res: Mapping[Any, object], rid: str, rtype: str) -> None:
        self._subnet(c, res, "", parent_of(rid, "subnets"))

    def _subnet(self, c: _Ctx, sub: Mapping[Any, object], where: str, vnet_id: str) -> str:
        name = c.s(sub, "name", where)
        sid = norm_id(c.s(sub, "id", where))
        if not sid:
            if not (name and vnet_id):
                c.issue(f"subnet without id or name at {where.rstrip('.') or 'subnet'}: not read")
                return ""
            sid = f"{vnet_id}/subnets/{name.lower()}"
        given = _uniq([c.s(sub, "addressPrefix", where), *c.strs(sub, "addressPrefixes", where)])
        prefixes = tuple(p for p in given if _usable_prefix(c, name or name_of(sid), p))
        delegations = _uniq(c.s(d, "serviceName", w) for w, d in c.objs(sub, "delegations", where))
        self._put(
            self._inv.subnets,
            sid,
            Subnet(
                id=sid,
                name=name or name_of(sid),
                vnet_id=vnet_id or parent_of(sid, "subnets"),
                prefixes=prefixes,
                delegations=delegations,
                nat_gateway_id=c.ref(sub, "natGateway", where),
            ),
            where,
        )
        return sid

    def _private_endpoint(self, c: _Ctx, res: Mapping[Any, object], rid: str, rtype: str) -> None:
        targets: list[str] = []
        states: list[str] = []
        groups: list[str] = []
        for path in ("privateLinkServiceConnections", "manualPrivateLinkServiceConnections"):
            for w, conn in c.objs(res, path):
                targets.append(norm_id(c.s(conn, "privateLinkServiceId", w)))
                states.append(c.s(conn, "privateLinkServiceConnectionState.status", w))
                groups.extend(c.strs(conn, "groupIds", w))
        dns: list[tuple[str, tuple[str, ...]]] = []
        for w, cfg in c.objs(res, "customDnsConfigs"):
            dns.append((c.s(cfg, "fqdn", w).lower(), c.strs(cfg, "ipAddresses", w)))
        ips = [c.s(cfg, "privateIPAddress", w) for w, cfg in c.objs(res, "ipConfigurations")]
        ips.extend(ip for _, addrs in dns for ip in addrs)
        self._put(
            self._inv.private_endpoints,
            rid,
            PrivateEndpoint(
                id=rid,
                name=c.s(res, "name") or name_of(rid),
                location=norm_location(c.s(res, "location")),
                subnet_id=c.ref(res, "subnet"),
                target_ids=tuple(targets),
                connection_states=tuple(states),
                group_ids=_uniq(groups),
                nic_ids=c.refs(res, "networkInterfaces"),
                private_ips=_uniq(ips),
                dns_records=tuple(dns),
            ),
        )

    def _nic(self, c: _Ctx, res: Mapping[Any, object], rid: str, rtype: str) -> None:
        configs: list[IpConfiguration] = []
        for w, cfg in c.objs(res, "ipConfigurations"):
            configs.append(
                IpConfiguration(
                    name=c.s(cfg, "name", w),
                    private_ip=c.s(cfg, "privateIPAddress", w),
                    subnet_id=c.ref(cfg, "subnet", w),
                    public_ip_id=c.ref(cfg, "publicIPAddress", w),
                    member_name=c.s(cfg, "privateLinkConnectionProperties.requiredMemberName", w),
                    fqdns=c.strs(cfg, "privateLinkConnectionProperties.fqdns", w),
                )
            )
        self._put(
            self._inv.nics,
            rid,
            NetworkInterface(
                id=rid,
                name=c.s(res, "name") or name_of(rid),
                ip_configurations=tuple(configs),
                private_endpoint_id=c.ref(res, "privateEndpoint"),
                attached_to=c.ref(res, "virtualMachine"),
            ),
        )

    def _public_ip(self, c: _Ctx, res: Mapping[Any, object], rid: str, rtype: str) -> None:
        self._put(
            self._inv.public_ips,
            rid,
            PublicIp(
                id=rid,
                name=c.s(res, "name") or name_of(rid),
                ip_address=c.s(res, "ipAddress"),
                attached_to=c.ref(res, "ipConfiguration") or c.ref(res, "natGateway"),
                prefix_id=c.ref(res, "publicIPPrefix"),
            ),
        )

    def _nat_gateway(self, c: _Ctx, res: Mapping[Any, object], rid: str, rtype: str) -> None:
        self._put(
            self._inv.nat_gateways,
            rid,
            NatGateway(
                id=rid,
                name=c.s(res, "name") or name_of(rid),
                public_ip_ids=_uniq(
                    [*c.refs(res, "publicIpAddresses"), *c.refs(res, "publicIpAddressesV6")]
                ),
                public_ip_prefix_ids=_uniq(
                    [*c.refs(res, "publicIpPrefixes"), *c.refs(res, "publicIpPrefixesV6")]
                ),
                subnet_ids=c.refs(res, "subnets"),
            ),
        )

    # -- registry ----------------------------------------------------------------------------

    def _registry(self, c: _Ctx, res: Mapping[Any, object], rid: str, rtype: str) -> None:
        rules: list[str] = []
        for w, rule in c.objs(res, "networkRuleSet.ipRules"):
            action = c.s(rule, "action", w)
            if action and action.lower() != "allow":
                continue
            # REST "value"; the SDK model calls it ip_address_or_range
            rules.append(c.s(rule, "value", w) or c.s(rule, "ipAddressOrRange", w))
        pecs: list[PrivateEndpointConnection] = []
        for w, pec in c.objs(res, "privateEndpointConnections"):
            pecs.append(self._pec(c, pec, w))
        self._put(
            self._inv.registries,
            rid,
            Registry(
                id=rid,
                name=c.s(res, "name") or name_of(rid),
                location=norm_location(c.s(res, "location")),
                login_server=c.s(res, "loginServer").lower(),
                sku=c.s(res, "sku.name"),
                public_network_access=c.s(res, "publicNetworkAccess"),
                default_action=c.s(res, "networkRuleSet.defaultAction"),
                ip_rules=_uniq(rules),
                bypass=c.s(res, "networkRuleBypassOptions"),
                bypass_for_tasks=c.b(res, "networkRuleBypassAllowedForTasks"),
                private_endpoint_connections=tuple(
                    p for p in pecs if p.id or p.private_endpoint_id
                ),
                data_endpoint_enabled=c.b(res, "dataEndpointEnabled"),
                admin_user_enabled=c.b(res, "adminUserEnabled"),
                **registry_settings(c, res),
            ),
        )

    @staticmethod
    def _pec(c: _Ctx, pec: Mapping[Any, object], where: str) -> PrivateEndpointConnection:
        return PrivateEndpointConnection(
            id=norm_id(c.s(pec, "id", where)),
            private_endpoint_id=c.ref(pec, "privateEndpoint", where),
            status=c.s(pec, "privateLinkServiceConnectionState.status", where),
        )

    def _registry_pec(self, c: _Ctx, res: Mapping[Any, object], rid: str, rtype: str) -> None:
        registry_id = parent_of(rid, "privateendpointconnections")
        self._put(self._pecs[registry_id], rid, self._pec(c, res, ""))

    def _task_agent_pool(self, c: _Ctx, res: Mapping[Any, object], rid: str, rtype: str) -> None:
        self._task_pools[rid] = norm_id(c.s(res, "virtualNetworkSubnetResourceId"))

    def _replication(self, c: _Ctx, res: Mapping[Any, object], rid: str, rtype: str) -> None:
        location = norm_location(c.s(res, "location"))
        if location:
            self._replicas[parent_of(rid, "replications")].append(location)

    # -- identities --------------------------------------------------------------------------

    def _user_identity(self, c: _Ctx, res: Mapping[Any, object], rid: str, rtype: str) -> None:
        self._put(
            self._inv.identities,
            rid,
            ManagedIdentity(
                id=rid,
                name=c.s(res, "name") or name_of(rid),
                principal_id=norm_id(c.s(res, "principalId")),
                client_id=norm_id(c.s(res, "clientId")),
            ),
        )

    def _identity(self, c: _Ctx, res: Mapping[Any, object], rid: str, name: str) -> _Identity:
        """``identity`` of a consumer; its identities also go into ``Inventory.identities``."""
        out = _Identity()
        ident = c.get(res, "identity")
        if ident is None:
            return out
        if not isinstance(ident, Mapping):
            c.issue(f"expected an object at identity, got {_kind(ident)}")
            return out
        kind = c.s(ident, "type", "identity.").replace(" ", "").lower()
        out.system = "systemassigned" in kind
        principal = norm_id(c.s(ident, "principalId", "identity."))
        if principal:
            out.principal_ids.append(principal)
            _merge_put(self._inv.identities, rid, ManagedIdentity(rid, name, principal, ""))
        uais = c.get(ident, "userAssignedIdentities", "identity.")
        if uais is not None and not isinstance(uais, Mapping):
            c.issue(f"expected an object at identity.userAssignedIdentities, got {_kind(uais)}")
        elif isinstance(uais, Mapping):
            for key, details in uais.items():
                uid = norm_id(c._str(key, "identity.userAssignedIdentities key"))
                if not uid:
                    continue
                out.identity_ids.append(uid)
                if details is not None and not isinstance(details, Mapping):
                    c.issue(f"expected an object at identity.userAssignedIdentities[{key}]")
                    continue
                p = norm_id(c.s(details, "principalId", "identity.userAssignedIdentities.*."))
                cl = norm_id(c.s(details, "clientId", "identity.userAssignedIdentities.*."))
                out.principal_ids.append(p)
                out.client_ids.append(cl)
                if p or cl:
                    _merge_put(self._inv.identities, uid, ManagedIdentity(uid, name_of(uid), p, cl))
        return out

    @staticmethod
    def _credential(server: str, identity: str, username: str) -> tuple[RegistryCredential, str]:
        """A credential from (server, identity, username); also the identity's client id
        when it is given as one (resolved to a resource id at the end)."""
        server = server.lower()
        ident = identity.strip()
        if ident.lower() in ("system", "[system]"):
            return RegistryCredential(server, "system-assigned-identity"), ""
        if subscription_of(ident):
            return RegistryCredential(server, "user-assigned-identity", norm_id(ident)), ""
        if _GUID.match(ident):
            return RegistryCredential(server, "user-assigned-identity"), ident.lower()
        if ident:
            return RegistryCredential(server, "unknown"), ""
        if username:
            return RegistryCredential(server, "password", username=username), ""
        return RegistryCredential(server, "unknown"), ""

    # -- consumers ---------------------------------------------------------------------------

    def _consumer(self, c: _Ctx, res: Mapping[Any, object], rid: str, rtype: str) -> None:
        kind = _CONSUMER_TYPES[rtype]
        name = c.s(res, "name") or name_of(rid)
        location = norm_location(c.s(res, "location"))
        known = _has_properties(res)
        if kind is ConsumerKind.APP_SERVICE and not self._is_container_site(c, res):
            self._inv.ignored_types[rtype] += 1
            return
        ident = self._identity(c, res, rid, name)
        parts = _ConsumerParts()
        if kind is ConsumerKind.ACI:
            self._aci(c, res, parts, known)
        elif kind is ConsumerKind.ACA:
            self._aca(c, res, parts)
        elif kind is ConsumerKind.AKS:
            self._aks(c, res, rid, parts, known)
        elif kind is ConsumerKind.APP_SERVICE:
            self._web(c, res, parts, known)
        else:
            self._task(c, res, rid, parts, ident)
        creds: list[RegistryCredential] = []
        for server, identity, username in parts.creds:
            cred, client_id = self._credential(server, identity, username)
            if client_id:
                self._pending_creds.append(_PendingCred(rid, cred.server, client_id))
                parts.client_ids.append(client_id)
            creds.append(cred)
        creds.extend(parts.fixed_creds)
        consumer = Consumer(
            kind=kind,
            id=rid,
            name=name,
            location=location,
            subnet_ids=_uniq(parts.subnet_ids),
            private_ips=_uniq(parts.private_ips),
            public_ips=_uniq(parts.public_ips),
            principal_ids=_uniq([*ident.principal_ids, *parts.principal_ids]),
            client_ids=_uniq([*ident.client_ids, *parts.client_ids]),
            identity_ids=_uniq([*ident.identity_ids, *parts.identity_ids]),
            system_identity=ident.system,
            credentials=tuple(creds),
            images=_uniq(parts.images),
            environment_id=parts.environment_id,
            facts=tuple(parts.facts.items()),
            public_ip_ids=_uniq(parts.public_ip_ids),
        )
        self._put(self._inv.consumers, rid, consumer)

    def _aci(self, c: _Ctx, res: Mapping[Any, object], p: _ConsumerParts, known: bool) -> None:
        entries = c.objs(res, "subnetIds")
        p.subnet_ids = [norm_id(c.s(e, "id", w)) for w, e in entries]
        ip = c.s(res, "ipAddress.ip")
        if c.s(res, "ipAddress.type").lower() == "private":
            p.private_ips.append(ip)
        else:
            p.public_ips.append(ip)
        for path in ("containers", "initContainers"):
            p.images.extend(c.s(ct, "image", w) for w, ct in c.objs(res, path))
        for w, cred in c.objs(res, "imageRegistryCredentials"):
            # the password is never read
            p.creds.append(
                (c.s(cred, "server", w), c.s(cred, "identity", w), c.s(cred, "username", w))
            )
        os_type = c.s(res, "osType").lower()
        if os_type:
            p.facts["os"] = os_type
        if any(p.subnet_ids):
            p.facts["in_vnet"] = "true"
        elif known and not entries:
            p.facts["in_vnet"] = "false"
        # subnetIds present but unusable (e.g. an ARM expression): in_vnet stays unknown

    def _aca(self, c: _Ctx, res: Mapping[Any, object], p: _ConsumerParts) -> None:
        p.environment_id = norm_id(c.s(res, "managedEnvironmentId") or c.s(res, "environmentId"))
        for path in ("template.containers", "template.initContainers"):
            p.images.extend(c.s(ct, "image", w) for w, ct in c.objs(res, path))
        for w, reg in c.objs(res, "configuration.registries"):
            p.creds.append(
                (c.s(reg, "server", w), c.s(reg, "identity", w), c.s(reg, "username", w))
            )
        p.public_ips.extend(c.ips(res, "outboundIpAddresses"))

    def _aks(
        self, c: _Ctx, res: Mapping[Any, object], rid: str, p: _ConsumerParts, known: bool
    ) -> None:
        pools = c.objs(res, "agentPoolProfiles")
        node_subnets = [norm_id(c.s(pool, "vnetSubnetID", w)) for w, pool in pools]
        pod_subnets = [norm_id(c.s(pool, "podSubnetID", w)) for w, pool in pools]
        p.subnet_ids = [*node_subnets, *pod_subnets]
        outbound = c.s(res, "networkProfile.outboundType")
        if outbound:
            p.facts["outbound_type"] = outbound
        if any(node_subnets):
            p.facts["in_vnet"] = "true"
        elif known and pools:
            p.facts["in_vnet"] = "false"
        p.public_ip_ids = list(aks_egress_ip_ids(c, res))
        p.facts.update(aks_settings(c, res))
        kubelet = c.get(res, "identityProfile")
        if isinstance(kubelet, Mapping):
            kid = _lookup(kubelet, "kubeletidentity")
            if kid is not None:
                w = "identityProfile.kubeletidentity."
                resource_id = norm_id(c.s(kid, "resourceId", w))
                object_id = norm_id(c.s(kid, "objectId", w))
                client_id = norm_id(c.s(kid, "clientId", w))
                p.principal_ids.append(object_id)
                p.client_ids.append(client_id)
                p.identity_ids.append(resource_id)
                p.fixed_creds.append(RegistryCredential("", "kubelet-identity", resource_id))
                if resource_id and (object_id or client_id):
                    identity = ManagedIdentity(
                        resource_id, name_of(resource_id), object_id, client_id
                    )
                    _merge_put(self._inv.identities, resource_id, identity)
        elif kubelet is not None:
            c.issue(f"expected an object at identityProfile, got {_kind(kubelet)}")
        sp_client = c.s(res, "servicePrincipalProfile.clientId")
        if (
            sp_client
            and sp_client.lower() != "msi"
            and not any(cr.method == "kubelet-identity" for cr in p.fixed_creds)
        ):
            p.fixed_creds.append(RegistryCredential("", "service-principal", username=sp_client))

    def _is_container_site(self, c: _Ctx, res: Mapping[Any, object]) -> bool:
        kind = c.s(res, "kind").lower()
        if "container" in kind:
            return True
        return any(v.upper().startswith("DOCKER|") for v in self._fx_versions(c, res))

    @staticmethod
    def _fx_versions(c: _Ctx, res: Mapping[Any, object]) -> list[str]:
        """linuxFxVersion / windowsFxVersion from siteConfig, or from Resource Graph's
        ``siteProperties.properties`` name/value list."""
        found: list[str] = []
        for name in ("linuxFxVersion", "windowsFxVersion"):
            value = c.s(res, f"siteConfig.{name}")
            if value:
                found.append(value)
        if not found:
            for w, prop in c.objs(res, "siteProperties.properties"):
                pname = c.s(prop, "name", w).lower()
                if pname in ("linuxfxversion", "windowsfxversion"):
                    value = c.s(prop, "value", w)
                    if value:
                        found.append(value)
        return found

    def _web(self, c: _Ctx, res: Mapping[Any, object], p: _ConsumerParts, known: bool) -> None:
        kind = c.s(res, "kind").lower()
        fx = self._fx_versions(c, res)
        windows_fx = c.s(res, "siteConfig.windowsFxVersion")
        for value in fx:
            if "|" in value and value.split("|", 1)[0].upper() == "DOCKER":
                p.images.append(value.split("|", 1)[1].strip())
        if "windows" in kind or windows_fx:
            p.facts["os"] = "windows"
        elif "linux" in kind or fx:
            p.facts["os"] = "linux"
        subnet = norm_id(c.s(res, "virtualNetworkSubnetId"))
        p.subnet_ids.append(subnet)
        settings = self._app_settings(c, res)
        flags = web_image_pull_flags(c, res)
        if "WEBSITE_PULL_IMAGE_OVER_VNET" in settings:
            flags.append(settings["WEBSITE_PULL_IMAGE_OVER_VNET"].strip().lower() in ("true", "1"))
        if any(f is True for f in flags):
            p.facts["vnet_image_pull"] = "true"
        elif any(f is False for f in flags):
            p.facts["vnet_image_pull"] = "false"
        if subnet:
            p.facts["in_vnet"] = "true"
        elif known:
            p.facts["in_vnet"] = "false"
        p.public_ips.extend(c.ips(res, "outboundIpAddresses"))
        servers = _uniq(image_registry(i) for i in p.images)
        use_mi = c.b(res, "siteConfig.acrUseManagedIdentityCreds")
        if use_mi:
            uami = c.s(res, "siteConfig.acrUserManagedIdentityID")
            for server in servers or ("",):
                p.creds.append((server, uami or "system", ""))
        elif "DOCKER_REGISTRY_SERVER_USERNAME" in settings:
            url = settings.get("DOCKER_REGISTRY_SERVER_URL", "")
            server = re.sub(r"^https?://", "", url.strip(), flags=re.IGNORECASE).rstrip("/")
            username = settings["DOCKER_REGISTRY_SERVER_USERNAME"]
            for srv in _uniq([server]) or servers or ("",):
                p.creds.append((srv, "", username))

    @staticmethod
    def _app_settings(c: _Ctx, res: Mapping[Any, object]) -> dict[str, str]:
        """siteConfig.appSettings as a list of {name, value} or an object (passwords skipped)."""
        raw = c.get(res, "siteConfig.appSettings")
        out: dict[str, str] = {}
        pairs: list[tuple[object, object]] = []
        if isinstance(raw, list):
            for item in raw:
                if isinstance(item, Mapping):
                    pairs.append((_lookup(item, "name"), _lookup(item, "value")))
        elif isinstance(raw, Mapping):
            pairs.extend(raw.items())
        elif raw is not None:
            c.issue(f"expected an array at siteConfig.appSettings, got {_kind(raw)}")
        for key, value in pairs:
            if isinstance(key, str) and isinstance(value, str) and "PASSWORD" not in key.upper():
                out[key.upper()] = value
        return out

    def _task(
        self, c: _Ctx, res: Mapping[Any, object], rid: str, p: _ConsumerParts, ident: _Identity
    ) -> None:
        registry_id = parent_of(rid, "tasks")
        self._task_registry[rid] = registry_id
        p.facts.update(task_settings(c, res))
        p.facts["system_identity"] = "true" if ident.system else "false"
        # the task's own registry: server filled in at the end from the parent registry
        if ident.system:
            p.fixed_creds.append(RegistryCredential("", "system-assigned-identity"))
        elif ident.identity_ids:
            p.fixed_creds.append(
                RegistryCredential("", "user-assigned-identity", ident.identity_ids[0])
            )
        else:
            p.fixed_creds.append(RegistryCredential("", "unknown"))
        custom = c.get(res, "credentials.customRegistries")
        if isinstance(custom, Mapping):
            for server, cred in custom.items():
                if not isinstance(server, str) or not isinstance(cred, Mapping):
                    continue
                w = f"credentials.customRegistries[{server}]."
                username = ""
                if c.s(cred, "userName.type", w).lower() != "vaultsecret":
                    username = c.s(cred, "userName.value", w)
                p.creds.append((server, c.s(cred, "identity", w), username))
        elif custom is not None:
            c.issue(f"expected an object at credentials.customRegistries, got {_kind(custom)}")

    def _environment(self, c: _Ctx, res: Mapping[Any, object], rid: str, rtype: str) -> None:
        self._put(
            self._inv.environments,
            rid,
            ManagedEnvironment(
                id=rid,
                name=c.s(res, "name") or name_of(rid),
                location=norm_location(c.s(res, "location")),
                infrastructure_subnet_id=norm_id(
                    c.s(res, "vnetConfiguration.infrastructureSubnetId")
                ),
                internal=c.b(res, "vnetConfiguration.internal"),
                static_ip=c.s(res, "staticIp"),
                outbound_ips=c.ips(res, "outboundIpAddresses"),
                facts=tuple(environment_settings(c, res).items()),
            ),
        )

    def _agent_pool(self, c: _Ctx, res: Mapping[Any, object], rid: str, rtype: str) -> None:
        cluster = parent_of(rid, "agentpools")
        for path in ("vnetSubnetID", "podSubnetID"):
            subnet = norm_id(c.s(res, path))
            if subnet:
                self._agent_pool_subnets[cluster].append(subnet)

    # -- access, monitoring, DNS -------------------------------------------------------------

    def _role_assignment(self, c: _Ctx, res: Mapping[Any, object], rid: str, rtype: str) -> None:
        self._inv.role_assignments_present = True
        self._put(
            self._inv.role_assignments,
            rid,
            RoleAssignment(
                id=rid,
                scope=norm_id(c.s(res, "scope")),
                role_definition_id=norm_id(c.s(res, "roleDefinitionId")),
                principal_id=norm_id(c.s(res, "principalId")),
                principal_type=c.s(res, "principalType"),
            ),
        )

    def _diagnostic_setting(self, c: _Ctx, res: Mapping[Any, object], rid: str, rtype: str) -> None:
        self._inv.diagnostic_settings_present = True
        target = parent_of(rid, "diagnosticsettings")
        categories: list[str] = []
        for w, log in c.objs(res, "logs"):
            if c.b(log, "enabled", w) is True:
                categories.append(c.s(log, "category", w) or c.s(log, "categoryGroup", w))
        destinations = [
            norm_id(c.s(res, key))
            for key in ("workspaceId", "storageAccountId", "eventHubAuthorizationRuleId")
        ]
        self._put(
            self._inv.diagnostic_settings,
            rid,
            DiagnosticSetting(
                id=rid,
                target_id=target,
                categories=_uniq(categories),
                destinations=_uniq(destinations),
            ),
        )

    def _dns_zone(self, c: _Ctx, res: Mapping[Any, object], rid: str, rtype: str) -> None:
        self._zone_names[rid] = (c.s(res, "name") or name_of(rid)).lower()
        self._zone_link_counts[rid] = zone_link_count(c, res)

    def _dns_a_record(self, c: _Ctx, res: Mapping[Any, object], rid: str, rtype: str) -> None:
        zone = parent_of(rid, "a")
        name = (c.s(res, "name") or name_of(rid)).lower()
        addrs = [c.s(r, "ipv4Address", w) for w, r in c.objs(res, "aRecords")]
        self._add_records(zone, name, addrs)

    def _add_records(self, zone: str, name: str, addrs: Iterable[str]) -> None:
        if not zone or not name:
            return
        self._zone_names.setdefault(zone, name_of(zone))
        known = self._zone_records[zone].setdefault(name, [])
        known.extend(a for a in addrs if a and a not in known)

    def _dns_link(self, c: _Ctx, res: Mapping[Any, object], rid: str, rtype: str) -> None:
        zone = parent_of(rid, "virtualnetworklinks")
        vnet = c.ref(res, "virtualNetwork")
        if zone:
            self._zone_names.setdefault(zone, name_of(zone))
            if vnet and vnet not in self._zone_links[zone]:
                self._zone_links[zone].append(vnet)

    def _dns_zone_group(self, c: _Ctx, res: Mapping[Any, object], rid: str, rtype: str) -> None:
        for w, cfg in c.objs(res, "privateDnsZoneConfigs"):
            zone = norm_id(c.s(cfg, "privateDnsZoneId", w))
            if not zone:
                continue
            self._zone_names.setdefault(zone, name_of(zone))
            for w2, rs in c.objs(cfg, "recordSets", w):
                if c.s(rs, "recordType", w2).upper() not in ("A", ""):
                    continue
                self._add_records(
                    zone, c.s(rs, "recordSetName", w2).lower(), c.strs(rs, "ipAddresses", w2)
                )

    # -- linking -----------------------------------------------------------------------------

    def finish(self) -> Inventory:
        """Link what refers to what across resources and return the inventory (once)."""
        if self._finished:
            raise RuntimeError("InventoryBuilder.finish() called twice")
        self._finished = True
        inv = self._inv
        self._reconcile_versions(inv)
        self._note_sparse(inv)
        self._link_network(inv)
        self._link_registries(inv)
        self._link_consumers(inv)
        for zone, name in self._zone_names.items():
            inv.dns_zones[zone] = PrivateDnsZone(
                id=zone,
                name=name,
                a_records=tuple(
                    (rname, tuple(addrs)) for rname, addrs in self._zone_records[zone].items()
                ),
                linked_vnet_ids=tuple(self._zone_links[zone]),
                link_count=self._zone_link_counts.get(zone),
            )
        return inv

    def _reconcile_versions(self, inv: Inventory) -> None:
        """Every resource read more than once becomes one record (``_reconcile``); versions
        that set a field to different values are an inventory issue naming every location."""
        for (_, key), versions in self._versions.items():
            merged, clashes = _reconcile(versions.records)
            versions.table[key] = merged
            if not clashes:
                inv.duplicates_merged += len(versions.records) - 1
                continue
            conflict = ResourceConflict(
                resource_id=key,
                what=versions.what,
                fields=tuple(name for name, _ in clashes),
                locations=tuple(loc for loc, _ in versions.records),
                detail="; ".join(f"{name}: {said}" for name, said in clashes[:3])
                + (f"; +{len(clashes) - 3} more setting(s)" if len(clashes) > 3 else ""),
                versions=tuple(rec for _, rec in versions.records),
            )
            inv.conflicts[key] = conflict
            consequence = _CONSEQUENCE.get(versions.what, _TAKEN_AS_UNKNOWN)
            inv.issues.append(InventoryIssue(versions.records[0][0], key,
                                             f"{conflict.describe()}: {consequence}"))
            if versions.table is inv.consumers and "registry credentials" in conflict.fields:
                self._pending_creds = [pc for pc in self._pending_creds if pc.consumer_id != key]

    def _note_sparse(self, inv: Inventory) -> None:
        """Resources given only without their properties: one issue for all, with the commands
        that export them whole."""
        sparse = [rid for rid in self._sparse_ids if rid not in self._full_ids]
        inv.without_properties = tuple(sparse)
        if sparse:
            inv.issues.append(InventoryIssue(self._sparse_ids[sparse[0]], "",
                                             without_properties_problem(sparse)))

    @staticmethod
    def _link_network(inv: Inventory) -> None:
        # every pass is linear: children are indexed by their parent's id first
        children: dict[str, list[str]] = defaultdict(list)
        for subnet in inv.subnets.values():
            children[subnet.vnet_id].append(subnet.id)
        for vid, vnet in list(inv.vnets.items()):
            listed = children.get(vid)
            if listed:
                inv.vnets[vid] = replace(vnet, subnet_ids=_uniq([*vnet.subnet_ids, *listed]))
        for nat in inv.nat_gateways.values():
            for sid in nat.subnet_ids:
                sub = inv.subnets.get(sid)
                if sub is not None and not sub.nat_gateway_id:
                    inv.subnets[sid] = replace(sub, nat_gateway_id=nat.id)
            for pid in nat.public_ip_ids:
                pip = inv.public_ips.get(pid)
                if pip is not None and not pip.attached_to:
                    inv.public_ips[pid] = replace(pip, attached_to=nat.id)
        for sid, sub in list(inv.subnets.items()):
            parent = inv.vnets.get(sub.vnet_id)
            if parent is not None and not sub.location:
                inv.subnets[sid] = replace(sub, location=parent.location)
        pe_nics: dict[str, list[str]] = defaultdict(list)
        for nic in inv.nics.values():
            if nic.private_endpoint_id:
                pe_nics[nic.private_endpoint_id].append(nic.id)
        position = {nid: i for i, nid in enumerate(inv.nics)}
        for pid, pe in list(inv.private_endpoints.items()):
            # the NICs it names and the NICs that name it, in inventory order
            nic_ids = {*pe_nics.get(pid, ()), *(n for n in pe.nic_ids if n in inv.nics)}
            nic_ips = [
                cfg.private_ip
                for nid in sorted(nic_ids, key=position.__getitem__)
                for cfg in inv.nics[nid].ip_configurations
            ]
            if nic_ips:
                inv.private_endpoints[pid] = replace(
                    pe, private_ips=_uniq([*pe.private_ips, *nic_ips])
                )

    def _link_registries(self, inv: Inventory) -> None:
        for rid in {*self._pecs, *self._replicas}:
            if rid and rid not in inv.registries:
                inv.registries[rid] = Registry(
                    id=rid,
                    name=name_of(rid),
                    location="",
                    login_server="",
                    sku="",
                    public_network_access="",
                    default_action="",
                    ip_rules=(),
                    bypass="",
                    bypass_for_tasks=None,
                    private_endpoint_connections=(),
                    data_endpoint_enabled=None,
                    admin_user_enabled=None,
                )
        for rid, pecs in self._pecs.items():
            reg = inv.registries.get(rid)
            if reg is None:
                continue
            merged = {p.id or p.private_endpoint_id: p for p in reg.private_endpoint_connections}
            merged.update(pecs)
            inv.registries[rid] = replace(reg, private_endpoint_connections=tuple(merged.values()))
        for rid, locations in self._replicas.items():
            reg = inv.registries.get(rid)
            if reg is not None:
                inv.registries[rid] = replace(
                    reg, replica_locations=_uniq([*reg.replica_locations, *locations])
                )

    def _link_consumers(self, inv: Inventory) -> None:
        by_client = {i.client_id: i for i in inv.identities.values() if i.client_id}
        pending: dict[str, list[_PendingCred]] = defaultdict(list)
        for pc in self._pending_creds:
            pending[pc.consumer_id].append(pc)
        pip_addr = {p.id: p.ip_address for p in inv.public_ips.values() if p.ip_address}
        for cid, con in list(inv.consumers.items()):
            changes: dict[str, Any] = {}
            principals = list(con.principal_ids)
            clients = list(con.client_ids)
            identity_ids = list(con.identity_ids)
            creds = list(con.credentials)
            for pc in pending.get(cid, []):
                ident = by_client.get(pc.client_id)
                if ident is None:
                    continue  # the identity resource is not in the inventory
                identity_ids.append(ident.id)
                creds = [
                    replace(cr, identity_id=ident.id)
                    if (
                        cr.server == pc.server
                        and cr.method == "user-assigned-identity"
                        and not cr.identity_id
                    )
                    else cr
                    for cr in creds
                ]
            for uid in identity_ids:
                ident = inv.identities.get(uid)
                if ident is not None:
                    principals.append(ident.principal_id)
                    clients.append(ident.client_id)
            facts = dict(con.facts)
            subnet_ids = list(con.subnet_ids)
            public_ips = list(con.public_ips)
            if con.kind is ConsumerKind.ACA and con.environment_id:
                env = inv.environments.get(con.environment_id)
                if env is not None:
                    subnet_ids.append(env.infrastructure_subnet_id)
                    facts["in_vnet"] = "true" if env.infrastructure_subnet_id else "false"
                    if env.internal is not None:
                        facts["internal"] = "true" if env.internal else "false"
                    public_ips.extend(env.outbound_ips)
            if con.kind is ConsumerKind.AKS:
                subnet_ids.extend(self._agent_pool_subnets.get(cid, []))
                if any(subnet_ids) and facts.get("in_vnet") != "true":
                    facts["in_vnet"] = "true"
                public_ips.extend(pip_addr.get(p, "") for p in con.public_ip_ids)
            if con.kind is ConsumerKind.ACR_TASKS:
                subnet_ids.extend(task_pool_subnet(facts, self._task_registry.get(cid, ""),
                                                   self._task_pools))
                reg = inv.registries.get(self._task_registry.get(cid, ""))
                server = reg.login_server if reg is not None else ""
                # the task's own registry (custom registries always name their server)
                creds = [replace(cr, server=server) if not cr.server else cr for cr in creds]
            changes.update(
                principal_ids=_uniq(principals),
                client_ids=_uniq(clients),
                identity_ids=_uniq(identity_ids),
                credentials=tuple(dict.fromkeys(creds)),
                facts=tuple(facts.items()),
                subnet_ids=_uniq(subnet_ids),
                public_ips=_uniq(public_ips),
            )
            inv.consumers[cid] = replace(con, **changes)


@dataclass
class _Versions:
    """The records of one resource read more than once, with where each was read."""

    what: str
    table: dict[str, Any]
    records: list[tuple[str, Any]]


_TAKEN_AS_UNKNOWN: Final = "those settings are taken as unknown (export the resource once)"
_NOT_JUDGED: Final = ("the paths of its flows are not judged (unknown) until the inventory "
                      "gives it once")
_CONSEQUENCE: Final = {
    "registry": _NOT_JUDGED,
    "private endpoint connection": "the paths of its registry's flows are not judged (unknown) "
                                   "until the inventory gives it once",
    "public IP": "the paths of flows from its addresses are not judged (unknown) until the "
                 "inventory gives it once",
    "Container Apps environment": "the paths of flows from its addresses are not judged "
                                  "(unknown) until the inventory gives it once",
}


@dataclass
class _ConsumerParts:
    subnet_ids: list[str] = field(default_factory=list)
    private_ips: list[str] = field(default_factory=list)
    public_ips: list[str] = field(default_factory=list)
    public_ip_ids: list[str] = field(default_factory=list)
    principal_ids: list[str] = field(default_factory=list)
    client_ids: list[str] = field(default_factory=list)
    identity_ids: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    creds: list[tuple[str, str, str]] = field(default_factory=list)
    """(server, identity, username) still to be turned into credentials."""
    fixed_creds: list[RegistryCredential] = field(default_factory=list)
    environment_id: str = ""
    facts: dict[str, str] = field(default_factory=dict)


def _merge_put(table: dict[str, _D], key: str, value: _D) -> None:
    """Fragments of one thing from several places (an identity seen by its consumers)."""
    old = table.get(key)
    table[key] = value if old is None else _merge(old, value)


def export_hint(resource_ids: Iterable[str]) -> str:
    """The commands that export resources with their properties (``az resource list`` gives
    none): ``az resource show --ids`` for the first few, or Resource Graph."""
    ids = list(dict.fromkeys(resource_ids))
    shown = " ".join(ids[:3]) + (" ..." if len(ids) > 3 else "")
    return (f"export with `az graph query -q \"Resources | where id in~ (...)\"` (README: Getting "
            f"the inputs out of Azure) or `az resource show --ids {shown}`")


def without_properties_problem(resource_ids: list[str]) -> str:
    """The inventory issue for resources read only without their properties."""
    n = len(resource_ids)
    return (f"{n} resource{'s have' if n != 1 else ' has'} no properties (az resource list does "
            "not export them), so their network settings and images are unknown: "
            + export_hint(resource_ids))


def inventory_warnings(inv: Inventory) -> list[str]:
    """What a report should say up front about the inventory: resources without their
    properties and resources given more than once with different settings."""
    out: list[str] = []
    if inv.without_properties:
        out.append(without_properties_problem(list(inv.without_properties)))
    conflicts = list(inv.conflicts.values())
    for c in conflicts[:5]:
        out.append(f"{c.describe()}: {_CONSEQUENCE.get(c.what, _TAKEN_AS_UNKNOWN)}")
    if len(conflicts) > 5:
        out.append(f"{len(conflicts) - 5} more resource(s) are given more than once with "
                   "different settings (see the inventory issues)")
    return out


# --------------------------------------------------------------------------------------------
# entry points


def build_inventory(resources: Iterable[tuple[str, object]]) -> Inventory:
    """An inventory from (location label, resource dict) pairs, e.g. from :func:`iter_resources`."""
    builder = InventoryBuilder()
    for location, res in resources:
        builder.add_resource(location, res)
    return builder.finish()


def inventory_from_documents(documents: Iterable[tuple[str, object]]) -> Inventory:
    """An inventory from (location label, decoded JSON document) pairs in any container shape."""
    builder = InventoryBuilder()
    for location, doc in documents:
        builder.add_document(doc, location)
    return builder.finish()
