"""Fuzz targets: one function per reader, each taking raw bytes and checking the invariants.

Shared by the atheris harness (``fuzz/run.py``, long runs) and the test suite
(``tests/adapters/test_fuzz_readers.py``, a short bounded hypothesis run). A target returns normally
for any input; an exception or a failed ``check`` is a finding.

Invariants checked for every input:

- readers never raise anything but their documented input error (``ServiceTagError`` for a
  service-tag file that is not one); everything else is a counted skip or an issue;
- log accounting: records seen = events read + events skipped, in total and per file, and
  per-reason counts add up to the skipped total;
- every output format renders, JSON parses with a strict parser and is valid UTF-8, CSV cells
  never start a formula, terminal output carries no escape or control sequence from the input;
- the compiled archive scanner (``pullpath.core._archivescan``, target ``archivescan``): the
  fast route gives exactly the reference route's groups and accounting, and every line the
  scanner counts is one orjson decodes, of one outcome (``parse_record``) per group.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import os
import re
import tempfile
import zlib
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

from pullpath.adapters.inventory_files import decode_json, read_inventory
from pullpath.adapters.logs_files import MAX_LINE_BYTES, read_file
from pullpath.adapters.servicetags_files import load_service_tags, read_service_tags_json
from pullpath.core.groups import Aggregator, CallerKeys, GroupKey, group_key
from pullpath.core.inventory import inventory_from_documents
from pullpath.core.records import RecordError, parse_record, parse_time
from pullpath.core.servicetags import ServiceTagError, TagIndex, parse_service_tags
from pullpath.domain.events import PullEvent, ReadStats
from pullpath.domain.inventory import Inventory
from pullpath.domain.report import AuditReport

__all__ = [
    "ASK_ALL",
    "TARGETS",
    "FuzzFinding",
    "ScanCheck",
    "accounting",
    "check",
    "check_outputs",
    "check_routes",
    "check_scanner",
    "check_stats",
    "fast_route",
    "production_ask",
    "reference_route",
    "snapshot",
]

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

    from pullpath.formatters.html import audit_html
    from pullpath.formatters.markdown import audit_markdown
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

    for fmt, renderer in (("markdown", audit_markdown), ("html", audit_html)):
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


# --------------------------------------------------------------------------- archive scanner
# The compiled scanner takes only the lines it can prove it reads like orjson + parse_record and
# hands the rest back to Python. Two oracles: the routes (fast vs event by event: the same
# groups, the same accounting), and the scanner alone (every line it counts is one orjson
# decodes, and all lines it puts in one group have one parse_record outcome).

GroupSnapshot = dict[GroupKey, tuple[int, datetime | None, datetime | None]]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _compiled_scanner() -> type | None:
    try:
        from pullpath.core._archivescan import Scanner
    except ImportError:
        return None
    return Scanner


ASK_ALL = bytes([1]) * 256
"""``ask_octets`` asking Python about every IPv4 caller with a port."""


def production_ask() -> bytes:
    """The ``ask_octets`` the fast route passes (first octets whose addresses may be
    unroutable: the others' ports never change their flow address)."""
    from pullpath.adapters import logs_fast

    ask = getattr(logs_fast, "_ASK_OCTETS", ASK_ALL)
    return bytes(ask)


def new_scanner(max_groups: int, max_line: int, ask: bytes = ASK_ALL) -> Any:
    """A compiled ``Scanner`` (the module must be built)."""
    scanner_type = _compiled_scanner()
    assert scanner_type is not None
    return scanner_type(max_groups, max_line, ask)


def scanner_groups(scanner: Any) -> list[tuple[int, int | None, int | None]]:
    """``Scanner.groups()`` (four bytes objects of int64) as (count, first, last) per group
    id, None for no time. A scanner with its own catalog: its groups are the catalog's, ids in
    the order it met them."""
    ids, counts, firsts, lasts = (array("q", part).tolist() for part in scanner.groups())
    check(ids == list(range(len(ids))), f"group ids {ids[:10]} not those of its own catalog")
    none_first, none_last = (1 << 63) - 1, -(1 << 63)
    return [(c, None if f == none_first else f, None if la == none_last else la)
            for c, f, la in zip(counts, firsts, lasts, strict=True)]


def snapshot(aggregator: Aggregator) -> GroupSnapshot:
    return {k: (s.count, s.first, s.last) for k, s in aggregator.groups.items()}


def accounting(stats: ReadStats) -> dict[str, object]:
    """Everything a ``ReadStats`` says, comparable with ``==`` (the examples with their
    locations and details, the per-file counts, the ignored inputs)."""
    return {
        "files": list(stats.files),
        "records_seen": stats.records_seen,
        "events_read": stats.events_read,
        "skipped": dict(stats.skipped),
        "per_file": {f: dict(v) for f, v in stats.per_file.items()},
        "examples": list(stats.examples),
        "ignored": dict(stats.ignored),
        "duplicates": dict(stats.duplicates),
        "local_time_files": list(stats.local_time_files),
    }


def reference_route(paths: list[Path]) -> tuple[Aggregator, ReadStats]:
    """Event by event: ``read_events`` into an ``Aggregator``."""
    from pullpath.adapters.logs_files import read_events

    stats = ReadStats()
    return Aggregator().add_all(read_events(paths, stats)), stats


def fast_route(paths: list[Path], workers: int = 1,
               split_bytes: int | None = None) -> tuple[Aggregator, ReadStats]:
    """``scan_logs`` (the compiled tier when built and not switched off; ``split_bytes``:
    files larger are read in ranges of about that size, with more than one worker)."""
    from pullpath.adapters.logs_scan import scan_logs

    stats = ReadStats()
    return scan_logs(paths, stats, workers=workers, split_bytes=split_bytes), stats


def _first_difference(got: GroupSnapshot, want: GroupSnapshot) -> str:
    for key in sorted(set(got) | set(want), key=repr):
        if got.get(key) != want.get(key):
            return f"{key}: fast {got.get(key)} reference {want.get(key)}"
    return ""


def check_routes(fast: tuple[Aggregator, ReadStats], reference: tuple[Aggregator, ReadStats],
                 label: str = "fast") -> None:
    """The same groups (count, first, last) and the same accounting."""
    got, want = snapshot(fast[0]), snapshot(reference[0])
    check(got == want, f"{label}: groups differ: {_first_difference(got, want)}")
    check(fast[0].overflow_events == reference[0].overflow_events,
          f"{label}: overflow {fast[0].overflow_events} != {reference[0].overflow_events}")
    check(fast[0].events == fast[1].events_read,
          f"{label}: {fast[0].events} events counted, {fast[1].events_read} read")
    a, b = accounting(fast[1]), accounting(reference[1])
    for field_name, value in a.items():
        check(value == b[field_name],
              f"{label}: {field_name} differs: fast {value!r:.600} reference "
              f"{b[field_name]!r:.600}")
    check_stats(fast[1])


@dataclass
class ScanCheck:
    """What ``check_scanner`` saw: per line its outcome (group id >= 0, -1 fallback, -2
    overflow), the lines themselves and the groups."""

    lines: list[bytes] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)
    groups: list[tuple[int, int | None, int | None]] = field(default_factory=list)

    @property
    def counted(self) -> int:
        return sum(1 for i in self.ids if i >= 0)


