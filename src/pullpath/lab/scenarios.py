"""Lab scenarios: small declarative YAML descriptions, loaded and validated into frozen values.

A scenario says what to build (registry settings, network, consumers), which test image to
import, and, per consumer, what it expects and why (the knowledge-base entry it re-checks).
Everything a user can get wrong in a scenario file is reported as a :class:`ScenarioError`
naming the file and the field.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path as FsPath
from typing import Any

import yaml

from pullpath.domain.report import KnowledgeRef
from pullpath.domain.verdicts import Path

__all__ = [
    "ACA_DELEGATION",
    "ACI_DELEGATION",
    "ConsumerSpec",
    "Expect",
    "ImageSpec",
    "KnowledgeRef",
    "RegistrySpec",
    "Scenario",
    "ScenarioError",
    "SubnetSpec",
    "list_scenarios",
    "load_scenario",
    "parse_scenario",
]

SCHEMA = "pullpath.lab.scenario/v1"
ACI_DELEGATION = "Microsoft.ContainerInstance/containerGroups"
ACA_DELEGATION = "Microsoft.App/environments"
ACA_WORKLOAD_PROFILES_MAX_PREFIX = 27
"""A workload-profiles Container Apps environment needs a subnet of /27 or larger, delegated to
Microsoft.App/environments (a consumption-only environment needs /23). Source:
learn.microsoft.com/azure/container-apps/networking, "Environment selection" (checked
2026-11-28)."""


class ScenarioError(ValueError):
    """A scenario that cannot be used, with the file and the field in the message."""


@dataclass(frozen=True, slots=True)
class SubnetSpec:
    name: str
    prefix: str
    delegation: str = ""


@dataclass(frozen=True, slots=True)
class RegistrySpec:
    sku: str
    public_network_access: str
    """Enabled / Disabled."""
    trusted_services: bool
    """networkRuleBypassOptions AzureServices (True) or None (False)."""
    private_endpoint_subnet: str = ""
    """Subnet of the registry's private endpoint; "" for none."""


@dataclass(frozen=True, slots=True)
class ImageSpec:
    """The small public image imported into the registry before any consumer starts."""

    source_registry: str
    source_image: str
    target: str
    """``repository:tag`` in the lab registry."""

    @property
    def repository(self) -> str:
        return self.target.rsplit(":", 1)[0]

    @property
    def tag(self) -> str:
        return self.target.rsplit(":", 1)[1]


@dataclass(frozen=True, slots=True)
class Expect:
    """What a consumer is expected to do, and why."""

    path: Path
    """The path its pulls are expected to take (``denied`` when they should be refused)."""
    why: str
    knowledge: str
    """Id of the knowledge-base entry this expectation rests on."""
    deployment: str = "succeeds"
    """``succeeds``, ``fails`` (the consumer's deployment must fail) or ``may-fail``."""
    failure_codes: tuple[str, ...] = ()
    """ARM error codes an expected failure may carry (any when empty)."""
    source: str = ""
    """The expected source kind of the caller IP (``azure-platform``, ``subnet``...)."""


@dataclass(frozen=True, slots=True)
class ConsumerSpec:
    key: str
    """Short key, used in names and template outputs (``aci``, ``app``)."""
    kind: str
    """``aci`` or ``aca``."""
    subnet: str
    identity: str
    """``user-assigned`` or ``system-assigned``."""
    cpu: float
    memory: str
    """``2`` (GB, ACI) or ``0.5Gi`` (ACA)."""
    expect: Expect


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    title: str
    question: str
    registry: RegistrySpec
    vnet_prefix: str
    subnets: tuple[SubnetSpec, ...]
    image: ImageSpec
    consumers: tuple[ConsumerSpec, ...]
    knowledge: tuple[KnowledgeRef, ...]
    source: str = ""
    """Where the scenario was loaded from."""

    def subnet(self, name: str) -> SubnetSpec:
        for s in self.subnets:
            if s.name == name:
                return s
        raise KeyError(name)

    def knowledge_entry(self, entry_id: str) -> KnowledgeRef | None:
        for k in self.knowledge:
            if k.id == entry_id:
                return k
        return None


# ------------------------------------------------------------------------------ loading


def _scenario_dir() -> Any:
    return resources.files("pullpath.lab").joinpath("scenarios")


def list_scenarios() -> list[str]:
    """Names of the bundled scenarios, sorted."""
    return sorted(
        p.name[: -len(".yaml")] for p in _scenario_dir().iterdir()
        if p.name.endswith(".yaml") and p.is_file()
    )


def load_scenario(name_or_path: str) -> Scenario:
    """A bundled scenario by name, or a scenario file by path."""
    candidate = FsPath(name_or_path)
    if name_or_path.endswith((".yaml", ".yml")) or candidate.is_file():
        try:
            text = candidate.read_text(encoding="utf-8")
        except OSError as exc:
            raise ScenarioError(f"{name_or_path}: cannot read: {exc.strerror or exc}") from None
        return parse_scenario(text, source=str(candidate))
    entry = _scenario_dir().joinpath(f"{name_or_path}.yaml")
    if not entry.is_file():
        known = ", ".join(list_scenarios())
        raise ScenarioError(f"unknown scenario {name_or_path!r}; bundled scenarios: {known}")
    return parse_scenario(entry.read_text(encoding="utf-8"), source=f"bundled {name_or_path}")


