"""The README and docs/ hold together: every relative link and anchor resolves (anchors by
GitHub's heading slugs), and every test a page names as the proof of a promise exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pullpath.formatters.sarif import AUDIT_HELP_URI
from pullpath.formatters.sections import finding_help_uri

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])

_FENCE = re.compile(r"^(```|~~~)")
_CODE_SPAN = re.compile(r"(`+).*?\1")
_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_TEST_REF = re.compile(r"(tests/[\w/]+\.py)?::(test_\w+)")


def prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) outside fenced code blocks."""
    out: list[tuple[int, str]] = []
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if _FENCE.match(line.lstrip()):
            fenced = not fenced
            continue
        if not fenced:
            out.append((number, line))
    return out


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: the rendered text, lower-case, punctuation but hyphens
    and underscores dropped, each space a hyphen."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link shows its text
    text = text.replace("`", "").replace("*", "")
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    out: set[str] = set()
    for _, line in prose_lines(page.read_text(encoding="utf-8")):
        m = _HEADING.match(line)
        if not m:
            continue
        base = slug(m.group(2))
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def broken_links(page: Path) -> list[str]:
    """Each relative link of ``page`` whose file or anchor does not exist, as "line: target"."""
    problems = []
    for number, line in prose_lines(page.read_text(encoding="utf-8")):
        for m in _LINK.finditer(_CODE_SPAN.sub("", line)):
            target = m.group(1)
            if _SCHEME.match(target):
                continue
            path_part, _, anchor = target.partition("#")
            dest = (page.parent / path_part).resolve() if path_part else page
            if not dest.exists():
                problems.append(f"{number}: {target} (no such file)")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                problems.append(f"{number}: {target} (no such heading)")
    return problems


def missing_tests(page: Path) -> list[str]:
    """Each ``tests/x.py::test_y`` (or ``::test_y`` after one) the page names that does not
    exist."""
    problems = []
    current: str | None = None  # "::test_x" continues the file named last in the paragraph
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            current = None
        for m in _TEST_REF.finditer(line):
            current = m.group(1) or current
            if current is None:
                problems.append(f"{number}: ::{m.group(2)} (which file?)")
                continue
            source = ROOT / current
            if not source.exists() or not re.search(
                    rf"^def {m.group(2)}\(", source.read_text(encoding="utf-8"), re.M):
                problems.append(f"{number}: {current}::{m.group(2)}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_and_anchor_resolves(page: Path) -> None:
    assert broken_links(page) == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_named_test_exists(page: Path) -> None:
    assert missing_tests(page) == []


def test_the_checks_find_what_is_broken(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# The audit JSON contract (`pullpath.audit/v1`)\n## Twice\n"
                                       "## Twice\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Top\n"
        "[ok](other.md#the-audit-json-contract-pullpathauditv1) [ok](other.md#twice-1)"
        " [ok](#top) [web](https://example.com/x#y)\n"
        "[gone](missing.md) [bad anchor](other.md#twice-2) `[in code](nowhere.md)`\n"
        "```\n[in a block](nowhere.md)\n```\n"
        "`tests/test_docs_links.py::test_the_checks_find_what_is_broken`,\n`::test_not_there`\n")
    assert broken_links(page) == ["3: missing.md (no such file)",
                                  "3: other.md#twice-2 (no such heading)"]
    assert missing_tests(page) == ["8: tests/test_docs_links.py::test_not_there"]


def test_the_readme_starts_with_the_two_setup_commands() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert lines[2] == "```sh"
    assert lines[3].startswith("python3 -m pip install . && python3 -m pullpath demo")
    assert lines[4].startswith("bash scripts/test")
    assert lines[5] == "```"


def test_sarif_help_links_point_at_pages_of_this_repository() -> None:
    """The audit rules' helpUri is the page describing PPA001-PPA006; the findings' pages exist."""
    base = "https://github.com/pullpath/pullpath/blob/main/"
    assert AUDIT_HELP_URI.startswith(base)
    path, _, anchor = AUDIT_HELP_URI[len(base):].partition("#")
    page = ROOT / path
    assert anchor in anchors(page)
    section = page.read_text(encoding="utf-8").split("\n## SARIF\n", 1)[1].split("\n## ", 1)[0]
    assert "PPA001" in section
    assert "PPA006" in section
    assert (ROOT / finding_help_uri("PP001")[len(base):]).exists()
