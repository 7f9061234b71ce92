"""Service tags: parsing all published shapes, the most-specific-tag index, the file loader
and its cache. Real files: tests/data/servicetags/ and the bundled Public snapshot.

Expected answers come from an independent brute force over the raw JSON (stdlib ``json``
and ``ipaddress``, numpy for speed), never from the code under test.
"""

from __future__ import annotations

import gzip
import json
import random
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import resources
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pullpath.adapters.servicetags_files import (
    BUNDLED_NAME,
    load_service_tags,
    service_tags_age_warning,
)
from pullpath.core.servicetags import (
    ServiceTagError,
    ServiceTagSet,
    TagIndex,
    TagMatch,
    parse_service_tags,
    published_from_name,
)
from tests.support import TESTS

DATA = TESTS / "data" / "servicetags"
GOV = DATA / "ServiceTags_AzureGovernment_20260720.json.gz"
CHINA = DATA / "ServiceTags_China_20260720.json.gz"
SPLIT = DATA / "split-20260626"
DISCOVERY = DATA / "ServiceTagsList.json"


def _raw_bundled() -> dict[str, Any]:
    res = resources.files("pullpath") / "data" / "servicetags" / f"{BUNDLED_NAME}.gz"
    doc: dict[str, Any] = json.loads(gzip.decompress(res.read_bytes()))
    return doc


def _discovery_body() -> dict[str, Any]:
    body: dict[str, Any] = json.loads(DISCOVERY.read_text())["responses"]["200"]["body"]
    return body


# --------------------------------------------------------------------------- the oracle


@dataclass(frozen=True)
class Hit:
    plen: int
    name: str
    region: str
    service: str
    order: int

    @property
    def rank(self) -> tuple[int, int, int]:
        """The design's rule, restated: longest prefix, then regional service tag, other
        service tag, AzureCloud.<region>, AzureCloud; then file order."""
        if self.name == "AzureCloud":
            kind = 3
        elif self.name.startswith("AzureCloud."):
            kind = 2
        elif self.region and self.service:
            kind = 0
        else:
            kind = 1
        return (-self.plen, kind, self.order)


class RawTags:
    """Brute force over a raw service-tag document."""

    def __init__(self, doc: dict[str, Any]) -> None:
        v4: list[tuple[int, int, int, int]] = []
        self.v6: list[tuple[Any, int]] = []
        self.tags: list[dict[str, Any]] = doc["values"]
        for order, tag in enumerate(self.tags):
            for prefix in tag["properties"]["addressPrefixes"]:
                net = ip_network(prefix, strict=False)
                if net.version == 4:
                    mask = int(net.netmask)
                    v4.append((int(net.network_address), mask, net.prefixlen, order))
                else:
                    self.v6.append((net, order))
        arr = np.array(v4, dtype=np.int64)
        self.v4_net, self.v4_mask, self.v4_plen, self.v4_order = arr.T

    def hits(self, ip: IPv4Address | IPv6Address) -> list[Hit]:
        found: list[tuple[int, int]] = []
        if ip.version == 4:
            inside = (int(ip) & self.v4_mask) == self.v4_net
            found = list(
                zip(self.v4_plen[inside].tolist(), self.v4_order[inside].tolist(), strict=True)
            )
        else:
            found = [(net.prefixlen, order) for net, order in self.v6 if ip in net]
        out = []
        for plen, order in found:
            props = self.tags[order]["properties"]
            hit = Hit(
                plen, self.tags[order]["name"], props["region"], props["systemService"], order
            )
            out.append(hit)
        return sorted(out, key=lambda h: h.rank)

    def expected(self, ip: IPv4Address | IPv6Address) -> tuple[str, tuple[str, ...]] | None:
        hits = self.hits(ip)
        if not hits:
            return None
        names: list[str] = []
        for h in hits:
            if h.name not in names:
                names.append(h.name)
        return hits[0].name, tuple(names)

    def prefixes(self, name: str) -> list[str]:
        for tag in self.tags:
            if tag["name"] == name:
                return list(tag["properties"]["addressPrefixes"])
        raise KeyError(name)


