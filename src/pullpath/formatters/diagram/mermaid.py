"""The diagram as Mermaid (``flowchart LR``) for Markdown: its structure and edges, Mermaid does
the layout. Node ids are generated (``n0``, ``n1``...), never taken from the input; every label
goes through :func:`mermaid_text`.
"""

from __future__ import annotations

import re
from collections import defaultdict

from pullpath.formatters.diagram.layout import Box, Diagram, Edge

PATH_COLOURS: dict[str, str] = {
    "private-endpoint": "#1a7f37",
    "trusted-service": "#b35c00",
    "firewall-rule": "#0969da",
    "public": "#cf222e",
    "denied": "#8250df",
    "unknown": "#6e7781",
}

_MERMAID_SAFE = re.compile(r"[A-Za-z0-9 .,:/_@+=()-]")


def mermaid_text(value: str, limit: int = 60) -> str:
    """Text for a quoted Mermaid label: every character outside a small safe set becomes a
    Mermaid entity code (``#60;``), so quotes, brackets, pipes, backticks, ``<``/``>`` and
    newlines in the input can neither end the label nor inject markup."""
    text = " ".join(value.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return "".join(ch if _MERMAID_SAFE.fullmatch(ch) else f"#{ord(ch)};" for ch in text)


def diagram_mermaid(diagram: Diagram) -> str:
    """The diagram as a Mermaid ``flowchart LR`` (structure and edges; Mermaid does the layout).

    Node ids are generated (``n0``, ``g0``...), never taken from the input; every label goes
    through :func:`mermaid_text`.
    """
    ids: dict[str, str] = {}

    def nid(node_id: str) -> str:
        if node_id not in ids:
            ids[node_id] = f"n{len(ids)}"
        return ids[node_id]

    out = ["flowchart LR"]
    children: dict[str, list[Box]] = defaultdict(list)
    for grp in diagram.groups:
        children[grp.parent].append(grp)
    for node in diagram.nodes:
        if node.parent:
            children[node.parent].append(node)

    def label_of(box: Box) -> str:
        if box.kind == "consumer":
            return mermaid_text(f"{box.badge} {box.title}")
        return mermaid_text(box.title)

    def emit(box: Box, indent: str) -> None:
        if box.kind in ("vnet", "subnet", "outside"):
            extra = f" {box.lines[0]}" if box.lines else ""
            out.append(f'{indent}subgraph {nid(box.id)}["{mermaid_text(box.title + extra, 80)}"]')
            for child in children.get(box.id, ()):
                emit(child, indent + "  ")
            out.append(f"{indent}end")
        else:
            out.append(f'{indent}{nid(box.id)}["{label_of(box)}"]')

    for grp in diagram.groups:
        if not grp.parent:
            emit(grp, "  ")
    used_sources = {e.source for e in diagram.edges} | {e.via for e in diagram.edges if e.via}
    for node in diagram.nodes:
        if node.kind == "source" and node.id in used_sources:
            out.append(f'  {nid(node.id)}(["{mermaid_text(node.title)}"])')
    ports_of: dict[str, list[Box]] = defaultdict(list)
    for port in diagram.ports:
        ports_of[port.parent].append(port)
    for node in diagram.nodes:
        if node.kind != "registry":
            continue
        state = "<br/>".join(mermaid_text(line, 70) for line in node.lines)
        out.append(f'  {nid(node.id)}[("{mermaid_text(node.title, 70)}<br/>{state}")]')
    links: list[tuple[str, str, str, Edge]] = []
    seen_via: set[tuple[str, str, str]] = set()
    for edge in sorted(diagram.edges, key=lambda e: e.id):
        text = edge.label.lines[0][0]
        if edge.disagrees:
            text += " " + edge.label.lines[1][0]
        if edge.via:
            links.append((nid(edge.source), nid(edge.via), text, edge))
            key = (edge.via, edge.registry, edge.path)
            if key not in seen_via:
                seen_via.add(key)
                links.append((nid(edge.via), nid(edge.registry), edge.path, edge))
        else:
            links.append((nid(edge.source), nid(edge.registry), text, edge))
    styles: list[str] = []
    for n, (a, b, text, edge) in enumerate(links):
        arrow = "-.->" if edge.disagrees or edge.predicted else "-->"
        out.append(f'  {a} {arrow}|"{mermaid_text(text, 70)}"| {b}')
        colour = PATH_COLOURS.get(edge.path, PATH_COLOURS["unknown"])
        width = max(1.5, min(edge.width, 6.0))
        style = f"stroke:{colour},stroke-width:{width:.1f}px"
        if edge.disagrees:
            style += ",stroke-dasharray:6 4"
        styles.append(f"  linkStyle {n} {style}")
    out.extend(styles)
    return "\n".join(out) + "\n"
