"""The prediction for a scenario: what ``explain`` says each consumer's pulls will do.

``explain`` (issue 3) is built separately. When ``pullpath.workflows.explain.explain_inventory``
is importable, :func:`predict_for_scenario` gives it the scenario's would-be inventory (the
rendered templates evaluated into ARM resource JSON, plus what Azure adds on creation: the
evaluator and platform effects of :mod:`pullpath.core.iac`, the code ``read_arm_template`` uses
for a user's templates) and reads its prediction per consumer. Until then it falls back to the
scenario's own expectation, marked ``source: scenario`` so that a report never passes it off as
explain's.
"""

from __future__ import annotations

from pullpath.core.inventory import inventory_from_documents
from pullpath.domain.inventory import Inventory, norm_id
from pullpath.domain.report import Prediction
from pullpath.lab.render import (
    PLACEHOLDER_SUBSCRIPTION,
    RenderedLab,
    consumer_type,
    would_be_inventory_documents,
)

__all__ = ["Prediction", "explain_available", "predict_for_scenario", "would_be_inventory"]


def would_be_inventory(lab: RenderedLab, *, subscription: str = PLACEHOLDER_SUBSCRIPTION
                       ) -> Inventory:
    docs = would_be_inventory_documents(lab, subscription=subscription)
    return inventory_from_documents([(f"lab plan {lab.scenario.name}", docs)])


def explain_available() -> bool:
    try:
        from pullpath.workflows import explain
    except ImportError:
        return False
    return callable(getattr(explain, "explain_inventory", None))


def consumer_id(lab: RenderedLab, key: str, subscription: str = PLACEHOLDER_SUBSCRIPTION) -> str:
    c = next(c for c in lab.scenario.consumers if c.key == key)
    return (f"/subscriptions/{subscription}/resourceGroups/{lab.names.resource_group}/providers/"
            f"{consumer_type(c)}/{lab.names.consumer(key)}")


def predict_for_scenario(lab: RenderedLab) -> tuple[Prediction, ...]:
    """Explain's prediction per consumer of the scenario (``explain_inventory`` on the
    would-be inventory); the scenario's own expectation, marked ``source: scenario``, where
    explain is not available or has no prediction for a consumer."""
    found: dict[str, Prediction] = {}
    if explain_available():
        from pullpath.workflows.explain import explain_inventory

        report = explain_inventory(would_be_inventory(lab))
        wanted = {norm_id(consumer_id(lab, c.key)): c.key for c in lab.scenario.consumers}
        for pair in report.pairs:
            key = wanted.get(norm_id(pair.consumer.id))
            if key is None or key in found:
                continue
            found[key] = Prediction(key, pair.expected_path, "explain", pair.rule,
                                    tuple(pair.reasons), tuple(pair.missing))
    out: list[Prediction] = []
    for c in lab.scenario.consumers:
        out.append(found.get(c.key) or Prediction(
            c.key, c.expect.path, "scenario", c.expect.knowledge, (c.expect.why,)))
    return tuple(out)
