"""Rebuild the seed corpus in fuzz/corpus/ from the real data (see fuzz/corpus/PROVENANCE.md).

    python fuzz/make_corpus.py --shared DATA

DATA is the developers' published-data folder (service tags, REST API examples, ACR log
records, as listed in fuzz/corpus/PROVENANCE.md). A clone does not have it and nothing else
needs it: the corpus it makes is committed, and the tests read only that.

Seeds are small on purpose (a fuzzer mutates each one many times): real files are copied
whole when small, the big service-tag files are sliced (their header plus a few tags), and the
Log Analytics export shapes are built from the real archived record (same values, the table's
PascalCase columns), because no real export is published.
"""

from __future__ import annotations

import argparse
import codecs
import csv
import gzip
import io
import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS = HERE / "corpus"
DEMO = ROOT / "src" / "pullpath" / "data" / "demo"
SPEC = "rest-api-examples/specification"

# Log Analytics column <- archive field (top level or properties bag)
LA_COLUMNS = {
    "TimeGenerated": "time",
    "Category": "category",
    "OperationName": "operationName",
    "CallerIpAddress": "callerIpAddress",
    "Identity": "identity",
    "Repository": "repository",
    "Tag": "tag",
    "Digest": "digest",
    "LoginServer": "loginServer",
    "UserAgent": "userAgent",
    "ResultType": "resultType",
    "ResultDescription": "resultDescription",
    "DurationMs": "durationMs",
    "CorrelationId": "correlationId",
    "_ResourceId": "resourceId",
}


def la_row(record: dict[str, Any]) -> dict[str, Any]:
    props = record.get("properties", {})
    row = {col: record.get(key, props.get(key, "")) for col, key in LA_COLUMNS.items()}
    row["Type"] = row.pop("Category")
    return row


def write(rel: str, data: bytes) -> None:
    path = CORPUS / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def logs(shared: Path) -> None:
    real = (shared / "acr-logs" / "repositoryevents_pull_404_record.json").read_bytes()
    record = json.loads(real)
    write("logs/real-record.json", real)
    demo_files = sorted((DEMO / "logs").rglob("PT1H.json"))
    demo_records: list[dict[str, Any]] = []
    for i, path in enumerate(demo_files):
        kind = "login" if "loginevents" in str(path) else "repository"
        write(f"logs/demo-{kind}-{i}.json", path.read_bytes())
        demo_records += [json.loads(line) for line in path.read_text().splitlines() if line]
    login = next(r for r in demo_records if r["category"] == "ContainerRegistryLoginEvents")
    records = [record, *demo_records[:3], login]
    lines = "\n".join(json.dumps(r) for r in records) + "\n"
    write("logs/jsonlines-crlf-bom.json", codecs.BOM_UTF8 + lines.replace("\n", "\r\n").encode())
    write("logs/jsonlines-truncated.json", lines.encode()[:-40])
    write("logs/jsonlines.json.gz", gzip.compress(lines.encode(), mtime=0))
    write("logs/records-wrapper.json", json.dumps({"records": records}, indent=1).encode())
    rows = [la_row(r) for r in records]
    write("logs/la-array.json", json.dumps(rows, indent=2).encode())
    columns = list(rows[0])
    query = {"tables": [{"name": "PrimaryResult",
                         "columns": [{"name": c, "type": "string"} for c in columns],
                         "rows": [[r[c] for c in columns] for r in rows]}]}
    write("logs/la-query-api.json", json.dumps(query).encode())
    out = io.StringIO()
    writer = csv.writer(out)
    portal = [f"{c} [UTC]" if c == "TimeGenerated" else c for c in columns]
    writer.writerow(portal)
    for r in rows:
        cells = dict(r)
        # the portal's US date format for TimeGenerated
        when = datetime.fromisoformat(str(cells["TimeGenerated"])[:26].rstrip("Z"))
        cells["TimeGenerated"] = (when.strftime("%m/%d/%Y, %I:%M:%S.%f")[:-3]
                                  + when.strftime(" %p"))
        writer.writerow([cells[c] for c in columns])
    write("logs/la-portal.csv", out.getvalue().encode())
    write("logs/utf16-bom.json", lines.encode("utf-16"))


