"""Typed field access to one ARM resource, in its REST and its SDK shape alike.

Every key is compared normalised (lower-case, without ``_`` and ``-``), and a field is looked
up in ``properties`` first, then at the top level (envelope fields such as ``id`` and
``identity`` the other way round): ``addressPrefix`` (REST), ``address_prefix`` (SDK
``as_dict()``, ``properties`` flattened) and ``AddressPrefix`` read alike. A value of the wrong
type or an unevaluated ARM template expression is an inventory issue and reads as absent,
never an exception. Shared by the family transforms of :mod:`pullpath.core.inventory`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from pullpath.domain.iac import is_unknown_value, unknown_reason
from pullpath.domain.inventory import InventoryIssue, norm_id

__all__ = [
    "FieldReader",
    "field_value",
    "has_properties",
    "is_arm_expression",
    "json_kind",
    "lookup",
    "norm_key",
    "norm_location",
    "uniq",
]


@functools.lru_cache(maxsize=4096)
def norm_key(key: str) -> str:
    """Normalised key: ``addressPrefix``, ``address_prefix`` and ``AddressPrefix`` compare equal
    (cached: an inventory repeats a few hundred keys in every resource)."""
    return key.replace("_", "").replace("-", "").lower()


_ENVELOPE: Final = frozenset(
    norm_key(k)
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


def json_kind(value: object) -> str:
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



def uniq(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))



def lookup(obj: Mapping[Any, object], name: str) -> object | None:
    if name in obj:
        return obj[name]
    want = norm_key(name)
    for key, value in obj.items():
        if isinstance(key, str) and norm_key(key) == want:
            return value
    return None


def field_value(obj: Mapping[Any, object], name: str) -> object | None:
    """``name`` in ``obj.properties`` then in ``obj`` (envelope names: top level first)."""
    props = lookup(obj, "properties")
    top_first = norm_key(name) in _ENVELOPE
    if top_first:
        value = lookup(obj, name)
        if value is not None:
            return value
    if isinstance(props, (dict, Mapping)):  # dict first: see ``FieldReader.get``
        value = lookup(props, name)
        if value is not None:
            return value
    return None if top_first else lookup(obj, name)


_NOT_PROPERTIES: Final = _ENVELOPE | {
    norm_key(k) for k in ("properties", "changedTime", "createdTime", "provisioningState")
}
"""Top-level keys of ``az resource list`` output, which carries no properties."""


def has_properties(res: Mapping[Any, object]) -> bool:
    """True when the resource carries its properties (``az resource list`` output does not)."""
    props = lookup(res, "properties")
    if isinstance(props, Mapping):
        return True
    return any(isinstance(k, str) and norm_key(k) not in _NOT_PROPERTIES for k in res)



@dataclass
class FieldReader:
    """Typed access to one resource's fields; wrong types become issues, never exceptions.

    ``where`` arguments name the place inside the resource (``subnets[2].``) for issues."""

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
            # ``dict`` first (what JSON gives; a check against the ``Mapping`` ABC costs 3x
            # more): 2.5 ms of 35 for the 494 resources (1,000 subnets) of the bench inventory
            if not isinstance(cur, (dict, Mapping)):
                self.issue(f"expected an object at {walked.rstrip('.')}, got {json_kind(cur)}")
                return None
            cur = field_value(cur, part)
            if cur is None:
                return None
            walked += part + "."
        return cur

    def s(self, obj: object, path: str, where: str = "") -> str:
        value = self.get(obj, path, where)
        return self.text(value, where + path)

    def text(self, value: object, name: str) -> str:
        """``value`` as a string read at ``name`` ("" when absent, of the wrong type or an
        ARM expression)."""
        if value is None:
            return ""
        if not isinstance(value, str):
            self.issue(f"expected a string at {name}, got {json_kind(value)}")
            return ""
        if is_unknown_value(value):
            self.issue(f"{name} is unknown before deployment ({unknown_reason(value)})")
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
        self.issue(f"expected true/false at {where + path}, got {json_kind(value)}")
        return None

    def lst(self, obj: object, path: str, where: str = "") -> list[object]:
        value = self.get(obj, path, where)
        if value is None:
            return []
        if not isinstance(value, list):
            self.issue(f"expected an array at {where + path}, got {json_kind(value)}")
            return []
        return value

    def objs(
        self, obj: object, path: str, where: str = ""
    ) -> list[tuple[str, Mapping[Any, object]]]:
        out: list[tuple[str, Mapping[Any, object]]] = []
        for i, item in enumerate(self.lst(obj, path, where)):
            name = f"{where}{path}[{i}]"
            if isinstance(item, (dict, Mapping)):  # dict first: see ``get``
                out.append((name + ".", item))
            elif item is not None:
                self.issue(f"expected an object at {name}, got {json_kind(item)}")
        return out

    def strs(self, obj: object, path: str, where: str = "") -> tuple[str, ...]:
        items = self.lst(obj, path, where)
        return uniq(self.text(v, f"{where}{path}[{i}]") for i, v in enumerate(items))

    def ref(self, obj: object, path: str, where: str = "") -> str:
        """The ``id`` of a ``{"id": ...}`` reference, normalised."""
        return norm_id(self.s(obj, path + ".id", where))

    def refs(self, obj: object, path: str, where: str = "") -> tuple[str, ...]:
        return uniq(norm_id(self.s(item, "id", w)) for w, item in self.objs(obj, path, where))

    def ips(self, obj: object, path: str, where: str = "") -> tuple[str, ...]:
        """A list of addresses, or one comma-separated string (App Service)."""
        value = self.get(obj, path, where)
        if isinstance(value, str):
            return uniq(p.strip() for p in self.text(value, where + path).split(","))
        return self.strs(obj, path, where)
