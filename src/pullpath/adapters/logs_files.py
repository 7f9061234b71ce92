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
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
import stat
import zlib
from array import array
from collections.abc import Generator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Protocol, cast

import numpy as np
import numpy.typing as npt
import orjson

from pullpath.core.records import RecordError, event_fingerprint, norm_key, parse_record
from pullpath.domain.events import Location, PullEvent, ReadStats, Skip

MAX_LINE_BYTES = 4 * 1024 * 1024
"""A JSON line longer than this is skipped (``line-too-long``) without being held in memory."""
MAX_DOCUMENT_BYTES = 256 * 1024 * 1024
"""A single JSON document (records wrapper, array, query response) larger than this is refused."""
MAX_CSV_FIELD = 1024 * 1024
MAX_DECOMPRESSED_BYTES = 1024 * 1024 * 1024
"""A gzip file inflating to more than this (1 GiB) is skipped (``decompressed-too-large``)
after reading that much: never inflated whole. Plain files have no total limit (streamed)."""
MAX_COMPRESSION_RATIO = 200
"""Past ``_RATIO_FLOOR`` decompressed bytes, a gzip file inflating more than this many times
its compressed size is a bomb (``decompressed-too-large``). Real registry logs compress about
20:1, identical records without correlation IDs about 140:1; deflate's maximum is ~1032:1."""
_RATIO_FLOOR = 64 * 1024 * 1024
SNIFF_BYTES = 64 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
LOCAL_TIME_KEY = "timegenerated[localtime]"
"""``TimeGenerated [Local Time]`` (``norm_key``): the portal's CSV export header when it shows
times in the browser's time zone (``TimeGenerated [UTC]`` otherwise)."""
_CSV_REQUIRED = {"operationname", "calleripaddress", "timegenerated", "category", "type"}


class LogInputError(ValueError):
    """A log input that does not exist or cannot be opened at all."""


def iter_log_files(paths: Sequence[Path], stats: ReadStats) -> Iterator[Path]:
    """Files named, and files below directories named (recursive, sorted, loops avoided)."""
    seen: set[str] = set()
    for path in paths:
        yield from _input_files(path, seen, stats)


def log_inputs(paths: Sequence[Path], stats: ReadStats) -> list[list[Path]]:
    """The files of each path given (an input; ``iter_log_files`` in groups): a file below
    two of the paths belongs to the first. Raises ``LogInputError`` for a path that does not
    exist, before anything is read."""
    seen: set[str] = set()
    return [list(_input_files(path, seen, stats)) for path in paths]


def _input_files(path: Path, seen: set[str], stats: ReadStats) -> Iterator[Path]:
    try:
        exists = path.exists()
    except OSError as exc:  # e.g. a name too long
        raise LogInputError(f"{path}: {exc.strerror or exc}") from None
    if not exists:
        if path.is_symlink():
            raise LogInputError(f"{path}: a symbolic link to nothing (broken or a loop)")
        raise LogInputError(f"{path}: no such file or directory")
    if path.is_dir():
        yield from _walk(path, seen, stats)
    else:
        real = os.path.realpath(path)
        if real not in seen:
            seen.add(real)
            yield path


def _walk(root: Path, seen: set[str], stats: ReadStats) -> Iterator[Path]:
    visited_dirs: set[str] = set()
    # each directory with its real path: an entry that is not a symbolic link is its
    # directory's real path plus its name, so only links need ``realpath`` (an archive's
    # deep tree would otherwise cost a ``stat`` per path component of every file)
    stack: list[tuple[Path, str]] = [(root, os.path.realpath(root))]
    while stack:
        directory, real_dir = stack.pop()
        if real_dir in visited_dirs:
            stats.ignored["directory-loop"] += 1
            continue
        visited_dirs.add(real_dir)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            stats.ignored["unreadable-directory"] += 1
            continue
        subdirs: list[tuple[Path, str]] = []
        for entry in entries:
            path = Path(entry.path)
            try:
                real = (os.path.realpath(path) if entry.is_symlink()
                        else os.path.join(real_dir, entry.name))
                if entry.is_dir():
                    subdirs.append((path, real))
                elif entry.is_file():
                    if entry.name.startswith("."):
                        stats.ignored["hidden-file"] += 1
                        continue
                    if real in seen:
                        continue
                    seen.add(real)
                    yield path
                else:
                    stats.ignored["not-a-regular-file"] += 1
            except OSError:
                stats.ignored["unreadable-entry"] += 1
        stack.extend(reversed(subdirs))


