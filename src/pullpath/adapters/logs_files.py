"""Read registry logs from files and directories, format detected from content.

Supported (plain or gzip, detected by magic bytes, not by name):

- diagnostic-settings archives (``PT1H.json``): one JSON record per line;
- the older ``{"records": [...]}`` wrapper;
- Log Analytics exports: JSON arrays of rows, the query API's ``{"tables": [...]}`` response,
  and CSV with the table's PascalCase column names (portal exports too).

Every record is accounted for in ``ReadStats``: read, or skipped with a reason and location.
A bad record never stops the rest of the file from being read, and damage costs only the
damaged part: NUL bytes are judged line by line, a damaged gzip file keeps every whole line
before the damage, and an event an earlier input (path) held is counted once
(``Duplicates``). docs/log-reading.md has the rules.

This module holds the public entry points (``read_events``, ``read_file``, ``read_stream``,
``scan_file``), the sniffing that decides a file's format (``_read_stream``), the reference
reader of JSON lines (``json_line``: the compiled scanner's unclaimed lines come here) and
JSON documents (arrays, the ``{"records": [...]}`` wrapper). Beside it, and re-exported
here: ``logs_inputs`` (which files the paths name), ``logs_streams`` (gzip, refused
archives, binary data, UTF-16), ``logs_exports`` (Log Analytics CSV and query responses,
local time), ``logs_duplicates`` (events given twice) and ``logs_common`` (the line limit,
what a record becomes). The sniffing and the JSON reading here (``_read_stream``,
``_past_padding``, ``_lines``, ``json_line``, ``_loads``, ``_has_record_lines``) use this
module's ``MAX_LINE_BYTES`` and ``SNIFF_BYTES`` at run time (tests lower them here to run
both routes at small limits); the CSV reader and the gzip stream use ``logs_common``'s.
"""

from __future__ import annotations

import codecs
import io
import json
import re
from collections.abc import Generator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Protocol, cast

import orjson

from pullpath.adapters.logs_common import MAX_LINE_BYTES as MAX_LINE_BYTES
from pullpath.adapters.logs_common import Read as Read
from pullpath.adapters.logs_common import _emit
from pullpath.adapters.logs_duplicates import Duplicates as Duplicates
from pullpath.adapters.logs_exports import LOCAL_TIME_KEY as LOCAL_TIME_KEY
from pullpath.adapters.logs_exports import MAX_CSV_FIELD as MAX_CSV_FIELD
from pullpath.adapters.logs_exports import _read_csv, _records_of_query_response
from pullpath.adapters.logs_exports import read_warnings as read_warnings
from pullpath.adapters.logs_inputs import LogInputError as LogInputError
from pullpath.adapters.logs_inputs import _not_regular as _not_regular
from pullpath.adapters.logs_inputs import iter_log_files as iter_log_files
from pullpath.adapters.logs_inputs import log_inputs as log_inputs
from pullpath.adapters.logs_streams import _GZIP_MAGIC as _GZIP_MAGIC
from pullpath.adapters.logs_streams import MAX_COMPRESSION_RATIO as MAX_COMPRESSION_RATIO
from pullpath.adapters.logs_streams import MAX_DECOMPRESSED_BYTES as MAX_DECOMPRESSED_BYTES
from pullpath.adapters.logs_streams import (
    _binary_kind,
    _CappedGzip,
    _Chain,
    _gzip_failure,
    _open_binary,
    _packed_kind,
    _Reencode,
    _utf16_without_bom,
)
from pullpath.core.records import norm_key
from pullpath.domain.events import Location, PullEvent, ReadStats, Skip

MAX_DOCUMENT_BYTES = 256 * 1024 * 1024
"""A single JSON document (records wrapper, array, query response) larger than this is refused."""
SNIFF_BYTES = 64 * 1024


