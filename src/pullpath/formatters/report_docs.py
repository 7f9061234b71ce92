"""From whatever a command produced (an ``AuditReport``, an explain or lab report object, or an
already built JSON document) to the document and ``network`` section the HTML and Markdown
formats draw.

The HTML and Markdown formats always read the JSON contract (``pullpath.audit/v1``,
``pullpath.explain/v1``, ``pullpath.lab/v1``), never a report's internals, so they show the
numbers ``--format json`` shows. The one thing the contracts do not carry is the network around
the registry (firewall state, private endpoints, the consumers' subnets) the diagram draws; it
comes from the ``network`` argument or the document's ``network`` section (built from the
inventory by ``network_view`` when the report was made). Formatters never read files.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def _document_function(kind: str) -> Callable[[Any], Mapping[str, Any]]:
    if kind == "audit":
        from pullpath.formatters.audit_doc import audit_document

        return audit_document
    if kind == "explain":
        from pullpath.formatters.explain_doc import explain_document

        return explain_document
    if kind == "lab":
        from pullpath.lab.report import lab_document

        return lab_document
    raise ReportTypeError(f"unknown report kind {kind!r}")


class ReportTypeError(TypeError):
    """The object is not a report this version knows how to render."""


def document_of(report: Any, kind: str) -> Mapping[str, Any]:
    """The JSON document of ``report`` (returned as is when it already is one)."""
    if isinstance(report, Mapping):
        return report
    return _document_function(kind)(report)


def network_of(doc: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ``network`` section the diagram draws: the document's own, or (lab) its audit's."""
    network = doc.get("network")
    if isinstance(network, Mapping):
        return network
    audit = doc.get("audit")
    if isinstance(audit, Mapping) and isinstance(audit.get("network"), Mapping):
        return audit["network"]  # type: ignore[no-any-return]
    return None


def document_and_network(report: Any, kind: str, network: Mapping[str, Any] | None = None
                         ) -> tuple[Mapping[str, Any], Mapping[str, Any] | None]:
    doc = document_of(report, kind)
    return doc, network if network is not None else network_of(doc)
