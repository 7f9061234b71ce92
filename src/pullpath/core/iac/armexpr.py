"""The ARM template expression language, evaluated (pure: no I/O, no environment).

One evaluator serves the lab (``lab plan``'s would-be resources, where every value is known
and an unreadable expression is a bug: :class:`ArmContext` with ``lenient=False`` raises
:class:`ArmExpressionError`) and the template reader of :mod:`pullpath.core.iac.arm`
(``lenient=True``: an expression that cannot be read or uses an unsupported function becomes
an issue naming its place, and its value :class:`Unknown`).

A value that cannot be known before deployment is an :class:`Unknown` carrying why. It
propagates: a function with an unknown argument is unknown, except where the result does not
depend on it (``if`` with a known condition, ``coalesce``/``and``/``or`` decided by an earlier
known argument, ``createArray``/``createObject``, which hold it as an element). ``newGuid()``,
``utcNow()``, ``list*()`` and ``reference()`` of a resource nobody can describe are unknown;
``uniqueString()`` and ``guid()`` give deterministic stand-ins (Azure's hash is not
reproduced), named in :attr:`ArmContext.standins`.

Every ``resourceId``-family and ``reference`` call is recorded in :attr:`ArmContext.trace`
(function, resource ID), so callers know which resources a value names.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import json
import re
import urllib.parse
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ArmContext",
    "ArmExpressionError",
    "EvaluatedResource",
    "RuntimeView",
    "Unknown",
    "evaluate",
    "evaluate_template",
    "is_expression",
    "property_copies",
    "resource_id",
    "scope_id",
    "type_path",
    "unique_string",
]

_GUID_NAMESPACE = uuid.UUID("8f5b1f49-3d4c-4e39-9a57-7d0c6f1f2a10")
"""Namespace of the deterministic ``guid()`` stand-in (ARM computes its own hash)."""
ACR_LOGIN_SERVER_SUFFIX = ".azurecr.io"
"""``environment().suffixes.acrLoginServer`` in AzureCloud: the registry suffix of the Public
cloud in knowledge/clouds.json (``azurecr.io``), with ARM's leading dot."""


LOCATION_NOT_GIVEN = "the resource group's location is not given"
"""Why ``resourceGroup().location`` is unknown when the deployment's region is not given."""


class ArmExpressionError(ValueError):
    """An expression the evaluator cannot read or evaluate, with the expression in the text."""


@dataclass(frozen=True, slots=True)
class Unknown:
    """A value not known before deployment."""

    why: str


class RuntimeView(dict[str, Any]):
    """An object whose missing properties are known only at deployment (what ``reference()``
    and ``environment()`` return): reading one gives :class:`Unknown`, not an error."""

    def __init__(self, label: str, values: Mapping[str, Any]) -> None:
        super().__init__(values)
        self.label = label


def is_expression(value: object) -> bool:
    return (isinstance(value, str) and value.startswith("[") and value.endswith("]")
            and not value.startswith("[["))


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


ReferenceFn = Callable[[str], Mapping[str, Any]]


@dataclass
class ArmContext:
    """What an expression can see: parameter values, variables, where it is deployed."""

    subscription: str
    resource_group: str
    location: str
    parameters: Mapping[str, Any]
    variables: Mapping[str, Any] = field(default_factory=dict)
    reference: Callable[..., Any] | None = None
    """Returns the runtime properties of a resource (``reference(id)``); called with the
    resource ID and, when the template asks for it, ``full=True``."""
    trace: list[tuple[str, str]] = field(default_factory=list)
    """(function, resource id) for every ``resourceId``/``reference`` call evaluated."""
    lenient: bool = False
    """True: an expression that cannot be evaluated becomes an issue and :class:`Unknown`."""
    issues: list[str] = field(default_factory=list)
    standins: list[str] = field(default_factory=list)
    """One line per stand-in value computed (``uniqueString``, ``guid``, the deployment name)."""
    where: str = ""
    """The place being evaluated (a resource's address), for issues."""
    level: str = "resourceGroup"
    """The deployment's scope: ``resourceGroup``, ``subscription``, ``managementGroup`` or
    ``tenant`` (what ``resourceId()`` builds)."""
    deployment_name: str | Unknown = ""
    deployment_note: str = ""
    """Named in :attr:`standins` when ``deployment()`` is read (its name is a stand-in)."""
    copy_index: dict[str, int] = field(default_factory=dict)
    """Current loop indexes: "" for the resource's own ``copy``, else the loop name."""
    functions: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """User-defined functions (the template's ``functions``): ``namespace.name`` in lower
    case -> its member definition (``parameters``, ``output``)."""
    resource_info: Callable[[str], Any] | None = None
    """``resourceInfo(symbolicName)``: the id, name, type and apiVersion of a resource."""
    lambda_vars: dict[str, Any] = field(default_factory=dict)
    _var_cache: dict[str, Any] = field(default_factory=dict, repr=False)
    _var_busy: set[str] = field(default_factory=set, repr=False)

    def fail(self, message: str) -> Unknown:
        """An expression that cannot be evaluated: raise (strict) or record it (lenient)."""
        if not self.lenient:
            raise ArmExpressionError(message)
        text = f"{self.where}: {message}" if self.where else message
        if text not in self.issues:
            self.issues.append(text)
        return Unknown(f"not evaluated: {message}")