def parse_scenario(text: str, *, source: str) -> Scenario:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{source}: not valid YAML: {exc}") from None
    r = _Reader(source)
    if not isinstance(doc, Mapping):
        raise ScenarioError(f"{source}: a scenario must be a mapping")
    if doc.get("schema") != SCHEMA:
        raise ScenarioError(f"{source}: schema must be {SCHEMA!r}, got {doc.get('schema')!r}")
    name = r.text(doc, "name")
    if not name.replace("-", "").isalnum() or not name.islower() or len(name) > 40:
        raise ScenarioError(f"{source}: name {name!r} must be lower-case letters, digits and "
                            "dashes, at most 40 characters")
    knowledge = tuple(
        KnowledgeRef(r.text(k, "id", f"knowledge[{i}]"), r.text(k, "statement", f"knowledge[{i}]"),
                     r.text(k, "source", f"knowledge[{i}]"), r.text(k, "as_of", f"knowledge[{i}]"))
        for i, k in enumerate(r.seq(doc, "knowledge"))
    )
    reg = r.mapping(doc, "registry")
    registry = RegistrySpec(
        sku=r.choice(reg, "sku", ("Basic", "Standard", "Premium"), "registry"),
        public_network_access=r.choice(reg, "public_network_access", ("Enabled", "Disabled"),
                                       "registry"),
        trusted_services=r.flag(reg, "trusted_services", "registry"),
        private_endpoint_subnet=str(reg.get("private_endpoint_subnet") or ""),
    )
    net = r.mapping(doc, "network")
    vnet_prefix = r.cidr(net, "vnet", "network")
    subnets: list[SubnetSpec] = []
    for sname, spec in r.mapping(net, "subnets", "network").items():
        where = f"network.subnets.{sname}"
        if not isinstance(spec, Mapping):
            raise ScenarioError(f"{source}: {where} must be a mapping")
        subnets.append(SubnetSpec(str(sname), r.cidr(spec, "prefix", where),
                                  str(spec.get("delegation") or "")))
    img = r.mapping(doc, "image")
    image = ImageSpec(r.text(img, "source_registry", "image"), r.text(img, "source_image", "image"),
                      r.text(img, "target", "image"))
    if ":" not in image.target or image.target.endswith(":"):
        raise ScenarioError(f"{source}: image.target must be 'repository:tag'")
    consumers: list[ConsumerSpec] = []
    for i, c in enumerate(r.seq(doc, "consumers")):
        where = f"consumers[{i}]"
        e = r.mapping(c, "expect", where)
        try:
            path = Path(r.text(e, "path", f"{where}.expect"))
        except ValueError:
            raise ScenarioError(
                f"{source}: {where}.expect.path must be one of {', '.join(p.value for p in Path)}"
            ) from None
        expect = Expect(
            path=path,
            why=r.text(e, "why", f"{where}.expect"),
            knowledge=r.text(e, "knowledge", f"{where}.expect"),
            deployment=r.choice(e, "deployment", ("succeeds", "fails", "may-fail"),
                                f"{where}.expect", default="succeeds"),
            failure_codes=tuple(str(x) for x in e.get("failure_codes") or ()),
            source=str(e.get("source") or ""),
        )
        kind = r.choice(c, "kind", ("aci", "aca"), where)
        consumers.append(ConsumerSpec(
            key=r.text(c, "key", where),
            kind=kind,
            subnet=r.text(c, "subnet", where),
            identity=r.choice(c, "identity", ("user-assigned", "system-assigned"), where),
            cpu=float(c.get("cpu", 1 if kind == "aci" else 0.25)),
            memory=str(c.get("memory", "2" if kind == "aci" else "0.5Gi")),
            expect=expect,
        ))
    scenario = Scenario(
        name=name,
        title=r.text(doc, "title"),
        question=r.text(doc, "question"),
        registry=registry,
        vnet_prefix=vnet_prefix,
        subnets=tuple(subnets),
        image=image,
        consumers=tuple(consumers),
        knowledge=knowledge,
        source=source,
    )
    _validate(scenario)
    return scenario


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def _where(self, where: str, key: str) -> str:
        return f"{self.source}: {where + '.' if where else ''}{key}"

    def text(self, obj: Any, key: str, where: str = "") -> str:
        value = obj.get(key) if isinstance(obj, Mapping) else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, date):
            value = value.isoformat()
        if not isinstance(value, str) or not value.strip():
            raise ScenarioError(f"{self._where(where, key)} is required (a non-empty string)")
        return value.strip()

    def mapping(self, obj: Any, key: str, where: str = "") -> Mapping[str, Any]:
        value = obj.get(key) if isinstance(obj, Mapping) else None
        if not isinstance(value, Mapping):
            raise ScenarioError(f"{self._where(where, key)} is required (a mapping)")
        return value

    def seq(self, obj: Any, key: str, where: str = "") -> list[Any]:
        value = obj.get(key) if isinstance(obj, Mapping) else None
        if not isinstance(value, list) or not value:
            raise ScenarioError(f"{self._where(where, key)} is required (a non-empty list)")
        return value

    def flag(self, obj: Mapping[str, Any], key: str, where: str) -> bool:
        value = obj.get(key)
        if not isinstance(value, bool):
            raise ScenarioError(f"{self._where(where, key)} must be true or false")
        return value

    def choice(self, obj: Any, key: str, choices: tuple[str, ...], where: str,
               default: str | None = None) -> str:
        value = obj.get(key, default) if isinstance(obj, Mapping) else default
        if value not in choices:
            raise ScenarioError(
                f"{self._where(where, key)} must be one of {', '.join(choices)}, got {value!r}"
            )
        return str(value)

    def cidr(self, obj: Any, key: str, where: str) -> str:
        value = self.text(obj, key, where)
        try:
            net = ipaddress.ip_network(value, strict=True)
        except ValueError as exc:
            raise ScenarioError(f"{self._where(where, key)}: {exc}") from None
        if not net.is_private:
            raise ScenarioError(f"{self._where(where, key)}: {value} is not private address space")
        return value


