"""Helpers every formatter uses so that input can never be turned against the reader.

Repository names, tags, user agents and identities in ACR logs are chosen by whoever calls the
registry: treat every logged value as hostile text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from operator import attrgetter

UNSAFE_RANGES: tuple[tuple[int, int], ...] = (
    (0x00, 0x08), (0x0B, 0x1F),  # C0 controls but tab and line feed (ESC, BEL, CR, ...)
    (0x7F, 0x9F),  # DEL and the C1 controls (0x9B is CSI on some terminals)
    (0xAD, 0xAD), (0x600, 0x605), (0x61C, 0x61C), (0x6DD, 0x6DD), (0x70F, 0x70F),
    (0x890, 0x891), (0x8E2, 0x8E2), (0x180E, 0x180E),
    (0x200B, 0x200F),  # zero-width space, non-joiner, joiner; LRM, RLM
    (0x2028, 0x202E),  # line and paragraph separators; LRE, RLE, PDF, LRO, RLO
    (0x2060, 0x2064), (0x2066, 0x206F),  # word joiner, invisible operators; LRI, RLI, FSI, PDI
    (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB),  # zero-width no-break space (BOM); annotations
    (0x110BD, 0x110BD), (0x110CD, 0x110CD), (0x13430, 0x1343F), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0000, 0xE007F),  # the tag characters block
)
"""The characters no output carries from a logged value: Unicode's control (Cc), format
(Cf: bidi embeddings, overrides, isolates and marks, zero-width and other invisible
characters) and line/paragraph separator (Zl, Zp) characters, but tab and line feed, which
each format places itself. A terminal obeys them (escape sequences, OSC-8 links, the cursor)
or a viewer reorders or hides text by them (Trojan Source, CVE-2021-42574). ``visible``
shows each as its escape."""



def _char_class(*, but: str = "") -> re.Pattern[str]:
    """A pattern matching one ``UNSAFE_RANGES`` character but those in ``but``."""
    points = list(UNSAFE_RANGES)
    for char in but:
        code = ord(char)
        points = [part for a, b in points
                  for part in (((a, code - 1), (code + 1, b)) if a <= code <= b else ((a, b),))
                  if part[0] <= part[1]]
    return re.compile("[" + "".join(
        f"\\U{a:08x}" + (f"-\\U{b:08x}" if b != a else "") for a, b in points) + "]")


_unsafe = cache(_char_class)  # compiled when first needed: most outputs never need it
_LINE_BREAK = re.compile(r"[\t\n\r]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
"""What a spreadsheet cell may not start with (``csv_safe`` guards it; ``simple`` skips the
guard for ASCII cells that start with none of them)."""


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def visible(value: str) -> str:
    """``value`` with every ``UNSAFE_RANGES`` character shown as its escape (``\\u001b`` for
    ESC, ``\\u202e`` for RIGHT-TO-LEFT OVERRIDE, ``\\U000e0041`` beyond U+FFFF), tab and line
    feed kept: text no terminal or viewer can be made to act on. The one rule of every
    output's values (``term_safe``, ``csv_safe``, the HTML and Markdown escapes);
    ``visible_bytes`` applies it to a whole output."""
    if value.isprintable():  # no character of any of those categories: the usual case
        return value
    return _unsafe().sub(_escape, value)


_UNSAFE_POINTS = tuple(code for a, b in UNSAFE_RANGES for code in range(a, b + 1))
_UNSAFE_ASCII = bytes(c for c in _UNSAFE_POINTS if c < 0x80 and c != 0x0D)
"""CR is each format's own (``visible`` shows it in values; CSV rows end in CRLF)."""
_UNSAFE_LEADS = frozenset(chr(c).encode("utf-8")[0] for c in _UNSAFE_POINTS if c >= 0x80)
_NOT_SUSPECT = bytes(c for c in range(256)
                     if c not in _UNSAFE_ASCII and c not in _UNSAFE_LEADS)


