"""The document walk: every resource dict in a decoded JSON document, whatever its container.

A single resource, a list, an ARM list ``{"value": [...]}``, a Resource Graph result
``{"data": [...]}`` (object array or table), a REST API example file (its 200/201 response
body), nested in any way. Also tells ARM resources from registry logs, for the readers'
"did you mean" hints. Pure: problems with the containers are inventory issues.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from pullpath.core.inventory.fields import json_kind, lookup, norm_key
from pullpath.domain.iac import IacKind
from pullpath.domain.inventory import InventoryIssue
from pullpath.domain.resource_id import parse_resource_id

__all__ = [
    "MAX_DEPTH",
    "code_hint",
    "code_kind_of",
    "iter_resources",
    "logs_hint",
    "looks_like_inventory",
]

MAX_DEPTH: Final = 64
"""Deepest container nesting :func:`iter_resources` follows (lists in lists, value in data...)."""


def _pointer(base: str, *parts: object) -> str:
    tail = "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)
    return f"{base}/{tail}" if "#" in base else f"{base}#/{tail}"


def _looks_like_resource(doc: Mapping[Any, object]) -> bool:
    if "id" in doc:
        return True
    rtype = doc.get("type")
    return isinstance(rtype, str) and "/" in rtype


def iter_resources(
    doc: object, location: str, issues: list[InventoryIssue] | None = None
) -> Iterator[tuple[str, dict[str, object]]]:
    """Every resource dict in ``doc`` with its location label (``file.json#/value/3``).

    Problems with the containers (a ``value`` that is not a list, a scalar where a resource
    should be, an incomplete page) are appended to ``issues`` when a list is given.
    """
    sink: list[InventoryIssue] = issues if issues is not None else []
    yield from _unwrap(doc, location, sink, 0)


def _unwrap(
    doc: object, loc: str, issues: list[InventoryIssue], depth: int
) -> Iterator[tuple[str, dict[str, object]]]:
    def issue(problem: str) -> None:
        issues.append(InventoryIssue(loc, "", problem))

    if depth > MAX_DEPTH:
        issue(f"containers nested more than {MAX_DEPTH} levels deep: not read")
        return
    if isinstance(doc, list):
        for i, item in enumerate(doc):
            yield from _unwrap(item, _pointer(loc, i), issues, depth + 1)
        return
    if not isinstance(doc, dict):
        issue(f"not a resource: a JSON {json_kind(doc)}")
        return
    responses = doc.get("responses")
    if isinstance(responses, dict) and (
        "parameters" in doc or any(str(k).isdigit() for k in responses)
    ):
        for code in ("200", "201"):
            response = responses.get(code)
            if isinstance(response, dict) and response.get("body") is not None:
                body_loc = _pointer(loc, "responses", code, "body")
                yield from _unwrap(response["body"], body_loc, issues, depth + 1)
                return
        issue("REST API example without a 200/201 response body: no resource in it")
        return
    if _looks_like_resource(doc):
        yield loc, doc
        return
    if "value" in doc:
        value = doc["value"]
        next_link = doc.get("nextLink")
        if isinstance(next_link, str) and next_link:
            issue(
                "ARM list has a nextLink: only this page is in the input, later pages are missing"
            )
        if isinstance(value, list):
            for i, item in enumerate(value):
                yield from _unwrap(item, _pointer(loc, "value", i), issues, depth + 1)
        else:
            issue(f"'value' is a JSON {json_kind(value)}, not a list of resources")
        return
    if "data" in doc:
        yield from _unwrap_graph(doc, loc, issues, depth)
        return
    keys = ", ".join(sorted(str(k) for k in doc)[:8])
    issue(f"no resources found (an object with keys: {keys or 'none'})")


def _unwrap_graph(
    doc: dict[str, object], loc: str, issues: list[InventoryIssue], depth: int
) -> Iterator[tuple[str, dict[str, object]]]:
    """Resource Graph ``{"data": ...}``: objectArray (a list) or table (columns and rows)."""
    for key in ("$skipToken", "skipToken", "skip_token"):
        token = doc.get(key)
        if isinstance(token, str) and token:
            issues.append(
                InventoryIssue(
                    loc, "", "Resource Graph result has a skip token: later pages are missing"
                )
            )
            break
    if str(doc.get("resultTruncated", "")).lower() == "true":
        issues.append(InventoryIssue(loc, "", "Resource Graph result is truncated"))
    data = doc["data"]
    if isinstance(data, list):
        for i, item in enumerate(data):
            yield from _unwrap(item, _pointer(loc, "data", i), issues, depth + 1)
        return
    if isinstance(data, dict) and isinstance(data.get("rows"), list):
        columns = data.get("columns")
        names: list[str] = []
        if isinstance(columns, list):
            for col in columns:
                name = col.get("name") if isinstance(col, dict) else col
                names.append(name if isinstance(name, str) else "")
        if not names or not all(names):
            issues.append(InventoryIssue(loc, "", "Resource Graph table without usable columns"))
            return
        rows = data["rows"]
        assert isinstance(rows, list)
        for i, row in enumerate(rows):
            row_loc = _pointer(loc, "data", "rows", i)
            if not isinstance(row, list) or len(row) != len(names):
                issues.append(
                    InventoryIssue(
                        row_loc, "", f"table row is not a list of {len(names)} cells: not read"
                    )
                )
                continue
            yield from _unwrap(dict(zip(names, row, strict=True)), row_loc, issues, depth + 1)
        return
    issues.append(
        InventoryIssue(loc, "", f"'data' is a JSON {json_kind(data)}, not resources or a table")
    )


_SAMPLE: Final = 5
"""Items of a document looked at to tell logs from inventory."""


def _items(doc: object, *keys: str) -> list[object]:
    """The first items of a list, or of the list under one of ``keys`` of an object (the
    object itself when it has none)."""
    if isinstance(doc, list):
        return doc[:_SAMPLE]
    if isinstance(doc, Mapping):
        for key in keys:
            value = lookup(doc, key)
            if isinstance(value, list):
                return value[:_SAMPLE]
        return [doc]
    return []


def _arm_resource(item: object) -> bool:
    """An ARM resource: an ``id`` that is a resource ID and a ``type`` with a namespace."""
    if not isinstance(item, Mapping):
        return False
    rid, rtype = lookup(item, "id"), lookup(item, "type")
    return (isinstance(rid, str) and parse_resource_id(rid) is not None
            and isinstance(rtype, str) and "/" in rtype)


def looks_like_inventory(doc: object) -> bool:
    """Is a decoded JSON document ARM resources (``az resource list``, ``az graph query``, an
    ARM list or a single resource) rather than registry logs? For the logs reader's "did you
    mean --inventory" hint."""
    items = _items(doc, "value", "data")
    return bool(items) and all(_arm_resource(i) for i in items)


def code_kind_of(doc: object) -> IacKind | None:
    """Is a decoded JSON document infrastructure code rather than resources? An ARM deployment
    template has ``resources`` and a ``deploymentTemplate`` schema (or a ``contentVersion``);
    a Terraform plan has ``format_version`` and planned values or resource changes."""
    if not isinstance(doc, Mapping):
        return None
    schema = doc.get("$schema")
    if "resources" in doc and (
        (isinstance(schema, str) and "deploymenttemplate" in schema.lower())
        or "contentVersion" in doc
    ):
        return IacKind.ARM
    if "format_version" in doc and ("planned_values" in doc or "resource_changes" in doc):
        return IacKind.TERRAFORM_PLAN
    return None


def code_hint(doc: object) -> str:
    """The inventory reader's "did you mean --template" hint ("" for resources)."""
    kind = code_kind_of(doc)
    if kind is IacKind.ARM:
        return ("an ARM deployment template, not ARM resources: not read as inventory "
                "(explain it before deploying with --template)")
    if kind is IacKind.TERRAFORM_PLAN:
        return ("a Terraform plan, not ARM resources: not read as inventory (explain it with "
                "--terraform-plan)")
    return ""


def logs_hint(doc: object) -> str:
    """What registry logs ``doc`` holds, when it is logs rather than ARM resources (archive
    records, ``{"records": [...]}``, a Log Analytics export or query response); "" when it is
    not. For the inventory reader's "did you mean --logs" hint."""
    from pullpath.core.records import RecordError, parse_record

    tables = lookup(doc, "tables") if isinstance(doc, Mapping) else None
    if isinstance(tables, list):
        for table in tables[:_SAMPLE]:
            columns = lookup(table, "columns") if isinstance(table, Mapping) else None
            names = {norm_key(c["name"]) for c in columns if isinstance(c, Mapping)
                     and isinstance(c.get("name"), str)} if isinstance(columns, list) else set()
            if "operationname" in names and names & {"calleripaddress", "loginserver"}:
                return "a Log Analytics query response of registry events"
        return ""
    items = _items(doc, "records")
    if not items or any(_arm_resource(i) for i in items):
        return ""
    found: list[str] = []
    for item in items:
        try:
            found.append(parse_record(item).table.value)
        except RecordError:
            continue
    if not found:
        return ""
    return f"registry log records ({', '.join(dict.fromkeys(found))})"

