"""Load and validate the knowledge base: ``behaviours.yaml`` and ``findings.yaml``.

The files are data with a strict shape: an unknown key, a missing source, a date that is not a
date, a fact the engine does not know or a value of the wrong type is a :class:`KnowledgeError`
naming the file, the entry and the key. Nothing is silently ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from pullpath.domain.explain import (
    CALLER_IDENTITIES,
    DENIALS,
    FACT_SPECS,
    ROLE_MODES,
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
    "BEHAVIOURS_SCHEMA",
    "FINDINGS_SCHEMA",
    "KnowledgeError",
    "default_knowledge",
    "load_knowledge",
    "parse_behaviours",
    "parse_callers",
    "parse_findings",
]

BEHAVIOURS_SCHEMA = "pullpath.knowledge/v1"
FINDINGS_SCHEMA = "pullpath.findings/v1"

_KB_ID = re.compile(r"^KB-[A-Z]+-\d{3}$")
_FINDING_ID = re.compile(r"^PP\d{3}$")
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_DATE = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_CONSUMERS = ("aci", "aca", "aks", "appservice", "acr-tasks", "any")
_CALLER_ID = re.compile(r"^[a-z][a-z0-9-]*$")
CALLER_EVIDENCE = ("", "ml-workspace")
"""What in an inventory can show that a caller uses a registry ("" for nothing)."""


class KnowledgeError(ValueError):
    """The knowledge base files are malformed: the message says where and what."""


class _Where:
    """Builds error messages that point at the file, the entry and the key."""

    def __init__(self, origin: str, entry: str = "") -> None:
        self.origin = origin
        self.entry = entry

    def at(self, entry: str) -> _Where:
        return _Where(self.origin, entry)

    def fail(self, problem: str) -> KnowledgeError:
        where = f"{self.origin}: {self.entry}: " if self.entry else f"{self.origin}: "
        return KnowledgeError(where + problem)


def _mapping(value: object, w: _Where, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise w.fail(f"{what} must be a mapping, got {type(value).__name__}")
    return value


def _keys(obj: Mapping[str, Any], w: _Where, what: str, required: Sequence[str],
          optional: Sequence[str] = ()) -> None:
    unknown = sorted(str(k) for k in obj if k not in (*required, *optional))
    if unknown:
        allowed = ", ".join((*required, *optional))
        raise w.fail(f"unknown key(s) in {what}: {', '.join(unknown)} (allowed: {allowed})")
    missing = [k for k in required if k not in obj or obj[k] is None]
    if missing:
        raise w.fail(f"{what} is missing {', '.join(missing)}")


def _text(obj: Mapping[str, Any], key: str, w: _Where) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise w.fail(f"{key} must be a non-empty string")
    return value.strip()


def _verified(value: object, w: _Where) -> str:
    if isinstance(value, date):
        text = value.isoformat()
    elif isinstance(value, str) and _DATE.match(value.strip()):
        text = value.strip()
    else:
        raise w.fail(f"verified must be a date (YYYY-MM-DD or YYYY-MM), got {value!r}")
    try:
        day = date.fromisoformat(text if len(text) > 7 else f"{text}-01")
    except ValueError as exc:
        raise w.fail(f"verified is not a valid date: {text!r} ({exc})") from None
    if day > date.today():
        raise w.fail(f"verified date {text} is in the future")
    return text


_LEARN = "https://learn.microsoft.com/"
_ISSUE = re.compile(r"^https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/(issues|pull)/\d+$")
_FIELD_REPORT = re.compile(r"^field-report:(\d{4}-\d{2}-\d{2})$")
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
_KINDS_TEXT = ", ".join(k.value for k in SourceKind)


def _source_url(kind: SourceKind, url: str, run_id: str, verified: str, sw: _Where) -> None:
    """Each kind of source names what it rests on in its own way (see KbSource.url)."""
    if kind is SourceKind.DOCUMENTED:
        if not url.startswith(_LEARN):
            raise sw.fail(f"a documented source cites Microsoft documentation: url must start "
                          f"with {_LEARN}, got {url!r}")
    elif kind is SourceKind.ISSUE:
        if not _ISSUE.match(url):
            raise sw.fail(f"an issue source cites a public issue or pull request: url must be "
                          f"https://github.com/<owner>/<repo>/issues/<n> (or /pull/<n>), "
                          f"got {url!r}")
    elif kind is SourceKind.FIELD_REPORT:
        m = _FIELD_REPORT.match(url)
        if not m:
            raise sw.fail(f"a field-report source is named field-report:<YYYY-MM-DD>, got {url!r}")
        if m.group(1) != verified:
            raise sw.fail(f"the field report of {m.group(1)} must carry its own date as "
                          f"verified, got {verified}")
    elif not run_id:
        raise sw.fail("a measured source names the pullpath lab run it comes from: run_id is "
                      "missing (a measurement without a run is not a measurement)")
    elif url != f"pullpath-lab:{run_id}":
        raise sw.fail(f"a measured source's url is pullpath-lab:<run_id>, got {url!r} for run "
                      f"{run_id!r}")
    if kind is not SourceKind.MEASURED and run_id:
        raise sw.fail(f"run_id belongs to measured sources only, not to a {kind.value} source")
    if kind.observation and len(verified) != 10:
        raise sw.fail(f"an observation carries the day it was made (YYYY-MM-DD), got {verified}")


def _sources(value: object, w: _Where, *, required: bool = True) -> tuple[KbSource, ...]:
    if value is None and not required:
        return ()
    if not isinstance(value, list) or (required and not value):
        raise w.fail("sources must be a non-empty list (every entry rests on a source)")
    out: list[KbSource] = []
    for i, item in enumerate(value):
        sw = w.at(f"{w.entry} sources[{i}]")
        src = _mapping(item, sw, "a source")
        _keys(src, sw, "a source", ("url", "verified", "kind", "says"), ("expect", "run_id"))
        kind_text = _text(src, "kind", sw)
        try:
            kind = SourceKind(kind_text)
        except ValueError:
            raise sw.fail(f"kind must be one of {_KINDS_TEXT}, got {kind_text!r}") from None
        url = _text(src, "url", sw)
        run_id = ""
        if src.get("run_id") is not None:
            run_id = _text(src, "run_id", sw)
            if not _RUN_ID.match(run_id):
                raise sw.fail(f"run_id must be a lab run ID (letters, digits, . _ -), "
                              f"got {run_id!r}")
        verified = _verified(src["verified"], sw)
        _source_url(kind, url, run_id, verified, sw)
        expect = None
        if src.get("expect") is not None:
            expect = _path(src["expect"], sw, "expect")
        out.append(KbSource(url, verified, kind, " ".join(_text(src, "says", sw).split()),
                            expect, run_id))
    return tuple(out)


def _path(value: object, w: _Where, key: str) -> NetPath:
    try:
        return NetPath(str(value))
    except ValueError:
        valid = ", ".join(p.value for p in NetPath)
        raise w.fail(f"{key} must be one of {valid}, got {value!r}") from None


def _condition_values(spec_name: str, raw: object, w: _Where) -> tuple[bool | str, ...]:
    spec = FACT_SPECS[spec_name]
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise w.fail(f"condition on {spec_name} has no value")
    out: list[bool | str] = []
    for item in items:
        if spec.type is FactType.BOOL:
            if not isinstance(item, bool):
                raise w.fail(f"{spec_name} is a boolean fact: use true or false, got {item!r}")
            out.append(item)
        else:
            if not isinstance(item, str) or item.lower() not in spec.values:
                raise w.fail(f"{spec_name} must be one of {', '.join(spec.values)}, got {item!r}")
            out.append(item.lower())
    return tuple(out)


def _conditions(value: object, w: _Where, *, registry_only: bool = False) -> tuple[Condition, ...]:
    when = _mapping(value, w, "when")
    if not when:
        raise w.fail("when must name at least one fact")
    out: list[Condition] = []
    for fact, raw in when.items():
        name = str(fact)
        if name not in FACT_SPECS:
            known = ", ".join(sorted(FACT_SPECS))
            raise w.fail(f"unknown fact {name!r} in when (known facts: {known})")
        if registry_only and FACT_SPECS[name].scope != "registry":
            raise w.fail(f"a registry-scope entry can only use registry facts, not {name}")
        negate = False
        if isinstance(raw, Mapping):
            _keys(raw, w, f"the condition on {name}", ("not",))
            raw = raw["not"]
            negate = True
        out.append(Condition(name, _condition_values(name, raw, w), negate))
    return tuple(out)


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


_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", None)
"""libyaml's safe loader when PyYAML has it: the same constructor and resolver as
``yaml.safe_load`` (the same objects), parsing about ten times faster."""


def _load_yaml(text: str, origin: str) -> Mapping[str, Any]:
    if _FAST_LOADER is not None:
        try:
            fast = yaml.load(text, Loader=_FAST_LOADER)  # noqa: S506 (a safe loader)
        except (yaml.YAMLError, ValueError):
            pass  # the pure-Python loader decides, and words the error as it always did
        else:
            return _mapping(fast, _Where(origin), "the document")
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise KnowledgeError(f"{origin}: not valid YAML{where}: {problem}") from None
    except ValueError as exc:  # e.g. a timestamp like 2025-13-01
        raise KnowledgeError(f"{origin}: not valid YAML: {exc}") from None
    return _mapping(doc, _Where(origin), "the document")


def _schema(doc: Mapping[str, Any], w: _Where, expected: str) -> None:
    if doc.get("schema") != expected:
        raise w.fail(f"schema must be {expected!r}, got {doc.get('schema')!r}")


def parse_callers(text: str, origin: str = "behaviours.yaml") -> tuple[TrustedCaller, ...]:
    """The callers that are not consumers (``callers`` of ``behaviours.yaml``, optional)."""
    return _callers(_load_yaml(text, origin), _Where(origin))


def _callers(doc: Mapping[str, Any], w: _Where) -> tuple[TrustedCaller, ...]:
    entries = doc.get("callers")
    if entries is None:
        return ()
    if not isinstance(entries, list):
        raise w.at("callers").fail("callers must be a list")
    out: list[TrustedCaller] = []
    seen: set[str] = set()
    for i, item in enumerate(entries):
        iw = w.at(f"callers[{i}]")
        entry = _mapping(item, iw, "a caller")
        _keys(entry, iw, "a caller",
              ("id", "name", "trusted", "identity", "evidence", "note", "sources"))
        cid = _text(entry, "id", iw)
        iw = w.at(f"callers.{cid}")
        if not _CALLER_ID.match(cid) or cid in seen:
            raise iw.fail(f"id must be a unique lower-case name like acr-import, got {cid!r}")
        seen.add(cid)
        if not isinstance(entry["trusted"], bool):
            raise iw.fail("trusted must be true or false")
        if entry["identity"] not in CALLER_IDENTITIES:
            raise iw.fail(f"identity must be one of {', '.join(CALLER_IDENTITIES)}, got "
                          f"{entry['identity']!r}")
        evidence = entry["evidence"] if entry["evidence"] is not None else ""
        if evidence not in CALLER_EVIDENCE:
            raise iw.fail(f"evidence must be one of {', '.join(repr(e) for e in CALLER_EVIDENCE)}"
                          f", got {evidence!r}")
        out.append(TrustedCaller(
            id=cid, name=_text(entry, "name", iw), trusted=entry["trusted"],
            identity=entry["identity"], evidence=evidence,
            note=" ".join(_text(entry, "note", iw).split()),
            sources=_sources(entry["sources"], iw)))
    return tuple(out)


def parse_behaviours(
    text: str, origin: str = "behaviours.yaml"
) -> tuple[tuple[Behaviour, ...], tuple[PullRole, ...], tuple[KbSource, ...]]:
    """Behaviours, pull roles and the roles' sources from the text of ``behaviours.yaml``."""
    return _parse_behaviours(_load_yaml(text, origin), origin)


