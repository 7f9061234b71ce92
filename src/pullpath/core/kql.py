"""KQL sent to a Log Analytics workspace, and the time windows it covers (pure: no I/O).

The heavy part of an audit runs where the data is (design, "Scale"): each query filters the two
registry tables by time, registry and operation, then summarises them into one row per distinct
group of everything a verdict depends on (:data:`GROUP_COLUMNS`, the same fields as
:class:`pullpath.core.groups.GroupKey`), with the number of events and the first/last time. The
client therefore receives distinct flows, not raw events, whatever the table size.

A single query result is limited to 500,000 records and 64 MB, and a query runs at most 10
minutes ("Azure Monitor service limits", Log Analytics query API:
https://learn.microsoft.com/azure/azure-monitor/service-limits#log-analytics-workspaces and
https://learn.microsoft.com/azure/azure-monitor/logs/api/timeouts). The range is therefore
split into windows (:func:`split_range`), and a window whose result hits a limit is bisected
(:meth:`TimeWindow.halves`) by the Log Analytics adapter.

Column names and types are those of the documented tables (``ContainerRegistryRepositoryEvents``
and ``ContainerRegistryLoginEvents``, Azure Monitor Logs table reference); every query built
here is checked by Microsoft's Kusto parser against those schemas in the tests.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from pullpath.domain.events import Table

__all__ = [
    "COUNT_COLUMN",
    "FIRST_COLUMN",
    "GROUP_COLUMNS",
    "LAST_COLUMN",
    "MAX_RESULT_BYTES",
    "MAX_RESULT_ROWS",
    "RESULT_COLUMNS",
    "TABLES",
    "KqlError",
    "RegistryFilter",
    "TimeWindow",
    "build_query",
    "kql_datetime",
    "kql_string",
    "parse_duration",
    "parse_registry",
    "parse_time_arg",
    "resolve_range",
    "split_range",
]

TABLES: tuple[str, ...] = (Table.REPOSITORY.value, Table.LOGIN.value)
"""Both registry log tables; the query is a fuzzy union, so a workspace holding only one works."""

GROUP_COLUMNS: tuple[str, ...] = (
    "Type",
    "OperationName",
    "CallerIpAddress",
    "Identity",
    "Repository",
    "Tag",
    "ResultType",
    "ResultDescription",
    "LoginServer",
    "_ResourceId",
)
"""The summarize ``by`` columns: everything a ``GroupKey`` is made of. ``Type`` is the table name
(a column of both tables); ``ResultType`` and ``ResultDescription`` together give the HTTP status
(``pullpath.core.records.split_result``)."""

COUNT_COLUMN = "Events"
FIRST_COLUMN = "FirstSeen"
LAST_COLUMN = "LastSeen"
RESULT_COLUMNS: tuple[str, ...] = (*GROUP_COLUMNS, COUNT_COLUMN, FIRST_COLUMN, LAST_COLUMN)
"""Exactly the columns each query returns, in order, and exactly what the client reads."""

MAX_RESULT_ROWS = 500_000
MAX_RESULT_BYTES = 64 * 1024 * 1024
"""Log Analytics query API result limits (records, bytes) from the service-limits page."""

_ONLY_IN_REPOSITORY_TABLE = ("Repository", "Tag")
"""Columns of ``ContainerRegistryRepositoryEvents`` that ``ContainerRegistryLoginEvents`` lacks;
``column_ifexists`` keeps the query valid in a workspace that only has the login table."""

_REGISTRY_NAME = re.compile(r"^[A-Za-z0-9]{5,50}$")
_LOGIN_SERVER = re.compile(r"^[A-Za-z0-9]{5,50}(\.[A-Za-z0-9-]{1,63})+$")
_RESOURCE_ID = re.compile(
    r"^/subscriptions/[0-9A-Fa-f-]{36}/resourceGroups/[-\w._()]{1,90}"
    r"/providers/Microsoft\.ContainerRegistry/registries/[A-Za-z0-9]{5,50}$",
    re.IGNORECASE,
)
_OPERATION = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class KqlError(ValueError):
    """A filter or time range that cannot be turned into a query, with what to do instead."""


# --------------------------------------------------------------------------- time


@dataclass(frozen=True, slots=True, order=True)
class TimeWindow:
    """A half-open UTC time range ``[start, end)``."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise KqlError("time window bounds must be timezone-aware (UTC)")
        if self.end <= self.start:
            raise KqlError(
                f"empty time range: {self.start.isoformat()} is not before {self.end.isoformat()}"
            )

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def halves(self) -> tuple[TimeWindow, TimeWindow]:
        """The two halves (split at the midpoint, whole seconds when the window allows)."""
        middle = self.start + self.duration / 2
        if self.duration >= timedelta(seconds=2):
            middle = middle.replace(microsecond=0)
        return TimeWindow(self.start, middle), TimeWindow(middle, self.end)

    def label(self) -> str:
        return f"{_iso(self.start)}..{_iso(self.end)}"


def _iso(value: datetime) -> str:
    text = value.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


def parse_duration(text: str) -> timedelta:
    """``--since`` values: ``90m``, ``12h``, ``7d``, ``2w`` (also ``30s``)."""
    m = _DURATION.match(text or "")
    if not m:
        raise KqlError(
            f"--since {text!r}: expected a number and a unit, e.g. 30m, 12h, 7d or 2w"
        )
    amount = int(m.group(1))
    if amount <= 0:
        raise KqlError(f"--since {text!r}: must be more than zero")
    delta = timedelta(**{_UNITS[m.group(2).lower()]: amount})
    if delta > timedelta(days=3650):
        raise KqlError(f"--since {text!r}: more than ten years")
    return delta


