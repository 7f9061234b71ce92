"""The lab report: per consumer, the predicted path, the observed path with its evidence, and
whether they agree; a contradicted knowledge-base entry and the update to make to it.

Pure: built from values the runner and the audit produced; rendered as a rich table or the
``pullpath.lab/v1`` JSON document.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from pullpath.domain.inventory import kind_label, norm_id
from pullpath.domain.resource_id import name_of
from pullpath.domain.verdicts import Flow, Path, SourceKind
from pullpath.formatters.audit_doc import AuditReport
from pullpath.formatters.common import iso, safe_text, term_safe
from pullpath.lab.predict import Prediction
from pullpath.lab.scenarios import Claim, ConsumerSpec, KnowledgeRef, Scenario

__all__ = [
    "LAB_SCHEMA",
    "MEASURED_URL",
    "ConsumerResult",
    "Evidence",
    "LabReport",
    "compare",
    "lab_document",
    "lab_table",
    "measured_sources",
]

LAB_SCHEMA = "pullpath.lab/v1"

MEASURED_URL = "pullpath-lab:{run_id}"
"""The URL of a ``measured`` knowledge-base source: the pullpath lab run that measured it."""

HELD = "held"
NOT_HELD = "did-not-hold"
NO_CLAIM = "no-claim"

AGREES = "agrees"
DISAGREES = "disagrees"
NOT_OBSERVED = "not-observed"
INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True, slots=True)
class Evidence:
    """One flow seen in the registry's log, as evidence of an observed path."""

    caller_ip: str
    source_kind: str
    service_tag: str
    region: str
    owner: str
    """Resource the caller IP belongs to (subnet, public IP, NAT gateway); "" for none."""
    belongs_to_subscription: bool
    """True when the IP is in a subnet or public IP of the inventoried subscription."""
    operation: str
    result: str
    path: Path
    count: int
    identity: str
    repository: str
    first_seen: datetime | None
    last_seen: datetime | None


@dataclass(frozen=True, slots=True)
class ConsumerResult:
    key: str
    kind: str
    name: str
    resource_id: str
    prediction: Prediction
    expected: Path
    """The scenario's expectation (may differ from explain's prediction)."""
    observed: str
    """A path value, ``deployment-failed`` or ``not-observed``."""
    observed_paths: tuple[Path, ...]
    deployment_errors: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    agreement: str
    """``agrees``, ``disagrees``, ``inconclusive`` (the audit could not decide the path) or
    ``not-observed``."""
    knowledge: KnowledgeRef | None
    """The scenario's own statement of the knowledge it re-checks."""
    knowledge_id: str = ""
    """The knowledge-base entry the prediction rests on (explain's rule, e.g. KB-ACI-002, or
    the scenario's entry when explain is not available)."""
    knowledge_title: str = ""
    knowledge_update: str = ""
    """The entry to update (disagreement) or the re-verification (agreement), dated today."""
    documented: Claim | None = None
    """What the documentation says the path is (from the scenario)."""
    documentation: str = NO_CLAIM
    """Whether the documentation held: ``held``, ``did-not-hold``, ``no-claim`` (it makes
    none for this setup) or ``not-observed``."""


@dataclass(frozen=True)
class LabReport:
    scenario: Scenario
    run_id: str
    subscription: str
    resource_group: str
    location: str
    started: datetime
    finished: datetime
    consumers: tuple[ConsumerResult, ...]
    unattributed: tuple[Evidence, ...]
    collect: dict[str, Any]
    audit: AuditReport | None
    warnings: tuple[str, ...] = ()
    torn_down: bool | None = None
    today: date = field(default_factory=lambda: datetime.now(UTC).date())
    trigger: str = ""
    """How the consumers were made to pull again (``stop-start``...), "" when not triggered."""
    triggered: datetime | None = None