def read_warnings(stats: ReadStats) -> list[str]:
    """What a report must say about how the logs were read (beyond the skips it counts)."""
    out: list[str] = []
    files = stats.local_time_files
    if files:
        more = f" and {len(files) - 1} more" if len(files) > 1 else ""
        out.append(
            "times read as local time of the exporting browser, offset unknown; first/last "
            f"seen may be shifted: {files[0]}{more} (a portal CSV headed 'TimeGenerated "
            "[Local Time]'); export with times in UTC, or with 'az monitor log-analytics "
            "query', to read the true times")
    return out


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


class Duplicates:
    """The events of the inputs (the paths given) read so far, to drop an event that an
    earlier input already held: the archive and a Log Analytics export of the same hours
    given together are counted once (``ReadStats.duplicates``).

    Events are compared by ``core.records.fingerprint`` (correlation ID, operation, time);
    events without a correlation ID are never dropped, nor is an event whose copy is in the
    same input (one input is one source: the same request logged twice there is not
    pullpath's to judge). Memory: 8 bytes per event with a correlation ID of every input but
    the last, kept sorted (``seen``); with one input nothing is made at all.

    ``start_input`` before each input; the readers call ``dropped`` (or ``dropped_event``)
    per event, and the compiled scanner checks ``seen_bytes`` and hands its fingerprints to
    ``add_many``."""

    def __init__(self) -> None:
        self.seen: npt.NDArray[np.uint64] = np.empty(0, dtype=np.uint64)
        self.seen_bytes: bytes | None = None
        """``seen`` as bytes (None when empty), for the compiled scanner."""
        self.collect = False
        self._one: array[int] = array("Q")
        self._many: list[npt.NDArray[np.uint64]] = []

    def start_input(self, *, collect: bool) -> None:
        """Before the next input: the previous one's events join ``seen``. ``collect``:
        remember this input's events (not needed for the last)."""
        parts = [self.seen, *self._many]
        if self._one:
            parts.append(np.frombuffer(self._one, dtype=np.uint64))
        if len(parts) > 1:
            seen = np.concatenate(parts)
            seen.sort()  # (np.unique hashes: many times slower on 64-bit hashes)
            if len(seen) > 1:
                seen = seen[np.concatenate(([True], seen[1:] != seen[:-1]))]
            self.seen_bytes = seen.tobytes() if len(seen) else None
            del seen
            # one copy held: the compiled scanner reads the bytes, Python a view of them
            self.seen = np.frombuffer(self.seen_bytes or b"", dtype=np.uint64)
        self._one, self._many = array("Q"), []
        self.collect = collect

    def dropped(self, fp: int) -> bool:
        """Is the event of fingerprint ``fp`` one an earlier input held? (If not and
        collecting, it is remembered.)"""
        if not fp:
            return False
        seen = self.seen
        if len(seen):
            i = int(np.searchsorted(seen, np.uint64(fp)))
            if i < len(seen) and int(seen[i]) == fp:
                return True
        if self.collect:
            self._one.append(fp)
        return False

    def dropped_event(self, event: PullEvent, name: str, stats: ReadStats) -> bool:
        """``dropped`` for an event already counted as read in ``name``: a duplicate moves
        from read to ``stats.duplicates``."""
        if not self.dropped(event_fingerprint(event)):
            return False
        stats.uncount_read(name)
        stats.count_duplicates(name)
        return True

    def add_many(self, fps: npt.NDArray[np.uint64]) -> None:
        """Fingerprints of events of this input (the compiled scanner's), none of them in
        ``seen``."""
        if self.collect and len(fps):
            self._many.append(fps)


