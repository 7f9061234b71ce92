"""Classify a caller: its source, the path its request took, and the consumer behind it.

Pure: works on an ``Inventory`` and a ``TagIndex`` built elsewhere. Each answer carries its
reasons; missing evidence gives ``unknown`` with what is missing, never a guess.
"""

from __future__ import annotations

import enum
import functools
import ipaddress
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime
from typing import TYPE_CHECKING, NamedTuple

from pullpath.core.callers import CallerHints
from pullpath.core.inventory import export_hint, split_image
from pullpath.core.ipaddr import (
    address_text,
    ip_from_packed,
    is_private_packed,
    packed_ip,
    parse_ip,
    unroutable_packed,
)
from pullpath.core.ipindex import PrefixIndex
from pullpath.core.records import FIREWALL_DENIAL_RE
from pullpath.domain.inventory import (
    ConsumerKind,
    Inventory,
    ManagedEnvironment,
    PublicIp,
    Registry,
    ResourceConflict,
    norm_id,
)
from pullpath.domain.resource_id import name_of, owner_of
from pullpath.domain.verdicts import (
    Confidence,
    ConsumerRef,
    Path,
    PathVerdict,
    Source,
    SourceKind,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pullpath.core.servicetags import TagIndex, TagMatch
    from pullpath.domain.explain import TrustedCaller

DENIED_RESULTS = frozenset({"401", "403"})

CONTRADICTS_INVENTORY = ("a request from this source that passed the network rules "
                         "contradicts the registry's rules as inventoried: the inventory may "
                         "be stale")
"""The last reason of a request that passed although no inventoried rule admits it."""


def inconclusive_result(result: str) -> bool:
    """5xx and 429: the request failed or was throttled somewhere, which says nothing about
    whether (or how) it passed the network rules. Any other status means the registry itself
    processed the request (a 404 included), so the network rules let it in."""
    return result == "429" or result.startswith("5")


class Call(NamedTuple):
    """The parts of an event (or a group of identical events) that decide its path (a named
    tuple: the audit makes one per distinct caller, and a frozen dataclass costs 3x more)."""

    registry: str
    """Login server."""
    registry_id: str
    caller_ip: str
    identity: str
    result: str
    result_description: str


class Classifier:
    """Answers source, path and consumer questions against one inventory and tag index."""

    def __init__(self, inventory: Inventory | None, tags: TagIndex | None,
                 callers: Sequence[TrustedCaller] = ()) -> None:
        """``callers``: the knowledge base's callers that are not consumers; a pull from a
        Microsoft address that no identity ties to a consumer names those possible for its
        registry and path (``CallerHints``)."""
        self.inventory = inventory if inventory is not None else Inventory()
        self.tags = tags
        inv = self.inventory
        self._hints = CallerHints(inv, callers)
        self._subnet_ids = sorted(inv.subnets)
        self._subnets = PrefixIndex.build(
            (prefix, i)
            for i, sid in enumerate(self._subnet_ids)
            for prefix in inv.subnets[sid].prefixes
        )
        self._public_ip_owner: dict[str, str] = {}
        for pip in inv.public_ips.values():
            if pip.ip_address:
                self._public_ip_owner.setdefault(_canon(pip.ip_address), pip.id)
        for env in inv.environments.values():
            for ip in (env.static_ip, *env.outbound_ips):
                if ip:
                    self._public_ip_owner.setdefault(_canon(ip), env.id)
        # a public IP or environment given twice with different addresses: every address it
        # was given is looked up, so that a flow from any of them is known to depend on it
        self._registry_conflicts: dict[str, list[ResourceConflict]] = defaultdict(list)
        for cid, conflict in inv.conflicts.items():
            owner = owner_of(cid, "microsoft.containerregistry/registries")
            if owner in inv.registries:
                self._registry_conflicts[owner].append(conflict)
            for rec in conflict.versions:
                addresses: tuple[str, ...] = ()
                if isinstance(rec, PublicIp):
                    addresses = (rec.ip_address,)
                elif isinstance(rec, ManagedEnvironment):
                    addresses = (rec.static_ip, *rec.outbound_ips)
                for ip in addresses:
                    if ip:
                        self._public_ip_owner.setdefault(_canon(ip), cid)
        self._without_properties = frozenset(inv.without_properties)
        self._sparse_vnets = [v for v in inv.vnets if v in self._without_properties]
        self._pip_nat: dict[str, str] = {}
        for nat in inv.nat_gateways.values():
            for pid in nat.public_ip_ids:
                self._pip_nat[pid] = nat.id
        self._consumers_by_subnet: dict[str, list[str]] = defaultdict(list)
        self._consumers_by_ip: dict[str, list[str]] = defaultdict(list)
        self._consumers_by_principal: dict[str, list[str]] = defaultdict(list)
        self._consumers_by_environment: dict[str, list[str]] = defaultdict(list)
        for c in inv.consumers.values():
            if c.environment_id:
                self._consumers_by_environment[c.environment_id].append(c.id)
            for sid in c.subnet_ids:
                self._consumers_by_subnet[sid].append(c.id)
            for ip in (*c.private_ips, *c.public_ips):
                if ip:
                    self._consumers_by_ip[_canon(ip)].append(c.id)
            for pid in (*c.principal_ids, *c.client_ids):
                if pid:
                    self._consumers_by_principal[pid.lower()].append(c.id)
        holders_of: dict[str, list[str]] = defaultdict(list)
        for c in inv.consumers.values():
            for uid in dict.fromkeys(c.identity_ids):
                holders_of[uid].append(c.id)
        for identity in inv.identities.values():
            holders = holders_of.get(identity.id, [])
            for pid in (identity.principal_id, identity.client_id):
                if pid:
                    for holder in holders:
                        if holder not in self._consumers_by_principal[pid.lower()]:
                            self._consumers_by_principal[pid.lower()].append(holder)
        self._identity_names: dict[str, str] = {}
        for identity in inv.identities.values():
            for pid in (identity.principal_id, identity.client_id):
                if pid:
                    self._identity_names.setdefault(pid.lower(), identity.name)
        self._registries: dict[tuple[str, str], Registry | None] = {}
        self._source_cache: dict[str, Source] = {}
        self._subnet_hint: dict[str, int] = {}
        self._node_subnets: dict[int, tuple[int, ...]] = {}
        self._shared_subnets: dict[str, tuple[str, ...]] = {}
        """Caller address -> the subnets it is in, when more than one (overlapping prefixes
        in different VNets): the logs cannot tell which."""
        self._tag_hint: dict[str, TagMatch | None] = {}

    # ----------------------------------------------------------------- source
    def source(self, caller_ip: str) -> Source:
        cached = self._source_cache.get(caller_ip)
        if cached is None:
            packed = packed_ip(caller_ip)
            text = "" if packed is None else address_text(packed)
            cached = self._source(caller_ip, packed, text)
            if len(self._source_cache) < 1_000_000:
                self._source_cache[caller_ip] = cached
        return cached

    def prime_sources(self, callers: Iterable[str]) -> None:
        """Classify many callers at once: one vectorised subnet search and one service-tag
        search (``PrefixIndex.locate_packed``, ``TagIndex.lookup_packed``) for all their distinct
        addresses, so that ``source`` of each needs no search of its own. Each caller is
        parsed once."""
        cache = self._source_cache
        todo: list[tuple[str, bytes | None, str]] = []
        addresses: dict[str, bytes] = {}
        for caller in dict.fromkeys(callers):
            if caller in cache:
                continue
            packed = packed_ip(caller)
            if packed is None:
                todo.append((caller, None, ""))
                continue
            text = address_text(packed)
            todo.append((caller, packed, text))
            addresses.setdefault(text, packed)
        if not addresses:
            return
        texts = list(addresses)
        packs = list(addresses.values())
        self._subnet_hint = dict(zip(texts, self._subnets.locate_packed(packs).tolist(),
                                     strict=True))
        if self.tags is not None:
            self._tag_hint = dict(zip(texts, self.tags.lookup_packed(packs), strict=True))
        try:
            for caller, packed, text in todo:
                if caller not in cache:  # the same as ``source(caller)``, parsed once
                    source = self._source(caller, packed, text)
                    if len(cache) < 1_000_000:
                        cache[caller] = source
        finally:
            self._subnet_hint = {}
            self._tag_hint = {}

    def _subnets_at(self, packed: bytes, text: str) -> tuple[int, ...]:
        """Every subnet (index into ``_subnet_ids``) whose prefix holds the address, the most
        specific first: one for a well-formed inventory, more when subnets of different VNets
        overlap (the same 10.0.2.0/24 in two VNets)."""
        node = self._subnet_hint.get(text)
        if node is None:
            node = self._subnets.locate(ip_from_packed(packed))
        if node < 0:
            return ()
        found = self._node_subnets.get(node)
        if found is None:
            found = tuple(dict.fromkeys(p for _, payloads in self._subnets.chain(node)
                                        for p in payloads))
            self._node_subnets[node] = found
        return found

    def _tag_match(self, tags: TagIndex, packed: bytes, text: str) -> TagMatch | None:
        if text in self._tag_hint:
            return self._tag_hint[text]
        return tags.lookup(ip_from_packed(packed))

    def _source(self, caller_ip: str, packed: bytes | None, text: str) -> Source:
        """The source of ``caller_ip``, given ``packed_ip(caller_ip)`` and its text
        (``address_text``): what ``parse_ip`` reads, as 4 or 16 bytes (an address object is made
        only where one is needed: the common callers need none)."""
        if packed is None:
            note = "no caller IP in the record" if not caller_ip else "not an IP address"
            return Source(SourceKind.INVALID, note=note)
        why = unroutable_packed(packed)
        if why:
            return Source(SourceKind.INVALID, ip="", note=f"{text} is {why}, not a caller "
                          "address a registry can see")
        found = self._subnets_at(packed, text)
        if len(found) == 1:
            subnet = self.inventory.subnets[self._subnet_ids[found[0]]]
            return Source(SourceKind.SUBNET, ip=text, subnet_id=subnet.id, vnet_id=subnet.vnet_id,
                          prefix=_matching(ip_from_packed(packed), subnet.prefixes))
        if found:
            return self._shared_subnet(text, ip_from_packed(packed), found)
        owner = self._public_ip_owner.get(text)
        if owner is not None:
            nat = self._pip_nat.get(owner, "")
            return Source(SourceKind.CUSTOMER_PUBLIC_IP, ip=text, resource_id=owner,
                          note=f"NAT gateway {nat}" if nat else "")
        if is_private_packed(packed):
            return Source(SourceKind.PRIVATE_UNMAPPED, ip=text)
        if self.tags is not None:
            match = self._tag_match(self.tags, packed, text)
            if match is not None:
                return Source(SourceKind.AZURE_PLATFORM, ip=text, service_tag=match.name,
                              region=match.region, tag_count=len(match.all_tags),
                              prefix=match.prefix)
            return Source(SourceKind.INTERNET, ip=text)
        return Source(SourceKind.INTERNET, ip=text, note="no service tags loaded")

    def _shared_subnet(self, text: str, ip: ipaddress.IPv4Address | ipaddress.IPv6Address,
                       found: tuple[int, ...]) -> Source:
        """The source of an address inside several subnets: kind ``subnet`` without a subnet
        or VNet (the logs cannot tell which), the most specific prefix, the candidates named in
        the note and kept for ``consumer``."""
        subnets = [self.inventory.subnets[self._subnet_ids[i]] for i in found]
        prefixes = [_matching(ip, s.prefixes) for s in subnets]
        names = [f"{name_of(s.vnet_id) or '?'}/{s.name}" for s in subnets]
        if len(set(prefixes)) == 1:
            where = (f"{prefixes[0]} of both {names[0]} and {names[1]}" if len(names) == 2 else
                     f"{prefixes[0]} of each of {', '.join(names[:-1])} and {names[-1]}")
        else:
            parts = [f"{p} of {n}" for p, n in zip(prefixes, names, strict=True)]
            where = f"{', '.join(parts[:-1])} and {parts[-1]}"
        if len(self._shared_subnets) < 1_000_000:
            self._shared_subnets[text] = tuple(s.id for s in subnets)
        return Source(SourceKind.SUBNET, ip=text, prefix=prefixes[0],
                      note=f"{text} is in {where}: the logs cannot tell which")

    def subnet_candidates(self, source: Source) -> tuple[str, ...]:
        """The subnets a ``subnet`` source may be in: its subnet, or every subnet that holds the
        address when several do (``Source.subnet_id`` is then "")."""
        if source.kind is not SourceKind.SUBNET:
            return ()
        if source.subnet_id:
            return (source.subnet_id,)
        found = self._shared_subnets.get(source.ip)
        if found is None:
            packed = packed_ip(source.ip)
            found = () if packed is None else tuple(
                self._subnet_ids[i] for i in self._subnets_at(packed, source.ip))
        return found

    # ------------------------------------------------------------------- path
    def registry(self, call: Call) -> Registry | None:
        return self._registry_for(call.registry, call.registry_id)

    def registry_name(self, label: str, registry_id: str) -> str:
        """A flow's registry: the login server. A record without one is named by its
        resource ID; the inventory's registry with that ID gives the login server back."""
        registry = self._registry_for(label, registry_id)
        return registry.login_server if registry is not None and registry.login_server else label

    def _registry_for(self, label: str, registry_id: str) -> Registry | None:
        """``Inventory.registry_for``, asked once per login server and resource ID."""
        key = (label, registry_id)
        try:
            return self._registries[key]
        except KeyError:
            found = self._registries[key] = self.inventory.registry_for(label, registry_id)
            return found

    def path(self, call: Call, source: Source) -> PathVerdict:
        verdict = self._path(call, source)
        if source.kind is not SourceKind.AZURE_PLATFORM or not self._hints.callers:
            return verdict
        if call.identity and call.identity.lower() in self._consumers_by_principal:
            return verdict  # the identity names a consumer: ``consumer`` attributes it
        registry = self.registry(call)
        hint = (self._hints.reason(registry, verdict.path, call.identity)
                if registry is not None else "")
        return replace(verdict, reasons=(*verdict.reasons, hint)) if hint else verdict

    def _path(self, call: Call, source: Source) -> PathVerdict:
        registry = self.registry(call)
        name = call.registry or call.registry_id or "the registry"
        conflicts = self._registry_conflicts.get(registry.id, ()) if registry is not None else ()
        if source.kind is SourceKind.CUSTOMER_PUBLIC_IP:
            owner = self.inventory.conflicts.get(source.resource_id)
            if owner is not None:
                conflicts = (*conflicts, owner)
        sparse = registry is not None and registry.id in self._without_properties
        if call.result in DENIED_RESULTS:
            if sparse and not conflicts:
                denied = _denied(call, source, registry)
                return denied if denied.denial != "unknown" else replace(
                    denied, missing=(self._sparse_registry(name, registry),))
            if not conflicts:
                return _denied(call, source, registry)
            denied = _denied(call, source, None)  # firewall or authorisation: from the record
            if denied.denial != "unknown":
                return denied
            return replace(denied, reasons=(*denied.reasons, *_not_judged(conflicts)),
                           missing=_consistent(conflicts))
        reasons: list[str] = [_describe_source(source)]
        if inconclusive_result(call.result):
            reasons.append(f"result {call.result}: the request failed or was throttled, which "
                           "does not show how it passed the network rules")
            return PathVerdict(Path.UNKNOWN, Confidence.NONE, tuple(reasons),
                               missing=("a result showing the registry processed the request",))
        if call.result:
            reasons.append(f"result {call.result}: the registry processed the request, so it "
                           "passed the network rules")
        if source.kind is SourceKind.INVALID:
            return PathVerdict(Path.UNKNOWN, Confidence.NONE, tuple(reasons),
                               missing=("a valid caller IP address",))
        if conflicts:
            return PathVerdict(Path.UNKNOWN, Confidence.NONE,
                               (*reasons, *_not_judged(conflicts)), missing=_consistent(conflicts))
        if sparse:
            return PathVerdict(Path.UNKNOWN, Confidence.NONE, tuple(reasons),
                               missing=(self._sparse_registry(name, registry),))
        if registry is None or not registry.has_config:
            what = ("registry configuration for " + name +
                    " (add the registry's ARM JSON to --inventory)")
            return PathVerdict(Path.UNKNOWN, Confidence.NONE, tuple(reasons), missing=(what,))
        confidence = Confidence.HIGH if call.result else Confidence.MEDIUM
        missing: tuple[str, ...] = () if call.result else ("a result status in the record",)
        if source.kind in (SourceKind.SUBNET, SourceKind.PRIVATE_UNMAPPED):
            approved = registry.approved_private_endpoint_ids
            if approved:
                reasons.append(f"registry {registry.name} has {len(approved)} approved private "
                               "endpoint(s)")
                if source.kind is SourceKind.PRIVATE_UNMAPPED:
                    confidence = Confidence.MEDIUM
                    missing = (*missing, self._subnet_hint_for(source.ip))
                elif not source.subnet_id:  # in subnets of several VNets
                    confidence = Confidence.MEDIUM
                    missing = (*missing, f"which of the subnets holding {source.ip} the caller is "
                                         "in (the logs name no VNet)")
                return PathVerdict(Path.PRIVATE_ENDPOINT, confidence, tuple(reasons), missing)
            reasons.append(f"registry {registry.name} has no approved private endpoint in the "
                           "inventory")
            return PathVerdict(Path.UNKNOWN, Confidence.LOW, tuple(reasons),
                               missing=("the private endpoint this private caller came through",))
        # a public caller
        public_disabled = registry.public_network_access.lower() == "disabled"
        if registry.open_to_all:
            reasons.append(f"registry {registry.name} allows all networks (publicNetworkAccess "
                           f"{registry.public_network_access or 'not set'}, defaultAction "
                           f"{registry.default_action or 'not set'})")
            if registry.assumed_defaults:
                confidence = Confidence.MEDIUM
                missing = (*missing, *(f"the registry's {d}" for d in registry.assumed_defaults))
            return PathVerdict(Path.PUBLIC, confidence, tuple(reasons), missing)
        if public_disabled:
            reasons.append(f"registry {registry.name} has publicNetworkAccess Disabled: IP rules "
                           "do not apply")
        else:
            rule = _ip_rule_match(source.ip, registry.ip_rules)
            if rule:
                reasons.append(f"{source.ip} is inside the registry's IP rule {rule}")
                return PathVerdict(Path.FIREWALL_RULE, confidence, tuple(reasons), missing)
            reasons.append(f"registry {registry.name} denies by default (defaultAction Deny) and "
                           f"no IP rule contains {source.ip}")
        if source.kind is SourceKind.AZURE_PLATFORM and registry.trusted_services_allowed:
            reasons.append("networkRuleBypassOptions AzureServices: trusted Microsoft services "
                           "may bypass the network rules")
            return PathVerdict(Path.TRUSTED_SERVICE, confidence, tuple(reasons), missing)
        if source.kind is SourceKind.AZURE_PLATFORM:
            reasons.append(f"trusted services are {'not allowed' if registry.bypass else 'unknown'}"
                           " (networkRuleBypassOptions "
                           f"{registry.bypass or 'missing'})")
        reasons.append(CONTRADICTS_INVENTORY)
        return PathVerdict(Path.UNKNOWN, Confidence.LOW, tuple(reasons),
                           missing=("a network rule that admits this caller",))

    @staticmethod
    def _sparse_registry(name: str, registry: Registry | None) -> str:
        rid = registry.id if registry is not None else ""
        return (f"registry configuration for {name}: the inventory has the registry without its "
                f"properties (az resource list does not export them); {export_hint([rid])}")

    def _subnet_hint_for(self, ip: str) -> str:
        if self._sparse_vnets:
            return (f"the subnet of {ip}: {len(self._sparse_vnets)} VNet(s) in --inventory have no "
                    f"properties, so no subnets (az resource list does not export them); "
                    f"{export_hint(self._sparse_vnets)}")
        return f"the subnet of {ip} (add its VNet to --inventory)"

    # --------------------------------------------------------------- consumer
    def consumer(self, source: Source, identity: str) -> ConsumerRef:
        network: list[str] = []
        by = ""
        if source.ip:
            network = list(self._consumers_by_ip.get(source.ip, ()))
            by = "private-ip" if source.kind is SourceKind.SUBNET else "public-ip"
        shared = source.kind is SourceKind.SUBNET and not source.subnet_id
        if source.kind is SourceKind.SUBNET and (shared or not network):
            # an address in subnets of several VNets: the consumers of each, and those with
            # that private IP in any of them, are all candidates
            network += [c for sid in self.subnet_candidates(source)
                        for c in self._consumers_by_subnet.get(sid, ())]
            by = "subnet"
        if not network and source.kind is SourceKind.CUSTOMER_PUBLIC_IP:
            nat = self._pip_nat.get(source.resource_id)
            if nat is not None:
                subnets = self.inventory.nat_gateways[nat].subnet_ids
                network = [c for s in subnets for c in self._consumers_by_subnet.get(s, ())]
                by = "nat-gateway"
            elif source.resource_id in self.inventory.environments:
                network = list(self._consumers_by_environment.get(source.resource_id, ()))
                by = "public-ip"
        by_identity = (list(self._consumers_by_principal.get(identity.lower(), ()))
                       if identity else [])
        candidates: list[str]
        if network and by_identity:
            both = [c for c in network if c in by_identity]
            if both:
                candidates, by = both, f"{by}+identity"
            else:
                candidates = network
        elif network:
            candidates = network
        elif by_identity:
            candidates, by = by_identity, "identity"
        else:
            return ConsumerRef.unknown()
        candidates = list(dict.fromkeys(candidates))
        if len(candidates) == 1 and not (shared and by == "subnet"):
            c = self.inventory.consumers[candidates[0]]
            return ConsumerRef(c.kind, c.id, (), by)
        return ConsumerRef.unknown(tuple(sorted(candidates)), by)

    def narrow_by_image(self, ref: ConsumerRef, registry: str, repository: str, tag: str,
                        identity: str = "") -> tuple[ConsumerRef, str]:
        """Candidates narrowed by the image each one's spec names (ACI containers, Container
        Apps template, App Service ``DOCKER|`` images), with the sentence that says so ("" when
        there is nothing to narrow). One candidate naming the pulled repository (and tag, when
        both give one) while every other names other images: that consumer, by ``<by>+image``.
        Otherwise the candidates stay, those whose specs name other images dropped when one
        does; a consumer whose spec names no image it pulls (AKS, ACR Tasks, images not in the
        inventory) can never be excluded. The log's digest is not compared (flows hold none):
        a digest-pinned spec matches by repository."""
        if len(ref.candidates) < 2 or not repository:
            return ref, ""
        levels = {cid: self._names_image(cid, registry, repository, tag)
                  for cid in ref.candidates}
        best = max(levels.values())
        winners = [cid for cid, level in levels.items() if level == best]
        unsure = [cid for cid, level in levels.items() if level is _Match.CANNOT_TELL]
        image = f"{repository}:{tag}" if tag else repository
        who = self._sharing(ref, identity)
        cannot = ""
        if unsure:
            names = _names([self._name(c) for c in unsure])
            cannot = (f"{names} pull{'s' if len(unsure) == 1 else ''} images "
                      f"{'its spec does' if len(unsure) == 1 else 'their specs do'} not list "
                      "(AKS, ACR Tasks, or images not in the inventory)")
        if best is _Match.NOT:
            return ref, f"{who}; none of their specs names image {image}: still candidates"
        if best is _Match.CANNOT_TELL:
            return ref, f"{who}; {cannot}: still candidates"
        what = (f"image {image}" if best is _Match.IMAGE else
                f"repository {repository} (by digest or without the pulled tag; the log's "
                "digest is not compared)")
        keep = [*winners, *(c for c in unsure if c not in winners)]
        if len(winners) == 1 and not unsure:
            c = self.inventory.consumers[winners[0]]
            return (ConsumerRef(c.kind, c.id, (), f"{ref.by}+image" if ref.by else "image"),
                    f"{who}; only {c.name}'s spec names {what}")
        if len(winners) == 1:
            said = f"only {self._name(winners[0])}'s spec names {what}, but {cannot}"
        else:
            said = (f"{_names([self._name(c) for c in winners])} "
                    f"{'both' if len(winners) == 2 else 'all'} name {what} in their specs")
        return ConsumerRef.unknown(tuple(sorted(keep)), ref.by), f"{who}; {said}: still candidates"

    def _names_image(self, cid: str, registry: str, repository: str, tag: str) -> _Match:
        c = self.inventory.consumers.get(cid)
        if c is None or c.kind in _NO_IMAGES or not c.images:
            return _Match.CANNOT_TELL
        found = _Match.NOT
        for image in c.images:
            host, repo, spec_tag, digest = split_image(image)
            same = host == registry or ("." not in registry and host.split(".", 1)[0] == registry)
            if not same or repo != repository.lower():
                continue
            if tag and not digest:
                if (spec_tag or "latest") == tag:
                    return _Match.IMAGE
                continue  # another tag of the same repository
            found = _Match.REPOSITORY
        return found

    def _name(self, cid: str) -> str:
        c = self.inventory.consumers.get(cid)
        return c.name if c is not None else name_of(cid)

    def _sharing(self, ref: ConsumerRef, identity: str) -> str:
        names = _names([self._name(c) for c in ref.candidates])
        if ref.by == "identity" and identity:
            label = self._identity_names.get(identity.lower(), identity)
            return f"identity {label} is shared by {names}"
        return f"{names} are candidates (by {ref.by or 'network'})"


def tags_older_than_event(
    verdict: PathVerdict, source: Source, published: date | None, newest: datetime | None
) -> PathVerdict:
    """``verdict`` with the tag file as the likely cause when that fits better than the
    inventory: a caller in no service tag and not the customer's (``internet``) whose request
    passed although no inventoried rule admits it (``CONTRADICTS_INVENTORY``), in events newer
    than the tag file (``published``). Microsoft adds addresses every week, so a newer
    Microsoft address is missing from an older file. Any other verdict is returned as is."""
    if (published is None or newest is None or source.kind is not SourceKind.INTERNET
            or verdict.path is not Path.UNKNOWN or not verdict.reasons
            or verdict.reasons[-1] != CONTRADICTS_INVENTORY):
        return verdict
    event_day = newest.date()
    if event_day <= published:
        return verdict
    reason = (
        "a request from this source that passed the network rules contradicts the registry's "
        f"rules as inventoried, unless the caller is a Microsoft address newer than the tags: "
        f"the service tags file is from {published.isoformat()}, older than this event "
        f"({event_day.isoformat()}): a new Microsoft address may be missing; run "
        "`pullpath service-tags update`"
    )
    missing = (*verdict.missing,
               "service tags published after the event (pullpath service-tags update)")
    return PathVerdict(verdict.path, verdict.confidence, (*verdict.reasons[:-1], reason),
                       missing=missing, denial=verdict.denial)


class _Match(enum.IntEnum):
    """How far a consumer's spec names a pulled image (``narrow_by_image``), ordered."""

    NOT = 0
    """Its spec lists images, none of them this one."""
    CANNOT_TELL = 1
    """Its spec lists no image it pulls (AKS, ACR Tasks) or its images are not known."""
    REPOSITORY = 2
    """It names the repository; the tag or digest cannot be compared."""
    IMAGE = 3
    """It names the repository and the pulled tag."""


_NO_IMAGES = frozenset({ConsumerKind.AKS, ConsumerKind.ACR_TASKS, ConsumerKind.UNKNOWN})
"""Consumers whose ARM spec does not list the images they pull."""


def _names(names: list[str]) -> str:
    """``a and b``, ``a, b and c``; more than four: ``a, b, c, d and 3 more``."""
    if len(names) > 4:
        return f"{', '.join(names[:4])} and {len(names) - 4} more"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _canon(ip: str) -> str:
    parsed = parse_ip(ip)
    return str(parsed) if parsed is not None else ip.strip().lower()


def _matching(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, prefixes: tuple[str, ...]) -> str:
    for p in prefixes:
        try:
            if ip in _network(p):
                return p
        except ValueError:
            continue
    return ""


@functools.lru_cache(maxsize=4096)
def _network(rule: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(rule, strict=False)


def _ip_rule_match(ip: str, rules: tuple[str, ...]) -> str:
    if not ip:
        return ""
    addr = ipaddress.ip_address(ip)
    for rule in rules:
        try:
            if addr in _network(rule):
                return rule
        except ValueError:
            continue
    return ""


def _not_judged(conflicts: Iterable[ResourceConflict]) -> tuple[str, ...]:
    return tuple(f"{c.describe()}: the audit does not judge a path that depends on it"
                 for c in conflicts)


def _consistent(conflicts: Iterable[ResourceConflict]) -> tuple[str, ...]:
    return tuple(f"one consistent record of {c.what} {name_of(c.resource_id)} "
                 f"(give it once in --inventory; read at {', '.join(c.locations)})"
                 for c in conflicts)


def _describe_source(source: Source) -> str:
    kind = source.kind
    if kind is SourceKind.SUBNET:
        if not source.subnet_id and source.note:  # several subnets hold the address
            return f"caller {source.note}"
        return f"caller {source.ip} is in subnet {source.subnet_id} ({source.prefix})"
    if kind is SourceKind.CUSTOMER_PUBLIC_IP:
        extra = f" ({source.note})" if source.note else ""
        return f"caller {source.ip} is the customer's public IP {source.resource_id}{extra}"
    if kind is SourceKind.PRIVATE_UNMAPPED:
        return f"caller {source.ip} is a private address in no inventoried subnet"
    if kind is SourceKind.AZURE_PLATFORM:
        region = f", region {source.region}" if source.region else ""
        return (f"caller {source.ip} is a Microsoft address: service tag {source.service_tag} "
                f"({source.prefix}{region}; in {source.tag_count} tag(s)) and no customer resource")
    if kind is SourceKind.INTERNET:
        return f"caller {source.ip} is a public address outside Microsoft's service tags"
    return f"caller address unusable: {source.note}"


def _denied(call: Call, source: Source, registry: Registry | None) -> PathVerdict:
    reasons = [f"result {call.result}: the registry refused the request", _describe_source(source)]
    if FIREWALL_DENIAL_RE.search(call.result_description):
        reasons.append(f"the registry said: {call.result_description[:200]}")
        return PathVerdict(Path.DENIED, Confidence.HIGH, tuple(reasons), denial="firewall")
    if call.result == "401":
        reasons.append("401: the caller was not authenticated (authorisation, not the firewall)")
        return PathVerdict(Path.DENIED, Confidence.HIGH, tuple(reasons), denial="authorisation")
    # 403 without the firewall message: decide from the registry's rules where we can
    if registry is not None and registry.has_config and source.ip:
        admitted = (
            registry.open_to_all
            or (source.kind in (SourceKind.SUBNET, SourceKind.PRIVATE_UNMAPPED)
                and bool(registry.approved_private_endpoint_ids))
            or (registry.public_network_access.lower() != "disabled"
                and bool(_ip_rule_match(source.ip, registry.ip_rules)))
        )
        if admitted:
            reasons.append("the network rules admit this caller, so the refusal is authorisation "
                           "(missing role or token)")
            return PathVerdict(Path.DENIED, Confidence.MEDIUM, tuple(reasons),
                               denial="authorisation")
        reasons.append("the network rules do not admit this caller, so the refusal is most "
                       "likely the firewall")
        return PathVerdict(Path.DENIED, Confidence.MEDIUM, tuple(reasons), denial="firewall")
    return PathVerdict(Path.DENIED, Confidence.MEDIUM, tuple(reasons), denial="unknown",
                       missing=("the registry configuration, to tell firewall from authorisation",))


__all__ = ["Call", "Classifier", "norm_id"]
