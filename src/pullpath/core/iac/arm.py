"""An ARM deployment template, read into :class:`~pullpath.domain.iac.IacDocument` (pure).

What ARM would create is computed as far as the template and its parameters allow, with the
evaluator of :mod:`pullpath.core.iac.armexpr` in its lenient mode: parameters (given, or their
``defaultValue`` expressions), variables (with ``copy``), resources as an array or as an object
of symbolic names (languageVersion 2.0; ``existing`` ones are referred to, not created),
``condition``, ``copy`` on resources and properties, child resources, nested
``Microsoft.Resources/deployments`` with an inline template (inner or outer expression scope,
``resourceGroup``/``subscriptionId`` targets) and ``reference()`` of what the same template
creates. A linked template (``templateLink``) is an issue: it is not fetched.

Values known only at deployment are :func:`~pullpath.domain.iac.unknown_value` strings, each
named in ``unknowns`` with the resource and the property path; what Azure adds on creation
comes from :mod:`pullpath.core.iac.platform`. Nothing raises: an unreadable part is an issue
with its place and the rest is still read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pullpath.core.iac.armexpr import (
    ArmContext,
    EvaluatedResource,
    RuntimeView,
    Unknown,
    evaluate,
    property_copies,
    resource_id,
    scope_id,
    type_path,
    unique_string,
)
from pullpath.core.iac.platform import (
    runtime_properties,
    system_principal_id,
    with_platform_effects,
)
from pullpath.domain.iac import (
    DeploymentScope,
    IacDocument,
    IacKind,
    SourceLocation,
    is_unknown_value,
    unknown_value,
)
from pullpath.domain.inventory import norm_id

__all__ = ["Locate", "Reference", "read_arm_template", "template_level"]

Locate = Callable[[tuple[str | int, ...]], SourceLocation | None]
"""Where a JSON path of the template (``("resources", 3)``, ``("resources", "myVnet")``,
``("resources", 5, "properties", "template", "resources", 0)``) is written, or None."""
Reference = Callable[[str], Mapping[str, Any] | None]
"""An existing resource's ARM JSON by resource ID (from the user's inventory), or None."""

DEPLOYMENTS = "microsoft.resources/deployments"
NOT_IN_BODY = frozenset({"dependsOn", "copy", "condition", "resources", "existing", "scope",
                         "resourceGroup", "subscriptionId", "comments", "metadata", "apiVersion",
                         "type", "name"})
"""Template-only keys of a resource: not part of what ARM creates."""
NOT_EXTERNAL = ("microsoft.authorization/roledefinitions", DEPLOYMENTS)
"""Types named by ID that are not inventory: built-in role definitions, deployments."""
MAX_COPIES = 800
"""ARM's limit on a copy loop's count."""


def template_level(template: Mapping[str, Any]) -> str:
    """The deployment scope a template's ``$schema`` names (``resourceGroup`` by default)."""
    schema = str(template.get("$schema", "")).lower()
    for marker, level in (("subscriptiondeploymenttemplate", "subscription"),
                          ("managementgroupdeploymenttemplate", "managementGroup"),
                          ("tenantdeploymenttemplate", "tenant")):
        if marker in schema:
            return level
    return "resourceGroup"


class _NotKnown(ValueError):
    """Where a resource goes is not known before deployment."""


@dataclass
class _Template:
    raw: Mapping[str, Any]
    ctx: ArmContext
    subscription: str
    """Where its resources are created (with an outer expression scope, not ctx's)."""
    resource_group: str
    level: str
    slots: list[_Slot] = field(default_factory=list)
    symbolic: dict[str, _Slot] = field(default_factory=dict)


