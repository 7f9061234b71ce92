"""Load the knowledge base: ``behaviours.yaml`` and ``findings.yaml``.

The files' shape (keys allowed and required, types, ID, date and GUID patterns, the lists of
paths, severities, confidences, source kinds, consumer kinds and denials, which source kind
needs which url) is stated once, in the JSON Schemas beside them (``schema/*.schema.json``, the
shared definitions in ``schema/common.schema.json``). A file a user gives is validated against
its schema first (:func:`schema_problems`; ``jsonschema`` is imported then, not before), each
problem a line naming the file, the entry, the JSON path and what is wrong. This module then
checks what a schema cannot say, and converts the data to typed values: facts the engine knows
and their value types (``FACT_SPECS``), registry-scope findings on registry facts only, dates
that exist and are not in the future, unique IDs, a measured source's url naming its run, a
field report carrying its own date, the observation rule, and template placeholders
(``TEMPLATE_KEYS``). Every problem is a :class:`KnowledgeError`; nothing is silently ignored.

The shipped files are not validated against the schema at every run: loading them takes about
8 ms, while importing ``jsonschema`` takes about 50 ms and validating both files 20 to 80 ms
more (fresh processes on a shared 2-core machine, 2026-12-06), on every ``audit`` and
``explain``. They are package data, installed as shipped, and the test suite validates them
against the schemas (tests/knowledge/test_knowledge_schema.py): a shipped file that breaks its
schema fails the tests instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import date
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from pullpath.domain.explain import (
    FACT_SPECS,
    TEMPLATE_KEYS,
    Behaviour,
    Condition,
    FactType,
    FindingSpec,
    KbSource,
    KnowledgeBase,
    PolicyRef,
    PullRole,
    Severity,
    SourceKind,
    TrustedCaller,
)
from pullpath.domain.verdicts import Confidence
from pullpath.domain.verdicts import Path as NetPath

__all__ = [
    "KnowledgeError",
    "default_knowledge",
    "load_knowledge",
    "parse_behaviours",
    "parse_callers",
    "parse_findings",
    "read_document",
    "schema",
    "schema_problems",
]

_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAX_PROBLEMS = 20
"""Schema problems reported for one file; the rest are counted."""


class KnowledgeError(ValueError):
    """The knowledge base files are malformed: the message says where and what, a line each."""


def _json_path(parts: Sequence[object]) -> str:
    """``$.behaviours[0].sources[1].url``; a key that is not an identifier as ``['a.b']``."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENTIFIER.match(str(part)):
            out += f".{part}"
        else:
            out += f"[{str(part)!r}]"
    return out


def _line(origin: str, entry: str, parts: Sequence[object], problem: str) -> str:
    """``origin: entry: $.json.path: problem``, the entry (its id) and path where known."""
    where = f"{entry}: " if entry else ""
    if parts:
        where += f"{_json_path(parts)}: "
    return f"{origin}: {where}{problem}"


class _Where:
    """Where in a file a check looks: the file, the entry (its id) and the path to the value."""

    def __init__(self, origin: str, parts: tuple[object, ...] = (), entry: str = "") -> None:
        self.origin = origin
        self.parts = parts
        self.entry = entry

    def at(self, *parts: object, entry: str | None = None) -> _Where:
        return _Where(self.origin, (*self.parts, *parts),
                      self.entry if entry is None else entry)

    def fail(self, problem: str) -> KnowledgeError:
        return KnowledgeError(_line(self.origin, self.entry, self.parts, problem))


# ------------------------------------------------------------------ the schemas


