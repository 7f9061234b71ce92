"""The tests mirror the package (tests/<layer>/) and share builders only through tests/support/:
no test module imports another test module, or conftest."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def imported_modules(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(a.name for a in node.names)
    return names


def python_files() -> list[Path]:
    return [p for p in TESTS.rglob("*.py")
            if not ({"node", "data", ".azcli", "artifacts"} & set(p.relative_to(TESTS).parts))]


def test_no_test_imports_another_test_module_or_conftest() -> None:
    found = [
        f"{p.relative_to(TESTS)}: {name}"
        for p in python_files()
        for name in imported_modules(p)
        if name.startswith("tests.")
        and (name.rsplit(".", 1)[-1].startswith("test_") or name.endswith(".conftest"))
    ]
    assert found == []


def test_test_modules_live_in_a_layer_folder() -> None:
    """tests/<layer>/, or a folder below it that mirrors a package (tests/core/iac/)."""
    package = TESTS.parent / "src" / "pullpath"
    layers = {p.name for p in package.iterdir() if p.is_dir()}

    def mirrors(folder: Path) -> bool:
        rel = folder.relative_to(TESTS)
        return rel.parts[0] in layers and (len(rel.parts) == 1 or (package / rel).is_dir())

    misplaced = [
        str(p.relative_to(TESTS)) for p in python_files()
        if p.name.startswith("test_") and p.parent != TESTS and not mirrors(p.parent)
    ]
    assert misplaced == []