@dataclass
class _Slot:
    raw: Mapping[str, Any]
    tmpl: _Template
    address: str
    location: SourceLocation
    copy_index: dict[str, int]
    id: str
    type: str
    name: str
    scope: str
    existing: bool
    loc: tuple[str | int, ...] = ()
    """The JSON path of the declaration in the template."""
    state: int = 0
    """0 not evaluated, 1 being evaluated, 2 done."""
    body: dict[str, Any] | None = None
    refers: tuple[str, ...] = ()
    inner: _Template | None = None


class _Reader:
    def __init__(self, path: str, locate: Locate | None, reference: Reference | None) -> None:
        self.path = path
        self.locate = locate
        self.reference_cb = reference
        self.slots: list[_Slot] = []
        self.by_id: dict[str, _Slot] = {}
        self.issues: list[str] = []
        self.unknowns: list[str] = []
        self.contexts: list[ArmContext] = []

    # ------------------------------------------------------------------ templates

    def context(self, subscription: str, resource_group: str, location: str, level: str,
                deployment_name: str) -> ArmContext:
        ctx = ArmContext(subscription, resource_group, location, {}, lenient=True,
                         issues=self.issues, level=level, deployment_name=deployment_name)
        self.contexts.append(ctx)
        return ctx

    def template(self, raw: Mapping[str, Any], ctx: ArmContext, target: tuple[str, str, str],
                 given: Mapping[str, Any] | None, loc: tuple[str | int, ...],
                 addr: str) -> _Template:
        """Read a template into ``target`` (subscription, resource group, level). With
        ``given`` (parameter values) its expressions see its own parameters, variables and
        functions; without, they see the parent's (a nested template of outer scope, the
        default of ``expressionEvaluationOptions``), whose context ``ctx`` is."""
        tmpl = _Template(raw, ctx, *target)
        if given is not None:
            ctx.reference = lambda target, full=False: self.resolve(target, full, tmpl)
            self.parameters(raw, ctx, given, addr)
            variables = raw.get("variables")
            ctx.variables = variables if isinstance(variables, Mapping) else {}
            ctx.functions = _user_functions(raw.get("functions"))
            ctx.resource_info = lambda name: self.info(name, tmpl)
        resources = raw.get("resources")
        items: Iterator[tuple[str | int, Any]]
        if isinstance(resources, list):
            items = iter(enumerate(resources))
        elif isinstance(resources, Mapping):
            items = iter(resources.items())
        else:
            self.issues.append(f"{addr or self.path}: 'resources' is not an array or object")
            return tmpl
        for key, res in items:
            place = f"{addr}resources[{key}]" if isinstance(key, int) else f"{addr}{key}"
            self.declare(res, tmpl, place, (*loc, "resources", key), None,
                         key if isinstance(key, str) else "")
        for slot in list(tmpl.slots):
            self.body(slot)
        return tmpl

    def parameters(self, raw: Mapping[str, Any], ctx: ArmContext, given: Mapping[str, Any],
                   addr: str) -> None:
        specs = raw.get("parameters")
        specs = specs if isinstance(specs, Mapping) else {}
        values: dict[str, Any] = {}
        ctx.parameters = values
        for name in given:
            if name not in specs:
                self.issues.append(f"{addr}parameters: {name!r} is given but the template does "
                                   "not declare it")
        for name, spec in specs.items():
            spec = spec if isinstance(spec, Mapping) else {}
            if str(spec.get("type", "")).lower() in ("securestring", "secureobject"):
                # a secret is never read into the document (it could be printed)
                values[name] = Unknown(f"parameter {name!r} is secure: its value is not read")
            elif name in given:
                value = given[name]
                values[name] = Unknown(_unknown_why(value)) if is_unknown_value(value) else value
            elif "defaultValue" in spec:
                ctx.where = f"{addr}parameters.{name}"
                values[name] = evaluate(spec["defaultValue"], ctx)
                ctx.where = ""
            else:
                values[name] = Unknown(f"parameter {name!r} has no value")
                hint = "the deployment does not pass it" if addr else "give it with --parameters"
                self.unknowns.append(f"{addr}parameters.{name}: no value given and no "
                                     f"defaultValue ({hint})")

    # ------------------------------------------------------------------ resources

    def declare(self, raw: Any, tmpl: _Template, address: str, loc: tuple[str | int, ...],
                parent: _Slot | None, symbolic: str) -> None:
        if not isinstance(raw, Mapping):
            self.issues.append(f"{address}: a resource must be an object")
            return
        ctx = tmpl.ctx
        ctx.where = address
        copy = raw.get("copy")
        indexes: list[int | None] = [None]
        loop = ""
        if isinstance(copy, Mapping):
            loop = str(copy.get("name", ""))
            count = evaluate(copy.get("count"), ctx)
            if isinstance(count, Unknown):
                self.unknowns.append(f"{address}: copy loop {loop!r} has a count not known "
                                     f"before deployment ({count.why}): not expanded")
                return
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                self.issues.append(f"{address}: copy loop {loop!r} count {count!r} is not a "
                                   "whole number")
                return
            indexes = list(range(min(count, MAX_COPIES)))
        saved = dict(ctx.copy_index)
        try:
            for i in indexes:
                ctx.copy_index = dict(saved)
                if i is not None:
                    ctx.copy_index.update({"": i, loop: i})
                self.instance(raw, tmpl, address, loc, parent, symbolic, i)
        finally:
            ctx.copy_index = saved
            ctx.where = ""

    def instance(self, raw: Mapping[str, Any], tmpl: _Template, address: str,
                 loc: tuple[str | int, ...], parent: _Slot | None, symbolic: str,
                 index: int | None) -> None:
        ctx = tmpl.ctx
        place = address if index is None else f"{address} (copy {index})"
        if "condition" in raw:
            cond = evaluate(raw["condition"], ctx)
            if isinstance(cond, Unknown):
                self.unknowns.append(f"{place}: condition not known before deployment "
                                     f"({cond.why}): the resource is not included")
                return
            if not isinstance(cond, bool) and str(cond).lower() not in ("true", "false"):
                self.issues.append(f"{place}: condition {cond!r} is not true or false: the "
                                   "resource is not included")
                return
            if cond is not True and str(cond).lower() != "true":
                return
        rtype, name = evaluate(raw.get("type"), ctx), evaluate(raw.get("name"), ctx)
        if parent is not None and isinstance(rtype, str) and "." not in rtype.split("/")[0]:
            rtype = f"{parent.type}/{rtype}"  # a child's type is relative to its parent's
        if not isinstance(rtype, str) or "/" not in rtype:
            self.issues.append(f"{place}: resource type {rtype!r} cannot be read")
            return
        if isinstance(name, Unknown):
            segments = rtype.count("/") if parent is None else 1  # one name per type
            stand_in = "/".join([f"unknown-name-{unique_string(self.path, place)}"] * segments)
            self.unknowns.append(f"{place}: name not known before deployment ({name.why}): "
                                 f"{stand_in!r} stands in")
            name = stand_in
        name = str(name)
        if parent is not None and name.count("/") < rtype.count("/") - 1:
            name = f"{parent.name}/{name}"
        try:
            rid, scope = self.resource_id(raw, tmpl, rtype, name, parent)
        except _NotKnown as e:
            self.unknowns.append(f"{place}: {e}: the resource is not included")
            return
        except (ValueError, TypeError) as e:
            self.issues.append(f"{place}: no resource ID: {e}")
            return
        location = self.where(loc, address)
        slot = _Slot(raw, tmpl, place, location, dict(ctx.copy_index), rid, rtype, name, scope,
                     raw.get("existing") is True, loc)
        tmpl.slots.append(slot)
        self.slots.append(slot)
        self.by_id[norm_id(rid)] = slot
        if symbolic and index is None:
            tmpl.symbolic[symbolic] = slot
        elif symbolic:
            tmpl.symbolic.setdefault(symbolic, slot)
        children = raw.get("resources")
        if isinstance(children, list):
            for j, child in enumerate(children):
                self.declare(child, tmpl, f"{address}.resources[{j}]", (*loc, "resources", j),
                             slot, "")
            ctx.where = address

    def resource_id(self, raw: Mapping[str, Any], tmpl: _Template, rtype: str, name: str,
                    parent: _Slot | None) -> tuple[str, str]:
        ctx = tmpl.ctx
        scope = evaluate(raw.get("scope"), ctx) if "scope" in raw else ""
        if isinstance(scope, Unknown):
            raise _NotKnown(f"its scope is not known before deployment ({scope.why})")
        scope = str(scope or "")
        if scope and scope in tmpl.symbolic:
            scope = tmpl.symbolic[scope].id
        elif scope and not scope.startswith("/"):
            scope = scope_id(dataclasses.replace(
                ctx, subscription=tmpl.subscription, resource_group=tmpl.resource_group,
                trace=[]), scope)
        names = name.split("/")
        if scope:
            return f"{scope.rstrip('/')}/providers/" + type_path(rtype, names), scope
        sub = evaluate(raw.get("subscriptionId"), ctx) if "subscriptionId" in raw else None
        rg = evaluate(raw.get("resourceGroup"), ctx) if "resourceGroup" in raw else None
        if isinstance(sub, Unknown) or isinstance(rg, Unknown):
            raise _NotKnown("its subscriptionId or resourceGroup is not known before deployment")
        subscription = str(sub or tmpl.subscription)
        level = "resourceGroup" if rg else ("subscription" if sub else tmpl.level)
        group = str(rg or tmpl.resource_group)
        if rtype.lower() == "microsoft.resources/resourcegroups":
            return f"/subscriptions/{subscription}/resourceGroups/{name}", ""
        if level == "subscription":
            return f"/subscriptions/{subscription}/providers/" + type_path(rtype, names), ""
        if level in ("tenant", "managementGroup"):
            return "/providers/" + type_path(rtype, names), ""
        return resource_id(subscription, group, rtype, *names), ""

    def where(self, loc: tuple[str | int, ...], address: str) -> SourceLocation:
        found = None
        if self.locate is not None:
            try:
                found = self.locate(loc)
            except Exception:  # a locator's failure costs the line, not the document
                found = None
        if found is None:
            return SourceLocation(file=self.path, address=address)
        return found if found.address else dataclasses.replace(found, address=address)

    def body(self, slot: _Slot) -> None:
        if slot.state or slot.existing:
            return
        slot.state = 1
        ctx = slot.tmpl.ctx
        saved = (ctx.where, ctx.copy_index)
        ctx.where, ctx.copy_index = slot.address, slot.copy_index
        start = len(ctx.trace)
        try:
            if slot.type.lower() == DEPLOYMENTS:
                self.deployment(slot)
                slot.body = {}
            else:
                body = evaluate({k: v for k, v in slot.raw.items() if k not in NOT_IN_BODY},
                                ctx)
                body = {"type": slot.type, "name": slot.name, **body}
                slot.body = body
        finally:
            slot.refers = tuple(rid for _, rid in ctx.trace[start:])
            ctx.where, ctx.copy_index = saved
            slot.state = 2

    # ------------------------------------------------------------------ nested deployments

    def deployment(self, slot: _Slot) -> None:
        outer = slot.tmpl.ctx
        props = slot.raw.get("properties")
        if not isinstance(props, Mapping):
            self.issues.append(f"{slot.address}: deployment without properties")
            return
        if "templateLink" in props:
            link = props.get("templateLink")
            uri = evaluate(link.get("uri") or link.get("id") or link.get("relativePath"), outer) \
                if isinstance(link, Mapping) else link
            self.issues.append(f"{slot.address}: linked template {uri!r} not read; inline it or "
                               "use az bicep build")
            return
        inner_raw = props.get("template")
        if not isinstance(inner_raw, Mapping):
            self.issues.append(f"{slot.address}: deployment without an inline template")
            return
        options = props.get("expressionEvaluationOptions")
        inner_scope = isinstance(options, Mapping) and \
            str(options.get("scope", "")).lower() == "inner"
        parts = slot.id.split("/")
        at_subscription = len(parts) > 2 and parts[1].lower() == "subscriptions"
        sub = parts[2] if at_subscription else slot.tmpl.subscription
        rg = parts[4] if at_subscription and parts[3].lower() == "resourcegroups" else ""
        level = "resourceGroup" if rg else template_level(inner_raw)
        same_group = rg.lower() == outer.resource_group.lower() and \
            sub.lower() == outer.subscription.lower()
        loc = (*slot.loc, "properties", "template")
        addr = f"{slot.address}.properties.template."
        if inner_scope:
            ctx = self.context(sub, rg or outer.resource_group,
                               outer.location if same_group else "", level, slot.name)
            given: dict[str, Any] = {}
            params = evaluate(props.get("parameters") or {}, outer)
            if isinstance(params, Mapping):
                for name, wrapped in params.items():
                    given[name] = _parameter_value(wrapped, f"{slot.address} parameter {name}")
            slot.inner = self.template(inner_raw, ctx, (sub, rg or outer.resource_group, level),
                                       given, loc, addr)
        else:
            slot.inner = self.template(inner_raw, outer, (sub, rg or outer.resource_group, level),
                                       None, loc, addr)

    def outputs(self, slot: _Slot) -> Any:
        inner = slot.inner
        if inner is None:
            return Unknown(f"deployment {slot.name}: its outputs are not known")
        raw = inner.raw.get("outputs")
        out: dict[str, Any] = {}
        if not isinstance(raw, Mapping):
            return RuntimeView(f"deployment {slot.name}", {"outputs": out})
        ctx = inner.ctx
        saved = ctx.where
        ctx.where = f"{slot.address}.outputs"
        try:
            for name, spec in raw.items():
                if not isinstance(spec, Mapping):
                    continue
                if isinstance(spec.get("copy"), Mapping):  # its copyIndex() has no loop name
                    value = property_copies([{**spec["copy"], "name": ""}], ctx)[""]
                else:
                    value = evaluate(spec.get("value"), ctx)
                out[name] = {"type": spec.get("type"), "value": value}
        finally:
            ctx.where = saved
        return RuntimeView(f"deployment {slot.name}",
                           {"outputs": RuntimeView(f"deployment {slot.name} outputs", out)})

    # ------------------------------------------------------------------ reference()

    def resolve(self, target: str, full: bool, tmpl: _Template) -> Any:
        slot = self.find(target, tmpl)
        if slot is not None and not slot.existing:
            if slot.type.lower() == DEPLOYMENTS:
                self.body(slot)
                return self.outputs(slot)
            if slot.state == 1:
                return Unknown(f"reference({target}) refers to itself")
            self.body(slot)
            body = slot.body or {}
            props = dict(body.get("properties") or {}) if isinstance(
                body.get("properties"), Mapping) else {}
            props.update(runtime_properties(slot.type, slot.name))
            label = f"reference({slot.name})"
            if not full:
                return RuntimeView(label, props)
            whole = dict(body)
            whole["properties"] = RuntimeView(label + ".properties", props)
            whole["id"] = slot.id
            identity = body.get("identity")
            if isinstance(identity, Mapping) and "SystemAssigned" in str(identity.get("type")):
                whole["identity"] = RuntimeView(label + ".identity", {
                    **identity, "principalId": system_principal_id(slot.name)})
            return RuntimeView(label, whole)
        rid = slot.id if slot is not None else target
        found = None
        if rid.startswith("/") and self.reference_cb is not None:
            try:
                found = self.reference_cb(rid)
            except Exception:
                found = None
        if isinstance(found, Mapping):
            label = f"reference({rid})"
            given = found.get("properties")
            known: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
            if full:
                return RuntimeView(label, {**found, "properties": RuntimeView(label, known)})
            return RuntimeView(label, known)
        return Unknown(f"reference({target}): the resource is neither created by the template "
                       "nor in the inventory")

    def info(self, symbolic: str, tmpl: _Template) -> Any:
        """``resourceInfo(name)``: what is known of a resource before it is deployed."""
        slot = tmpl.symbolic.get(symbolic)
        if slot is None:
            return Unknown(f"resourceInfo({symbolic!r}): no resource of that symbolic name")
        return RuntimeView(f"resourceInfo({symbolic})", {
            "id": slot.id, "name": slot.name, "type": slot.type,
            "apiVersion": str(slot.raw.get("apiVersion", ""))})

    def find(self, target: str, tmpl: _Template) -> _Slot | None:
        if not target.startswith("/"):
            if target in tmpl.symbolic:
                return tmpl.symbolic[target]
            named = [s for s in tmpl.slots if s.name.lower() == target.lower()]
            return named[-1] if named else None
        key = norm_id(target)
        if key not in self.by_id:
            for slot in list(self.slots):  # it may be created by a deployment not read yet
                if slot.type.lower() == DEPLOYMENTS and slot.state == 0:
                    self.body(slot)
                    if key in self.by_id:
                        break
        return self.by_id.get(key)

    # ------------------------------------------------------------------ the document

    def document(self, kind: IacKind, lookup: Reference | None) -> IacDocument:
        created = [s for s in self.slots if not s.existing and s.state == 2
                   and s.type.lower() != DEPLOYMENTS and s.body is not None]
        final: dict[str, _Slot] = {}
        for s in created:
            final[norm_id(s.id)] = s
        resources = []
        for s in final.values():
            body = _resolved(s.body or {}, f"{s.type} {s.name}", self.unknowns)
            resources.append(EvaluatedResource(s.id, s.type, s.name,
                                               str(s.raw.get("apiVersion", "")), body, (),
                                               s.refers, s.scope))
        origins: dict[str, str] = {}
        docs, notes = with_platform_effects(resources, lookup=lookup, origins=origins)
        self.unknowns.extend(notes)
        for ctx in self.contexts:
            self.unknowns.extend(ctx.standins)
        created_ids = {norm_id(s.id) for s in self.slots if not s.existing}
        refers: list[str] = []
        for s in self.slots:
            named = [s.id] if s.existing else [*s.refers, *_literal_ids(s.body)]
            refers += [rid for rid in named if _external(rid, created_ids)]
        locations = {norm_id(s.id): s.location for s in self.slots
                     if s.type.lower() != DEPLOYMENTS}
        for added, cause in origins.items():  # a record is written where its cause is
            if norm_id(cause) in locations:
                locations.setdefault(norm_id(added), locations[norm_id(cause)])
        return IacDocument(
            kind=kind, path=self.path, resources=tuple(docs), locations=locations,
            refers_to=tuple(dict.fromkeys(refers)),
            unknowns=tuple(dict.fromkeys(self.unknowns)),
            issues=tuple(dict.fromkeys(self.issues)))