@pytest.fixture(scope="module")
def raw() -> RawTags:
    return RawTags(_raw_bundled())


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> TagIndex:
    return load_service_tags(cache_dir=tmp_path_factory.mktemp("cache"))


def _inside(prefix: str, offset: int = 1) -> IPv4Address | IPv6Address:
    net = ip_network(prefix, strict=False)
    return net.network_address + min(offset, net.num_addresses - 1)


# --------------------------------------------------------------------------- real files


def test_bundled_metadata(bundled: TagIndex) -> None:
    assert bundled.cloud == "Public"
    assert bundled.change_number == "375"
    assert bundled.published == date(2025, 10, 28)
    assert bundled.source == "bundled ServiceTags_Public_20251028.json"
    assert len(bundled) == 3039
    assert bundled.rejected_prefixes == []
    assert bundled.duplicate_tags == ()


@pytest.mark.parametrize(
    ("path", "cloud", "change", "published"),
    [
        (GOV, "AzureGovernment", "402", date(2026, 7, 20)),
        (CHINA, "China", "405", date(2026, 7, 20)),
    ],
)
def test_other_clouds(path: Path, cloud: str, change: str, published: date, tmp_path: Path) -> None:
    index = load_service_tags(path, cache_dir=tmp_path)
    assert (index.cloud, index.change_number, index.published) == (cloud, change, published)
    assert index.source == str(path)
    assert index.rejected_prefixes == []
    doc = json.loads(gzip.decompress(path.read_bytes()))
    assert len(index) == len(doc["values"])
    oracle = RawTags(doc)
    regional = next(t for t in doc["values"] if t["name"].startswith("AzureCloud."))
    for prefix in regional["properties"]["addressPrefixes"][:20]:
        ip = _inside(prefix)
        match = index.lookup(ip)
        expected = oracle.expected(ip)
        assert expected is not None
        assert match is not None
        assert (match.name, match.all_tags) == expected
        assert regional["name"] in match.all_tags


def test_plain_json_and_gzip_detected_by_content(tmp_path: Path) -> None:
    plain = tmp_path / "ServiceTags_China_20260720.json"
    plain.write_bytes(gzip.decompress(CHINA.read_bytes()))
    misnamed = tmp_path / "china.json"  # gzip bytes, .json name
    misnamed.write_bytes(CHINA.read_bytes())
    a = load_service_tags(plain, use_cache=False)
    b = load_service_tags(misnamed, use_cache=False)
    assert a.published == date(2026, 7, 20)
    assert b.published is None
    ips = [str(_inside(p)) for p in RawTags(json.loads(plain.read_bytes())).prefixes("AzureCloud")]
    assert a.lookup_many(ips) == b.lookup_many(ips)
    assert a.names == b.names


def test_japaneast_address_resolves_to_azurecloud_japaneast(
    bundled: TagIndex, raw: RawTags
) -> None:
    # An address of AzureCloud.japaneast that no more specific tag contains, found by brute
    # force over the raw JSON (not by the index).
    chosen = None
    for prefix in raw.prefixes("AzureCloud.japaneast"):
        if ":" in prefix:
            continue
        for offset in (0, 1, 1000):
            ip = _inside(prefix, offset)
            names = {h.name for h in raw.hits(ip)}
            if names == {"AzureCloud.japaneast", "AzureCloud"} or names == {"AzureCloud.japaneast"}:
                chosen = ip, names
                break
        if chosen:
            break
    assert chosen is not None
    ip, names = chosen
    match = bundled.lookup(str(ip))
    assert match is not None
    assert match.name == "AzureCloud.japaneast"
    assert match.region == "japaneast"
    assert match.system_service == ""
    assert set(match.all_tags) == names
    assert match.all_tags[0] == "AzureCloud.japaneast"
    assert ip in ip_network(match.prefix)
    # the same address as logged with a port
    assert bundled.lookup(f"{ip}:50123") == match