def read_events(paths: Sequence[Path], stats: ReadStats) -> Iterator[PullEvent]:
    """All events in all files below ``paths``; skips are counted in ``stats``. With more
    than one path, an event an earlier path already held is dropped (``Duplicates``)."""
    inputs = log_inputs(paths, stats)
    duplicates = Duplicates() if len(inputs) > 1 else None
    for index, files in enumerate(inputs):
        if duplicates is not None:
            duplicates.start_input(collect=index < len(inputs) - 1)
        for path in files:
            for event in read_file(path, stats):
                if duplicates is None or not duplicates.dropped_event(event, str(path), stats):
                    yield event


def read_file(path: Path, stats: ReadStats) -> Iterator[PullEvent]:
    return _read_file(path, stats, None)


class LineSink(Protocol):
    """Counts JSON lines itself (the fast route: ``adapters.logs_fast.FastScanner``) and takes
    the events of other formats one by one."""

    def json_lines(self, head: bytes, stream: IO[bytes] | io.RawIOBase, name: str,
                   stats: ReadStats) -> int:
        """Count the lines; returns the number of the last one."""

    def add(self, event: PullEvent) -> None: ...

    @property
    def duplicates(self) -> Duplicates | None:
        """The duplicates to drop in the file being read (None: none)."""


def scan_file(path: Path, stats: ReadStats, sink: LineSink) -> None:
    """Count the events of one file into ``sink`` with exactly the accounting of
    :func:`read_file`: JSON lines go to ``sink.json_lines`` whole, other formats event by
    event to ``sink.add`` (but those ``sink.duplicates`` drops)."""
    add = sink.add
    duplicates = sink.duplicates
    name = str(path)
    for event in _read_file(path, stats, sink):
        if duplicates is None or not duplicates.dropped_event(event, name, stats):
            add(event)


def _read_file(path: Path, stats: ReadStats, scan: LineSink | None) -> Iterator[PullEvent]:
    name = str(path)
    stats.file_stats(name)
    try:
        kind = _not_regular(path)
        if kind:
            stats.count_skip(Skip(Location(name), "not-a-regular-file", kind))
            return
        stream = _open_binary(path)
    except OSError as exc:
        stats.count_skip(Skip(Location(name), "unreadable-file", exc.strerror or str(exc)))
        return
    with stream:
        last: int | None = None
        try:
            last = yield from _read_stream(stream, name, stats, scan)
        except OSError as exc:  # reading a plain file failed
            stats.count_skip(Skip(Location(name), "unreadable-file", str(exc)[:200]))
        raw = getattr(stream, "raw", None)
        if isinstance(raw, _CappedGzip) and raw.failure is not None:
            # counted once, at its place: the line after the whole lines inflated before it
            line = None if last is None else last + 1
            stats.count_skip(Skip(Location(name, line), *raw.failure))


def read_stream(stream: IO[bytes], name: str, stats: ReadStats) -> Iterator[PullEvent]:
    """Events from an open byte stream that is not a local file (e.g. a blob download),
    accounted in ``stats`` under ``name`` exactly like :func:`read_file` does for a file.
    The stream is read sequentially in bounded chunks, never loaded whole."""
    stats.file_stats(name)
    yield from _read_stream(stream, name, stats)


def _read_stream(stream: IO[bytes], name: str, stats: ReadStats,
                 scan: LineSink | None = None) -> Read:
    head = stream.read(SNIFF_BYTES)
    if not head:
        if _gzip_failure(stream) is None:  # else counted as a skip by the caller
            stats.ignored["empty-file"] += 1
        return None
    encoding = "utf-8"
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8) :]
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    packed = _packed_kind(head)
    if packed:
        stats.count_skip(Skip(Location(name), "unsupported-compression", packed))
        return None
    if encoding == "utf-8" and b"\x00" in head:
        encoding = _utf16_without_bom(head) or "utf-8"
        binary = _binary_kind(head) if encoding == "utf-8" else None
        if binary is not None:  # one skip for the file, not one per "line" of it
            stats.count_skip(Skip(Location(name), "not-text", binary))
            return None
        # text with NUL bytes (a crashed writer's padding): judged line by line
        head = _past_padding(head, stream)
    if encoding != "utf-8":
        text = io.TextIOWrapper(
            io.BufferedReader(_Chain(head, stream)), encoding=encoding, errors="replace"
        )
        body = _Chain(b"", _Reencode(text))
        head = body.read(SNIFF_BYTES) or b""
        stream = cast(IO[bytes], body)
    first = head.lstrip(_BLANK_OR_NUL)[:1]
    if first == b"{" or (not first and b"\x00" in head):  # nothing but NULs: JSON lines
        return (yield from _read_json_lines_or_document(head, stream, name, stats, scan))
    if first == b"[":
        return (yield from _read_document(_Chain(head, stream), name, stats))
    return (yield from _read_csv(_Chain(head, stream), name, stats))


