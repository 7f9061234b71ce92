"""The fast route for JSON lines: records counted into groups, never one ``PullEvent`` each.

``FastScanner.json_lines`` reads a JSON-lines stream with exactly the outcome of the
event-by-event reader (``logs_files._read_json_lines`` + ``parse_record``): the same lines and
numbers, the same events, the same skips with the same reasons. The stream is read into one
reused buffer; each buffer's whole lines go through two tiers, each leaving to the next what it
cannot prove it reads the same way:

1. **Compiled** (``pullpath.core._archivescan``, C): lines of the diagnostic archive's own
   record shape, strict JSON, are counted into groups keyed by their raw deciding values
   without any Python object per line (see the C source's header for exactly what it takes).
   The scanners of one scan share a catalog of group and template ids (one per distinct raw
   key, and per distinct key without its identity and caller): each template is resolved here
   once, by ``parse_record`` on its first line with the time set aside, and each group once as
   its template with its identity and caller. Times are read in C as
   ``datetime.fromisoformat`` reads the archive's ``...T..:..:...fffffffZ``.
2. **Lines**: orjson, then the record's key tuple (``RecordShape``) picks the raw values that
   decide its group; anything else (another shape, an object where a string should be, an
   undecodable line) goes through ``parse_record`` whole.

Without the compiled module (pullpath installed without a C compiler) every line takes tier 2:
the same results, several times slower (``compiled_installed()`` says which; the audit report
warns). Memory grows with distinct groups only, never with events.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt
import orjson

from pullpath.adapters.logs_files import MAX_LINE_BYTES, Duplicates, _loads, _snippet, nul_line
from pullpath.core.audit import (
    Aggregator,
    CallerKeys,
    GroupKey,
    RawGroups,
    port_judged_octets,
    with_caller,
    with_result,
)
from pullpath.core.records import (
    RecordError,
    clean,
    event_fingerprint,
    fields_fingerprint,
    flatten_record,
    parse_record,
    read_result,
)
from pullpath.domain.events import Location, PullEvent, ReadStats, Skip

if TYPE_CHECKING:
    from pullpath.core._archivescan import Catalog, Scanner


def _compiled() -> tuple[type[Scanner], type[Catalog]] | tuple[None, None]:
    try:
        from pullpath.core._archivescan import Catalog, Scanner
    except ImportError:  # built without a C compiler: tier 2 reads everything
        return None, None
    return Scanner, Catalog


_Compiled, _Catalog = _compiled()
if _Compiled is not None:
    from pullpath.core._archivescan import resolve_known as _resolve_known
_ASK_OCTETS = port_judged_octets()

__all__ = ["FastScanner", "Resolutions", "compiled_installed"]


def compiled_installed() -> bool:
    """Whether the compiled tier is installed (pip had a C compiler)."""
    return _Compiled is not None


_FAMILIES_LIMIT = 50_000
"""Template families remembered at most (templates of further families are parsed)."""
_BUFFER = 2 * MAX_LINE_BYTES
"""The read buffer: an unfinished line of up to ``MAX_LINE_BYTES`` plus as much again read."""
_SHAPE_LINE_MAX = 16 * 1024
"""Longer lines skip tier 2's grouping: its group keys hold raw values, which such a line could
make megabytes long (memory growing with the input); ``parse_record`` cuts every value to
``MAX_FIELD_CHARS``. Real records are about 1 KiB."""
_GENERAL = object()


_NO_FIRST = np.iinfo(np.int64).max
_NO_LAST = np.iinfo(np.int64).min


class Resolutions:
    """The compiled tier's groups for one scan, shared by its scanners (one per thread): the
    scanners share ``catalog``, which gives each distinct raw key one group id and each
    template one template id, whichever scanner meets it first; each id is resolved once, here,
    and the scanners' counts are added up by group id at the end (:meth:`add_to`)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.catalog = None if _Catalog is None else _Catalog()
        self.keys: list[GroupKey | RecordError | None] = []
        """Group id -> its group (or the error of all its lines); None until resolved."""
        self.templates: list[GroupKey | RecordError | None] = []
        """Template id -> what ``parse_record`` makes of its first line; None until resolved."""
        self.parts: list[tuple[bytes, bytes, bytes, bytes]] = []
        """Per scanner: its groups' ids, counts, first and last times."""
        self.overflow_events = 0
        self.fresh: list[GroupKey] = []
        """Groups resolved since the last ``new_groups``."""
        self.callers: dict[str | None, str] = {}
        """A caller as the scanners give it -> as groups key it (``RawGroups.callers`` of its
        ``clean`` text; bounded like ``CallerKeys``)."""
        self.identities: dict[str | None, str] = {}
        """An identity as the scanners give it -> its ``clean`` text (bounded alike)."""
        self.families: dict[int, tuple[GroupKey, object]] = {}
        """A template family's id (the catalog's: templates equal but for their
        resultDescription) -> the group of its first template and that template's raw
        resultType. The description enters ``parse_record`` only through ``read_result``
        (``records.FAMILY_FIELDS``): another template of the family is that group with the
        result ``read_result`` reads from its own description, no parse."""

    def new_groups(self) -> list[GroupKey]:
        """The groups resolved since the last call (errors left out)."""
        with self.lock:
            fresh, self.fresh = self.fresh, []
        return fresh

    def resolve(self, data: memoryview, news: list[tuple[Any, ...]], sink: RawGroups) -> list[int]:
        """Resolve what a compiled scan met first (``news``; ``data``: the buffer it scanned)
        and is not resolved yet: a template by ``parse_record`` on its first line with the time
        set aside, a group as its template with its identity and caller. Returns the ids of the
        groups among ``news`` whose lines are skips."""
        keys = self.keys
        templates = self.templates
        canonical = self.callers
        identities = self.identities
        errors: list[int] = []
        catalog = cast("Catalog", self.catalog)
        with self.lock:
            # room for every id given so far (those of ``news`` included)
            keys.extend([None] * (catalog.group_count - len(keys)))
            templates.extend([None] * (catalog.template_count - len(templates)))
            # the groups whose template, caller and identity are known already: in C, as the
            # loop below makes them; the loop gets the rest
            news = _resolve_known(news, keys, templates, canonical, identities, GroupKey,
                                  self.fresh)
            families = self.families
            for gid, tid, _line, start, end, identity, caller, fid, description in news:
                key = keys[gid]
                if key is None:
                    template = templates[tid]
                    if template is None:
                        family = families.get(fid)
                        if family is not None:  # its group, with this one's result
                            base, result_type = family
                            template = templates[tid] = with_result(
                                base, *read_result(result_type, description))
                        else:
                            record = cast(dict[str, Any], _loads(data[start:end].tobytes()))
                            template = templates[tid] = sink.template(
                                record, "time" if "time" in record else None)
                            if type(template) is GroupKey and len(families) < _FAMILIES_LIMIT:
                                families[fid] = (template,
                                                 flatten_record(record).get("result_type"))
                    if isinstance(template, RecordError):
                        key = keys[gid] = template
                    else:
                        key = keys[gid] = with_caller(
                            template, _cleaned(canonical, caller, sink.callers),
                            _cleaned(identities, identity, str))
                        self.fresh.append(key)
                if type(key) is not GroupKey:
                    errors.append(gid)
        return errors

    def add_to(self, out: Aggregator) -> None:
        """Add every scanner's counts to ``out``, once per group (errors left out: their
        lines were counted as skips)."""
        out.add_overflow(self.overflow_events)
        if not self.parts:  # nothing from the compiled tier (perhaps not installed)
            return
        n = len(self.keys)  # every id a scanner counted was resolved before it went on
        counts = np.zeros(n, dtype=np.int64)
        firsts = np.full(n, _NO_FIRST, dtype=np.int64)
        lasts = np.full(n, _NO_LAST, dtype=np.int64)
        for part_ids, part_counts, part_firsts, part_lasts in self.parts:
            ids = np.frombuffer(part_ids, dtype=np.int64)
            np.add.at(counts, ids, np.frombuffer(part_counts, dtype=np.int64))
            np.minimum.at(firsts, ids, np.frombuffer(part_firsts, dtype=np.int64))
            np.maximum.at(lasts, ids, np.frombuffer(part_lasts, dtype=np.int64))
        used = np.flatnonzero(counts)
        # the compiled tier's sentinels (no time) come back as None
        from pullpath.core._archivescan import utc_datetimes

        keys = self.keys
        add = out.add_group
        first_times = utc_datetimes(firsts[used].tobytes())
        last_times = utc_datetimes(lasts[used].tobytes())
        for i, count, first, last in zip(used.tolist(), counts[used].tolist(), first_times,
                                         last_times, strict=True):
            key = keys[i]
            if type(key) is GroupKey:
                add(key, count, first, last)
        self.parts = []