def test_acr_japaneast_beats_azurecloud(bundled: TagIndex, raw: RawTags) -> None:
    prefixes = raw.prefixes("AzureContainerRegistry.JapanEast")
    assert prefixes
    for prefix in prefixes:
        ip = _inside(prefix)
        match = bundled.lookup(ip)
        assert match is not None, ip
        assert not match.name.startswith("AzureCloud"), (ip, match)
        assert "AzureContainerRegistry.JapanEast" in match.all_tags
        net = ip_network(prefix)
        best = ip_network(match.prefix)
        assert match.name == "AzureContainerRegistry.JapanEast" or best.prefixlen >= net.prefixlen
        assert (match.name, match.all_tags) == raw.expected(ip)


def test_ipv6_address_from_ipv6_prefix(bundled: TagIndex, raw: RawTags) -> None:
    v6 = [p for p in raw.prefixes("AzureContainerRegistry.JapanEast") if ":" in p]
    assert v6
    ip = _inside(v6[0], 3)
    assert isinstance(ip, IPv6Address)
    match = bundled.lookup(f"[{ip}]:443")
    assert match is not None
    assert (match.name, match.all_tags) == raw.expected(ip)
    assert "AzureContainerRegistry.JapanEast" in match.all_tags
    assert "AzureCloud.japaneast" in match.all_tags
    assert ":" in match.prefix


def test_addresses_outside_all_tags(bundled: TagIndex, raw: RawTags) -> None:
    for text in ("192.0.2.1", "10.0.0.1", "2001:db8::1"):
        assert raw.hits(ip_address(text)) == []
        assert bundled.lookup(text) is None
    for text in ("", "<nil>", "garbage", "1.2.3.4:99999"):
        assert bundled.lookup(text) is None
    assert bundled.lookup_many(["192.0.2.1", "", "x"]) == [None, None, None]


def test_random_sample_agrees_with_brute_force(bundled: TagIndex, raw: RawTags) -> None:
    rng = random.Random(20251028)
    ips: list[IPv4Address | IPv6Address] = []
    for _ in range(300):
        tag = rng.choice(raw.tags)
        prefix = rng.choice(tag["properties"]["addressPrefixes"])
        net = ip_network(prefix, strict=False)
        ips.append(net.network_address + rng.randrange(net.num_addresses))
    ips += [IPv4Address(rng.getrandbits(32)) for _ in range(100)]
    texts = [str(ip) for ip in ips]
    many = bundled.lookup_many(texts)
    for ip, text, got in zip(ips, texts, many, strict=True):
        single = bundled.lookup(text)
        assert got == single
        want = raw.expected(ip)
        if want is None:
            assert single is None, ip
        else:
            assert single is not None, ip
            assert (single.name, single.all_tags) == want, ip
            assert ip in ip_network(single.prefix)


# --------------------------------------------------------------------------- shapes


def test_discovery_api_response() -> None:
    tags = parse_service_tags(_discovery_body(), source="discovery-api westcentralus")
    assert tags.cloud == "Public"
    assert tags.change_number == "63"
    assert tags.source == "discovery-api westcentralus"
    assert tags.published is None
    assert [t.name for t in tags.tags] == [
        "ApiManagement",
        "ApiManagement.AustraliaCentral",
        "AppService",
        "ServiceBus",
        "ServiceBus.EastUS2",
    ]
    first = tags.tags[0]
    assert first.change_number == "7"
    assert first.system_service == "AzureApiManagement"
    assert first.prefixes == ("13.64.39.16/32", "40.74.146.80/31", "40.74.147.32/28")
    index = TagIndex.build(tags)
    match = index.lookup("40.70.146.65")  # in ServiceBus and ServiceBus.EastUS2 (/29)
    assert match is not None
    assert match.name == "ServiceBus.EastUS2"
    assert match.all_tags == ("ServiceBus.EastUS2", "ServiceBus")


