"""The ARM template functions, evaluated (pure: no I/O, no environment): the function library
of :mod:`pullpath.core.iac.armexpr`.

Resource IDs (``resourceId`` and its family, recorded in :attr:`ArmContext.trace`),
``reference``, ``copyIndex``, the stand-ins (``uniqueString``, ``guid``), the deployment's
context (``resourceGroup``, ``subscription``, ``deployment``, ``environment``), and the
functions of strings, numbers, arrays, objects, comparison and logic. :data:`FUNCTIONS` take
evaluated arguments; :data:`CONTEXT_FUNCTIONS` take them with the :class:`ArmContext`. The
functions that evaluate more of the expression (``parameters``, ``variables``, the lambda
functions, ``if``/``and``/``or``/``coalesce``) belong to the language, in
:mod:`pullpath.core.iac.armexpr`, which dispatches every call.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import urllib.parse
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from pullpath.core.iac.armvalues import (
    ArmContext,
    ArmExpressionError,
    RuntimeView,
    Unknown,
    _text,
    _truth,
)

_GUID_NAMESPACE = uuid.UUID("8f5b1f49-3d4c-4e39-9a57-7d0c6f1f2a10")
"""Namespace of the deterministic ``guid()`` stand-in (ARM computes its own hash)."""
ACR_LOGIN_SERVER_SUFFIX = ".azurecr.io"
"""``environment().suffixes.acrLoginServer`` in AzureCloud: the registry suffix of the Public
cloud in knowledge/clouds.json (``azurecr.io``), with ARM's leading dot."""


LOCATION_NOT_GIVEN = "the resource group's location is not given"
"""Why ``resourceGroup().location`` is unknown when the deployment's region is not given."""


def resource_id(subscription: str, resource_group: str, rtype: str, *names: str) -> str:
    """``/subscriptions/.../resourceGroups/.../providers/NS/t1/n1/t2/n2`` for a type and names."""
    return f"/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/" + \
        type_path(rtype, names)


def type_path(rtype: str, names: tuple[str, ...] | list[str]) -> str:
    parts = str(rtype).split("/")
    if len(parts) < 2 or not all(parts):
        raise ArmExpressionError(f"resource type {rtype!r} has no namespace")
    namespace, types = parts[0], parts[1:]
    names = [n for name in names for n in str(name).split("/")]
    if len(types) != len(names):
        raise ArmExpressionError(
            f"resource type {rtype!r} needs {len(types)} name(s), got {len(names)}: {list(names)}"
        )
    segments = [namespace]
    for t, n in zip(types, names, strict=True):
        segments += [t, n]
    return "/".join(segments)


