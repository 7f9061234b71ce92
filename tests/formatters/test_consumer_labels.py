"""One table of consumer labels (``domain.inventory.ConsumerKind.short``/``.noun``) read by
the reports, explain and the lab alike."""

from __future__ import annotations

from pullpath.domain.inventory import ConsumerKind, kind_label
from pullpath.formatters.report_view import KIND_LABELS, consumer_label


def test_every_kind_has_a_short_label_and_a_noun() -> None:
    for kind in ConsumerKind:
        assert kind.short
        assert kind.noun
        assert kind_label(kind.value) == kind.noun
        assert kind_label(kind.value, short=True) == KIND_LABELS[kind.value] == kind.short
    assert ConsumerKind.ACI.noun == "ACI container group"
    assert kind_label("not-a-kind") == "not-a-kind"


def test_the_report_view_labels_a_consumer_from_the_table() -> None:
    rid = ("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/sites/shop")
    assert consumer_label({"id": rid, "kind": "appservice"}) == "App Service shop"
    assert consumer_label({"id": rid, "kind": "future-kind"}) == "future-kind shop"
