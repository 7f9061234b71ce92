"""Turn one decoded registry log record into a ``PullEvent`` (pure, no I/O).

Two shapes exist in the wild, both handled here:

- the diagnostic-settings archive (storage account / event hub): camelCase top level
  (``time``, ``category``, ``operationName``, ``callerIpAddress``, ``resultDescription``...) with a
  ``properties`` bag (``repository``, ``tag``, ``digest``, ``loginServer``, ``userAgent``...);
- Log Analytics rows (exports, query results): the table's PascalCase columns
  (``TimeGenerated``, ``CallerIpAddress``, ``Repository``, ``_ResourceId``...).

Key case and underscores are ignored, ``"<nil>"`` placeholders mean "absent", unknown extra
fields are ignored. A record that cannot be an event gives a ``RecordError`` with a stable reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime

from pullpath.domain.events import PullEvent, Table

NIL_VALUES = frozenset({"<nil>", "<null>", "null", "none", "n/a", "-"})

_TABLE_BY_NAME = {
    "containerregistryrepositoryevents": Table.REPOSITORY,
    "containerregistryloginevents": Table.LOGIN,
}

# normalised key (lower-case, no "_" / " ") -> event field
_FIELD_KEYS: dict[str, str] = {
    "time": "time",
    "timegenerated": "time",
    "timegeneratedutc": "time",
    "category": "category",
    "type": "category",
    "operationname": "operation",
    "calleripaddress": "caller_ip",
    "identity": "identity",
    "repository": "repository",
    "tag": "tag",
    "digest": "digest",
    "loginserver": "login_server",
    "useragent": "user_agent",
    "resulttype": "result_type",
    "resultdescription": "result_description",
    "correlationid": "correlation_id",
    "resourceid": "resource_id",
    "tablename": "table_name",
}

_STATUS_RE = re.compile(r"^(?:http\s*)?([1-5]\d\d)\b", re.IGNORECASE)
FIREWALL_DENIAL_RE = re.compile(r"client with ip .* is not allowed access", re.IGNORECASE)
_PORTAL_TIME_FORMATS = (
    "%m/%d/%Y, %I:%M:%S.%f %p",
    "%m/%d/%Y, %I:%M:%S %p",
    "%m/%d/%Y %I:%M:%S %p",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S",
)


class RecordError(ValueError):
    """A record that is not a usable registry event. ``reason`` is a stable key."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def norm_key(key: str) -> str:
    return key.replace("_", "").replace(" ", "").replace("[utc]", "").lower()


def clean(value: object) -> str:
    """A logged value as text; placeholders and non-scalars become ""."""
    if value is None or isinstance(value, dict | list):
        return ""
    text = value if isinstance(value, str) else str(value)
    text = text.strip()
    if text.lower() in NIL_VALUES:
        return ""
    return text


def parse_time(value: object) -> datetime | None:
    """Parse TimeGenerated / time as logged; naive times are UTC. None when unusable."""
    text = clean(value)
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = None
        for fmt in _PORTAL_TIME_FORMATS:
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        if parsed is None:
            return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def split_result(result_type: str, result_description: str) -> tuple[str, str]:
    """(HTTP status text, extra description). The archive logs resultType "HttpStatusCode" and
    the status in resultDescription; other sources put the status in ResultType."""
    if len(result_description) == 3 and result_description.isdigit():
        return result_description, ""
    if len(result_type) == 3 and result_type.isdigit():
        return result_type, result_description
    for text in (result_description, result_type):
        m = _STATUS_RE.match(text)
        if m:
            return m.group(1), result_description
    if FIREWALL_DENIAL_RE.search(result_description):
        return "403", result_description
    return "", result_description if result_description.lower() != "httpstatuscode" else ""


def _flatten(record: Mapping[str, object]) -> dict[str, object]:
    """Known fields from the top level and the ``properties`` bag, by normalised key."""
    out: dict[str, object] = {}
    props = None
    for key, value in record.items():
        if not isinstance(key, str):
            continue
        nk = norm_key(key)
        if nk == "properties":
            props = value
            continue
        field = _FIELD_KEYS.get(nk)
        if field is not None and field not in out:
            out[field] = value
    if isinstance(props, Mapping):
        for key, value in props.items():
            if not isinstance(key, str):
                continue
            field = _FIELD_KEYS.get(norm_key(key))
            if field is not None and clean(out.get(field)) == "":
                out[field] = value
    return out


def table_of(category: str, fields: Mapping[str, object]) -> Table | None:
    """Which table a record belongs to: from its category/Type, else from its fields."""
    if category:
        return _TABLE_BY_NAME.get(category.lower())
    if clean(fields.get("repository")) or clean(fields.get("tag")):
        return Table.REPOSITORY
    operation = clean(fields.get("operation")).lower()
    if operation in ("login", "authenticate", "authentication"):
        return Table.LOGIN
    if operation in ("pull", "push", "delete", "untag", "deletemanifest"):
        return Table.REPOSITORY
    return None


def parse_record(record: object) -> PullEvent:
    """One decoded JSON object or CSV row -> ``PullEvent``; raises ``RecordError``."""
    if not isinstance(record, Mapping):
        raise RecordError("not-an-object", f"a JSON {type(record).__name__}, not an object")
    fields = _flatten(record)
    if not fields:
        raise RecordError("not-a-registry-event", "no registry log field in the record")
    category = clean(fields.get("category")) or clean(fields.get("table_name"))
    table = table_of(category, fields)
    if table is None:
        detail = f"category {category!r}" if category else "no category and no registry fields"
        raise RecordError("not-a-registry-event", detail)
    operation = clean(fields.get("operation"))
    if not operation:
        raise RecordError("missing-operation", "OperationName is empty")
    time_value = fields.get("time")
    time = parse_time(time_value)
    if time is None and clean(time_value):
        raise RecordError("invalid-time", f"unreadable time {clean(time_value)[:40]!r}")
    result, description = split_result(
        clean(fields.get("result_type")), clean(fields.get("result_description"))
    )
    return PullEvent(
        time=time,
        table=table,
        operation=operation,
        caller_ip=clean(fields.get("caller_ip")),
        identity=clean(fields.get("identity")),
        repository=clean(fields.get("repository")),
        tag=clean(fields.get("tag")),
        digest=clean(fields.get("digest")),
        login_server=clean(fields.get("login_server")).lower(),
        user_agent=clean(fields.get("user_agent")),
        result=result,
        result_description=description,
        correlation_id=clean(fields.get("correlation_id")),
        resource_id=clean(fields.get("resource_id")).rstrip("/").lower(),
    )
