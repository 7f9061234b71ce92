"""Which function writes each report in each format: one table per report kind, from
``OutputFormat`` to the function, each taking that kind's report (``AuditReport``,
``ExplainReport``, ``LabReport``) and giving its text (``bytes``: already UTF-8; an iterator
of ``bytes``: UTF-8 in parts, made as they are written, each ending between two characters).

The terminal table of audit and explain is drawn on the CLI's console (``formatters.table``,
``formatters.explain_table``), so it is not in these tables; the lab's is plain text.

Markdown and HTML are imported when asked for: they share the report view and the diagram,
and HTML brings Jinja2. With the audit and this module loaded, importing Markdown costs about
35 ms and HTML about 45 ms, which a JSON or CSV output never needs; the other writers come
with this module, about 13 ms in all (SARIF 6 ms, the lab's table 5 ms: rich's tables), once,
when a report is written (CPU time, medians of 5 processes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TypeVar

from pullpath.domain.report import AuditReport, ExplainReport, LabReport
from pullpath.formatters.explain_doc import explain_json
from pullpath.formatters.formats import OutputFormat
from pullpath.formatters.lab_doc import lab_json
from pullpath.formatters.lab_table import lab_table
from pullpath.formatters.sarif import audit_sarif, explain_sarif
from pullpath.formatters.simple import audit_csv, audit_json_parts

R = TypeVar("R")

Rendered = str | bytes | Iterator[bytes]
"""A report's text, whole or in parts."""

Renderers = Mapping[OutputFormat, Callable[[R], Rendered]]
"""One report kind's formats: the function writing each."""


def _audit_markdown(report: AuditReport) -> str:
    from pullpath.formatters.markdown import audit_markdown

    return audit_markdown(report)


def _audit_html(report: AuditReport) -> str:
    from pullpath.formatters.html import audit_html

    return audit_html(report)


def _explain_markdown(report: ExplainReport) -> str:
    from pullpath.formatters.markdown import explain_markdown

    return explain_markdown(report)


def _explain_html(report: ExplainReport) -> str:
    from pullpath.formatters.html import explain_html

    return explain_html(report)


def _lab_markdown(report: LabReport) -> str:
    from pullpath.formatters.markdown import lab_markdown

    return lab_markdown(report)


def _lab_html(report: LabReport) -> str:
    from pullpath.formatters.html import lab_html

    return lab_html(report)


AUDIT_RENDERERS: Renderers[AuditReport] = {
    OutputFormat.JSON: audit_json_parts,
    OutputFormat.CSV: audit_csv,
    OutputFormat.MARKDOWN: _audit_markdown,
    OutputFormat.HTML: _audit_html,
    OutputFormat.SARIF: audit_sarif,
}

EXPLAIN_RENDERERS: Renderers[ExplainReport] = {
    OutputFormat.JSON: explain_json,
    OutputFormat.MARKDOWN: _explain_markdown,
    OutputFormat.HTML: _explain_html,
    OutputFormat.SARIF: explain_sarif,
}

LAB_RENDERERS: Renderers[LabReport] = {
    OutputFormat.TABLE: lab_table,
    OutputFormat.JSON: lab_json,
    OutputFormat.MARKDOWN: _lab_markdown,
    OutputFormat.HTML: _lab_html,
}
