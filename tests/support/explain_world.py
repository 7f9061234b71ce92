"""A small, consistent Azure inventory for explain's tests, in both shapes.

The resources are ``tests/data/explain/derived/*.json`` (official REST API examples, edited as
``tests/data/explain/PROVENANCE.md`` says). Each test edits a fresh copy to reach the
configuration it needs and reads it back through pullpath's own inventory reader, either in the
REST shape or in the SDK shape (each resource deserialised into the real azure-mgmt model and
dumped with ``as_dict()``), so a wrong attribute name in the reader or the facts shows up.
"""

from __future__ import annotations

import copy
import importlib
import json
from functools import lru_cache
from typing import Any

from pullpath.core.inventory import inventory_from_documents
from pullpath.domain.explain import KnowledgeBase, PairPrediction
from pullpath.domain.inventory import Inventory
from pullpath.domain.report import ExplainReport
from pullpath.workflows.explain import explain_inventory
from tests.support import TESTS

DATA = TESTS / "data" / "explain"
DERIVED = DATA / "derived"
SHAPES = ("rest", "sdk")

Json = dict[str, Any]

# resource type -> (SDK models module, model class); types without an installed model (ACR
# tasks, diagnostic settings) are read in the REST shape only.
SDK_MODELS: dict[str, tuple[str, str]] = {
    "microsoft.network/virtualnetworks": ("azure.mgmt.network.models", "VirtualNetwork"),
    "microsoft.network/privateendpoints": ("azure.mgmt.network.models", "PrivateEndpoint"),
    "microsoft.network/publicipaddresses": ("azure.mgmt.network.models", "PublicIPAddress"),
    "microsoft.network/natgateways": ("azure.mgmt.network.models", "NatGateway"),
    "microsoft.network/privatednszones": ("azure.mgmt.privatedns.models", "PrivateZone"),
    "microsoft.network/privatednszones/a": ("azure.mgmt.privatedns.models", "RecordSet"),
    "microsoft.network/privatednszones/virtualnetworklinks": (
        "azure.mgmt.privatedns.models", "VirtualNetworkLink"),
    "microsoft.containerregistry/registries": ("azure.mgmt.containerregistry.models", "Registry"),
    "microsoft.managedidentity/userassignedidentities": ("azure.mgmt.msi.models", "Identity"),
    "microsoft.containerinstance/containergroups": (
        "azure.mgmt.containerinstance.models", "ContainerGroup"),
    "microsoft.app/managedenvironments": ("azure.mgmt.appcontainers.models", "ManagedEnvironment"),
    "microsoft.app/containerapps": ("azure.mgmt.appcontainers.models", "ContainerApp"),
    "microsoft.app/jobs": ("azure.mgmt.appcontainers.models", "Job"),
    "microsoft.containerregistry/registries/replications": (
        "azure.mgmt.containerregistry.models", "Replication"),
    "microsoft.containerservice/managedclusters": (
        "azure.mgmt.containerservice.models", "ManagedCluster"),
    "microsoft.web/sites": ("azure.mgmt.web.models", "Site"),
    "microsoft.authorization/roleassignments": (
        "azure.mgmt.authorization.v2022_04_01.models", "RoleAssignment"),
}


def sdk_dict(resource: Json) -> Json:
    """The SDK shape of a REST resource: the azure-mgmt model's ``as_dict()``."""
    if str(resource.get("type", "")).lower() not in SDK_MODELS:
        return resource
    return copy.deepcopy(_sdk_cached(json.dumps(resource, sort_keys=True)))


@lru_cache(maxsize=512)
def _sdk_cached(text: str) -> Json:
    return _sdk_convert(json.loads(text))


def _sdk_convert(resource: Json) -> Json:
    target = SDK_MODELS[str(resource.get("type", "")).lower()]
    cls = getattr(importlib.import_module(target[0]), target[1])
    if hasattr(cls, "deserialize"):  # msrest models (containerinstance, authorization, msi)
        out: Json = cls.deserialize(resource).as_dict()
        return out
    from azure.core.serialization import as_attribute_dict  # TypeSpec models

    out = as_attribute_dict(cls(resource))
    return out


@lru_cache(maxsize=1)
def _base() -> dict[str, Json]:
    return {p.stem: json.loads(p.read_text(encoding="utf-8"))
            for p in sorted(DERIVED.glob("*.json"))}


class World:
    """A fresh, editable copy of the derived inventory."""

    def __init__(self) -> None:
        self.res: dict[str, Json] = copy.deepcopy(_base())

    def props(self, name: str) -> Json:
        p: Json = self.res[name]["properties"]
        return p

    def id(self, name: str) -> str:
        return str(self.res[name]["id"])

    def drop(self, *names: str) -> World:
        for name in names:
            self.res.pop(name, None)
        return self

    def subnet_props(self, subnet: str) -> Json:
        for sub in self.props("vnet")["subnets"]:
            if sub["name"] == subnet:
                p: Json = sub["properties"]
                return p
        raise KeyError(subnet)

    def only(self, *consumers: str) -> World:
        """Keep only these consumers (others dropped) to keep findings focused."""
        for name in ("aci", "containerapp", "aks", "webapp", "task"):
            if name not in consumers:
                self.res.pop(name, None)
        return self

    def inventory(self, shape: str = "rest") -> Inventory:
        docs = [(f"{name}.json", sdk_dict(r) if shape == "sdk" else r)
                for name, r in self.res.items()]
        return inventory_from_documents(docs)

    def explain(self, shape: str = "rest", kb: KnowledgeBase | None = None) -> ExplainReport:
        return explain_inventory(self.inventory(shape), kb)

    def pair(self, consumer: str, shape: str = "rest") -> PairPrediction:
        """The prediction for the named consumer resource (file stem)."""
        report = self.explain(shape)
        cid = self.id(consumer).lower()
        found = [p for p in report.pairs if p.consumer.id == cid]
        assert len(found) == 1, [p.consumer.id for p in report.pairs]
        return found[0]

    def finding_ids(self, shape: str = "rest") -> list[str]:
        return sorted({f.id for f in self.explain(shape).findings})
