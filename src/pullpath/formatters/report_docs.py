"""From whatever a command produced (an ``AuditReport``, an explain or lab report object, or an
already built JSON document) to the document and ``network`` section the HTML and Markdown
formats draw.

The HTML and Markdown formats always read the JSON contract (``pullpath.audit/v1``,
``pullpath.explain/v1``, ``pullpath.lab/v1``), never a report's internals, so they show the
numbers ``--format json`` shows. The one thing the contracts do not carry is the network around
the registry (firewall state, private endpoints, the consumers' subnets) the diagram draws; it
comes, in this order, from the ``network`` argument, a ``network`` key in the document, an
``Inventory`` held by the report object, or the inventory files the report names as its inputs
(re-read; the only file access in the formatters, and skipped when any of the others is there).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any

from pullpath.domain.inventory import Inventory
from pullpath.domain.verdicts import InventoryInfo
from pullpath.formatters.network_view import load_network, network_view

# (module, function) pairs that turn a report object into its JSON document, tried in order
_DOCUMENT_FUNCTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "audit": (("pullpath.formatters.audit_doc", "audit_document"),),
    "explain": (
        ("pullpath.formatters.explain_doc", "explain_document"),
        ("pullpath.formatters.explain_doc", "explain_doc"),
        ("pullpath.formatters.explain_doc", "document"),
    ),
    "lab": (
        ("pullpath.formatters.lab_doc", "lab_document"),
        ("pullpath.formatters.lab_doc", "lab_doc"),
        ("pullpath.lab.report", "lab_document"),
        ("pullpath.lab.report", "document"),
    ),
}
_DOCUMENT_METHODS = ("document", "to_document", "to_doc", "as_document", "to_dict")


class ReportTypeError(TypeError):
    """The object is not a report this version knows how to render."""


def _function(module: str, name: str) -> Callable[[Any], Any] | None:
    try:
        mod = import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module.startswith(exc.name):
            return None
        raise
    fn = getattr(mod, name, None)
    return fn if callable(fn) else None


def document_of(report: Any, kind: str) -> Mapping[str, Any]:
    """The JSON document of ``report`` (returned as is when it already is one)."""
    if isinstance(report, Mapping):
        return report
    for module, name in _DOCUMENT_FUNCTIONS.get(kind, ()):
        fn = _function(module, name)
        if fn is None:
            continue
        try:
            doc = fn(report)
        except (TypeError, AttributeError):
            continue
        if isinstance(doc, Mapping):
            return doc
    for method in _DOCUMENT_METHODS:
        fn = getattr(report, method, None)
        if callable(fn):
            doc = fn()
            if isinstance(doc, Mapping):
                return doc
    raise ReportTypeError(f"cannot render a {type(report).__name__} as a {kind} report")


def network_of(report: Any, doc: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ``network`` section for a report, when one can be had (see the module docstring)."""
    if isinstance(doc.get("network"), Mapping):
        return None  # the diagram reads it from the document
    inventory = None if isinstance(report, Mapping) else getattr(report, "inventory", None)
    if isinstance(inventory, Inventory):
        return network_view(inventory)
    files: list[str] = []
    if isinstance(inventory, InventoryInfo):
        files = list(inventory.files)
    else:
        inv_doc = doc.get("inventory")
        if isinstance(inv_doc, Mapping) and isinstance(inv_doc.get("files"), list):
            files = [str(f) for f in inv_doc["files"]]
    return load_network(files) if files else None


def document_and_network(report: Any, kind: str, network: Mapping[str, Any] | None = None
                         ) -> tuple[Mapping[str, Any], Mapping[str, Any] | None]:
    doc = document_of(report, kind)
    return doc, network if network is not None else network_of(report, doc)
