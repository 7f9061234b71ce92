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

This module writes the template: declarations, parameters, variables, values, loops,
conditions, resources and where each is declared. :mod:`pullpath.core.iac.bicep_ast` reads
pycep's tree into nodes (with the precedence re-parse); :mod:`pullpath.core.iac.bicep_expr`
writes a node as an ARM expression.
"""

from __future__ import annotations

import re
from typing import Any

from lark import Token, Tree
from lark.exceptions import LarkError
from pycep.validator import BicepValidator

from pullpath.core.iac.bicep_ast import (
    Arr,
    Call,
    Index,
    Lit,
    Loop,
    Node,
    Obj,
    _decorators,
    _key,
    _parser,
    _symbol_path,
)
from pullpath.core.iac.bicep_expr import _ExpressionWriter, _quote, _Resource, _Unsupported, _Var
from pullpath.domain.iac import SourceLocation, unknown_value

__all__ = ["BicepError", "Location", "bicep_to_template", "fallback_hint"]

Location = dict[tuple[str | int, ...], SourceLocation]


class BicepError(ValueError):
    """A ``.bicep`` file that cannot be read; the message is one line with the fallback."""


def fallback_hint(path: str) -> str:
    return f"run `az bicep build --file {path}` and give the JSON to `pullpath explain --template`"


_QUOTED = re.compile(r"'(?:[^']|'')*'")


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


class _Translator(_ExpressionWriter):
    """The ARM template of one file: its declarations, values and resources."""

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

    # -- resources

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


