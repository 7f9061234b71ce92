"""One large plain file read in line-aligned ranges by every worker (``adapters.logs_split``):
exactly the accounting of a sequential read (groups with counts and first/last times, counts
per file, skips with reasons and line numbers, duplicates across inputs), whatever byte the
range boundaries fall on.

The threshold is set low by ``scan_logs(split_bytes=...)``: every file here is split into many
ranges, and sweeping the range size puts a boundary on every byte of the damaged spots (inside a
damaged line, inside a multi-byte UTF-8 character, on a NUL line, between CR and LF, in the
unterminated last line).
"""

from __future__ import annotations

import gzip
import itertools
import json
from pathlib import Path

import pytest
from fuzz import targets

import pullpath.adapters.logs_scan as logs_scan
from pullpath.adapters.logs_scan import LogScan, scan_logs
from pullpath.adapters.logs_split import json_lines_start, plan_ranges
from pullpath.domain.events import ReadStats
from tests.support import TESTS

pytest.importorskip("pullpath.core._archivescan")

RECORD = TESTS / "data" / "acr-logs" / "repositoryevents_pull_404_record.json"
IDENTITIES = ["user@example.com", "Ünïcödé 用户", "6a7f2c1e-4b1d-4c9e-9f0a-2d3e4f5a6b7c"]
CALLERS = ["203.0.113.18", "4.189.68.203:51544", "10.1.0.9", "20.50.2.3:1"]


def record_line(i: int) -> bytes:
    record = json.loads(RECORD.read_bytes())
    record["time"] = f"2025-01-30T14:{i % 60:02d}:{(i * 7) % 60:02d}.{i:07d}Z"
    record["identity"] = IDENTITIES[i % len(IDENTITIES)]
    record["callerIpAddress"] = CALLERS[i % len(CALLERS)]
    record["correlationId"] = f"00000000-0000-0000-0000-{i:012d}"
    record["resultDescription"] = ["200", "404", "401"][i % 3]
    return json.dumps(record, ensure_ascii=False).encode()


