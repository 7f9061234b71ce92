"""Explain infrastructure code before it is deployed: ARM and Bicep templates, Terraform plans.

The code's resources (``domain.iac.IacDocument``, read by the adapters) replace the inventory's
version of the same resources, the rest of the inventory (``--inventory`` files or a live
subscription) supplies what the code refers to, and the one explainer predicts every pair.
With a baseline (another template, plan or inventory) the report also lists which consumers'
paths the change moves.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pullpath.core.changes import path_changes
from pullpath.core.iac.armexpr import LOCATION_NOT_GIVEN
from pullpath.core.iac.platform import deployed_in_order
from pullpath.core.inventory import InventoryBuilder, iter_resources
from pullpath.domain.explain import KnowledgeBase
from pullpath.domain.iac import DeploymentScope, IacDocument, IacKind, SourceLocation
from pullpath.domain.inventory import norm_id
from pullpath.domain.report import ExplainReport
from pullpath.workflows.explain import explain_inventory

if TYPE_CHECKING:
    from pullpath.adapters.inventory_files import InventoryFiles

__all__ = [
    "MAX_UNKNOWN_NOTES",
    "CodeSources",
    "explain_code",
    "planned_ids",
    "read_code",
    "resource_ids",
    "run_explain_code",
    "with_baseline",
]

MAX_UNKNOWN_NOTES = 25
"""Values not known before deployment listed one by one in the notes; the rest are counted."""

Existing = Sequence[tuple[str, object]]
"""Decoded inventory documents with their labels (files, or a live subscription's rows)."""


@dataclass(frozen=True)
class CodeSources:
    """The infrastructure code to explain, as the user named it."""

    templates: tuple[Path, ...] = ()
    """ARM templates (``.json``) and ``.bicep`` files."""
    parameters: tuple[Path, ...] = ()
    """Deployment parameters files: one for every template, or one per template in order."""
    plans: tuple[Path, ...] = ()
    """``terraform show -json`` outputs."""
    tf_dirs: tuple[Path, ...] = ()
    """Where the ``.tf`` files are, for line numbers (default: each plan's folder)."""
    scope: DeploymentScope = field(default_factory=DeploymentScope)
    scope_given: bool = False
    """The scope was named (``--resource-group-id``), not the placeholder: a Terraform plan's
    resources without a known subscription take its subscription."""

    @property
    def empty(self) -> bool:
        return not self.templates and not self.plans

    def parameters_of_templates(self) -> list[Path | None]:
        """The parameters file of each template (raises ``ValueError`` when the counts do not
        pair: give one parameters file, or one per template)."""
        if not self.parameters:
            return [None] * len(self.templates)
        if len(self.parameters) == 1:
            return [self.parameters[0]] * len(self.templates)
        if len(self.parameters) != len(self.templates):
            raise ValueError(f"{len(self.parameters)} parameters files for "
                             f"{len(self.templates)} templates: give one for all, or one per "
                             "template in the same order")
        return list(self.parameters)


def _shown(path: Path) -> str:
    """The path as code scanning wants it: relative to the working folder when inside it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return path.as_posix()
    return Path(rel).as_posix() if not rel.startswith("..") else path.as_posix()


def read_code(sources: CodeSources, existing: Existing = ()) -> list[IacDocument]:
    """Read every template and plan; ``existing`` answers templates' ``reference()`` of
    resources they do not create."""
    from pullpath.adapters.iac_files import read_bicep_file, read_template_file
    from pullpath.adapters.terraform_files import read_plan_file

    index = _resource_index(existing)
    docs: list[IacDocument] = []
    for path, params in zip(sources.templates, sources.parameters_of_templates(), strict=True):
        read = read_bicep_file if path.suffix.lower() == ".bicep" else read_template_file
        docs.append(read(Path(_shown(path)), params, sources.scope, reference=index.get))
    subscription = sources.scope.subscription if sources.scope_given else None
    for path in sources.plans:
        docs.append(read_plan_file(Path(_shown(path)), tf_dirs=sources.tf_dirs,
                                   subscription=subscription))
    return docs


def _resource_index(existing: Existing) -> dict[str, Mapping[str, Any]]:
    index: dict[str, Mapping[str, Any]] = {}
    for label, doc in existing:
        for _, res in iter_resources(doc, label):
            rid = res.get("id")
            if isinstance(rid, str) and rid:
                index.setdefault(norm_id(rid), res)
    return index


def resource_ids(resources: Iterable[Mapping[str, Any]]) -> set[str]:
    """Every resource ID in ``resources``, subnets written inside their VNet included."""
    ids: set[str] = set()
    for res in resources:
        rid = norm_id(str(res.get("id", "")))
        if not rid:
            continue
        ids.add(rid)
        props = res.get("properties")
        subnets = props.get("subnets") if isinstance(props, Mapping) else None
        for sub in subnets if isinstance(subnets, list) else ():
            if not isinstance(sub, Mapping):
                continue
            if isinstance(sub.get("id"), str):
                ids.add(norm_id(sub["id"]))
            elif isinstance(sub.get("name"), str):  # written inline in a template
                ids.add(f"{rid}/subnets/{sub['name'].lower()}")
    return ids


def planned_ids(code: Iterable[IacDocument]) -> set[str]:
    """Every resource ID the code describes."""
    return resource_ids(res for doc in code for res in doc.resources)


def _code_label(doc: IacDocument) -> str:
    return {IacKind.ARM: "ARM template", IacKind.BICEP: "Bicep file",
            IacKind.TERRAFORM_PLAN: "Terraform plan"}[doc.kind] + f" {doc.path}"


def _code_notes(code: Sequence[IacDocument], known: set[str], superseded: int) -> list[str]:
    notes: list[str] = []
    for doc in code:
        notes += [f"{doc.path}: {issue}" for issue in doc.issues]
        missing = [r for r in dict.fromkeys(doc.refers_to) if norm_id(r) not in known]
        notes += [f"{doc.path} refers to {rid}, which it does not create and the inventory "
                  "does not hold: predictions that depend on it are unknown (give it with "
                  f"--inventory, e.g. az resource show --ids {rid})" for rid in missing]
    unknowns = [f"{doc.path}: {u}" for doc in code for u in doc.unknowns]
    notes += [f"not known before deployment: {u}" for u in unknowns[:MAX_UNKNOWN_NOTES]]
    if len(unknowns) > MAX_UNKNOWN_NOTES:
        notes.append(f"... and {len(unknowns) - MAX_UNKNOWN_NOTES} more values not known "
                     "before deployment (all of them in --format json)")
    if any(LOCATION_NOT_GIVEN in u for u in unknowns):
        notes.insert(0, "the templates use the resource group's region (resourceGroup().location)"
                        ", which was not given: give it with --location, or what depends on a "
                        "resource's region (a registry's data endpoint record) stays unknown")
    if superseded:
        notes.append(f"{superseded} resource(s) of the inventory are replaced by their "
                     "version in the code")
    return notes


def explain_code(code: Sequence[IacDocument], existing: Existing = (), *,
                 existing_files: InventoryFiles | None = None,
                 kb: KnowledgeBase | None = None) -> ExplainReport:
    """Predict every pair of the code's resources merged over the existing ones.

    ``existing_files`` (the inventory files ``existing`` was read from) replays their
    accounting (skipped files, unreadable ones); without it ``existing`` is read as
    documents.
    """
    builder = InventoryBuilder(superseded=planned_ids(code))
    if existing_files is not None:
        existing_files.into(builder)
    else:
        for label, doc in existing:
            builder.add_file(label)
            builder.add_document(doc, label)
    locations: dict[str, SourceLocation] = {}
    for doc in code:
        builder.add_file(doc.path)
        locations.update(doc.locations)
    # deployed one after another: a resource declared again takes its later declaration
    for res in deployed_in_order([doc.resources for doc in code]):
        where = locations.get(norm_id(str(res.get("id", ""))))
        label = f"{where.file}#{where.address}" if where is not None else "code"
        builder.add_planned(label, res)
    report = explain_inventory(builder.finish(), kb)
    known = resource_ids(_resource_index(existing).values()) | planned_ids(code)
    notes = list(dict.fromkeys([*_code_notes(code, known, builder.superseded_read),
                                *report.notes]))
    return replace(report, notes=tuple(notes), code=tuple(_code_label(d) for d in code),
                   locations=locations)


def with_baseline(report: ExplainReport, baseline: ExplainReport, label: str) -> ExplainReport:
    """``report`` with the pairs whose path differs from ``baseline``'s."""
    return replace(report, baseline=label, changes=path_changes(baseline, report))


def run_explain_code(sources: CodeSources, inventory_paths: Sequence[Path] = (), *,
                     existing: Existing = (), baseline: Path | None = None,
                     baseline_parameters: Path | None = None,
                     kb: KnowledgeBase | None = None) -> ExplainReport:
    """Read the code and the inventory files (or take ``existing`` documents, from a live
    subscription), explain them, and compare with ``baseline`` when given."""
    from pullpath.adapters.inventory_files import read_inventory_files

    files = read_inventory_files(inventory_paths) if inventory_paths else None
    docs: Existing = files.documents if files is not None else existing
    code = read_code(sources, docs)
    report = explain_code(code, docs, existing_files=files, kb=kb)
    if baseline is None:
        return report
    base = _explain_baseline(baseline, sources, files, docs, kb,
                             (baseline_parameters,) if baseline_parameters else None)
    return with_baseline(report, base, _shown(baseline))


def _explain_baseline(path: Path, sources: CodeSources, files: InventoryFiles | None,
                      docs: Existing,
                      kb: KnowledgeBase | None,
                      baseline_parameters: tuple[Path, ...] | None) -> ExplainReport:
    """The baseline is a template or plan (explained over the same inventory; a template with
    ``baseline_parameters``, else with the one ``--parameters`` file) or an inventory (file or
    folder: what exists today)."""
    from pullpath.adapters.iac_files import code_kind
    from pullpath.workflows.audit import load_inventory

    kind = code_kind(path)
    if kind is None:
        return explain_inventory(load_inventory([path]), kb)
    if kind is IacKind.TERRAFORM_PLAN:
        base_sources = replace(sources, templates=(), plans=(path,))
    else:
        params = baseline_parameters if baseline_parameters is not None else (
            sources.parameters[:1] if len(sources.parameters) == 1 else ())
        base_sources = replace(sources, templates=(path,), plans=(), parameters=params)
    return explain_code(read_code(base_sources, docs), docs, existing_files=files, kb=kb)
