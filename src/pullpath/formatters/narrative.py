"""What happened, in plain words: one sentence per consumer and path of an audit.

Built from the verdicts (never canned): the table view ends with it, and ``pullpath demo``
shows it. Each disagreement with the knowledge base's prediction is said once per consumer
(``disagreements``). Every logged value is made terminal-safe here (``term_safe``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from pullpath.domain.report import AuditReport
from pullpath.domain.resource_id import name_of
from pullpath.domain.verdicts import PATH_ORDER, Expectation, Flow, Path, SourceKind, request_kind
from pullpath.formatters.common import term_safe

MAX_SENTENCES = 30
"""Sentences shown at most (the rest is counted: JSON and CSV list every flow)."""

WHERE: dict[SourceKind, str] = {
    SourceKind.SUBNET: "from {ips} in subnet {places}",
    SourceKind.CUSTOMER_PUBLIC_IP: "from your public IP {ips} ({places})",
    SourceKind.PRIVATE_UNMAPPED: "from private address {ips}, in no subnet of the inventory",
    SourceKind.AZURE_PLATFORM: "from Microsoft public IP {ips} ({places}), an address that "
                               "belongs to none of your resources",
    SourceKind.INTERNET: "from internet address {ips}",
    SourceKind.INVALID: "from an unusable caller address ({ips})",
}

HOW: dict[Path, str] = {
    Path.PRIVATE_ENDPOINT: "through the private endpoint",
    Path.TRUSTED_SERVICE: "via the trusted-services bypass of the registry's firewall, not "
                          "through a private endpoint",
    Path.FIREWALL_RULE: "through a firewall IP rule of the registry",
    Path.PUBLIC: "over the registry's public endpoint, open to all networks",
    Path.DENIED: "and was refused",
    Path.UNKNOWN: "by a path the evidence cannot decide",
}


@dataclass
class _Story:
    """The flows of one consumer (or unattributed source) and path at one registry."""

    first: Flow
    requests: dict[str, int] = field(default_factory=dict)
    callers: dict[str, None] = field(default_factory=dict)
    images: dict[str, None] = field(default_factory=dict)
    places: dict[str, None] = field(default_factory=dict)
    others: dict[str, None] = field(default_factory=dict)
    denials: dict[str, None] = field(default_factory=dict)
    missing: dict[str, None] = field(default_factory=dict)
    disagreement: Expectation | None = None

    def add(self, flow: Flow) -> None:
        kind = request_kind(flow.table, flow.operation)
        self.requests[kind] = self.requests.get(kind, 0) + flow.count
        self.callers[flow.caller_ip or "(none)"] = None
        if kind == "pulls" and (flow.repository or flow.tag):
            self.images[flow.repository + (f":{flow.tag}" if flow.tag else "")] = None
        elif kind == "other":
            self.others[flow.operation or "?"] = None
        source = flow.source
        place = (source.service_tag or name_of(source.subnet_id) or name_of(source.resource_id))
        if place:
            self.places[place] = None
        if flow.verdict.denial:
            self.denials[flow.verdict.denial] = None
        for m in flow.verdict.missing[:2]:
            self.missing[m] = None
        e = flow.expectation
        if e is not None and e.agrees is False and self.disagreement is None:
            self.disagreement = e



def _some(values: Iterable[str], limit: int = 3, width: int = 60) -> str:
    items = list(values)
    shown = ", ".join(term_safe(v, width) for v in items[:limit])
    return shown + (f" and {len(items) - limit:,} more" if len(items) > limit else "")


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n:,} times"


def who(flow: Flow) -> str:
    """The consumer of a flow in words: ``ACI container group aci-orders``, the candidates,
    or "" when no consumer could be attributed."""
    c = flow.consumer
    if c.id:
        return f"{c.kind.noun} {term_safe(name_of(c.id), 80)}"
    if c.candidates:
        return (f"one of {len(c.candidates)} candidate consumers "
                f"({_some(name_of(x) for x in c.candidates)})")
    return ""


def _counted(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def _sentence(story: _Story, registry: str) -> str:
    first = story.first
    path = first.path
    subject = who(first) or (f"{len(story.callers):,} unattributed callers" if
                             len(story.callers) > 1 else "an unattributed caller")
    subject = subject[0].upper() + subject[1:]
    pulls, logins = story.requests.get("pulls", 0), story.requests.get("logins", 0)
    other = story.requests.get("other", 0)
    images = f" ({_some(story.images)})" if story.images else ""
    others = f" ({_some(story.others, width=20)})" if story.others else ""
    at = f" at {term_safe(registry, 80)}" if registry else ""
    where = WHERE.get(first.source.kind, "from {ips}").format(
        ips=_some(story.callers, width=45), places=_some(story.places) or "?")
    if path is Path.DENIED:
        tried = [_counted(pulls, "pull", "pulls") + images if pulls else "",
                 _counted(logins, "login", "logins") if logins else "",
                 _counted(other, "other request", "other requests") + others if other else ""]
        text = (f"{subject} was refused {_times(sum(story.requests.values()))} "
                f"({_some(story.denials, width=20) or 'denied'}){at} {where}: "
                f"{', '.join(t for t in tried if t)}.")
    else:
        verbs = [f"pulled {_times(pulls)}{images}" if pulls else "",
                 f"logged in {_times(logins)}" if logins else "",
                 f"made {_counted(other, 'other request', 'other requests')}{others}"
                 if other else ""]
        how = HOW[path]
        if path is Path.UNKNOWN and story.missing:
            how += f" (missing: {_some(story.missing, limit=2, width=120)})"
        text = f"{subject} {' and '.join(v for v in verbs if v)}{at} {where}, {how}."
    if story.disagreement is not None:
        e = story.disagreement
        text += (f" The knowledge base expected {e.path.value} (rule {term_safe(e.rule, 40)}): "
                 "the documentation or the knowledge base may be out of date.")
    return text


def what_happened(report: AuditReport, *, limit: int = MAX_SENTENCES) -> list[str]:
    """One sentence per consumer (or unattributed source) and path, most events first within
    each registry, paths in their usual order; at most ``limit``, then how many more."""
    stories: dict[tuple[str, ...], _Story] = {}
    for flow in report.result.flows:
        c = flow.consumer
        whom = c.id or ("?" + "|".join(c.candidates) if c.candidates else "")
        key = (flow.registry, whom, flow.path.value, "" if whom else flow.source.kind.value)
        story = stories.get(key)
        if story is None:
            story = stories[key] = _Story(flow)
        story.add(flow)
    registries = {key[0] for key in stories}
    rank = {p.value: i for i, p in enumerate(PATH_ORDER)}
    ordered = sorted(stories.items(), key=lambda kv: (
        kv[0][0], rank[kv[0][2]], -sum(kv[1].requests.values()), kv[0][1], kv[0][3]))
    lines = [_sentence(story, key[0] if len(registries) > 1 else "")
             for key, story in ordered[:limit]]
    if len(ordered) > limit:
        lines.append(f"... and {len(ordered) - limit:,} more consumer(s) and path(s): "
                     "--format json or csv lists every flow.")
    return lines


@dataclass
class _Disagreement:
    flow: Flow
    paths: dict[str, None] = field(default_factory=dict)
    flows: int = 0
    events: int = 0


def disagreements(report: AuditReport) -> list[str]:
    """Each disagreement with the knowledge base's prediction once per consumer (and
    registry and expectation), with the paths it took and how many events."""
    found: dict[tuple[str, str, str, str], _Disagreement] = {}
    for flow in report.result.flows:
        e = flow.expectation
        if e is None or e.agrees is not False:
            continue
        key = (flow.consumer.id or flow.caller_ip, flow.registry, e.path.value, e.rule)
        entry = found.get(key)
        if entry is None:
            entry = found[key] = _Disagreement(flow)
        entry.paths[flow.path.value] = None
        entry.flows += 1
        entry.events += flow.count
    return [f"{who(d.flow) or term_safe(whom, 60)} reached {term_safe(registry, 80)} by "
            f"{', '.join(d.paths)} ({_counted(d.events, 'event', 'events')} in "
            f"{_counted(d.flows, 'flow', 'flows')}); the knowledge base expects {expected} "
            f"(rule {term_safe(rule, 40)})"
            for (whom, registry, expected, rule), d in found.items()]
