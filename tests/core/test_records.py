"""core/records.py: one decoded record -> PullEvent, on the real archived record and its quirks.

The real record (tests/data/acr-logs/repositoryevents_pull_404_record.json, a
ContainerRegistryRepositoryEvents record in the storage-archive shape; where it comes from:
tests/data/acr-logs/PROVENANCE.md): expected values are read from that file here, never
restated by hand.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pullpath.core.records import (
    MAX_FIELD_CHARS,
    RecordError,
    clean,
    norm_key,
    parse_record,
    parse_time,
    split_result,
    table_of,
)
from pullpath.domain.events import Table
from tests.support import TESTS

REAL = TESTS / "data" / "acr-logs" / "repositoryevents_pull_404_record.json"


def real() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(REAL.read_text(encoding="utf-8"))
    return doc


def test_real_record_fields_come_out_right() -> None:
    raw = real()
    props = raw["properties"]
    event = parse_record(raw)
    assert event.table is Table.REPOSITORY
    assert event.table.value == raw["category"]
    assert event.operation == raw["operationName"]
    assert event.caller_ip == raw["callerIpAddress"]
    assert event.identity == raw["identity"]
    assert event.repository == props["repository"]
    assert event.tag == props["tag"]
    assert event.login_server == props["loginServer"].lower()
    assert event.user_agent == props["userAgent"]
    assert event.correlation_id == raw["correlationId"]
    assert event.resource_id == raw["resourceId"].lower()
    # resultType is the literal "HttpStatusCode", the status is in resultDescription
    assert raw["resultType"] == "HttpStatusCode"
    assert event.result == raw["resultDescription"]
    assert event.result_description == ""
    # "<nil>" placeholders mean absent
    assert props["digest"] == "<nil>"
    assert event.digest == ""
    # 7 fractional digits (100 ns) in the archive: Python keeps microseconds
    expected = datetime.fromisoformat(raw["time"].replace("Z", "+00:00"))
    assert event.time == expected
    assert event.time is not None
    assert event.time.tzinfo is not None


def test_real_record_unknown_fields_and_string_duration_are_ignored() -> None:
    raw = real()
    assert isinstance(raw["durationMs"], str)  # the quirk as seen in the wild
    assert "RegionStamp" in raw  # an extra field the schema does not list
    baseline = parse_record(raw)
    extra = copy.deepcopy(raw)
    extra["somethingNew"] = {"nested": [1, 2, 3]}
    extra["properties"]["mediaTypeV2"] = None
    extra["durationMs"] = float(raw["durationMs"])
    assert parse_record(extra) == baseline


def test_log_analytics_row_shape_gives_the_same_event() -> None:
    raw = real()
    props = raw["properties"]
    row = {
        "TimeGenerated": raw["time"],
        "Type": raw["category"],
        "OperationName": raw["operationName"],
        "CallerIpAddress": raw["callerIpAddress"],
        "Identity": raw["identity"],
        "Repository": props["repository"],
        "Tag": props["tag"],
        "Digest": props["digest"],
        "LoginServer": props["loginServer"],
        "UserAgent": props["userAgent"],
        "ResultType": raw["resultType"],
        "ResultDescription": raw["resultDescription"],
        "DurationMs": raw["durationMs"],
        "CorrelationId": raw["correlationId"],
        "_ResourceId": raw["resourceId"],
        "TenantId": props["tenantId"],
    }
    assert parse_record(row) == parse_record(raw)


def test_portal_time_header_and_us_date_format() -> None:
    raw = real()
    when = datetime.fromisoformat(raw["time"].replace("Z", "+00:00"))
    us = when.strftime("%m/%d/%Y, %I:%M:%S.%f %p")
    row = {"TimeGenerated [UTC]": us, "Type": raw["category"], "OperationName": "Pull",
           "CallerIpAddress": raw["callerIpAddress"]}
    event = parse_record(row)
    assert event.time == when


def test_table_from_fields_when_no_category() -> None:
    assert table_of("", {"repository": "app"}) is Table.REPOSITORY
    assert table_of("", {"operation": "Login"}) is Table.LOGIN
    assert table_of("", {"operation": "Pull"}) is Table.REPOSITORY
    assert table_of("", {"operation": "Frobnicate"}) is None
    assert table_of("SomethingElse", {"repository": "app"}) is None


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ([1, 2], "not-an-object"),
        ("text", "not-an-object"),
        ({}, "not-a-registry-event"),
        ({"foo": 1}, "not-a-registry-event"),
        ({"category": "AuditEvent", "operationName": "Pull"}, "not-a-registry-event"),
        ({"category": "ContainerRegistryRepositoryEvents"}, "missing-operation"),
        ({"category": "ContainerRegistryRepositoryEvents", "operationName": "<nil>"},
         "missing-operation"),
        ({"category": "ContainerRegistryRepositoryEvents", "operationName": "Pull",
          "time": "yesterday"}, "invalid-time"),
    ],
)
def test_bad_records_give_a_stable_reason(record: object, reason: str) -> None:
    with pytest.raises(RecordError) as err:
        parse_record(record)
    assert err.value.reason == reason


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:00:00+01:00",  # before datetime.min in UTC: was an OverflowError
        "9999-12-31T23:59:59-01:00",  # after datetime.max in UTC: was an OverflowError
    ],
)
def test_times_outside_the_utc_range_are_unusable_not_a_crash(value: str) -> None:
    """Regression (found probing the reader): astimezone(UTC) overflowed and the traceback
    reached the user. Now the time is unusable: the record gets reason invalid-time."""
    assert parse_time(value) is None
    raw = real()
    raw["time"] = value
    with pytest.raises(RecordError) as err:
        parse_record(raw)
    assert err.value.reason == "invalid-time"


def test_time_zones_and_naive_times() -> None:
    assert parse_time("2025-01-30T14:19:15") == datetime(2025, 1, 30, 14, 19, 15, tzinfo=UTC)
    plus9 = datetime(2025, 1, 30, 23, 19, 15, tzinfo=timezone(timedelta(hours=9)))
    assert parse_time("2025-01-30T23:19:15+09:00") == plus9.astimezone(UTC)
    assert parse_time("") is None
    assert parse_time(None) is None
    assert parse_time("<nil>") is None


def test_status_in_either_field_and_firewall_denial() -> None:
    assert split_result("HttpStatusCode", "404") == ("404", "")
    assert split_result("403", "denied: requested access to the resource is denied") == (
        "403", "denied: requested access to the resource is denied")
    message = ("denied: client with IP '203.0.113.9' is not allowed access. "
               "Refer https://aka.ms/acr/firewall to grant access.")
    assert split_result("", message) == ("403", message)
    assert split_result("HttpStatusCode", "HttpStatusCode") == ("", "")


def test_hostile_values_are_cleaned() -> None:
    # a lone surrogate (from a "\\ud800" escape) never reaches an event
    assert clean("repo\ud800x") == "repo\ufffdx"
    clean("repo\ud800x").encode("utf-8")
    # an integer too long to print is no value rather than a crash
    assert clean(10 ** 5000) == ""
    # over-long values are cut, marked
    long = clean("a" * (MAX_FIELD_CHARS * 3))
    assert len(long) == MAX_FIELD_CHARS
    assert long.endswith("…")
    # placeholders and non-scalars
    for nil in ("<nil>", "<NULL>", "null", "None", "n/a", "-", None, {}, []):
        assert clean(nil) == ""
    assert clean(True) == "True"
    assert clean(38.2) == "38.2"


def test_keys_compare_normalised() -> None:
    assert norm_key("TimeGenerated [UTC]") == "timegenerated"
    assert norm_key("_ResourceId") == "resourceid"
    assert norm_key("caller_ip_address") == "calleripaddress"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                max_size=6),
    max_leaves=10,
)
field_names = st.sampled_from([
    "time", "TimeGenerated", "category", "Type", "operationName", "OperationName",
    "callerIpAddress", "CallerIpAddress", "identity", "repository", "tag", "digest",
    "loginServer", "userAgent", "resultType", "resultDescription", "correlationId",
    "resourceId", "_ResourceId", "properties", "durationMs",
])


@settings(max_examples=120, deadline=None)
@given(st.dictionaries(field_names | st.text(max_size=8), json_values, max_size=12))
def test_any_record_is_an_event_or_a_record_error(record: dict[str, object]) -> None:
    try:
        event = parse_record(record)
    except RecordError as exc:
        reason = exc.reason
        assert reason
        return
    for value in (event.operation, event.caller_ip, event.identity, event.repository,
                  event.tag, event.user_agent, event.result_description, event.resource_id):
        assert isinstance(value, str)
        assert len(value) <= MAX_FIELD_CHARS
        value.encode("utf-8")
    assert event.operation


def _flatten_reference(record: dict[object, object]) -> dict[str, object]:
    """The rule of ``records._flatten`` written out plainly: the first top-level key of each
    field, then each ``properties`` key of a field still empty (``clean``); the last key
    naming the bag is the bag."""
    from pullpath.core.records import _role

    out: dict[str, object] = {}
    props = None
    for key, value in record.items():
        if not isinstance(key, str):
            continue
        field = _role(key)
        if field == "properties":
            props = value
        elif field is not None and field not in out:
            out[field] = value
    if isinstance(props, dict):
        for key, value in props.items():
            field = _role(key) if isinstance(key, str) else None
            if field is not None and field != "properties" and clean(out.get(field)) == "":
                out[field] = value
    return out


_any_keys = field_names | st.sampled_from(["Properties", "PROPERTIES", "time_generated",
                                           "Caller_IP_Address", "resource_id"]) | st.text(
    max_size=6) | st.integers(0, 3)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_any_keys, json_values | st.dictionaries(
    _any_keys, json_values, max_size=6)), max_size=12))
def test_flatten_reads_fields_as_the_plain_rule_does(items: list[tuple[object, object]]) -> None:
    from pullpath.core.records import _flatten

    record = dict(items)
    assert _flatten(record) == _flatten_reference(record)  # type: ignore[arg-type]
    assert _flatten(record) == _flatten_reference(record)  # type: ignore[arg-type]  # planned
