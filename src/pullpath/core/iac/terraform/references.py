"""The reader's configuration index and reference following: an attribute the plan knows only
after apply is looked up in ``configuration`` (its expression's ``references``, through module
calls, their variables and outputs, and ``each.value`` of a ``for_each`` over another
resource), so ``subnet_ids = [azurerm_subnet.aci.id]`` gives the ID of that subnet. What cannot
be followed gives None, never a guess. Part of :class:`~.reader._Reader`. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pullpath.core.iac.terraform.addresses import TfAddress, _path_parts, _steps
from pullpath.core.iac.terraform.plan import (
    _ID_NOT_ARM,
    _MAX_DEPTH,
    _UNKNOWN,
    ARM_TYPES,
    _Accept,
    _Instance,
    _is_id,
    _Ref,
    _same_attr,
    _Unknown,
)
from pullpath.domain.iac import is_unknown_value


class _References:
    """The configuration and the references of :class:`~.reader._Reader` (its base)."""

    plan: Mapping[str, Any]
    _configs: dict[tuple[str, ...], Mapping[str, Any]]
    _config_index: dict[tuple[str, ...], dict[str, Mapping[str, Any]]]
    _by_local: dict[tuple[str, str], list[_Instance]]

    if TYPE_CHECKING:  # the reader's own (values, IDs, stand-ins), used here
        @staticmethod
        def raw(inst: _Instance, path: str | list[str | int]) -> Any: ...
        def id_of(self, inst: _Instance) -> str: ...
        def login_server(self, inst: _Instance) -> str: ...
        def identity_ids(self, inst: _Instance) -> dict[str, str]: ...

    # -- the configuration --------------------------------------------------------------

    def _index_configuration(self) -> dict[tuple[str, ...], Mapping[str, Any]]:
        out: dict[tuple[str, ...], Mapping[str, Any]] = {}
        cfg = self.plan.get("configuration")
        root = cfg.get("root_module") if isinstance(cfg, Mapping) else None

        def walk(module: object, calls: tuple[str, ...]) -> None:
            if not isinstance(module, Mapping) or len(calls) > _MAX_DEPTH:
                return
            out[calls] = module
            mcalls = module.get("module_calls")
            if isinstance(mcalls, Mapping):
                for name, call in mcalls.items():
                    if isinstance(name, str) and isinstance(call, Mapping):
                        walk(call.get("module"), (*calls, name))

        walk(root, ())
        return out

    def _config_resource(self, addr: TfAddress) -> Mapping[str, Any] | None:
        index = self._config_index.get(addr.calls)
        if index is None:
            module = self._configs.get(addr.calls)
            resources = module.get("resources") if module is not None else None
            index = {res["address"]: res for res in resources if isinstance(res, Mapping)
                     and isinstance(res.get("address"), str)} if isinstance(
                resources, list) else {}
            self._config_index[addr.calls] = index
        return index.get(addr.local)

    # -- references ---------------------------------------------------------------------

    def _expression(self, inst: _Instance, path: str) -> tuple[Mapping[str, Any], list[str | int]
                                                               ] | None:
        """The configuration expression an attribute path is written with, and the part of
        the path inside its value."""
        if inst.config is None:
            return None
        cur: Any = inst.config.get("expressions")
        parts = _path_parts(path)
        for i, part in enumerate(parts):
            if isinstance(cur, Mapping) and ("references" in cur or "constant_value" in cur):
                return cur, parts[i:]
            if isinstance(part, int):
                if isinstance(cur, list):
                    if len(cur) != 1:
                        return None  # several blocks: which one is which is not known
                    cur = cur[0]
                elif not isinstance(cur, Mapping):
                    return None
            elif isinstance(cur, Mapping):
                cur = cur.get(part)
            else:
                return None
        if isinstance(cur, Mapping) and ("references" in cur or "constant_value" in cur):
            return cur, []
        return None

    def resolve(self, module: str, calls: tuple[str, ...], expr: Mapping[str, Any],
                depth: int) -> list[_Ref] | None:
        """What an expression refers to: one :class:`_Ref` per distinct reference; None when
        any of them cannot be followed."""
        if depth > _MAX_DEPTH:
            return None
        if "constant_value" in expr and not expr.get("references"):
            return [_Ref(constant=expr.get("constant_value"))]
        refs = expr.get("references")
        if not isinstance(refs, list):
            return None
        texts = [r for r in refs if isinstance(r, str)]
        leaves = [r for r in dict.fromkeys(texts)
                  if not any(o != r and (o.startswith(r + ".") or o.startswith(r + "["))
                             for o in texts)]
        out: list[_Ref] = []
        for ref in leaves:
            got = self._follow(module, calls, ref, depth)
            if got is None:
                return None
            out.extend(got)
        return out

    def _follow(self, module: str, calls: tuple[str, ...], ref: str,
                depth: int) -> list[_Ref] | None:
        steps = _steps(ref)
        if not steps:
            return None
        head = steps[0][0]
        if head == "var" and len(steps) >= 2 and not steps[1][1]:
            return self._follow_var(module, calls, steps[1][0], depth)
        if head == "module" and len(steps) >= 3:
            return self._follow_output(module, calls, steps[1], steps[2][0], depth)
        if head in ("local", "each", "count", "path", "terraform", "self"):
            return None
        mode = "managed"
        if head == "data":
            mode, steps = "data", steps[1:]
        if len(steps) < 2 or steps[0][1]:
            return None
        rtype, (rname, key) = steps[0][0], steps[1]
        local = f"{'data.' if mode == 'data' else ''}{rtype}.{rname}"
        candidates = self._by_local.get((module, local), [])
        if key:
            candidates = [c for c in candidates if c.addr.key == key]
        if len(candidates) != 1:
            return None  # not in the plan, or several instances and the reference names none
        attr: list[str | int] = []
        for name, idx in steps[2:]:
            attr.append(name)
            attr.extend(int(k) for k in re.findall(r"\[(\d+)\]", idx))
        return [_Ref(inst=candidates[0], attr=attr)]

    def _each_value(self, inst: _Instance, expr: Mapping[str, Any]) -> list[_Ref] | None:
        """``each.value.<attr>`` of a resource whose ``for_each`` is another resource's
        instances (``for_each = azurerm_user_assigned_identity.pull``): that resource's
        instance of the same key, and the attribute. None for any other expression."""
        refs = [r for r in expr.get("references") or () if isinstance(r, str)]
        leaves = [r for r in refs if r.startswith("each.value.")]
        if len(leaves) != 1 or any(r not in (leaves[0], "each.value") for r in refs) \
                or not inst.addr.key or inst.config is None:
            return None
        each = inst.config.get("for_each_expression")
        sources = each.get("references") if isinstance(each, Mapping) else None
        locals_ = [r for r in sources or () if isinstance(r, str) and "[" not in r
                   and len(r.split(".")) == 2 and not r.startswith(("var.", "local."))]
        if len(locals_) != 1:
            return None
        candidates = [c for c in self._by_local.get((inst.addr.module, locals_[0]), [])
                      if c.addr.key == inst.addr.key]
        if len(candidates) != 1:
            return None
        steps = _steps(leaves[0])
        if not steps or len(steps) < 3:
            return None
        return [_Ref(inst=candidates[0], attr=[name for name, _ in steps[2:]])]

    def _follow_var(self, module: str, calls: tuple[str, ...], name: str,
                    depth: int) -> list[_Ref] | None:
        if not calls:
            variables = self.plan.get("variables")
            var = variables.get(name) if isinstance(variables, Mapping) else None
            if isinstance(var, Mapping) and "value" in var:
                return [_Ref(constant=var["value"])]
            return None
        parent = self._configs.get(calls[:-1])
        mcalls = parent.get("module_calls") if parent is not None else None
        call = mcalls.get(calls[-1]) if isinstance(mcalls, Mapping) else None
        exprs = call.get("expressions") if isinstance(call, Mapping) else None
        expr = exprs.get(name) if isinstance(exprs, Mapping) else None
        parent_module = module.rsplit(".module.", 1)[0] if ".module." in module else ""
        if isinstance(expr, Mapping):
            return self.resolve(parent_module, calls[:-1], expr, depth + 1)
        own = self._configs.get(calls)
        variables = own.get("variables") if own is not None else None
        var = variables.get(name) if isinstance(variables, Mapping) else None
        if isinstance(var, Mapping) and "default" in var:
            return [_Ref(constant=var["default"])]
        return None

    def _follow_output(self, module: str, calls: tuple[str, ...], call: tuple[str, str],
                       output: str, depth: int) -> list[_Ref] | None:
        name, key = call
        child_calls = (*calls, name)
        here = self._configs.get(calls)
        mcalls = here.get("module_calls") if here is not None else None
        cfg = mcalls.get(name) if isinstance(mcalls, Mapping) else None
        if not isinstance(cfg, Mapping):
            return None
        if not key and ("count_expression" in cfg or "for_each_expression" in cfg):
            return None  # which instance of the module is not named
        child = self._configs.get(child_calls)
        outputs = child.get("outputs") if child is not None else None
        out = outputs.get(output) if isinstance(outputs, Mapping) else None
        expr = out.get("expression") if isinstance(out, Mapping) else None
        if not isinstance(expr, Mapping):
            return None
        prefix = f"{module + '.' if module else ''}module.{name}{key}"
        return self.resolve(prefix, child_calls, expr, depth + 1)

    def ref_value(self, ref: _Ref, depth: int = 0) -> Any:
        """The value a reference gives (a string for an ID), or the unknown marker."""
        if ref.inst is None:
            return ref.constant
        inst = ref.inst
        if not ref.attr:
            return _UNKNOWN
        value = self.raw(inst, list(ref.attr))
        if value is not None and not isinstance(value, _Unknown):
            if ref.attr == ["id"] and inst.addr.type in _ID_NOT_ARM:
                return self.id_of(inst)
            return value
        first = ref.attr[0]
        if ref.attr == ["id"] and inst.addr.type in ARM_TYPES:
            return self.id_of(inst)
        if first == "login_server" and inst.addr.type == "azurerm_container_registry":
            server = self.login_server(inst)
            return _UNKNOWN if is_unknown_value(server) else server
        if ref.attr in (["principal_id"], ["client_id"]) and \
                inst.addr.type == "azurerm_user_assigned_identity":
            value = self.identity_ids(inst)[str(first)]
            return _UNKNOWN if is_unknown_value(value) else value
        if ref.attr in (["name"], ["resource_group_name"]) and depth < _MAX_DEPTH:
            resolved = self.resolve_value(inst, str(first), _same_attr(str(first)), depth + 1)
            return resolved if resolved is not None else _UNKNOWN
        return _UNKNOWN

    def resolve_value(self, inst: _Instance, path: str, accept: _Accept,
                      depth: int = 0) -> Any:
        """The value an unknown attribute's expression resolves to (a constant, or a single
        reference ``accept`` takes), or None."""
        found = self._expression(inst, path)
        if found is None:
            return None
        expr, rest = found
        if rest and rest != [0]:
            return None
        refs = self._each_value(inst, expr) or self.resolve(inst.addr.module, inst.addr.calls,
                                                            expr, depth)
        if refs is None or len(refs) != 1 or (refs[0].inst is not None and not accept(refs[0])):
            return None
        value = self.ref_value(refs[0], depth)
        if rest == [0] and isinstance(value, list):
            value = value[0] if len(value) == 1 else None
        return None if isinstance(value, _Unknown) or value is None else value

    def resolve_list(self, inst: _Instance, path: str) -> list[str] | None:
        """An unknown list of IDs resolved reference by reference (as a set: the attributes
        read this way, subnet and identity IDs, are sets)."""
        found = self._expression(inst, path)
        if found is None or found[1]:
            return None
        refs = self.resolve(inst.addr.module, inst.addr.calls, found[0], 0)
        if refs is None:
            return None
        out: list[str] = []
        for ref in refs:
            if ref.inst is not None and not _is_id(ref):
                return None
            value = self.ref_value(ref)
            if isinstance(value, str) and value:
                out.append(value)
            elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                out.extend(value)
            else:
                return None
        return out

    def target(self, inst: _Instance, path: str, accept: _Accept) -> _Instance | None:
        """The resource instance an attribute refers to by a reference ``accept`` takes."""
        found = self._expression(inst, path)
        if found is None:
            return None
        refs = self.resolve(inst.addr.module, inst.addr.calls, found[0], 0)
        if refs is None or len(refs) != 1 or refs[0].inst is None or not accept(refs[0]):
            return None
        return refs[0].inst