_BLANK_OR_NUL = b" \t\r\n\x0b\x0c\x00"


def _past_padding(head: bytes, stream: IO[bytes]) -> bytes:
    """``head``, read on while it holds nothing but NULs and blanks (up to ``MAX_LINE_BYTES``
    more): the format is judged from the first bytes after the padding."""
    more = bytearray(head)
    while len(more) < MAX_LINE_BYTES and not more.strip(_BLANK_OR_NUL):
        chunk = stream.read(SNIFF_BYTES)
        if not chunk:
            break
        more += chunk
    return bytes(more)


def _lines(head: bytes,
           stream: IO[bytes] | io.RawIOBase) -> Iterator[tuple[int, bytes | None, bool]]:
    """(line number, line without EOL, ended-with-newline); an over-long line is dropped
    without being held, and given as None."""
    reader = io.BufferedReader(_Chain(head, stream), buffer_size=1024 * 1024)
    number = 0
    while True:
        line = reader.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            while True:  # drop the rest of the over-long line without keeping it
                more = reader.readline(MAX_LINE_BYTES)
                if not more or more.endswith(b"\n"):
                    break
            yield number, None, True
            continue
        ended = line.endswith(b"\n")
        yield number, line.rstrip(b"\r\n"), ended


_WRAPPER_KEYS = frozenset({"records", "tables", "value"})
_WRAPPER_START = re.compile(rb'\A\s*\{\s*"(?:records|tables|value)"\s*:', re.IGNORECASE)
_SNIFF_LINES = 8


def _is_record_line(line: bytes) -> bool:
    """A line that is a whole JSON object on its own, not a wrapper: JSON-lines evidence.
    Indented lines never count (inside a pretty-printed document)."""
    line = line.strip(b"\x00")  # NUL padding around a record does not hide it
    if not line.startswith(b"{"):
        return False
    try:
        value = _loads(line)
    except (orjson.JSONDecodeError, RecursionError):
        return False
    return isinstance(value, dict) and not (
        _WRAPPER_KEYS & {norm_key(k) for k in value if isinstance(k, str)}
    )


def _looks_like_json_lines(head: bytes, whole: bool) -> bool:
    """JSON lines (one record per line) or one JSON document, from the first bytes.

    A document when it opens a ``records``/``tables``/``value`` wrapper; else JSON lines when
    one of the first few complete lines is a record on its own (so a damaged first line does
    not turn the file into one invalid document) or the first line is longer than the sniff
    window.
    """
    if _WRAPPER_START.match(head):
        return False  # {"records": [ ... a document, even with one record per line inside
    pieces = head.split(b"\n")
    if not whole:
        pieces = pieces[:-1]  # cut by the sniff window
    lines = [p.strip(b"\r") for p in pieces if p.strip(_BLANK_OR_NUL)][:_SNIFF_LINES]
    if not lines:
        return True  # one line longer than the sniff window: a long record line
    return any(_is_record_line(line) for line in lines)


