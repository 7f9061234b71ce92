"""Bicep nodes written as ARM template expressions (pure, no I/O): the expression writer of
:mod:`pullpath.core.iac.bicep`.

:class:`_ExpressionWriter` holds what the file declares (parameters, variables, resources,
modules, the loop variables in scope) and writes a :data:`~pullpath.core.iac.bicep_ast.Node`
as one ARM expression string: literals, ``format()`` for interpolation, operators as ARM
functions, names as ``parameters()``/``variables()`` (a variable that reads runtime state is
written into its uses), and a resource's properties as ``resourceId()``/``reference()`` of
its ID, recording the resources each expression depends on. What cannot be written raises
:class:`_Unsupported` with what (never a value).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from lark import Token, Tree

from pullpath.core.iac.bicep_ast import (
    Arr,
    Bin,
    Call,
    Cond,
    Ident,
    Index,
    Interp,
    Lit,
    Loop,
    MemberCall,
    Node,
    Obj,
    Prop,
    Unary,
    Unsupported,
    _Converter,
    _split_name,
)

_ARM_BINARY = {
    "*": "mul", "/": "div", "%": "mod", "+": "add", "-": "sub", ">": "greater",
    ">=": "greaterOrEquals", "<": "less", "<=": "lessOrEquals", "==": "equals", "&&": "and",
    "||": "or", "??": "coalesce",
}


class _Unsupported(Exception):
    """A value that cannot be translated; the message says what (never a value)."""


@dataclass
class _Resource:
    symbol: str
    type: str
    api: str
    existing: bool
    body: Node
    """The resource's object (inside any ``if``/``for``)."""
    tree: Tree[Token]
    parent: str = ""
    parent_index: Node | None = None
    """``parent: zones[i]``: the index into the parent's loop."""
    loop: Loop | None = None
    condition: Node | None = None
    line: int = 0
    column: int = 0
    end_line: int = 0

    def value(self, key: str) -> Node | None:
        if isinstance(self.body, Obj):
            for k, v, _ in self.body.pairs:
                if k == key:
                    return v
        return None


@dataclass
class _Var:
    node: Node
    line: int
    text: str | None = None
    inline: bool = False
    deps: set[str] = field(default_factory=set)
    busy: bool = False


_RUNTIME = re.compile(r"\b(reference|list\w*)\(")
_FILE_FUNCTIONS = ("loadTextContent", "loadJsonContent", "loadYamlContent", "loadFileAsBase64")


