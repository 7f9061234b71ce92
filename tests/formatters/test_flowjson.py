"""The compiled flows writer (``formatters/_flowjson.c``) gives exactly the bytes of the reference
rendering, ``to_json_bytes(audit_document(report))``, and hands back (None) every report it
does not take, which then goes the reference way."""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from functools import cache
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pullpath.cli.demo import run_demo_audit
from pullpath.domain.inventory import ConsumerKind
from pullpath.domain.verdicts import (
    Confidence,
    ConsumerRef,
    Expectation,
    Flow,
    PathVerdict,
    Source,
    SourceKind,
)
from pullpath.domain.verdicts import Path as NetPath
from pullpath.formatters import simple
from pullpath.formatters.audit_doc import AuditReport, audit_document
from pullpath.formatters.simple import (
    audit_json_bytes,
    compiled_audit_json,
    flows_json_installed,
    to_json_bytes,
)
from tests.support.report_docs import hostile_report
from tests.support.report_scenarios import big_scenario

needs_compiled = pytest.mark.skipif(not flows_json_installed(),
                                    reason="pullpath.formatters._flowjson not built")


def reference(report: AuditReport) -> bytes:
    return to_json_bytes(audit_document(report))


def orjson_renders(report: AuditReport) -> bool:
    """Whether the reference path's orjson takes the document (else it goes to json.dumps)."""
    try:
        orjson.dumps(audit_document(report), default=str, option=simple._ORJSON_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError
        return False
    return True


@cache
def _base() -> AuditReport:
    return big_scenario().report


def with_flows(flows: list[Any], base: AuditReport | None = None) -> AuditReport:
    report = base or _base()
    return replace(report, result=replace(report.result, flows=flows))


def assert_same(report: AuditReport, *, taken: bool = True) -> None:
    expected = reference(report)
    got = compiled_audit_json(report)
    if taken:
        assert got is not None, "the compiled writer did not take the report"
        assert got == expected
    else:
        assert got is None
    assert audit_json_bytes(report) == expected


def test_the_compiled_writer_is_built() -> None:
    """Installed with a C compiler, the flows writer is there: without it every JSON audit is
    written the slower way."""
    assert flows_json_installed(), (
        "pullpath.formatters._flowjson is not built (pip install needs a C compiler)")


@needs_compiled
@pytest.mark.parametrize("make", [
    run_demo_audit,
    lambda: big_scenario().report,
    hostile_report,
    lambda: with_flows([]),
], ids=["demo", "big", "hostile", "no-flows"])
def test_reports_are_written_byte_for_byte(make: Any) -> None:
    assert_same(make())


@needs_compiled
def test_every_ascii_character_and_some_others_are_escaped_as_orjson_does() -> None:
    base = _base().result.flows[0]
    texts = [chr(c) for c in range(0x80)] + [
        "\u0080", "\u009f", "\u00e9", "\u2028", "\u2029", "\ufeff", "\U0001f600", "a\"b\\c/d",
    ]
    flows = []
    for i, t in enumerate(texts):
        flows.append(replace(
            base, registry=t, registry_id=t + "x", table="t" + t, operation=t * 3,
            repository=f"r{t}r", tag=t, caller_ip=t, identity=t + t, result=t,
            count=i, source=replace(base.source, note=t),
            verdict=replace(base.verdict, reasons=(t, "x" + t))))
    assert_same(with_flows(flows))


@needs_compiled
def test_lone_surrogates_in_the_flows_texts_become_replacement_characters() -> None:
    base = _base().result.flows[0]
    flows = [replace(base, registry="r\udc80", operation="\ud800", repository="\udfff x",
                     tag="t\ud83d", caller_ip="\udc00", identity="i\udcff", result="\ud800\udc00",
                     verdict=replace(base.verdict, reasons=("why \udc80",)))]
    assert_same(with_flows(flows))


@needs_compiled
def test_a_large_report_with_long_texts() -> None:
    """Many flows with texts long enough that the output outgrows its first estimates (the
    buffer is resized while the flows are written)."""
    flows = _base().result.flows
    many = [replace(f, repository=f"repo-{i}-" + "x" * (i % 7) * 900, count=i)
            for i in range(60) for f in flows]
    assert len(many) > 6000
    assert_same(with_flows(many))


# -- what the compiled writer does not take: the reference way, the same bytes -------------------


class _Text(StrEnum):
    REPO = "repo"


class _Datetime(datetime):
    pass


def _first_replaced(**changes: Any) -> AuditReport:
    flows = list(_base().result.flows)
    flows[1] = replace(flows[1], **changes)
    return with_flows(flows)


@needs_compiled
@pytest.mark.parametrize("changes", [
    {"first_seen": datetime(2024, 11, 25, 12, 0, tzinfo=timezone(timedelta(hours=2)))},
    {"last_seen": datetime(2024, 11, 25, 12, 0, tzinfo=timezone(timedelta(0), "UTC"))},
    {"first_seen": datetime(2024, 11, 25, 12, 0)},  # naive
    {"first_seen": _Datetime(2024, 11, 25, 12, 0, tzinfo=UTC)},
    {"count": 2**63},
    {"count": 2**64},  # orjson refuses it: json.dumps
    {"count": -(2**63) - 1},
    {"count": True},
    {"count": 3.0},
    {"repository": _Text.REPO},
    {"registry_id": _Text.REPO},
    {"registry_id": "id \udc80"},  # orjson refuses it: json.dumps
    {"table": "t\ud800"},
    {"verdict": replace(big_scenario().report.result.flows[0].verdict, missing=("m\udc80",))},
], ids=lambda c: next(iter(c)) + ":" + type(next(iter(c.values()))).__name__)
def test_values_it_does_not_take_go_the_reference_way(changes: dict[str, Any]) -> None:
    assert_same(_first_replaced(**changes), taken=False)


@needs_compiled
def test_extreme_counts_and_times_it_takes() -> None:
    flows = list(_base().result.flows[:4])
    flows[0] = replace(flows[0], count=2**63 - 1, first_seen=datetime(1, 1, 1, tzinfo=UTC),
                       last_seen=datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))
    flows[1] = replace(flows[1], count=-(2**63), first_seen=None, last_seen=None)
    flows[2] = replace(flows[2], count=0,
                       first_seen=datetime(2024, 2, 29, 0, 0, 0, 1, tzinfo=UTC),
                       last_seen=datetime(2024, 2, 29, 0, 0, 0, 100000, tzinfo=UTC))
    assert_same(with_flows(flows))


