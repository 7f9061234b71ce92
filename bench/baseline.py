"""The straightforward audit a user would write without pullpath (benchmark baseline (c)).

    python bench/baseline.py --logs DIR --inventory FILE --output FILE

One ``json.loads`` per line, the caller address through ``ipaddress``, looked up (once per
distinct address: a dictionary cache) in the inventory's subnets and then in every prefix of
the service tag file (most specific tag wins), events grouped by registry, operation,
repository, tag, caller, identity and result, with first and last time. Standard library only;
it does far less than ``pullpath audit`` (no consumers, no paths, no accounting beyond two
counters) and is meant as the honest "script" reference for speed, not as a correct audit.
"""

from __future__ import annotations

import argparse
import gzip
import ipaddress
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TAGS = ROOT / "src" / "pullpath" / "data" / "servicetags" / "ServiceTags_Public_20251028.json.gz"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def load_tags(path: Path) -> list[tuple[Network, str]]:
    doc = json.loads(gzip.decompress(path.read_bytes()))
    out = []
    for value in doc["values"]:
        for prefix in value["properties"]["addressPrefixes"]:
            out.append((ipaddress.ip_network(prefix, strict=False), value["name"]))
    return out


def load_subnets(path: Path) -> list[tuple[Network, str]]:
    doc = json.loads(path.read_text())
    resources = doc["value"] if isinstance(doc, dict) else doc
    out = []
    for res in resources:
        if res.get("type", "").lower() != "microsoft.network/virtualnetworks":
            continue
        for subnet in res.get("properties", {}).get("subnets", []):
            prefix = subnet.get("properties", {}).get("addressPrefix")
            if prefix:
                out.append((ipaddress.ip_network(prefix, strict=False), subnet["id"]))
    return out


def address(logged: str) -> str:
    """The caller address without a port (``1.2.3.4:5678``, ``[2001:db8::1]:443``)."""
    if logged.count(":") == 1:
        return logged.split(":")[0]
    if logged.startswith("[") and "]" in logged:
        return logged[1:logged.index("]")]
    return logged


def classify(ip: str, subnets: list[tuple[Network, str]],
             tags: dict[int, list[tuple[Network, str]]]) -> tuple[str, str]:
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return "invalid", ""
    for net, sid in subnets:
        if addr.version == net.version and addr in net:
            return "subnet", sid
    if addr.is_private:
        return "private", ""
    best: tuple[int, str] | None = None
    for net, name in tags[addr.version]:
        if addr in net and (best is None or net.prefixlen > best[0]):
            best = (net.prefixlen, name)
    if best is not None:
        return "azure", best[1]
    return "internet", ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--logs", type=Path, required=True)
    parser.add_argument("--inventory", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args(argv)
    tags: dict[int, list[tuple[Network, str]]] = {4: [], 6: []}
    for net, name in load_tags(TAGS):
        tags[net.version].append((net, name))
    subnets = load_subnets(args.inventory)
    cache: dict[str, tuple[str, str]] = {}
    flows: dict[tuple[str, ...], dict[str, Any]] = {}
    read = bad = 0
    for path in sorted(args.logs.rglob("PT1H.json*")):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                    props = rec.get("properties", {})
                    when = datetime.fromisoformat(rec["time"])
                    ip = address(rec.get("callerIpAddress") or "")
                except (ValueError, KeyError, AttributeError, TypeError):
                    bad += 1
                    continue
                if ip not in cache:
                    cache[ip] = classify(ip, subnets, tags)
                source, where = cache[ip]
                key = (props.get("loginServer", ""), rec.get("operationName", ""),
                       props.get("repository", ""), props.get("tag", ""), ip,
                       rec.get("identity", ""), rec.get("resultDescription", ""), source, where)
                flow = flows.get(key)
                if flow is None:
                    flows[key] = {"count": 1, "first": when, "last": when}
                else:
                    flow["count"] += 1
                    flow["first"] = min(flow["first"], when)
                    flow["last"] = max(flow["last"], when)
                read += 1
    out = [{"registry": k[0], "operation": k[1], "repository": k[2], "tag": k[3],
            "caller_ip": k[4], "identity": k[5], "result": k[6], "source": k[7], "where": k[8],
            "count": v["count"], "first": v["first"].isoformat(), "last": v["last"].isoformat()}
           for k, v in flows.items()]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"events": read, "skipped": bad, "flows": out}, indent=2))
    print(f"{read} events, {bad} skipped, {len(out)} flows", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