def damaged_file(crlf: bool = False, final_newline: bool = True) -> bytes:
    lines = [record_line(i) for i in range(24)]
    lines[3] = lines[3][: len(lines[3]) // 2]  # a damaged (cut) line
    lines[6] = b"\x00" * 40  # a NUL line (a crashed writer's padding)
    lines[7] = lines[7][:60] + b"\x00" * 30 + lines[8]  # a record cut by NULs, one intact
    lines[10] = b""  # blank
    lines[12] = lines[12].replace(b'"category"', b'"categ\xffory"')  # invalid UTF-8
    lines[15] = lines[15].replace(b"ContainerRegistryRepositoryEvents", b"AuditEvent")  # skip
    lines[18] = "{\"identity\": \"ünï 用户\", \"broken\": }".encode()  # multi-byte, invalid
    eol = b"\r\n" if crlf else b"\n"
    data = eol.join(lines)
    if final_newline:
        data += eol
    else:
        data = data[: -len(lines[-1]) // 2]  # the last line ends mid-record
    return data


def routes(paths: list[Path], split_bytes: int) -> tuple[object, object]:
    reference = targets.reference_route(paths)
    stats = ReadStats()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(logs_scan, "PARALLEL_MIN_BYTES", 0)  # two workers even for small inputs
        fast = scan_logs(paths, stats, workers=2, split_bytes=split_bytes)
    return (fast, stats), reference


def check_split(paths: list[Path], split_bytes: int) -> None:
    fast, reference = routes(paths, split_bytes)
    targets.check_routes(fast, reference, f"split at {split_bytes} bytes")  # type: ignore[arg-type]


def splits_of(paths: list[Path], split_bytes: int) -> list[dict[int, list[tuple[int, int | None]]]]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(logs_scan, "PARALLEL_MIN_BYTES", 0)
        with LogScan(paths, ReadStats(), workers=2, split_bytes=split_bytes) as scan:
            scan.result()
            return scan.splits


@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
@pytest.mark.parametrize("final_newline", [True, False], ids=["newline-end", "cut-end"])
def test_split_file_reads_like_a_sequential_read(tmp_path: Path, crlf: bool,
                                                 final_newline: bool) -> None:
    path = tmp_path / "PT1H.json"
    data = damaged_file(crlf, final_newline)
    path.write_bytes(data)
    assert splits_of([path], 500)[0], "the file is read in ranges"
    for split_bytes in [*range(97, 1400, 89), len(data) - 1]:
        check_split([path], split_bytes)


def test_every_boundary_byte_in_the_damaged_lines(tmp_path: Path) -> None:
    """A range boundary on each byte around the damaged line, the multi-byte characters and
    the NUL line: the range size is swept so one nominal boundary falls on each."""
    data = damaged_file()
    path = tmp_path / "PT1H.json"
    path.write_bytes(data)
    marks = [data.index(b"\x00" * 40), data.index("ünï 用户".encode()), data.index(b"\xff"),
             data.index("Ünïcödé".encode())]
    lines = data.split(b"\n")
    marks.append(len(b"\n".join(lines[:3])) + 1 + len(lines[3]) // 2)  # the cut line
    for mark in marks:
        for at in range(mark - 2, mark + 9):
            assert len(plan_ranges(path, 0, len(data), at)) > 1
            check_split([path], at)


def test_ranges_are_line_aligned_and_cover_the_file(tmp_path: Path) -> None:
    data = damaged_file()
    path = tmp_path / "PT1H.json"
    path.write_bytes(data)
    for size in (1, 5, 64, 333, 1000):
        ranges = plan_ranges(path, 0, len(data), size)
        assert ranges[0][0] == 0
        assert ranges[-1][1] is None
        for (_, end), (start, _) in itertools.pairwise(ranges):
            assert end == start
            assert data[start - 1:start] == b"\n"  # a line starts there
        assert all(a < (len(data) if b is None else b) for a, b in ranges)


def test_a_file_smaller_than_the_threshold_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "PT1H.json"
    path.write_bytes(damaged_file())
    assert splits_of([path], path.stat().st_size) == [{}]
    check_split([path], path.stat().st_size)


def test_gzip_and_other_formats_are_read_whole(tmp_path: Path) -> None:
    data = damaged_file()
    (tmp_path / "a.json.gz").write_bytes(gzip.compress(data, mtime=0))
    (tmp_path / "b.json").write_bytes(b'{"records": [\n' + data.replace(b"\n", b",\n")[:-2]
                                      + b"\n]}\n")
    (tmp_path / "c.json").write_bytes(data.decode("utf-8", "replace").encode("utf-16"))
    for path in sorted(tmp_path.iterdir()):
        assert json_lines_start(path) is None, path.name
    assert splits_of([tmp_path], 200) == [{}]
    check_split([tmp_path], 200)


def test_a_byte_order_mark_and_leading_padding(tmp_path: Path) -> None:
    data = damaged_file()
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + data)
    assert json_lines_start(bom) == 3
    padded = tmp_path / "padded.json"
    padded.write_bytes(b"\n\n  \n" + data)
    assert json_lines_start(padded) == 0  # line numbers count from the first byte
    assert splits_of([tmp_path], 300)[0]
    for split_bytes in (1, 150, 700):
        check_split([tmp_path], split_bytes)


def test_duplicates_across_inputs_with_split_files(tmp_path: Path) -> None:
    """The second input repeats half of the first: its copies are dropped, counted per file."""
    first, second = tmp_path / "one", tmp_path / "two"
    first.mkdir()
    second.mkdir()
    lines = [record_line(i) for i in range(30)]
    (first / "PT1H.json").write_bytes(b"\n".join(lines[:20]) + b"\n")
    (second / "PT1H.json").write_bytes(b"\n".join([*lines[10:], b"{bad"]) + b"\n")
    assert all(splits_of([first, second], 400))
    for split_bytes in (300, 900, 2000):
        check_split([first, second], split_bytes)
    _, stats = routes([first, second], 300)[0]  # type: ignore[misc]
    assert stats.duplicates_dropped == 10


def test_an_over_long_line_across_boundaries(tmp_path: Path) -> None:
    from pullpath.adapters.logs_files import MAX_LINE_BYTES

    long_line = b'{"time": "' + b"x" * (MAX_LINE_BYTES + 10) + b'"}'
    data = b"\n".join([record_line(1), long_line, record_line(2), b"{bad", record_line(3)])
    path = tmp_path / "PT1H.json"
    path.write_bytes(data + b"\n")
    for split_bytes in (1000, MAX_LINE_BYTES // 3, MAX_LINE_BYTES + 500):
        check_split([path], split_bytes)