_GZIP_FEED = 16 * 1024
"""Compressed bytes given to zlib at a time: on damage, the bytes inflated before it are found
by feeding that piece again one byte at a time, from a copy of the state before it."""
_GZIP_STEP = 256 * 1024
"""Decompressed bytes asked of zlib at a time (a bomb never inflates more at once)."""
_HOLD_MAX = MAX_LINE_BYTES
"""The unfinished last line held back by ``_CappedGzip`` at most (longer: released as it
comes; a line that long is skipped as ``line-too-long`` anyway)."""


class _CappedGzip(io.RawIOBase):
    """The decompressed bytes of a gzip file (one or more members), streamed, that keep every
    whole line before damage and refuse to inflate past the limits.

    - Damage (a bad header or deflate data, a failed CRC-32 or length check, the file ending
      inside a member, trailing bytes that are not a gzip member) ends the bytes after the last
      whole line inflated before it: the unfinished line is held back (up to ``_HOLD_MAX``)
      until its newline comes, and dropped at damage. ``failure`` says what and where (the
      compressed byte), for the reader to count once, at the line after those before it.
      NUL bytes after a member are padding (as ``gzip`` reads them), not damage.
    - More than ``MAX_DECOMPRESSED_BYTES`` in all, or (past ``_RATIO_FLOOR``) more than
      ``MAX_COMPRESSION_RATIO`` times the compressed bytes consumed, ends it the same way
      (``decompressed-too-large``): a bomb is never inflated whole.

    It inflates in fixed steps whatever size is asked: every reader (the event-by-event one
    and the fast route, with their different buffers) gets the same bytes before a failure."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip framing, CRC checked
        self._member = 1
        self._input = b""
        """Compressed bytes read but not yet given to ``_inflate`` (a next member's start)."""
        self._read = 0
        """Compressed bytes read from ``raw``."""
        self._ready = memoryview(b"")
        self._held = b""
        self._done = False
        self.produced = 0
        self.failure: tuple[str, str] | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._ready:
            if self._done:
                return 0
            self._step()
        n = min(len(buffer), len(self._ready))
        buffer[:n] = self._ready[:n]
        self._ready = self._ready[n:]
        return n

    # ------------------------------------------------------------------ inflating

    def _pending(self) -> int:
        """Compressed bytes read but not consumed yet."""
        z = self._inflate
        return len(self._input) + len(z.unconsumed_tail) + len(z.unused_data)

    def _fail(self, reason: str, detail: str) -> None:
        self.failure = (reason, f"{detail}; the whole lines before it are kept")
        self._held = b""
        self._done = True

    def _end(self) -> None:
        """The clean end: the last line (without a newline) goes out too."""
        self._done = True
        if self._held:
            self._ready = memoryview(self._held)
            self._held = b""

    def _more_input(self) -> bytes:
        if self._input:
            data, self._input = self._input, b""
            return data
        data = self._raw.read(_GZIP_FEED)
        self._read += len(data)
        return data

    def _step(self) -> None:
        z = self._inflate
        if z.eof:
            self._next_member()
            return
        data = z.unconsumed_tail or self._more_input()
        if not data:
            self._fail("corrupt-compressed-file",
                       f"truncated: the file ends inside gzip member {self._member} "
                       f"(at compressed byte {self._read:,})")
            return
        at = self._read - len(data)  # where ``data`` starts in the file (it ends there)
        saved = z.copy()
        try:
            out = z.decompress(data, _GZIP_STEP)
        except zlib.error as exc:
            self._salvage(saved, data, at, exc)
            return
        if out:
            self._accept(out)

    def _salvage(self, saved: Any, data: bytes, at: int, exc: zlib.error) -> None:
        """Damage inside ``data`` (at compressed byte ``at``): inflate it again one byte at a
        time from ``saved`` (the state before it) to keep every byte before the damage."""
        out: list[bytes] = []
        where = at
        for i in range(len(data)):
            try:
                out.append(saved.decompress(data[i : i + 1]))
            except zlib.error:
                where = at + i
                break
        if any(out):
            self._accept(b"".join(out))
        message = str(exc).partition(": ")[2] or str(exc)
        if "data check" in message or "length check" in message:
            what = (f"the CRC-32 or length check at the end of gzip member {self._member} "
                    f"failed (compressed byte {where:,}); the lines inflated before it may "
                    "hold the damage")
        else:
            what = (f"damaged gzip data in member {self._member} at compressed byte "
                    f"{where:,} ({message[:80]})")
        if not self._done:
            self._fail("corrupt-compressed-file", what)

    def _next_member(self) -> None:
        """After a member: the end of the file, NUL padding, another member, or damage."""
        rest = self._inflate.unused_data
        while True:
            rest = rest.lstrip(b"\x00")
            if len(rest) >= 2 or (rest and rest[:1] != _GZIP_MAGIC[:1]):
                break
            more = self._raw.read(_GZIP_FEED)
            self._read += len(more)
            if not more:
                if rest:
                    break
                self._end()
                return
            rest += more
        at = self._read - len(rest)
        if rest[:2] != _GZIP_MAGIC:
            self._fail("corrupt-compressed-file",
                       f"trailing bytes after gzip member {self._member} at compressed byte "
                       f"{at:,} are not gzip data")
            return
        self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._member += 1
        self._input = rest

    def _accept(self, out: bytes) -> None:
        """Give out ``out`` up to its last newline (the rest is held), within the limits."""
        self.produced += len(out)
        if self.produced > MAX_DECOMPRESSED_BYTES:
            self._fail("decompressed-too-large",
                       f"inflates to more than {MAX_DECOMPRESSED_BYTES >> 20} MiB; decompress "
                       "it yourself if it is a real log (plain files have no size limit)")
            return
        if self.produced > _RATIO_FLOOR:
            consumed = max(self._read - self._pending(), 1)
            if self.produced > MAX_COMPRESSION_RATIO * consumed:
                self._fail("decompressed-too-large",
                           f"inflates more than {MAX_COMPRESSION_RATIO}:1 (a gzip bomb?); "
                           "decompress it yourself if it is a real log")
                return
        data = self._held + out if self._held else out
        cut = data.rfind(b"\n") + 1
        if len(data) - cut > _HOLD_MAX:
            cut = len(data)  # an unfinished line that long: out as it comes
        self._held = data[cut:]
        if cut:  # (``readinto`` steps only once what was ready is taken)
            self._ready = memoryview(data)[:cut]

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()


def _open_binary(path: Path) -> IO[bytes]:
    raw = path.open("rb")
    head = raw.peek(2)[:2] if isinstance(raw, io.BufferedReader) else b""
    if head == _GZIP_MAGIC:
        return io.BufferedReader(_CappedGzip(raw), buffer_size=1024 * 1024)
    return raw


def _not_regular(path: Path) -> str:
    """Why ``path`` is not a regular file ("" when it is): FIFOs and devices are never opened
    (a FIFO blocks, /dev/zero never ends)."""
    mode = path.stat().st_mode
    if stat.S_ISREG(mode):
        return ""
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a regular file"


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


def _gzip_failure(stream: IO[bytes]) -> tuple[str, str] | None:
    """Why a gzip file's decompressed bytes ended early (None: they did not, or not gzip)."""
    raw = getattr(stream, "raw", None)
    return raw.failure if isinstance(raw, _CappedGzip) else None


def read_stream(stream: IO[bytes], name: str, stats: ReadStats) -> Iterator[PullEvent]:
    """Events from an open byte stream that is not a local file (e.g. a blob download),
    accounted in ``stats`` under ``name`` exactly like :func:`read_file` does for a file.
    The stream is read sequentially in bounded chunks, never loaded whole."""
    stats.file_stats(name)
    yield from _read_stream(stream, name, stats)


Read = Generator[PullEvent, None, int | None]
"""The events of a stream, then the number of its last line read (None: not read by lines)."""


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

# Formats named by their first bytes (magic numbers, as each format's specification fixes
# them), never read: pullpath reads plain and gzip files only.
_PACKED = (
    (b"PK\x03\x04", "a zip archive: unzip it first"),
    (b"PK\x05\x06", "an empty zip archive"),
    (b"\xfd7zXZ\x00", "xz-compressed: decompress it first (unxz)"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed: decompress it first (unzstd)"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive: extract it first (7z x)"),
)
_BZIP2 = re.compile(rb"\ABZh[1-9](?:1AY&SY|\x17rE8P\x90)")
"""A bzip2 stream: "BZh", the block size, then a block's or the end's magic number."""
_BINARY = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"\x7fELF", "an ELF executable"),
    (b"MZ", "a Windows executable"),
    (b"SQLite format 3\x00", "an SQLite database"),
)
_CONTROL = bytes([*range(1, 9), 0x0B, *range(0x0E, 0x20), 0x7F])
"""Control bytes that text logs never hold raw (JSON escapes them; tab, CR, LF, FF may be)."""


