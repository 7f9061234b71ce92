"""SARIF 2.1.0 output for explain (findings) and audit (flows worth a look).

One SARIF rule per finding ID (``PP001``...) with its documentation page as ``helpUri``; each
result is located at the Azure resource it concerns as a logical location
(``{"fullyQualifiedName": <resource id>, "kind": "resource"}``), with the other resources
involved as related locations. Cloud resources have no file: code-scanning tools that need a
physical location can use the resource ID from the logical location.

Audit results (rules ``PPA001``...): flows that passed by the trusted-services bypass, reached
the public endpoint, were allowed by an IP rule, were denied, could not be proven, or disagree
with the knowledge base. Private-endpoint flows are what the user wants and give no result.
Explain findings carried in the audit report are added with their own rules.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from pullpath import __version__
from pullpath.domain.explain import Finding, FindingSpec, Severity
from pullpath.domain.iac import SourceLocation
from pullpath.domain.inventory import norm_id
from pullpath.domain.report import AuditReport, ExplainReport
from pullpath.domain.resource_id import name_of
from pullpath.domain.verdicts import Flow, Path
from pullpath.formatters.common import safe_text
from pullpath.formatters.sections import finding_help_uri

__all__ = ["SARIF_SCHEMA_URI", "audit_sarif", "explain_sarif", "sarif_level"]

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
INFORMATION_URI = "https://github.com/pullpath/pullpath"
AUDIT_HELP_URI = "https://github.com/pullpath/pullpath/blob/main/docs/formats.md#sarif"
CODE_HELP_URI = "https://github.com/pullpath/pullpath/blob/main/docs/ci.md"
"""Help of the path results of infrastructure code (``PPE001``...)."""
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


def sarif_level(severity: Severity) -> str:
    """SARIF levels are error, warning and note, like pullpath severities."""
    return severity.value


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "replace")).hexdigest()


def _logical(resource_id: str) -> dict[str, Any]:
    name = name_of(resource_id)
    loc: dict[str, Any] = {"fullyQualifiedName": safe_text(resource_id), "kind": "resource"}
    if name:
        loc["name"] = safe_text(name)
    return loc


Locate = Callable[[str], SourceLocation | None]
"""Where infrastructure code writes a resource (``ExplainReport.location_of``)."""


def _no_code(resource_id: str) -> SourceLocation | None:
    return None


def _physical(where: SourceLocation) -> dict[str, Any]:
    """A file location for code scanning: the URI relative to the repository root when the
    path is relative (GitHub resolves it against the checkout), and the declaration's lines."""
    uri = where.file.replace("\\", "/")
    artifact: dict[str, Any] = {"uri": quote(uri, safe="/:")}
    if not uri.startswith("/") and ":" not in uri.split("/", 1)[0]:
        artifact["uriBaseId"] = "%SRCROOT%"
    physical: dict[str, Any] = {"artifactLocation": artifact}
    if where.line > 0:
        region: dict[str, Any] = {"startLine": where.line}
        if where.column > 0:
            region["startColumn"] = where.column
        if where.end_line >= where.line:
            region["endLine"] = where.end_line
        physical["region"] = region
    return physical


def _location(resource_id: str, locate: Locate = _no_code) -> dict[str, Any]:
    loc: dict[str, Any] = {"logicalLocations": [_logical(resource_id)]}
    where = locate(resource_id) if resource_id else None
    if where is not None:
        loc["physicalLocation"] = _physical(where)
        if where.address:
            loc["logicalLocations"].append({"name": safe_text(where.address),
                                            "kind": "declaration"})
    return loc


def _related(resource_ids: list[str], locate: Locate = _no_code) -> list[dict[str, Any]]:
    return [{"id": i, **_location(rid, locate)}
            for i, rid in enumerate((r for r in resource_ids if r), start=1)]


def _run(rules: list[dict[str, Any]], results: list[dict[str, Any]],
         properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "$schema": SARIF_SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {
                "name": "pullpath",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }},
            "results": results,
            "columnKind": "unicodeCodePoints",
            "properties": properties,
        }],
    }


