"""The bundled public service tag file read independently of pullpath's loader: oracles for
the tests that need an address in a given tag, or the tags of an address."""

from __future__ import annotations

import gzip
import ipaddress
import json
import random
from functools import lru_cache

from tests.support import ROOT

BUNDLED_TAGS = (
    ROOT / "src" / "pullpath" / "data" / "servicetags" / "ServiceTags_Public_20251028.json.gz"
)


@lru_cache(maxsize=1)
def raw_public_tags() -> dict[str, list[str]]:
    """The bundled public service tag file, read independently of pullpath's loader."""
    doc = json.loads(gzip.decompress(BUNDLED_TAGS.read_bytes()))
    return {v["name"]: v["properties"]["addressPrefixes"] for v in doc["values"]}


@lru_cache(maxsize=32)
def address_only_in(tag: str, seed: int = 7) -> str:
    """An IPv4 address inside ``tag`` and in no other tag except its own service's global tag and
    the AzureCloud ones, found by brute force with ``ipaddress`` (an oracle independent of the IP index)."""
    tags = raw_public_tags()
    others = [
        ipaddress.ip_network(p)
        for name, prefixes in tags.items()
        if name not in (tag, tag.split(".")[0]) and not name.startswith("AzureCloud")
        for p in prefixes
        if ":" not in p
    ]
    rng = random.Random(seed)
    for prefix in tags[tag]:
        if ":" in prefix:
            continue
        net = ipaddress.ip_network(prefix)
        for _ in range(20):
            ip = net.network_address + rng.randrange(net.num_addresses)
            if not any(ip in o for o in others):
                return str(ip)
    raise AssertionError(f"no address only in {tag}")


def tags_containing(ip: str) -> set[str]:
    addr = ipaddress.ip_address(ip)
    return {
        name
        for name, prefixes in raw_public_tags().items()
        for p in prefixes
        if (":" in p) == (addr.version == 6) and addr in ipaddress.ip_network(p)
    }
