"""The fast route of ``pullpath audit`` gives, flow for flow, the results of the simple route.

Fast: ``run_audit`` (JSON lines scanned into raw groups, in one or several threads, each
distinct group classified once). Reference: the per-line reader yielding one ``PullEvent`` per
record into ``audit_events_reference`` (every event classified on its own). The input is the
benchmark generator's mix at a small size, with the rarer shapes switched on: damaged lines,
a truncated last line, gzip and plain files, both tables, Log Analytics style lines, other time
precisions, values that are not strings, ports and odd caller addresses, a records wrapper, a
CSV export, an empty and a hidden file.
"""

from __future__ import annotations

import gzip
import sys
from collections import Counter
from pathlib import Path

import orjson
import pytest
from bench.generate import Dataset, generate
from hypothesis import given, settings
from hypothesis import strategies as st

import pullpath.adapters.logs_fast as logs_fast
import pullpath.adapters.logs_scan as logs_scan
from pullpath.adapters.inventory_files import read_inventory
from pullpath.adapters.logs_files import read_events
from pullpath.adapters.logs_scan import scan_logs
from pullpath.adapters.servicetags_files import load_service_tags
from pullpath.core.audit import (
    AuditResult,
    Judgements,
    audit_events_reference,
    build_flows,
    judge_key,
)
from pullpath.core.classify import Classifier
from pullpath.core.explain import explainer_for
from pullpath.core.records import RecordError, parse_record
from pullpath.domain.events import ReadStats
from pullpath.workflows.audit import classifier_for, run_audit


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    return generate(tmp_path_factory.mktemp("mixed"), 20_000, seed=11, quirks=True,
                    damage_every=700, events_per_hour=2_500)


@pytest.fixture(scope="module")
def reference(mixed: Dataset) -> AuditResult:
    inventory = read_inventory([mixed.inventory])
    stats = ReadStats()
    return audit_events_reference(
        classifier_for(inventory, load_service_tags()), read_events([mixed.logs], stats), stats,
        expect=explainer_for(inventory).expectation,
    )


