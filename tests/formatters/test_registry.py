"""The format tables (``formatters.registry``): every format a command offers has its writer,
each writer gives what its format module writes, and the layers hold (formatters read reports
from the domain only; no workflow or lab module builds a result with a formatter)."""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

import pullpath
from pullpath.cli.audit import AUDIT_FORMATS
from pullpath.cli.demo import demo_dir, run_demo_audit
from pullpath.cli.explain import EXPLAIN_FORMATS
from pullpath.cli.lab import REPORT_FORMATS
from pullpath.domain.report import (
    AGREES,
    NOT_HELD,
    Claim,
    ConsumerResult,
    Evidence,
    KnowledgeRef,
    LabReport,
    Prediction,
)
from pullpath.domain.verdicts import Path as NetPath
from pullpath.formatters import html, markdown, sarif, simple
from pullpath.formatters.explain_doc import explain_json
from pullpath.formatters.formats import OutputFormat
from pullpath.formatters.lab_doc import lab_json
from pullpath.formatters.lab_record import lab_record
from pullpath.formatters.lab_table import lab_table
from pullpath.formatters.registry import (
    AUDIT_RENDERERS,
    EXPLAIN_RENDERERS,
    LAB_RENDERERS,
    Rendered,
)
from pullpath.lab.report import measured_sources
from pullpath.lab.scenarios import load_scenario
from pullpath.workflows.explain import run_explain

SRC = Path(pullpath.__file__).resolve().parent
WHEN = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def lab_report() -> LabReport:
    """A lab report made of domain values only (no Azure): one consumer whose pull agreed with
    the prediction, not with the documentation, after a stop/start trigger."""
    evidence = Evidence("4.189.68.203", "azure-platform", "AzureCloud.japaneast", "japaneast",
                        "", False, "Pull", "200", NetPath.TRUSTED_SERVICE, 1, "principal",
                        "lab/aci-helloworld", WHEN, WHEN)
    consumer = ConsumerResult(
        key="aci", kind="aci", name="ci-aci", resource_id="/subscriptions/s/ci-aci",
        prediction=Prediction("aci", NetPath.TRUSTED_SERVICE, "explain", "KB-ACI-002",
                              ("a reason",)),
        expected=NetPath.TRUSTED_SERVICE, observed="trusted-service",
        observed_paths=(NetPath.TRUSTED_SERVICE,), deployment_errors=(),
        evidence=(evidence,), agreement=AGREES,
        knowledge=KnowledgeRef("KB-ACI-002", "statement", "https://learn.microsoft.com/x",
                               "2025-01-01"),
        knowledge_id="KB-ACI-002", knowledge_update="re-verified",
        documented=Claim(NetPath.PRIVATE_ENDPOINT, "https://learn.microsoft.com/y", "2026-07-25",
                         "pulls go through the private endpoint"),
        documentation=NOT_HELD,
    )
    return LabReport(
        scenario=load_scenario("field-report"), run_id="t3stl4b1", subscription="s",
        resource_group="rg-pullpath-lab-t3stl4b1", location="japaneast", started=WHEN,
        finished=WHEN, consumers=(consumer,), unattributed=(evidence,),
        collect={"polls": 1, "elapsed_s": 1.0, "complete": True, "missing": [], "events": 1,
                 "message": ""},
        audit=None, today=date(2025, 1, 2), trigger="stop-start", triggered=WHEN,
    )


def text_of(value: Rendered) -> str:
    """A writer's text, whole: ``bytes`` and parts (an iterator of ``bytes``) are UTF-8."""
    if isinstance(value, str):
        return value
    return (value if isinstance(value, bytes) else b"".join(value)).decode("utf-8")


@pytest.mark.parametrize(("renderers", "offered"), [
    (AUDIT_RENDERERS, AUDIT_FORMATS), (EXPLAIN_RENDERERS, EXPLAIN_FORMATS),
    (LAB_RENDERERS, REPORT_FORMATS),
], ids=["audit", "explain", "lab"])
def test_every_format_a_command_offers_has_its_writer(
        renderers: Mapping[OutputFormat, object], offered: tuple[str, ...]) -> None:
    """The terminal table of audit and explain is drawn by the CLI on its console; every other
    format a command offers is in its table, and the table offers nothing more."""
    drawn_by_cli = set() if renderers is LAB_RENDERERS else {OutputFormat.TABLE}
    assert set(renderers) | drawn_by_cli == {OutputFormat(f) for f in offered}