def _user_functions(spec: Any) -> dict[str, Mapping[str, Any]]:
    """A template's ``functions`` (``[{"namespace": ..., "members": {name: ...}}]``) by
    lower-case ``namespace.name``."""
    out: dict[str, Mapping[str, Any]] = {}
    for group in spec if isinstance(spec, list) else []:
        if not isinstance(group, Mapping) or not isinstance(group.get("members"), Mapping):
            continue
        for name, member in group["members"].items():
            if isinstance(member, Mapping):
                out[f"{group.get('namespace', '')}.{name}".lower()] = member
    return out


def _parameter_value(wrapped: Any, where: str) -> Any:
    """A nested deployment's or parameters file's ``{"value": ...}``; a Key Vault
    ``{"reference": ...}`` is not known before deployment."""
    if isinstance(wrapped, Mapping) and "value" in wrapped:
        return wrapped["value"]
    if isinstance(wrapped, Mapping) and "reference" in wrapped:
        return Unknown(f"{where} is a Key Vault secret reference")
    return Unknown(f"{where} has no value")


def _unknown_why(value: str) -> str:
    return value[len("[unknown('"):-3].replace("''", "'")


def _resolved(value: Any, label: str, unknowns: list[str], path: str = "") -> Any:
    """``value`` with every :class:`Unknown` written as an unknown_value string, and one line
    per unknown in ``unknowns``."""
    if isinstance(value, Unknown):
        unknowns.append(f"{label}: {path or '(value)'}: {value.why}")
        return unknown_value(value.why)
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            key = _resolved(k, label, unknowns, f"{path}.<key>" if path else "<key>")
            out[key] = _resolved(v, label, unknowns, f"{path}.{k}" if path else str(k))
        return out
    if isinstance(value, list):
        return [_resolved(v, label, unknowns, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


def _literal_ids(value: Any) -> Iterator[str]:
    """Resource IDs written anywhere in a value (``/subscriptions/.../providers/...``)."""
    if isinstance(value, str):
        if value.lower().startswith("/subscriptions/") and "/providers/" in value.lower():
            yield value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _literal_ids(k)
            yield from _literal_ids(v)
    elif isinstance(value, list):
        for v in value:
            yield from _literal_ids(v)


def _external(rid: str, created: set[str]) -> bool:
    """True for a resource ID the template names but neither creates nor holds inside a
    resource it creates (a subnet of a VNet it creates is its own)."""
    if not isinstance(rid, str) or not rid.startswith("/") or "/providers/" not in rid.lower():
        return False
    key = norm_id(rid)
    if any(t in key for t in NOT_EXTERNAL):
        return False
    return not any(key == c or key.startswith(c + "/") for c in created)


def read_arm_template(
    template: Mapping[str, Any], *, path: str, parameters: Mapping[str, Any] | None = None,
    scope: DeploymentScope = DeploymentScope(),  # noqa: B008 - a frozen value
    locate: Locate | None = None, reference: Reference | None = None,
    kind: IacKind = IacKind.ARM,
) -> IacDocument:
    """What ``template`` would create, deployed at ``scope`` with ``parameters`` (values, as
    a parameters file's ``value`` fields hold them; an :func:`unknown_value` string is an
    unknown parameter). ``locate`` gives the place of a JSON path of the template;
    ``reference`` an existing resource's ARM JSON by ID (for ``reference()`` and what the
    platform adds, such as an existing subnet's prefix). Never raises."""
    reader = _Reader(path, locate, reference)
    if not isinstance(template, Mapping) or "resources" not in template:
        reader.issues.append(f"{path}: not an ARM deployment template (no 'resources')")
        return reader.document(kind, reference)
    level = template_level(template)
    ctx = reader.context(scope.subscription, scope.resource_group, scope.location, level,
                         _deployment_name(path))
    ctx.deployment_note = (f"deployment().name = {ctx.deployment_name!r} stands in for the "
                           "deployment's name (az deployment group create's default: the "
                           "template file's name)")
    try:
        reader.template(template, ctx, (scope.subscription, scope.resource_group, level),
                        dict(parameters or {}), (), "")
    except Exception as e:  # bad input never costs more than the damaged part
        reader.issues.append(f"{path}: template not fully read: {type(e).__name__}: {e}")
    try:
        return reader.document(kind, reference)
    except Exception as e:
        return IacDocument(kind=kind, path=path, issues=(
            *reader.issues, f"{path}: template not read: {type(e).__name__}: {e}"))


def _deployment_name(path: str) -> str:
    """``az deployment group create`` names a deployment after its template file."""
    base = path.replace("\\", "/").rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[0] if "." in base else base or "deployment"

