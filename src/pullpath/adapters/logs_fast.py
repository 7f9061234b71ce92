"""The fast route for JSON lines: records counted into groups, never one ``PullEvent`` each.

``FastScanner.json_lines`` reads a JSON-lines stream with exactly the outcome of the
event-by-event reader (``logs_files._read_json_lines`` + ``parse_record``): the same lines and
numbers, the same events, the same skips with the same reasons. It has three tiers; each falls
back to the next for anything it cannot prove it reads the same way:

1. **Blocks** of about 1 MiB go to msgspec's ``decode_lines`` with a typed decoder of the
   diagnostic archive's record (``_Record``): only the keys Azure writes, strings where a
   field is read, unknown keys refused. A block qualifies only if every line starts with ``{``
   and ends with ``}`` (so no record can span lines or share one: ``} {`` is never valid
   inside a value) and is at most ``_TYPED_LINE_MAX`` bytes (so no nesting beyond what orjson
   accepts). msgspec refuses all orjson refuses (invalid UTF-8, lone surrogates, NaN,
   trailing commas, numbers out of range) and, like orjson, keeps the last of duplicate keys.
   A block that fails is cut in two until the failing lines are isolated.
2. **Lines** that tier 1 left: orjson, then the record's key tuple (``RecordShape``) picks the
   raw values that decide its group.
3. **Anything else** (another shape, an object where a string should be, an undecodable line)
   goes through ``parse_record`` whole, exactly as in the event-by-event reader.

A group's raw key is resolved to a ``GroupKey`` (or the error of its records) by
``parse_record`` once, on the line as the event-by-event reader decodes it
(``core.audit.RawGroups``); typed raw keys that differ only in identity and caller share that
resolution (``FastScanner.templates``). Times are read per record with
``datetime.fromisoformat`` when they are plain UTC ISO 8601, else by ``parse_record``.
Memory grows with distinct raw keys only (their strings shared: ``FastScanner.strings``).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime
from typing import IO, Any, cast

import msgspec
import numpy as np
import numpy.typing as npt
import orjson
from msgspec import UNSET, Raw, UnsetType

from pullpath.adapters.logs_files import MAX_LINE_BYTES, _loads, _snippet
from pullpath.core.audit import GroupKey, RawGroups, with_caller
from pullpath.core.records import RecordError, clean, parse_record
from pullpath.domain.events import Location, PullEvent, ReadStats, Skip

__all__ = ["FastScanner"]

_BLOCK = 1024 * 1024
_TYPED_LINE_MAX = 2000
"""Tier 1 takes lines up to this long: at most ~1000 nesting levels fit, within what both
orjson and msgspec accept (deeper documents are refused by orjson only)."""
_MIN_BISECT_LINES = 16
_SHAPE_LINE_MAX = 16 * 1024
"""Longer lines skip the fast route: its group keys hold raw values, which such a line could
make megabytes long (memory growing with the input); ``parse_record`` cuts every value to
``MAX_FIELD_CHARS``. Real records are about 1 KiB."""
_GENERAL = object()
_OPEN, _CLOSE, _CR, _NL = 0x7B, 0x7D, 0x0D, 0x0A


class _Props(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """The ``properties`` bag as the diagnostic archive writes it (repository and login
    events). Strings where a group-deciding field is read; the rest kept raw, unread."""

    tag: str | UnsetType = UNSET
    digest: Raw | UnsetType = UNSET
    mediaType: Raw | UnsetType = UNSET
    repository: str | UnsetType = UNSET
    artifactType: Raw | UnsetType = UNSET
    tenantId: Raw | UnsetType = UNSET
    loginServer: str | UnsetType = UNSET
    userAgent: Raw | UnsetType = UNSET
    jwtId: Raw | UnsetType = UNSET
    size: Raw | UnsetType = UNSET


class _Record(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """A diagnostic-archive record (``PT1H.json`` line): exactly the archive's keys."""

    time: str | UnsetType = UNSET
    category: str | UnsetType = UNSET
    resourceId: str | UnsetType = UNSET
    operationName: str | UnsetType = UNSET
    identity: str | UnsetType = UNSET
    location: Raw | UnsetType = UNSET
    level: Raw | UnsetType = UNSET
    resultType: str | UnsetType = UNSET
    resultDescription: str | UnsetType = UNSET
    durationMs: Raw | UnsetType = UNSET
    callerIpAddress: str | UnsetType = UNSET
    correlationId: Raw | UnsetType = UNSET
    properties: _Props | UnsetType = UNSET
    RegionStamp: Raw | UnsetType = UNSET