def _packed_kind(head: bytes) -> str:
    """What compressed or archive format ``head`` starts, with how to unpack it ("" if none)."""
    if _BZIP2.match(head):
        return "bzip2-compressed: decompress it first (bunzip2)"
    for magic, kind in _PACKED:
        if head.startswith(magic):
            return kind
    return ""


def _binary_kind(head: bytes) -> str | None:
    """Why ``head`` (holding NUL bytes) is binary data rather than text with NUL damage (None:
    text). Binary when it starts with a known binary format's magic number, or when more than
    1 in 20 of its other bytes are control bytes or invalid UTF-8. NUL runs alone (a crashed
    writer pads with them) are damage, judged line by line."""
    for magic, kind in _BINARY:
        if head.startswith(magic):
            return f"binary data ({kind}), not a log"
    sample = head.replace(b"\x00", b"")
    if not sample:
        return None
    odd = len(sample) - len(sample.translate(None, _CONTROL))
    odd += sample.decode("utf-8", errors="replace").count("\ufffd")
    if odd * 20 > len(sample):
        return "binary data (NUL and control bytes), not a log"
    return None


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


def _utf16_without_bom(head: bytes) -> str:
    """``utf-16-le``/``utf-16-be`` when ``head`` looks like mostly-ASCII UTF-16 text without a
    byte order mark (every other byte NUL), else "" (binary)."""
    sample = head[: 4096 - 4096 % 2]
    if len(sample) < 8:
        return ""
    even, odd = sample[0::2], sample[1::2]
    half = len(sample) // 2
    if odd.count(0) > 0.9 * half and even.count(0) < 0.1 * half:
        return "utf-16-le"
    if even.count(0) > 0.9 * half and odd.count(0) < 0.1 * half:
        return "utf-16-be"
    return ""


