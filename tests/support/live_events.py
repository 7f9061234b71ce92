"""Raw registry log events for the live tests, and a Python model of the server-side KQL.

``generate_events`` makes Log Analytics rows (the documented PascalCase columns of both tables)
with the quirks seen in the wild: "<nil>" placeholders, ports on caller IPs, IPv6, garbage,
mixed-case login servers and resource IDs, "HttpStatusCode" result types, denial messages,
login events without Repository/Tag, and records without an OperationName.

``summarise`` does what pullpath's KQL does (filter by window, group by the raw values of
``GROUP_COLUMNS``, count, min/max TimeGenerated), independently of pullpath's code: it is the
loopback Log Analytics server's engine and the oracle of the equivalence test.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.live_server import Reply, Request

TABLE_REPO = "ContainerRegistryRepositoryEvents"
TABLE_LOGIN = "ContainerRegistryLoginEvents"
SUB = "11111111-2222-3333-4444-555555555555"
GROUP = (
    "Type", "OperationName", "CallerIpAddress", "Identity", "Repository", "Tag", "ResultType",
    "ResultDescription", "LoginServer", "_ResourceId",
)
COLUMNS = (*GROUP, "Events", "FirstSeen", "LastSeen")
TYPES = (*(["string"] * len(GROUP)), "long", "datetime", "datetime")

_REGISTRIES = [
    ("contosoacr.azurecr.io",
     f"/subscriptions/{SUB}/resourceGroups/rg-pullpath-demo/providers/"
     "Microsoft.ContainerRegistry/registries/contosoacr"),
    ("ContosoACR.azurecr.io",
     f"/SUBSCRIPTIONS/{SUB}/RESOURCEGROUPS/RG-PULLPATH-DEMO/PROVIDERS/"
     "MICROSOFT.CONTAINERREGISTRY/REGISTRIES/CONTOSOACR"),
    ("fabrikamreg.azurecr.io",
     f"/subscriptions/{SUB}/resourceGroups/rg-other/providers/"
     "Microsoft.ContainerRegistry/registries/fabrikamreg"),
    ("", f"/subscriptions/{SUB}/resourceGroups/rg-other/providers/"
         "Microsoft.ContainerRegistry/registries/fabrikamreg"),
]
_IPS = ["10.0.2.4", "10.0.2.5:40122", "20.43.1.2:51234", "4.210.11.8", "52.239.1.1",
        "2001:db8::1", "", "garbage", "<nil>", "198.51.100.7", "100.64.3.2"]
_IDENTITIES = ["", "<nil>", "9e6d2b4c-6f1f-4ad3-9f0a-3f4c8e7a1b2c",
               "f1d2c3b4-a5b6-4c7d-8e9f-0a1b2c3d4e5f", "user@example.com"]
_REPOS = [("app", "v1"), ("app", "latest"), ("base/nginx", "1.27"), ("app", "")]
_RESULTS = [
    ("200", ""), ("HttpStatusCode", "200"), ("HttpStatusCode", "404"), ("401", ""),
    ("403", "denied: client with IP '20.43.1.2' is not allowed access. "
            "Refer https://aka.ms/acr/firewall to grant access."),
]


def iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def generate_events(seed: int, count: int, start: datetime, end: datetime) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    span = (end - start).total_seconds()
    out: list[dict[str, Any]] = []
    for _ in range(count):
        login_server, resource_id = rng.choice(_REGISTRIES)
        when = start + timedelta(seconds=rng.random() * span)
        rt, rd = rng.choice(_RESULTS)
        common = {
            "TimeGenerated": iso(when),
            "CallerIpAddress": rng.choice(_IPS),
            "Identity": rng.choice(_IDENTITIES),
            "LoginServer": login_server,
            "_ResourceId": resource_id,
            "ResultType": rt,
            "ResultDescription": rd,
            "CorrelationId": f"{rng.getrandbits(64):016x}",
            "UserAgent": "containerd/1.7",
            "DurationMs": str(rng.randint(1, 500)),
            "Category": "",
            "_SubscriptionId": SUB,
        }
        if rng.random() < 0.25:
            row = {**common, "Type": TABLE_LOGIN, "Category": TABLE_LOGIN,
                   "OperationName": rng.choice(["Login", "Login", "Authenticate"])}
        else:
            repo, tag = rng.choice(_REPOS)
            row = {**common, "Type": TABLE_REPO, "Category": TABLE_REPO,
                   "OperationName": rng.choice(["Pull", "Pull", "Pull", "Push", "Delete"]),
                   "Repository": repo, "Tag": tag, "Digest": "sha256:" + "ab" * 32,
                   "Size": rng.randint(100, 10_000_000)}
        if rng.random() < 0.02:
            row["OperationName"] = ""  # an unusable record: both routes must skip it alike
        out.append(row)
    return out


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def summarise(events: Iterable[dict[str, Any]], start: datetime | None = None,
              end: datetime | None = None) -> list[list[Any]]:
    """One row per distinct GROUP value tuple, as the KQL's summarize returns it."""
    groups: dict[tuple[str, ...], list[Any]] = {}
    for e in events:
        t = parse_iso(e["TimeGenerated"])
        if (start is not None and t < start) or (end is not None and t >= end):
            continue
        key = tuple(str(e.get(c, "")) for c in GROUP)  # absent string column -> ""
        g = groups.get(key)
        if g is None:
            groups[key] = [1, t, t]
        else:
            g[0] += 1
            g[1] = min(g[1], t)
            g[2] = max(g[2], t)
    return [[*k, n, iso(lo), iso(hi)] for k, (n, lo, hi) in sorted(groups.items())]