def test_discovery_pages_concatenate() -> None:
    body = _discovery_body()
    page1 = {**body, "values": body["values"][:2]}
    page2 = {**body, "values": body["values"][2:]}
    del page2["nextLink"]
    assert "nextLink" in page1
    whole = parse_service_tags(body, source="one")
    paged = parse_service_tags([page1, page2], source="two")
    assert paged.tags == whole.tags
    assert (paged.cloud, paged.change_number) == ("Public", "63")


def test_discovery_pages_with_different_change_numbers_fail() -> None:
    body = _discovery_body()
    page2 = {**body, "changeNumber": "64", "values": body["values"][2:]}
    with pytest.raises(ServiceTagError, match="changeNumber"):
        parse_service_tags([body, page2], source="pages")


def _snake(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {re.sub(r"(?<!^)([A-Z])", r"_\1", k).lower(): _snake(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_snake(v) for v in obj]
    return obj


def test_snake_case_sdk_shape() -> None:
    body = _discovery_body()
    snake = _snake(body)
    assert "next_link" in snake
    assert "address_prefixes" in snake["values"][0]["properties"]
    a = parse_service_tags(body, source="x")
    b = parse_service_tags(snake, source="x")
    assert a == b


def test_cloud_from_id_or_caller() -> None:
    body = _discovery_body()
    del body["cloud"]
    assert parse_service_tags(body, source="x").cloud == "public"
    del body["id"]
    assert parse_service_tags(body, source="x").cloud == ""
    assert parse_service_tags(body, source="x", cloud="Public").cloud == "Public"


def test_split_single_tag_files() -> None:
    files = sorted(SPLIT.glob("*.serviceTag.json"))
    assert len(files) == 8
    docs = []
    for path in files:
        doc = json.loads(path.read_text())
        docs.append(doc)
        tags = parse_service_tags(doc, source=path.name, cloud="Public")
        assert len(tags.tags) == 1
        tag = tags.tags[0]
        assert tag.name == doc["name"] == path.name.removesuffix(".serviceTag.json")
        assert tag.change_number == str(doc["properties"]["changeNumber"])
        assert tag.prefixes == tuple(doc["properties"]["addressPrefixes"])
        assert (tags.cloud, tags.change_number) == ("Public", "")
    every = parse_service_tags(docs, source="split-20260626")
    assert len(every.tags) == 8
    index = TagIndex.build(every)
    acr = next(d for d in docs if d["name"] == "AzureContainerRegistry.JapanEast")
    for prefix in acr["properties"]["addressPrefixes"]:
        match = index.lookup(_inside(prefix))
        assert match is not None
        assert match.name in (
            "AzureContainerRegistry.JapanEast",
            "MicrosoftContainerRegistry.JapanEast",
        )
        assert "AzureContainerRegistry.JapanEast" in match.all_tags


def test_single_tag_file_loads(tmp_path: Path) -> None:
    path = SPLIT / "AzureCloud.japaneast.serviceTag.json"
    index = load_service_tags(path, cache_dir=tmp_path)
    assert index.names == ("AzureCloud.japaneast",)
    assert index.change_number == ""
    assert index.published is None
    first = json.loads(path.read_text())["properties"]["addressPrefixes"][0]
    match = index.lookup(_inside(first))
    assert match is not None
    assert match.name == "AzureCloud.japaneast"


def test_network_features_null_is_fine() -> None:
    with_features = _tag("B", ["11.0.0.0/8"])
    with_features["properties"]["networkFeatures"] = ["API", "NSG", "UDR", "FW"]
    doc = {
        "changeNumber": 1,
        "cloud": "Public",
        "values": [_tag("A", ["10.0.0.0/8"]), with_features],
    }
    assert _tag("A", [])["properties"]["networkFeatures"] is None
    assert [t.name for t in parse_service_tags(doc, source="x").tags] == ["A", "B"]


def _tag(name: str, prefixes: list[str], region: str = "", service: str = "") -> dict[str, Any]:
    return {
        "name": name,
        "id": name,
        "properties": {
            "changeNumber": 1,
            "region": region,
            "regionId": 0,
            "platform": "Azure",
            "systemService": service,
            "addressPrefixes": prefixes,
            "networkFeatures": None,
        },
    }


def test_duplicates_keep_first_and_are_counted() -> None:
    doc = {
        "changeNumber": 9,
        "cloud": "Public",
        "values": [
            _tag("Storage", ["10.0.0.0/8"], service="AzureStorage"),
            _tag("Storage", ["11.0.0.0/8"], service="AzureStorage"),
            _tag("Sql", ["12.0.0.0/8"], service="AzureSQL"),
            _tag("Storage", ["13.0.0.0/8"], service="AzureStorage"),
        ],
    }
    tags = parse_service_tags(doc, source="dups")
    assert [t.name for t in tags.tags] == ["Storage", "Sql"]
    assert tags.tags[0].prefixes == ("10.0.0.0/8",)
    assert tags.duplicate_tags == ("Storage", "Storage")
    assert tags.change_number == "9"


def test_rank_breaks_ties_at_equal_prefix_length() -> None:
    same = ["20.0.0.0/16"]
    doc = {
        "changeNumber": 1,
        "cloud": "Public",
        "values": [
            _tag("AzureCloud", [*same, "20.0.0.0/8"]),
            _tag("AzureCloud.westeurope", same, region="westeurope"),
            _tag("AzureFrontDoor.Backend", same),
            _tag("Storage", same, service="AzureStorage"),
            _tag("Storage.WestEurope", same, region="westeurope", service="AzureStorage"),
            _tag("Sql.WestEurope", ["20.0.1.0/24"], region="westeurope", service="AzureSQL"),
        ],
    }
    index = TagIndex.build(parse_service_tags(doc, source="ranks"))
    match = index.lookup("20.0.0.1")
    assert match == TagMatch(
        name="Storage.WestEurope",
        region="westeurope",
        system_service="AzureStorage",
        prefix="20.0.0.0/16",
        all_tags=(
            "Storage.WestEurope",
            "AzureFrontDoor.Backend",
            "Storage",
            "AzureCloud.westeurope",
            "AzureCloud",
        ),
    )
    longer = index.lookup("20.0.1.1")
    assert longer is not None
    assert longer.name == "Sql.WestEurope"  # longest prefix wins over any rank
    assert longer.prefix == "20.0.1.0/24"
    only_cloud = index.lookup("20.9.0.1")
    assert only_cloud is not None
    assert (only_cloud.name, only_cloud.prefix) == ("AzureCloud", "20.0.0.0/8")


def test_tag_index_round_trip(bundled: TagIndex, raw: RawTags) -> None:
    copy_ = TagIndex.from_arrays(bundled.to_arrays())
    assert (copy_.cloud, copy_.change_number, copy_.source, copy_.published) == (
        bundled.cloud,
        bundled.change_number,
        bundled.source,
        bundled.published,
    )
    ips = [str(_inside(p)) for p in raw.prefixes("AzureContainerRegistry.JapanEast")]
    assert copy_.lookup_many(ips) == bundled.lookup_many(ips)
    arrays = bundled.to_arrays()
    arrays["meta"] = np.frombuffer(b"{not json", dtype=np.uint8)
    with pytest.raises(ValueError, match="TagIndex"):
        TagIndex.from_arrays(arrays)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (None, "not service tags"),
        (5, "not service tags"),
        ("text", "not service tags"),
        ({}, "not service tags"),
        ({"foo": 1}, "not service tags"),
        ([], "empty list"),
        ([1, 2], "not service tags"),
        ([[{"values": []}]], "not service tags"),
        ({"values": []}, "empty"),
        ({"values": "x"}, "must be a list"),
        ({"values": [1]}, "must be an object"),
        ({"values": [{"properties": {"addressPrefixes": []}}]}, "name"),
        ({"values": [{"name": "A"}]}, "properties"),
        ({"values": [{"name": "A", "properties": {}}]}, "addressPrefixes"),
        ({"values": [{"name": "A", "properties": {"addressPrefixes": "10.0.0.0/8"}}]}, "list"),
        ({"values": [{"name": "A", "properties": {"addressPrefixes": [10]}}]}, r"\[0\]"),
        (
            {"changeNumber": 1.5, "values": [{"name": "A", "properties": {"addressPrefixes": []}}]},
            "changeNumber",
        ),
        (
            {"cloud": 3, "values": [{"name": "A", "properties": {"addressPrefixes": []}}]},
            "cloud",
        ),
        (
            {"values": [{"name": "A", "properties": {"addressPrefixes": [], "region": 1}}]},
            "region",
        ),
        ([{"values": []}, {"name": "A", "properties": {"addressPrefixes": []}}], "not service"),
    ],
)
def test_parse_errors(doc: object, message: str) -> None:
    with pytest.raises(ServiceTagError, match=message) as info:
        parse_service_tags(doc, source="the-source")
    assert "the-source" in str(info.value)


