"""Which renderer serves which ``--format`` of each report kind (all but the terminal table).

The modules are imported only when a format is asked for, so the CLI starts fast.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

Renderer = Callable[[Any], str]

_RENDERERS: dict[tuple[str, str], str] = {
    ("audit", "json"): "pullpath.formatters.simple:audit_json",
    ("audit", "csv"): "pullpath.formatters.simple:audit_csv",
    ("explain", "json"): "pullpath.formatters.explain_doc:explain_json",
    ("audit", "markdown"): "pullpath.formatters.markdown:audit_markdown",
    ("audit", "html"): "pullpath.formatters.html:audit_html",
    ("audit", "sarif"): "pullpath.formatters.sarif:audit_sarif",
    ("explain", "markdown"): "pullpath.formatters.markdown:explain_markdown",
    ("explain", "html"): "pullpath.formatters.html:explain_html",
    ("explain", "sarif"): "pullpath.formatters.sarif:explain_sarif",
    ("lab", "markdown"): "pullpath.formatters.markdown:lab_markdown",
    ("lab", "html"): "pullpath.formatters.html:lab_html",
}


BytesRenderer = Callable[[Any], bytes]

_BYTES_RENDERERS: dict[tuple[str, str], str] = {
    ("audit", "json"): "pullpath.formatters.simple:audit_json_bytes",
}
"""Renderers giving the text already encoded as UTF-8 (no copy of a large report decoded and
encoded again on its way to a file): the same text as the ``_RENDERERS`` one."""


def _load(table: dict[tuple[str, str], str], kind: str, fmt: str) -> Any:
    """The function ``table`` names for ``(kind, fmt)`` ("module:attribute", imported now), or
    None."""
    target = table.get((kind, fmt))
    if target is None:
        return None
    module_name, _, attr = target.partition(":")
    return getattr(import_module(module_name), attr)


def renderer(kind: str, fmt: str) -> Renderer | None:
    """The function turning a ``kind`` report (audit, explain, lab) into ``fmt`` text."""
    fn: Renderer | None = _load(_RENDERERS, kind, fmt)
    return fn


def bytes_renderer(kind: str, fmt: str) -> BytesRenderer | None:
    """``renderer(kind, fmt)`` giving UTF-8 bytes, when that format has one."""
    fn: BytesRenderer | None = _load(_BYTES_RENDERERS, kind, fmt)
    return fn


def audit_renderer(fmt: str) -> Renderer | None:
    return renderer("audit", fmt)


def explain_renderer(fmt: str) -> Renderer | None:
    return renderer("explain", fmt)


def lab_renderer(fmt: str) -> Renderer | None:
    return renderer("lab", fmt)