@cache
def _utf8_pattern(lead: int) -> re.Pattern[bytes]:
    """The UTF-8 encodings of the ``UNSAFE_RANGES`` characters that start with ``lead``: the
    pattern starts with that byte, which the regular expression engine finds at memchr
    speed."""
    tails = {chr(c).encode("utf-8")[1:] for c in _UNSAFE_POINTS
             if c >= 0x80 and chr(c).encode("utf-8")[0] == lead}
    return re.compile(re.escape(bytes([lead])) + b"(?:" + b"|".join(
        re.escape(t) for t in sorted(tails, key=len, reverse=True)) + b")")


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def visible_bytes(data: bytes) -> bytes:
    """A whole output (UTF-8: JSON, CSV, Markdown, HTML, SARIF, a table) with every
    ``UNSAFE_RANGES`` character but CR written as its JSON escape (``\\u202e``; beyond U+FFFF
    the surrogate pair, ``\\udb40\\udc41``). Inside a JSON string that is the standard
    escape, so a JSON document parses to exactly the same values while its bytes hold no
    control or bidi character (JSON encoders escape C0 controls but write DEL, C1 and the
    bidi controls raw); in any other format it is the text ``visible`` shows.

    Fast for the usual output: one ``bytes.translate`` keeps only the bytes that may start
    such a character (none in an ASCII report), and only their lead bytes are searched."""
    suspects = data.translate(None, _NOT_SUSPECT)
    if not suspects or not any(lead < 0x80 or _utf8_pattern(lead).search(data)
                               for lead in set(suspects)):
        return data
    text = data.decode("utf-8", "replace")
    return _unsafe(but="\r").sub(_json_escape, text).encode("utf-8", "replace")


def safe_text(value: str) -> str:
    """Text that encodes as valid UTF-8: lone surrogates become U+FFFD."""
    if value.isascii():  # the usual case, and never a surrogate: skip the search
        return value
    return _SURROGATE.sub("\ufffd", value) if _SURROGATE.search(value) else value


def term_safe(value: str, limit: int = 200) -> str:
    """For terminal output: a tab or line break (LF, CR) as a space (a value cannot fake
    table rows or move the cursor back), no escape sequence or other control, bidi or
    invisible character (``visible``: each shown as its escape), bounded length."""
    text = visible(_LINE_BREAK.sub(" ", safe_text(value)))
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def csv_safe(value: str) -> str:
    """Neutralise spreadsheet formula injection: a cell starting with = + - @ tab CR or LF
    gets a leading apostrophe (OWASP CSV injection guidance); control, bidi and invisible
    characters are shown as their escapes (``visible``: tab and line feed are kept, quoted)."""
    text = visible(safe_text(value))
    if text.startswith(CSV_TRIGGERS):
        return "'" + text
    return text


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not UTC:  # already UTC: as is (astimezone would copy it)
        value = value.astimezone(UTC)
    return value.isoformat().replace("+00:00", "Z")


_TZINFO = attrgetter("tzinfo")


def iso_many(values: Sequence[datetime | None]) -> list[str | None]:
    """``[iso(v) for v in values]``, several times faster for many UTC times: orjson formats
    them in one batch (the same text: microseconds only when not zero, ``Z``)."""
    present = [v for v in values if v is not None]
    if set(map(type, present)) <= {datetime} and set(map(_TZINFO, present)) <= {UTC}:
        import orjson

        texts: list[str | None] = orjson.loads(orjson.dumps(values, option=orjson.OPT_UTC_Z))
        return texts
    return [iso(v) for v in values]


def short_time(value: datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def short_id(resource_id: str) -> str:
    """The last two segments of an ARM ID (``containergroups/aci-demo``) for narrow tables."""
    if not resource_id:
        return ""
    parts = resource_id.strip("/").split("/")
    return "/".join(parts[-2:]) if len(parts) >= 2 else resource_id
