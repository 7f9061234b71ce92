"""Which renderer serves which ``--format`` for each report kind.

Modules register here so the CLI never needs to know every format module by name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

AuditRenderer = Callable[[Any], str]

_AUDIT: dict[str, str] = {
    "markdown": "pullpath.formatters.markdown:audit_markdown",
    "html": "pullpath.formatters.html:audit_html",
    "sarif": "pullpath.formatters.sarif:audit_sarif",
}

_EXPLAIN: dict[str, str] = {
    "markdown": "pullpath.formatters.markdown:explain_markdown",
    "html": "pullpath.formatters.html:explain_html",
    "sarif": "pullpath.formatters.sarif:explain_sarif",
}


_LAB: dict[str, str] = {
    "markdown": "pullpath.formatters.markdown:lab_markdown",
    "html": "pullpath.formatters.html:lab_html",
}


def _load(target: str) -> Callable[[Any], str] | None:
    module_name, _, attr = target.partition(":")
    try:
        module = __import__(module_name, fromlist=[attr])
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return None
        raise
    fn = getattr(module, attr, None)
    return fn if callable(fn) else None


def audit_renderer(fmt: str) -> AuditRenderer | None:
    target = _AUDIT.get(fmt)
    return _load(target) if target else None


def explain_renderer(fmt: str) -> AuditRenderer | None:
    """The renderer of an explain report (``ExplainReport`` -> text) for ``fmt``, if built."""
    target = _EXPLAIN.get(fmt)
    return _load(target) if target else None


def lab_renderer(fmt: str) -> AuditRenderer | None:
    """The renderer of a lab report (``LabReport`` or its ``pullpath.lab/v1`` document -> text)
    for ``fmt``, if built."""
    target = _LAB.get(fmt)
    return _load(target) if target else None
