"""Pull events grouped by everything a verdict or a flow depends on (``GroupKey``), with
their count and first/last time (``Aggregator``): what the log readers fill (pure). The audit
(``core.audit``) judges each group once and merges groups into flows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from pullpath.core.ipaddr import V4_MAYBE_UNROUTABLE, flow_address
from pullpath.domain.events import PullEvent
from pullpath.domain.resource_id import name_of


class GroupKey(NamedTuple):
    """Everything about an event that the verdict or the flow depends on (immutable; a named
    tuple because the scan makes one per distinct caller and a dataclass costs 5x more)."""

    registry: str
    registry_id: str
    table: str
    operation: str
    repository: str
    tag: str
    caller_ip: str
    identity: str
    result: str
    result_description: str


@dataclass(slots=True)
class GroupStats:
    count: int = 0
    first: datetime | None = None
    last: datetime | None = None

    def add(self, count: int, first: datetime | None, last: datetime | None) -> None:
        self.count += count
        if first is not None and (self.first is None or first < self.first):
            self.first = first
        if last is not None and (self.last is None or last > self.last):
            self.last = last


def registry_label(login_server: str, resource_id: str) -> str:
    """The registry as flows name it: its login server, else the name from its resource ID."""
    if login_server:
        return login_server
    if resource_id:
        return name_of(resource_id)
    return ""


def group_key(event: PullEvent, caller_ip: str | None = None) -> GroupKey:
    """The event's group; ``caller_ip`` replaces the logged address (see ``CallerKeys``)."""
    return GroupKey(
        registry_label(event.login_server, event.resource_id),
        event.resource_id,
        event.table.value,
        event.operation,
        event.repository,
        event.tag,
        event.caller_ip if caller_ip is None else caller_ip,
        event.identity,
        event.result,
        event.result_description,
    )


class CallerKeys:
    """Caller addresses as the aggregation keys them: the address a flow shows when there is
    one (``4.189.68.203:51544`` -> ``4.189.68.203``: ``ipaddr.flow_address``), else the value
    as logged.

    Verdicts depend on a caller only through ``parse_ip`` of it and flows show ``Source.ip``
    when the classifier gives one, so keying by that address changes no result; it keeps the
    number of groups bounded when every request carries another source port (ACI). Caches are
    bounded.
    """

    LIMIT = 200_000

    def __init__(self) -> None:
        self._other: dict[str, str] = {}

    def canonical(self, value: str) -> str:
        """``flow_address(value)``, or ``value`` when a flow would show it as logged."""
        if _DOTTED_QUAD_MATCH(value):  # the usual caller: its address is itself (or unroutable)
            return value
        ported = _PORTED_MATCH(value)
        if (ported is not None and int(ported[2]) <= 65535
                and int(ported[1].partition(".")[0]) not in V4_MAYBE_UNROUTABLE):
            # ``a.b.c.d:port`` of an address that is surely routable: the address, at once
            # (ACI's callers, another port on every request; 7,100 of the 13,000 distinct
            # callers at the bench's 1M events, each a ``flow_address`` call saved)
            return ported[1]
        cached = self._other.get(value)
        if cached is None:
            cached = flow_address(value) or value
            if len(self._other) < self.LIMIT:
                self._other[value] = cached
        return cached


_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"  # 0-255, no leading zero
DOTTED_QUAD = rf"{_OCTET}(?:\.{_OCTET}){{3}}"
"""A regular expression of an IPv4 address in its canonical form (no leading zeros, no port,
no spaces): ``parse_ip`` reads it as itself, so ``flow_address`` gives it back unchanged, or ""
when it is unroutable; ``CallerKeys.canonical`` answers the value either way, without parsing
it."""
_DOTTED_QUAD_MATCH = re.compile(DOTTED_QUAD).fullmatch
_PORTED_MATCH = re.compile(rf"({DOTTED_QUAD}):([0-9]{{1,5}})").fullmatch
"""``a.b.c.d:port``: the address and the port (at most five digits)."""


MAX_READ_GROUPS = 1_000_000
"""Distinct groups held while reading, per reading thread (the compiled scanner's raw keys,
keys of records that are skips included, about 1.2 KiB each). Events of new keys beyond it are
counted as ``overflow_events`` (reported as unclassified, failing ``--strict``), so memory stays
bounded whatever the number of distinct callers. ``$PULLPATH_MAX_READ_GROUPS`` changes it
(``adapters.logs_common.max_read_groups``)."""


class Aggregator:
    """Counts events per ``GroupKey`` with first/last time. Memory grows with distinct groups,
    up to ``max_groups``; events of further new groups are only counted."""

    def __init__(self, max_groups: int = MAX_READ_GROUPS) -> None:
        self.groups: dict[GroupKey, GroupStats] = {}
        self.events = 0
        self.newest: datetime | None = None
        self.overflow_events = 0
        self.max_groups = max_groups
        self._callers = CallerKeys()

    def add(self, event: PullEvent) -> None:
        key = group_key(event, self._callers.canonical(event.caller_ip))
        self.add_group(key, 1, event.time, event.time)

    def add_group(self, key: GroupKey, count: int, first: datetime | None,
                  last: datetime | None) -> None:
        stats = self.groups.get(key)
        if stats is None:
            if len(self.groups) >= self.max_groups:
                self.add_overflow(count)
                return
            self.groups[key] = GroupStats(count, first, last)  # as GroupStats().add(...)
        else:
            stats.add(count, first, last)
        self.events += count
        if last is not None and (self.newest is None or last > self.newest):
            self.newest = last

    def add_overflow(self, count: int) -> None:
        """Events read whose groups could not be held (beyond ``max_groups``)."""
        self.overflow_events += count
        self.events += count

    def add_all(self, events: Iterable[PullEvent]) -> Aggregator:
        for event in events:
            self.add(event)
        return self

    def merge(self, other: Aggregator) -> None:
        for key, stats in other.groups.items():
            self.add_group(key, stats.count, stats.first, stats.last)