def _dump(log: dict[str, Any]) -> str:
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------------------------
# explain


def _pascal(title: str) -> str:
    words = "".join(ch if ch.isalnum() else " " for ch in title).split()
    return "".join(w[:1].upper() + w[1:] for w in words)[:80] or "Finding"


def _generic(template: str) -> str:
    """A fix template with its placeholders shown as ``<name>`` (rule help is generic)."""
    return _PLACEHOLDER.sub(lambda m: "<" + m.group(1).replace("_", "-") + ">", template)


def _spec_rule(spec: FindingSpec) -> dict[str, Any]:
    help_md = (f"**{spec.title}**\n\n{spec.description}\n\n"
               f"Fix (Azure CLI):\n\n```bash\n{_generic(spec.fix_cli)}\n```\n\n"
               f"Fix (Bicep):\n\n```bicep\n{_generic(spec.fix_bicep)}\n```\n\n"
               + "".join(f"- {d}\n" for d in spec.docs))
    props: dict[str, Any] = {"tags": ["azure", "container-registry", "network", spec.scope]}
    if spec.policy is not None:
        props["azurePolicy"] = {"id": spec.policy.id, "name": spec.policy.name}
    return {
        "id": spec.id,
        "name": _pascal(spec.title),
        "shortDescription": {"text": spec.title},
        "fullDescription": {"text": spec.description},
        "helpUri": finding_help_uri(spec.id),
        "help": {"text": f"{spec.description} See {finding_help_uri(spec.id)}",
                 "markdown": help_md},
        "defaultConfiguration": {"level": sarif_level(spec.severity)},
        "properties": props,
    }


def _finding_rule(f: Finding) -> dict[str, Any]:
    """A rule built from a finding alone (when its definition is not at hand)."""
    return {
        "id": f.id,
        "name": _pascal(f.title),
        "shortDescription": {"text": f.title},
        "helpUri": finding_help_uri(f.id),
        "defaultConfiguration": {"level": sarif_level(f.severity)},
    }


def _finding_result(f: Finding, index: int, *, fix: bool = True,
                    locate: Locate = _no_code) -> dict[str, Any]:
    """A finding as a SARIF result; without its ``fix`` as the audit carries it (then the
    message falls back to the title when the finding has no detail)."""
    result: dict[str, Any] = {
        "ruleId": f.id,
        "ruleIndex": index,
        "level": sarif_level(f.severity),
        "message": {"text": safe_text(f.detail if fix else f.detail or f.title or f.id)},
        "locations": [_location(f.resource_id, locate)],
        "partialFingerprints": {"pullpathFinding/v1": _fingerprint(f.id, f.resource_id)},
    }
    if fix:
        result["properties"] = {
            "fix": {"cli": safe_text(f.fix_cli), "bicep": safe_text(f.fix_bicep)},
            "docs": list(f.docs),
        }
    related = _related(list(f.related), locate)
    if related:
        result["relatedLocations"] = related
    return result


@dataclass(frozen=True, slots=True)
class _PathRule:
    path: Path
    id: str
    name: str
    level: str
    text: str


_PATH_RULES: dict[Path, _PathRule] = {r.path: r for r in (
    _PathRule(path=Path.DENIED, id="PPE001", name="PredictedDenied", level="error",
                    text="The consumer's pulls from this registry will be refused."),
    _PathRule(path=Path.TRUSTED_SERVICE, id="PPE002", name="PredictedTrustedServiceBypass",
                    level="warning",
                    text="The consumer will pull by the trusted-services bypass, from a "
                         "Microsoft address: not through a private endpoint."),
    _PathRule(path=Path.PUBLIC, id="PPE003", name="PredictedPublicEndpoint",
                    level="warning",
                    text="The consumer will pull through the registry's public endpoint."),
    _PathRule(path=Path.FIREWALL_RULE, id="PPE004", name="PredictedFirewallRule",
                    level="note",
                    text="The consumer will pull from a public address allowed by an IP rule."),
    _PathRule(path=Path.UNKNOWN, id="PPE005", name="PathNotPredictable", level="note",
                    text="The path cannot be predicted from the code and inventory given: "
                         "something it depends on is missing or not known before deployment."),
)}
"""Explain of infrastructure code: each consumer whose predicted path is not a private
endpoint is a result at the consumer's declaration, so code scanning annotates that line."""