def _read_json_lines_or_document(
    head: bytes, stream: IO[bytes] | io.RawIOBase, name: str, stats: ReadStats,
    scan: LineSink | None = None,
) -> Read:
    extra = stream.read(1)  # is the head the whole file?
    head += extra  # leading blank lines kept: line numbers count from the file's first byte
    if _looks_like_json_lines(head, whole=not extra):
        if scan is not None:
            return scan.json_lines(head, stream, name, stats)
        return (yield from _read_json_lines(head, stream, name, stats))
    return (yield from _read_document(_Chain(head, stream), name, stats))


def _loads(data: bytes | bytearray) -> object:
    """Decode JSON with orjson; what it refuses but a damaged log may still hold (invalid
    UTF-8 bytes, lone surrogate escapes such as ``"\\ud800"``) is decoded again by the
    standard library from the text with bad bytes replaced, for inputs up to
    ``MAX_LINE_BYTES``. Raises orjson's error when neither can decode it."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        if len(data) > MAX_LINE_BYTES:
            raise
        try:
            return json.loads(bytes(data).decode("utf-8", errors="replace"))
        except (ValueError, RecursionError):
            pass
        raise


def _read_json_lines(
    head: bytes, stream: IO[bytes] | io.RawIOBase, name: str, stats: ReadStats
) -> Generator[PullEvent, None, int]:
    """The reference reader of JSON lines: each line as :func:`json_line` reads it."""
    number = 0
    for number, line, ended in _lines(head, stream):
        yield from json_line(line, number, ended, name, stats)
    return number


def json_line(line: bytes | None, number: int, ended: bool, name: str,
              stats: ReadStats) -> Iterator[PullEvent]:
    """What one JSON line (line ``number`` of ``name``, without its end of line; None: longer
    than ``MAX_LINE_BYTES``, not kept; ``ended``: a newline followed it) holds, every outcome
    accounted in ``stats``: nothing for a blank line, an event (``parse_record``), the intact
    records of a line with NUL bytes, or a skip (``line-too-long``, ``invalid-json``,
    ``truncated-line`` for a last line that ends mid-record, or ``parse_record``'s reason).
    This decides what a line is: the compiled scanner (``adapters.logs_fast``) hands every
    line it does not take back to it."""
    if line is None or len(line) > MAX_LINE_BYTES:
        stats.count_skip(
            Skip(Location(name, number), "line-too-long", f"over {MAX_LINE_BYTES} bytes")
        )
        return
    if not line.strip():
        return
    try:
        record = _loads(line)
    except orjson.JSONDecodeError:
        if b"\x00" in line:
            where = Location(name, number)
            for intact in nul_line(line, where, stats):
                yield from _emit(intact, where, stats)
        elif ended:
            stats.count_skip(Skip(Location(name, number), "invalid-json", _snippet(line)))
        else:
            stats.count_skip(
                Skip(Location(name, number), "truncated-line", "last line ends mid-record")
            )
        return
    yield from _emit(record, Location(name, number), stats)


_NUL_RUN = re.compile(rb"\x00+")


def nul_line(line: bytes, where: Location, stats: ReadStats) -> list[dict[str, object]]:
    """The intact records of a JSON line holding NUL bytes, which a crashed writer leaves (a
    run of NULs between records, or over a record): each stretch between NUL runs that
    decodes to a JSON object on its own. The rest of the line (the NULs, and what they cut)
    is counted once, as a ``nul-bytes`` skip, before the records; decoding them is the
    caller's (one reading for both routes, ``adapters.logs_fast`` included)."""
    records: list[dict[str, object]] = []
    for piece in _NUL_RUN.split(line):
        piece = piece.strip()
        if piece.startswith(b"{"):
            try:
                value = _loads(piece)
            except (orjson.JSONDecodeError, RecursionError):
                continue
            if isinstance(value, dict):
                records.append(value)
    kept = f"the {len(records)} intact record(s) on it read" if records else "no intact record"
    stats.count_skip(Skip(where, "nul-bytes", f"{line.count(0):,} NUL byte(s) in the line "
                                             f"(a crashed writer's padding?); {kept}"))
    return records


def _snippet(line: bytes) -> str:
    return line[:80].decode("utf-8", errors="replace")


def _read_document(
    stream: io.RawIOBase | IO[bytes], name: str, stats: ReadStats
) -> Read:
    data = bytearray()
    while True:  # a raw stream's read() may return less than asked: loop to the end
        chunk = stream.read(1024 * 1024)
        if not chunk:
            break
        data += chunk
        if len(data) > MAX_DOCUMENT_BYTES:
            stats.count_skip(
                Skip(
                    Location(name),
                    "document-too-large",
                    f"a single JSON document over {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB; "
                    "export as JSON lines instead",
                )
            )
            return None
    if b"\x00" in data:
        inner = data.strip(_BLANK_OR_NUL)
        if b"\x00" not in inner:  # NUL padding around the document: counted, then read
            stats.count_skip(Skip(Location(name), "nul-bytes",
                                  f"{len(data) - len(inner):,} NUL or blank byte(s) around "
                                  "the document (a crashed writer's padding?)"))
            data = inner
    try:
        doc = _loads(data)
    except orjson.JSONDecodeError as exc:
        if _has_record_lines(data):
            # JSON lines after all (their first lines were damaged): read them line by line
            return (yield from _read_json_lines(bytes(data), io.BytesIO(), name, stats))
        if b"\x00" in data:
            reason, detail = "nul-bytes", f"NUL bytes inside the JSON document ({exc})"
        else:
            reason = "too-deeply-nested" if "depth" in str(exc) else "invalid-json"
            detail = str(exc)
        stats.count_skip(Skip(Location(name), reason, detail[:200]))
        return None
    except RecursionError:
        stats.count_skip(Skip(Location(name), "too-deeply-nested", "JSON nesting too deep"))
        return None
    del data
    yield from _records_of_document(doc, name, stats)
    return None


def _has_record_lines(data: bytearray, max_lines: int = 10_000) -> bool:
    """Is undecodable ``data`` JSON lines after all? Yes when one of its first ``max_lines``
    lines holds a record on its own, or when it has several lines and every one opens an
    object at its first byte (damaged records: a pretty-printed document always has
    indented or closing lines)."""
    start = 0
    opened = 0
    for _ in range(max_lines):
        end = data.find(b"\n", start)
        line = bytes(data[start : end if end >= 0 else len(data)]).rstrip().strip(b"\x00")
        if line:
            if not line.startswith(b"{"):
                opened = -(1 << 30)
            opened += 1
            if len(line) <= MAX_LINE_BYTES and _is_record_line(line):
                return True
        if end < 0:
            break
        start = end + 1
    return opened >= 2


def _records_of_document(doc: object, name: str, stats: ReadStats) -> Iterator[PullEvent]:
    from pullpath.core.inventory import looks_like_inventory  # only documents need it

    if looks_like_inventory(doc):
        stats.count_skip(Skip(Location(name), "inventory-not-logs",
                              "ARM resource JSON (an inventory), not registry log records: did "
                              "you mean --inventory?"))
        return
    if isinstance(doc, list):
        for i, record in enumerate(doc):
            yield from _emit(record, Location(name, i + 1), stats)
        return
    if isinstance(doc, Mapping):
        keys = {norm_key(k): k for k in doc if isinstance(k, str)}
        if "records" in keys and isinstance(doc[keys["records"]], list):
            for i, record in enumerate(doc[keys["records"]]):
                yield from _emit(record, Location(name, i + 1), stats)
            return
        if "value" in keys and isinstance(doc[keys["value"]], list):
            for i, record in enumerate(doc[keys["value"]]):
                yield from _emit(record, Location(name, i + 1), stats)
            return
        if "tables" in keys and isinstance(doc[keys["tables"]], list):
            yield from _records_of_query_response(doc[keys["tables"]], name, stats)
            return
        yield from _emit(doc, Location(name, 1), stats)
        return
    stats.count_skip(Skip(Location(name), "unrecognised-format", "JSON that is not a log record"))
