"""A ``.bicep`` file, read directly: the ARM deployment template ``az bicep build`` would emit.

Pure, no I/O. The file is parsed by ``pycep-parser`` (the Bicep grammar Checkov maintains) and
its syntax tree is translated into an ARM template of the classic shape (``languageVersion``
1: ``parameters``, ``variables``, a ``resources`` array) with every Bicep expression written as
an ARM template expression (``"[parameters('x')]"``, ``"[format('{0}-acr', ...)]"``,
``"[resourceId(...)]"``, ``"[reference(resourceId(...), '2023-07-01').principalId]"``), so the
one ARM evaluator reads both.

pycep's grammar has no operator precedence (``a.b > 1`` comes back as ``a.(b > 1)``): the
tree of every expression is flattened back into its token order and re-parsed here with
Bicep's precedence. Interpolated strings come back as raw text: their holes are parsed again.

Anything not read (a module, a lambda, ``loadTextContent()``...) is one issue line naming the
Bicep line, and the value it affects is :func:`~pullpath.domain.iac.unknown_value`, never a
guessed literal; the rest of the file is still read. A file the grammar cannot parse raises
:class:`BicepError`, whose message says to compile it with ``az bicep build`` instead.
docs/bicep.md lists what is read.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import LarkError
from pycep.main import BicepParser
from pycep.validator import BicepValidator

from pullpath.domain.iac import SourceLocation, unknown_value

__all__ = ["BicepError", "Location", "bicep_to_template", "fallback_hint"]

Location = dict[tuple[str | int, ...], SourceLocation]


class BicepError(ValueError):
    """A ``.bicep`` file that cannot be read; the message is one line with the fallback."""


def fallback_hint(path: str) -> str:
    return f"run `az bicep build --file {path}` and give the JSON to `pullpath explain --template`"


@functools.cache
def _parser() -> Lark:
    # pycep's own Lark parser, built once; cache=False: no grammar cache file is written.
    return BicepParser(cache=False).lark_parser


# ------------------------------------------------------------------------------ expressions


@dataclass(frozen=True)
class Lit:
    value: str | int | bool | None


@dataclass(frozen=True)
class Interp:
    parts: tuple[str | Node, ...]
    """Literal text and holes, in order."""


@dataclass(frozen=True)
class Ident:
    name: str


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Prop:
    obj: Node
    name: str
    nested: bool = False
    """``obj::name``: a nested resource, not a property."""


@dataclass(frozen=True)
class Index:
    obj: Node
    index: Node


@dataclass(frozen=True)
class MemberCall:
    obj: Node
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Unary:
    op: str
    operand: Node


@dataclass(frozen=True)
class Bin:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Cond:
    test: Node
    then: Node
    other: Node


@dataclass(frozen=True)
class Arr:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Obj:
    pairs: tuple[tuple[str | Node, Node, int], ...]
    """(key, value, line); a key with ``${...}`` is a node."""
    children: tuple[Tree[Token], ...] = ()
    """Nested ``resource`` declarations (only in a resource body)."""


@dataclass(frozen=True)
class Loop:
    item: str
    index: str
    source: Node
    condition: Node | None
    body: Node


@dataclass(frozen=True)
class Unsupported:
    what: str


Node = Lit | Interp | Ident | Call | Prop | Index | MemberCall | Unary | Bin | Cond | Arr | Obj \
    | Loop | Unsupported

_BINARY = {
    "multiply": ("*", 7), "divide": ("/", 7), "modulo": ("%", 7),
    "add": ("+", 6), "substract": ("-", 6),
    "greater_than": (">", 5), "greater_than_or_equals": (">=", 5), "less_than": ("<", 5),
    "less_than_or_equals": ("<=", 5),
    "equals": ("==", 4), "not_equals": ("!=", 4), "equals_case_insens": ("=~", 4),
    "not_equals_case_insens": ("!~", 4),
    "and_op": ("&&", 3), "or_op": ("||", 2), "coalesce": ("??", 1),
}
"""pycep rule -> (Bicep operator, precedence; higher binds tighter). Bicep's table: unary
``! -``, then ``* / %``, ``+ -``, comparisons, equality, ``&&``, ``||``, ``??``, ``?:``."""
_COND_PREC = 0

_ARM_BINARY = {
    "*": "mul", "/": "div", "%": "mod", "+": "add", "-": "sub", ">": "greater",
    ">=": "greaterOrEquals", "<": "less", "<=": "lessOrEquals", "==": "equals", "&&": "and",
    "||": "or", "??": "coalesce",
}


class _Converter:
    """pycep's Lark tree -> :data:`Node`, with Bicep's operator precedence restored."""

    def __init__(self, text: str) -> None:
        self.text = text

    def expr(self, tree: Any) -> Node:
        if not (isinstance(tree, Tree) and tree.data == "operator"):
            return self.atom(tree)
        items: list[Any] = []
        self._flatten(tree, items, top=True)
        return _Climber(items).parse()

    # -- token order

    def _parenthesized(self, tree: Tree[Token]) -> bool:
        meta = tree.meta
        if getattr(meta, "empty", True):
            return False
        before = self.text[:meta.start_pos].rstrip()
        after = self.text[meta.end_pos:].lstrip()
        return before.endswith("(") and after.startswith(")") and _balanced(
            self.text[meta.start_pos:meta.end_pos])

    def _flatten(self, tree: Any, out: list[Any], *, top: bool = False) -> None:
        if not (isinstance(tree, Tree) and tree.data == "operator") or (
                not top and self._parenthesized(tree)):
            out.append(self.expr(tree) if isinstance(tree, Tree) and tree.data == "operator"
                       else self.atom(tree))
            return
        op = tree.children[0]
        kind, ch = str(op.data), op.children
        if kind in _BINARY:
            self._flatten(ch[0], out)
            out.append(("bin", _BINARY[kind][0]))
            self._flatten(ch[1], out)
        elif kind in ("not_op", "minus"):
            out.append(("pre", "!" if kind == "not_op" else "-"))
            self._flatten(ch[0], out)
        elif kind == "conditional":
            self._flatten(ch[0], out)
            out.append(("cond", self.expr(ch[1])))
            self._flatten(ch[2], out)
        elif kind == "property_accessor":
            self._flatten(ch[0], out)
            out.append(("dot",))
            self._flatten(ch[1], out)
        elif kind == "nested_resource_accessor":
            self._flatten(ch[0], out)
            out.append(("colons",))
            self._flatten(ch[1], out)
        elif kind == "index_accessor":
            self._flatten(ch[0], out)
            out.append(("index", self.expr(ch[1])))
        elif kind == "function_accessor":
            self._flatten(ch[0], out)
            out.append(("call", str(ch[1]), tuple(self.expr(a) for a in ch[2:] if a is not None)))
        else:
            out.append(Unsupported(f"operator {kind}"))

    # -- atoms

    def atom(self, tree: Any) -> Node:
        if isinstance(tree, Token):
            return Ident(str(tree)) if tree.type == "STRING" else _string(self, str(tree))
        if not isinstance(tree, Tree):
            return Lit(None)
        kind, ch = str(tree.data), tree.children
        if kind == "string":
            tok = ch[0]
            if isinstance(tok, Token) and tok.type == "STRING":
                return Ident(str(tok))
            return _string(self, str(tok))
        if kind == "int_type":
            return Lit(int(str(ch[0])))
        if kind in ("true", "false"):
            return Lit(kind == "true")
        if kind == "null":
            return Lit(None)
        if kind == "multi_line_string":
            body = str(ch[0])[3:-3]
            return Lit(body[1:] if body.startswith("\n") else body.removeprefix("\r\n"))
        if kind == "array":
            return Arr(tuple(self.expr(c) for c in ch if c is not None))
        if kind == "object":
            pairs: list[tuple[str | Node, Node, int]] = []
            children: list[Tree[Token]] = []
            for c in ch:
                if not isinstance(c, Tree):
                    continue
                if c.data == "child_resource":
                    children.append(c)
                    continue
                key = self.key(c.children[0])
                line = 0 if getattr(c.meta, "empty", True) else c.meta.line
                pairs.append((key, self.expr(c.children[1]), line))
            return Obj(tuple(pairs), tuple(children))
        if kind == "function":
            name = str(ch[0]).rstrip("(").strip()
            name = name.split(".", 1)[1] if name.startswith(("sys.", "az.")) else name
            return Call(name, tuple(self.expr(c) for c in ch[1:] if c is not None))
        if kind == "loop":
            return self.loop(tree)
        if kind == "operator":
            return self.expr(tree)
        if kind == "lambda_expression":
            return Unsupported("a lambda expression")
        return Unsupported(f"the construct {kind}")

    def key(self, tree: Any) -> str | Node:
        text = _key(tree)
        raw = str(tree.children[0]) if isinstance(tree, Tree) and tree.children else ""
        if raw.startswith("'") and "${" in raw:
            node = _string(self, raw)
            return text if isinstance(node, Lit) else node
        return text

    def loop(self, tree: Tree[Token]) -> Node:
        head, cond, body = tree.children[0], tree.children[1], tree.children[2]
        assert isinstance(head, Tree)
        hc = head.children
        if head.data == "loop_array":
            item, index, source = str(hc[0]), "", self.expr(hc[1])
        elif head.data == "loop_array_index":
            item, index, source = str(hc[0]), str(hc[1]), self.expr(hc[2])
        else:
            item, index, source = str(hc[0]), "", Call("items", (self.expr(hc[1]),))
        condition: Node | None = None
        if cond is not None:
            c = self.expr(cond)
            condition = c.args[0] if isinstance(c, Call) and c.name == "if" and c.args else \
                Unsupported("a loop filter")
        inner = self.expr(body)
        if isinstance(inner, Call) and inner.name == "if" and condition is None:
            condition = Unsupported("a loop filter")
        return Loop(item, index, source, condition, inner)


def _key(tree: Any) -> str:
    tok = tree.children[0] if isinstance(tree, Tree) and tree.children else tree
    text = str(tok)
    if len(text) >= 2 and text[0] == "'" and text[-1] == "'":
        return _unescape(text[1:-1])
    return text


def _balanced(text: str) -> bool:
    depth, quoted = 0, False
    for ch in text:
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


_ESCAPES = {"\\": "\\", "'": "'", "n": "\n", "r": "\r", "t": "\t", "$": "$"}


def _unescape(text: str) -> str:
    return re.sub(r"\\(u\{[0-9A-Fa-f]+\}|.)", lambda m: (
        chr(int(m.group(1)[2:-1], 16)) if m.group(1).startswith("u{")
        else _ESCAPES.get(m.group(1), m.group(1))), text)


def _string(conv: _Converter, quoted: str) -> Node:
    """A quoted Bicep string (``'a${b}c'``) -> :class:`Lit` or :class:`Interp`."""
    body = quoted[1:-1] if len(quoted) >= 2 and quoted[0] == quoted[-1] == "'" else quoted
    parts: list[str | Node] = []
    buf: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            buf.append(body[i:i + 2])
            i += 2
            continue
        if ch == "$" and body.startswith("${", i):
            end = _hole_end(body, i + 2)
            if end < 0:
                return Unsupported("an unterminated string interpolation")
            parts.append(_unescape("".join(buf)))
            buf = []
            parts.append(_parse_hole(body[i + 2:end]))
            i = end + 1
            continue
        buf.append(ch)
        i += 1
    parts.append(_unescape("".join(buf)))
    holes = [p for p in parts if not isinstance(p, str)]
    if not holes:
        return Lit("".join(p for p in parts if isinstance(p, str)))
    return Interp(tuple(p for p in parts if p != ""))


def _hole_end(body: str, start: int) -> int:
    depth, quoted, i = 0, False, start
    while i < len(body):
        ch = body[i]
        if ch == "\\" and quoted:
            i += 2
            continue
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch == "{":
            depth += 1
        elif not quoted and ch == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    return -1


def _parse_hole(source: str) -> Node:
    text = f"var v = {source}\n"
    try:
        tree = _parser().parse(text)
    except (LarkError, ValueError, RecursionError):
        return Unsupported("a string interpolation pycep cannot parse")
    elements = [e for e in tree.children if isinstance(e, Tree)]
    if len(elements) != 1 or elements[0].data != "var":
        return Unsupported("a string interpolation pycep cannot parse")
    return _Converter(text).expr(elements[0].children[3])


class _Climber:
    """Precedence climbing over the flattened token order of one expression."""

    def __init__(self, items: list[Any]) -> None:
        self.items = items
        self.pos = 0

    def parse(self) -> Node:
        node = self.binary(_COND_PREC)
        if self.pos != len(self.items):
            return Unsupported("an expression pycep split unexpectedly")
        return node

    def _peek(self) -> Any:
        return self.items[self.pos] if self.pos < len(self.items) else None

    def binary(self, min_prec: int) -> Node:
        left = self.unary()
        while True:
            tok = self._peek()
            if isinstance(tok, tuple) and tok[0] == "bin":
                prec = next(p for o, p in _BINARY.values() if o == tok[1])
                if prec < min_prec or prec == _COND_PREC:
                    return left
                self.pos += 1
                left = Bin(tok[1], left, self.binary(prec + 1))
            elif isinstance(tok, tuple) and tok[0] == "cond" and min_prec <= _COND_PREC:
                self.pos += 1
                left = Cond(left, tok[1], self.binary(_COND_PREC))
            else:
                return left

    def unary(self) -> Node:
        tok = self._peek()
        if isinstance(tok, tuple) and tok[0] == "pre":
            self.pos += 1
            operand = self.unary()
            if tok[1] == "-" and isinstance(operand, Lit) and isinstance(operand.value, int) \
                    and not isinstance(operand.value, bool):
                return Lit(-operand.value)
            return Unary(tok[1], operand)
        if tok is None or isinstance(tok, tuple):
            self.pos += 1
            return Unsupported("an incomplete expression")
        self.pos += 1
        node: Node = tok
        while isinstance(self._peek(), tuple) and self._peek()[0] in (
                "dot", "colons", "index", "call"):
            step = self._peek()
            self.pos += 1
            if step[0] == "index":
                node = Index(node, step[1])
            elif step[0] == "call":
                node = MemberCall(node, step[1], step[2])
            else:
                name = self._peek()
                self.pos += 1
                if not isinstance(name, Ident):
                    return Unsupported("a property access pycep split unexpectedly")
                node = Prop(node, name.name, nested=step[0] == "colons")
        return node


# ------------------------------------------------------------------------------ translation


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


_QUOTED = re.compile(r"'(?:[^']|'')*'")
_RUNTIME = re.compile(r"\b(reference|list\w*)\(")
_FILE_FUNCTIONS = ("loadTextContent", "loadJsonContent", "loadYamlContent", "loadFileAsBase64")


def bicep_to_template(
    text: str, *, path: str,
) -> tuple[dict[str, Any], Location, list[str]]:
    """The ARM template ``az bicep build`` would emit for ``text`` (the content of ``path``),
    the location of each resource (``("resources", i)`` -> where ``resource <name>`` is
    written) and one issue line per part not read. Raises :class:`BicepError` only for a file
    the grammar cannot parse."""
    source = text.replace("\r\n", "\n")
    if not source.endswith("\n"):
        source += "\n"
    if not BicepValidator.is_valid(source):
        raise BicepError(f"{path}: an unterminated ''' string; {fallback_hint(path)}")
    try:
        tree = _parser().parse(source)
    except LarkError as exc:
        line = getattr(exc, "line", 0)
        where = f"{path}:{line}" if isinstance(line, int) and line > 0 else path
        raise BicepError(f"{where}: not Bicep that pycep-parser reads; {fallback_hint(path)}") \
            from None
    except (RecursionError, ValueError):
        raise BicepError(f"{path}: not Bicep that pycep-parser reads; {fallback_hint(path)}") \
            from None
    try:
        return _Translator(source, path).run(tree)
    except RecursionError:
        raise BicepError(f"{path}: nested too deeply to read; {fallback_hint(path)}") from None


class _Translator:
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

    def issue(self, line: int, message: str) -> None:
        message = " ".join(message.split())
        self.issues.append(f"{self.path}:{line}: {message}" if line else f"{self.path}: {message}")

    # -- entry

    def run(self, tree: Tree[Token]) -> tuple[dict[str, Any], Location, list[str]]:
        elements = [e for e in tree.children if isinstance(e, Tree)]
        for el in elements:
            self._declare(el)
        for ch, line in self.pending_params:
            self._param(ch, line)
        parameters = dict(self.params)
        variables: dict[str, Any] = {}
        for name, var in self.vars.items():
            self._var_text(name)
            if not var.inline:
                variables[name] = self._var_value(name, var)
        resources: list[dict[str, Any]] = []
        locations: Location = {}
        for res in self.resources.values():
            try:
                entry = self._resource(res)
            except (LookupError, TypeError, ValueError, AttributeError) as exc:
                # a shape this translator does not expect: that resource only is lost
                self.issue(res.line, f"resource '{res.symbol}' is not read "
                                     f"({type(exc).__name__})")
                continue
            locations[("resources", len(resources))] = SourceLocation(
                self.path, res.line, res.column, res.end_line, res.symbol)
            resources.append(entry)
        schema = ("https://schema.management.azure.com/schemas/2018-05-01/"
                  "subscriptionDeploymentTemplate.json#" if self.scope_kind == "subscription"
                  else "https://schema.management.azure.com/schemas/2019-04-01/"
                  "deploymentTemplate.json#")
        template: dict[str, Any] = {
            "$schema": schema,
            "contentVersion": "1.0.0.0",
            "metadata": {"_generator": {"name": "pullpath", "source": "bicep"}},
            "parameters": parameters,
            "variables": variables,
            "resources": resources,
        }
        return template, locations, self.issues

    # -- declarations

    def _declare(self, el: Tree[Token]) -> None:
        kind = str(el.data)
        line = 0 if getattr(el.meta, "empty", True) else el.meta.line
        ch = el.children
        if kind == "scope":
            scope = _key(ch[0])
            if scope == "subscription":
                self.scope_kind = "subscription"
            elif scope != "resourceGroup":
                self.issue(line, f"targetScope '{scope}' is read as a resource group deployment")
        elif kind == "param":
            self.params[str(ch[1])] = {}
            self.pending_params.append((ch, line))
        elif kind == "var":
            name = str(ch[1])
            self.vars[name] = _Var(self.conv.expr(ch[3]), line)
        elif kind == "resource" and str(ch[1]) in self.resources:
            self.issue(line, f"resource '{ch[1]}' is declared twice: the second is not read")
        elif kind == "resource":
            self._declare_resource(el, str(ch[1]), _key(ch[2]), ch[3] is not None, ch[4], "")
        elif kind == "module":
            name, target = str(ch[1]), _key(ch[2].children[0] if isinstance(ch[2], Tree)
                                            else ch[2])
            self.modules.add(name)
            line = self._declaration_line(el, name, "module")[0]
            self.issue(line, f"module '{name}' ({target}) is not followed: its resources are "
                             f"not read; {fallback_hint(self.path)}")
        elif kind in ("custom_import", "custom_func", "extension"):
            self.issue(line, f"'{kind.removeprefix('custom_')}' declarations are not read")

    def _param(self, ch: list[Any], line: int) -> None:
        name = str(ch[1])
        decorators = _decorators(ch[0])
        base = "object"
        dtype = ch[2]
        if isinstance(dtype, Tree):
            text = self.text[dtype.meta.start_pos:dtype.meta.end_pos] \
                if not getattr(dtype.meta, "empty", True) else ""
            if text.endswith("[]"):
                base = "array"
            elif text in ("string", "int", "bool", "object", "array"):
                base = text
        secure = "secure" in decorators
        spec: dict[str, Any] = {
            "type": ("securestring" if base == "string" else "secureObject") if secure else base}
        self.line = line
        if ch[3] is not None and secure:
            # never carried: a secret is not network-relevant and must never be printed
            spec["defaultValue"] = unknown_value(f"@secure() parameter '{name}' is not read")
        elif ch[3] is not None:
            spec["defaultValue"] = self._value(self.conv.expr(ch[3]))
        if "allowed" in decorators and decorators["allowed"] is not None:
            allowed = self._value(self.conv.expr(decorators["allowed"]))
            if isinstance(allowed, list):
                spec["allowedValues"] = allowed
        if "description" in decorators and decorators["description"] is not None:
            desc = self.conv.expr(decorators["description"])
            if isinstance(desc, Lit):
                spec["metadata"] = {"description": desc.value}
        self.params[name] = spec

    def _declare_resource(self, el: Tree[Token], symbol: str, type_api: str, existing: bool,
                          body_tree: Any, parent: str) -> None:
        rtype, _, api = type_api.partition("@")
        if parent:
            ptype = self.resources[parent].type
            if "/" not in rtype:
                rtype = f"{ptype}/{rtype}"
            api = api or self.resources[parent].api
        node = self.conv.expr(body_tree)
        loop: Loop | None = None
        condition: Node | None = None
        if isinstance(node, Loop):
            loop, condition, node = node, node.condition, node.body
        if isinstance(body_tree, Tree) and body_tree.data == "deploy_condition":
            condition = self.conv.expr(body_tree.children[0])
            node = self.conv.expr(body_tree.children[1])
        line, column = self._declaration_line(el, symbol)
        end = body_tree if isinstance(body_tree, Tree) else el
        res = _Resource(symbol, rtype, api, existing, node, el, parent=parent, loop=loop,
                        condition=condition, line=line, column=column,
                        end_line=0 if getattr(end.meta, "empty", True) else end.meta.end_line)
        if not parent:
            parent_node = res.value("parent")
            if isinstance(parent_node, Index):
                res.parent_index, parent_node = parent_node.index, parent_node.obj
            if parent_node is not None:
                res.parent = _symbol_path(parent_node) or "?"
        self.resources[symbol] = res
        if isinstance(node, Obj):
            for child in node.children:
                cc = child.children
                self._declare_resource(child, f"{symbol}::{cc[0]}", _key(cc[1]), cc[2] is not None,
                                       cc[3], symbol)

    def _declaration_line(self, el: Tree[Token], symbol: str,
                          keyword: str = "resource") -> tuple[int, int]:
        """(line, column) of ``<keyword> <symbol>``, after any decorators."""
        if getattr(el.meta, "empty", True):
            return 0, 0
        short = symbol.rsplit("::", 1)[-1]
        pattern = re.compile(rf"^(\s*){keyword}\s+{re.escape(short)}\b")
        for number in range(el.meta.line, min(el.meta.end_line, len(self.lines)) + 1):
            m = pattern.match(self.lines[number - 1])
            if m:
                return number, len(m.group(1)) + 1
        return el.meta.line, el.meta.column

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

    def _var_value(self, name: str, var: _Var) -> Any:
        self.line = var.line
        self.deps.append(set())
        try:
            if isinstance(var.node, Loop):
                return self._loop_value(name, var.node, f"copyIndex('{name}')", variable=True)
            return self._value(var.node)
        finally:
            self.deps.pop()

    # -- values

    def _value(self, node: Node) -> Any:
        """``node`` as template JSON: literals stay JSON, the rest is ``"[expression]"``."""
        try:
            if isinstance(node, Lit):
                if isinstance(node.value, str) and node.value.startswith("["):
                    return "[" + node.value
                return node.value
            if isinstance(node, Arr):
                return [self._value(item) for item in node.items]
            if isinstance(node, Obj):
                return self._object(node)
            if isinstance(node, Loop):
                raise _Unsupported("a for-expression outside a property, variable or resource")
            text = self._expr(node)
            if _QUOTED.fullmatch(text):
                return self._value(Lit(text[1:-1].replace("''", "'")))
            return f"[{text}]"
        except _Unsupported as exc:
            self.issue(self.line, f"{exc}: the value is unknown")
            return unknown_value(f"{self.path}:{self.line}: {exc}")

    def _object(self, node: Obj, skip: tuple[str, ...] = ()) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value, line in node.pairs:
            if key in skip:
                continue
            self.line = line or self.line
            if not isinstance(key, str):
                try:
                    key = f"[{self._expr(key)}]"
                except _Unsupported as exc:
                    self.issue(self.line, f"{exc}: an object key is unknown, its entry is not read")
                    continue
            if isinstance(value, Loop):
                out.setdefault("copy", []).append(
                    self._loop_value(key, value, f"copyIndex('{key}')", variable=False))
            else:
                out[key] = self._value(value)
        return out

    def _loop_value(self, name: str, loop: Loop, index: str, *, variable: bool) -> Any:
        try:
            if loop.condition is not None:
                raise _Unsupported("a filtered for-expression ([for ...: if (...) ...])")
            source = self._expr(loop.source)
        except _Unsupported as exc:
            self.issue(self.line, f"{exc}: '{name}' is unknown")
            return {"name": name, "count": 0,
                    "input": unknown_value(f"{self.path}:{self.line}: {exc}")}
        self.loop_vars.append({loop.item: f"{source}[{index}]",
                               **({loop.index: index} if loop.index else {})})
        try:
            body = self._value(loop.body)
        finally:
            self.loop_vars.pop()
        return {"name": name, "count": f"[length({source})]", "input": body}

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

    def _resource(self, res: _Resource) -> dict[str, Any]:
        out: dict[str, Any] = {}
        self.line = res.line
        self.deps.append(set())
        pushed = False
        try:
            if res.loop is not None:
                try:
                    source = self._expr(res.loop.source)
                except _Unsupported as exc:
                    self.issue(res.line, f"{exc}: resource '{res.symbol}' is not read")
                    return {"type": res.type, "apiVersion": res.api, "name": unknown_value(
                        f"{self.path}:{res.line}: {exc}")}
                out["copy"] = {"name": res.symbol, "count": f"[length({source})]"}
                self.loop_vars.append({res.loop.item: f"{source}[copyIndex()]",
                                       **({res.loop.index: "copyIndex()"}
                                          if res.loop.index else {})})
                pushed = True
            if res.condition is not None:
                out["condition"] = self._value(res.condition)
            out["type"] = res.type
            out["apiVersion"] = res.api
            if res.parent in self.resources:
                self._depend(res.parent)
            try:
                names = self._names(res.symbol)
                name = res.value("name")
                if not res.parent and name is not None:
                    out["name"] = self._value(name)
                else:
                    slots = "/".join("{" + str(i) + "}" for i in range(len(names)))
                    out["name"] = _as_value(f"format('{slots}', {', '.join(names)})")
            except _Unsupported as exc:
                self.issue(res.line, f"{exc}: the name of resource '{res.symbol}' is unknown")
                out["name"] = unknown_value(f"{self.path}:{res.line}: {exc}")
            try:
                scope = self._scope_of(res)
                if scope is not None and scope[0]:
                    out["scope"] = _as_value(self._scope_text(scope[0]))
                elif scope is not None:
                    group = res.value("scope")
                    args = group.args if isinstance(group, Call) else ()
                    if len(args) == 2:
                        out["subscriptionId"] = self._value(args[0])
                    if args:
                        out["resourceGroup"] = self._value(args[-1])
                    self.issue(res.line, f"resource '{res.symbol}' is in another resource "
                                         "group: its ID is resourceId(group, ...)")
            except _Unsupported as exc:
                self.issue(res.line, f"{exc}: the scope of resource '{res.symbol}' is unknown")
                out["scope"] = unknown_value(f"{self.path}:{res.line}: {exc}")
            if res.existing:
                out["existing"] = True
                return out
            if not isinstance(res.body, Obj):
                self.issue(res.line, f"the body of resource '{res.symbol}' is not an object")
                return out
            out.update(self._object(res.body, skip=("name", "parent", "scope", "dependsOn")))
            explicit = res.value("dependsOn")
            if isinstance(explicit, Arr):
                for item in explicit.items:
                    found = self._symbol_of(item)
                    if found is not None:
                        self._depend(found[0])
                    else:
                        self.issue(res.line, f"a dependsOn entry of resource '{res.symbol}' "
                                             "is not a resource of this file")
            deps = [d for d in self.deps[-1] if d != res.symbol]
            if deps:
                out["dependsOn"] = [self._dependency(d) for d in sorted(deps)]
            return out
        finally:
            if pushed:
                self.loop_vars.pop()
            self.deps.pop()

    def _dependency(self, symbol: str) -> str:
        res = self.resources[symbol]
        if res.loop is not None:
            return symbol
        try:
            return f"[{self.resource_id(symbol)}]"
        except _Unsupported as exc:
            return unknown_value(f"{self.path}:{res.line}: {exc}")

    def _scope_text(self, symbol: str) -> str:
        """``scope`` of an extension resource: ``NS/type/{0}/child/{1}`` as Bicep writes it."""
        target = self.resources[symbol]
        if self._scope_of(target) is not None:
            return self.resource_id(symbol)
        with self._binding(target, None):
            names = self._names(symbol)
        types = target.type.split("/")
        pattern = types[0] + "".join(f"/{t}/{{{i}}}" for i, t in enumerate(types[1:]))
        return f"format({_quote(pattern)}, {', '.join(names)})"


def _as_value(expr: str) -> str:
    return f"[{expr}]"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _symbol_path(node: Node) -> str | None:
    if isinstance(node, Ident):
        return node.name
    if isinstance(node, Prop) and node.nested:
        base = _symbol_path(node.obj)
        return f"{base}::{node.name}" if base else None
    return None


def _split_name(node: Node, segments: int) -> list[Node] | None:
    """``'vnet/aci'`` or ``'${vnetName}/aci'`` split at its literal slashes."""
    parts: list[str | Node]
    if isinstance(node, Lit) and isinstance(node.value, str):
        parts = [node.value]
    elif isinstance(node, Interp):
        parts = list(node.parts)
    else:
        return None
    out: list[list[str | Node]] = [[]]
    for part in parts:
        if isinstance(part, str):
            pieces = part.split("/")
            out[-1].append(pieces[0])
            for piece in pieces[1:]:
                out.append([piece])
        else:
            out[-1].append(part)
    if len(out) != segments:
        return None
    nodes: list[Node] = []
    for seg in out:
        kept = tuple(p for p in seg if p != "")
        if all(isinstance(p, str) for p in kept):
            nodes.append(Lit("".join(p for p in kept if isinstance(p, str))))
        elif len(kept) == 1 and not isinstance(kept[0], str):
            nodes.append(kept[0])
        else:
            nodes.append(Interp(kept))
    return nodes


def _decorators(tree: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(tree, Tree):
        for dec in tree.children:
            if isinstance(dec, Tree) and dec.children:
                name = str(dec.children[0]).removeprefix("sys.")
                out[name] = dec.children[1] if len(dec.children) > 1 else None
    return out
