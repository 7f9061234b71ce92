"""Events given twice: an event an earlier input (a ``--logs`` path) already held is dropped
and counted (``ReadStats.duplicates``). Used by ``logs_files.read_events`` and by
``logs_scan.LogScan`` (its compiled scanner checks the same fingerprints);
docs/log-reading.md, "Events given twice", has the rules.
"""

from __future__ import annotations

from array import array

import numpy as np
import numpy.typing as npt

from pullpath.core.records import event_fingerprint
from pullpath.domain.events import PullEvent, ReadStats


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