@cache
def schema(name: str) -> dict[str, Any]:
    """The JSON Schema of ``behaviours``, ``findings`` or ``common`` shipped with pullpath."""
    text = resources.files("pullpath.knowledge").joinpath(
        f"schema/{name}.schema.json").read_text("utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


@cache
def _validator(name: str) -> Any:
    import jsonschema  # 50 ms: only a file a user gives is validated (see the module docstring)
    from referencing import Registry, Resource

    common = schema("common")
    registry: Registry[Any] = Registry().with_resource(common["$id"],
                                                       Resource.from_contents(common))
    return jsonschema.Draft202012Validator(schema(name), registry=registry)


def _entry(doc: object, parts: Sequence[object]) -> str:
    """The id of the innermost entry (a list item with a text ``id``) on the way to a value."""
    entry, node = "", doc
    for part in parts:
        try:
            node = node[part]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(part, int) and isinstance(node, Mapping) and isinstance(node.get("id"),
                                                                                str):
            entry = node["id"]
    return entry


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _message(err: Any) -> str:
    """jsonschema's message, or the schema's own words (its ``description``) where it has
    some; unknown keys listed with the allowed ones."""
    sch = err.schema if isinstance(err.schema, Mapping) else {}
    said = sch.get("description", "")
    if err.validator == "additionalProperties" and isinstance(err.instance, Mapping):
        allowed = list(sch.get("properties", {}))
        unknown = sorted(str(k) for k in err.instance if k not in allowed)
        return f"unknown key(s) {', '.join(unknown)} (allowed: {', '.join(allowed)})"
    if err.validator == "required":
        return f"{err.message} ({said})" if said else str(err.message)
    return f"{said}, got {_short(err.instance)}" if said else str(err.message)


def _sort_key(err: Any) -> list[tuple[int, int, str]]:
    return [(0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in err.absolute_path]


def schema_problems(doc: object, name: str, origin: str) -> list[str]:
    """Every way ``doc`` (a loaded ``behaviours`` or ``findings`` document) breaks its JSON
    Schema, a line each: ``origin: entry: $.json.path: message``."""
    errors = sorted(_validator(name).iter_errors(doc), key=_sort_key)
    out = [_line(origin, _entry(doc, list(e.absolute_path)), list(e.absolute_path), _message(e))
           for e in errors[:_MAX_PROBLEMS]]
    if len(errors) > _MAX_PROBLEMS:
        out.append(f"{origin}: ... and {len(errors) - _MAX_PROBLEMS} more problems")
    return out


def _validated(doc: object, name: str, origin: str) -> Mapping[str, Any]:
    try:
        problems = schema_problems(doc, name, origin)
    except ImportError:
        raise KnowledgeError(f"{origin}: cannot validate it: the jsonschema package is missing "
                             "(hint: pip install jsonschema)") from None
    if problems:
        raise KnowledgeError("\n".join(problems))
    assert isinstance(doc, Mapping)  # the schema says: an object
    return doc


# ------------------------------------------------------------------ YAML


def _timestamp_as_text(loader: Any, node: Any) -> Any:
    return loader.construct_scalar(node)


class _PyLoader(yaml.SafeLoader):
    """``yaml.safe_load``'s loader, but a timestamp stays text (``verified: 2025-01-01`` is the
    string the schema checks; the loader alone converts and checks dates)."""


_PyLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)
_FAST_LOADER: Any = None
if hasattr(yaml, "CSafeLoader"):
    class _CLoader(yaml.CSafeLoader):
        """libyaml's safe loader, timestamps as text: the same objects, ten times faster."""

    _CLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)
    _FAST_LOADER = _CLoader


_MAX_DEPTH = 64
_MAX_NODES = 100_000
"""Bounds on a file a user gives, aliases expanded (the shipped ones nest 5 deep and hold about
1,400 values): a deeper or larger document is refused before it is built or validated, so that
nesting cannot exhaust the stack (libyaml's composer crashes the process past about 50,000
levels) nor aliases multiply the work."""