def evidence_of(flow: Flow) -> Evidence:
    s = flow.source
    owner = s.resource_id or s.subnet_id
    return Evidence(
        caller_ip=flow.caller_ip,
        source_kind=s.kind.value,
        service_tag=s.service_tag,
        region=s.region,
        owner=owner,
        belongs_to_subscription=s.kind in (SourceKind.SUBNET, SourceKind.CUSTOMER_PUBLIC_IP),
        operation=flow.operation,
        result=flow.result,
        path=flow.path,
        count=flow.count,
        identity=flow.identity,
        repository=flow.repository,
        first_seen=flow.first_seen,
        last_seen=flow.last_seen,
    )


def _is_pull(flow: Flow) -> bool:
    return flow.operation.lower() == "pull"


def consumer_flows(audit: AuditReport | None, resource_id: str) -> list[Flow]:
    if audit is None or not resource_id:
        return []
    rid = norm_id(resource_id)
    return [f for f in audit.result.flows if norm_id(f.consumer.id) == rid]


def missing_consumers(audit: AuditReport, consumer_ids: dict[str, str]) -> list[str]:
    """Keys of consumers without any attributed pull in the audit."""
    return [key for key, rid in consumer_ids.items()
            if not any(_is_pull(f) for f in consumer_flows(audit, rid))]


def compare(
    scenario: Scenario,
    *,
    run_id: str,
    predictions: Sequence[Prediction],
    consumer_ids: dict[str, str],
    consumer_names: dict[str, str],
    deployment_errors: dict[str, tuple[str, ...]],
    audit: AuditReport | None,
    today: date,
) -> tuple[ConsumerResult, ...]:
    by_key = {p.consumer_key: p for p in predictions}
    out: list[ConsumerResult] = []
    for c in scenario.consumers:
        pred = by_key[c.key]
        rid = consumer_ids.get(c.key, "")
        flows = consumer_flows(audit, rid)
        pulls = [f for f in flows if _is_pull(f)] or flows
        errors = deployment_errors.get(c.key, ())
        observed_paths = tuple(dict.fromkeys(f.path for f in pulls))
        if c.key not in consumer_ids:
            observed = "deployment-failed"
            agreement = _failure_agreement(c, pred, errors)
        elif not pulls:
            observed = NOT_OBSERVED
            agreement = NOT_OBSERVED
        else:
            observed = "+".join(p.value for p in observed_paths)
            known = set(observed_paths) - {Path.UNKNOWN}
            if known == {pred.path} and Path.UNKNOWN not in observed_paths:
                agreement = AGREES
            elif known <= {pred.path}:
                agreement = INCONCLUSIVE  # the audit could not decide some pulls' path
            else:
                agreement = DISAGREES
            if c.expect.deployment == "fails" and pred.path is Path.DENIED:
                agreement = DISAGREES
        kb = scenario.knowledge_entry(pred.rule) or scenario.knowledge_entry(c.expect.knowledge)
        entry_id = pred.rule or c.expect.knowledge
        title = _kb_title(entry_id) or (kb.statement if kb else "")
        evidence = tuple(evidence_of(f) for f in pulls)
        update = _update_text(scenario, c, pred, entry_id, title, observed, evidence, errors,
                              agreement, run_id, today)
        out.append(ConsumerResult(
            key=c.key, kind=c.kind, name=consumer_names.get(c.key, c.key), resource_id=rid,
            prediction=pred, expected=c.expect.path, observed=observed,
            observed_paths=observed_paths, deployment_errors=errors,
            evidence=evidence, agreement=agreement,
            knowledge=kb, knowledge_id=entry_id, knowledge_title=title,
            knowledge_update=update, documented=c.expect.documented,
            documentation=_documentation_held(c, observed, observed_paths),
        ))
    return tuple(out)


def observed_path(result: ConsumerResult) -> Path | None:
    """The one path a consumer's observation settled on: its pulls' single decided path, or
    ``denied`` when its deployment failed; None when nothing was observed or the paths are
    mixed or undecided."""
    return _settled(result.observed, result.observed_paths)


