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

This module is the language: the parser, the evaluation and the dispatch of every call, with
the functions that evaluate more of the expression (``parameters``, ``variables``, ``if``,
``and``, ``or``, ``coalesce``, the lambda functions). The other template functions are in
:mod:`pullpath.core.iac.armfunctions`; the values both share in
:mod:`pullpath.core.iac.armvalues`. Every public name is imported from here.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pullpath.core.iac.armfunctions import (
    ACR_LOGIN_SERVER_SUFFIX,
    CONTEXT_FUNCTIONS,
    FUNCTIONS,
    LOCATION_NOT_GIVEN,
    resource_id,
    type_path,
    unique_string,
)
from pullpath.core.iac.armvalues import (
    ArmContext,
    ArmExpressionError,
    ReferenceFn,
    RuntimeView,
    Unknown,
    _text,
    _truth,
)

__all__ = [
    "ACR_LOGIN_SERVER_SUFFIX",
    "LOCATION_NOT_GIVEN",
    "ArmContext",
    "ArmExpressionError",
    "EvaluatedResource",
    "ReferenceFn",
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


def is_expression(value: object) -> bool:
    return (isinstance(value, str) and value.startswith("[") and value.endswith("]")
            and not value.startswith("[["))


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
    if fn not in FUNCTIONS and fn not in _CONTEXT_FUNCTIONS:
        return ctx.fail(f"function {name}() is not supported by pullpath's evaluator")
    first_unknown = next((a for a in args if isinstance(a, Unknown)), None)
    if first_unknown is not None and fn not in _HOLDS_UNKNOWN:
        return first_unknown
    if fn in _CONTEXT_FUNCTIONS:
        return _CONTEXT_FUNCTIONS[fn](args, ctx)
    return FUNCTIONS[fn](*args)


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


_CONTEXT_FUNCTIONS: dict[str, Callable[[list[Any], ArmContext], Any]] = {
    "parameters": _parameters,
    "variables": _variables,
    **CONTEXT_FUNCTIONS,  # resource IDs, reference, the deployment's context (armfunctions)
    "lambdavariables": _lambda_variables,
    "map": _map,
    "filter": _filter,
    "reduce": _reduce,
    "toobject": _to_object,
    "mapvalues": _map_values,
    "sort": _sort,
}


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
