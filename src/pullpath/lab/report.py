"""The lab report: per consumer, the predicted path, the observed path with its evidence, and
whether they agree; a contradicted knowledge-base entry and the update to make to it.

Pure: built from values the runner and the audit produced, into the ``LabReport``
(``pullpath.domain.report``) that ``pullpath.formatters`` write as a table, the
``pullpath.lab/v1`` JSON document, Markdown or HTML.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date
from typing import Any

from pullpath.domain.inventory import kind_label, norm_id
from pullpath.domain.report import (
    AGREES,
    DISAGREES,
    HELD,
    INCONCLUSIVE,
    NO_CLAIM,
    NOT_HELD,
    NOT_OBSERVED,
    AuditReport,
    ConsumerResult,
    Evidence,
    LabReport,
    Prediction,
)
from pullpath.domain.resource_id import name_of
from pullpath.domain.verdicts import Flow, Path, SourceKind
from pullpath.lab.scenarios import ConsumerSpec, Scenario

__all__ = [
    "AGREES",
    "DISAGREES",
    "HELD",
    "INCONCLUSIVE",
    "MEASURED_URL",
    "NOT_HELD",
    "NOT_OBSERVED",
    "NO_CLAIM",
    "compare",
    "evidence_of",
    "measured_sources",
    "missing_consumers",
    "observed_path",
]

MEASURED_URL = "pullpath-lab:{run_id}"
"""The URL of a ``measured`` knowledge-base source: the pullpath lab run that measured it."""


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


# ------------------------------------------------------------------------------ --record

def measured_sources(report: LabReport) -> list[dict[str, Any]]:
    """The run's observations as ``measured`` knowledge-base sources, ready to add to the
    behaviour that predicted each (``behaviour`` is None when the prediction rested on no
    knowledge-base behaviour). A consumer whose observation did not settle on one path (no
    pull seen, mixed or undecided paths) is left out: nothing was measured for it. The text is
    the logged values as they are; ``formatters.lab_record`` makes it safe to write."""
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
                       "says": says},
        })
    return out