def _parse_behaviours(
    doc: Mapping[str, Any], origin: str
) -> tuple[tuple[Behaviour, ...], tuple[PullRole, ...], tuple[KbSource, ...]]:
    w = _Where(origin)
    _keys(doc, w, "the document", ("schema", "pull_roles", "behaviours"), ("callers",))
    _schema(doc, w, BEHAVIOURS_SCHEMA)
    roles_doc = _mapping(doc["pull_roles"], w.at("pull_roles"), "pull_roles")
    rw = w.at("pull_roles")
    _keys(roles_doc, rw, "pull_roles", ("roles", "sources"))
    roles: list[PullRole] = []
    if not isinstance(roles_doc["roles"], list) or not roles_doc["roles"]:
        raise rw.fail("roles must be a non-empty list")
    for i, item in enumerate(roles_doc["roles"]):
        iw = rw.at(f"pull_roles.roles[{i}]")
        role = _mapping(item, iw, "a role")
        _keys(role, iw, "a role", ("id", "name", "modes"), ("denied_in",))
        rid = _text(role, "id", iw).lower()
        if not _GUID.match(rid):
            raise iw.fail(f"id must be a role definition GUID, got {rid!r}")
        modes = role["modes"]
        if (not isinstance(modes, list) or not modes
                or not all(isinstance(m, str) and m in ROLE_MODES for m in modes)):
            raise iw.fail(f"modes must be a non-empty list of {', '.join(ROLE_MODES)} (the role "
                          f"assignment permissions modes in which the role grants pulls), "
                          f"got {modes!r}")
        denied = role.get("denied_in") or []
        if (not isinstance(denied, list)
                or not all(isinstance(m, str) and m in ROLE_MODES and m not in modes
                           for m in denied)):
            raise iw.fail(f"denied_in must list modes of {', '.join(ROLE_MODES)} that are not in "
                          f"modes, got {denied!r}")
        roles.append(PullRole(rid, _text(role, "name", iw), tuple(dict.fromkeys(modes)),
                              tuple(dict.fromkeys(denied))))
    role_sources = _sources(roles_doc["sources"], rw)

    entries = doc["behaviours"]
    if not isinstance(entries, list) or not entries:
        raise w.fail("behaviours must be a non-empty list")
    out: list[Behaviour] = []
    seen: set[str] = set()
    for i, item in enumerate(entries):
        iw = w.at(f"behaviours[{i}]")
        entry = _mapping(item, iw, "a behaviour")
        bid = str(entry.get("id", ""))
        iw = w.at(bid or f"behaviours[{i}]")
        _keys(entry, iw, "a behaviour",
              ("id", "consumer", "title", "when", "expect", "confidence", "rationale", "sources"),
              ("lab", "denied_by"))
        if not _KB_ID.match(bid):
            raise iw.fail(f"id must look like KB-ACI-001, got {bid!r}")
        if bid in seen:
            raise iw.fail("duplicate id")
        seen.add(bid)
        consumer = _text(entry, "consumer", iw)
        if consumer not in _CONSUMERS:
            raise iw.fail(f"consumer must be one of {', '.join(_CONSUMERS)}, got {consumer!r}")
        try:
            confidence = Confidence(_text(entry, "confidence", iw))
        except ValueError:
            raise iw.fail("confidence must be high, medium or low") from None
        if confidence is Confidence.NONE:
            raise iw.fail("confidence must be high, medium or low")
        lab = entry.get("lab") or []
        if not isinstance(lab, list) or not all(isinstance(x, str) and x for x in lab):
            raise iw.fail("lab must be a list of scenario names")
        expect = _path(entry["expect"], iw, "expect")
        denied_by = str(entry.get("denied_by") or "")
        if (expect is NetPath.DENIED) != bool(denied_by) or (denied_by and
                                                             denied_by not in DENIALS):
            raise iw.fail(f"an entry that expects denied says what refuses the pull (denied_by: "
                          f"{', '.join(DENIALS)}); other entries have no denied_by, got "
                          f"{entry.get('denied_by')!r}")
        behaviour = Behaviour(
            id=bid,
            consumer=consumer,
            title=_text(entry, "title", iw),
            when=_conditions(entry["when"], iw),
            expect=expect,
            confidence=confidence,
            rationale=" ".join(_text(entry, "rationale", iw).split()),
            sources=_sources(entry["sources"], iw),
            lab=tuple(lab),
            denied_by=denied_by,
        )
        _check_observation_wins(behaviour, iw)
        out.append(behaviour)
    return tuple(out), tuple(roles), role_sources


