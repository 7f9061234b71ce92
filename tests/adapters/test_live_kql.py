"""Every KQL query pullpath can send, checked by Microsoft's Kusto parser
(npm @kusto/language-service-next, driven by tests/node/kusto_check.js) against the documented
table schemas (tests/data/live/containerregistry*.md, parsed here, not retyped)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from pullpath.adapters.azure.loganalytics import plan_queries
from pullpath.adapters.azure.resourcegraph import PROJECTED_COLUMNS, inventory_query
from pullpath.core.kql import (
    GROUP_COLUMNS,
    RESULT_COLUMNS,
    KqlError,
    TimeWindow,
    build_query,
    parse_duration,
    parse_registry,
    resolve_range,
    split_range,
)
from tests.support import ROOT

LIVE = ROOT / "tests" / "data" / "live"
NODE = ROOT / "tests" / "node"
CHECKER = NODE / "kusto_check.js"
PACKAGE = NODE / "node_modules" / "@kusto" / "language-service-next"

pytestmark = pytest.mark.kusto

W = TimeWindow(datetime(2024, 11, 25, tzinfo=UTC), datetime(2024, 11, 26, tzinfo=UTC))


def _require_checker() -> None:
    if PACKAGE.exists() and shutil.which("node"):
        return
    reason = "the Kusto language service is not installed: npm install --prefix tests/node"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def schema_of(md: Path) -> tuple[str, list[tuple[str, str]]]:
    """(table name, [(column, type)]) from an Azure Monitor table reference page."""
    text = md.read_text(encoding="utf-8")
    title = re.search(r"^# (\w+)\s*$", text, re.MULTILINE)
    assert title, md
    section = text.split("## Columns", 1)[1]
    columns = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or cells[0] in ("Column", "") or set(cells[0]) <= {"-", " "}:
            continue
        columns.append((cells[0], cells[1]))
    return title.group(1), columns


@lru_cache(maxsize=1)
def log_tables() -> dict[str, str]:
    out = {}
    for md in sorted(LIVE.glob("containerregistry*.md")):
        name, cols = schema_of(md)
        out[name] = "(" + ", ".join(f"{c}:{t}" for c, t in cols) + ")"
    return out


# Resource Graph's Resources table (learn.microsoft.com, "Azure Resource Graph table and
# resource type reference" / "Understanding the query language": the columns of Resources)
_RESOURCES_COLUMNS = (
    ("id", "string"), ("name", "string"), ("type", "string"), ("tenantId", "string"),
    ("kind", "string"), ("location", "string"), ("resourceGroup", "string"),
    ("subscriptionId", "string"), ("managedBy", "string"), ("sku", "dynamic"),
    ("plan", "dynamic"), ("properties", "dynamic"), ("tags", "dynamic"),
    ("identity", "dynamic"), ("zones", "dynamic"), ("extendedLocation", "dynamic"),
)
RESOURCES_SCHEMA = {  # names quoted: `kind` is a KQL keyword
    "Resources": "(" + ", ".join(f"['{c}']:{t}" for c, t in _RESOURCES_COLUMNS) + ")"
}


def run_checks(checks: dict[str, tuple[str, dict[str, str]]]) -> dict[str, dict[str, Any]]:
    """All checks in one node run (loading the language service takes seconds)."""
    _require_checker()
    names = list(checks)
    payload = {"checks": [{"query": checks[n][0], "tables": checks[n][1]} for n in names]}
    proc = subprocess.run(
        ["node", str(CHECKER)], input=json.dumps(payload),
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    results: list[dict[str, Any]] = json.loads(proc.stdout)
    return dict(zip(names, results, strict=True))


def all_log_queries() -> list[str]:
    """Every shape of log query pullpath builds: plain, each registry filter form, several
    filters, operations, both together, and the windows of a plan."""
    regs = [
        parse_registry("contosoacr"),
        parse_registry("contosoacr.azurecr.io"),
        parse_registry("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/"
                       "rg/providers/Microsoft.ContainerRegistry/registries/contosoacr"),
    ]
    queries = [build_query(W)]
    queries += [build_query(W, registries=[r]) for r in regs]
    queries.append(build_query(W, registries=regs))
    queries.append(build_query(W, operations=["Pull", "Login"]))
    queries.append(build_query(W, registries=regs[:1], operations=["Pull"]))
    long = TimeWindow(W.start, W.start + timedelta(days=2, hours=5))
    queries += list(plan_queries(long, registries=regs[1:2]).queries)
    queries += [build_query(h) for h in W.halves()]
    return queries


def test_schemas_are_read_from_the_docs() -> None:
    tables = log_tables()
    assert set(tables) == {"ContainerRegistryRepositoryEvents", "ContainerRegistryLoginEvents"}
    assert "Repository:string" in tables["ContainerRegistryRepositoryEvents"]
    assert "Repository:" not in tables["ContainerRegistryLoginEvents"]
    assert "TimeGenerated:datetime" in tables["ContainerRegistryLoginEvents"]


BAD_COLUMN = build_query(W).replace("by Type, OperationName", "by Type, OperationNameX")
BAD_WHERE = build_query(W).replace("| summarize", "| where ImageDigest != ''\n| summarize")
LOGIN_ONLY = build_query(W, operations=["Login"]).replace(
    "ContainerRegistryRepositoryEvents, ContainerRegistryLoginEvents",
    "ContainerRegistryLoginEvents",
)


@pytest.fixture(scope="module")
def checked() -> dict[str, dict[str, Any]]:
    logs = log_tables()
    checks: dict[str, tuple[str, dict[str, str]]] = {
        f"log{i}": (q, logs) for i, q in enumerate(all_log_queries())
    }
    checks["bad-column"] = (BAD_COLUMN, logs)
    checks["bad-where"] = (BAD_WHERE, logs)
    only_login = {k: v for k, v in logs.items() if k == "ContainerRegistryLoginEvents"}
    checks["login-only"] = (LOGIN_ONLY, only_login)
    checks["resource-graph"] = (inventory_query(), RESOURCES_SCHEMA)
    return run_checks(checks)


def test_every_log_query_is_valid_and_returns_exactly_what_the_client_reads(
    checked: dict[str, dict[str, Any]],
) -> None:
    queries = all_log_queries()
    results = [checked[f"log{i}"] for i in range(len(queries))]
    for query, result in zip(queries, results, strict=True):
        assert result["diagnostics"] == [], (query, result["diagnostics"])
        names = [c["name"] for c in result["resultColumns"]]
        assert tuple(names) == RESULT_COLUMNS, query
        types = {c["name"]: c["type"] for c in result["resultColumns"]}
        assert types["Events"] == "long"
        assert types["FirstSeen"] == types["LastSeen"] == "datetime"
        assert all(types[c] == "string" for c in GROUP_COLUMNS)


def test_queries_stay_valid_when_the_workspace_only_has_login_events(
    checked: dict[str, dict[str, Any]],
) -> None:
    result = checked["login-only"]
    assert result["diagnostics"] == []
    assert tuple(c["name"] for c in result["resultColumns"]) == RESULT_COLUMNS


def test_the_checker_catches_a_missing_column(checked: dict[str, dict[str, Any]]) -> None:
    """Proof the check has teeth: a column that is in neither table is an error."""
    for name in ("bad-column", "bad-where"):
        result = checked[name]
        assert any(d["severity"] == "Error" for d in result["diagnostics"]), result
    assert "OperationNameX" in json.dumps(checked["bad-column"]["diagnostics"])
    assert "ImageDigest" in json.dumps(checked["bad-where"]["diagnostics"])


def test_resource_graph_query_is_valid(checked: dict[str, dict[str, Any]]) -> None:
    result = checked["resource-graph"]
    assert result["diagnostics"] == []
    assert tuple(c["name"] for c in result["resultColumns"]) == PROJECTED_COLUMNS


# ----------------------------------------------------------------------------- pure parts


def test_ranges_and_windows() -> None:
    now = datetime(2024, 11, 30, 12, tzinfo=UTC)
    r = resolve_range(since="7d", start=None, end=None, now=now)
    assert r.duration == timedelta(days=7)
    assert r.end == now
    r2 = resolve_range(since=None, start="2024-11-25", end="2024-11-26T06:00:00Z", now=now)
    assert r2.start == datetime(2024, 11, 25, tzinfo=UTC)
    windows = split_range(r2, timedelta(days=1))
    assert [w.duration for w in windows] == [timedelta(days=1), timedelta(hours=6)]
    assert windows[0].end == windows[1].start
    assert windows[-1].end == r2.end
    a, b = r2.halves()
    assert a.start == r2.start
    assert a.end == b.start
    assert b.end == r2.end
    assert parse_duration("90m") == timedelta(minutes=90)


@pytest.mark.parametrize(
    ("since", "start", "end"),
    [("7x", None, None), ("0d", None, None), ("7d", "2024-11-25", None),
     (None, "2024-11-26", "2024-11-25"), (None, None, "2024-11-25"), (None, "yesterday", None)],
)
def test_bad_ranges_say_what_to_do(since: str | None, start: str | None, end: str | None) -> None:
    with pytest.raises(KqlError) as info:
        resolve_range(since=since, start=start, end=end, now=datetime(2024, 12, 1, tzinfo=UTC))
    assert str(info.value)


@pytest.mark.parametrize("value", ['x" or 1==1 //', "ab", "contoso acr", "/subscriptions/x"])
def test_registry_filter_rejects_what_is_not_a_registry(value: str) -> None:
    with pytest.raises(KqlError):
        parse_registry(value)


def test_operation_filter_rejects_injection() -> None:
    with pytest.raises(KqlError):
        build_query(W, operations=['Pull") | take 1 //'])