def _same_accounting(fast: ReadStats, ref: ReadStats) -> None:
    assert fast.records_seen == ref.records_seen
    assert fast.events_read == ref.events_read
    assert fast.events_skipped == ref.events_skipped
    assert fast.records_seen == fast.events_read + fast.events_skipped
    assert dict(fast.skipped) == dict(ref.skipped)
    assert fast.files == ref.files
    assert fast.per_file == ref.per_file
    assert fast.examples == ref.examples
    assert dict(fast.ignored) == dict(ref.ignored)


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "python"])
@pytest.mark.parametrize("workers", [1, 2, "2-split"])
def test_fast_route_equals_reference_flow_for_flow(
    mixed: Dataset, reference: AuditResult, workers: int | str, compiled: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(logs_scan, "PARALLEL_MIN_BYTES", 0)  # use the workers even when small
    if workers == "2-split":  # every file over 20 kB read in ranges by both workers
        monkeypatch.setattr(logs_scan, "SPLIT_BYTES", 20_000)
        workers = 2
    if not compiled:  # as installed without a C compiler: tier 2 reads every line
        monkeypatch.setattr(logs_fast, "_Compiled", None)
        monkeypatch.setattr(logs_fast, "_Catalog", None)
        monkeypatch.setitem(sys.modules, "pullpath.core._archivescan", None)  # not importable
    report = run_audit([mixed.logs], inventory_paths=[mixed.inventory], workers=workers)
    fast = report.result
    assert len(fast.flows) == len(reference.flows)
    for got, want in zip(fast.flows, reference.flows, strict=True):
        assert got == want  # every field: source, verdict, consumer, count, first/last...
    assert fast.summary == reference.summary
    assert fast.newest_event == reference.newest_event
    assert fast.missing == reference.missing
    _same_accounting(fast.stats, reference.stats)
    # reading without the compiled scanner is said (here: over the threshold, set to 0)
    slow = [w for w in fast.warnings if "compiled log scanner is not installed" in w]
    assert len(slow) == (0 if compiled else 1)


def test_the_mix_exercises_what_it_should(reference: AuditResult) -> None:
    stats = reference.stats
    assert stats.events_read > 19_000
    assert {"invalid-json", "truncated-line", "not-an-object", "not-a-registry-event",
            "missing-operation", "invalid-time", "malformed-row"} <= set(stats.skipped)
    assert stats.ignored["empty-file"] == 1
    assert stats.ignored["hidden-file"] == 1
    assert any(name.endswith(".gz") for name in stats.files)
    assert any(name.endswith("PT1H.json") for name in stats.files)
    paths = {flow.path.value for flow in reference.flows}
    assert {"private-endpoint", "trusted-service", "firewall-rule", "public", "denied",
            "unknown"} <= paths
    tables = {flow.table for flow in reference.flows}
    assert tables == {"ContainerRegistryRepositoryEvents", "ContainerRegistryLoginEvents"}
    # ACI calls carry a port: the flows show the address alone, one flow per address
    assert not any(":" in f.caller_ip and "." in f.caller_ip for f in reference.flows
                   if f.source.ip)


def _naive_counts(logs: Path) -> tuple[Counter[str], int, int]:
    """What a plain reader makes of the archive's JSON lines: one json per line, gzip by
    magic, nothing shared with pullpath's readers but ``parse_record``."""
    reasons: Counter[str] = Counter()
    read = seen = 0
    for path in sorted(logs.rglob("PT1H.json*")):
        raw = path.read_bytes()
        data = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
        lines = data.split(b"\n")
        last = lines.pop()  # b"" when the file ends with a newline
        pieces = [(line, True) for line in lines] + ([(last, False)] if last else [])
        for line, ended in pieces:
            if not line.strip():
                continue
            seen += 1
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                reasons["invalid-json" if ended else "truncated-line"] += 1
                continue
            try:
                parse_record(record)
            except RecordError as exc:
                reasons[exc.reason] += 1
                continue
            read += 1
    return reasons, read, seen


def test_archive_accounting_matches_a_plain_reader(tmp_path: Path) -> None:
    data = generate(tmp_path, 6_000, seed=5, damage_every=400, events_per_hour=1_500)
    reasons, read, seen = _naive_counts(data.logs)
    report = run_audit([data.logs], inventory_paths=[data.inventory], workers=1)
    stats = report.result.stats
    assert stats.events_read == read == 6_000
    assert stats.records_seen == seen
    assert dict(stats.skipped) == dict(reasons)
    assert report.result.summary.events == read


CALLERS = [
    "4.189.68.203", "4.189.68.203:51544", " 4.189.68.203:1 ", "4.189.68.203:0", "4.189.68.203:",
    "4.189.68.203:99999", "010.1.2.3:80", "10.1.0.9:443", "[2001:db8::5]:443", "2001:db8::5",
    "::ffff:20.50.2.3", "fe80::1%eth0", "127.0.0.1:5000", "169.254.10.1:80", "0.0.0.0:443",
    "[::1]:443", "255.255.255.255:80", "224.0.0.1:5353", "", "<nil>", "not-an-ip:80",
    ":443", "1.2.3.4:80:90",
]


@pytest.mark.parametrize("caller", CALLERS)
def test_callers_are_keyed_by_the_address_flows_show(caller: str) -> None:
    """Aggregation keys a caller by ``flow_address`` (the port dropped): it must be exactly the
    ``Source.ip`` the classifier gives, else groups would merge what flows keep apart."""
    from pullpath.core.groups import CallerKeys
    from pullpath.core.ipaddr import flow_address

    source = Classifier(None, load_service_tags()).source(caller)
    assert flow_address(caller) == source.ip
    keys = CallerKeys()
    assert keys.canonical(caller) == (source.ip or caller)


@settings(max_examples=500, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from(["", "0", "00", " ", ":80", ":0", ".1"]),
       st.booleans())
def test_dotted_quads_are_keyed_as_flow_address_keys_them(address: int, extra: str,
                                                         leading: bool) -> None:
    """``CallerKeys`` answers a canonical dotted quad without parsing it: it must be what
    ``flow_address`` makes of it, for every address (unroutable ones included), and a value
    that only looks like one (leading zeros, a port, spaces) still goes through the parser."""
    import ipaddress

    from pullpath.core.groups import CallerKeys
    from pullpath.core.ipaddr import flow_address

    text = str(ipaddress.IPv4Address(address))
    value = ("0" + text if leading else text) + extra
    assert CallerKeys().canonical(value) == (flow_address(value) or value)


def test_the_compiled_scanner_reads_the_archive(tmp_path: Path) -> None:
    """The archive's own shape goes through the compiled scanner, not the reference reader: a
    changed record layout (or a missing build of the extension) would silently make every
    audit several times slower."""
    import pullpath.adapters.logs_fast as logs_fast
    from pullpath.adapters.logs_fast import FastScanner, compiled_installed
    from pullpath.adapters.logs_files import iter_log_files, scan_file

    assert compiled_installed(), "pullpath.core._archivescan is not built (pip install needs a C compiler)"
    data = generate(tmp_path, 8_000, seed=3, damage_every=2_000, events_per_hour=2_000)
    counted = Counter[str]()
    reference = logs_fast.json_line

    def counting(*args):  # type: ignore[no-untyped-def]
        counted["lines"] += 1
        return reference(*args)

    stats = ReadStats()
    scanner = FastScanner()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(logs_fast, "json_line", counting)
        for path in iter_log_files([data.logs], stats):
            scan_file(path, stats, scanner)
    assert stats.events_read == 8_000
    # only the damaged lines and the last line of each file go to the reference reader
    assert 0 < counted["lines"] <= 0.01 * 8_000, counted


def test_scanners_sharing_a_catalog_agree_on_ids(mixed: Dataset) -> None:
    """Two compiled scanners with one ``Catalog`` (as the worker threads have) give one group
    id per distinct raw key and one template id per template, whichever meets it first: the
    same lines get the same ids in both, and the catalog counts each once."""
    from pullpath.core._archivescan import Catalog, Scanner

    lines = [line.rstrip(b"\r\n") + b"\n" for path in sorted(mixed.logs.rglob("*.json"))
             for line in path.read_bytes().splitlines()][:20_000]
    assert len(lines) > 1_000
    catalog = Catalog()
    half = len(lines) // 2
    ids: list[list[int]] = []
    templates: dict[int, int] = {}
    for scanner, block in ((Scanner(1 << 20, 1 << 20, bytes(256), catalog), lines[half:]),
                           (Scanner(1 << 20, 1 << 20, bytes(256), catalog), lines)):
        data = b"".join(block)
        consumed, groups, news, _fallbacks, host = scanner.scan(data)
        assert consumed == len(data)
        assert host < 0  # no caller the scanner must ask about
        ids.append(list(memoryview(groups).cast("i")))
        for gid, tid, *_ in news:
            assert templates.setdefault(gid, tid) == tid
    assert ids[1][half:] == ids[0]  # the same lines, the same groups
    counted = {i for i in ids[1] if i >= 0}
    assert catalog.group_count == len(counted) == len(templates)
    assert catalog.template_count == len(set(templates.values())) < len(counted)


def test_ports_dropped_without_asking_only_where_they_never_matter() -> None:
    """The compiled scanner keys ``a.b.c.d:port`` by the address alone, without asking, for
    first octets ``port_judged_octets`` leaves unset: there ``CallerKeys`` must drop every
    port; the set octets hold every address whose port it keeps."""
    import ipaddress
    import random

    from pullpath.adapters.logs_fast import port_judged_octets
    from pullpath.core.groups import CallerKeys

    flags = port_judged_octets()
    keys = CallerKeys()
    rng = random.Random(7)
    for octet in range(256):
        samples = [octet << 24, (octet << 24) | 0xFFFFFF,
                   *((octet << 24) | rng.getrandbits(24) for _ in range(40))]
        for value in samples:
            address = str(ipaddress.IPv4Address(value))
            dropped = all(keys.canonical(f"{address}:{port}") == address for port in (0, 1, 65535))
            if not flags[octet]:
                assert dropped, address
    # and the flagged octets are needed: each holds an address whose port is kept
    for octet in (0, 127, 169, 224, 240, 255):
        assert flags[octet]
    assert keys.canonical("127.0.0.1:80") == "127.0.0.1:80"
    assert keys.canonical("169.254.1.1:80") == "169.254.1.1:80"


@pytest.mark.parametrize("limit", [0, 5, 1_000_000])
def test_groups_judged_ahead_give_the_same_flows(mixed: Dataset, limit: int) -> None:
    """Groups judged while the logs are still read (``Judgements.add``, in batches, up to a
    limit) and the rest judged by ``build_flows`` give the flows of judging all at the end."""
    inventory = read_inventory([mixed.inventory])
    tags = load_service_tags()
    stats = ReadStats()
    aggregator = scan_logs([mixed.logs], stats, workers=1)
    keys = list(aggregator.groups)
    expect = explainer_for(inventory).expectation
    plain = build_flows(Classifier(inventory, tags), aggregator, stats, expect=expect)
    classifier = Classifier(inventory, tags)
    ahead = Judgements(classifier, limit)
    for start in range(0, len(keys), 97):
        ahead.add(keys[start:start + 97])
    assert len(ahead.judged) == min(limit, len({judge_key(k) for k in keys}))
    judged = build_flows(classifier, aggregator, stats, expect=expect, judgements=ahead)
    assert judged.flows == plain.flows
    assert judged.summary == plain.summary