def servicetags(shared: Path) -> None:
    tags = shared / "servicetags"
    for path in sorted((tags / "split-20260626").glob("*.json")):
        write(f"servicetags/{path.name.replace('.serviceTag', '.serviceTag')}", path.read_bytes())
    for name, n in (("ServiceTags_Public_20251028.json", 12),
                    ("ServiceTags_AzureGovernment_20260720.json", 6),
                    ("ServiceTags_China_20260720.json", 6)):
        doc = json.loads((tags / name).read_bytes())
        keep = [v for v in doc["values"] if v["name"].startswith(("AzureContainerRegistry",
                                                                  "AzureCloud.", "Storage."))]
        doc["values"] = (keep or doc["values"])[:n]
        for v in doc["values"]:
            v["properties"]["addressPrefixes"] = v["properties"]["addressPrefixes"][:24]
        write(f"servicetags/{name.replace('.json', '-slice.json')}",
              json.dumps(doc, indent=2).encode())
    example = shared / SPEC / ("network/resource-manager/Microsoft.Network/stable/2024-07-01/"
                               "examples/ServiceTagsList.json")
    body = json.loads(example.read_bytes())["responses"]["200"]["body"]
    write("servicetags/discovery-api-ServiceTagsList.json", json.dumps(body, indent=2).encode())


INVENTORY_EXAMPLES = (
    "containerregistry/resource-manager/Microsoft.ContainerRegistry/Registry/stable/2025-11-01/examples/RegistryGet.json",
    "containerregistry/resource-manager/Microsoft.ContainerRegistry/Registry/stable/2025-11-01/examples/PrivateEndpointConnectionList.json",
    "containerinstance/resource-manager/Microsoft.ContainerInstance/stable/2025-09-01/examples/ContainerGroupsGet_Succeeded.json",
    "containerinstance/resource-manager/Microsoft.ContainerInstance/preview/2024-11-01-preview/examples/ContainerGroupsCreateOrUpdate.json",
    "app/resource-manager/Microsoft.App/ContainerApps/stable/2026-01-01/examples/ContainerApps_Get.json",
    "app/resource-manager/Microsoft.App/ContainerApps/stable/2025-07-01/examples/ManagedEnvironments_Get.json",
    "containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2026-02-01/examples/ManagedClustersGet.json",
    "web/resource-manager/Microsoft.Web/stable/2024-11-01/examples/GetWebApp.json",
    "network/resource-manager/Microsoft.Network/Network/stable/2025-07-01/examples/VirtualNetworkGetWithSubnetDelegation.json",
    "network/resource-manager/Microsoft.Network/Network/stable/2025-07-01/examples/NetworkInterfaceGet.json",
    "network/resource-manager/Microsoft.Network/Network/stable/2025-07-01/examples/NatGatewayGet.json",
    "network/resource-manager/Microsoft.Network/Network/stable/2025-07-01/examples/PublicIpAddressGet.json",
    "network/resource-manager/Microsoft.Network/stable/2025-03-01/examples/PrivateEndpointGet.json",
    "resourcegraph/resource-manager/Microsoft.ResourceGraph/stable/2024-04-01/examples/ResourcesBasicQuery.json",
    "resourcegraph/resource-manager/Microsoft.ResourceGraph/stable/2024-04-01/examples/ResourcesFirstPageQuery.json",
    "monitor/resource-manager/Microsoft.Insights/preview/2021-05-01-preview/examples/getDiagnosticSetting.json",
)


def inventory(shared: Path) -> None:
    for rel in INVENTORY_EXAMPLES:
        write(f"inventory/{Path(rel).name}", (shared / SPEC / rel).read_bytes())
    for path in sorted((DEMO / "inventory").glob("*.json")):
        write(f"inventory/demo-{path.name}", path.read_bytes())
    # the SDK shape (snake_case, properties flattened) of the registry example
    example = json.loads((shared / SPEC / INVENTORY_EXAMPLES[0]).read_bytes())
    reg = example["responses"]["200"]["body"]
    sdk = {k: v for k, v in reg.items() if k != "properties"}
    for key, value in reg["properties"].items():
        snake = "".join("_" + c.lower() if c.isupper() else c for c in key)
        sdk[snake] = value
    write("inventory/sdk-shape-registry.json", json.dumps([sdk]).encode())
    write("inventory/arm-list-value.json", json.dumps({"value": [reg]}).encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", type=Path, required=True, metavar="DATA",
                        help="the developers' published-data folder the seeds are made from")
    args = parser.parse_args()
    for sub in ("logs", "servicetags", "inventory"):
        shutil.rmtree(CORPUS / sub, ignore_errors=True)
    logs(args.shared)
    servicetags(args.shared)
    inventory(args.shared)
    for sub in ("logs", "servicetags", "inventory"):
        files = sorted((CORPUS / sub).iterdir())
        print(f"{sub}: {len(files)} seeds, {sum(f.stat().st_size for f in files):,} bytes")


if __name__ == "__main__":
    main()