def _settled(observed: str, paths: tuple[Path, ...]) -> Path | None:
    if observed == "deployment-failed":
        return Path.DENIED
    if len(paths) == 1 and paths[0] is not Path.UNKNOWN:
        return paths[0]
    return None


def _documentation_held(c: ConsumerSpec, observed: str, paths: tuple[Path, ...]) -> str:
    doc = c.expect.documented
    if doc is None:
        return NO_CLAIM
    seen = _settled(observed, paths)
    if seen is None:
        return NOT_OBSERVED
    return HELD if seen is doc.path else NOT_HELD


def _failure_agreement(c: ConsumerSpec, pred: Prediction, errors: tuple[str, ...]) -> str:
    """A consumer whose deployment failed was refused before any pull: that agrees with a
    ``denied`` prediction when the scenario allows a failure with these codes."""
    if pred.path is not Path.DENIED or c.expect.deployment == "succeeds":
        return DISAGREES
    wanted = set(c.expect.failure_codes)
    if wanted and not wanted & set(errors):
        return DISAGREES
    return AGREES


def _kb_title(entry_id: str) -> str:
    """The title of a knowledge-base behaviour (explain's rule), "" when it is not one."""
    try:
        from pullpath.knowledge.loader import default_knowledge
    except ImportError:
        return ""
    for b in default_knowledge().behaviours:
        if b.id == entry_id:
            return b.title
    return ""


KB_FILE = "src/pullpath/knowledge/behaviours.yaml"


def _update_text(scenario: Scenario, c: ConsumerSpec, pred: Prediction, entry_id: str,
                 title: str, observed: str, evidence: tuple[Evidence, ...],
                 errors: tuple[str, ...], agreement: str, run_id: str, today: date) -> str:
    day = today.isoformat()
    where = f"pullpath lab {scenario.ident}, run {run_id}"
    seen = observed + (f" ({', '.join(errors)})" if errors else "")
    if evidence:
        e = evidence[0]
        detail = (f"caller {e.caller_ip}, {e.source_kind}"
                  + (f" {e.service_tag}" if e.service_tag else "")
                  + (f", {name_of(e.owner)}" if e.owner else "")
                  + ("" if e.belongs_to_subscription else ", no resource in the subscription"))
    else:
        detail = f"deployment error {', '.join(errors)}" if errors else "no registry event"
    name = f'{entry_id} ("{title}")' if title else entry_id
    home = KB_FILE if pred.source == "explain" else f"scenario {scenario.source}"
    if agreement == DISAGREES:
        path_value = observed if observed in {p.value for p in Path} else Path.DENIED.value
        return (
            f"CONTRADICTED knowledge entry {name}: predicted {pred.path.value}, observed {seen} "
            f"on {day} ({where}; {detail}). Edit entry {entry_id} in {home}: make it "
            f"`expect: {path_value}` and add the measurement (`lab run --record FILE` writes "
            "it)\n"
            f"      - url: {MEASURED_URL.format(run_id=run_id)}\n"
            f"        kind: measured\n"
            f"        run_id: {run_id}\n"
            f"        verified: {day}\n"
            f"        expect: {path_value}\n"
            f"        says: {where} observed {seen} ({detail})."
        )
    if agreement == AGREES:
        return (f"knowledge entry {name} re-verified on {day} ({where}): observed {seen} "
                f"({detail}); add the measurement to {home} as a `measured` source "
                f"({MEASURED_URL.format(run_id=run_id)}; `lab run --record FILE` writes it).")
    if agreement == INCONCLUSIVE:
        return (f"knowledge entry {name} not settled on {day} ({where}): the audit could not "
                f"decide the path of {c.key}'s pulls ({detail}); see the evidence and the "
                "audit's missing inputs.")
    return (f"knowledge entry {name} not checked: no pull by {c.key} reached the workspace "
            "before collection stopped.")


# ------------------------------------------------------------------------------ JSON


