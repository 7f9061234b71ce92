"""Fuzz targets: one function per reader, each taking raw bytes and checking the invariants.

Shared by the atheris harness (``fuzz/run.py``, long runs) and the test suite
(``tests/test_fuzz_readers.py``, a short bounded hypothesis run). A target returns normally
for any input; an exception or a failed ``check`` is a finding.

Invariants checked for every input:

- readers never raise anything but their documented input error (``ServiceTagError`` for a
  service-tag file that is not one); everything else is a counted skip or an issue;
- log accounting: records seen = events read + events skipped, in total and per file, and
  per-reason counts add up to the skipped total;
- every output format renders, JSON parses with a strict parser and is valid UTF-8, CSV cells
  never start a formula, terminal output carries no escape or control sequence from the input.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import tempfile
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import orjson

from pullpath.adapters.inventory_files import decode_json, read_inventory
from pullpath.adapters.logs_files import read_file
from pullpath.adapters.servicetags_files import load_service_tags, read_service_tags_json
from pullpath.core.inventory_parse import inventory_from_documents
from pullpath.core.records import RecordError, parse_record
from pullpath.core.servicetags import ServiceTagError, TagIndex, parse_service_tags
from pullpath.domain.events import PullEvent, ReadStats
from pullpath.domain.inventory import Inventory
from pullpath.formatters.audit_doc import AuditReport

__all__ = ["TARGETS", "FuzzFinding", "check", "check_outputs", "check_stats"]

_CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
# what rich itself may emit on a colour terminal: SGR colour/style sequences only
_RICH_SGR = re.compile(r"\x1b\[[0-9;]*m")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class FuzzFinding(AssertionError):
    """An invariant that does not hold for an input."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise FuzzFinding(message)


# --------------------------------------------------------------------------- scratch files


@lru_cache(maxsize=1)
def _scratch_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="pullpath-fuzz-"))


def _scratch(data: bytes, name: str) -> Path:
    path = _scratch_dir() / name
    path.write_bytes(data)
    return path


@lru_cache(maxsize=1)
def small_tags() -> TagIndex:
    """A small real service-tag index (the AzureCloud.japaneast tag of the seed corpus)."""
    seed = Path(__file__).parent / "corpus" / "servicetags" / "AzureCloud.japaneast.serviceTag.json"
    doc = orjson.loads(seed.read_bytes())
    return TagIndex.build(parse_service_tags(doc, source="fuzz seed"))


# --------------------------------------------------------------------------- invariants


def check_stats(stats: ReadStats) -> None:
    """records seen = events read + events skipped, in total, per file and per reason."""
    check(
        stats.records_seen == stats.events_read + stats.events_skipped,
        f"records {stats.records_seen} != read {stats.events_read} + skipped "
        f"{stats.events_skipped}",
    )
    check(stats.events_skipped == sum(stats.skipped.values()), "per-reason counts do not add up")
    check(all(n > 0 for n in stats.skipped.values()), "a reason counted zero times")
    per_read = sum(f["events_read"] for f in stats.per_file.values())
    per_skip = sum(f["events_skipped"] for f in stats.per_file.values())
    per_records = sum(f["records"] for f in stats.per_file.values())
    check(per_read == stats.events_read, "per-file events_read do not add up")
    check(per_skip == stats.events_skipped, "per-file events_skipped do not add up")
    check(per_records == stats.records_seen, "per-file records do not add up")
    for name, f in stats.per_file.items():
        check(f["records"] == f["events_read"] + f["events_skipped"], f"{name}: identity broken")


def _report(stats: ReadStats, events: list[PullEvent]) -> AuditReport:
    from pullpath.workflows.audit import audit_events

    return audit_events(events, stats, inventory=Inventory(), tags=small_tags())


