"""A ``.bicep`` file's syntax, read (pure, no I/O): pycep's Lark tree as small node classes.

``pycep-parser`` (the Bicep grammar Checkov maintains) parses the file; :class:`_Converter`
turns each expression of its tree into a :data:`Node` (:class:`Lit`, :class:`Interp`,
:class:`Ident`, :class:`Call`, :class:`Prop`, ...). pycep's grammar has no operator precedence
(``a.b > 1`` comes back as ``a.(b > 1)``): the tree of every expression is flattened back into
its token order and re-parsed by precedence climbing (:class:`_Climber`) with Bicep's table.
Interpolated strings come back as raw text: their holes are parsed again. A construct not read
is an :class:`Unsupported` node saying what. :mod:`pullpath.core.iac.bicep` writes the ARM
template from these nodes.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import LarkError
from pycep.main import BicepParser


@functools.cache
def _parser() -> Lark:
    # pycep's own Lark parser, built once; cache=False: no grammar cache file is written.
    return BicepParser(cache=False).lark_parser


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
