"""``lab run --record FILE``: the run's measured knowledge-base sources
(``lab.report.measured_sources``) as the YAML a user adds to ``behaviours.yaml``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC
from typing import Any

from pullpath.domain.report import LabReport
from pullpath.formatters.common import safe_text


def _safe(entry: Mapping[str, Any]) -> dict[str, Any]:
    source = dict(entry["source"])
    source["says"] = safe_text(source["says"])
    return {**entry, "source": source}


def lab_record(report: LabReport, entries: Sequence[Mapping[str, Any]]) -> str:
    import yaml

    header = (f"# pullpath lab run {report.run_id} ({report.scenario.ident}, {report.location}),"
              f" {report.started.astimezone(UTC):%Y-%m-%d}: measured sources for the knowledge "
              "base.\n# Add each `source` to the `sources` of its `behaviour` in "
              "src/pullpath/knowledge/behaviours.yaml.\n")
    return header + (yaml.safe_dump([_safe(e) for e in entries], sort_keys=False,
                                    allow_unicode=True, width=100)
                     if entries else "[]\n")