def _check_template(text: str, w: _Where, key: str) -> None:
    for name in _PLACEHOLDER.findall(text):
        if name.startswith("why:"):
            if name[4:] not in FACT_SPECS:
                raise w.fail(f"{key}: unknown fact in placeholder {{{{{name}}}}}")
        elif name not in TEMPLATE_KEYS:
            raise w.fail(f"{key}: unknown placeholder {{{{{name}}}}} "
                         f"(known: {', '.join(sorted(TEMPLATE_KEYS))}, why:<fact>)")


def parse_findings(text: str, origin: str = "findings.yaml") -> tuple[FindingSpec, ...]:
    """Finding definitions from the text of ``findings.yaml``."""
    doc = _load_yaml(text, origin)
    w = _Where(origin)
    _keys(doc, w, "the document", ("schema", "findings"))
    _schema(doc, w, FINDINGS_SCHEMA)
    entries = doc["findings"]
    if not isinstance(entries, list) or not entries:
        raise w.fail("findings must be a non-empty list")
    out: list[FindingSpec] = []
    seen: set[str] = set()
    for i, item in enumerate(entries):
        iw = w.at(f"findings[{i}]")
        entry = _mapping(item, iw, "a finding")
        fid = str(entry.get("id", ""))
        iw = w.at(fid or f"findings[{i}]")
        _keys(entry, iw, "a finding",
              ("id", "severity", "title", "scope", "subject", "when", "description", "detail",
               "fix", "docs"),
              ("policy", "sources"))
        if not _FINDING_ID.match(fid):
            raise iw.fail(f"id must look like PP001, got {fid!r}")
        if fid in seen:
            raise iw.fail("duplicate id")
        seen.add(fid)
        try:
            severity = Severity(_text(entry, "severity", iw))
        except ValueError:
            raise iw.fail("severity must be error, warning or note") from None
        scope = _text(entry, "scope", iw)
        if scope not in ("pair", "registry"):
            raise iw.fail(f"scope must be pair or registry, got {scope!r}")
        subject = _text(entry, "subject", iw)
        if subject not in ("consumer", "registry") or (scope == "registry" and
                                                      subject != "registry"):
            raise iw.fail(f"subject must be consumer or registry (registry for a registry-scope "
                          f"finding), got {subject!r}")
        fix = _mapping(entry["fix"], iw, "fix")
        _keys(fix, iw, "fix", ("cli", "bicep"))
        docs = entry["docs"]
        if (not isinstance(docs, list) or not docs
                or not all(isinstance(d, str) and d.startswith("https://") for d in docs)):
            raise iw.fail("docs must be a non-empty list of https:// URLs")
        policy = None
        if entry.get("policy") is not None:
            pol = _mapping(entry["policy"], iw, "policy")
            _keys(pol, iw, "policy", ("id", "name"))
            pid = _text(pol, "id", iw).lower()
            if not _GUID.match(pid):
                raise iw.fail(f"policy id must be a policy definition GUID, got {pid!r}")
            policy = PolicyRef(pid, _text(pol, "name", iw))
        spec = FindingSpec(
            id=fid,
            severity=severity,
            title=_text(entry, "title", iw),
            scope=scope,
            subject=subject,
            when=_conditions(entry["when"], iw, registry_only=scope == "registry"),
            description=" ".join(_text(entry, "description", iw).split()),
            detail=" ".join(_text(entry, "detail", iw).split()),
            fix_cli=_text(fix, "cli", iw),
            fix_bicep=_text(fix, "bicep", iw),
            docs=tuple(docs),
            policy=policy,
            sources=_sources(entry.get("sources"), iw, required=False),
        )
        for key, value in (("detail", spec.detail), ("fix.cli", spec.fix_cli),
                           ("fix.bicep", spec.fix_bicep)):
            _check_template(value, iw, key)
        out.append(spec)
    return tuple(out)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KnowledgeError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise KnowledgeError(f"{path}: not UTF-8 text: {exc}") from None


def load_knowledge(behaviours: Path | None = None, findings: Path | None = None) -> KnowledgeBase:
    """The knowledge base from the given files (default: the files shipped in the package)."""
    here = resources.files("pullpath.knowledge")
    if behaviours is None:
        b_text, b_origin = here.joinpath("behaviours.yaml").read_text("utf-8"), "behaviours.yaml"
    else:
        b_text, b_origin = _read(behaviours), str(behaviours)
    if findings is None:
        f_text, f_origin = here.joinpath("findings.yaml").read_text("utf-8"), "findings.yaml"
    else:
        f_text, f_origin = _read(findings), str(findings)
    b_doc = _load_yaml(b_text, b_origin)
    rules, roles, role_sources = _parse_behaviours(b_doc, b_origin)
    return KnowledgeBase(
        behaviours=rules,
        findings=parse_findings(f_text, f_origin),
        pull_roles=roles,
        pull_roles_sources=role_sources,
        callers=_callers(b_doc, _Where(b_origin)),
        origin=(b_origin, f_origin),
    )


@lru_cache(maxsize=1)
def default_knowledge() -> KnowledgeBase:
    """The shipped knowledge base, loaded once per process."""
    return load_knowledge()