def _change_text(report: ExplainReport, consumer_id: str, login_server: str) -> str:
    for c in report.changes:
        if norm_id(c.consumer_id) == norm_id(consumer_id) and \
                c.login_server.lower() == login_server.lower():
            before = c.before.value if c.before is not None else "no pull"
            return f" (was {before} in {report.baseline})"
    return ""


def _pair_results(report: ExplainReport, rules: list[dict[str, Any]],
                  index: dict[str, int]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for p in report.pairs:
        rule = _PATH_RULES.get(p.expected_path)
        if rule is None:
            continue
        if rule.id not in index:
            index[rule.id] = len(rules)
            rules.append({"id": rule.id, "name": rule.name,
                          "shortDescription": {"text": rule.text},
                          "helpUri": CODE_HELP_URI,
                          "defaultConfiguration": {"level": rule.level}})
        why = "; ".join([*p.reasons[:3], *(f"missing: {m}" for m in p.missing[:2])])
        text = (f"{p.consumer.kind.noun} {p.consumer.name} -> {p.login_server}: "
                f"{p.expected_path.value}{_change_text(report, p.consumer.id, p.login_server)}"
                + (f". {why}" if why else ""))
        result: dict[str, Any] = {
            "ruleId": rule.id, "ruleIndex": index[rule.id], "level": rule.level,
            "message": {"text": safe_text(text)},
            "locations": [_location(p.consumer.id, report.location_of)],
            "partialFingerprints": {"pullpathPath/v1": _fingerprint(
                rule.id, norm_id(p.consumer.id), p.login_server.lower())},
            "properties": {"path": p.expected_path.value, "rule": p.rule,
                           "confidence": p.confidence.value},
        }
        related = _related([p.registry_id], report.location_of)
        if related:
            result["relatedLocations"] = related
        results.append(result)
    return results


def explain_sarif(report: ExplainReport) -> str:
    """The explain report's findings as a SARIF 2.1.0 log."""
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for spec in report.specs:
        index[spec.id] = len(rules)
        rules.append(_spec_rule(spec))
    for f in report.findings:
        if f.id not in index:
            index[f.id] = len(rules)
            rules.append(_finding_rule(f))
    results = [_finding_result(f, index[f.id], locate=report.location_of)
               for f in report.findings]
    if report.code:
        results += _pair_results(report, rules, index)
    props: dict[str, Any] = {"schema": "pullpath.explain/v1", "pairs": len(report.pairs),
                             "notes": [safe_text(n) for n in report.notes]}
    if report.code:
        props["code"] = [safe_text(c) for c in report.code]
    if report.baseline:
        props["baseline"] = safe_text(report.baseline)
        props["changes"] = len(report.changes)
    return _dump(_run(rules, results, props))


# --------------------------------------------------------------------------------------------
# audit


@dataclass(frozen=True, slots=True)
class _AuditRule:
    id: str
    name: str
    level: str
    text: str


_AUDIT_RULES: tuple[_AuditRule, ...] = (
    _AuditRule("PPA001", "TrustedServiceBypass", "warning",
               "A pull passed the registry's firewall by the trusted-services bypass, from a "
               "Microsoft address: not through the private endpoint."),
    _AuditRule("PPA002", "PublicEndpoint", "warning",
               "A pull reached the registry's public endpoint (registry open to all networks)."),
    _AuditRule("PPA003", "FirewallRule", "note",
               "A public caller was allowed by one of the registry's IP rules."),
    _AuditRule("PPA004", "Denied", "warning",
               "A request was refused (firewall or authorisation)."),
    _AuditRule("PPA005", "Unproven", "note",
               "The path could not be proven: evidence was missing."),
    _AuditRule("PPA006", "DisagreesWithKnowledgeBase", "warning",
               "The observed path differs from the knowledge base's prediction for this "
               "consumer: the service may behave differently than documented."),
)
_BY_PATH: dict[Path, str] = {
    Path.TRUSTED_SERVICE: "PPA001",
    Path.PUBLIC: "PPA002",
    Path.FIREWALL_RULE: "PPA003",
    Path.DENIED: "PPA004",
    Path.UNKNOWN: "PPA005",
}


def _audit_rule_doc(rule: _AuditRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.text},
        "helpUri": AUDIT_HELP_URI,
        "defaultConfiguration": {"level": rule.level},
    }


