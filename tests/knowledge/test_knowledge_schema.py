"""The knowledge files' JSON Schemas: the shipped files are valid, the schemas know every fact
and path, and the schema and the loader refuse the same malformed sources."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from pullpath.domain.explain import FACT_SPECS
from pullpath.domain.verdicts import Path as NetPath
from pullpath.knowledge.check import main, schema, schema_problems
from pullpath.knowledge.loader import KnowledgeError, parse_behaviours
from tests.support import ROOT

KNOWLEDGE = ROOT / "src" / "pullpath" / "knowledge"


def _doc(name: str) -> dict[str, Any]:
    doc = yaml.safe_load((KNOWLEDGE / f"{name}.yaml").read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


@pytest.mark.parametrize("name", ["behaviours", "findings"])
def test_shipped_files_match_their_schema(name: str) -> None:
    assert list(schema_problems(_doc(name), name)) == []


@pytest.mark.parametrize("name", ["behaviours", "findings"])
def test_schema_knows_every_fact_and_path(name: str) -> None:
    defs = schema(name)["$defs"]
    assert set(defs["when"]["propertyNames"]["enum"]) == set(FACT_SPECS)
    assert set(defs["path"]["enum"]) == {p.value for p in NetPath}


def _with_source(source: dict[str, str]) -> dict[str, Any]:
    doc = copy.deepcopy(_doc("behaviours"))
    doc["behaviours"][0]["sources"].append(source)
    return doc


BAD_SOURCES = [
    {"url": "pullpath-lab:r1", "kind": "measured", "verified": "2026-12-01", "says": "x"},
    {"url": "lab:aci-vnet-trusted", "kind": "measured", "verified": "2024-11-25", "says": "x"},
    {"url": "https://learn.microsoft.com/azure/x", "kind": "documented", "run_id": "r1",
     "verified": "2025-01-01", "says": "x"},
    {"url": "https://example.com/post", "kind": "documented", "verified": "2025-01-01",
     "says": "x"},
    {"url": "lab:aci-vnet-trusted", "kind": "field-report", "verified": "2024-11-25", "says": "x"},
    {"url": "https://learn.microsoft.com/azure/x", "kind": "issue", "verified": "2025-01-01",
     "says": "x"},
    {"url": "https://learn.microsoft.com/azure/x", "kind": "hearsay", "verified": "2025-01-01",
     "says": "x"},
    {"url": "https://learn.microsoft.com/azure/x", "kind": "documented", "verified": "recently",
     "says": "x"},
    {"url": "https://learn.microsoft.com/azure/x", "kind": "documented", "verified": "2025-01-01",
     "says": "x", "confidence": "high"},
]


@pytest.mark.parametrize("source", BAD_SOURCES, ids=lambda s: f"{s['kind']}:{s['url'][:20]}")
def test_schema_and_loader_refuse_the_same_bad_source(source: dict[str, str]) -> None:
    doc = _with_source(source)
    assert list(schema_problems(doc, "behaviours")), "the schema accepts it"
    with pytest.raises(KnowledgeError):
        parse_behaviours(yaml.safe_dump(doc), "kb.yaml")


def test_a_recorded_lab_run_is_valid_for_both() -> None:
    doc = _with_source({"url": "pullpath-lab:run-1", "kind": "measured", "run_id": "run-1",
                        "verified": "2026-12-01", "says": "observed denied"})
    assert list(schema_problems(doc, "behaviours")) == []
    parse_behaviours(yaml.safe_dump(doc), "kb.yaml")


def test_check_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert "valid:" in capsys.readouterr().out
    bad = tmp_path / "behaviours.yaml"
    doc = _doc("behaviours")
    doc["behaviours"][0]["expect"] = "sideways"
    doc["behaviours"][1]["sources"][0].pop("says")
    bad.write_text(yaml.safe_dump(doc), encoding="utf-8")
    assert main([str(bad)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert any("behaviours.0.expect" in line for line in err)
    assert any("behaviours.1.sources.0" in line and "says" in line for line in err)
    assert main([str(tmp_path / "absent.yaml")]) == 1
    assert "cannot read" in capsys.readouterr().err
