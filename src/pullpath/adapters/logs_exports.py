"""Log Analytics exports: the query API's ``{"tables": [...]}`` response (its rows), CSV with
the table's PascalCase column names (portal exports too, NUL damage judged per line), and
the portal's CSV in the browser's local time (read, with the warning ``read_warnings`` gives).

``logs_files`` sniffs the format and hands these readers the stream; JSON arrays and the
``{"records": [...]}``/``{"value": [...]}`` wrappers are read there.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from typing import IO, cast

from pullpath.adapters.logs_common import MAX_LINE_BYTES, Read, _emit
from pullpath.core.records import norm_key
from pullpath.domain.events import Location, PullEvent, ReadStats, Skip

MAX_CSV_FIELD = 1024 * 1024
LOCAL_TIME_KEY = "timegenerated[localtime]"
"""``TimeGenerated [Local Time]`` (``norm_key``): the portal's CSV export header when it shows
times in the browser's time zone (``TimeGenerated [UTC]`` otherwise)."""
_CSV_REQUIRED = {"operationname", "calleripaddress", "timegenerated", "category", "type"}


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