_BOUNDS = re.compile(
    r"TimeGenerated >= datetime\(([^)]+)\) and TimeGenerated < datetime\(([^)]+)\)"
)


def query_window(query: str) -> tuple[datetime, datetime]:
    m = _BOUNDS.search(query)
    assert m, query
    return parse_iso(m.group(1)), parse_iso(m.group(2))


def table_response(rows: Sequence[Sequence[Any]], columns: Sequence[str] = COLUMNS,
                   types: Sequence[str] = TYPES) -> dict[str, Any]:
    """The query API response shape (response-format.md: tables[name, columns, rows])."""
    return {"tables": [{
        "name": "PrimaryResult",
        "columns": [{"name": c, "type": t} for c, t in zip(columns, types, strict=True)],
        "rows": [list(r) for r in rows],
    }]}


class LogAnalyticsEngine:
    """The loopback workspace: answers pullpath's summarising query over ``events``.

    ``limit_rows``: a result larger than this is cut and answered as a partial result with the
    service's "result set exceeded" error (as Log Analytics does at 500,000 records / 64 MB).
    """

    def __init__(self, events: list[dict[str, Any]], *, limit_rows: int | None = None) -> None:
        self.events = events
        self.limit_rows = limit_rows
        self.windows: list[tuple[datetime, datetime]] = []

    def __call__(self, request: Request) -> Reply:
        body = request.json()
        start, end = query_window(body["query"])
        self.windows.append((start, end))
        rows = summarise(self.events, start, end)
        if self.limit_rows is not None and len(rows) > self.limit_rows:
            doc = table_response(rows[: self.limit_rows])
            doc["error"] = {
                "code": "PartialError",
                "message": "There were some errors when processing your query.",
                "details": [{
                    "code": "EngineError",
                    "message": "Something went wrong processing your query on the server.",
                    "innererror": {
                        "code": "-2133196797",
                        "message": "Query result set has exceeded the internal record count "
                                   f"limit {self.limit_rows} (E_QUERY_RESULT_SET_TOO_LARGE; "
                                   "see https://aka.ms/kustoquerylimits)",
                        "severity": 2,
                        "severityName": "Error",
                    },
                }],
            }
            return Reply(200, doc)
        return Reply(200, table_response(rows))