def _evidence_doc(e: Evidence) -> dict[str, Any]:
    return {
        "caller_ip": safe_text(e.caller_ip),
        "source_kind": e.source_kind,
        "service_tag": e.service_tag,
        "region": e.region,
        "owner_resource_id": e.owner,
        "belongs_to_subscription": e.belongs_to_subscription,
        "operation": safe_text(e.operation),
        "result": e.result,
        "path": e.path.value,
        "count": e.count,
        "identity": safe_text(e.identity),
        "repository": safe_text(e.repository),
        "first_seen": iso(e.first_seen),
        "last_seen": iso(e.last_seen),
    }


def lab_document(report: LabReport) -> dict[str, Any]:
    s = report.scenario
    consumers = []
    for c in report.consumers:
        consumers.append({
            "key": c.key,
            "kind": c.kind,
            "name": c.name,
            "resource_id": c.resource_id,
            "predicted": {"path": c.prediction.path.value, "source": c.prediction.source,
                          "rule": c.prediction.rule, "reasons": list(c.prediction.reasons),
                          "missing": list(c.prediction.missing)},
            "expected_by_scenario": c.expected.value,
            "documented": ({"path": c.documented.path.value, "source": c.documented.source,
                            "as_of": c.documented.as_of, "says": c.documented.says}
                           if c.documented else None),
            "documentation": c.documentation,
            "observed": {"summary": c.observed,
                         "paths": [p.value for p in c.observed_paths],
                         "deployment_errors": list(c.deployment_errors),
                         "evidence": [_evidence_doc(e) for e in c.evidence]},
            "agreement": c.agreement,
            "knowledge_entry": {"id": c.knowledge_id, "title": c.knowledge_title},
            "knowledge": ({"id": c.knowledge.id, "statement": c.knowledge.statement,
                           "source": c.knowledge.source, "as_of": c.knowledge.as_of}
                          if c.knowledge else None),
            "knowledge_update": c.knowledge_update,
        })
    tags = report.audit.tags if report.audit is not None else None
    return {
        "schema": LAB_SCHEMA,
        "scenario": {"name": s.name, "variant": s.variant, "title": s.title,
                     "question": s.question, "report": s.report},
        "run_id": report.run_id,
        "subscription": report.subscription,
        "resource_group": report.resource_group,
        "location": report.location,
        "started": iso(report.started),
        "finished": iso(report.finished),
        "date": report.today.isoformat(),
        "consumers": consumers,
        "unattributed_flows": [_evidence_doc(e) for e in report.unattributed],
        "collect": report.collect,
        "service_tags": ({"cloud": tags.cloud, "change_number": tags.change_number,
                          "source": tags.source} if tags else None),
        "events": report.audit.result.summary.events if report.audit is not None else 0,
        "torn_down": report.torn_down,
        "trigger": report.trigger,
        "triggered": iso(report.triggered),
        "warnings": list(report.warnings),
    }


# ------------------------------------------------------------------------------ table

_AGREEMENT_STYLE = {AGREES: "bold green", DISAGREES: "bold red", NOT_OBSERVED: "yellow",
                    INCONCLUSIVE: "yellow"}