class _Chain(io.RawIOBase):
    """A byte stream that first returns ``head`` then the rest of ``tail``."""

    def __init__(self, head: bytes, tail: IO[bytes] | io.RawIOBase) -> None:
        self._head = head
        self._tail = tail

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._tail.read(len(buffer))
        if not data:
            return 0
        n = len(data)
        buffer[:n] = data
        return n


class _Reencode(io.RawIOBase):
    """UTF-8 bytes from a text stream (for UTF-16 inputs)."""

    def __init__(self, text: IO[str]) -> None:
        self._text = text
        self._pending = b""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._pending) < size:
            chunk = self._text.read(64 * 1024)
            if not chunk:
                break
            self._pending += chunk.encode("utf-8", errors="surrogatepass")
        if size < 0:
            out, self._pending = self._pending, b""
        else:
            out, self._pending = self._pending[:size], self._pending[size:]
        return out


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


def _emit(record: object, where: Location, stats: ReadStats) -> Iterator[PullEvent]:
    try:
        event = parse_record(record)
    except RecordError as exc:
        stats.count_skip(Skip(where, exc.reason, exc.detail))
        return
    stats.count_read(where.file)
    yield event


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


def _records_of_query_response(
    tables: list[object], name: str, stats: ReadStats
) -> Iterator[PullEvent]:
    """The Log Analytics query API shape: tables[].columns[{name,type}], tables[].rows[[...]]."""
    index = 0
    for table in tables:
        if not isinstance(table, Mapping):
            stats.count_skip(
                Skip(Location(name), "unrecognised-format", "a table is not an object")
            )
            continue
        columns = table.get("columns")
        rows = table.get("rows")
        if not isinstance(columns, list) or not isinstance(rows, list):
            stats.count_skip(
                Skip(Location(name), "unrecognised-format", "table without columns/rows")
            )
            continue
        names = [c.get("name") if isinstance(c, Mapping) else None for c in columns]
        for row in rows:
            index += 1
            if not isinstance(row, list) or len(row) != len(names):
                stats.count_skip(
                    Skip(Location(name, index), "malformed-row", "row length differs from columns")
                )
                continue
            record = {n: v for n, v in zip(names, row, strict=True) if isinstance(n, str)}
            yield from _emit(record, Location(name, index), stats)


