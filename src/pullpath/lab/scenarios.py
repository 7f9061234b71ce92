"""Lab scenarios: small declarative YAML descriptions, loaded and validated into frozen values.

A scenario says what to build (registry settings, network, consumers), which test image to
import, and, per consumer, what it expects and why (the knowledge-base entry it re-checks),
what the documentation claims and what the field report observed. A scenario may declare
*variants*: named changes to the same scenario (a setting switched off, a consumer without a
VNet) that test another claim, loaded with ``load_scenario(name, variant)`` or ``name:variant``.
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

from pullpath.domain.report import Claim, KnowledgeRef
from pullpath.domain.verdicts import Path

__all__ = [
    "ACA_DELEGATION",
    "ACI_DELEGATION",
    "DEFAULT_SCENARIO",
    "Claim",
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
DEFAULT_SCENARIO = "field-report"
"""The scenario `lab plan/up/run` use when none is named: the field report of 2024-11-25."""
ACI_DELEGATION = "Microsoft.ContainerInstance/containerGroups"
ACA_DELEGATION = "Microsoft.App/environments"
ACA_WORKLOAD_PROFILES_MAX_PREFIX = 27
"""A workload-profiles Container Apps environment needs a subnet of /27 or larger, delegated to
Microsoft.App/environments (a consumption-only environment needs /23). Source:
learn.microsoft.com/azure/container-apps/networking, "Environment selection" (checked
2026-11-28)."""


SYSTEM_IDENTITY_UNSUPPORTED = (
    "a consumer pulls with a user-assigned identity. ACI documents no way to name a "
    "system-assigned identity in imageRegistryCredentials (the API's identity is \"The identity "
    "for the private registry.\", the Azure CLI's --acr-identity a user-assigned identity's "
    "resource ID) and its documentation says it \"doesn't support system-assigned managed "
    "identity-authenticated image pulls with ACR\"; a guessed form would test a misspelling, "
    "not the service"
)


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
    documented: Claim | None = None
    """What the documentation says the path is (None: it makes no claim for this setup)."""
    reported: Claim | None = None
    """What the field report observed (None: the report did not cover this setup)."""


@dataclass(frozen=True, slots=True)
class ConsumerSpec:
    key: str
    """Short key, used in names and template outputs (``aci``, ``app``)."""
    kind: str
    """``aci`` or ``aca``."""
    subnet: str
    """The consumer's subnet; "" for an ACI container group outside any VNet."""
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
    variant: str = ""
    """The variant this scenario was loaded as ("" for the scenario itself)."""
    variants: tuple[str, ...] = ()
    """Every variant the scenario file declares."""
    dropped_variants: tuple[tuple[str, str], ...] = ()
    """(name, reason): variants considered and deliberately not built, with the reason."""
    report: str = ""
    """The field report this scenario rebuilds: its date and what it observed."""

    @property
    def ident(self) -> str:
        """``name`` or ``name:variant``: how a run names what it measured."""
        return f"{self.name}:{self.variant}" if self.variant else self.name

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


def load_scenario(name_or_path: str, variant: str | None = None) -> Scenario:
    """A bundled scenario by name, or a scenario file by path; ``variant`` (or a ``:variant``
    suffix on the name) selects one of its variants."""
    if variant is None and ":" in name_or_path and not FsPath(name_or_path).is_file():
        name_or_path, variant = name_or_path.rsplit(":", 1)
    candidate = FsPath(name_or_path)
    if name_or_path.endswith((".yaml", ".yml")) or candidate.is_file():
        try:
            text = candidate.read_text(encoding="utf-8")
        except OSError as exc:
            raise ScenarioError(f"{name_or_path}: cannot read: {exc.strerror or exc}") from None
        return parse_scenario(text, source=str(candidate), variant=variant)
    entry = _scenario_dir().joinpath(f"{name_or_path}.yaml")
    if not entry.is_file():
        known = ", ".join(list_scenarios())
        raise ScenarioError(f"unknown scenario {name_or_path!r}; bundled scenarios: {known}")
    return parse_scenario(entry.read_text(encoding="utf-8"), source=f"bundled {name_or_path}",
                          variant=variant)


def _with_variant(doc: Mapping[str, Any], variant: str, source: str) -> dict[str, Any]:
    """The scenario document with one variant's changes applied: mappings merge key by key,
    ``consumers`` are addressed by their key, a consumer's ``expect`` is replaced whole (so no
    expectation of the scenario leaks into the variant's), ``knowledge`` entries are added."""
    variants = doc.get("variants") or {}
    dropped = doc.get("dropped_variants") or {}
    if not isinstance(variants, Mapping) or variant not in variants:
        if isinstance(dropped, Mapping) and variant in dropped:
            raise ScenarioError(f"{source}: variant {variant!r} is not built: {dropped[variant]}")
        known = ", ".join(sorted(variants)) if isinstance(variants, Mapping) else ""
        raise ScenarioError(f"{source}: no variant {variant!r}"
                            + (f"; its variants: {known}" if known else "; it has no variants"))
    change = variants[variant]
    if not isinstance(change, Mapping):
        raise ScenarioError(f"{source}: variants.{variant} must be a mapping")
    out = dict(doc)
    for key, value in change.items():
        where = f"variants.{variant}.{key}"
        if key == "consumers":
            if not isinstance(value, Mapping):
                raise ScenarioError(f"{source}: {where} must map consumer keys to changes")
            consumers = [dict(c) if isinstance(c, Mapping) else c
                         for c in doc.get("consumers") or []]
            by_key = {c.get("key"): c for c in consumers if isinstance(c, dict)}
            for ckey, cchange in value.items():
                if ckey not in by_key or not isinstance(cchange, Mapping):
                    raise ScenarioError(f"{source}: {where}.{ckey}: no such consumer, or not a "
                                        "mapping")
                by_key[ckey].update(cchange)
            out["consumers"] = consumers
        elif key == "knowledge":
            out["knowledge"] = [*(doc.get("knowledge") or []), *(value or [])]
        elif isinstance(value, Mapping) and isinstance(doc.get(key), Mapping):
            out[key] = {**doc[key], **value}
        else:
            out[key] = value
    return out


