"""Damage costs only the damaged part (issue 15, item 3; cases #5 and #12).

- NUL bytes are judged line by line, not by sniffing the file's first bytes: a crash-padded
  ``PT1H.json`` keeps every intact record; a binary file is still one skip, named;
- a damaged gzip file (trailing garbage, a bad CRC, truncated mid-stream, damaged deflate data)
  keeps every whole line before the damage and counts the damage once, at its line;
- zip, bzip2, xz and zstd files are named as such;
- a portal CSV in local time is read with a warning.

Every expectation holds on each reading route (``route``): the reference reader, the fast
route with the compiled scanner (one and two workers) and without it. Records are the real
archived record (tests/data/acr-logs/) made distinct; expected counts come from the test's own
construction or from the standard library (``zlib``), never from pullpath.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import json
import lzma
import random
import sys
import zipfile
import zlib
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fuzz import targets

import pullpath.adapters.logs_fast as logs_fast
import pullpath.adapters.logs_scan as logs_scan
from pullpath.adapters.logs_files import SNIFF_BYTES, read_events
from pullpath.adapters.servicetags_files import load_service_tags
from pullpath.domain.events import ReadStats, Skip
from pullpath.domain.inventory import Inventory
from pullpath.formatters.audit_doc import stats_doc
from pullpath.formatters.markdown import audit_markdown
from pullpath.formatters.table import accounting_text
from pullpath.workflows.audit import audit_events, run_audit
from tests.support.hostile import LA_COLUMNS, la_row, record

Read = Callable[[list[Path]], ReadStats]


@pytest.fixture(params=["reference", "compiled-1-worker", "compiled-2-workers",
                        "compiled-2-workers-split", "python"])
def route(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Read:
    """One way of reading logs; each checks its own accounting adds up."""
    name = request.param
    if name == "reference":
        return lambda paths: targets.reference_route(paths)[1]
    monkeypatch.setattr(logs_scan, "PARALLEL_MIN_BYTES", 0)  # two workers even when small
    if name == "python":  # as installed without a C compiler
        monkeypatch.setattr(logs_fast, "_Compiled", None)
        monkeypatch.setattr(logs_fast, "_Catalog", None)
    elif not logs_fast.compiled_installed():
        pytest.skip("the compiled scanner is not built")
    workers = 2 if name.startswith("compiled-2-workers") else 1
    split = 97 if name.endswith("-split") else None  # files in ranges of ~97 bytes

    def read(paths: list[Path]) -> ReadStats:
        aggregator, stats = targets.fast_route(paths, workers, split)
        targets.check_stats(stats)
        assert aggregator.events == stats.events_read
        return stats

    return read


def archive(n: int, seed: int = 1) -> list[bytes]:
    """``n`` distinct archive lines (no newline): the real record with varied values."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        rec = record(i, repository=f"team{rng.randrange(50):02d}/svc-{rng.getrandbits(40):x}",
                     tag=f"1.{rng.randrange(1000)}.{rng.randrange(1000)}")
        rec["correlationId"] = f"{rng.getrandbits(128):032x}"
        rec["callerIpAddress"] = f"20.{rng.randrange(256)}.{rng.randrange(256)}.{i % 250 + 1}"
        out.append(json.dumps(rec).encode())
    return out


def joined(lines: list[bytes]) -> bytes:
    return b"".join(line + b"\n" for line in lines)


