"""The diagram as an inline SVG element, through the Jinja2 template ``diagram.svg.j2``.

The environment is the page's (:mod:`pullpath.formatters.html`): autoescaping on, control
characters shown as escapes, the ``px`` and ``pathclass`` filters. The SVG carries no style
attributes (the page's CSP allows only its own stylesheet): classes name what the stylesheet
colours.
"""

from __future__ import annotations

from jinja2 import Environment
from markupsafe import Markup

from pullpath.formatters.diagram.layout import Diagram
from pullpath.formatters.report_view import PATHS


def diagram_svg(diagram: Diagram, env: Environment, *, title: str = "Path diagram") -> Markup:
    """The diagram as an inline SVG element (escaped, no style attributes)."""
    n = len(diagram.edges)
    desc = (f"{n} edge(s): "
            + ", ".join(f"{count} {path}" for path, count in
                        sorted(diagram.edges_by_path().items(),
                               key=lambda kv: PATHS.index(kv[0]) if kv[0] in PATHS else 99)))
    svg = env.get_template("diagram.svg.j2").render(d=diagram, paths=PATHS, title=title,
                                                    desc=desc)
    return Markup(svg)  # noqa: S704 - rendered by the autoescaping environment