def _claim(r: _Reader, obj: Any, where: str) -> Claim | None:
    if obj is None:
        return None
    if not isinstance(obj, Mapping):
        raise ScenarioError(f"{r.source}: {where} must be a mapping (path, source, as_of, says)")
    return Claim(path=_path_of(r, obj, "path", where), source=r.text(obj, "source", where),
                 as_of=r.text(obj, "as_of", where), says=str(obj.get("says") or "").strip())


def _path_of(r: _Reader, obj: Any, key: str, where: str) -> Path:
    try:
        return Path(r.text(obj, key, where))
    except ValueError:
        raise ScenarioError(
            f"{r.source}: {where}.{key} must be one of {', '.join(p.value for p in Path)}"
        ) from None


def parse_scenario(text: str, *, source: str, variant: str | None = None) -> Scenario:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{source}: not valid YAML: {exc}") from None
    r = _Reader(source)
    if not isinstance(doc, Mapping):
        raise ScenarioError(f"{source}: a scenario must be a mapping")
    if doc.get("schema") != SCHEMA:
        raise ScenarioError(f"{source}: schema must be {SCHEMA!r}, got {doc.get('schema')!r}")
    variants = doc.get("variants") or {}
    dropped = doc.get("dropped_variants") or {}
    if not isinstance(variants, Mapping) or not isinstance(dropped, Mapping):
        raise ScenarioError(f"{source}: variants and dropped_variants must be mappings")
    for vname in (*variants, *dropped):
        if not _is_name(str(vname)):
            raise ScenarioError(f"{source}: variant name {vname!r} must be lower-case letters, "
                                "digits and dashes")
    if variant:
        doc = _with_variant(doc, variant, source)
    name = r.text(doc, "name")
    if not _is_name(name):
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
        expect = Expect(
            path=_path_of(r, e, "path", f"{where}.expect"),
            why=r.text(e, "why", f"{where}.expect"),
            knowledge=r.text(e, "knowledge", f"{where}.expect"),
            deployment=r.choice(e, "deployment", ("succeeds", "fails", "may-fail"),
                                f"{where}.expect", default="succeeds"),
            failure_codes=tuple(str(x) for x in e.get("failure_codes") or ()),
            source=str(e.get("source") or ""),
            documented=_claim(r, e.get("documented"), f"{where}.expect.documented"),
            reported=_claim(r, e.get("reported"), f"{where}.expect.reported"),
        )
        kind = r.choice(c, "kind", ("aci", "aca"), where)
        consumers.append(ConsumerSpec(
            key=r.text(c, "key", where),
            kind=kind,
            subnet=str(c.get("subnet") or "").strip(),
            identity=str(c.get("identity", "user-assigned")),
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
        variant=variant or "",
        variants=tuple(str(v) for v in variants),
        dropped_variants=tuple((str(k), " ".join(str(v).split())) for k, v in dropped.items()),
        report=" ".join(str(doc.get("report") or "").split()),
    )
    _validate(scenario)
    return scenario


def _is_name(name: str) -> bool:
    return bool(name) and name.replace("-", "").isalnum() and name.islower() and len(name) <= 40 \
        and name.isascii()


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
        if c.expect.knowledge not in known_kb:
            raise ScenarioError(f"{src}: consumer {c.key}: expect.knowledge "
                                f"{c.expect.knowledge!r} is not in the scenario's knowledge list")
        if c.identity != "user-assigned":
            raise ScenarioError(f"{src}: consumer {c.key}: {SYSTEM_IDENTITY_UNSUPPORTED}")
        if not c.subnet and c.kind == "aci":
            _validate_aci_size(c, src)
            continue  # a container group outside any VNet
        if c.subnet not in names:
            raise ScenarioError(f"{src}: consumer {c.key}: subnet {c.subnet!r} is not defined")
        sub = s.subnet(c.subnet)
        if c.subnet == pe:
            raise ScenarioError(f"{src}: consumer {c.key}: the registry's private endpoint must be "
                                "on a different subnet from the consumer's")
        if c.kind == "aci":
            if sub.delegation != ACI_DELEGATION:
                raise ScenarioError(f"{src}: consumer {c.key}: ACI subnet {sub.name} must be "
                                    f"delegated to {ACI_DELEGATION}")
            _validate_aci_size(c, src)
        else:
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
    aca_subnets = {c.subnet for c in s.consumers if c.kind == "aca"}
    if len(aca_subnets) > 1:
        raise ScenarioError(f"{src}: the Container Apps consumers share one environment, so one "
                            f"subnet; got {', '.join(sorted(aca_subnets))}")


def _validate_aci_size(c: ConsumerSpec, src: str) -> None:
    if not 0 < c.cpu <= 4:
        raise ScenarioError(f"{src}: consumer {c.key}: cpu must be in (0, 4]")
    try:
        float(c.memory)
    except ValueError:
        raise ScenarioError(f"{src}: consumer {c.key}: memory must be a number of GB "
                            "for ACI") from None