def unique_string(*parts: str) -> str:
    """The stand-in of ``uniqueString()``: 13 lower-case letters and digits, deterministic for
    the same inputs (Azure's own hash is not reproduced, so the value differs from Azure's)."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:13]


def _split_type_args(args: list[Any], fn: str) -> tuple[list[str], str, list[str]]:
    """(scope arguments before the type, the type, the names) of a resourceId-style call."""
    at = next((i for i, a in enumerate(args) if isinstance(a, str) and "/" in a
               and "." in a.split("/")[0]), None)
    if at is None:
        raise ArmExpressionError(f"{fn}() has no resource type argument: {args!r}")
    return [str(a) for a in args[:at]], args[at], [_text(a) for a in args[at + 1:]]


def _resource_id_fn(args: list[Any], ctx: ArmContext) -> str:
    before, rtype, names = _split_type_args(args, "resourceId")
    sub, rg = ctx.subscription, ctx.resource_group
    if len(before) == 1:
        rg = before[0]
    elif len(before) >= 2:
        sub, rg = before[0], before[1]
    if ctx.level == "subscription" and not before:
        rid = f"/subscriptions/{sub}/providers/" + type_path(rtype, names)
    elif ctx.level in ("tenant", "managementGroup") and not before:
        rid = "/providers/" + type_path(rtype, names)
    else:
        rid = resource_id(sub, rg, rtype, *names)
    ctx.trace.append(("resourceId", rid))
    return rid


def _subscription_resource_id(args: list[Any], ctx: ArmContext) -> str:
    before, rtype, names = _split_type_args(args, "subscriptionResourceId")
    sub = before[0] if before else ctx.subscription
    rid = f"/subscriptions/{sub}/providers/" + type_path(rtype, names)
    ctx.trace.append(("subscriptionResourceId", rid))
    return rid


def _tenant_resource_id(args: list[Any], ctx: ArmContext) -> str:
    rid = "/providers/" + type_path(args[0], [_text(a) for a in args[1:]])
    ctx.trace.append(("tenantResourceId", rid))
    return rid


def _extension_resource_id(args: list[Any], ctx: ArmContext) -> str:
    rid = f"{str(args[0]).rstrip('/')}/providers/" + type_path(args[1],
                                                               [_text(a) for a in args[2:]])
    ctx.trace.append(("extensionResourceId", rid))
    return rid


def _reference(args: list[Any], ctx: ArmContext) -> Any:
    target = str(args[0])
    full = len(args) > 2 and str(args[2]).lower() == "full"
    ctx.trace.append(("reference", target))
    if ctx.reference is None:
        if not ctx.lenient:
            raise ArmExpressionError(f"reference({target}) cannot be evaluated here")
        return Unknown(f"reference({target}) is known only after deployment")
    if ctx.lenient:
        return ctx.reference(target, full=full)
    if not target.startswith("/"):
        raise ArmExpressionError(f"reference() needs a resource ID, got {target!r}")
    return ctx.reference(target)


def _copy_index(args: list[Any], ctx: ArmContext) -> int:
    name, offset = "", 0
    if args and isinstance(args[0], str):
        name = args[0]
        offset = int(args[1]) if len(args) > 1 else 0
    elif args:
        offset = int(args[0])
    if name not in ctx.copy_index:
        raise ArmExpressionError(f"copyIndex({name}) outside a copy loop of that name")
    return ctx.copy_index[name] + offset


def _unique_string(args: list[Any], ctx: ArmContext) -> str:
    value = unique_string(*map(_text, args))
    note = (f"uniqueString({', '.join(map(repr, map(_text, args)))}) = {value!r} is a stand-in "
            "(Azure's hash is not reproduced)")
    if note not in ctx.standins:
        ctx.standins.append(note)
    return value


def _guid(args: list[Any], ctx: ArmContext) -> str:
    value = str(uuid.uuid5(_GUID_NAMESPACE, "|".join(map(str, args))))
    note = f"guid(...) = {value!r} is a stand-in (Azure's computation is not reproduced)"
    if ctx.lenient and note not in ctx.standins:
        ctx.standins.append(note)
    return value


def _resource_group(args: list[Any], ctx: ArmContext) -> Any:
    return RuntimeView("resourceGroup()", {
        "name": ctx.resource_group,
        "location": ctx.location or Unknown(LOCATION_NOT_GIVEN),
        "id": f"/subscriptions/{ctx.subscription}/resourceGroups/{ctx.resource_group}",
        "type": "Microsoft.Resources/resourceGroups"})


def _subscription(args: list[Any], ctx: ArmContext) -> Any:
    return RuntimeView("subscription()", {"subscriptionId": ctx.subscription,
                                          "id": f"/subscriptions/{ctx.subscription}"})


def _deployment(args: list[Any], ctx: ArmContext) -> Any:
    if ctx.deployment_note and ctx.deployment_note not in ctx.standins:
        ctx.standins.append(ctx.deployment_note)
    return RuntimeView("deployment()", {"name": ctx.deployment_name})


def _environment(args: list[Any], ctx: ArmContext) -> Any:
    return RuntimeView("environment()", {
        "name": "AzureCloud",
        "suffixes": RuntimeView("environment().suffixes",
                                {"acrLoginServer": ACR_LOGIN_SERVER_SUFFIX})})


def _resource_info(args: list[Any], ctx: ArmContext) -> Any:
    if ctx.resource_info is None:
        raise ArmExpressionError("resourceInfo() needs a template's symbolic names")
    return ctx.resource_info(str(args[0]))


def _unknown(args: list[Any], ctx: ArmContext) -> Unknown:
    """``[unknown('why')]``: the form of :func:`pullpath.domain.iac.unknown_value`."""
    return Unknown(_text(args[0]) if args else "unknown")


CONTEXT_FUNCTIONS: dict[str, Callable[[list[Any], ArmContext], Any]] = {
    "resourceid": _resource_id_fn,
    "subscriptionresourceid": _subscription_resource_id,
    "tenantresourceid": _tenant_resource_id,
    "extensionresourceid": _extension_resource_id,
    "reference": _reference,
    "copyindex": _copy_index,
    "uniquestring": _unique_string,
    "guid": _guid,
    "resourcegroup": _resource_group,
    "subscription": _subscription,
    "deployment": _deployment,
    "environment": _environment,
    "unknown": _unknown,
    "resourceinfo": _resource_info,
}


def _format(fmt: Any, *values: Any) -> str:
    def one(m: re.Match[str]) -> str:
        if m.group(0) in ("{{", "}}"):
            return m.group(0)[0]
        index = int(m.group(1))
        if index >= len(values):
            raise ArmExpressionError(f"format(): no argument {index} for {fmt!r}")
        return _text(values[index])

    return re.sub(r"\{\{|\}\}|\{(\d+)(?:[,:][^}]*)?\}", one, str(fmt))


def _concat(*args: Any) -> Any:
    if args and all(isinstance(a, list) for a in args):
        return [x for a in args for x in a]
    unknown = next((a for a in args if isinstance(a, Unknown)), None)
    if unknown is not None:
        return unknown
    return "".join(_text(a) for a in args)


def _json(text: Any) -> Any:
    if isinstance(text, Unknown):
        return text
    try:
        return json.loads(str(text))
    except json.JSONDecodeError:
        return float(str(text))  # json('.25'): Bicep emits decimals so


def _union(*args: Any) -> Any:
    if args and all(isinstance(a, Mapping) for a in args):
        out: dict[str, Any] = {}
        for a in args:
            for k, v in a.items():
                if isinstance(out.get(k), Mapping) and isinstance(v, Mapping):
                    v = _union(out[k], v)
                out[k] = v
        return out
    if args and all(isinstance(a, list) for a in args):
        merged: list[Any] = []
        for a in args:
            merged += [x for x in a if x not in merged]
        return merged
    raise ArmExpressionError("union() needs objects or arrays, all of one kind")


def _contains(container: Any, item: Any) -> bool:
    if isinstance(container, Mapping):
        return str(item).lower() in {str(k).lower() for k in container}
    if isinstance(container, str):
        return _text(item) in container
    if isinstance(container, list):
        return item in container
    raise ArmExpressionError(f"contains() needs a string, array or object, got {container!r}")


def _length(value: Any) -> Any:
    if isinstance(value, Unknown):
        return value
    if isinstance(value, str | list | Mapping):
        return len(value)
    raise ArmExpressionError(f"length() of {value!r}")


def _empty(value: Any) -> Any:
    if isinstance(value, Unknown):
        return value
    return value is None or (isinstance(value, str | list | Mapping) and len(value) == 0)


def _try_get(value: Any, *keys: Any) -> Any:
    for key in keys:
        if isinstance(value, RuntimeView) and key not in value:
            return Unknown(f"{value.label}.{key} is known only after deployment")
        if isinstance(value, Mapping):
            value = value.get(key)
        elif isinstance(value, list) and isinstance(key, int) and -len(value) <= key < len(value):
            value = value[key]
        else:
            return None
        if value is None:
            return None
    return value


def _flatten(value: Any) -> list[Any]:
    return [x for part in value for x in (part if isinstance(part, list) else [part])]


def _intersection(*args: Any) -> Any:
    if args and all(isinstance(a, Mapping) for a in args):
        return {k: v for k, v in args[0].items() if all(b.get(k) == v for b in args[1:])}
    if args and all(isinstance(a, list) for a in args):
        return [x for x in args[0] if all(x in b for b in args[1:])]
    raise ArmExpressionError("intersection() needs objects or arrays, all of one kind")


def _first(value: Any) -> Any:
    return value[0] if value else (None if isinstance(value, list) else "")


def _last(value: Any) -> Any:
    return value[-1] if value else (None if isinstance(value, list) else "")


def _split(text: Any, delimiters: Any) -> list[str]:
    parts = [str(text)]
    for d in delimiters if isinstance(delimiters, list) else [delimiters]:
        parts = [p for part in parts for p in part.split(str(d))]
    return parts


def _substring(text: Any, start: Any, length: Any = None) -> str:
    s, b = str(text), int(start)
    n = len(s) - b if length is None else int(length)
    if b < 0 or n < 0 or b + n > len(s):
        raise ArmExpressionError(f"substring({s!r}, {start}, {length}) is outside the string")
    return s[b:b + n]


def _int(value: Any) -> int:
    if isinstance(value, str):
        return int(value.strip())
    return int(value)


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return _truth(value)
    return bool(value)


def _items(obj: Any) -> list[dict[str, Any]]:
    if not isinstance(obj, Mapping):
        raise ArmExpressionError(f"items() needs an object, got {obj!r}")
    return [{"key": k, "value": obj[k]} for k in sorted(obj, key=str)]


def _create_object(*args: Any) -> dict[str, Any]:
    if len(args) % 2:
        raise ArmExpressionError("createObject() needs key/value pairs")
    return {_text(args[i]): args[i + 1] for i in range(0, len(args), 2)}


def _array(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [value]


def _range(start: Any, count: Any) -> list[int]:
    if int(count) > 10000 or int(count) < 0:
        raise ArmExpressionError(f"range() count {count} is outside 0..10000")
    return list(range(int(start), int(start) + int(count)))


def _compare(op: str) -> Callable[[Any, Any], bool]:
    def run(a: Any, b: Any) -> bool:
        if isinstance(a, bool) or isinstance(b, bool) or (type(a) is not type(b) and not (
                isinstance(a, int | float) and isinstance(b, int | float))):
            raise ArmExpressionError(f"{op}() compares values of one kind: {a!r}, {b!r}")
        return bool({"greater": a > b, "less": a < b, "greaterorequals": a >= b,
                     "lessorequals": a <= b}[op])
    return run


def _bad(fn: str, value: Any) -> Any:
    raise ArmExpressionError(f"{fn}() cannot take {str(value)[:60]}")


def _index_of(text: Any, part: Any) -> int:
    return str(text).lower().find(str(part).lower())


def _last_index_of(text: Any, part: Any) -> int:
    return str(text).lower().rfind(str(part).lower())


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "format": _format,
    "concat": _concat,
    "json": _json,
    "string": lambda v: _text(v),
    "tolower": lambda v: str(v).lower(),
    "toupper": lambda v: str(v).upper(),
    "trim": lambda v: str(v).strip(),
    "replace": lambda s, old, new: str(s).replace(str(old), str(new)),
    "split": _split,
    "substring": _substring,
    "take": lambda v, n: v[:max(0, int(n))],
    "skip": lambda v, n: v[max(0, int(n)):],
    "startswith": lambda s, p: str(s).lower().startswith(str(p).lower()),
    "endswith": lambda s, p: str(s).lower().endswith(str(p).lower()),
    "indexof": _index_of,
    "lastindexof": _last_index_of,
    "first": _first,
    "last": _last,
    "length": _length,
    "empty": _empty,
    "contains": _contains,
    "union": _union,
    "createobject": _create_object,
    "createarray": lambda *a: list(a),
    "array": _array,
    "range": _range,
    "items": _items,
    "equals": lambda a, b: a == b,
    "not": lambda a: not _truth(a),
    "bool": _bool,
    "int": _int,
    "true": lambda: True,
    "false": lambda: False,
    "null": lambda: None,
    "add": lambda a, b: int(a) + int(b),
    "sub": lambda a, b: int(a) - int(b),
    "mul": lambda a, b: int(a) * int(b),
    "div": lambda a, b: int(int(a) / int(b)),
    "mod": lambda a, b: int(a) % int(b),
    "min": lambda *a: min(a[0] if len(a) == 1 and isinstance(a[0], list) else a),
    "max": lambda *a: max(a[0] if len(a) == 1 and isinstance(a[0], list) else a),
    "trygetvalue": _try_get,
    "tryget": _try_get,
    "objectkeys": lambda o: list(o) if isinstance(o, Mapping) else _bad("objectKeys", o),
    "shallowmerge": lambda items: {k: v for o in items for k, v in o.items()},
    "flatten": _flatten,
    "intersection": _intersection,
    "join": lambda items, sep: str(sep).join(_text(x) for x in items),
    "padleft": lambda v, n, c=" ": _text(v).rjust(int(n), str(c)[:1] or " "),
    "base64": lambda v: base64.b64encode(_text(v).encode()).decode(),
    "base64tostring": lambda v: base64.b64decode(str(v)).decode("utf-8"),
    "uricomponent": lambda v: urllib.parse.quote(_text(v), safe=""),
    "uricomponenttostring": lambda v: urllib.parse.unquote(str(v)),
    "greater": _compare("greater"),
    "less": _compare("less"),
    "greaterorequals": _compare("greaterorequals"),
    "lessorequals": _compare("lessorequals"),
}