def _check_size(text: str, origin: str) -> None:
    """Refuses a document nested deeper than ``_MAX_DEPTH`` or larger than ``_MAX_NODES``,
    from the parser's events (iterative, nothing is built)."""
    total, sizes, open_ = 0, dict[str, int](), list[tuple[str | None, int]]()
    try:
        for event in yaml.parse(text, Loader=_FAST_LOADER or _PyLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                total += 1
                open_.append((event.anchor, total))
                if len(open_) > _MAX_DEPTH:
                    raise KnowledgeError(f"{origin}: nested more than {_MAX_DEPTH} levels deep")
            elif isinstance(event, yaml.CollectionEndEvent):
                anchor, start = open_.pop()
                if anchor:
                    sizes[anchor] = total - start + 1
            elif isinstance(event, yaml.ScalarEvent):
                total += 1
                if event.anchor:
                    sizes[event.anchor] = 1
            elif isinstance(event, yaml.AliasEvent):
                total += sizes.get(event.anchor or "", 1)
            if total > _MAX_NODES:
                raise KnowledgeError(f"{origin}: more than {_MAX_NODES:,} values (aliases "
                                     "expanded)")
    except yaml.YAMLError as exc:
        if "nesting depth" in str(exc):  # newer libyaml stops deep nesting itself
            raise KnowledgeError(f"{origin}: nested more than {_MAX_DEPTH} levels deep") from None
        return  # not YAML: loading it says where
    except RecursionError:  # the pure-Python parser, without libyaml
        raise KnowledgeError(f"{origin}: nested more than {_MAX_DEPTH} levels deep") from None


def _load_yaml(text: str, origin: str) -> object:
    if _FAST_LOADER is not None:
        try:
            return yaml.load(text, Loader=_FAST_LOADER)  # noqa: S506 (a safe constructor)
        except (yaml.YAMLError, ValueError):
            pass  # the pure-Python loader decides, and words the error with line and column
    try:
        return yaml.load(text, Loader=_PyLoader)  # noqa: S506 (a safe constructor)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise KnowledgeError(f"{origin}: not valid YAML{where}: {problem}") from None
    except ValueError as exc:
        raise KnowledgeError(f"{origin}: not valid YAML: {exc}") from None


# ------------------------------------------------------------------ what a schema cannot say


def _verified(text: str, w: _Where) -> str:
    """A date that exists (YYYY-MM-DD or YYYY-MM) and is not in the future."""
    try:
        day = date.fromisoformat(text if len(text) > 7 else f"{text}-01")
    except ValueError as exc:
        raise w.fail(f"verified is not a valid date: {text!r} ({exc})") from None
    if day > date.today():
        raise w.fail(f"verified date {text} is in the future")
    return text


def _sources(items: Sequence[Mapping[str, Any]], w: _Where) -> tuple[KbSource, ...]:
    out: list[KbSource] = []
    for i, src in enumerate(items):
        sw = w.at("sources", i)
        kind = SourceKind(src["kind"])
        url, run_id = src["url"].strip(), src.get("run_id", "")
        verified = _verified(src["verified"], sw.at("verified"))
        if kind is SourceKind.MEASURED and url != f"pullpath-lab:{run_id}":
            raise sw.fail(f"a measured source's url is pullpath-lab:<run_id>, got {url!r} for "
                          f"run {run_id!r}")
        if kind is SourceKind.FIELD_REPORT and url != f"field-report:{verified}":
            raise sw.fail(f"the field report of {url.removeprefix('field-report:')} must carry "
                          f"its own date as verified, got {verified}")
        expect = NetPath(src["expect"]) if "expect" in src else None
        out.append(KbSource(url, verified, kind, " ".join(src["says"].split()), expect, run_id))
    return tuple(out)


def _conditions(when: Mapping[str, Any], w: _Where, *,
                registry_only: bool = False) -> tuple[Condition, ...]:
    """The conditions of ``when``: facts the engine knows, each with values of its type."""
    out: list[Condition] = []
    for name, raw in when.items():
        spec = FACT_SPECS.get(name)
        if spec is None:
            raise w.fail(f"unknown fact {name!r} in when (known facts: "
                         f"{', '.join(sorted(FACT_SPECS))})")
        if registry_only and spec.scope != "registry":
            raise w.fail(f"a registry-scope entry can only use registry facts, not {name}")
        negate = isinstance(raw, Mapping)
        if negate:
            raw = raw["not"]
        values: list[bool | str] = []
        for item in raw if isinstance(raw, list) else [raw]:
            if spec.type is FactType.BOOL:
                if not isinstance(item, bool):
                    raise w.fail(f"{name} is a boolean fact: use true or false, got {item!r}")
                values.append(item)
            elif not isinstance(item, str) or item.lower() not in spec.values:
                raise w.fail(f"{name} must be one of {', '.join(spec.values)}, got {item!r}")
            else:
                values.append(item.lower())
        out.append(Condition(name, tuple(values), negate))
    return tuple(out)


def _unique(ident: str, seen: set[str], w: _Where) -> None:
    if ident in seen:
        raise w.fail(f"duplicate id {ident}")
    seen.add(ident)


def _check_observation_wins(b: Behaviour, w: _Where) -> None:
    """Where sources disagree on the path, the latest observation (a pullpath lab run, or the
    field report) decides the entry's ``expect``; on the same day a lab run outranks the
    report."""
    if not b.disputed:
        return
    seen = [s for s in b.sources if s.kind.observation and s.expect is not None]
    if not seen:
        raise w.fail("sources disagree on the path and none is an observation (a pullpath lab "
                     "run or the field report): measure it (pullpath lab run --record) before "
                     "encoding it")
    latest = max(seen, key=lambda s: (s.verified_date, s.kind is SourceKind.MEASURED))
    if latest.expect is not b.expect:
        raise w.fail(f"sources disagree and the latest observation ({latest.kind.value} "
                     f"{latest.verified}) says {latest.expect.value if latest.expect else '?'}, "
                     f"but expect is {b.expect.value}: the observation wins")


def _check_template(text: str, w: _Where) -> None:
    for name in _PLACEHOLDER.findall(text):
        if name.startswith("why:"):
            if name[4:] not in FACT_SPECS:
                raise w.fail(f"unknown fact in placeholder {{{{{name}}}}}")
        elif name not in TEMPLATE_KEYS:
            raise w.fail(f"unknown placeholder {{{{{name}}}}} "
                         f"(known: {', '.join(sorted(TEMPLATE_KEYS))}, why:<fact>)")


def _one_line(text: str) -> str:
    return " ".join(text.split())


# ------------------------------------------------------------------ typed values


def _callers(doc: Mapping[str, Any], w: _Where) -> tuple[TrustedCaller, ...]:
    out: list[TrustedCaller] = []
    seen: set[str] = set()
    for i, entry in enumerate(doc.get("callers", ())):
        cid = entry["id"]
        iw = w.at("callers", i, entry=cid)
        _unique(cid, seen, iw.at("id"))
        out.append(TrustedCaller(
            id=cid, name=entry["name"].strip(), trusted=entry["trusted"],
            identity=entry["identity"], evidence=entry["evidence"],
            note=_one_line(entry["note"]), sources=_sources(entry["sources"], iw)))
    return tuple(out)


def _roles(doc: Mapping[str, Any]) -> tuple[PullRole, ...]:
    return tuple(PullRole(role["id"].lower(), role["name"].strip(),
                          tuple(role["modes"]), tuple(role.get("denied_in", ())))
                 for role in doc["pull_roles"]["roles"])


def _behaviours(doc: Mapping[str, Any], w: _Where) -> tuple[Behaviour, ...]:
    out: list[Behaviour] = []
    seen: set[str] = set()
    for i, entry in enumerate(doc["behaviours"]):
        bid = entry["id"]
        iw = w.at("behaviours", i, entry=bid)
        _unique(bid, seen, iw.at("id"))
        behaviour = Behaviour(
            id=bid,
            consumer=entry["consumer"],
            title=entry["title"].strip(),
            when=_conditions(entry["when"], iw.at("when")),
            expect=NetPath(entry["expect"]),
            confidence=Confidence(entry["confidence"]),
            rationale=_one_line(entry["rationale"]),
            sources=_sources(entry["sources"], iw),
            lab=tuple(entry.get("lab", ())),
            denied_by=entry.get("denied_by", ""),
        )
        _check_observation_wins(behaviour, iw)
        out.append(behaviour)
    return tuple(out)


def _findings(doc: Mapping[str, Any], w: _Where) -> tuple[FindingSpec, ...]:
    out: list[FindingSpec] = []
    seen: set[str] = set()
    for i, entry in enumerate(doc["findings"]):
        fid = entry["id"]
        iw = w.at("findings", i, entry=fid)
        _unique(fid, seen, iw.at("id"))
        pol = entry.get("policy")
        spec = FindingSpec(
            id=fid,
            severity=Severity(entry["severity"]),
            title=entry["title"].strip(),
            scope=entry["scope"],
            subject=entry["subject"],
            when=_conditions(entry["when"], iw.at("when"),
                             registry_only=entry["scope"] == "registry"),
            description=_one_line(entry["description"]),
            detail=_one_line(entry["detail"]),
            fix_cli=entry["fix"]["cli"].strip(),
            fix_bicep=entry["fix"]["bicep"].strip(),
            docs=tuple(entry["docs"]),
            policy=PolicyRef(pol["id"].lower(), pol["name"].strip()) if pol else None,
            sources=_sources(entry.get("sources", ()), iw),
        )
        for parts, text in ((("detail",), spec.detail), (("fix", "cli"), spec.fix_cli),
                            (("fix", "bicep"), spec.fix_bicep)):
            _check_template(text, iw.at(*parts))
        out.append(spec)
    return tuple(out)


# ------------------------------------------------------------------ files


def _document(text: str, name: str, origin: str, *, validate: bool) -> Mapping[str, Any]:
    if validate:
        _check_size(text, origin)
        return _validated(_load_yaml(text, origin), name, origin)
    doc = _load_yaml(text, origin)
    if not isinstance(doc, Mapping):
        raise KnowledgeError(f"{origin}: the document must be a mapping, got "
                             f"{type(doc).__name__}")
    return doc


def parse_callers(text: str, origin: str = "behaviours.yaml") -> tuple[TrustedCaller, ...]:
    """The callers that are not consumers (``callers`` of ``behaviours.yaml``, optional)."""
    return _callers(_document(text, "behaviours", origin, validate=True), _Where(origin))


def parse_behaviours(
    text: str, origin: str = "behaviours.yaml"
) -> tuple[tuple[Behaviour, ...], tuple[PullRole, ...], tuple[KbSource, ...]]:
    """Behaviours, pull roles and the roles' sources from the text of ``behaviours.yaml``
    (validated against its schema)."""
    doc = _document(text, "behaviours", origin, validate=True)
    w = _Where(origin)
    return (_behaviours(doc, w), _roles(doc),
            _sources(doc["pull_roles"]["sources"], w.at("pull_roles")))


def parse_findings(text: str, origin: str = "findings.yaml") -> tuple[FindingSpec, ...]:
    """Finding definitions from the text of ``findings.yaml`` (validated against its schema)."""
    return _findings(_document(text, "findings", origin, validate=True), _Where(origin))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KnowledgeError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise KnowledgeError(f"{path}: not UTF-8 text: {exc}") from None


def read_document(path: Path | None, name: str, *,
                  validate: bool | None = None) -> tuple[Mapping[str, Any], str]:
    """The ``behaviours`` or ``findings`` document of ``path`` (None: the shipped file) and
    its origin. ``validate`` (default: for a file a user gives, not for the shipped one)
    checks it against its schema first."""
    if path is None:
        text = resources.files("pullpath.knowledge").joinpath(f"{name}.yaml").read_text("utf-8")
        origin = f"{name}.yaml"
    else:
        text, origin = _read(path), str(path)
    return _document(text, name, origin,
                     validate=path is not None if validate is None else validate), origin


def load_knowledge(behaviours: Path | None = None, findings: Path | None = None, *,
                   validate: bool | None = None) -> KnowledgeBase:
    """The knowledge base from the given files (default: the files shipped in the package).
    A given file is validated against its JSON Schema first; the shipped ones are not unless
    ``validate`` is true (see the module docstring)."""
    b_doc, b_origin = read_document(behaviours, "behaviours", validate=validate)
    f_doc, f_origin = read_document(findings, "findings", validate=validate)
    bw = _Where(b_origin)
    return KnowledgeBase(
        behaviours=_behaviours(b_doc, bw),
        findings=_findings(f_doc, _Where(f_origin)),
        pull_roles=_roles(b_doc),
        pull_roles_sources=_sources(b_doc["pull_roles"]["sources"], bw.at("pull_roles")),
        callers=_callers(b_doc, bw),
        origin=(b_origin, f_origin),
    )


@lru_cache(maxsize=1)
def default_knowledge() -> KnowledgeBase:
    """The shipped knowledge base, loaded once per process (not validated: see above)."""
    return load_knowledge()
