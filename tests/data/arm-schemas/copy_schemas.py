"""Copy the ARM deployment template schemas the lab tests need from a checkout of
Azure/azure-resource-manager-schemas (its schemas/ folder), pruned to the resource definitions
the lab's templates use and every definition they reach through $ref. Each kept definition is
copied verbatim; nothing is edited. Run from the repository root:

    python tests/data/arm-schemas/copy_schemas.py /path/to/azure-resource-manager-schemas/schemas
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).parent
BASE = "https://schema.management.azure.com/schemas/"
WANTED = {
    "2025-11-01/Microsoft.ContainerRegistry.json": ["registries"],
    "2023-05-01/Microsoft.ContainerInstance.json": ["containerGroups"],
    "2026-01-01/Microsoft.App.json": ["managedEnvironments", "containerApps"],
    "2025-07-01/Microsoft.Network.NRP.json": ["virtualNetworks", "privateEndpoints",
                                              "privateEndpoints_privateDnsZoneGroups"],
    "2024-06-01/Microsoft.Network.privateDns.json": ["privateDnsZones",
                                                     "privateDnsZones_virtualNetworkLinks"],
    "2024-11-30/Microsoft.ManagedIdentity.json": ["userAssignedIdentities"],
    "2022-04-01/Microsoft.Authorization.json": ["roleAssignments"],
    "2021-05-01-preview/Microsoft.Insights.json": ["diagnosticSettings"],
    "2025-07-01/Microsoft.OperationalInsights.json": ["workspaces"],
}
WHOLE = ["2019-04-01/deploymentTemplate.json", "common/definitions.json"]


def local_refs(node: object) -> set[str]:
    out: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            out.add(ref.split("/", 2)[2])
        for value in node.values():
            out |= local_refs(value)
    elif isinstance(node, list):
        for value in node:
            out |= local_refs(value)
    return out


def prune(doc: dict, names: list[str]) -> dict:
    kept = {n: doc["resourceDefinitions"][n] for n in names}
    definitions: dict = {}
    todo = set().union(*(local_refs(v) for v in kept.values()))
    while todo:
        name = todo.pop()
        if name in definitions:
            continue
        definitions[name] = doc["definitions"][name]
        todo |= local_refs(definitions[name]) - set(definitions)
    out = {k: v for k, v in doc.items() if k not in ("resourceDefinitions", "definitions",
                                                      "subscription_resourceDefinitions",
                                                      "tenant_resourceDefinitions",
                                                      "managementGroup_resourceDefinitions",
                                                      "extension_resourceDefinitions",
                                                      "unknown_resourceDefinitions")}
    out["resourceDefinitions"] = kept
    out["definitions"] = dict(sorted(definitions.items()))
    return out


def main(source: Path) -> None:
    for rel, names in WANTED.items():
        doc = json.loads((source / rel).read_text(encoding="utf-8"))
        target = HERE / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(prune(doc, names), indent=2) + "\n", encoding="utf-8")
    for rel in WHOLE:
        target = HERE / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text((source / rel).read_text(encoding="utf-8"), encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
