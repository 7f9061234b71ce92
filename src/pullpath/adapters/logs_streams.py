"""The bytes of a log file, before any format is read: gzip inflated as a stream
(``_CappedGzip``: every whole line before damage kept, bombs refused), the compressed and
archive formats named by their magic numbers and refused (``_packed_kind``), binary data
told from text with NUL damage (``_binary_kind``), UTF-16 without a byte order mark, and
the small stream adapters the readers chain (``_Chain``, ``_Reencode``).

What the bytes hold (JSON lines, a document, CSV) is ``logs_files``' to decide.
"""

from __future__ import annotations

import io
import re
import zlib
from pathlib import Path
from typing import IO, Any

from pullpath.adapters.logs_common import MAX_LINE_BYTES

MAX_DECOMPRESSED_BYTES = 1024 * 1024 * 1024
"""A gzip file inflating to more than this (1 GiB) is skipped (``decompressed-too-large``)
after reading that much: never inflated whole. Plain files have no total limit (streamed)."""
MAX_COMPRESSION_RATIO = 200
"""Past ``_RATIO_FLOOR`` decompressed bytes, a gzip file inflating more than this many times
its compressed size is a bomb (``decompressed-too-large``). Real registry logs compress about
20:1, identical records without correlation IDs about 140:1; deflate's maximum is ~1032:1."""
_RATIO_FLOOR = 64 * 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b"


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


def _gzip_failure(stream: IO[bytes]) -> tuple[str, str] | None:
    """Why a gzip file's decompressed bytes ended early (None: they did not, or not gzip)."""
    raw = getattr(stream, "raw", None)
    return raw.failure if isinstance(raw, _CappedGzip) else None


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