class _ExpressionWriter:
    """What the file declares, and every node written as an ARM expression string."""

    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.lines = text.split("\n")
        self.path = path
        self.conv = _Converter(text)
        self.issues: list[str] = []
        self.params: dict[str, dict[str, Any]] = {}
        self.vars: dict[str, _Var] = {}
        self.resources: dict[str, _Resource] = {}
        self.modules: set[str] = set()
        self.scope_kind = "resourceGroup"
        self.loop_vars: list[dict[str, str]] = []
        self.deps: list[set[str]] = []
        self.line = 0
        self.names_busy: set[str] = set()
        self.pending_params: list[tuple[list[Any], int]] = []

    # -- variables

    def _var_text(self, name: str) -> str:
        var = self.vars[name]
        if var.text is None:
            if var.busy:
                raise _Unsupported(f"variable '{name}' refers to itself")
            var.busy = True
            self.deps.append(set())
            saved, self.line = self.line, var.line
            try:
                var.text = self._expr(var.node) if not isinstance(var.node, Loop) else ""
            except _Unsupported as exc:
                var.text = ""
                var.node = Unsupported(str(exc))
            finally:
                var.deps = self.deps.pop()
                var.busy = False
                self.line = saved
            var.inline = bool(_RUNTIME.search(var.text))
        return var.text

    # -- expressions

    def _expr(self, node: Node) -> str:
        if isinstance(node, Lit):
            v = node.value
            if isinstance(v, bool):
                return "true()" if v else "false()"
            if v is None:
                return "null()"
            if isinstance(v, int):
                return str(v)
            return _quote(v)
        if isinstance(node, Interp):
            fmt: list[str] = []
            args: list[str] = []
            for part in node.parts:
                if isinstance(part, str):
                    fmt.append(part.replace("{", "{{").replace("}", "}}"))
                else:
                    fmt.append("{" + str(len(args)) + "}")
                    args.append(self._expr(part))
            return f"format({_quote(''.join(fmt))}, {', '.join(args)})"
        if isinstance(node, Arr):
            return f"createArray({', '.join(self._expr(i) for i in node.items)})"
        if isinstance(node, Obj):
            if any(isinstance(v, Loop) for _, v, _ in node.pairs):
                raise _Unsupported("a for-expression inside an expression")
            inner = ", ".join(
                f"{_quote(k) if isinstance(k, str) else self._expr(k)}, {self._expr(v)}"
                for k, v, _ in node.pairs)
            return f"createObject({inner})"
        if isinstance(node, Ident):
            return self._ident(node.name)
        if isinstance(node, Call):
            return self._call(node)
        if isinstance(node, Prop | Index | MemberCall):
            access = self._resource_access(node)
            if access is not None:
                return access
            if isinstance(node, Prop) and node.nested:
                raise _Unsupported("a '::' reference to an unknown resource")
            if isinstance(node, Prop):
                return f"{self._expr(node.obj)}.{node.name}"
            if isinstance(node, Index):
                return f"{self._expr(node.obj)}[{self._expr(node.index)}]"
            raise _Unsupported(f"the member function {node.name}() of a non-resource")
        if isinstance(node, Unary):
            operand = self._expr(node.operand)
            return f"not({operand})" if node.op == "!" else f"sub(0, {operand})"
        if isinstance(node, Bin):
            left, right = self._expr(node.left), self._expr(node.right)
            if node.op in ("=~", "!~"):
                test = f"equals(toLower({left}), toLower({right}))"
                return test if node.op == "=~" else f"not({test})"
            if node.op == "!=":
                return f"not(equals({left}, {right}))"
            return f"{_ARM_BINARY[node.op]}({left}, {right})"
        if isinstance(node, Cond):
            return f"if({self._expr(node.test)}, {self._expr(node.then)}, " \
                   f"{self._expr(node.other)})"
        if isinstance(node, Loop):
            raise _Unsupported("a for-expression inside an expression")
        raise _Unsupported(node.what)

    def _ident(self, name: str) -> str:
        for scope in reversed(self.loop_vars):
            if name in scope:
                return scope[name]
        if name in self.params:
            return f"parameters({_quote(name)})"
        if name in self.vars:
            text = self._var_text(name)
            var = self.vars[name]
            if isinstance(var.node, Unsupported):
                raise _Unsupported(f"variable '{name}': {var.node.what}")
            if self.deps:
                self.deps[-1].update(var.deps)
            return text if var.inline else f"variables({_quote(name)})"
        if name in self.resources:
            raise _Unsupported(f"resource '{name}' used as a value (read one of its properties)")
        if name in self.modules:
            raise _Unsupported(f"an output of module '{name}', which is not followed")
        raise _Unsupported(f"the name '{name}', which is not declared in this file")

    def _call(self, node: Call) -> str:
        if node.name in _FILE_FUNCTIONS:
            raise _Unsupported(f"{node.name}() reads another file")
        if node.name == "any" and len(node.args) == 1:
            return self._expr(node.args[0])
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", node.name):
            raise _Unsupported(f"the function {node.name}()")
        return f"{node.name}({', '.join(self._expr(a) for a in node.args)})"

    # -- resources

    def _symbol_of(self, node: Node) -> tuple[str, Node | None] | None:
        """The resource symbol ``node`` names (``acr``, ``vnet::aci``, ``zones[0]``) and the
        index for a resource loop."""
        if isinstance(node, Ident) and node.name in self.resources \
                and not any(node.name in s for s in self.loop_vars):
            return node.name, None
        if isinstance(node, Prop) and node.nested:
            base = self._symbol_of(node.obj)
            if base is not None and base[1] is None:
                name = f"{base[0]}::{node.name}"
                if name in self.resources:
                    return name, None
        if isinstance(node, Index):
            base = self._symbol_of(node.obj)
            if base is not None and base[1] is None and self.resources[base[0]].loop is not None:
                return base[0], node.index
        return None

    def _resource_access(self, node: Node) -> str | None:
        chain: list[Prop | Index | MemberCall] = []
        base: Node = node
        while isinstance(base, Prop | Index | MemberCall):
            if self._symbol_of(base) is not None:
                break
            if isinstance(base, Prop) and base.nested:
                return None
            chain.append(base)
            base = base.obj
        found = self._symbol_of(base)
        if found is None or not chain:
            return None
        symbol, index = found
        res = self.resources[symbol]
        chain.reverse()
        first = chain[0]
        with self._binding(res, index):
            self._depend(symbol)
            rid = self.resource_id(symbol)
            api = _quote(res.api)
            if isinstance(first, MemberCall):
                args = "".join(f", {self._expr(a)}" for a in first.args)
                text = f"{first.name}({rid}, {api}{args})"
            elif isinstance(first, Prop) and first.name == "id":
                text = rid
            elif isinstance(first, Prop) and first.name == "name":
                text = self._names(symbol)[-1]
            elif isinstance(first, Prop) and first.name == "type":
                text = _quote(res.type)
            elif isinstance(first, Prop) and first.name == "apiVersion":
                text = api
            elif isinstance(first, Prop) and first.name == "properties":
                text = f"reference({rid}, {api})"
            elif isinstance(first, Prop):
                text = f"reference({rid}, {api}, 'full').{first.name}"
            else:
                raise _Unsupported(f"an index into resource '{symbol}'")
        for step in chain[1:]:
            if isinstance(step, Prop):
                text += f".{step.name}"
            elif isinstance(step, Index):
                text += f"[{self._expr(step.index)}]"
            else:
                raise _Unsupported(f"the member function {step.name}() of a property")
        return text

    def _depend(self, symbol: str) -> None:
        """The resource being translated depends on ``symbol`` (for an ``existing`` one: on
        its parent, when this file deploys that)."""
        res = self.resources[symbol]
        if not self.deps:
            return
        if not res.existing:
            self.deps[-1].add(symbol)
        elif res.parent in self.resources:
            self._depend(res.parent)

    @contextmanager
    def _binding(self, res: _Resource, index: Node | None) -> Iterator[None]:
        if res.loop is None:
            if index is not None:
                raise _Unsupported(f"an index into resource '{res.symbol}', which has no loop")
            yield
            return
        if index is None:
            raise _Unsupported(f"resource loop '{res.symbol}' used without an index")
        source = self._expr(res.loop.source)
        position = self._expr(index)
        self.loop_vars.append({res.loop.item: f"{source}[{position}]",
                               **({res.loop.index: position} if res.loop.index else {})})
        try:
            yield
        finally:
            self.loop_vars.pop()

    def _names(self, symbol: str) -> list[str]:
        """One ARM expression per name segment of the resource (``[vnet, subnet]``)."""
        res = self.resources[symbol]
        if symbol in self.names_busy:
            raise _Unsupported(f"the name of resource '{symbol}' refers to itself")
        self.names_busy.add(symbol)
        try:
            name = res.value("name")
            if name is None:
                raise _Unsupported(f"resource '{symbol}' has no name")
            if res.parent:
                if res.parent not in self.resources:
                    raise _Unsupported(f"the parent of resource '{symbol}' is not declared")
                with self._binding(self.resources[res.parent], res.parent_index):
                    return [*self._names(res.parent), self._expr(name)]
            segments = len(res.type.split("/")) - 1
            if segments <= 1:
                return [self._expr(name)]
            literal = self._literal_form(name)
            parts = _split_name(literal, segments)
            if parts is not None:
                return [self._expr(p) for p in parts]
            if isinstance(literal, Lit | Interp):
                raise _Unsupported(f"the name of resource '{symbol}' does not have the "
                                   f"{segments} '/'-separated parts its type needs")
            whole = self._expr(name)
            return [f"split({whole}, '/')[{k}]" for k in range(segments)]
        finally:
            self.names_busy.discard(symbol)

    def _literal_form(self, node: Node) -> Node:
        """``node``, or the value of the variable it names (to split a name at its slashes)."""
        seen: set[str] = set()
        while isinstance(node, Ident) and node.name in self.vars and node.name not in seen \
                and node.name not in self.params \
                and not any(node.name in s for s in self.loop_vars):
            seen.add(node.name)
            node = self.vars[node.name].node
        return node

    def _scope_of(self, res: _Resource) -> tuple[str, str] | None:
        """(symbol of the resource ``scope:`` names, "") or ("", resourceId args prefix)."""
        scope = res.value("scope")
        if scope is None:
            return None
        if isinstance(scope, Call) and scope.name in ("resourceGroup", "subscription") \
                and not scope.args:
            return None
        if isinstance(scope, Call) and scope.name == "resourceGroup" and res.existing:
            return "", ", ".join(self._expr(a) for a in scope.args)
        found = self._symbol_of(scope)
        if found is None or found[1] is not None:
            raise _Unsupported(f"the scope of resource '{res.symbol}'")
        self._depend(found[0])
        return found[0], ""

    def resource_id(self, symbol: str) -> str:
        res = self.resources[symbol]
        names = ", ".join(self._names(symbol))
        scope = self._scope_of(res)
        if scope is not None and scope[0]:
            target = self.resources[scope[0]]
            with self._binding(target, None):
                return f"extensionResourceId({self.resource_id(scope[0])}, " \
                       f"{_quote(res.type)}, {names})"
        if scope is not None:
            return f"resourceId({scope[1]}, {_quote(res.type)}, {names})"
        fn = "subscriptionResourceId" if self.scope_kind == "subscription" else "resourceId"
        return f"{fn}({_quote(res.type)}, {names})"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
