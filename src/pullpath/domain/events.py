"""Pull events and the accounting of what was read and skipped.

A pull event is one row of ``ContainerRegistryRepositoryEvents`` (Pull, Push, Delete, Untag...)
or ``ContainerRegistryLoginEvents``. Readers (in ``pullpath.adapters``) turn files or query
results into these values; everything downstream works on them only.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Table(StrEnum):
    """The two Log Analytics tables (and diagnostic categories) pullpath reads."""

    REPOSITORY = "ContainerRegistryRepositoryEvents"
    LOGIN = "ContainerRegistryLoginEvents"


@dataclass(frozen=True, slots=True)
class PullEvent:
    """One registry log record, normalised. Empty string means "not in the record"."""

    time: datetime | None
    """TimeGenerated (UTC, timezone-aware); None when the record had no usable time."""
    table: Table
    operation: str
    """OperationName: Pull, Push, Delete, Untag, Login..."""
    caller_ip: str
    """CallerIpAddress exactly as logged (may carry a port, be IPv6, empty or garbage)."""
    identity: str
    repository: str
    tag: str
    digest: str
    login_server: str
    """Registry login server, lower-case (``example.azurecr.io``)."""
    user_agent: str
    result: str
    """HTTP status as text ("200", "403"); "" when the record carries none."""
    result_description: str
    """ResultDescription when it is more than the bare status (e.g. a denial message)."""
    correlation_id: str
    resource_id: str
    """_ResourceId / resourceId of the registry, lower-case."""


@dataclass(frozen=True, slots=True)
class Location:
    """Where a record was found: a file and a line (or record index, or row)."""

    file: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line is not None else self.file


@dataclass(frozen=True, slots=True)
class Skip:
    """A record (or whole input) that could not be read, and why."""

    location: Location
    reason: str
    """A short stable reason key, e.g. ``invalid-json``, ``truncated-line``,
    ``not-a-registry-event``."""
    detail: str = ""


UNREAD_INPUTS = frozenset({"unreadable-directory", "unreadable-entry", "not-a-regular-file"})
"""``ReadStats.ignored`` kinds of inputs that were not read although they may hold logs (hidden
files, empty files and directory loops lose nothing)."""

PARTIAL_RESULTS = "partial-query-result"
"""``ReadStats.ignored`` kind of a Log Analytics query that returned only part of its rows."""

WHOLE_INPUT_SKIPS = frozenset({
    "unreadable-file", "not-a-regular-file", "corrupt-compressed-file",
    "decompressed-too-large", "document-too-large", "too-deeply-nested", "unrecognised-format",
    "not-text", "unsupported-compression", "inventory-not-logs",
})
"""Skip reasons that cost a whole input, or the rest of it from the damage on, not one record:
``ReadStats.count_skip`` counts them (and any skip without a line) in ``inputs_lost``."""


@dataclass(slots=True)
class ReadStats:
    """Accounting for one read: records seen = events read + events skipped.

    Mutable on purpose: readers fill it while streaming. Reports copy the numbers out.
    """

    files: list[str] = field(default_factory=list)
    records_seen: int = 0
    events_read: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    per_file: dict[str, dict[str, int]] = field(default_factory=dict)
    examples: list[Skip] = field(default_factory=list)
    """The first few skips with their locations (bounded: see ``MAX_EXAMPLES``)."""
    ignored: Counter[str] = field(default_factory=Counter)
    """Inputs that were not logs at all (e.g. a directory entry that is not a file)."""
    inputs_lost: Counter[str] = field(default_factory=Counter)
    """Skips, by reason, that lost a whole input (or its rest) rather than one record
    (``WHOLE_INPUT_SKIPS``, or a skip without a line)."""
    duplicates: Counter[str] = field(default_factory=Counter)
    """Per file: events dropped because an earlier input already held them (same correlation
    ID, operation and time). Not in ``records_seen``: records seen = events read + events
    skipped, and duplicates are counted apart."""
    local_time_files: list[str] = field(default_factory=list)
    """Files whose times are in the exporting browser's local time, offset unknown (a portal
    CSV headed ``TimeGenerated [Local Time]``): read as UTC, with a warning."""

    MAX_EXAMPLES = 20

    @property
    def events_skipped(self) -> int:
        return sum(self.skipped.values())

    def inputs_not_read(self) -> dict[str, int]:
        """Inputs (files, directories, query windows) that may hold events but were not read,
        whole or from a damaged spot on, by reason: what a gate must not pass on silently."""
        out = Counter(self.inputs_lost)
        for kind, n in self.ignored.items():
            if kind in UNREAD_INPUTS or kind == PARTIAL_RESULTS:
                out[kind] += n
        return dict(sorted(out.items()))

    @property
    def duplicates_dropped(self) -> int:
        return sum(self.duplicates.values())

    def count_duplicates(self, file: str, n: int = 1) -> None:
        self.file_stats(file)
        self.duplicates[file] += n

    def uncount_read(self, file: str, n: int = 1) -> None:
        """Take back ``count_read`` (an event found to be a duplicate after it was read)."""
        self.records_seen -= n
        self.events_read -= n
        stats = self.file_stats(file)
        stats["records"] -= n
        stats["events_read"] -= n

    def file_stats(self, file: str) -> dict[str, int]:
        stats = self.per_file.get(file)
        if stats is None:
            stats = {"records": 0, "events_read": 0, "events_skipped": 0}
            self.per_file[file] = stats
            if file not in self.files:
                self.files.append(file)
        return stats

    def count_read(self, file: str, n: int = 1) -> None:
        self.records_seen += n
        self.events_read += n
        stats = self.file_stats(file)
        stats["records"] += n
        stats["events_read"] += n

    def count_skip(self, skip: Skip) -> None:
        self.records_seen += 1
        self.skipped[skip.reason] += 1
        if skip.location.line is None or skip.reason in WHOLE_INPUT_SKIPS:
            self.inputs_lost[skip.reason] += 1
        stats = self.file_stats(skip.location.file)
        stats["records"] += 1
        stats["events_skipped"] += 1
        if len(self.examples) < self.MAX_EXAMPLES:
            self.examples.append(skip)

    def merge(self, other: ReadStats) -> None:
        for f in other.files:
            if f not in self.files:
                self.files.append(f)
        self.records_seen += other.records_seen
        self.events_read += other.events_read
        self.skipped.update(other.skipped)
        self.ignored.update(other.ignored)
        self.inputs_lost.update(other.inputs_lost)
        self.duplicates.update(other.duplicates)
        self.local_time_files.extend(f for f in other.local_time_files
                                     if f not in self.local_time_files)
        for f, s in other.per_file.items():
            mine = self.file_stats(f)
            for k, v in s.items():
                mine[k] = mine.get(k, 0) + v
        room = self.MAX_EXAMPLES - len(self.examples)
        if room > 0:
            self.examples.extend(other.examples[:room])