# ------------------------------------------------------------------------------ tokenizer

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<punct>[(),.\[\]]))"
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ArmExpressionError(f"cannot read expression at {text[pos:pos + 20]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


@dataclass
class _Call:
    name: str
    args: list[Any]
    access: list[Any]


@dataclass
class _Lit:
    value: Any
    access: list[Any] = field(default_factory=list)


_MAX_NESTING = 200


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.i = 0
        self.depth = 0

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1] != value):
            raise ArmExpressionError(f"expected {value or 'more'} in [{self.text}]")
        self.i += 1
        return tok

    def parse(self) -> _Call | _Lit:
        node = self.expr()
        if self.peek() is not None:
            raise ArmExpressionError(f"unexpected {self.peek()} in [{self.text}]")
        return node

    def expr(self) -> _Call | _Lit:
        self.depth += 1
        if self.depth > _MAX_NESTING:
            raise ArmExpressionError(f"expression nested too deeply: [{self.text[:80]}...]")
        kind, value = self.take()
        node: _Call | _Lit
        if kind == "str":
            node = _Lit(value[1:-1].replace("''", "'"))
        elif kind == "num":
            node = _Lit(float(value) if "." in value else int(value))
        elif kind == "name" and self.peek() == ("punct", ".") and self.i + 2 < len(self.toks) \
                and self.toks[self.i + 1][0] == "name" and self.toks[self.i + 2] == ("punct", "("):
            self.take(".")
            node = self.call(f"{value}.{self.take()[1]}")  # a user-defined function
        elif kind == "name" and self.peek() == ("punct", "("):
            node = self.call(value)
        else:
            raise ArmExpressionError(f"unexpected {value!r} in [{self.text}]")
        while self.peek() in (("punct", "."), ("punct", "[")):
            if self.take()[1] == ".":
                node.access.append(self.take()[1])
            else:
                node.access.append(self.expr())
                self.take("]")
        self.depth -= 1
        return node

    def call(self, name: str) -> _Call:
        self.take("(")
        args: list[Any] = []
        if self.peek() != ("punct", ")"):
            args.append(self.expr())
            while self.peek() == ("punct", ","):
                self.take(",")
                args.append(self.expr())
        self.take(")")
        return _Call(name, args, [])


# ------------------------------------------------------------------------------ evaluation


def evaluate(value: Any, ctx: ArmContext) -> Any:
    """Evaluate every expression inside ``value`` (recursively through dicts and lists,
    expanding property ``copy`` loops)."""
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for k, v in value.items():
            if k == "copy" and _is_property_copy(v):
                out.update(property_copies(v, ctx))
                continue
            key = evaluate(k, ctx) if is_expression(k) else k
            if not isinstance(key, str | Unknown):
                key = _text(key)
            out[key] = evaluate(v, ctx)
        return out
    if isinstance(value, list):
        return [evaluate(v, ctx) for v in value]
    if isinstance(value, str):
        if value.startswith("[["):
            return value[1:]
        if is_expression(value):
            return _expression(value[1:-1], ctx)
    return value


@functools.lru_cache(maxsize=4096)
def _parsed(text: str) -> _Call | _Lit:
    """The syntax tree of an expression (read once: templates repeat expressions in loops;
    the tree is never changed after parsing)."""
    return _Parser(text).parse()


def _expression(text: str, ctx: ArmContext) -> Any:
    try:
        return _eval(_parsed(text), ctx)
    except ArmExpressionError as e:
        if not ctx.lenient:
            raise
        return ctx.fail(str(e))
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, ArithmeticError,
            RecursionError) as e:
        if not ctx.lenient:
            raise
        return ctx.fail(f"[{text[:120]}]: {type(e).__name__}: {e}")