def _csv(header: list[str], rows: list[list[object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def skips(stats: ReadStats) -> list[tuple[int | None, str]]:
    return [(s.location.line, s.reason) for s in stats.examples]


def only_skip(stats: ReadStats) -> Skip:
    assert stats.events_skipped == 1, stats.skipped
    (skip,) = stats.examples
    return skip


# --------------------------------------------------------------------------- NUL bytes

def test_nul_run_between_records_keeps_all_40(tmp_path: Path, route: Read) -> None:
    """A crashed writer's NUL run between record 20 and record 21: all 40 records are kept
    (the NULs sit before record 21 on its physical line, which still holds that record
    whole), and the padding is counted once, as a ``nul-bytes`` skip at line 21."""
    lines = archive(40)
    path = tmp_path / "PT1H.json"
    path.write_bytes(joined(lines[:20]) + b"\x00" * 4096 + joined(lines[20:]))
    stats = route([path])
    assert stats.events_read == 40
    assert skips(stats) == [(21, "nul-bytes")]


@pytest.mark.parametrize(("index", "damage"), [
    # NULs over record 21 (its bytes zeroed, its newline kept, as a file system leaves a
    # block it had not written)
    (20, lambda line: b"\x00" * len(line)),
    # a few NULs inside record 5
    (4, lambda line: line[:100] + b"\x00\x00\x00" + line[103:]),
], ids=["record-overwritten", "inside-a-record"])
def test_nuls_over_a_record_cost_that_record(tmp_path: Path, route: Read, index: int,
                                             damage: Callable[[bytes], bytes]) -> None:
    """The other 39 records are kept; the damaged line is one ``nul-bytes`` skip."""
    lines = archive(40)
    lines[index] = damage(lines[index])
    path = tmp_path / "PT1H.json"
    path.write_bytes(joined(lines))
    stats = route([path])
    assert stats.events_read == 39
    assert skips(stats) == [(index + 1, "nul-bytes")]


def test_nul_padding_longer_than_the_sniff_window(tmp_path: Path, route: Read) -> None:
    """Padding at the start longer than the bytes the format is judged from, and padding at
    the end without a newline: the records between are all read."""
    lines = archive(40)
    path = tmp_path / "PT1H.json"
    path.write_bytes(b"\x00" * (2 * SNIFF_BYTES) + joined(lines) + b"\x00" * 5000)
    stats = route([path])
    assert stats.events_read == 40
    assert skips(stats) == [(1, "nul-bytes"), (41, "nul-bytes")]


def test_nul_padding_in_a_csv_export(tmp_path: Path, route: Read) -> None:
    body = _csv(list(LA_COLUMNS), [[la_row(json.loads(line))[c] for c in LA_COLUMNS]
                                   for line in archive(10)])
    cut = body.index(b"\r\n", body.index(b"\r\n") + 2) + 2  # after the header and row 1
    path = tmp_path / "export.csv"
    path.write_bytes(body[:cut] + b"\x00" * 3000 + body[cut:])
    stats = route([path])
    assert stats.events_read == 10
    assert skips(stats) == [(3, "nul-bytes")]


def test_binary_files_are_one_skip_each_named(tmp_path: Path, route: Read) -> None:
    """A binary file is one ``not-text`` skip, never one skip per "line" of it."""
    rng = random.Random(3)
    noise = bytes(rng.randrange(256) for _ in range(300_000))
    (tmp_path / "image.json").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + noise)
    (tmp_path / "program.json").write_bytes(
        Path(sys.executable).resolve().read_bytes()[:200_000])
    (tmp_path / "noise.json").write_bytes(b"{" + noise.replace(b"\n", b"\x00\n"))
    stats = route([tmp_path])
    assert stats.events_read == 0
    details = {Path(s.location.file).name: (s.location.line, s.reason, s.detail)
               for s in stats.examples}
    assert stats.events_skipped == 3
    assert details["image.json"][:2] == (None, "not-text")
    assert "PNG" in details["image.json"][2]
    assert details["program.json"][:2] == (None, "not-text")
    assert "ELF" in details["program.json"][2]
    assert details["noise.json"][:2] == (None, "not-text")


# --------------------------------------------------------------------------- gzip damage

def whole_lines_zlib_inflates(data: bytes) -> int:
    """The whole lines the standard library inflates from gzip ``data`` before it stops (at
    damage, or at the end of what there is), fed one byte at a time."""
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = bytearray()
    for i in range(len(data)):
        try:
            out += inflate.decompress(data[i : i + 1])
        except zlib.error:
            break
        if inflate.eof:
            break
    return out.count(b"\n")


def _damaged(kind: str, packed: bytes) -> bytes:
    if kind == "trailing-garbage":
        return packed + b"<html>502 Bad Gateway</html>\n"
    if kind == "bad-crc":
        bad = bytearray(packed)
        bad[-8] ^= 0x55  # the CRC-32 in the member's trailer
        return bytes(bad)
    if kind == "truncated":
        return packed[: len(packed) * 3 // 5]
    assert kind == "damaged-deflate"
    # the deflate stream of the first lines flushed, then a block of an invalid type (BTYPE
    # 11, RFC 1951 3.2.3) where the rest should be
    text = gzip.decompress(packed)
    half = text.index(b"\n", len(text) // 2) + 1
    deflate = zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
    return deflate.compress(text[:half]) + deflate.flush(zlib.Z_FULL_FLUSH) + b"\x07" * 100


@pytest.mark.parametrize("kind", ["trailing-garbage", "bad-crc", "truncated",
                                  "damaged-deflate"])
def test_damaged_gzip_keeps_every_line_before_the_damage(tmp_path: Path, route: Read,
                                                         kind: str) -> None:
    """The promise of docs/limits.md (Limits: "events before it are kept, so are those before a
    damaged spot"): every whole line inflated before the damage is read, and the damage is
    one ``corrupt-compressed-file`` skip at the line after them."""
    lines = archive(300)
    packed = gzip.compress(joined(lines), mtime=0)
    data = _damaged(kind, packed)
    whole = whole_lines_zlib_inflates(data)
    if kind in ("trailing-garbage", "bad-crc"):
        assert whole == 300
    else:
        assert 0 < whole < 300  # the damage is mid-stream
    path = tmp_path / "PT1H.json.gz"
    path.write_bytes(data)
    stats = route([path])
    assert stats.events_read == whole
    assert skips(stats) == [(whole + 1, "corrupt-compressed-file")]


def test_multi_member_gzip_damaged_in_its_second_member(tmp_path: Path, route: Read) -> None:
    lines = archive(200)
    first = gzip.compress(joined(lines[:100]), mtime=0)
    second = gzip.compress(joined(lines[100:]), mtime=0)
    path = tmp_path / "PT1H.json.gz"
    path.write_bytes(first + second)
    assert route([path]).events_read == 200
    path.write_bytes(first + second[: len(second) // 2])
    whole = 100 + whole_lines_zlib_inflates(second[: len(second) // 2])
    stats = route([path])
    assert stats.events_read == whole
    skip = only_skip(stats)
    assert (skip.location.line, skip.reason) == (whole + 1, "corrupt-compressed-file")
    assert "member 2" in skip.detail


def test_nul_padding_after_a_gzip_member_is_not_damage(tmp_path: Path, route: Read) -> None:
    path = tmp_path / "PT1H.json.gz"
    path.write_bytes(gzip.compress(joined(archive(30)), mtime=0) + b"\x00" * 4096)
    stats = route([path])
    assert (stats.events_read, stats.events_skipped) == (30, 0)


# --------------------------------------------------------------------------- other packers

def _zip(data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive_file:
        archive_file.writestr("PT1H.json", data)
    return out.getvalue()


ZSTD_FRAME = bytes.fromhex("28b52ffd04584900007b2261223a20317d0a3387dfc3")
"""``{"a": 1}`` and a newline, compressed by the zstd command (v1.5.4)."""


@pytest.mark.parametrize(("pack", "named"), [
    (_zip, "zip archive: unzip it first"),
    (bz2.compress, "bzip2-compressed"),
    (lzma.compress, "xz-compressed"),
    (lambda data: ZSTD_FRAME, "zstd-compressed"),
], ids=["zip", "bzip2", "xz", "zstd"])
def test_other_compressed_formats_are_named(tmp_path: Path, route: Read,
                                            pack: Callable[[bytes], bytes], named: str) -> None:
    path = tmp_path / "PT1H.json"  # the name says nothing: the content does
    path.write_bytes(pack(joined(archive(5))))
    stats = route([path])
    skip = only_skip(stats)
    assert (skip.location.line, skip.reason) == (None, "unsupported-compression")
    assert named in skip.detail


# --------------------------------------------------------------------------- local time

def _portal_csv(header: str, times: list[str]) -> bytes:
    rows = [la_row(json.loads(line)) for line in archive(len(times))]
    return _csv([header, *LA_COLUMNS[1:]],
                [[when, *(row[c] for c in LA_COLUMNS[1:])]
                 for row, when in zip(rows, times, strict=True)])


# the portal's export values, as in public exports found with the search tool:
# "3/10/2026, 9:55:52.863 AM" under "TimeGenerated [UTC]"
PORTAL_TIMES = ["3/10/2026, 9:55:52.863 AM", "3/10/2026, 10:01:07.020 AM"]


def test_local_time_export_is_read_with_a_warning(tmp_path: Path) -> None:
    """``TimeGenerated [Local Time]``: the times are read (as if UTC) and the report warns
    that they are the exporting browser's local time; ``[UTC]`` needs no warning."""
    local = tmp_path / "local.csv"
    local.write_bytes(_portal_csv("TimeGenerated [Local Time]", PORTAL_TIMES))
    utc = tmp_path / "utc.csv"
    utc.write_bytes(_portal_csv("TimeGenerated [UTC]", PORTAL_TIMES))
    for path, warned in ((local, True), (utc, False)):
        stats = ReadStats()
        events = list(read_events([path], stats))
        assert len(events) == 2
        assert all(e.time is not None for e in events)
        assert [e.time.strftime("%m/%d/%Y %I:%M:%S %p") for e in events if e.time] == [
            "03/10/2026 09:55:52 AM", "03/10/2026 10:01:07 AM"]
        report = audit_events(events, stats, inventory=Inventory(), tags=load_service_tags())
        warnings = [w for w in report.result.warnings if "local time" in w]
        assert len(warnings) == (1 if warned else 0)
        if warned:
            assert "offset unknown" in warnings[0]
            assert str(local) in warnings[0]


# --------------------------------------------------------------------------- duplicates

def _export(lines: list[bytes], shift_hours: int = 0) -> bytes:
    """A portal CSV export of the events of ``lines``, times in the portal's form (shifted
    by ``shift_hours``: an export in local time)."""
    header = "TimeGenerated [Local Time]" if shift_hours else "TimeGenerated [UTC]"
    rows = []
    for line in lines:
        rec = json.loads(line)
        when = datetime.fromisoformat(rec["time"]) + timedelta(hours=shift_hours)
        rec["time"] = when.strftime("%m/%d/%Y, %I:%M:%S.%f")[:-3] + when.strftime(" %p")
        row = la_row(rec)
        rows.append([row[c] for c in LA_COLUMNS])
    return _csv([header, *LA_COLUMNS[1:]], rows)


def _timed(lines: list[bytes]) -> list[bytes]:
    """The lines with distinct times, one minute apart."""
    out = []
    for i, line in enumerate(lines):
        rec = json.loads(line)
        rec["time"] = f"2025-01-30T{10 + i // 60:02d}:{i % 60:02d}:15.1931730Z"
        out.append(json.dumps(rec).encode())
    return out


@pytest.mark.parametrize("archive_first", [True, False], ids=["archive-first", "export-first"])
def test_archive_and_export_of_the_same_events_count_once(tmp_path: Path, route: Read,
                                                          archive_first: bool) -> None:
    """Records 10-29 of the archive exported again from Log Analytics, with 5 events the
    archive does not have: 45 events, 20 duplicates dropped, all from the input given
    second (whichever it is)."""
    lines = _timed(archive(45))
    logs = tmp_path / "archive"
    (logs / "h=10").mkdir(parents=True)
    (logs / "h=10" / "PT1H.json").write_bytes(joined(lines[:20]))
    (logs / "h=11").mkdir()
    (logs / "h=11" / "PT1H.json.gz").write_bytes(gzip.compress(joined(lines[20:40]), mtime=0))
    export = tmp_path / "export.csv"
    export.write_bytes(_export(lines[10:30] + lines[40:]))
    paths = [logs, export] if archive_first else [export, logs]
    stats = route(paths)
    assert stats.events_read == 45
    assert stats.duplicates_dropped == 20
    if archive_first:
        assert dict(stats.duplicates) == {str(export): 20}
    else:
        assert dict(stats.duplicates) == {str(logs / "h=10" / "PT1H.json"): 10,
                                          str(logs / "h=11" / "PT1H.json.gz"): 10}
    assert stats.events_skipped == 0


def test_a_local_time_export_still_matches_the_archive(tmp_path: Path, route: Read) -> None:
    """Times compared modulo 15 minutes: an export in the browser's local time (here UTC+1)
    matches the archive's events."""
    lines = _timed(archive(30))
    (tmp_path / "PT1H.json").write_bytes(joined(lines))
    export = tmp_path / "export.csv"
    export.write_bytes(_export(lines, shift_hours=1))
    stats = route([tmp_path / "PT1H.json", export])
    assert (stats.events_read, stats.duplicates_dropped) == (30, 30)
    assert stats.local_time_files == [str(export)]


def test_duplicates_are_only_dropped_across_inputs(tmp_path: Path, route: Read) -> None:
    """The same event twice within one input (here two files of one folder, and one file
    twice over) is not pullpath's to judge: both count. Events without a correlation ID are
    never dropped, across inputs neither."""
    lines = archive(10)
    nameless = []
    for i, value in enumerate(["<nil>", "", "  ", None]):
        rec = json.loads(lines[i])
        if value is None:
            del rec["correlationId"]
        else:
            rec["correlationId"] = value
        nameless.append(json.dumps(rec).encode())
    one = tmp_path / "one"
    one.mkdir()
    (one / "a.json").write_bytes(joined(lines + lines))
    (one / "b.json").write_bytes(joined(lines))
    other = tmp_path / "other.json"
    other.write_bytes(joined(nameless))
    again = tmp_path / "again.json"
    again.write_bytes(joined(nameless))
    stats = route([one, other, again])
    assert stats.events_read == 30 + 4 + 4
    assert stats.duplicates_dropped == 0


CORRELATION_IDS = ["0A1B2C3D-aaaa-bbbb-cccc-0123456789AB", " spaced-id ", "UPPER-ID",
                   "ümlaut-ID", "\u212aelvin-id", "with\\u0041escape", 12345, "x" * 3000]


def test_correlation_ids_compare_as_pullpath_reads_them(tmp_path: Path, route: Read) -> None:
    """An archive line's correlation ID, as the compiled scanner meets it (case, spaces,
    non-ASCII, JSON escapes, a number, an over-long value), matches the same event in an
    export written the way Log Analytics shows it: one duplicate per event, whichever input
    comes first."""
    lines = []
    for i, cid in enumerate(CORRELATION_IDS):
        rec = json.loads(archive(i + 1)[i])
        rec["time"] = f"2025-01-30T10:{i:02d}:15.1931730Z"
        rec["correlationId"] = cid
        lines.append(json.dumps(rec).encode().replace(b"with\\\\u0041", b"with\\u0041"))
    exported = []
    for line in lines:
        rec = json.loads(line)
        value = rec["correlationId"]
        rec["correlationId"] = str(value).strip().upper() if isinstance(value, str) else value
        exported.append(json.dumps(rec).encode())
    archive_file = tmp_path / "PT1H.json"
    archive_file.write_bytes(joined(lines))
    export = tmp_path / "export.csv"
    export.write_bytes(_export(exported))
    for paths in ([archive_file, export], [export, archive_file]):
        stats = route(paths)
        assert (stats.events_read, stats.duplicates_dropped) == (len(lines), len(lines))


def test_the_report_says_how_many_duplicates_it_dropped(tmp_path: Path) -> None:
    lines = _timed(archive(12))
    (tmp_path / "PT1H.json").write_bytes(joined(lines))
    export = tmp_path / "export.csv"
    export.write_bytes(_export(lines[:5]))
    report = run_audit([tmp_path / "PT1H.json", export])
    doc = stats_doc(report)
    assert (doc["events_read"], doc["duplicates_dropped"]) == (12, 5)
    assert doc["duplicates_per_file"] == {str(export): 5}
    assert "5 duplicate event(s) dropped" in accounting_text(report).plain
    assert "Duplicates dropped: 5" in audit_markdown(report)
    single = run_audit([tmp_path / "PT1H.json"])
    assert stats_doc(single)["duplicates_dropped"] == 0
    assert "duplicate" not in accounting_text(single).plain
