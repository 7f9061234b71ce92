"""The path diagram: who pulled from which registry, and which way the pull went in.

Built from a report document (audit flows, explain pairs, lab results) and its optional
``network`` section (see :mod:`pullpath.formatters.sections`), in three steps:

- :mod:`.model`: the typed graph (nodes, routes, subnet groups; the summary past
  ``MAX_DRAWN_REGISTRIES`` registries or ``MAX_DRAWN_CONSUMERS`` consumers), read from the
  report view's rows (:func:`pullpath.formatters.report_view.diagram_input`);
- :mod:`.layout`: where each box, edge and label goes (pure);
- rendering: :func:`.svg.diagram_svg` (HTML) and :func:`.mermaid.diagram_mermaid` (Markdown).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pullpath.formatters.diagram.layout import Box, Diagram, Edge, Label, layout
from pullpath.formatters.diagram.mermaid import diagram_mermaid, mermaid_text
from pullpath.formatters.diagram.model import (
    MAX_DRAWN_CONSUMERS,
    MAX_DRAWN_REGISTRIES,
    MAX_PER_SUBNET,
    Graph,
    build_graph,
)
from pullpath.formatters.report_view import ReportView, diagram_input

__all__ = [
    "MAX_DRAWN_CONSUMERS",
    "MAX_DRAWN_REGISTRIES",
    "MAX_PER_SUBNET",
    "Box",
    "Diagram",
    "Edge",
    "Graph",
    "Label",
    "build_diagram",
    "build_graph",
    "diagram_mermaid",
    "layout",
    "mermaid_text",
]


def build_diagram(doc: Mapping[str, Any], network: Mapping[str, Any] | None = None, *,
                  view: ReportView | None = None) -> Diagram:
    """The laid-out diagram of a report document (deterministic: same input, same picture).
    ``network``: the network section to draw (default: the document's); ``view``: the
    document's view when already built (its rows are then read, not rebuilt)."""
    return layout(build_graph(diagram_input(doc, network, view)))