@needs_compiled
def test_flows_of_another_type_go_the_reference_way() -> None:
    flows: list[Any] = list(_base().result.flows)
    f = flows[3]
    flows[3] = SimpleNamespace(**{name: getattr(f, name) for name in Flow.__slots__})
    assert_same(with_flows(flows), taken=False)
    only: list[Any] = [flows[3]]
    assert_same(with_flows(only), taken=False)


def test_without_the_compiled_module_the_reference_way(monkeypatch: pytest.MonkeyPatch) -> None:
    report = hostile_report()
    expected = reference(report)
    monkeypatch.setattr(simple, "_flows_json", None)
    monkeypatch.setitem(sys.modules, "pullpath.formatters._flowjson", None)  # not importable
    assert compiled_audit_json(report) is None
    assert audit_json_bytes(report) == expected


# -- hypothesis: arbitrary texts, counts, times, shared and unshared parts ------------------------

_SPECIAL = ['"', "\\", "/", "\x00", "\x08", "\x0b", "\x1f", "\x7f", "\n", "\r", "\t", "\u0085",
            "\u2028", "\U0010ffff", "\u00e9"]
_SURROGATES = ["\udc80", "\ud800", "\udfff"]
# joined lists, not st.text: st.text leaves out lone surrogates
TEXT = st.lists(st.one_of(st.sampled_from(_SPECIAL + _SURROGATES),
                          st.characters(exclude_categories=())), max_size=12).map("".join)
"""Any text, lone surrogates included."""
VALID = st.lists(st.one_of(st.sampled_from(_SPECIAL), st.characters(exclude_categories=("Cs",))),
                 max_size=12).map("".join)
"""Any text that encodes as UTF-8."""
PLAIN = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=12)
TIMES = st.one_of(
    st.none(),
    st.datetimes(timezones=st.just(UTC)),
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.replace(microsecond=0)),
)
COUNTS = st.integers(min_value=-(2**63), max_value=2**63 - 1)


RARELY_SURROGATE = st.one_of(PLAIN, VALID, PLAIN, VALID, TEXT)
"""For values flow_docs shows unchanged: a lone surrogate makes orjson refuse the document."""


@st.composite
def sources(draw: st.DrawFn) -> Source:
    text = st.one_of(PLAIN, VALID)
    return Source(draw(st.sampled_from(SourceKind)), draw(text), draw(text), draw(text),
                  draw(text), draw(text), draw(text), draw(st.integers(0, 99)), draw(text),
                  draw(RARELY_SURROGATE))