def _micros(when: datetime) -> int:
    return (when - _EPOCH) // timedelta(microseconds=1)


def _outcome(record: dict[str, object], callers: CallerKeys) -> tuple[object, int | None]:
    """What the reference makes of one decoded record: its group (caller keyed as
    ``Aggregator.add`` keys it) or its error, and the time of its "time" key in microseconds
    (None without one)."""
    parsed = parse_time(record["time"]) if "time" in record else None
    when = None if parsed is None else _micros(parsed)
    try:
        event = parse_record(record)
    except RecordError as exc:
        return ("error", exc.reason, exc.detail), when
    check(event.time == parsed, "the event's time is not its record's")
    return group_key(event, callers.canonical(event.caller_ip)), when


def check_scanner(data: bytes, *, max_groups: int = 1 << 20, max_line: int = MAX_LINE_BYTES,
                  cuts: list[int] | None = None, ask: bytes | None = None) -> ScanCheck:
    """Scan ``data`` with the compiled scanner the way ``logs_fast`` does (in buffers ending at
    ``cuts``, judging hosts as it does; ``ask``: its ``ask_octets``, by default the fast
    route's) and check every answer against orjson and ``parse_record``. Returns what it saw
    (an empty ``ScanCheck`` when the module is not built).
    """
    out = ScanCheck()
    if _compiled_scanner() is None:
        return out
    scanner = new_scanner(max_groups, max_line, production_ask() if ask is None else ask)
    callers = CallerKeys()
    ends = sorted({c for c in (cuts or []) if 0 <= c <= len(data)} | {len(data)})
    done = 0
    firsts: dict[int, int] = {}  # gid -> its first line (from news)
    template_of: dict[int, int] = {}  # gid -> its template id (from news)
    family_of: dict[int, int] = {}  # template id -> its family id (from news)
    for cut in ends:
        if cut < done:
            continue
        while True:
            part = memoryview(data)[done:cut]
            consumed, groups, news, fallbacks, host = scanner.scan(part)
            block = data[done : done + consumed]
            check(consumed == 0 or block.endswith(b"\n"), f"consumed {consumed}: mid-line")
            check(len(groups) % 4 == 0, "line_groups is not int32s")
            ids = array("i", groups).tolist()
            pieces = block.split(b"\n")[:-1] if consumed else []
            check(len(ids) == len(pieces), f"{len(ids)} outcomes for {len(pieces)} lines")
            base = len(out.lines)
            offsets, at = [], 0
            for piece in pieces:
                offsets.append((at, at + len(piece)))
                at += len(piece) + 1
            want_fallbacks = [(i, *offsets[i]) for i, g in enumerate(ids) if g == -1]
            check([tuple(f) for f in fallbacks] == want_fallbacks,
                  f"fallbacks {fallbacks[:5]} != {want_fallbacks[:5]}")
            for gid, template_id, line, start, end, identity, caller, family, text in news:
                check(gid == len(firsts) and ids[line] == gid, f"news for group {gid} wrong")
                check(offsets[line] == (start, end), f"news offsets of group {gid} wrong")
                check(0 <= template_id <= len(set(template_of.values())),
                      f"template id {template_id} of group {gid} out of order")
                check(family_of.setdefault(template_id, family) == family,
                      f"template {template_id} in two families")
                check(0 <= family <= len(set(family_of.values())),
                      f"family id {family} of template {template_id} out of order")
                firsts[gid] = base + line
                template_of[gid] = template_id
                record = orjson.loads(pieces[line])
                check(identity == record.get("identity"), f"identity {identity!r} wrong")
                check(caller == record.get("callerIpAddress"), f"caller {caller!r} wrong")
                check(text == record.get("resultDescription"), f"description {text!r} wrong")
            for g in ids:
                check(g >= -2, f"line outcome {g}")
            out.lines.extend(pieces)
            out.ids.extend(ids)
            done += consumed
            if host < 0:
                break
            check(0 <= host <= 0xFFFFFFFF, f"host {host}")
            dotted = ".".join(str(host >> s & 255) for s in (24, 16, 8, 0))
            scanner.set_host(host, callers.canonical(dotted + ":1") == dotted)
    check(done == data.rfind(b"\n") + 1, f"{done} bytes consumed of {len(data)}: lines left")
    out.groups = scanner_groups(scanner)
    check(len(out.groups) == len(firsts) == scanner.group_count <= max_groups,
          "group count differs from the news")
    # every counted line: JSON orjson reads, of its group's outcome, times as Python reads them
    outcomes: dict[int, object] = {}
    times: dict[int, list[int]] = {}
    counts: dict[int, int] = {}
    for number, (line, gid) in enumerate(zip(out.lines, out.ids, strict=True)):
        if gid == -2:
            check(len(out.groups) >= max_groups, "overflow below the group cap")
            continue
        if gid < 0:
            continue
        check(gid < len(out.groups), f"group {gid} unknown")
        check(number >= firsts[gid], f"line {number} counted before its group's first line")
        check(len(line) <= max_line, "a line over max_line counted")
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise FuzzFinding(f"line {number} counted but orjson refuses it ({exc}): "
                              f"{line[:200]!r}") from None
        check(type(record) is dict, f"line {number} counted but not an object")
        outcome, when = _outcome(record, callers)
        first = outcomes.setdefault(gid, outcome)
        check(outcome == first, f"line {number} in group {gid} reads as {outcome}, the group's "
                                f"first line as {first}: {line[:300]!r}")
        counts[gid] = counts.get(gid, 0) + 1
        if when is not None:
            times.setdefault(gid, []).append(when)
        check(("time" in record) == (when is not None), f"line {number}: time lost")
    # groups of one template read alike but for their identity and caller
    by_template: dict[int, object] = {}
    for gid, outcome in outcomes.items():
        alike = (outcome if not isinstance(outcome, GroupKey)
                 else outcome._replace(caller_ip="", identity=""))
        first_alike = by_template.setdefault(template_of[gid], alike)
        check(alike == first_alike, f"group {gid} of template {template_of[gid]} reads as "
                                    f"{alike}, another of its template as {first_alike}")
    # templates of one family read alike but for their result too
    by_family: dict[int, object] = {}
    for gid, outcome in outcomes.items():
        alike = (outcome if not isinstance(outcome, GroupKey) else outcome._replace(
            caller_ip="", identity="", result="", result_description=""))
        family = family_of[template_of[gid]]
        first_alike = by_family.setdefault(family, alike)
        check(alike == first_alike, f"group {gid} of family {family} reads as {alike}, "
                                    f"another of its family as {first_alike}")
    for gid, (count, first_us, last_us) in enumerate(out.groups):
        check(count == counts.get(gid, 0), f"group {gid}: count {count} != {counts.get(gid)}")
        seen = times.get(gid)
        want = (min(seen), max(seen)) if seen else (None, None)
        check((first_us, last_us) == want, f"group {gid}: times {(first_us, last_us)} != {want}")
    return out


def fuzz_archivescan(data: bytes) -> None:
    """Any bytes as a JSON-lines file: the compiled scanner alone (``check_scanner``), then the
    fast route (compiled tier, one worker) against the reference route."""
    check_scanner(data)
    if data.startswith(b"\x1f\x8b"):
        with contextlib.suppress(OSError, EOFError, zlib.error):
            check_scanner(gzip.decompress(data))
    path = _scratch(data, "PT1H.json")
    check_routes(fast_route([path]), reference_route([path]), "compiled")


TARGETS: dict[str, Callable[[bytes], object]] = {
    "logs": fuzz_logs,
    "logs-read": fuzz_logs_read,
    "archivescan": fuzz_archivescan,
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