def parse_time_arg(text: str, *, option: str) -> datetime:
    """``--from``/``--to``: an ISO 8601 date or date-time; without a zone it is UTC."""
    value = (text or "").strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        if len(value) == 10:
            parsed = datetime.combine(date.fromisoformat(value), datetime.min.time())
        else:
            parsed = datetime.fromisoformat(value)
    except ValueError:
        raise KqlError(
            f"{option} {text!r}: not an ISO 8601 date or time "
            "(e.g. 2024-11-25 or 2024-11-25T10:00:00Z)"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def resolve_range(
    *, since: str | None, start: str | None, end: str | None, now: datetime,
    default_since: str = "7d",
) -> TimeWindow:
    """The audited range from ``--since`` or ``--from``/``--to`` (``--to`` defaults to now)."""
    if since and (start or end):
        raise KqlError("give either --since or --from/--to, not both")
    if start:
        lo = parse_time_arg(start, option="--from")
        hi = parse_time_arg(end, option="--to") if end else now
        if hi <= lo:
            raise KqlError(f"--from {start} is not before --to {end or 'now'}")
        return TimeWindow(lo, hi)
    if end:
        raise KqlError("--to needs --from (or use --since)")
    return TimeWindow(now - parse_duration(since or default_since), now)


def split_range(window: TimeWindow, step: timedelta) -> list[TimeWindow]:
    """Consecutive windows of at most ``step`` covering ``window`` exactly."""
    if step <= timedelta(0):
        raise KqlError("the query window must be positive")
    out: list[TimeWindow] = []
    lo = window.start
    while lo < window.end:
        hi = min(lo + step, window.end)
        out.append(TimeWindow(lo, hi))
        lo = hi
    return out


# --------------------------------------------------------------------------- filters


@dataclass(frozen=True, slots=True)
class RegistryFilter:
    """``--registry``: a registry name, a login server or a registry resource ID."""

    kind: str
    """``name``, ``login-server`` or ``resource-id``."""
    value: str
    """Lower-case, validated (safe to put in a KQL string literal)."""

    @property
    def name(self) -> str:
        if self.kind == "login-server":
            return self.value.split(".", 1)[0]
        return self.value.rsplit("/", 1)[-1]


def parse_registry(text: str) -> RegistryFilter:
    value = (text or "").strip().rstrip("/")
    if _REGISTRY_NAME.match(value):
        return RegistryFilter("name", value.lower())
    if _LOGIN_SERVER.match(value):
        return RegistryFilter("login-server", value.lower())
    if _RESOURCE_ID.match(value):
        return RegistryFilter("resource-id", value.lower())
    raise KqlError(
        f"--registry {text!r}: expected a registry name (5-50 letters and digits), its login "
        "server (contoso.azurecr.io) or its resource ID "
        "(/subscriptions/.../providers/Microsoft.ContainerRegistry/registries/NAME)"
    )


def kql_string(value: str) -> str:
    """A KQL string literal (double quotes, backslash escapes)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'"{escaped}"'


def kql_datetime(value: datetime) -> str:
    return f"datetime({value.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')})"


def _registry_condition(f: RegistryFilter) -> str:
    suffix = kql_string(f"/providers/microsoft.containerregistry/registries/{f.name}")
    if f.kind == "resource-id":
        return f"_ResourceId =~ {kql_string(f.value)}"
    if f.kind == "login-server":
        return f"(LoginServer =~ {kql_string(f.value)} or _ResourceId endswith {suffix})"
    # a registry name: its login server is "<name>.<cloud suffix>" (azurecr.io, azurecr.us...)
    return f"(LoginServer startswith {kql_string(f.value + '.')} or _ResourceId endswith {suffix})"


def build_query(
    window: TimeWindow,
    *,
    registries: Sequence[RegistryFilter] = (),
    operations: Sequence[str] = (),
) -> str:
    """The summarising query for one window. Returns exactly :data:`RESULT_COLUMNS`."""
    for op in operations:
        if not _OPERATION.match(op):
            raise KqlError(f"--operation {op!r}: expected a name such as Pull, Push or Login")
    lines = [
        "// pullpath: registry log events summarised per flow, one row per distinct group",
        f"union isfuzzy=true {', '.join(TABLES)}",
        f"| where TimeGenerated >= {kql_datetime(window.start)}"
        f" and TimeGenerated < {kql_datetime(window.end)}",
    ]
    if registries:
        lines.append("| where " + " or ".join(_registry_condition(r) for r in registries))
    if operations:
        ops = ", ".join(kql_string(op) for op in operations)
        lines.append(f"| where OperationName in~ ({ops})")
    lines.append(
        "| extend "
        + ", ".join(f'{c} = column_ifexists("{c}", "")' for c in _ONLY_IN_REPOSITORY_TABLE)
    )
    lines.append(
        f"| summarize {COUNT_COLUMN} = count(), {FIRST_COLUMN} = min(TimeGenerated),"
        f" {LAST_COLUMN} = max(TimeGenerated)"
    )
    lines.append(f"    by {', '.join(GROUP_COLUMNS)}")
    return "\n".join(lines)