def test_the_audit_table_writes_what_the_format_modules_write() -> None:
    report = run_demo_audit()
    expected: dict[OutputFormat, Callable[[Any], str]] = {
        OutputFormat.JSON: simple.audit_json, OutputFormat.CSV: simple.audit_csv,
        OutputFormat.MARKDOWN: markdown.audit_markdown, OutputFormat.HTML: html.audit_html,
        OutputFormat.SARIF: sarif.audit_sarif,
    }
    assert set(expected) == set(AUDIT_RENDERERS)
    for fmt, write in AUDIT_RENDERERS.items():
        assert text_of(write(report)) == expected[fmt](report), fmt


def test_the_explain_table_writes_what_the_format_modules_write() -> None:
    report = run_explain([demo_dir() / "inventory"])
    expected: dict[OutputFormat, Callable[[Any], str]] = {
        OutputFormat.JSON: explain_json, OutputFormat.MARKDOWN: markdown.explain_markdown,
        OutputFormat.HTML: html.explain_html, OutputFormat.SARIF: sarif.explain_sarif,
    }
    assert set(expected) == set(EXPLAIN_RENDERERS)
    for fmt, write in EXPLAIN_RENDERERS.items():
        assert text_of(write(report)) == expected[fmt](report), fmt


def test_the_lab_table_writes_what_the_format_modules_write() -> None:
    report = lab_report()
    expected: dict[OutputFormat, Callable[[Any], str]] = {
        OutputFormat.TABLE: lab_table, OutputFormat.JSON: lab_json,
        OutputFormat.MARKDOWN: markdown.lab_markdown, OutputFormat.HTML: html.lab_html,
    }
    assert set(expected) == set(LAB_RENDERERS)
    for fmt, write in LAB_RENDERERS.items():
        assert text_of(write(report)) == expected[fmt](report), fmt
    table = lab_table(report)
    assert "ci-aci" in table
    assert "did-not-hold" in table
    assert "trigger: stop-start" in table
    assert '"schema": "pullpath.lab/v1"' in lab_json(report)
    assert '"documentation": "did-not-hold"' in lab_json(report)


def imported_layers(path: Path) -> set[str]:
    """The pullpath packages (``domain``, ``core``...) a module imports, anywhere in it."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        else:
            continue
        found.update(n.split(".")[1] for n in names if n.startswith("pullpath."))
    return found


@pytest.mark.parametrize(("package", "allowed"), [
    ("domain", {"domain"}),
    ("formatters", {"domain", "formatters"}),
])
def test_reports_are_domain_values_that_formatters_only_read(package: str,
                                                             allowed: set[str]) -> None:
    for path in sorted((SRC / package).glob("*.py")):
        assert imported_layers(path) <= allowed, path.name


@pytest.mark.parametrize("package", ["workflows", "lab", "core", "adapters"])
def test_no_result_is_built_with_a_formatter(package: str) -> None:
    for path in sorted((SRC / package).rglob("*.py")):
        assert "formatters" not in imported_layers(path), path.relative_to(SRC)


def test_the_lab_record_writes_text_a_file_can_hold() -> None:
    """``lab run --record``: the lab decides what was measured, the formatter writes it; a lone
    surrogate in a logged value (a JSON ``\\ud800`` escape) is written as U+FFFD."""
    report = lab_report()
    evidence = replace(report.consumers[0].evidence[0], caller_ip="4.189.68.203\ud800")
    hostile = replace(report, consumers=(replace(report.consumers[0], evidence=(evidence,)),))
    entries = measured_sources(hostile)
    assert [e["source"]["expect"] for e in entries] == ["trusted-service"]
    text = lab_record(hostile, entries)
    assert "4.189.68.203\ufffd" in text
    text.encode("utf-8")
    assert text.startswith("# pullpath lab run t3stl4b1 (field-report, japaneast), 2025-01-02")