_DECODER = msgspec.json.Decoder(_Record)


class FastScanner:
    """Counts JSON lines into a ``RawGroups`` (see the module docstring); events of other
    formats arrive one by one through :meth:`add`. ``tick`` is called after every block."""

    TEMPLATES_LIMIT = 200_000

    def __init__(self, sink: RawGroups, tick: Callable[[], None] | None = None) -> None:
        self.sink = sink
        self.tick = tick
        self.templates: dict[tuple[object, ...], GroupKey] = {}
        """A typed raw key without identity and caller -> a group resolved for it."""
        self.strings: dict[str, str] = {}
        """The strings of the stored raw keys, one object per distinct value."""

    def add(self, event: PullEvent) -> None:
        self.sink.general.add(event)

    # ------------------------------------------------------------------ reading blocks

    def json_lines(self, head: bytes, stream: IO[bytes] | io.RawIOBase, name: str,
                   stats: ReadStats) -> None:
        number = 0
        carry = head
        skipping = False  # inside an over-long line: drop bytes up to its newline
        while True:
            chunk = stream.read(_BLOCK) or b""
            if skipping:
                cut = chunk.find(b"\n")
                if cut < 0:
                    if not chunk:
                        break
                    continue
                chunk = chunk[cut + 1 :]
                skipping = False
            data = carry + chunk if chunk else carry
            end = data.rfind(b"\n") + 1
            block, carry = data[:end], data[end:]
            if block:
                number = self._block(block, number, name, stats)
            if len(carry) > MAX_LINE_BYTES:
                number += 1
                stats.count_skip(Skip(Location(name, number), "line-too-long",
                                      f"over {MAX_LINE_BYTES} bytes"))
                carry = b""
                skipping = True
            if self.tick is not None:
                self.tick()
            if not chunk:
                break
        if carry:  # the last line, without a newline
            self._lines([carry], number, True, name, stats)

    def _block(self, block: bytes, number: int, name: str, stats: ReadStats) -> int:
        """Count ``block`` (whole lines, each ending with a newline); returns the number of
        its last line."""
        a = np.frombuffer(block, dtype=np.uint8)
        ends = np.flatnonzero(a == _NL)
        lines = len(ends)
        starts = np.empty(lines, dtype=ends.dtype)
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
        last = a[ends - 1]
        typed = (
            bool(np.all(a[starts] == _OPEN))
            and bool(np.all((last == _CLOSE) | ((last == _CR) & (a[ends - 2] == _CLOSE))))
            and int((ends - starts).max()) <= _TYPED_LINE_MAX
        )
        if typed:
            try:
                records = _DECODER.decode_lines(block)
            except (msgspec.MsgspecError, ValueError, RecursionError):
                records = None
            if records is not None and len(records) == lines:
                self._typed(records, block, starts, ends, number, name, stats)
                return number + lines
        if lines <= _MIN_BISECT_LINES or not _typed_line(block[: int(ends[0]) + 1]):
            # few lines, or the first already fails (another record shape): line by line
            pieces = block.split(b"\n")
            pieces.pop()  # after the last newline
            return self._lines(pieces, number, False, name, stats)
        middle = int(ends[lines // 2 - 1]) + 1
        number = self._block(block[:middle], number, name, stats)
        return self._block(block[middle:], number, name, stats)

    # ------------------------------------------------------------------ tier 1

    def _typed(self, records: list[_Record], block: bytes, starts: npt.NDArray[np.intp],
               ends: npt.NDArray[np.intp], number: int, name: str, stats: ReadStats) -> None:
        sink = self.sink
        groups_get = sink.groups.get
        callers = sink.callers
        fromiso = datetime.fromisoformat
        utc = UTC
        unset = UNSET
        n_read = 0
        try:
            for i, r in enumerate(records):
                number += 1
                ip = r.callerIpAddress
                if ip.__class__ is str and ":" in ip:
                    ip = callers(ip)
                p = r.properties
                if p is unset:
                    key: tuple[object, ...] = (r.category, r.resourceId, r.operationName,
                                               r.resultType, r.resultDescription, r.identity, ip)
                else:
                    key = (r.category, r.resourceId, r.operationName, r.resultType,
                           r.resultDescription, p.repository, p.tag, p.loginServer,
                           r.identity, ip)
                entry = groups_get(key)
                if entry is None:
                    found = self._new_group(key, r, block[starts[i] : ends[i]])
                    if isinstance(found, RecordError):
                        stats.count_skip(Skip(Location(name, number), found.reason, found.detail))
                        continue
                    entry = found
                try:
                    when: datetime | None = fromiso(r.time)  # type: ignore[arg-type]
                except (TypeError, ValueError):
                    when = None
                if when is None or when.tzinfo is not utc:
                    # not plain UTC ISO 8601: parse_record decides (the time, or the error)
                    try:
                        when = parse_record(_loads(block[starts[i] : ends[i]])).time
                    except RecordError as exc:
                        stats.count_skip(Skip(Location(name, number), exc.reason, exc.detail))
                        continue
                entry[0] += 1
                n_read += 1
                if when is not None:
                    first = entry[1]
                    if first is None:
                        entry[1] = entry[2] = when
                    elif when < first:
                        entry[1] = when
                    elif when > entry[2]:
                        entry[2] = when
        finally:
            if n_read:
                stats.count_read(name, n_read)

    def _new_group(self, key: tuple[object, ...], record: _Record,
                   line: bytes) -> list[Any] | RecordError:
        """The group of a typed record's new raw key. ``parse_record`` reads the identity and
        the caller (``key[-2:]``, top-level keys only in this shape) into ``identity`` and
        ``caller_ip`` and nowhere else, so groups that differ in those alone share one
        resolution (``templates``); otherwise ``parse_record`` decides on the line as the
        event-by-event reader decodes it. Errors are never shared: their detail may depend on
        keys outside the raw key."""
        sink = self.sink
        # the stored key shares its strings with the other stored keys: lookups then compare
        # against a few hot strings (much faster, and less memory) instead of cold copies
        pool = self.strings
        key = tuple(pool.setdefault(x, x) if isinstance(x, str) else x
                    for x in key)
        template = self.templates.get(key[:-2])
        if template is not None:
            if len(sink.groups) >= sink.general.max_groups:
                return sink.overflow  # counted, never stored (see RawGroups.resolve)
            caller = record.callerIpAddress
            caller = "" if caller is UNSET else clean(caller)
            identity = record.identity
            entry: list[Any] = [0, None, None, with_caller(
                template, sink.callers(caller), "" if identity is UNSET else clean(identity))]
            sink.groups[key] = entry
            return entry
        found = sink.resolve(key, cast(dict[str, Any], _loads(line)),
                             None if record.time is UNSET else "time", cache_error=False)
        if (not isinstance(found, RecordError) and found is not sink.overflow
                and len(self.templates) < self.TEMPLATES_LIMIT):
            self.templates[key[:-2]] = found[3]
        return found

    # ------------------------------------------------------------------ tiers 2 and 3

    def _lines(self, lines: list[bytes], number: int, final: bool, name: str,
               stats: ReadStats) -> int:
        """Count lines one by one (``final``: the file's last line, without a newline);
        returns the number of the last line."""
        sink = self.sink
        loads = orjson.loads
        decode_error = orjson.JSONDecodeError
        fromiso = datetime.fromisoformat
        utc = UTC
        shapes = sink.shapes
        get_shape = shapes.get
        groups_get = sink.groups.get
        callers = sink.callers
        n_read = 0
        try:
            for line in lines:
                number += 1
                if len(line) > MAX_LINE_BYTES:
                    stats.count_skip(Skip(Location(name, number), "line-too-long",
                                          f"over {MAX_LINE_BYTES} bytes"))
                    continue
                try:
                    record = loads(line)
                except decode_error:
                    record = _undecodable(line, not final, number, name, stats)
                    if record is _GENERAL:
                        continue
                if type(record) is dict and len(line) <= _SHAPE_LINE_MAX:
                    shape = get_shape(tuple(record))
                    if shape is None and tuple(record) not in shapes:
                        shape = sink.shape(record)
                    if shape is not None:
                        ps: Any = shape.bare
                        pv: object = ()
                        pk = shape.props_key
                        if pk is not None:
                            props = record[pk]
                            if type(props) is dict:
                                psig = tuple(props)
                                ps = shape.props.get(psig)
                                if ps is None and psig not in shape.props:
                                    ps = sink.props_shape(shape, props)
                                if ps is not None:
                                    pv = ps.values(props)
                        if ps is not None:
                            ck = shape.caller_key
                            ip = record[ck] if ck is not None else None
                            if type(ip) is str and ":" in ip:
                                ip = callers(ip)
                            key = (ps, shape.values(record), pv, ip)
                            entry: object
                            try:
                                entry = groups_get(key)
                            except TypeError:  # an object or array where a value should be
                                entry = _GENERAL
                            if entry is None:
                                entry = sink.resolve(key, record, shape.time_key)
                            if type(entry) is list:
                                tk = shape.time_key
                                when: datetime | None = None
                                if tk is not None:
                                    value = record[tk]
                                    try:
                                        when = fromiso(value)
                                    except (TypeError, ValueError):
                                        when = None
                                    if when is None or when.tzinfo is not utc:
                                        # not plain UTC ISO 8601: parse_record decides
                                        try:
                                            when = parse_record(record).time
                                        except RecordError as exc:
                                            stats.count_skip(Skip(Location(name, number),
                                                                  exc.reason, exc.detail))
                                            continue
                                entry[0] += 1
                                n_read += 1
                                if when is not None:
                                    first = entry[1]
                                    if first is None:
                                        entry[1] = entry[2] = when
                                    elif when < first:
                                        entry[1] = when
                                    elif when > entry[2]:
                                        entry[2] = when
                                continue
                            if isinstance(entry, RecordError):
                                stats.count_skip(Skip(Location(name, number), entry.reason,
                                                      entry.detail))
                                continue
                # tier 3: the record whole through parse_record
                try:
                    event = parse_record(record)
                except RecordError as exc:
                    stats.count_skip(Skip(Location(name, number), exc.reason, exc.detail))
                    continue
                sink.general.add(event)
                n_read += 1
        finally:
            if n_read:
                stats.count_read(name, n_read)
        return number


def _typed_line(line: bytes) -> bool:
    try:
        _DECODER.decode(line)
    except (msgspec.MsgspecError, ValueError, RecursionError):
        return False
    return True


def _undecodable(line: bytes, ended: bool, number: int, name: str,
                 stats: ReadStats) -> object:
    """What ``_read_json_lines`` makes of a line orjson refused: nothing for a blank line, the
    record the fallback decoder reads, or a counted skip (``_GENERAL`` means nothing to add)."""
    line = line.rstrip(b"\r\n")
    if not line.strip():
        return _GENERAL
    try:
        return _loads(line)
    except orjson.JSONDecodeError:
        if ended:
            stats.count_skip(Skip(Location(name, number), "invalid-json", _snippet(line)))
        else:
            stats.count_skip(
                Skip(Location(name, number), "truncated-line", "last line ends mid-record")
            )
        return _GENERAL