def _cleaned(cache: dict[str | None, str], value: str | None,
             then: Callable[[str], str]) -> str:
    """``then(clean(value))``, each distinct value once (``cache``, bounded like
    ``CallerKeys``)."""
    found = cache.get(value)
    if found is None:
        found = then(clean(value or ""))
        if len(cache) < CallerKeys.LIMIT:
            cache[value] = found
    return found


class FastScanner:
    """Counts JSON lines into a ``RawGroups`` (see the module docstring) and, with the compiled
    tier, into ``shared``; events of other formats arrive one by one through :meth:`add`.
    ``tick`` is called after every buffer. :meth:`finish` gives what was counted into the
    ``RawGroups``, then ``shared.add_to`` the compiled tier's groups of all scanners."""

    def __init__(self, sink: RawGroups, tick: Callable[[], None] | None = None,
                 shared: Resolutions | None = None) -> None:
        self.sink = sink
        self.tick = tick
        self.shared = Resolutions() if shared is None else shared
        self.compiled = (None if _Compiled is None
                         else _Compiled(sink.general.max_groups, MAX_LINE_BYTES, _ASK_OCTETS,
                                        self.shared.catalog))
        self.error_ids = np.empty(0, dtype=np.int32)
        """Compiled groups whose lines are skips."""
        self.overflow_events = 0
        self._buffer: bytearray | None = None
        self.duplicates: Duplicates | None = None
        """The duplicates to drop in the files read now (``set_input``)."""

    def set_input(self, duplicates: Duplicates | None) -> None:
        """The files read from now on are of the input whose duplicates ``duplicates`` drops
        (after its ``start_input``; None: no duplicates are looked for)."""
        self.duplicates = duplicates
        if self.compiled is not None:
            self.compiled.set_duplicates(
                None if duplicates is None else duplicates.seen_bytes,
                duplicates is not None and duplicates.collect)

    def add(self, event: PullEvent) -> None:
        self.sink.general.add(event)

    def finish(self) -> Aggregator:
        """What went into the ``RawGroups``, as one ``Aggregator``; the compiled tier's counts
        go to ``shared`` (this object should not be used after)."""
        if self.compiled is not None:
            with self.shared.lock:
                self.shared.parts.append(self.compiled.groups())
                self.shared.overflow_events += self.overflow_events
            self.compiled = None
        return self.sink.finish()

    # ------------------------------------------------------------------ reading

    def json_lines(self, head: bytes, stream: IO[bytes] | io.RawIOBase, name: str,
                   stats: ReadStats) -> int:
        if self._buffer is None:
            self._buffer = bytearray(_BUFFER)
        buf = self._buffer
        view = memoryview(buf)
        readinto = cast(io.BufferedIOBase, stream).readinto
        try:
            filled = len(head)
            buf[:filled] = head
            number = 0
            skipping = False  # inside an over-long line: drop bytes up to its newline
            while True:
                got = readinto(view[filled:]) or 0
                filled += got
                start = 0
                if skipping:
                    cut = buf.find(b"\n", 0, filled)
                    if cut < 0:
                        filled = 0
                        if not got:
                            break
                        continue
                    start = cut + 1
                    skipping = False
                consumed, number = self._buffered(view[start:filled], number, name, stats)
                rest_at = start + consumed
                rest = filled - rest_at
                if rest > MAX_LINE_BYTES:
                    number += 1
                    stats.count_skip(Skip(Location(name, number), "line-too-long",
                                          f"over {MAX_LINE_BYTES} bytes"))
                    filled = 0
                    skipping = True
                else:
                    if rest_at:
                        buf[:rest] = buf[rest_at:filled]
                    filled = rest
                if self.tick is not None:
                    self.tick()
                if not got:
                    break
            if filled and not skipping:  # the last line, without a newline
                number = self._lines([bytes(buf[:filled])], number, True, name, stats)
        finally:
            view.release()
        return number

    def _buffered(self, data: memoryview, number: int, name: str,
                  stats: ReadStats) -> tuple[int, int]:
        """Count the whole lines of ``data``; returns the bytes they take and the number of
        the last one."""
        if self.compiled is None:
            block = data.tobytes()
            end = block.rfind(b"\n") + 1
            pieces = block[:end].split(b"\n")
            pieces.pop()  # after the last newline
            return end, self._lines(pieces, number, False, name, stats)
        compiled = self.compiled
        done = 0
        while True:
            part = data[done:]
            consumed, groups, news, fallbacks, host = compiled.scan(part)
            if news:
                errors = self.shared.resolve(part, news, self.sink)
                if errors:
                    self.error_ids = np.concatenate([self.error_ids,
                                                     np.array(errors, dtype=np.int32)])
            number = self._count(part, groups, fallbacks, number, name, stats)
            done += consumed
            if host < 0:
                return done, number
            # an IPv4 caller with a port: keyed without it from now on when the port never
            # changes the address its flows show (CallerKeys), else as logged
            dotted = ".".join(str(host >> shift & 255) for shift in (24, 16, 8, 0))
            compiled.set_host(host, self.sink.callers(dotted + ":1") == dotted)

    def _count(self, data: memoryview, groups: bytes, fallbacks: list[tuple[int, int, int]],
               number: int, name: str, stats: ReadStats) -> int:
        """Account for the lines one compiled scan took; returns the number of the last."""
        lines = len(groups) >> 2
        if not lines:
            return number
        ids = np.frombuffer(groups, dtype=np.int32)
        errors: list[int] = []
        if len(self.error_ids):
            errors = np.flatnonzero(np.isin(ids, self.error_ids)).tolist()
        if cast("Scanner", self.compiled).group_count >= self.sink.general.max_groups:
            self.overflow_events += int(np.count_nonzero(ids == -2))
        n_read = lines - len(errors) - len(fallbacks)
        if n_read:
            stats.count_read(name, n_read)
        if self.duplicates is not None and self.duplicates.collect:
            self._collect(errors)
        if errors or fallbacks:
            self._special(data, ids, errors, fallbacks, number, name, stats)
        return number + lines

    def _collect(self, errors: list[int]) -> None:
        """Remember the fingerprints of the events the compiled tier counted (not those of
        its skips, ``errors``, nor of the lines it left to Python, which remembers those)."""
        fps = np.frombuffer(cast("Scanner", self.compiled).fingerprints(), dtype=np.uint64)
        if errors:
            fps = np.delete(fps, errors)
        cast("Duplicates", self.duplicates).add_many(fps[fps != 0])  # a fallback's is 0

    def _special(self, data: memoryview, ids: npt.NDArray[np.int32], errors: list[int],
                 fallbacks: list[tuple[int, int, int]], number: int, name: str,
                 stats: ReadStats) -> None:
        """The lines the compiled tier did not count as read, in order: skips of groups whose
        resolution is an error (``ids``: each line's group), and lines for tier 2."""
        todo = sorted([(line, -1, -1) for line in errors] + fallbacks)
        for line, start, end in todo:
            if start < 0:
                error = self.shared.keys[int(ids[line])]
                assert isinstance(error, RecordError)
                stats.count_skip(Skip(Location(name, number + line + 1), error.reason,
                                      error.detail))
            else:
                self._lines([data[start:end].tobytes()], number + line, False, name, stats)

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
        duplicates = self.duplicates
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
                    if type(record) is _Intact:  # a line with NUL bytes: its intact records
                        for intact in record:
                            try:
                                event = parse_record(intact)
                            except RecordError as exc:
                                stats.count_skip(Skip(Location(name, number), exc.reason,
                                                      exc.detail))
                                continue
                            if duplicates is not None and duplicates.dropped(
                                    event_fingerprint(event)):
                                stats.count_duplicates(name)
                                continue
                            sink.general.add(event)
                            n_read += 1
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
                                if duplicates is not None and duplicates.dropped(
                                        fields_fingerprint(flatten_record(record), when)):
                                    stats.count_duplicates(name)
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
                if duplicates is not None and duplicates.dropped(event_fingerprint(event)):
                    stats.count_duplicates(name)
                    continue
                sink.general.add(event)
                n_read += 1
        finally:
            if n_read:
                stats.count_read(name, n_read)
        return number


class _Intact(list[dict[str, object]]):
    """The intact records of a line with NUL bytes (``logs_files.nul_line``)."""


def _undecodable(line: bytes, ended: bool, number: int, name: str,
                 stats: ReadStats) -> object:
    """What ``_read_json_lines`` makes of a line orjson refused: nothing for a blank line, the
    record the fallback decoder reads, the intact records of a line with NUL bytes
    (``_Intact``), or a counted skip (``_GENERAL`` means nothing to add)."""
    line = line.rstrip(b"\r\n")
    if not line.strip():
        return _GENERAL
    try:
        return _loads(line)
    except orjson.JSONDecodeError:
        if b"\x00" in line:
            return _Intact(nul_line(line, Location(name, number), stats))
        if ended:
            stats.count_skip(Skip(Location(name, number), "invalid-json", _snippet(line)))
        else:
            stats.count_skip(
                Skip(Location(name, number), "truncated-line", "last line ends mid-record")
            )
        return _GENERAL