def _flow_message(flow: Flow) -> str:
    image = flow.repository + (f":{flow.tag}" if flow.tag else "")
    who = (f"{flow.consumer.kind.value} {name_of(flow.consumer.id)}"
           if flow.consumer.id else "an unattributed caller")
    src = flow.source.service_tag or flow.source.kind.value
    text = (f"{flow.count} {flow.operation or 'request'} event(s) of {image or '-'} on "
            f"{flow.registry} from {flow.caller_ip or '-'} ({src}), {who}: "
            f"{flow.path.value}")
    if flow.verdict.denial:
        text += f" ({flow.verdict.denial})"
    if flow.verdict.missing:
        text += "; missing: " + "; ".join(flow.verdict.missing)
    if flow.expectation is not None and flow.expectation.agrees is False:
        text += (f"; the knowledge base expected {flow.expectation.path.value} "
                 f"(rule {flow.expectation.rule})")
    return safe_text(text)


def _flow_result(flow: Flow, rule_id: str, index: int, level: str) -> dict[str, Any]:
    target = flow.registry_id or flow.registry
    result: dict[str, Any] = {
        "ruleId": rule_id,
        "ruleIndex": index,
        "level": level,
        "message": {"text": _flow_message(flow)},
        "locations": [_location(target)],
        "partialFingerprints": {"pullpathFlow/v1": _fingerprint(
            rule_id, flow.registry, flow.operation, flow.repository, flow.tag, flow.caller_ip,
            flow.identity, flow.result, flow.consumer.id)},
        "properties": {"count": flow.count, "path": flow.path.value,
                       "sourceKind": flow.source.kind.value},
    }
    related = _related([flow.consumer.id, flow.source.resource_id])
    if related:
        result["relatedLocations"] = related
    return result


def audit_sarif(report: AuditReport) -> str:
    """The audit's notable flows (and any explain findings it carries) as a SARIF 2.1.0 log."""
    rules = [_audit_rule_doc(r) for r in _AUDIT_RULES]
    index = {r.id: i for i, r in enumerate(_AUDIT_RULES)}
    levels = {r.id: r.level for r in _AUDIT_RULES}
    results: list[dict[str, Any]] = []
    for flow in report.result.flows:
        rule_id = _BY_PATH.get(flow.path)
        if rule_id is not None:
            results.append(_flow_result(flow, rule_id, index[rule_id], levels[rule_id]))
        if flow.expectation is not None and flow.expectation.agrees is False:
            results.append(_flow_result(flow, "PPA006", index["PPA006"], levels["PPA006"]))
    for f in report.findings:
        if not f.id:
            continue
        if f.id not in index:
            index[f.id] = len(rules)
            rules.append(_finding_rule(f))
        results.append(_finding_result(f, index[f.id], fix=False))
    summary = report.result.summary
    props = {"schema": "pullpath.audit/v1", "events": summary.events,
             "flows": len(report.result.flows), "byPath": dict(summary.by_path),
             "disagreements": summary.disagreements}
    return _dump(_run(rules, results, props))
