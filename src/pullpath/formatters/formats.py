"""The output formats a report can be written in (``--format``).

Light to import: the CLI's options name them at start-up. Which function writes which format
of which report is in :mod:`pullpath.formatters.registry`.
"""

from __future__ import annotations

from enum import StrEnum


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    MARKDOWN = "markdown"
    SARIF = "sarif"
    HTML = "html"
