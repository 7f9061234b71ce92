"""``--format html``: one self-contained page per report, with the path diagram on top.

The page is built from the report's JSON document (through :mod:`report_view` and
:mod:`diagram`) with Jinja2 and autoescaping on: every value from logs or inventory reaches
the page as escaped text, never as markup. It loads nothing at view time (inline CSS, JS and
SVG) and carries a Content-Security-Policy that allows only its own inline stylesheet and
script, pinned by their SHA-256 hashes: even an injected ``<script>`` could not run.

Entry points (in the tables of :mod:`pullpath.formatters.registry`): :func:`audit_html`,
:func:`explain_html`, :func:`lab_html`, and :func:`report_html` for any saved document.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from pullpath.domain.report import AuditReport, ExplainReport, LabReport
from pullpath.formatters.audit_doc import audit_document
from pullpath.formatters.common import safe_text, visible
from pullpath.formatters.diagram import Diagram, build_diagram
from pullpath.formatters.diagram.svg import diagram_svg
from pullpath.formatters.explain_doc import explain_document
from pullpath.formatters.lab_doc import lab_document
from pullpath.formatters.report_view import (
    PATH_DESCRIPTIONS,
    PATHS,
    ReportView,
    build_view,
    network_of,
)

SEVERITIES = frozenset({"critical", "high", "error", "medium", "warning", "low", "info", "note"})


def _px(value: float) -> str:
    text = f"{float(value):.1f}"
    return text[:-2] if text.endswith(".0") else text


def _pathclass(path: str) -> str:
    return path if path in PATHS else "unknown"


def _sevclass(severity: str) -> str:
    sev = severity.lower()
    return sev if sev in SEVERITIES else "info"


def _when(value: str) -> str:
    """``2024-11-25T12:05:40.331000Z`` → ``2024-11-25 12:05:40`` (UTC), else as given."""
    if not value:
        return "-"
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return parsed.strftime("%Y-%m-%d %H:%M:%S")


def _shorturl(url: str) -> str:
    text = url.split("://", 1)[-1]
    return text if len(text) <= 70 else text[:69] + "…"


def _pathrank(path: str) -> str:
    return f"{PATHS.index(path) if path in PATHS else len(PATHS):02d}"


def _paths_present(rows: Sequence[Any]) -> list[str]:
    present = {str(getattr(r, "path", "")) for r in rows}
    return [p for p in PATHS if p in present] + sorted(present - set(PATHS))


def _no_controls(value: object) -> object:
    """Every ``{{ value }}`` of the templates, before escaping: control, bidi and invisible
    characters (terminal escape sequences, BEL: invalid in HTML and live in a terminal that
    shows the file; U+202E reorders what a browser shows) are shown as their escapes
    (``visible``) and lone surrogates become U+FFFD. Markup (rendered by this environment) is
    left alone."""
    if isinstance(value, str) and not isinstance(value, Markup) and not value.isprintable():
        return visible(safe_text(value))
    return value


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("pullpath.formatters", "templates"),
        autoescape=True,
        finalize=_no_controls,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(px=_px, pathclass=_pathclass, sevclass=_sevclass, when=_when,
                       shorturl=_shorturl)
    env.globals.update(pathrank=_pathrank, paths_present=_paths_present)
    return env


@lru_cache(maxsize=4)
def _asset(name: str) -> str:
    env = _env()
    assert env.loader is not None
    source, _, _ = env.loader.get_source(env, name)
    return source


def _sha256(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def content_security_policy(css: str, js: str) -> str:
    """Nothing from the network; only this page's own stylesheet and script (by hash)."""
    return (
        "default-src 'none'; "
        f"style-src {_sha256(css)}; "
        f"script-src {_sha256(js)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )


def render_view(view: ReportView, diagram: Diagram) -> str:
    css = _asset("report.css")
    js = _asset("report.js")
    return _env().get_template("report.html.j2").render(
        view=view,
        diagram=diagram,
        svg=diagram_svg(diagram, _env(), title=view.title),
        paths=PATHS,
        descriptions=PATH_DESCRIPTIONS,
        css=Markup(css),  # noqa: S704 - our own packaged stylesheet
        js=Markup(js),  # noqa: S704 - our own packaged script
        csp=content_security_policy(css, js),
    )


def report_html(doc: Mapping[str, Any], *, network: Mapping[str, Any] | None = None) -> str:
    """Any pullpath document (audit, explain, lab) as a self-contained HTML page. The diagram
    draws ``network`` when given, else the document's own ``network`` section."""
    net = network if network is not None else network_of(doc)
    view = build_view(doc)
    return render_view(view, build_diagram(doc, net, view=view))


def audit_html(report: AuditReport, *, network: Mapping[str, Any] | None = None) -> str:
    return report_html(audit_document(report), network=network)


def explain_html(report: ExplainReport, *, network: Mapping[str, Any] | None = None) -> str:
    return report_html(explain_document(report), network=network)


def lab_html(report: LabReport, *, network: Mapping[str, Any] | None = None) -> str:
    return report_html(lab_document(report), network=network)
