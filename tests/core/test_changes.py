"""``core.changes.path_changes``: which consumers' predicted paths a change moves.

The reports compared are explain's own predictions for the lab's field-report scenario and its
variants (one setting changed each), so every expected change follows from the variant's
definition, not from values the test writes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pullpath.core.changes import CHANGE_RANK, path_changes
from pullpath.domain.report import ExplainReport
from pullpath.domain.verdicts import Path
from pullpath.lab.predict import would_be_inventory
from pullpath.lab.render import lab_names, render
from pullpath.lab.scenarios import load_scenario
from pullpath.workflows.explain import explain_inventory

RUN = "a1b2c3d4"


def explained(variant: str | None = None) -> ExplainReport:
    s = load_scenario("field-report", variant)
    return explain_inventory(would_be_inventory(render(s, lab_names(s, RUN), "japaneast")))


@pytest.fixture(scope="module")
def base() -> ExplainReport:
    return explained()


def test_the_same_code_changes_nothing(base: ExplainReport) -> None:
    assert base.pairs
    assert path_changes(base, explained()) == ()


def test_trusted_services_off_moves_only_aci_and_says_so(base: ExplainReport) -> None:
    after = explained("trusted-off")
    changes = path_changes(base, after)
    before_aci = next(p for p in base.pairs if p.consumer.kind.value == "aci")
    after_aci = next(p for p in after.pairs if p.consumer.kind.value == "aci")
    assert before_aci.expected_path != after_aci.expected_path  # what the variant is about
    (change,) = changes
    assert change.consumer == f"ACI {before_aci.consumer.name}"
    assert (change.before, change.after) == (before_aci.expected_path, after_aci.expected_path)
    assert change.after_rule == after_aci.rule
    assert set(change.why) == set(after_aci.reasons)
    assert change.why[0] not in before_aci.reasons  # what changed comes first
    assert change.changed


def test_a_removed_and_a_new_pair_are_changes(base: ExplainReport) -> None:
    aci = next(p for p in base.pairs if p.consumer.kind.value == "aci")
    without = replace(base, pairs=tuple(p for p in base.pairs if p is not aci))
    (removed,) = path_changes(base, without)
    assert (removed.before, removed.after) == (aci.expected_path, None)
    (added,) = path_changes(without, base)
    assert (added.before, added.after) == (None, aci.expected_path)


def test_consumer_ids_compare_ignoring_case(base: ExplainReport) -> None:
    shouted = replace(base, pairs=tuple(
        replace(p, consumer=replace(p.consumer, id=p.consumer.id.upper())) for p in base.pairs))
    assert path_changes(base, shouted) == ()


def test_the_most_serious_change_comes_first() -> None:
    assert [p for p, _ in sorted(CHANGE_RANK.items(), key=lambda kv: kv[1])][:2] == \
        [Path.DENIED, Path.PUBLIC]
    assert set(CHANGE_RANK) == {*Path, None}
