"""Registry logs from a Log Analytics workspace (azure-monitor-query ``LogsQueryClient``).

One summarising KQL query per time window (:mod:`pullpath.core.kql`); the service returns one
row per distinct flow group. A window whose result hits the service limits (500,000 records,
64 MB, or the query timeout: a ``PartialError`` about limits, or HTTP 504) is bisected and
queried again, down to :data:`MIN_WINDOW`. Any other partial result (HTTP 200 with
``error.code == "PartialError"``, Log Analytics API "Response format") is kept, reported as a
warning and counted: never passed off as complete.

Rows enter the audit through :func:`row_events` / ``Aggregator.add_group``; their fields are
normalised by the same :func:`pullpath.core.records.parse_record` as the file readers use, so
a server-side group and the raw events it summarises give the same ``GroupKey``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pullpath.adapters.azure.errors import AzureCall, LiveAzureError, describe, scrub
from pullpath.adapters.azure.retry import READ_ONLY_POST, ClientSettings
from pullpath.core.groups import Aggregator, group_key
from pullpath.core.kql import (
    COUNT_COLUMN,
    FIRST_COLUMN,
    LAST_COLUMN,
    MAX_RESULT_ROWS,
    RESULT_COLUMNS,
    RegistryFilter,
    TimeWindow,
    build_query,
    split_range,
)
from pullpath.core.records import RecordError, parse_record
from pullpath.domain.events import Location, ReadStats, Skip

__all__ = [
    "DEFAULT_WINDOW",
    "MIN_WINDOW",
    "QueryPlan",
    "WorkspaceReader",
    "WorkspaceResult",
    "add_rows",
    "plan_queries",
    "workspace_call",
]

DEFAULT_WINDOW = timedelta(days=1)
"""First split of the range: one query per day (summarised, a day fits the limits in most
workspaces; bigger ones are bisected on demand)."""
MIN_WINDOW = timedelta(minutes=1)
"""Windows are not bisected below this; a result still over the limits is kept as partial."""

_LIMIT_MARKERS = (
    "e_query_result_set_too_large",
    "result set has exceeded",
    "exceeded the internal",
    "limit",
    "too large",
    "truncat",
    "timeout",
    "timed out",
)
ProgressFn = Callable[[str], None]


def workspace_call(workspace: str) -> AzureCall:
    return AzureCall(
        action="Log Analytics query",
        resource=f"workspace {workspace}",
        permission=(
            f"Log Analytics Reader (or Reader, Microsoft.OperationalInsights/workspaces/query/"
            f"read) on workspace {workspace}"
        ),
        not_found_hint=(
            "--workspace takes the workspace ID (a GUID: Workspace ID on the workspace's "
            "Overview page, or `az monitor log-analytics workspace show --query customerId`), "
            "not its name or resource ID"
        ),
    )


@dataclass(frozen=True, slots=True)
class QueryPlan:
    """The queries an audit of ``window`` sends, before any bisection."""

    window: TimeWindow
    windows: tuple[TimeWindow, ...]
    queries: tuple[str, ...]


def plan_queries(
    window: TimeWindow,
    *,
    registries: Sequence[RegistryFilter] = (),
    operations: Sequence[str] = (),
    step: timedelta = DEFAULT_WINDOW,
) -> QueryPlan:
    windows = tuple(split_range(window, step))
    queries = tuple(build_query(w, registries=registries, operations=operations) for w in windows)
    return QueryPlan(window, windows, queries)


# --------------------------------------------------------------------------- rows -> groups


def add_rows(
    rows: Sequence[Sequence[Any]],
    columns: Sequence[str],
    aggregator: Aggregator,
    stats: ReadStats,
    source: str,
) -> int:
    """Add summarised rows to the aggregator; returns the number of events they stand for.

    Each row is normalised by ``parse_record`` (the file readers' record parser) as if it were
    one event, then added with its count and first/last time. A row that is not a usable event
    counts all its events as skipped, with the parser's reason.
    """
    if tuple(columns) != RESULT_COLUMNS:
        raise LiveAzureError(
            f"{source}: the query returned columns {list(columns)}, expected "
            f"{list(RESULT_COLUMNS)}"
        )
    index = {name: i for i, name in enumerate(columns)}
    i_count, i_first, i_last = index[COUNT_COLUMN], index[FIRST_COLUMN], index[LAST_COLUMN]
    events = 0
    for n, row in enumerate(rows, 1):
        count = _count(row[i_count])
        if count <= 0:
            continue
        events += count
        record = {name: row[index[name]] for name in RESULT_COLUMNS[: -3]}
        first, last = _time(row[i_first]), _time(row[i_last])
        record["TimeGenerated"] = last.isoformat() if last else None
        try:
            event = parse_record(record)
        except RecordError as exc:
            _skip_many(stats, Skip(Location(source, n), exc.reason, exc.detail), count)
            continue
        aggregator.add_group(group_key(event), count, first, last)
        stats.count_read(source, count)
    if not rows:
        stats.file_stats(source)
    return events


def _count(value: object) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    try:
        return int(str(value))
    except ValueError:
        return 0


def _time(value: object) -> datetime | None:
    from pullpath.core.records import parse_time

    if isinstance(value, datetime):
        return parse_time(value.isoformat())
    return parse_time(value)


def _skip_many(stats: ReadStats, skip: Skip, count: int) -> None:
    stats.count_skip(skip)
    if count > 1:  # the rest of the group, without repeating the example
        rest = count - 1
        stats.records_seen += rest
        stats.skipped[skip.reason] += rest
        per = stats.file_stats(skip.location.file)
        per["records"] += rest
        per["events_skipped"] += rest


# --------------------------------------------------------------------------- the client


@dataclass
class WorkspaceResult:
    """What the queries of one audit returned, beyond the rows themselves."""

    queries: int = 0
    bisections: int = 0
    partial: list[str] = field(default_factory=list)
    """One warning per window whose result was partial."""


class WorkspaceReader:
    """Runs the summarising queries against one workspace and feeds an ``Aggregator``."""

    def __init__(
        self,
        credential: Any,
        workspace: str,
        settings: ClientSettings,
        *,
        progress: ProgressFn | None = None,
        min_window: timedelta = MIN_WINDOW,
        row_limit: int = MAX_RESULT_ROWS,
    ) -> None:
        from azure.monitor.query import LogsQueryClient

        self.workspace = workspace
        self.settings = settings
        self.progress = progress
        self.min_window = min_window
        self.row_limit = row_limit
        self._call = workspace_call(workspace)
        self._client = LogsQueryClient(
            credential,
            endpoint=settings.endpoints.logs,
            **settings.core_kwargs(read_timeout=settings.retry.query_read_timeout),
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> WorkspaceReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read(
        self,
        plan: QueryPlan,
        aggregator: Aggregator,
        stats: ReadStats,
        *,
        registries: Sequence[RegistryFilter] = (),
        operations: Sequence[str] = (),
    ) -> WorkspaceResult:
        outcome = WorkspaceResult()
        pending = list(reversed(plan.windows))
        done = 0
        while pending:
            window = pending.pop()
            query = build_query(window, registries=registries, operations=operations)
            status = self._run(window, query, aggregator, stats, outcome)
            if status == "bisect":
                first, second = window.halves()
                pending.extend([second, first])
                outcome.bisections += 1
                self._say(f"window {window.label()} is over the service limits: split in two")
                continue
            done += 1
            self._say(
                f"queried {done} window(s), {outcome.queries} query(ies): "
                f"{stats.events_read:,} events in {len(aggregator.groups):,} groups so far"
            )
        return outcome

    def _say(self, text: str) -> None:
        if self.progress is not None:
            self.progress(f"workspace {self.workspace}: {text}")

    def _run(
        self,
        window: TimeWindow,
        query: str,
        aggregator: Aggregator,
        stats: ReadStats,
        outcome: WorkspaceResult,
    ) -> str:
        from azure.core.exceptions import HttpResponseError
        from azure.monitor.query import LogsQueryPartialResult

        can_split = window.duration / 2 >= self.min_window
        outcome.queries += 1
        try:
            response = self._client.query_workspace(
                self.workspace,
                query,
                timespan=(window.start, window.end),
                server_timeout=self.settings.retry.query_server_timeout,
                retry_on_methods=READ_ONLY_POST,
            )
        except HttpResponseError as exc:
            if getattr(exc, "status_code", None) == 504 and can_split:
                return "bisect"  # the query timed out on the server: smaller windows
            raise describe(exc, self._call) from None
        except Exception as exc:
            raise describe(exc, self._call) from None
        source = f"workspace {self.workspace} {window.label()}"
        if isinstance(response, LogsQueryPartialResult):
            error = response.partial_error
            code = str(getattr(error, "code", "") or "")
            message = scrub(str(getattr(error, "message", "") or ""))
            details = scrub(str(getattr(error, "details", "") or ""))
            if _is_limit(f"{message} {details}") and can_split:
                return "bisect"
            tables = response.partial_data or []
            outcome.partial.append(
                f"partial result for {window.label()} from workspace {self.workspace} "
                f"({code or 'PartialError'}: {message or details or 'no detail'}): events in "
                "this window may be missing from the report"
            )
            stats.ignored["partial-query-result"] += 1
        else:
            tables = response.tables
        rows: list[Sequence[Any]] = []
        columns: Sequence[str] = RESULT_COLUMNS
        for table in tables[:1]:
            columns = table.columns
            rows = [list(r) for r in table.rows]
        if len(rows) >= self.row_limit and can_split:
            return "bisect"
        add_rows(rows, columns, aggregator, stats, source)
        return "done"


def _is_limit(text: str) -> bool:
    low = text.lower()
    return any(marker in low for marker in _LIMIT_MARKERS)