def _validate(s: Scenario) -> None:
    src = s.source
    vnet = ipaddress.ip_network(s.vnet_prefix)
    nets: dict[str, ipaddress.IPv4Network | ipaddress.IPv6Network] = {}
    for sub in s.subnets:
        net = ipaddress.ip_network(sub.prefix)
        if not net.subnet_of(vnet):  # type: ignore[arg-type]
            raise ScenarioError(f"{src}: subnet {sub.name} {sub.prefix} is outside the VNet "
                                f"{s.vnet_prefix}")
        for other, onet in nets.items():
            if net.overlaps(onet):
                raise ScenarioError(f"{src}: subnets {other} and {sub.name} overlap")
        nets[sub.name] = net
    names = {sub.name for sub in s.subnets}
    pe = s.registry.private_endpoint_subnet
    if pe:
        if pe not in names:
            raise ScenarioError(f"{src}: registry.private_endpoint_subnet {pe!r} is not a subnet")
        if s.registry.sku != "Premium":
            raise ScenarioError(f"{src}: private endpoints need a Premium registry")
        if s.subnet(pe).delegation:
            raise ScenarioError(f"{src}: the private endpoint subnet {pe} must not be delegated")
    if s.registry.public_network_access == "Disabled" and s.registry.sku != "Premium":
        raise ScenarioError(f"{src}: network rules (publicNetworkAccess Disabled) need Premium")
    keys: set[str] = set()
    known_kb = {k.id for k in s.knowledge}
    for c in s.consumers:
        if not c.key.isalnum() or not c.key.islower() or len(c.key) > 8:
            raise ScenarioError(f"{src}: consumer key {c.key!r} must be 1-8 lower-case letters "
                                "or digits")
        if c.key in keys:
            raise ScenarioError(f"{src}: consumer key {c.key!r} is used twice")
        keys.add(c.key)
        if c.subnet not in names:
            raise ScenarioError(f"{src}: consumer {c.key}: subnet {c.subnet!r} is not defined")
        sub = s.subnet(c.subnet)
        if c.subnet == pe:
            raise ScenarioError(f"{src}: consumer {c.key}: the registry's private endpoint must be "
                                "on a different subnet from the consumer's")
        if c.expect.knowledge not in known_kb:
            raise ScenarioError(f"{src}: consumer {c.key}: expect.knowledge "
                                f"{c.expect.knowledge!r} is not in the scenario's knowledge list")
        if c.kind == "aci":
            if sub.delegation != ACI_DELEGATION:
                raise ScenarioError(f"{src}: consumer {c.key}: ACI subnet {sub.name} must be "
                                    f"delegated to {ACI_DELEGATION}")
            if not 0 < c.cpu <= 4:
                raise ScenarioError(f"{src}: consumer {c.key}: cpu must be in (0, 4]")
            try:
                float(c.memory)
            except ValueError:
                raise ScenarioError(f"{src}: consumer {c.key}: memory must be a number of GB "
                                    "for ACI") from None
        else:
            if c.identity != "user-assigned":
                raise ScenarioError(f"{src}: consumer {c.key}: ACA scenarios use a user-assigned "
                                    "identity")
            if sub.delegation != ACA_DELEGATION:
                raise ScenarioError(f"{src}: consumer {c.key}: Container Apps subnet {sub.name} "
                                    f"must be delegated to {ACA_DELEGATION}")
            if nets[sub.name].prefixlen > ACA_WORKLOAD_PROFILES_MAX_PREFIX:
                raise ScenarioError(
                    f"{src}: consumer {c.key}: a workload-profiles Container Apps environment "
                    f"needs a /{ACA_WORKLOAD_PROFILES_MAX_PREFIX} or larger subnet, "
                    f"{sub.prefix} is too small"
                )
            if not c.memory.endswith("Gi"):
                raise ScenarioError(f"{src}: consumer {c.key}: memory must look like '0.5Gi'")