@st.composite
def verdicts(draw: st.DrawFn) -> PathVerdict:
    text = st.one_of(PLAIN, TEXT)
    return PathVerdict(draw(st.sampled_from(NetPath)), draw(st.sampled_from(Confidence)),
                       tuple(draw(st.lists(text, max_size=3))),
                       tuple(draw(st.lists(PLAIN, max_size=2))), draw(PLAIN))


@st.composite
def consumers(draw: st.DrawFn) -> ConsumerRef:
    return ConsumerRef(draw(st.sampled_from(ConsumerKind)), draw(PLAIN),
                       tuple(draw(st.lists(PLAIN, max_size=2))), draw(PLAIN))


EXPECTATIONS = st.one_of(st.none(), st.builds(Expectation, st.sampled_from(NetPath), PLAIN,
                                              st.sampled_from([True, False, None])))


@st.composite
def flow_lists(draw: st.DrawFn) -> list[Flow]:
    # small pools, so that flows share their parts (by identity) as well as not
    pool_s = draw(st.lists(sources(), min_size=1, max_size=3))
    pool_v = draw(st.lists(verdicts(), min_size=1, max_size=3))
    pool_c = draw(st.lists(consumers(), min_size=1, max_size=3))
    pool_e = draw(st.lists(EXPECTATIONS, min_size=1, max_size=3))
    text = st.one_of(PLAIN, TEXT)
    flows = []
    for _ in range(draw(st.integers(0, 8))):
        fresh = draw(st.booleans())
        flows.append(Flow(
            draw(text), draw(text), draw(text), draw(text), draw(text), draw(text), draw(text),
            draw(COUNTS), draw(TIMES), draw(TIMES),
            draw(sources()) if fresh else draw(st.sampled_from(pool_s)),
            draw(st.sampled_from(pool_v)),
            draw(consumers()) if fresh else draw(st.sampled_from(pool_c)),
            draw(RARELY_SURROGATE), draw(PLAIN),
            draw(st.sampled_from(pool_e)),
        ))
    return flows


@needs_compiled
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flow_lists())
def test_arbitrary_flows_are_written_byte_for_byte(flows: list[Flow]) -> None:
    """Taken exactly when orjson takes the reference document (else a lone surrogate in a
    value flow_docs does not pass through safe_text: the reference's json.dumps fallback)."""
    report = with_flows(flows)
    assert_same(report, taken=orjson_renders(report))


# -- the tails written in C ------------------------------------------------------------------------


def _tails_reference(flows: list[Flow]) -> bytes:
    from pullpath.formatters.audit_doc import flow_tail_doc

    return orjson.dumps([[flow_tail_doc(f.source, f.verdict, f.consumer, f.expectation)
                          for f in flows]], default=str, option=orjson.OPT_INDENT_2)


def _texts(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    return []


def _all_ascii(flows: list[Flow]) -> bool:
    from pullpath.formatters.audit_doc import flow_tail_doc

    docs = [flow_tail_doc(f.source, f.verdict, f.consumer, f.expectation) for f in flows]
    return all(t.isascii() for t in _texts(docs))


@needs_compiled
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flow_lists())
def test_tails_written_in_c_are_orjsons_or_left_to_it(flows: list[Flow]) -> None:
    """``tails_json`` gives orjson's rendering of the tails byte for byte, or None (then
    Python renders them), and None only when a text is not ASCII."""
    from pullpath.formatters._flowjson import tails_json

    got = tails_json(flows)
    if got is None:
        assert not _all_ascii(flows)
    else:
        assert got == _tails_reference(flows)


@needs_compiled
def test_tails_in_c_leave_unusual_values_to_python() -> None:
    from pullpath.formatters._flowjson import tails_json

    flows = _base().result.flows
    assert tails_json(flows) == _tails_reference(flows)
    assert tails_json([]) == _tails_reference([]) == b"[\n  []\n]"
    flow = flows[0]
    for source in (replace(flow.source, tag_count=True), replace(flow.source, note="é"),
                   replace(flow.source, ip=SimpleNamespace())):
        assert tails_json([replace(flow, source=source)]) is None
    agreeing = Expectation(NetPath.PUBLIC, "", agrees=1)  # type: ignore[arg-type]
    assert tails_json([replace(flow, expectation=agreeing)]) is None
    listed = replace(flow.consumer, candidates=["a", "b"])  # type: ignore[arg-type]
    assert tails_json([replace(flow, consumer=listed)]) == _tails_reference(
        [replace(flow, consumer=listed)])
    with pytest.raises(AttributeError):
        tails_json([object()])
