"""A small evaluator for the subset of the ARM template expression language the lab uses.

Pure, no I/O. It serves two purposes:

- turn a rendered template plus its parameter values into the concrete resources ARM would
  create (``lab plan``'s would-be inventory, the prediction, and the tests' model checks);
- record which resources each value refers to through ``resourceId()`` / ``reference()``, so
  that tests can prove every ``dependsOn`` is complete.

Supported: string literals (``'it''s'``), integers, ``parameters``, ``variables``,
``resourceId``, ``subscriptionResourceId``, ``extensionResourceId``, ``reference`` (with
property access), ``format``, ``concat``, ``guid``, ``json``, ``toLower``, ``string``,
``resourceGroup``, ``subscription``. Anything else raises :class:`ArmExpressionError`.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ArmContext",
    "ArmExpressionError",
    "EvaluatedResource",
    "evaluate",
    "evaluate_template",
    "is_expression",
    "resource_id",
]

_GUID_NAMESPACE = uuid.UUID("8f5b1f49-3d4c-4e39-9a57-7d0c6f1f2a10")
"""Namespace of the deterministic ``guid()`` stand-in (ARM computes its own hash)."""


class ArmExpressionError(ValueError):
    """An expression the evaluator cannot read or evaluate, with the expression in the text."""


def is_expression(value: object) -> bool:
    return (isinstance(value, str) and value.startswith("[") and value.endswith("]")
            and not value.startswith("[["))


def resource_id(subscription: str, resource_group: str, rtype: str, *names: str) -> str:
    """``/subscriptions/.../resourceGroups/.../providers/NS/t1/n1/t2/n2`` for a type and names."""
    return f"/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/" + \
        _type_path(rtype, names)


def _type_path(rtype: str, names: tuple[str, ...] | list[str]) -> str:
    parts = rtype.split("/")
    if len(parts) < 2:
        raise ArmExpressionError(f"resource type {rtype!r} has no namespace")
    namespace, types = parts[0], parts[1:]
    if len(types) != len(names):
        raise ArmExpressionError(
            f"resource type {rtype!r} needs {len(types)} name(s), got {len(names)}: {list(names)}"
        )
    segments = [namespace]
    for t, n in zip(types, names, strict=True):
        segments += [t, n]
    return "/".join(segments)


ReferenceFn = Callable[[str], Mapping[str, Any]]


@dataclass
class ArmContext:
    """What an expression can see: parameter values, variables, where it is deployed."""

    subscription: str
    resource_group: str
    location: str
    parameters: Mapping[str, Any]
    variables: Mapping[str, Any] = field(default_factory=dict)
    reference: ReferenceFn | None = None
    """Returns the runtime properties of a resource (``reference(id)``)."""
    trace: list[tuple[str, str]] = field(default_factory=list)
    """(function, resource id) for every ``resourceId``/``reference`` call evaluated."""


# ------------------------------------------------------------------------------ tokenizer

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
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


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

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
        kind, value = self.take()
        node: _Call | _Lit
        if kind == "str":
            node = _Lit(value[1:-1].replace("''", "'"))
        elif kind == "num":
            node = _Lit(int(value))
        elif kind == "name":
            self.take("(")
            args: list[Any] = []
            if self.peek() != ("punct", ")"):
                args.append(self.expr())
                while self.peek() == ("punct", ","):
                    self.take(",")
                    args.append(self.expr())
            self.take(")")
            node = _Call(value, args, [])
        else:
            raise ArmExpressionError(f"unexpected {value!r} in [{self.text}]")
        while self.peek() in (("punct", "."), ("punct", "[")):
            if self.take()[1] == ".":
                node.access.append(self.take()[1])
            else:
                node.access.append(self.expr())
                self.take("]")
        return node


# ------------------------------------------------------------------------------ evaluation


def evaluate(value: Any, ctx: ArmContext) -> Any:
    """Evaluate every expression inside ``value`` (recursively through dicts and lists)."""
    if isinstance(value, dict):
        return {(evaluate(k, ctx) if is_expression(k) else k): evaluate(v, ctx)
                for k, v in value.items()}
    if isinstance(value, list):
        return [evaluate(v, ctx) for v in value]
    if isinstance(value, str):
        if value.startswith("[["):
            return value[1:]
        if is_expression(value):
            return _eval(_Parser(value[1:-1]).parse(), ctx)
    return value


def _eval(node: _Call | _Lit, ctx: ArmContext) -> Any:
    if isinstance(node, _Lit):
        result: Any = node.value
    else:
        args = [_eval(a, ctx) for a in node.args]
        result = _call(node.name, args, ctx)
    for step in node.access:
        key = _eval(step, ctx) if isinstance(step, _Call | _Lit) else step
        try:
            result = result[key]
        except (KeyError, IndexError, TypeError):
            raise ArmExpressionError(f"no property {key!r} in {str(result)[:80]}") from None
    return result


def _call(name: str, args: list[Any], ctx: ArmContext) -> Any:
    fn = name.lower()
    if fn == "parameters":
        if args[0] not in ctx.parameters:
            raise ArmExpressionError(f"parameter {args[0]!r} has no value")
        return ctx.parameters[args[0]]
    if fn == "variables":
        return evaluate(ctx.variables[args[0]], ctx)
    if fn == "resourceid":
        rid = resource_id(ctx.subscription, ctx.resource_group, args[0], *map(str, args[1:]))
        ctx.trace.append(("resourceId", rid))
        return rid
    if fn == "subscriptionresourceid":
        return f"/subscriptions/{ctx.subscription}/providers/" + _type_path(args[0], args[1:])
    if fn == "extensionresourceid":
        return f"{args[0]}/providers/" + _type_path(args[1], args[2:])
    if fn == "reference":
        rid = str(args[0])
        if not rid.startswith("/"):
            raise ArmExpressionError(f"reference() needs a resource ID, got {rid!r}")
        ctx.trace.append(("reference", rid))
        if ctx.reference is None:
            raise ArmExpressionError(f"reference({rid}) cannot be evaluated here")
        return ctx.reference(rid)
    if fn == "format":
        return re.sub(r"\{(\d+)\}", lambda m: _text(args[1 + int(m.group(1))]), str(args[0]))
    if fn == "concat":
        if args and all(isinstance(a, list) for a in args):
            return [x for a in args for x in a]
        return "".join(_text(a) for a in args)
    if fn == "guid":
        return str(uuid.uuid5(_GUID_NAMESPACE, "|".join(map(str, args))))
    if fn == "json":
        return json.loads(args[0])
    if fn == "tolower":
        return str(args[0]).lower()
    if fn == "string":
        return _text(args[0])
    if fn == "resourcegroup":
        return {"name": ctx.resource_group, "location": ctx.location,
                "id": f"/subscriptions/{ctx.subscription}/resourceGroups/{ctx.resource_group}"}
    if fn == "subscription":
        return {"subscriptionId": ctx.subscription, "id": f"/subscriptions/{ctx.subscription}"}
    raise ArmExpressionError(f"function {name}() is not supported by pullpath's evaluator")


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
        return f"{scope}/providers/" + _type_path(rtype, names)
    return resource_id(ctx.subscription, ctx.resource_group, rtype, *names)


def _scope_id(ctx: ArmContext, scope: str) -> str:
    if not scope or scope.startswith("/"):
        return scope
    parts = scope.split("/")
    types = [parts[0], *parts[1::2]]
    return resource_id(ctx.subscription, ctx.resource_group, "/".join(types), *parts[2::2])


def evaluate_template(template: Mapping[str, Any], ctx: ArmContext) -> list[EvaluatedResource]:
    """Every resource of ``template`` evaluated in ``ctx`` (parameters must all have values,
    from ``ctx.parameters`` or a ``defaultValue``)."""
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
        scope = _scope_id(ctx, str(body.pop("scope", "")))
        rtype, name = str(body["type"]), str(body["name"])
        rid = _resource_full_id(ctx, rtype, name, scope)
        out.append(EvaluatedResource(rid, rtype, name, str(body.get("apiVersion", "")), body,
                                     deps, refers, scope))
    return out
