"""The accelerator for JSON lines: the compiled scanner behind one class, ``FastScanner``.

What a line is, ``adapters.logs_files.json_line`` (the reference reader) and
``core.records.parse_record`` decide. ``FastScanner.json_lines`` reads a JSON-lines stream
into one reused buffer and gives each buffer's whole lines to the compiled scanner
(``pullpath.core._archivescan``, C), which counts the lines of the diagnostic archive's own
record shape, strict JSON, into groups keyed by their raw deciding values, without any Python
object per line (its source's header says exactly what it takes), and hands every other line
back: those go through the reference reader one by one. The outcome is the reference
reader's: the same lines and numbers, the same events, the same skips with the same reasons
(tests/workflows/test_scale_equivalence.py, tests/core/test_archivescan.py).

The scanners of one scan (one per thread) share ``Resolutions``: a catalog of group and
template ids (one per distinct raw key, and per distinct key without its identity and
caller); each template is resolved here once, by ``parse_record`` on its first line with the
time set aside, and each group once as its template with its identity and caller. Times are
read in C as ``datetime.fromisoformat`` reads the archive's ``...T..:..:...fffffffZ``.

Without the compiled module (pullpath installed without a C compiler) the reference reader
reads every line: the same results, several times slower (``compiled_installed()`` says
which; the audit report warns). Memory grows with distinct groups only, never with events.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt

from pullpath.adapters.logs_common import max_read_groups
from pullpath.adapters.logs_files import (
    MAX_LINE_BYTES,
    Duplicates,
    _loads,
    _read_json_lines,
    json_line,
)
from pullpath.core.groups import Aggregator, CallerKeys, GroupKey, group_key
from pullpath.core.ipaddr import V4_MAYBE_UNROUTABLE
from pullpath.core.records import RecordError, clean, flatten_record, parse_record, read_result
from pullpath.domain.events import Location, PullEvent, ReadStats, Skip

if TYPE_CHECKING:
    from pullpath.core._archivescan import Catalog, Scanner


def _compiled() -> tuple[type[Scanner], type[Catalog]] | tuple[None, None]:
    try:
        from pullpath.core._archivescan import Catalog, Scanner
    except ImportError:  # built without a C compiler: the reference reader reads everything
        return None, None
    return Scanner, Catalog


_Compiled, _Catalog = _compiled()
if _Compiled is not None:
    from pullpath.core._archivescan import resolve_known as _resolve_known

__all__ = ["FastScanner", "Resolutions", "compiled_installed"]


def compiled_installed() -> bool:
    """Whether the compiled scanner is installed (pip had a C compiler)."""
    return _Compiled is not None


def port_judged_octets() -> bytes:
    """256 flags by the first octet of an IPv4 caller ``a.b.c.d:port``: set where its port may
    matter (``CallerKeys`` keeps the value as logged when the address is unroutable), so the
    compiled scanner must ask; elsewhere the key is the address alone (``ipaddr.unroutable``
    answers "" at once for those octets, whatever the rest of the address)."""
    return bytes(1 if octet in V4_MAYBE_UNROUTABLE else 0 for octet in range(256))


_ASK_OCTETS = port_judged_octets()
_FAMILIES_LIMIT = 50_000
"""Template families remembered at most (templates of further families are parsed)."""
_BUFFER = 2 * MAX_LINE_BYTES
"""The read buffer: an unfinished line of up to ``MAX_LINE_BYTES`` plus as much again read."""
TIME_PLACEHOLDER = "2000-01-01T00:00:00Z"
"""Stands in for a line's time when its group's template is resolved (the compiled scanner
reads each line's time itself)."""


_NO_FIRST = np.iinfo(np.int64).max
_NO_LAST = np.iinfo(np.int64).min


def template(record: dict[str, Any]) -> GroupKey | RecordError:
    """What ``parse_record`` makes of the first line of a template (its time set aside): the
    group (its caller and identity replaced per group), or the error of all its lines."""
    if "time" in record:
        record = {**record, "time": TIME_PLACEHOLDER}
    try:
        return group_key(parse_record(record))
    except RecordError as exc:
        # kept without its traceback: that would keep the reader's frames (and the block of
        # lines they hold) alive
        return exc.with_traceback(None)


class Resolutions:
    """The compiled scanner's groups for one scan, shared by its scanners (one per thread):
    the scanners share ``catalog``, which gives each distinct raw key one group id and each
    template one template id, whichever scanner meets it first; each id is resolved once,
    here, and the scanners' counts are added up by group id at the end (:meth:`add_to`). The
    catalog is told which groups are resolved (:meth:`resolve`), and a scanner hands over only
    the groups new to it that are not: each group reaches Python about once per scan."""

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
        self.skips = np.zeros(0, dtype=np.bool_)
        """Group id + 2 -> whether the group was resolved to an error (its lines are skips),
        for every scanner (one gets no news of a group another scanner's news resolved); ids
        beyond its end are not (it ends with False: ``take(..., mode="clip")``), nor are the
        scanner's -1 and -2. Empty until the first error; replaced, never changed in place,
        so a scanner reads it without the lock."""
        self.callers = CallerKeys()
        self.caller_keys: dict[str | None, str] = {}
        """A caller as the scanners give it -> as groups key it (``CallerKeys`` of its
        ``clean`` text; bounded like ``CallerKeys``)."""
        self.identities: dict[str | None, str] = {}
        """An identity as the scanners give it -> its ``clean`` text (bounded alike)."""
        self.families: dict[int, tuple[GroupKey, object]] = {}
        """A template family's id (the catalog's: templates equal but for their
        resultDescription) -> the group of its first template and that template's raw
        resultType. The description enters ``parse_record`` only through ``read_result``:
        another template of the family is that group with the result ``read_result`` reads
        from its own description, no parse."""

    def new_groups(self) -> list[GroupKey]:
        """The groups resolved since the last call (errors left out)."""
        with self.lock:
            fresh, self.fresh = self.fresh, []
        return fresh

    def resolve(self, data: memoryview, news: list[tuple[Any, ...]]) -> None:
        """Resolve what a compiled scan met first and the catalog had not seen resolved
        (``news``; ``data``: the buffer it scanned): a template by ``parse_record`` on its
        first line with the time set aside, a group as its template with its identity and
        caller. Then the catalog knows them resolved: no scanner hands them over again. The
        groups whose lines are skips join ``skips``."""
        keys = self.keys
        templates = self.templates
        errors: list[int] = []
        catalog = cast("Catalog", self.catalog)
        with self.lock:
            # room for every id given so far (those of ``news`` included)
            keys.extend([None] * (catalog.group_count - len(keys)))
            templates.extend([None] * (catalog.template_count - len(templates)))
            # the groups whose template, caller and identity are known already: in C; then
            # what that lacked for the others (their templates, the memos of their callers and
            # identities) and C again; the loop gets the rest: errors, values beyond the memos'
            # bounds (groups another scanner's news resolved meanwhile are passed by)
            memos = (keys, templates, self.caller_keys, self.identities, GroupKey, self.fresh)
            rest = _resolve_known(news, *memos)
            if rest:
                self._templates(data, rest)
                self._memoise(rest)
                rest = _resolve_known(rest, *memos)
            for gid, tid, _line, _start, _end, identity, caller, _fid, _desc in rest:
                if keys[gid] is None:
                    found = cast("GroupKey | RecordError", templates[tid])
                    if isinstance(found, RecordError):
                        keys[gid] = found
                        errors.append(gid)
                    else:
                        key = keys[gid] = found._replace(
                            caller_ip=_cleaned(self.caller_keys, caller, self.callers.canonical),
                            identity=_cleaned(self.identities, identity, str))
                        self.fresh.append(key)
            if errors:
                skips = np.zeros(max(len(self.skips), max(errors) + 4), dtype=np.bool_)
                skips[:len(self.skips)] = self.skips
                skips[np.array(errors) + 2] = True
                self.skips = skips
            # last: a scanner told these are resolved reads their keys and ``skips``
            catalog.resolved(news)

    def _templates(self, data: memoryview, news: list[tuple[Any, ...]]) -> None:
        """Resolve the templates of the unresolved groups of ``news`` not resolved yet, each
        on its first line here (in ``data``), or from its family's first template."""
        keys = self.keys
        templates = self.templates
        families = self.families
        for gid, tid, _line, start, end, _identity, _caller, fid, description in news:
            if keys[gid] is not None or templates[tid] is not None:
                continue
            family = families.get(fid)
            if family is not None:  # its group, with this one's result
                base, result_type = family
                result, text = read_result(result_type, description)
                templates[tid] = base._replace(result=result, result_description=text)
            else:
                record = cast(dict[str, Any], _loads(data[start:end].tobytes()))
                found = templates[tid] = template(record)
                if type(found) is GroupKey and len(families) < _FAMILIES_LIMIT:
                    families[fid] = (found, flatten_record(record).get("result_type"))

    def _memoise(self, news: list[tuple[Any, ...]]) -> None:
        """Remember the keys of the callers and identities of ``news`` not met yet (as far as
        the memos' bounds allow), for ``resolve_known``."""
        callers, identities = self.caller_keys, self.identities
        caller_key = self.callers.canonical
        for _gid, _tid, _line, _start, _end, identity, caller, _fid, _desc in news:
            if caller not in callers:
                _cleaned(callers, caller, caller_key)
            if identity not in identities:
                _cleaned(identities, identity, str)

    def add_to(self, out: Aggregator) -> None:
        """Add every scanner's counts to ``out``, once per group (errors left out: their
        lines were counted as skips)."""
        out.add_overflow(self.overflow_events)
        if not self.parts:  # nothing from the compiled scanner (perhaps not installed)
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
        # the compiled scanner's sentinels (no time) come back as None
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
    """Counts the events of JSON lines (:meth:`json_lines`) and, one by one, of other formats
    (:meth:`add`), into an ``Aggregator``; with the compiled scanner, the lines it takes go
    into ``shared`` instead. ``tick`` is called after every buffer. :meth:`finish` gives the
    ``Aggregator``, then ``shared.add_to`` adds the compiled scanner's groups of all scanners."""

    def __init__(self, tick: Callable[[], None] | None = None,
                 shared: Resolutions | None = None) -> None:
        self.events = Aggregator(max_read_groups())
        """The events the reference reader read."""
        self.tick = tick
        self.shared = Resolutions() if shared is None else shared
        self.compiled = (None if _Compiled is None
                         else _Compiled(self.events.max_groups, MAX_LINE_BYTES, _ASK_OCTETS,
                                        self.shared.catalog))
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
        self.events.add(event)

    def finish(self) -> Aggregator:
        """The events the reference reader read, as one ``Aggregator``; the compiled
        scanner's counts go to ``shared`` (this object should not be used after)."""
        if self.compiled is not None:
            with self.shared.lock:
                self.shared.parts.append(self.compiled.groups())
                self.shared.overflow_events += self.overflow_events
            self.compiled = None
        return self.events

    # ------------------------------------------------------------------ reading

    def json_lines(self, head: bytes, stream: IO[bytes] | io.RawIOBase, name: str,
                   stats: ReadStats) -> int:
        """Count the JSON lines of ``stream`` (``head`` first); returns the last line's
        number. Without the compiled scanner, the reference reader reads them all."""
        if self.compiled is None:
            number = 0
            reader = _read_json_lines(head, stream, name, stats)
            while True:
                try:
                    event = next(reader)
                except StopIteration as end:
                    number = cast(int, end.value)
                    break
                self._event(event, name, stats)
            return number
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
                    self._reference(None, number, True, name, stats)
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
                number += 1
                self._reference(_line_of(bytes(buf[:filled])), number, False, name, stats)
        finally:
            view.release()
        return number

    def _reference(self, line: bytes | None, number: int, ended: bool, name: str,
                   stats: ReadStats) -> None:
        """A line the compiled scanner did not take, read by the reference reader."""
        for event in json_line(line, number, ended, name, stats):
            self._event(event, name, stats)

    def _event(self, event: PullEvent, name: str, stats: ReadStats) -> None:
        """An event the reference reader read (and counted), unless it is a duplicate."""
        duplicates = self.duplicates
        if duplicates is None or not duplicates.dropped_event(event, name, stats):
            self.events.add(event)

    def _buffered(self, data: memoryview, number: int, name: str,
                  stats: ReadStats) -> tuple[int, int]:
        """Count the whole lines of ``data``; returns the bytes they take and the number of
        the last one."""
        compiled = cast("Scanner", self.compiled)
        done = 0
        while True:
            part = data[done:]
            consumed, groups, news, fallbacks, host = compiled.scan(part)
            if news:
                self.shared.resolve(part, news)
            number = self._count(part, groups, fallbacks, number, name, stats)
            done += consumed
            if host < 0:
                return done, number
            # an IPv4 caller with a port: keyed without it from now on when the port never
            # changes the address its flows show (CallerKeys), else as logged
            dotted = ".".join(str(host >> shift & 255) for shift in (24, 16, 8, 0))
            compiled.set_host(host, self.shared.callers.canonical(dotted + ":1") == dotted)

    def _count(self, data: memoryview, groups: bytes, fallbacks: list[tuple[int, int, int]],
               number: int, name: str, stats: ReadStats) -> int:
        """Account for the lines one compiled scan took; returns the number of the last."""
        lines = len(groups) >> 2
        if not lines:
            return number
        ids = np.frombuffer(groups, dtype=np.int32)
        errors: list[int] = []
        skips = self.shared.skips  # every group this scan counted is resolved
        if len(skips):
            errors = np.flatnonzero(skips.take(ids + 2, mode="clip")).tolist()
        if cast("Scanner", self.compiled).group_count >= self.events.max_groups:
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
        """Remember the fingerprints of the events the compiled scanner counted (not those of
        its skips, ``errors``, nor of the lines it left to Python, which remembers those)."""
        fps = np.frombuffer(cast("Scanner", self.compiled).fingerprints(), dtype=np.uint64)
        if errors:
            fps = np.delete(fps, errors)
        cast("Duplicates", self.duplicates).add_many(fps[fps != 0])  # a fallback's is 0

    def _special(self, data: memoryview, ids: npt.NDArray[np.int32], errors: list[int],
                 fallbacks: list[tuple[int, int, int]], number: int, name: str,
                 stats: ReadStats) -> None:
        """The lines the compiled scanner did not count as read, in order: skips of groups whose
        resolution is an error (``ids``: each line's group), and lines for the reference
        reader."""
        todo = sorted([(line, -1, -1) for line in errors] + fallbacks)
        for line, start, end in todo:
            if start < 0:
                error = self.shared.keys[int(ids[line])]
                assert isinstance(error, RecordError)
                stats.count_skip(Skip(Location(name, number + line + 1), error.reason,
                                      error.detail))
            else:
                self._reference(_line_of(data[start:end].tobytes()), number + line + 1, True,
                                name, stats)


def _line_of(piece: bytes) -> bytes | None:
    """A line as the reference reader is given it: without its CR, or None when longer than
    ``MAX_LINE_BYTES`` (its CR counted, as ``logs_files._lines`` counts it)."""
    return None if len(piece) > MAX_LINE_BYTES else piece.rstrip(b"\r\n")
