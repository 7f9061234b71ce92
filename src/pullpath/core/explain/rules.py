"""The rule engine: a behaviour's conditions evaluated on three-valued facts
(:func:`evaluate`), and the decision for a pair (``_decide``): the first behaviour whose
conditions all hold, the confidence lowered by earlier rules that need unknown facts and would
predict something else, or an unknown prediction that lists what is missing. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pullpath.core.explain.pairs import PairRef
from pullpath.domain.explain import (
    Behaviour,
    Condition,
    Facts,
    FactValue,
    PairPrediction,
    SourceKind,
)
from pullpath.domain.verdicts import Confidence, Path

_DOWN = {
    Confidence.HIGH: Confidence.MEDIUM,
    Confidence.MEDIUM: Confidence.LOW,
    Confidence.LOW: Confidence.LOW,
    Confidence.NONE: Confidence.NONE,
}


def downgrade(confidence: Confidence) -> Confidence:
    return _DOWN[confidence]


def evaluate(conditions: Sequence[Condition], facts: Facts) -> tuple[bool | None, tuple[str, ...]]:
    """All conditions hold (True), one fails (False), or none fails but some facts are unknown
    (None, with their names)."""
    unknown: list[str] = []
    for cond in conditions:
        fact = facts.get(cond.fact)
        result = cond.test(fact.value if fact is not None else None)
        if result is False:
            return False, ()
        if result is None:
            unknown.append(cond.fact)
    return (None, tuple(unknown)) if unknown else (True, ())


def _yes_no(flag: bool) -> str:
    return "true" if flag else "false"


def _decide(behaviours: Iterable[Behaviour], ref: PairRef, facts: Facts) -> PairPrediction:
    kind = ref.consumer.kind.value
    undecided: list[tuple[Behaviour, tuple[str, ...]]] = []
    matched: Behaviour | None = None
    for b in behaviours:
        if b.consumer not in ("any", kind):
            continue
        result, unknown = evaluate(b.when, facts)
        if result is True:
            matched = b
            break
        if result is None:
            undecided.append((b, unknown))
    snapshot = tuple((name, facts[name].value) for name in sorted(facts))
    method = facts["credential.method"].value
    credential = method if isinstance(method, str) else "unknown"
    if matched is None:
        return _unknown(ref, facts, undecided, snapshot, credential)
    reasons: list[str] = []
    for cond in matched.when:
        why = facts[cond.fact].why
        if why not in reasons:
            reasons.append(why)
    reasons.append(matched.rationale)
    reasons.extend(_dispute(matched))
    confidence = matched.confidence
    missing: list[str] = []
    rivals = [(b, unk) for b, unk in undecided if b.expect is not matched.expect]
    # An authorisation rule that cannot be checked (no role assignments in the inventory) says
    # nothing about the network path: it is listed as missing, without lowering the confidence.
    if any(b.denied_by != "authorisation" for b, _ in rivals):
        confidence = downgrade(confidence)
    for b, unk in rivals:
        whys = _unique(facts[u].why for u in unk)
        lead = "not checked" if b.denied_by == "authorisation" else "not ruled out"
        reasons.append(f"{lead}: {b.id} ({b.expect.value}) would apply if known: "
                       + "; ".join(whys))
        missing.extend(w for w in whys if w not in missing)
    return PairPrediction(
        consumer=ref.consumer,
        login_server=ref.login_server,
        registry=ref.registry,
        expected_path=matched.expect,
        rule=matched.id,
        confidence=confidence,
        reasons=tuple(reasons),
        sources=matched.sources,
        missing=tuple(missing),
        credential=credential,
        facts=snapshot,
        denied_by=matched.denied_by,
    )


def _dispute(b: Behaviour) -> list[str]:
    if not b.disputed:
        return []
    out: list[str] = []
    for s in b.sources:
        if s.expect is None:
            continue
        if s.kind is SourceKind.MEASURED:
            out.append(f"pullpath lab run {s.run_id} on {s.verified} measured {s.expect.value}")
        elif s.kind is SourceKind.FIELD_REPORT:
            out.append(f"the field report of {s.verified} observed {s.expect.value} (not "
                       "measured by pullpath)")
        elif s.kind is SourceKind.ISSUE:
            out.append(f"an issue thread ({s.verified}) says {s.expect.value}")
        else:
            out.append(f"the documentation (ms.date {s.verified}) says {s.expect.value}")
    return ["sources disagree: " + "; ".join(out)
            + f"; the latest observation wins: {b.expect.value}"]


def _unique(texts: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(texts))


def _unknown(ref: PairRef, facts: Facts, undecided: list[tuple[Behaviour, tuple[str, ...]]],
             snapshot: tuple[tuple[str, FactValue], ...], credential: str) -> PairPrediction:
    missing: list[str] = []
    reasons: list[str] = []
    if ref.registry is None:
        # nothing about the path can be said without the registry: one reason, not one per rule
        missing.append(facts["registry.known"].why)
        reasons.append(facts["registry.known"].why)
        undecided = []
    for b, unk in undecided:
        whys = _unique(facts[u].why for u in unk)
        missing.extend(w for w in whys if w not in missing)
        reasons.append(f"{b.id} ({b.expect.value}) would apply if known: " + "; ".join(whys))
    if not reasons:
        reasons.append(f"no knowledge-base entry covers a {ref.consumer.kind.value} consumer "
                       f"with this configuration ({credential} credential)")
    return PairPrediction(
        consumer=ref.consumer,
        login_server=ref.login_server,
        registry=ref.registry,
        expected_path=Path.UNKNOWN,
        rule="",
        confidence=Confidence.NONE,
        reasons=tuple(reasons),
        sources=(),
        missing=tuple(missing),
        credential=credential,
        facts=snapshot,
    )
