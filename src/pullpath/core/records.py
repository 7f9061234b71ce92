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
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TypeVar

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
    # lower-case first: the portal's header is "TimeGenerated [UTC]"
    return key.lower().replace("_", "").replace(" ", "").replace("[utc]", "")


MAX_FIELD_CHARS = 2048
"""A logged value longer than this is cut (marked with "…"): no real registry field comes near
it, and a flow keeps its values in memory."""

_SURROGATE = re.compile(r"[\ud800-\udfff]")
_NIL_MAX_LEN = max(map(len, NIL_VALUES))


def clean(value: object) -> str:
    """A logged value as text; placeholders and non-scalars become "".

    The text is always encodable as UTF-8 (a lone surrogate, which a JSON ``\\ud800`` escape
    can produce, becomes U+FFFD) and at most ``MAX_FIELD_CHARS`` long.
    """
    if type(value) is str:  # the usual case first: one type check
        text = value
    elif value is None or isinstance(value, dict | list):
        return ""
    elif isinstance(value, str):
        text = value
    else:
        try:
            text = str(value)
        except ValueError:  # an integer too long to print (int max str digits)
            return ""
    text = text.strip()
    if len(text) > MAX_FIELD_CHARS:
        text = text[: MAX_FIELD_CHARS - 1] + "…"
    if not text.isascii() and _SURROGATE.search(text):
        text = _SURROGATE.sub("\ufffd", text)
    # lower-casing never shortens a string: longer text is no placeholder
    if len(text) <= _NIL_MAX_LEN and text.lower() in NIL_VALUES:
        return ""
    return text


def parse_time(value: object) -> datetime | None:
    """Parse TimeGenerated / time as logged; naive times are UTC. None when unusable."""
    text = clean(value)
    if not text:
        return None
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
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
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 is before datetime.min in UTC
        return None


def read_result(result_type: object, result_description: object) -> tuple[str, str]:
    """An event's (result, result description) from its raw ``result_type`` and
    ``result_description`` fields: the only use ``parse_fields`` makes of them (the compiled
    scanner's template families rely on it: ``adapters.logs_fast.Resolutions``)."""
    return split_result(clean(result_type), clean(result_description))


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


_PROPERTIES = "properties"
_ROLES: dict[str, str | None] = {}
_ROLES_LIMIT = 4096


def _role(key: str) -> str | None:
    """The field a key maps to, ``"properties"`` for the bag, else None (memoised: the same
    few keys come back on every record)."""
    role = _ROLES.get(key, "")
    if role == "":
        nk = norm_key(key)
        role = _PROPERTIES if nk == _PROPERTIES else _FIELD_KEYS.get(nk)
        if len(_ROLES) < _ROLES_LIMIT:
            _ROLES[key] = role
    return role


_Plan = tuple[tuple[tuple[str, str], ...], str | None]
_P = TypeVar("_P")
_PLANS: dict[tuple[object, ...], _Plan] = {}
_PROPS_PLANS: dict[tuple[object, ...], tuple[tuple[str, str], ...]] = {}
_PLANS_LIMIT = 1024


def _plan(keys: tuple[object, ...]) -> _Plan:
    """How ``_flatten`` reads a record with these top-level keys (in order): the first key of
    each field, and the last key of the ``properties`` bag (None: no bag)."""
    top: dict[str, str] = {}
    props: str | None = None
    for key in keys:
        if not isinstance(key, str):
            continue
        field = _role(key)
        if field is _PROPERTIES:
            props = key
        elif field is not None and field not in top:
            top[field] = key
    return tuple((key, field) for field, key in top.items()), props


def _props_plan(keys: tuple[object, ...]) -> tuple[tuple[str, str], ...]:
    """The keys of a ``properties`` bag that map to a field, in order, with their fields."""
    out: list[tuple[str, str]] = []
    for key in keys:
        if isinstance(key, str):
            field = _role(key)
            if field is not None and field is not _PROPERTIES:
                out.append((key, field))
    return tuple(out)


def _planned(cache: dict[tuple[object, ...], _P], keys: tuple[object, ...],
             make: Callable[[tuple[object, ...]], _P]) -> _P:
    """``make(keys)``, remembered in ``cache`` (up to ``_PLANS_LIMIT`` key tuples)."""
    plan = cache.get(keys)
    if plan is None:
        plan = make(keys)
        if len(cache) < _PLANS_LIMIT:
            cache[keys] = plan
    return plan


def _flatten(record: Mapping[str, object]) -> dict[str, object]:
    """Known fields from the top level and the ``properties`` bag, by normalised key: at the
    top level the first key of each field; from the bag each key of a field whose value so
    far is empty (``clean``). The plan of each key tuple is made once (``_plan``)."""
    top, props_key = _planned(_PLANS, tuple(record), _plan)
    out: dict[str, object] = {field: record[key] for key, field in top}
    if props_key is not None:
        props = record[props_key]
        if isinstance(props, Mapping):
            for key, field in _planned(_PROPS_PLANS, tuple(props), _props_plan):
                existing = out.get(field)  # clean(None) is "": no call for an absent field
                if existing is None or clean(existing) == "":
                    out[field] = props[key]
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
    return parse_fields(flatten_record(record))


def flatten_record(record: Mapping[str, object]) -> dict[str, object]:
    """The record's known fields by name (``parse_fields`` reads them)."""
    return _flatten(record)


def parse_fields(fields: Mapping[str, object]) -> PullEvent:
    """``parse_record`` of a record whose fields (``flatten_record``) are ``fields``."""
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
    result, description = read_result(fields.get("result_type"),
                                      fields.get("result_description"))
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


# --------------------------------------------------------------------------- duplicates
# The same event given twice (the archive and a Log Analytics export of the same hours) is
# counted once: events are compared by a 64-bit fingerprint of their correlation ID,
# operation and time. This is the definition; the compiled scanner (``_archivescan.c``) makes
# it from a line's raw bytes, and tests/adapters/test_log_damage.py holds the two to the same
# duplicates.

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)
FINGERPRINT_PERIOD = 900
"""Seconds: times are compared modulo 15 minutes, so an export in the browser's local time
(``TimeGenerated [Local Time]``, offset unknown) still matches the archive: every UTC offset
in use is a whole number of quarter hours."""


def fingerprint(correlation_id: str, operation: str, time: datetime | None) -> int:
    """An event's identity across inputs: a non-zero 64-bit hash (``hash`` of bytes: one
    process's runs agree, no two processes need to) of its correlation ID and operation
    (case ignored) and its time's second modulo ``FINGERPRINT_PERIOD``; 0 for an event
    without a correlation ID, which is never a duplicate. Values as ``parse_fields`` gives
    them (``clean``)."""
    if not correlation_id:
        return 0
    when = b"-" if time is None else b"%d" % ((time - _EPOCH) // _SECOND % FINGERPRINT_PERIOD)
    data = b"\x1f".join((correlation_id.lower().encode("utf-8"),
                         operation.lower().encode("utf-8"), when))
    return (hash(data) & 0xFFFF_FFFF_FFFF_FFFF) or 1


def event_fingerprint(event: PullEvent) -> int:
    return fingerprint(event.correlation_id, event.operation, event.time)