def _is_property_copy(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(
        isinstance(c, dict) and "name" in c and "input" in c for c in value)


def property_copies(copies: list[dict[str, Any]], ctx: ArmContext) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for spec in copies:
        name = str(spec.get("name"))
        count = evaluate(spec.get("count", 0), ctx)
        if isinstance(count, Unknown):
            out[name] = Unknown(f"copy loop {name!r}: its count is not known ({count.why})")
            continue
        try:
            n = int(count)
        except (TypeError, ValueError):
            out[name] = ctx.fail(f"copy loop {name!r}: count {count!r} is not a number")
            continue
        items = []
        saved = ctx.copy_index.get(name)
        for i in range(max(0, min(n, 800))):
            ctx.copy_index[name] = i
            items.append(evaluate(spec["input"], ctx))
        if saved is None:
            ctx.copy_index.pop(name, None)
        else:
            ctx.copy_index[name] = saved
        out[name] = items
    return out


def _lookup(container: Any, key: Any, ctx: ArmContext) -> Any:
    if isinstance(key, Unknown):
        return key
    if isinstance(container, Mapping):
        if key in container:
            return container[key]
        if isinstance(key, str):
            for k in container:  # ARM property names are case-insensitive
                if isinstance(k, str) and k.lower() == key.lower():
                    return container[k]
        if isinstance(container, RuntimeView):
            return Unknown(f"{container.label}.{key} is known only after deployment")
        return ctx.fail(f"no property {key!r} in {str(dict(container))[:80]}")
    if isinstance(container, list | str) and isinstance(key, int) and not isinstance(key, bool):
        if -len(container) <= key < len(container):
            return container[key]
        return ctx.fail(f"index {key} is outside {str(container)[:80]}")
    return ctx.fail(f"cannot read {key!r} of {str(container)[:80]}")


def _eval(node: _Call | _Lit, ctx: ArmContext) -> Any:
    if isinstance(node, _Lit):
        result: Any = node.value
    else:
        result = _call(node.name, node.args, ctx)
    for step in node.access:
        key = _eval(step, ctx) if isinstance(step, _Call | _Lit) else step
        if isinstance(result, Unknown):
            continue
        result = _lookup(result, key, ctx)
    return result


_LAZY = {"if", "and", "or", "coalesce", "lambda"}
_HOLDS_UNKNOWN = {"createarray", "createobject", "array", "json", "empty", "length", "concat"}
"""Functions whose result is built from (not computed from) an unknown argument: they hold it."""
_UNKNOWN_BEFORE_DEPLOYMENT = {
    "newguid": "newGuid() is a new value at every deployment",
    "utcnow": "utcNow() is the time of the deployment",
    "deployer": "deployer() is whoever deploys",
    "tenant": "tenant() is the deploying tenant",
    "managementgroup": "managementGroup() is where it is deployed",
}


def _call(name: str, arg_nodes: list[Any], ctx: ArmContext) -> Any:
    fn = name.lower()
    if fn in _LAZY:
        return _lazy(fn, arg_nodes, ctx)
    args = [_eval(a, ctx) for a in arg_nodes]
    if "." in fn:
        return _user_function(name, args, ctx)
    if fn in _UNKNOWN_BEFORE_DEPLOYMENT:
        return Unknown(_UNKNOWN_BEFORE_DEPLOYMENT[fn])
    if fn.startswith("list"):
        return Unknown(f"{name}() returns secrets or runtime values known only after deployment")
    if fn not in _FUNCTIONS and fn not in _CONTEXT_FUNCTIONS:
        return ctx.fail(f"function {name}() is not supported by pullpath's evaluator")
    first_unknown = next((a for a in args if isinstance(a, Unknown)), None)
    if first_unknown is not None and fn not in _HOLDS_UNKNOWN:
        return first_unknown
    if fn in _CONTEXT_FUNCTIONS:
        return _CONTEXT_FUNCTIONS[fn](args, ctx)
    return _FUNCTIONS[fn](*args)


@dataclass(frozen=True)
class _Lambda:
    names: tuple[str, ...]
    body: Any


def _user_function(name: str, args: list[Any], ctx: ArmContext) -> Any:
    """A template's own function (``namespace.member(...)``): its ``output.value`` evaluated
    with its parameters only, as ARM does."""
    spec = ctx.functions.get(name.lower())
    if spec is None:
        return ctx.fail(f"function {name}() is not defined in the template")
    params = spec.get("parameters") or []
    if len(params) != len(args):
        return ctx.fail(f"function {name}() takes {len(params)} argument(s), got {len(args)}")
    inner = dataclasses.replace(
        ctx, parameters={str(p.get("name")): a for p, a in zip(params, args, strict=True)},
        variables={}, copy_index={}, lambda_vars={}, _var_cache={}, _var_busy=set())
    return evaluate((spec.get("output") or {}).get("value"), inner)


def _apply(fn: Any, ctx: ArmContext, *values: Any) -> Any:
    if not isinstance(fn, _Lambda) or len(fn.names) != len(values):
        raise ArmExpressionError(f"expected a lambda of {len(values)} argument(s)")
    saved = ctx.lambda_vars
    ctx.lambda_vars = {**saved, **dict(zip(fn.names, values, strict=True))}
    try:
        return _eval(fn.body, ctx)
    finally:
        ctx.lambda_vars = saved


def _lazy(fn: str, nodes: list[Any], ctx: ArmContext) -> Any:
    if fn == "lambda":
        if not nodes:
            raise ArmExpressionError("lambda() needs a body")
        names = tuple(str(_eval(n, ctx)) for n in nodes[:-1])
        return _Lambda(names, nodes[-1])
    if fn == "if":
        if len(nodes) != 3:
            raise ArmExpressionError("if() needs 3 arguments")
        cond = _eval(nodes[0], ctx)
        if isinstance(cond, Unknown):
            return cond
        return _eval(nodes[1] if _truth(cond) else nodes[2], ctx)
    if fn in ("and", "or"):
        decided = fn == "or"  # the value that decides: True for or, False for and
        pending: Unknown | None = None
        for node in nodes:
            value = _eval(node, ctx)
            if isinstance(value, Unknown):
                pending = pending or value
            elif _truth(value) is decided:
                return decided
        return pending if pending is not None else not decided
    for node in nodes:  # coalesce
        value = _eval(node, ctx)
        if isinstance(value, Unknown) or value is not None:
            return value
    return None


def _truth(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ArmExpressionError(f"{value!r} is not a boolean")


# ------------------------------------------------------------------------------ functions


def _parameters(args: list[Any], ctx: ArmContext) -> Any:
    name = args[0]
    if name not in ctx.parameters:
        match = next((k for k in ctx.parameters if str(k).lower() == str(name).lower()), None)
        if match is None:
            return ctx.fail(f"parameter {name!r} has no value")
        name = match
    return ctx.parameters[name]


def _variables(args: list[Any], ctx: ArmContext) -> Any:
    name = str(args[0])
    if name in ctx._var_cache:
        return ctx._var_cache[name]
    loops: list[Any] = ctx.variables.get("copy") or []
    raw: Any
    if name in ctx.variables and name != "copy":
        raw = ctx.variables[name]
    elif _is_property_copy(loops) and any(c.get("name") == name for c in loops):
        raw = {"copy": [c for c in loops if c.get("name") == name]}
    else:
        match = next((k for k in ctx.variables if k.lower() == name.lower() and k != "copy"),
                     None)
        if match is None:
            return ctx.fail(f"variable {name!r} is not defined")
        raw = ctx.variables[match]
    if name in ctx._var_busy:
        return ctx.fail(f"variable {name!r} refers to itself")
    ctx._var_busy.add(name)
    try:
        value = evaluate(raw, ctx)
    finally:
        ctx._var_busy.discard(name)
    if isinstance(raw, dict) and set(raw) == {"copy"}:
        value = value[name] if isinstance(value, dict) and name in value else value
    if not ctx.copy_index:  # a value depending on a loop index is not cached
        ctx._var_cache[name] = value
    return value


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


def _lambda_variables(args: list[Any], ctx: ArmContext) -> Any:
    if args[0] not in ctx.lambda_vars:
        raise ArmExpressionError(f"lambdaVariables({args[0]!r}) outside a lambda of that name")
    return ctx.lambda_vars[args[0]]


def _map(args: list[Any], ctx: ArmContext) -> list[Any]:
    return [_apply(args[1], ctx, x) for x in _array_arg(args[0], "map")]


def _filter(args: list[Any], ctx: ArmContext) -> Any:
    kept = []
    for x in _array_arg(args[0], "filter"):
        keep = _apply(args[1], ctx, x)
        if isinstance(keep, Unknown):
            return keep
        if _truth(keep):
            kept.append(x)
    return kept


def _reduce(args: list[Any], ctx: ArmContext) -> Any:
    value = args[1]
    for x in _array_arg(args[0], "reduce"):
        value = _apply(args[2], ctx, value, x)
    return value


def _to_object(args: list[Any], ctx: ArmContext) -> Any:
    out: dict[str, Any] = {}
    for x in _array_arg(args[0], "toObject"):
        key = _apply(args[1], ctx, x)
        if isinstance(key, Unknown):
            return key
        out[_text(key)] = _apply(args[2], ctx, x) if len(args) > 2 else x
    return out


def _map_values(args: list[Any], ctx: ArmContext) -> Any:
    if not isinstance(args[0], Mapping):
        raise ArmExpressionError("mapValues() needs an object")
    return {k: _apply(args[1], ctx, v) for k, v in args[0].items()}


def _sort(args: list[Any], ctx: ArmContext) -> Any:
    items = list(_array_arg(args[0], "sort"))
    for i in range(1, len(items)):  # insertion sort: the lambda says whether a comes first
        j = i
        while j > 0:
            first = _apply(args[1], ctx, items[j], items[j - 1])
            if isinstance(first, Unknown):
                return first
            if not _truth(first):
                break
            items[j - 1], items[j] = items[j], items[j - 1]
            j -= 1
    return items


def _array_arg(value: Any, fn: str) -> list[Any]:
    if not isinstance(value, list):
        raise ArmExpressionError(f"{fn}() needs an array, got {str(value)[:60]}")
    if len(value) > 10000:
        raise ArmExpressionError(f"{fn}() over {len(value)} items")
    return value


def _resource_info(args: list[Any], ctx: ArmContext) -> Any:
    if ctx.resource_info is None:
        raise ArmExpressionError("resourceInfo() needs a template's symbolic names")
    return ctx.resource_info(str(args[0]))


def _unknown(args: list[Any], ctx: ArmContext) -> Unknown:
    """``[unknown('why')]``: the form of :func:`pullpath.domain.iac.unknown_value`."""
    return Unknown(_text(args[0]) if args else "unknown")


_CONTEXT_FUNCTIONS: dict[str, Callable[[list[Any], ArmContext], Any]] = {
    "parameters": _parameters,
    "variables": _variables,
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
    "lambdavariables": _lambda_variables,
    "map": _map,
    "filter": _filter,
    "reduce": _reduce,
    "toobject": _to_object,
    "mapvalues": _map_values,
    "sort": _sort,
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


_FUNCTIONS: dict[str, Callable[..., Any]] = {
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


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


# ------------------------------------------------------------------------------ templates


@dataclass(frozen=True)
class EvaluatedResource:
    """One template resource with every expression evaluated."""

    id: str
    type: str
    name: str
    api_version: str
    body: dict[str, Any]
    """The resource as ARM would receive it (name, location, tags, identity, properties...)."""
    depends_on: tuple[str, ...]
    """dependsOn, evaluated to resource IDs."""
    refers_to: tuple[str, ...]
    """Every resource ID named through resourceId()/reference() anywhere in the resource."""
    scope: str = ""
    """For extension resources: the resource ID they are attached to."""


def _resource_full_id(ctx: ArmContext, rtype: str, name: str, scope: str) -> str:
    names = name.split("/")
    if scope:
        return f"{scope}/providers/" + type_path(rtype, names)
    return resource_id(ctx.subscription, ctx.resource_group, rtype, *names)


def scope_id(ctx: ArmContext, scope: str) -> str:
    if not scope or scope.startswith("/"):
        return scope
    parts = scope.split("/")
    types = [parts[0], *parts[1::2]]
    return resource_id(ctx.subscription, ctx.resource_group, "/".join(types), *parts[2::2])


def evaluate_template(template: Mapping[str, Any], ctx: ArmContext) -> list[EvaluatedResource]:
    """Every resource of ``template`` evaluated in ``ctx`` (parameters must all have values,
    from ``ctx.parameters`` or a ``defaultValue``): the lab's strict reading of its own
    templates. :func:`pullpath.core.iac.arm.read_arm_template` reads any template."""
    params = {name: spec.get("defaultValue") for name, spec in
              template.get("parameters", {}).items() if "defaultValue" in spec}
    params.update(ctx.parameters)
    ctx.parameters = params
    ctx.variables = dict(template.get("variables", {}))
    out: list[EvaluatedResource] = []
    for raw in template.get("resources", []):
        start = len(ctx.trace)
        body = evaluate({k: v for k, v in raw.items() if k not in ("dependsOn",)}, ctx)
        refers = tuple(dict.fromkeys(rid for _, rid in ctx.trace[start:]))
        deps = tuple(evaluate(d, ctx) for d in raw.get("dependsOn", []))
        del ctx.trace[start:]
        scope = scope_id(ctx, str(body.pop("scope", "")))
        rtype, name = str(body["type"]), str(body["name"])
        rid = _resource_full_id(ctx, rtype, name, scope)
        out.append(EvaluatedResource(rid, rtype, name, str(body.get("apiVersion", "")), body,
                                     deps, refers, scope))
    return out
