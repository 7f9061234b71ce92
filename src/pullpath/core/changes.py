"""Which consumers' predicted paths a change moves (``explain --baseline``).

Two explain reports, the baseline's and the change's, are compared pair by pair: a pair is one
consumer (by resource ID, compared case-insensitively) pulling from one login server. A pair
whose path differs, a new pair and a removed pair are changes; a pair predicted the same is
not. Pure: no I/O.
"""

from __future__ import annotations

from pullpath.domain.explain import PairPrediction
from pullpath.domain.inventory import norm_id
from pullpath.domain.report import ExplainReport, PathChange
from pullpath.domain.verdicts import Path

__all__ = ["CHANGE_RANK", "path_changes"]

CHANGE_RANK: dict[Path | None, int] = {
    Path.DENIED: 0,
    Path.PUBLIC: 1,
    Path.TRUSTED_SERVICE: 2,
    Path.FIREWALL_RULE: 3,
    Path.UNKNOWN: 4,
    Path.PRIVATE_ENDPOINT: 5,
    None: 6,
}
"""Order of changes by their new path: a pull that will be refused first, one that stays
private (or goes away) last."""


def _key(p: PairPrediction) -> tuple[str, str]:
    return norm_id(p.consumer.id), p.login_server.strip().lower()


def _label(p: PairPrediction) -> str:
    return f"{p.consumer.kind.short} {p.consumer.name}"


def _why(old: PairPrediction | None, new: PairPrediction | None) -> tuple[str, ...]:
    """The new prediction's reasons that the old one did not have first (what changed),
    then the rest; a removed pair keeps its old reasons."""
    if new is None:
        return tuple(old.reasons) if old is not None else ()
    before = set(old.reasons) if old is not None else set()
    fresh = [r for r in new.reasons if r not in before]
    return (*fresh, *(r for r in new.reasons if r in before))


def path_changes(baseline: ExplainReport, change: ExplainReport) -> tuple[PathChange, ...]:
    """Every pair whose predicted path the change moves, the most serious first."""
    before = {_key(p): p for p in baseline.pairs}
    after = {_key(p): p for p in change.pairs}
    out: list[PathChange] = []
    for key in dict.fromkeys([*after, *before]):
        old, new = before.get(key), after.get(key)
        if old is not None and new is not None and old.expected_path == new.expected_path:
            continue
        shown = new if new is not None else old
        assert shown is not None
        out.append(PathChange(
            consumer_id=shown.consumer.id,
            consumer=_label(shown),
            login_server=shown.login_server,
            before=old.expected_path if old is not None else None,
            after=new.expected_path if new is not None else None,
            before_rule=old.rule if old is not None else "",
            after_rule=new.rule if new is not None else "",
            why=_why(old, new),
        ))
    out.sort(key=lambda c: (CHANGE_RANK[c.after], c.consumer.lower(), c.login_server.lower()))
    return tuple(out)