def _read_csv(stream: io.RawIOBase | IO[bytes], name: str, stats: ReadStats) -> Read:
    text = io.TextIOWrapper(
        io.BufferedReader(cast(io.RawIOBase, stream), buffer_size=1024 * 1024),
        encoding="utf-8",
        errors="replace",
        newline="",
    )
    csv.field_size_limit(MAX_CSV_FIELD)
    reader = csv.reader(_csv_lines(text, name, stats))
    try:
        header = next(reader)
    except StopIteration:
        stats.ignored["empty-file"] += 1
        return reader.line_num
    except csv.Error as exc:
        stats.count_skip(Skip(Location(name, 1), "unrecognised-format", str(exc)[:200]))
        return reader.line_num
    keys = [norm_key(h) for h in header]
    if not (_CSV_REQUIRED & set(keys)):
        stats.count_skip(
            Skip(
                Location(name, 1),
                "unrecognised-format",
                "not JSON, and not a CSV with registry log columns (OperationName, "
                "CallerIpAddress, TimeGenerated)",
            )
        )
        return reader.line_num
    if LOCAL_TIME_KEY in keys and "timegenerated" not in keys:
        # the portal's export in the browser's local time: read (as UTC), with a warning
        header = list(header)
        header[keys.index(LOCAL_TIME_KEY)] = "TimeGenerated"
        stats.local_time_files.append(name)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return reader.line_num
        except csv.Error as exc:
            stats.count_skip(Skip(Location(name, reader.line_num), "malformed-row", str(exc)[:200]))
            continue
        if not row or not any(cell.strip() for cell in row):
            continue
        where = Location(name, reader.line_num)
        if len(row) != len(header):
            stats.count_skip(
                Skip(where, "malformed-row", f"{len(row)} cells, header has {len(header)}")
            )
            continue
        yield from _emit(dict(zip(header, row, strict=True)), where, stats)


def _csv_lines(text: io.TextIOWrapper, name: str, stats: ReadStats) -> Iterator[str]:
    """The physical lines of a CSV text, NULs removed; a line longer than ``MAX_LINE_BYTES``
    characters is counted (``line-too-long``) and dropped without being held in memory (an
    empty line takes its place, so the CSV reader's line numbers stay right)."""
    number = 0
    while True:
        line = text.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE_BYTES and not line.endswith(("\n", "\r")):
            while True:
                more = text.readline(MAX_LINE_BYTES)
                if not more or more.endswith(("\n", "\r")):
                    break
            stats.count_skip(
                Skip(Location(name, number), "line-too-long", f"over {MAX_LINE_BYTES} characters")
            )
            yield "\n"
            continue
        if "\x00" in line:  # as in JSON lines: padding around a row is counted, the row read
            body = line.rstrip("\r\n")
            inner = body.strip("\x00")
            damaged = "\x00" in inner
            kept = "the row on it dropped" if damaged else "the row on it read"
            stats.count_skip(Skip(Location(name, number), "nul-bytes",
                                  f"{line.count(chr(0)):,} NUL character(s) in the line (a "
                                  f"crashed writer's padding?); {kept}"))
            yield "\n" if damaged else inner + line[len(body):]
            continue
        yield line
