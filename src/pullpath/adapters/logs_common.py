"""What every log reader shares: the line limit, the ``Read`` result of a reader, and what one
record becomes (``_emit``: an event counted as read, or a skip counted where it was).

Below every other ``logs_*`` module (it imports none of them).
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator

from pullpath.core.groups import MAX_READ_GROUPS
from pullpath.core.records import RecordError, parse_record
from pullpath.domain.events import Location, PullEvent, ReadStats, Skip

MAX_LINE_BYTES = 4 * 1024 * 1024
"""A JSON line longer than this is skipped (``line-too-long``) without being held in memory."""


def max_read_groups() -> int:
    """Distinct groups one reader holds (``core.groups.MAX_READ_GROUPS``, or
    ``$PULLPATH_MAX_READ_GROUPS``)."""
    value = os.environ.get("PULLPATH_MAX_READ_GROUPS", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else MAX_READ_GROUPS


Read = Generator[PullEvent, None, int | None]
"""The events of a stream, then the number of its last line read (None: not read by lines)."""


def _emit(record: object, where: Location, stats: ReadStats) -> Iterator[PullEvent]:
    try:
        event = parse_record(record)
    except RecordError as exc:
        stats.count_skip(Skip(where, exc.reason, exc.detail))
        return
    stats.count_read(where.file)
    yield event