def check_outputs(report: AuditReport) -> dict[str, str]:
    """Render every available audit format and check that none can be turned against its
    reader. Returns the rendered texts by format name."""
    from rich.console import Console

    from pullpath.formatters import registry
    from pullpath.formatters.simple import audit_csv, audit_json
    from pullpath.formatters.table import render_audit

    out: dict[str, str] = {}
    text = audit_json(report)
    data = text.encode("utf-8")  # strict: a lone surrogate raises here
    doc = orjson.loads(data)
    check(isinstance(doc, dict) and doc.get("schema") == "pullpath.audit/v1", "bad JSON document")
    out["json"] = text

    text = audit_csv(report)
    text.encode("utf-8")
    for row in csv.reader(io.StringIO(text, newline="")):
        for cell in row:
            check(not cell.startswith(_CSV_TRIGGERS), f"CSV cell starts a formula: {cell[:40]!r}")
    out["csv"] = text

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, color_system="truecolor", width=200,
                      legacy_windows=False)
    render_audit(report, console)
    text = buffer.getvalue()
    text.encode("utf-8")
    bare = _RICH_SGR.sub("", text)
    escape_at = bare.find("\x1b")
    check(escape_at < 0, f"escape sequence in terminal output: {bare[escape_at:][:40]!r}")
    check(not _CONTROL.search(bare), "control character in terminal output")
    out["table"] = text

    for fmt in ("markdown", "html"):
        renderer = registry.audit_renderer(fmt)
        if renderer is None:
            continue
        text = renderer(report)
        text.encode("utf-8")
        out[fmt] = text
    return out


# --------------------------------------------------------------------------- targets


def fuzz_logs(data: bytes, *, render: bool = True) -> ReadStats:
    """Any bytes as a log file: read, account, render."""
    path = _scratch(data, "PT1H.json")
    stats = ReadStats()
    events = list(read_file(path, stats))
    check_stats(stats)
    check(len(events) == stats.events_read, "events yielded != events_read")
    check(str(path) in stats.per_file, "file not accounted")
    if render:
        check_outputs(_report(stats, events))
    return stats


def fuzz_record(data: bytes) -> None:
    """Any JSON value as one record: an event or a RecordError, nothing else."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return
    try:
        event = parse_record(value)
    except RecordError as exc:
        check(bool(exc.reason), "RecordError without a reason")
        return
    for name in ("operation", "caller_ip", "identity", "repository", "tag", "user_agent"):
        value = getattr(event, name)
        check(isinstance(value, str), f"{name} is not text")
        value.encode("utf-8")  # no lone surrogates in an event


def fuzz_service_tags(data: bytes) -> None:
    """Any bytes as a service-tag file: an index or a ServiceTagError, nothing else."""
    try:
        doc = read_service_tags_json(data, "fuzz")
    except ServiceTagError:
        doc = None
    if doc is not None:
        with contextlib.suppress(ServiceTagError):
            TagIndex.build(parse_service_tags(doc, source="fuzz"))
    path = _scratch(data, "ServiceTags_Public_20251028.json")
    try:
        index = load_service_tags(path, use_cache=False)
    except ServiceTagError:
        return
    index.lookup("10.0.0.1")
    index.lookup("2001:db8::1")


def fuzz_inventory(data: bytes) -> None:
    """Any bytes as an inventory file: an Inventory (with issues), never an exception."""
    try:
        doc = decode_json(data)
    except ValueError:
        doc = None
    if doc is not None:
        inventory_from_documents([("fuzz.json", doc)])
    path = _scratch(data, "inventory.json")
    inv = read_inventory([path])
    check(isinstance(inv, Inventory), "read_inventory returned no Inventory")


def fuzz_logs_read(data: bytes) -> ReadStats:
    """``fuzz_logs`` without rendering the outputs (many more inputs per second)."""
    return fuzz_logs(data, render=False)


TARGETS: dict[str, Callable[[bytes], object]] = {
    "logs": fuzz_logs,
    "logs-read": fuzz_logs_read,
    "records": fuzz_record,
    "servicetags": fuzz_service_tags,
    "inventory": fuzz_inventory,
}


def cleanup() -> None:
    """Remove the scratch directory (tests call it at the end)."""
    directory = _scratch_dir()
    for child in directory.iterdir():
        child.unlink(missing_ok=True)
    os.rmdir(directory)
    _scratch_dir.cache_clear()
