"""Server-side summarised rows give the same flows and totals as the file readers give from the
equivalent raw events.

The raw events are written as a Log Analytics JSON-lines export and read by the file route
(``read_events`` + ``audit_events``). The same events are summarised the way pullpath's KQL
does (tests/support/live_events.py, independent of pullpath) and fed through the row route
(``add_rows`` + ``Aggregator.add_group``), and, end to end, through the real LogsQueryClient
against the loopback workspace.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import pytest

from pullpath.adapters.azure.loganalytics import add_rows
from pullpath.adapters.inventory_files import read_inventory
from pullpath.adapters.logs_files import read_events
from pullpath.adapters.servicetags_files import load_service_tags
from pullpath.core.groups import Aggregator
from pullpath.core.kql import RESULT_COLUMNS, TimeWindow
from pullpath.domain.events import ReadStats
from pullpath.formatters.audit_doc import audit_document
from pullpath.workflows.audit import audit_events, classifier_for, finish
from pullpath.workflows.live import audit_workspace
from tests.support.live_events import COLUMNS, LogAnalyticsEngine, generate_events, summarise
from tests.support.live_server import (
    FakeCredential,
    LoopbackServer,
    loopback_settings,
)

START = datetime(2024, 11, 25, tzinfo=UTC)
END = START + timedelta(days=2)
WS = "63613592-b6f7-4c3d-a390-22ba13102111"


@pytest.fixture(scope="module")
def inventory():  # type: ignore[no-untyped-def]
    demo = Path(str(resources.files("pullpath").joinpath("data", "demo", "inventory")))
    return read_inventory([demo])


@pytest.fixture(scope="module")
def tags():  # type: ignore[no-untyped-def]
    return load_service_tags(None)


def comparable(doc: dict[str, object]) -> dict[str, object]:
    """The report minus what names the input (file names vs workspace windows)."""
    inp = dict(doc["input"])  # type: ignore[arg-type]
    for key in ("files", "per_file", "skipped_examples", "sources"):
        inp.pop(key)
    return {"flows": doc["flows"], "summary": doc["summary"], "input": inp,
            "missing": doc["missing"]}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rows_give_the_same_flows_as_raw_events(tmp_path: Path, inventory, tags,
                                                seed: int) -> None:
    events = generate_events(seed, 1500, START, END)
    export = tmp_path / "export.json"
    export.write_text("\n".join(json.dumps(e) for e in events) + "\n", encoding="utf-8")

    file_stats = ReadStats()
    by_file = audit_events(read_events([export], file_stats), file_stats, inventory=inventory,
                           tags=tags)

    rows = summarise(events)
    assert len(rows) < len(events)  # the server really reduces
    assert tuple(COLUMNS) == RESULT_COLUMNS
    row_stats = ReadStats()
    aggregator = Aggregator()
    add_rows(rows, COLUMNS, aggregator, row_stats, "workspace")
    by_rows = finish(classifier_for(inventory, tags), aggregator, row_stats, inventory=inventory,
                     tags=tags)

    a, b = comparable(audit_document(by_file)), comparable(audit_document(by_rows))
    assert a == b
    assert by_rows.result.summary.events == by_file.result.summary.events > 0
    assert row_stats.records_seen == file_stats.records_seen == len(events)
    assert row_stats.skipped == file_stats.skipped
    assert by_rows.result.newest_event == by_file.result.newest_event
    paths = {f["path"] for f in a["flows"]}  # type: ignore[union-attr]
    assert len(paths) >= 3  # the events exercise several verdicts, not one


def test_end_to_end_through_the_workspace_client(tmp_path: Path, loopback: LoopbackServer,
                                                 tls_cert, inventory, tags) -> None:
    events = generate_events(9, 1200, START, END)
    export = tmp_path / "export.json"
    export.write_text("\n".join(json.dumps(e) for e in events) + "\n", encoding="utf-8")
    file_stats = ReadStats()
    by_file = audit_events(read_events([export], file_stats), file_stats, inventory=inventory,
                           tags=tags)

    engine = LogAnalyticsEngine(events, limit_rows=150)  # forces window splits as well
    loopback.route("POST", f"/v1/workspaces/{WS}/query", engine)
    live = audit_workspace(
        WS, TimeWindow(START, END), credential=FakeCredential(),
        settings=loopback_settings(loopback.url, tls_cert[0]), inventory=inventory, tags=tags,
    )
    assert len(engine.windows) > 2
    assert comparable(audit_document(live)) == comparable(audit_document(by_file))