def lab_table(report: LabReport, *, width: int = 140) -> str:
    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=False, highlight=False,
                      soft_wrap=False)
    s = report.scenario
    console.print(f"pullpath lab {term_safe(s.ident)} — run {report.run_id}, "
                  f"{report.resource_group} ({report.location}), {report.today.isoformat()}")
    console.print(f"question: {term_safe(s.question, 400)}")
    table = Table(title="Documentation, prediction and observation", title_justify="left")
    for heading in ("Consumer", "Documented", "Predicted", "Observed", "Caller IPs (source)",
                    "Docs held", "Agreement"):
        table.add_column(heading, overflow="fold")
    for c in report.consumers:
        evidence = []
        for e in c.evidence[:5]:
            where = e.service_tag or name_of(e.owner)
            owned = "in subscription" if e.belongs_to_subscription else "no resource of ours"
            evidence.append(f"{term_safe(e.caller_ip, 60)} {e.source_kind} {term_safe(where, 60)}"
                            f" ({owned}) {e.result} x{e.count}")
        if c.deployment_errors:
            evidence.append("deployment error: " + ", ".join(c.deployment_errors))
        table.add_row(  # Text, never str: logged values must not be parsed as rich markup
            Text(f"{c.kind} {term_safe(c.name, 60)}"),
            Text(c.documented.path.value if c.documented else "-"),
            Text(f"{c.prediction.path.value} ({c.prediction.source})"),
            Text(term_safe(c.observed, 200)),
            Text("\n".join(evidence) or "-"),
            Text(c.documentation),
            Text(c.agreement, style=_AGREEMENT_STYLE[c.agreement]),
        )
    if report.trigger:
        console.print(f"trigger: {report.trigger} at {iso(report.triggered)}")
    console.print(table)
    for c in report.consumers:
        console.print(f"- {term_safe(c.knowledge_update, 1000)}", markup=False)
    if report.unattributed:
        console.print(f"{len(report.unattributed)} flow(s) not attributed to a lab consumer:")
        for e in report.unattributed[:10]:
            console.print(f"  {term_safe(e.caller_ip, 60)} {e.source_kind} {e.path.value} "
                          f"{term_safe(e.operation, 30)} {e.result} x{e.count}", markup=False)
    col = report.collect
    if col:
        console.print(f"collect: {col.get('events', 0)} event(s) in {col.get('polls', 0)} "
                      f"poll(s), {col.get('elapsed_s', 0):.0f}s, "
                      f"{'complete' if col.get('complete') else 'incomplete'}")
        if col.get("message"):
            console.print(f"  {term_safe(str(col['message']), 600)}", markup=False)
    if report.torn_down is not None:
        console.print("teardown: " + ("resource group deleted" if report.torn_down
                                      else "KEPT (delete it with `pullpath lab down --run-id "
                                      f"{report.run_id}`)"))
    for w in report.warnings:
        console.print(f"warning: {term_safe(w, 600)}", markup=False)
    return buf.getvalue()


# ------------------------------------------------------------------------------ --record

def measured_sources(report: LabReport) -> list[dict[str, Any]]:
    """The run's observations as ``measured`` knowledge-base sources, ready to add to the
    behaviour that predicted each (``behaviour`` is None when the prediction rested on no
    knowledge-base behaviour). A consumer whose observation did not settle on one path (no
    pull seen, mixed or undecided paths) is left out: nothing was measured for it."""
    run = report.run_id
    day = report.started.astimezone(UTC).date().isoformat()
    how = f", after a {report.trigger} trigger" if report.trigger else ""
    out: list[dict[str, Any]] = []
    for c in report.consumers:
        path = observed_path(c)
        if path is None:
            continue
        if c.evidence:
            ips = "; ".join(
                f"{e.caller_ip} ({e.source_kind}"
                + (f", {e.service_tag}" if e.service_tag else "")
                + (f", {name_of(e.owner)}" if e.owner else "")
                + (", in the subscription" if e.belongs_to_subscription
                   else ", no resource of the subscription") + ")"
                for e in dict.fromkeys(c.evidence))
            what = f"pulled from {ips}"
        else:
            what = ("was refused before any pull reached the registry log (deployment failed: "
                    f"{', '.join(c.deployment_errors) or 'no error code'})")
        says = (f"pullpath lab run {run} ({report.scenario.ident}, {report.location}{how}): "
                f"{kind_label(c.kind)} {c.name} {what}; path {path.value}.")
        out.append({
            "behaviour": c.knowledge_id if _kb_title(c.knowledge_id) else None,
            "consumer": c.kind,
            "scenario": report.scenario.ident,
            "source": {"url": MEASURED_URL.format(run_id=run), "kind": "measured",
                       "run_id": run, "verified": day, "expect": path.value,
                       "says": safe_text(says)},
        })
    return out
