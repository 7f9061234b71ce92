"""docs/knowledge.md and docs/findings/PPxxx.md are generated from the knowledge YAML by
scripts/gen_knowledge_doc.py: the committed pages must be exactly what it generates now."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from pullpath.knowledge.loader import load_knowledge
from tests.support import ROOT


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_knowledge_doc",
                                                  ROOT / "scripts" / "gen_knowledge_doc.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_pages_are_the_generated_ones() -> None:
    gen = _generator()
    assert gen.stale(ROOT) == [], "run: PYTHONPATH=src python scripts/gen_knowledge_doc.py"


def test_knowledge_page_lists_every_entry_and_source() -> None:
    kb = load_knowledge()
    page = (ROOT / "docs" / "knowledge.md").read_text(encoding="utf-8")
    for b in kb.behaviours:
        assert f"### {b.id}: {b.title}" in page
        for s in b.sources:
            assert s.url in page, (b.id, s.url)
            assert s.says in page, (b.id, s.url)
    for f in kb.findings:
        assert f"[{f.id}](findings/{f.id}.md)" in page
    for r in kb.pull_roles:
        assert r.id in page


def test_a_changed_entry_makes_the_page_stale(tmp_path: Path) -> None:
    gen = _generator()
    for path, text in gen.render().items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    assert gen.stale(tmp_path) == []
    page = tmp_path / "docs" / "knowledge.md"
    page.write_text(page.read_text(encoding="utf-8").replace("KB-ACI-002", "KB-ACI-992"),
                    encoding="utf-8")
    (tmp_path / "docs" / "findings" / "PP999.md").write_text("orphan", encoding="utf-8")
    assert gen.stale(tmp_path) == ["docs/knowledge.md", "docs/findings/PP999.md"]
