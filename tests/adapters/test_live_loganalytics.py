"""Log Analytics: the real LogsQueryClient over HTTPS against a loopback workspace.

The loopback workspace answers pullpath's summarising KQL from generated raw events
(tests/support/live_events.py), in the query API's response shape (tests/data/live/response-format.md,
la-get-example.json); errors use the documented bodies (tests/data/live/errors.md).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pullpath.adapters.azure.errors import LiveAzureError
from pullpath.adapters.servicetags_files import load_service_tags
from pullpath.core.kql import RESULT_COLUMNS, TimeWindow, parse_registry
from pullpath.domain.inventory import Inventory
from pullpath.formatters.audit_doc import audit_document
from pullpath.workflows.live import audit_workspace
from tests.support.live_events import (
    LogAnalyticsEngine,
    generate_events,
    summarise,
    table_response,
)
from tests.support.live_server import (
    FakeCredential,
    LoopbackServer,
    Reply,
    load_example,
    loopback_settings,
)

WS = "63613592-b6f7-4c3d-a390-22ba13102111"  # the workspace ID of the official example
QUERY_PATH = f"/v1/workspaces/{WS}/query"
START = datetime(2024, 11, 25, tzinfo=UTC)
END = START + timedelta(days=3)


@pytest.fixture(scope="module")
def tags():  # type: ignore[no-untyped-def]
    return load_service_tags(None)


@pytest.fixture(scope="module")
def events() -> list[dict[str, object]]:
    return generate_events(11, 600, START, END)


def run(server: LoopbackServer, ca: Path, tags, **kw):  # type: ignore[no-untyped-def]
    cred = kw.pop("credential", None) or FakeCredential()
    settings = kw.pop("settings", None) or loopback_settings(server.url, ca)
    return audit_workspace(
        WS, kw.pop("window", TimeWindow(START, END)), credential=cred, settings=settings,
        inventory=Inventory(), tags=tags, **kw,
    )


def test_windows_requests_and_totals(loopback: LoopbackServer, tls_cert, tags, events) -> None:
    engine = LogAnalyticsEngine(events)
    loopback.route("POST", QUERY_PATH, engine)
    cred = FakeCredential()
    report = run(loopback, tls_cert[0], tags, credential=cred)
    sent = loopback.requests_to(QUERY_PATH)
    assert len(sent) == 3  # three one-day windows
    for req in sent:
        assert req.headers["authorization"].startswith("Bearer ")
        assert "wait=30" in req.headers["prefer"]
        body = req.json()
        assert body["timespan"].count("/") == 1  # the window is also sent as timespan
        assert "summarize Events = count()" in body["query"]
    assert [w[0] for w in engine.windows] == [START + timedelta(days=i) for i in range(3)]
    # the client read exactly the events that exist, minus the unusable ones
    usable = sum(1 for e in events if e["OperationName"])
    stats = report.result.stats
    assert stats.events_read == usable == report.result.summary.events
    assert stats.events_skipped == len(events) - usable
    assert dict(stats.skipped) == {"missing-operation": len(events) - usable}
    assert cred.calls
    assert all(s == (f"https://127.0.0.1:{loopback.port}/.default",) for s in cred.calls)


def test_429_with_retry_after_then_success(loopback: LoopbackServer, tls_cert, tags,
                                           events) -> None:
    rows = summarise(events, START, START + timedelta(days=1))
    loopback.route("POST", QUERY_PATH, [
        Reply(429, {"error": {"code": "ThrottledError", "message": "Too many requests"}},
              {"Retry-After": "0"}),
        Reply(200, table_response(rows)),
    ])
    report = run(loopback, tls_cert[0], tags,
                 window=TimeWindow(START, START + timedelta(days=1)))
    assert len(loopback.requests_to(QUERY_PATH)) == 2
    assert report.result.stats.events_read == sum(r[-3] for r in rows if r[1])


def test_500_then_success(loopback: LoopbackServer, tls_cert, tags, events) -> None:
    rows = summarise(events, START, START + timedelta(days=1))
    loopback.route("POST", QUERY_PATH, [
        Reply(500, {"error": {"code": "InternalServerError", "message": "oops"}}),
        Reply(200, table_response(rows)),
    ])
    report = run(loopback, tls_cert[0], tags,
                 window=TimeWindow(START, START + timedelta(days=1)))
    assert len(loopback.requests_to(QUERY_PATH)) == 2
    assert report.result.summary.events == sum(r[-3] for r in rows if r[1])


def test_read_timeout_then_success(loopback: LoopbackServer, tls_cert, tags, events) -> None:
    """A query POST that times out is retried (pullpath allows POST retries for queries)."""
    rows = summarise(events, START, START + timedelta(hours=6))
    loopback.route("POST", QUERY_PATH, [Reply(200, table_response(rows), delay=1.5),
                                        Reply(200, table_response(rows))])
    settings = loopback_settings(loopback.url, tls_cert[0], read_timeout=0.5)
    report = run(loopback, tls_cert[0], tags, settings=settings,
                 window=TimeWindow(START, START + timedelta(hours=6)))
    assert len(loopback.requests_to(QUERY_PATH)) == 2
    assert report.result.summary.events == sum(r[-3] for r in rows if r[1])


def test_partial_result_is_reported_and_counted(loopback: LoopbackServer, tls_cert, tags,
                                                events) -> None:
    rows = summarise(events, START, START + timedelta(days=1))
    doc = table_response(rows[:5])
    doc["error"] = {
        "code": "PartialError",
        "message": "There were some errors when processing your query.",
        "details": [{"code": "EngineError", "message": "A shard of the workspace is unavailable"}],
    }
    loopback.route("POST", QUERY_PATH, Reply(200, doc))
    report = run(loopback, tls_cert[0], tags,
                 window=TimeWindow(START, START + timedelta(days=1)))
    assert report.result.stats.ignored["partial-query-result"] == 1
    warnings = " ".join(report.result.warnings)
    assert "partial" in warnings
    assert "lower bounds" in warnings
    assert "EngineError" in warnings or "PartialError" in warnings
    jdoc = audit_document(report)
    assert jdoc["input"]["ignored"] == {"partial-query-result": 1}
    # what came back is kept, and only that
    assert report.result.summary.events == sum(r[-3] for r in rows[:5] if r[1])


def test_result_over_the_limit_is_bisected_until_complete(loopback: LoopbackServer, tls_cert,
                                                          tags, events) -> None:
    full = LogAnalyticsEngine(events)
    loopback.route("POST", QUERY_PATH, full)
    reference = run(loopback, tls_cert[0], tags)

    limited = LogAnalyticsEngine(events, limit_rows=60)
    loopback.route("POST", QUERY_PATH, limited)
    report = run(loopback, tls_cert[0], tags)
    assert len(limited.windows) > 3  # windows were split
    assert not report.result.warnings or all("partial" not in w for w in report.result.warnings)
    assert report.result.stats.ignored.get("partial-query-result", 0) == 0
    assert audit_document(report)["flows"] == audit_document(reference)["flows"]
    assert report.result.stats.events_read == reference.result.stats.events_read
    covered = sorted(w for w in limited.windows if w not in set(full.windows))
    assert covered[0][0] == START
    assert max(w[1] for w in covered) == END


def test_limit_below_min_window_stays_partial(loopback: LoopbackServer, tls_cert,
                                              tags) -> None:
    hour = TimeWindow(START, START + timedelta(hours=1))
    dense = generate_events(5, 300, hour.start, hour.end)
    loopback.route("POST", QUERY_PATH, LogAnalyticsEngine(dense, limit_rows=20))
    report = run(loopback, tls_cert[0], tags, window=hour, min_window=timedelta(minutes=30))
    assert len(loopback.requests_to(QUERY_PATH)) == 3  # the hour, then its two halves
    assert report.result.stats.ignored["partial-query-result"] >= 1
    assert any("partial" in w for w in report.result.warnings)


def test_403_says_which_permission(loopback: LoopbackServer, tls_cert, tags) -> None:
    # the documented "Insufficient permissions" body (errors.md)
    body = {"error": {
        "message": "The provided credentials have insufficient access to perform the "
                   "requested operation",
        "code": "InsufficientAccessError",
    }}
    loopback.route("POST", QUERY_PATH, Reply(403, body))
    with pytest.raises(LiveAzureError) as info:
        run(loopback, tls_cert[0], tags)
    text = str(info.value)
    assert "Log Analytics Reader" in text
    assert WS in text
    assert "InsufficientAccessError" in text
    assert len(loopback.requests_to(QUERY_PATH)) == 1  # a permanent error is not retried


def test_404_says_workspace_id(loopback: LoopbackServer, tls_cert, tags) -> None:
    body = {"error": {"message": "The requested path does not exist", "code": "PathNotFoundError"}}
    loopback.route("POST", QUERY_PATH, Reply(404, body))
    with pytest.raises(LiveAzureError) as info:
        run(loopback, tls_cert[0], tags)
    assert "workspace ID" in str(info.value)
    assert "PathNotFoundError" in str(info.value)


def test_wrong_columns_are_refused(loopback: LoopbackServer, tls_cert, tags) -> None:
    """The official example's Usage table is not what pullpath asked for: say so."""
    body = load_example("la-get-example.json")["responses"]["200"]["body"]
    loopback.route("POST", QUERY_PATH, Reply(200, body))
    with pytest.raises(LiveAzureError) as info:
        run(loopback, tls_cert[0], tags, window=TimeWindow(START, START + timedelta(hours=1)))
    assert "expected" in str(info.value)
    assert RESULT_COLUMNS[0] in str(info.value)


def test_registry_filter_is_in_the_query(loopback: LoopbackServer, tls_cert, tags,
                                         events) -> None:
    loopback.route("POST", QUERY_PATH, LogAnalyticsEngine(events))
    run(loopback, tls_cert[0], tags, window=TimeWindow(START, START + timedelta(hours=2)),
        registries=[parse_registry("contosoacr")], operations=["Pull"])
    query = loopback.requests_to(QUERY_PATH)[0].json()["query"]
    assert 'LoginServer startswith "contosoacr."' in query
    assert 'OperationName in~ ("Pull")' in query
