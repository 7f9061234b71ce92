"""The prediction for a scenario: what ``explain`` says each consumer's pulls will do.

``explain`` (issue 3) is built separately. When ``pullpath.workflows.explain.explain_inventory``
is importable, :func:`predict_for_scenario` gives it the scenario's would-be inventory (the
rendered templates evaluated into ARM resource JSON, plus what Azure adds on creation) and
reads its prediction per consumer. Until then it falls back to the scenario's own expectation,
marked ``source: scenario`` so that a report never passes it off as explain's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pullpath.core.inventory_parse import inventory_from_documents
from pullpath.domain.inventory import Inventory, norm_id
from pullpath.domain.verdicts import Path
from pullpath.lab.render import (
    PLACEHOLDER_SUBSCRIPTION,
    RenderedLab,
    consumer_type,
    would_be_inventory_documents,
)

__all__ = ["Prediction", "explain_available", "predict_for_scenario", "would_be_inventory"]


@dataclass(frozen=True, slots=True)
class Prediction:
    consumer_key: str
    path: Path
    source: str
    """``explain`` or ``scenario`` (explain not available, or it said nothing)."""
    rule: str
    """Knowledge-base entry the prediction rests on."""
    reasons: tuple[str, ...] = ()


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
    """Explain's prediction per consumer of the scenario; the scenario's expectation where
    explain is not available or has nothing for a consumer."""
    found: dict[str, Prediction] = {}
    if explain_available():
        from pullpath.workflows.explain import explain_inventory

        result = explain_inventory(would_be_inventory(lab))
        wanted = {norm_id(consumer_id(lab, c.key)): c.key for c in lab.scenario.consumers}
        for item in _walk(result):
            cid = norm_id(str(_get(item, "consumer_id", "consumer") or ""))
            key = wanted.get(cid)
            path = _path(_get(item, "path", "predicted_path"))
            if key is None or path is None or key in found:
                continue
            rule = str(_get(item, "rule", "rule_id", "knowledge") or "")
            reasons = tuple(str(r) for r in (_get(item, "reasons") or ()))
            found[key] = Prediction(key, path, "explain", rule, reasons)
    out: list[Prediction] = []
    for c in lab.scenario.consumers:
        out.append(found.get(c.key) or Prediction(
            c.key, c.expect.path, "scenario", c.expect.knowledge, (c.expect.why,)))
    return tuple(out)


def _get(obj: Any, *names: str) -> Any:
    for name in names:
        if isinstance(obj, dict) and name in obj:
            return obj[name]
        value = getattr(obj, name, None)
        if value is not None:
            if hasattr(value, "id") and not isinstance(value, str):
                return value.id
            if hasattr(value, "path") and not isinstance(value, str | Path):
                return value.path
            return value
    return None


def _path(value: Any) -> Path | None:
    if isinstance(value, Path):
        return value
    try:
        return Path(str(getattr(value, "value", value)))
    except ValueError:
        return None


def _walk(result: Any, depth: int = 0) -> Iterable[Any]:
    """Candidate per-consumer prediction objects anywhere in explain's result."""
    if depth > 4 or result is None or isinstance(result, str | bytes | int | float):
        return
    if isinstance(result, dict):
        if _get(result, "consumer_id", "consumer") is not None:
            yield result
        for v in result.values():
            yield from _walk(v, depth + 1)
        return
    if isinstance(result, list | tuple):
        for v in result:
            yield from _walk(v, depth + 1)
        return
    if _get(result, "consumer_id", "consumer") is not None and _get(result, "path") is not None:
        yield result
    for name in ("predictions", "consumers", "results", "items", "verdicts"):
        inner = getattr(result, name, None)
        if inner is not None:
            yield from _walk(inner, depth + 1)
