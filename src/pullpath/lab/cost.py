"""Estimated hourly cost of a lab while it exists, from the price table in
``scenarios/costs/prices.yaml`` (data with sources and dates, not code)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from pullpath.lab.render import RenderedLab

__all__ = ["CostEstimate", "CostLine", "Price", "estimate", "load_prices"]


@dataclass(frozen=True, slots=True)
class Price:
    key: str
    per_hour: float
    unit: str
    source: str
    verified: bool
    via: str = ""


@dataclass(frozen=True, slots=True)
class CostLine:
    resource: str
    """Resource type or name the line is for."""
    price: Price
    quantity: float

    @property
    def per_hour(self) -> float:
        return self.price.per_hour * self.quantity


@dataclass(frozen=True, slots=True)
class CostEstimate:
    currency: str
    basis: str
    checked: str
    lines: tuple[CostLine, ...]

    @property
    def per_hour(self) -> float:
        return sum(line.per_hour for line in self.lines)

    @property
    def unverified(self) -> tuple[str, ...]:
        return tuple(sorted({line.price.key for line in self.lines if not line.price.verified}))


@dataclass(frozen=True, slots=True)
class PriceTable:
    currency: str
    basis: str
    checked: str
    prices: dict[str, Price]


def load_prices() -> PriceTable:
    text = resources.files("pullpath.lab").joinpath("scenarios/costs/prices.yaml").read_text(
        encoding="utf-8")
    doc: dict[str, Any] = yaml.safe_load(text)
    prices = {
        key: Price(key, float(p["per_hour"]), str(p["unit"]), str(p["source"]),
                   bool(p.get("verified", False)), str(p.get("via", "")))
        for key, p in doc["prices"].items()
    }
    return PriceTable(str(doc["currency"]), str(doc["region_basis"]), str(doc["checked"]), prices)


def estimate(lab: RenderedLab, table: PriceTable | None = None) -> CostEstimate:
    """One line per billable resource of the lab; free resources in one line."""
    t = table or load_prices()
    p = t.prices
    s = lab.scenario
    lines: list[CostLine] = [CostLine(f"registry {lab.names.registry} ({s.registry.sku})",
                                      p["acr-premium"], 1.0)]
    lines.append(CostLine(f"workspace {lab.names.workspace}", p["log-analytics-ingestion"], 1.0))
    if s.registry.private_endpoint_subnet:
        lines.append(CostLine(f"private endpoint {lab.names.private_endpoint}",
                              p["private-endpoint"], 1.0))
        lines.append(CostLine("private DNS zone privatelink.azurecr.io", p["private-dns-zone"],
                              1.0))
    for c in s.consumers:
        name = lab.names.consumer(c.key)
        if c.kind == "aci":
            lines.append(CostLine(f"container group {name} vCPU", p["aci-linux-vcpu"], c.cpu))
            lines.append(CostLine(f"container group {name} memory", p["aci-linux-memory-gb"],
                                  float(c.memory)))
        else:
            lines.append(CostLine(f"container app {name} vCPU", p["aca-consumption-vcpu"], c.cpu))
            lines.append(CostLine(f"container app {name} memory",
                                  p["aca-consumption-memory-gib"],
                                  float(c.memory.removesuffix("Gi"))))
    lines.append(CostLine("VNet, identity, role assignment, diagnostic setting", p["free"], 1.0))
    return CostEstimate(t.currency, t.basis, t.checked, tuple(lines))