def _json_values() -> st.SearchStrategy[Any]:
    keys = st.sampled_from(
        [
            "values",
            "properties",
            "name",
            "id",
            "changeNumber",
            "change_number",
            "cloud",
            "addressPrefixes",
            "address_prefixes",
            "region",
            "systemService",
            "nextLink",
        ]
    ) | st.text(max_size=4)
    scalars = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False)
        | st.text(max_size=12)
        | st.sampled_from(["10.0.0.0/8", "2001:db8::/32", "1.2.3.4/99", "AzureCloud", ""])
    )
    return st.recursive(
        scalars,
        lambda c: st.lists(c, max_size=4) | st.dictionaries(keys, c, max_size=5),
        max_leaves=25,
    )


def _maybe(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly the valid part, sometimes any JSON value instead."""
    junk = _json_values()
    return st.integers(0, 11).flatmap(lambda k: junk if k == 0 else valid)


def _documents() -> st.SearchStrategy[Any]:
    prefix = st.sampled_from(["10.0.0.0/8", "10.1.0.0/16", "::/0", "2001:db8::/48", "bad", ""])
    props = st.fixed_dictionaries(
        {
            "addressPrefixes": _maybe(st.lists(_maybe(prefix), max_size=4)),
            "region": _maybe(st.sampled_from(["", "westeurope"])),
            "systemService": _maybe(st.sampled_from(["", "AzureStorage"])),
            "changeNumber": _maybe(st.integers(0, 9) | st.just("3")),
        }
    )
    tag = st.fixed_dictionaries(
        {
            "name": _maybe(st.sampled_from(["AzureCloud", "Storage", "Storage.WestEurope"])),
            "properties": _maybe(props),
        }
    )
    page = st.fixed_dictionaries(
        {
            "changeNumber": _maybe(st.just(1)),
            "cloud": _maybe(st.just("Public")),
            "values": _maybe(st.lists(tag, max_size=4)),
        }
    )
    return st.one_of(
        page, st.lists(page, max_size=3), tag, st.lists(tag, max_size=3), _json_values()
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_documents())
def test_any_json_gives_tags_or_service_tag_error(doc: Any) -> None:
    try:
        tags = parse_service_tags(doc, source="fuzz")
    except ServiceTagError as exc:
        error = str(exc)
    else:
        error = ""
    if error:
        assert "fuzz" in error
        return
    assert isinstance(tags, ServiceTagSet)
    index = TagIndex.build(tags)
    index.lookup("10.1.2.3")
    index.lookup_many(["10.1.2.3", "2001:db8::1", "x"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"  \n", "empty"),
        (b"{not json", "not JSON"),
        (b"\xff\xfe\x00garbage", "not JSON"),
        (b'{"foo": 1}', "not service tags"),
        (b"[1, 2]", "not service tags"),
        (b'{"values": []}', "empty"),
        (gzip.compress(b"garbage", mtime=0), "not JSON"),
        (b"\x1f\x8b" + b"garbage" * 10, "gzip"),
        (gzip.compress(b'{"changeNumber": 1, "values": []}', mtime=0)[:-12], "gzip"),
        (b'{"values": [{"name": "A", "properties": {"addressPrefixes": ["nope"]}}]}', "no usable"),
    ],
)
def test_file_errors_name_the_file_and_what_to_do(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "tags.json"
    path.write_bytes(content)
    with pytest.raises(ServiceTagError, match=message) as info:
        load_service_tags(path, cache_dir=tmp_path / "cache")
    text = str(info.value)
    assert str(path) in text
    assert "service-tags-overview" in text
    assert "az network list-service-tags" in text


def test_missing_file_and_directory(tmp_path: Path) -> None:
    for path, message in ((tmp_path / "nope.json", "no such file"), (tmp_path, "directory")):
        with pytest.raises(ServiceTagError, match=message) as info:
            load_service_tags(path, use_cache=False)
        assert str(path) in str(info.value)


def test_utf8_bom_and_utf16_files(tmp_path: Path) -> None:
    text = DISCOVERY.read_text()
    body = json.dumps(json.loads(text)["responses"]["200"]["body"])
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + body.encode())
    utf16 = tmp_path / "utf16.json"
    utf16.write_bytes(body.encode("utf-16"))  # what PowerShell's `>` writes
    for path in (bom, utf16):
        index = load_service_tags(path, use_cache=False)
        assert index.change_number == "63"


# --------------------------------------------------------------------------- the cache


def _cache_entries(cache: Path) -> list[Path]:
    return sorted((cache / "servicetags").glob("*.npz"))


def test_cache_is_used_and_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, raw: RawTags
) -> None:
    cache = tmp_path / "cache"
    cold = load_service_tags(cache_dir=cache)
    entries = _cache_entries(cache)
    assert len(entries) == 1
    assert list((cache / "servicetags").glob("*.tmp")) == []

    def no_build(cls: type[TagIndex], tags: ServiceTagSet) -> TagIndex:
        raise AssertionError("the cache was not used")

    monkeypatch.setattr(TagIndex, "build", classmethod(no_build))
    warm = load_service_tags(cache_dir=cache)
    assert (warm.cloud, warm.change_number, warm.source, warm.published) == (
        cold.cloud,
        cold.change_number,
        cold.source,
        cold.published,
    )
    assert warm.names == cold.names
    rng = random.Random(5)
    ips = [
        str(_inside(rng.choice(t["properties"]["addressPrefixes"]), rng.randrange(64)))
        for t in rng.sample(raw.tags, 200)
    ]
    assert warm.lookup_many(ips) == cold.lookup_many(ips)


def test_cache_relabels_source_for_same_content(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    a = tmp_path / "ServiceTags_AzureGovernment_20260720.json.gz"
    a.write_bytes(GOV.read_bytes())
    b = tmp_path / "copy.json.gz"
    b.write_bytes(GOV.read_bytes())
    first = load_service_tags(a, cache_dir=cache)
    second = load_service_tags(b, cache_dir=cache)
    assert len(_cache_entries(cache)) == 1
    assert first.source == str(a)
    assert first.published == date(2026, 7, 20)
    assert second.source == str(b)
    assert second.published is None


@pytest.mark.parametrize(
    "damage",
    [b"", b"garbage", b"PK\x03\x04broken zip"],
)
def test_corrupt_cache_is_rebuilt(tmp_path: Path, damage: bytes) -> None:
    cache = tmp_path / "cache"
    good = load_service_tags(GOV, cache_dir=cache)
    (entry,) = _cache_entries(cache)
    entry.write_bytes(damage)
    again = load_service_tags(GOV, cache_dir=cache)
    assert again.names == good.names
    assert again.lookup("52.127.0.1") == good.lookup("52.127.0.1")
    with np.load(entry, allow_pickle=False) as npz:  # rewritten, valid
        assert TagIndex.from_arrays(npz).names == good.names


def test_cache_with_wrong_arrays_is_rebuilt(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    good = load_service_tags(GOV, cache_dir=cache)
    (entry,) = _cache_entries(cache)
    arrays = good.to_arrays()
    arrays["ip_node_parent"] = np.zeros_like(arrays["ip_node_parent"])  # cycles
    savez: Any = np.savez
    with entry.open("wb") as f:
        savez(f, **arrays)
    again = load_service_tags(GOV, cache_dir=cache)
    ip = str(
        _inside(RawTags(json.loads(gzip.decompress(GOV.read_bytes()))).prefixes("AzureCloud")[0])
    )
    assert again.lookup(ip) == good.lookup(ip)
    assert again.lookup(ip) is not None


def test_unwritable_cache_is_skipped(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    index = load_service_tags(GOV, cache_dir=blocker)
    assert index.cloud == "AzureGovernment"


def test_cache_dir_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULLPATH_CACHE_DIR", str(tmp_path / "env-cache"))
    load_service_tags(CHINA)
    assert len(_cache_entries(tmp_path / "env-cache")) == 1


# --------------------------------------------------------------------------- age


def test_age_warning(bundled: TagIndex) -> None:
    assert service_tags_age_warning(bundled, None) is None
    assert service_tags_age_warning(bundled, datetime(2025, 12, 1, tzinfo=UTC)) is None
    assert service_tags_age_warning(bundled, datetime(2026, 1, 26, tzinfo=UTC)) is None  # 90
    message = service_tags_age_warning(bundled, datetime(2026, 1, 27, 8, 0, tzinfo=UTC))
    assert message is not None
    assert "91 days" in message
    assert "2025-10-28" in message
    assert "service-tags-overview" in message  # where every cloud's download is listed
    assert service_tags_age_warning(bundled, datetime(2025, 12, 1), max_days=7) is not None
    undated = bundled.relabel(source="x", published=None)
    undated_message = service_tags_age_warning(undated, datetime(2030, 1, 1))
    assert undated_message is not None
    assert "cannot be checked" in undated_message


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ServiceTags_Public_20251028.json", date(2025, 10, 28)),
        ("ServiceTags_AzureGovernment_20260720.json.gz", date(2026, 7, 20)),
        ("/x/y/ServiceTags_China_20260720.json", date(2026, 7, 20)),
        ("ServiceTags_Public_20251399.json", None),
        ("ServiceTags_Public_202510281.json", None),
        ("tags.json", None),
    ],
)
def test_published_from_name(name: str, expected: date | None) -> None:
    assert published_from_name(name) == expected


def test_bundled_file_is_the_documented_snapshot() -> None:
    res = resources.files("pullpath") / "data" / "servicetags" / f"{BUNDLED_NAME}.gz"
    raw_bytes = gzip.decompress(res.read_bytes())
    doc = json.loads(raw_bytes)
    assert (doc["changeNumber"], doc["cloud"], len(doc["values"])) == (375, "Public", 3039)
    assert len(raw_bytes) == 4_108_133
    prov = (resources.files("pullpath") / "data" / "servicetags" / "PROVENANCE.md").read_text()
    assert "changeNumber 375" in prov


def test_odd_names_survive_the_cache_format() -> None:
    # stdlib json.loads turns "\ud800" escapes into lone surrogates; the index must still
    # round-trip (the loader itself rejects such files as not JSON).
    doc = json.loads(
        '{"values": [{"name": "A\\ud800 \\u00e9", "properties": '
        '{"addressPrefixes": ["10.0.0.0/8", "bad\\udc00"]}}]}'
    )
    index = TagIndex.build(parse_service_tags(doc, source="odd"))
    again = TagIndex.from_arrays(index.to_arrays())
    match = again.lookup("10.0.0.1")
    assert match is not None
    assert match.name == "A\ud800 \u00e9"
    assert again.rejected_prefixes == ["bad\udc00"]
