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
    layers = {p.name for p in (TESTS.parent / "src" / "pullpath").iterdir() if p.is_dir()}
    misplaced = [
        str(p.relative_to(TESTS)) for p in python_files()
        if p.name.startswith("test_") and p.parent != TESTS and p.parent.name not in layers
        # or a folder mirroring a package inside a layer (tests/core/iac <-> core/iac)
        and not (TESTS.parent / "src" / "pullpath" / p.parent.relative_to(TESTS)).is_dir()
    ]
    assert misplaced == []


def test_runtime_dependencies_are_exactly_what_src_imports() -> None:
    """pyproject's ``dependencies`` name every distribution ``src/`` imports a module of, and
    nothing else (the guide: runtime dependencies are exactly what src/ imports)."""
    import importlib.metadata as md
    import importlib.util
    import re
    import sys
    import tomllib

    src = TESTS.parent / "src" / "pullpath"
    modules: set[str] = set()
    for path in src.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.add(node.module)
            elif isinstance(node, ast.Import):
                modules.update(a.name for a in node.names)
    third_party = {m for m in modules if m.split(".")[0] not in sys.stdlib_module_names
                   and m.split(".")[0] != "pullpath"}
    owner: dict[Path, str] = {}
    for dist in md.distributions():
        for f in dist.files or ():
            if f.name.endswith(".py"):
                owner[Path(str(dist.locate_file(f))).resolve()] = dist.metadata["Name"]
    imported: set[str] = set()
    for module in third_party:
        parts = module.split(".")
        for n in range(len(parts), 0, -1):  # the deepest importable module (not a class name)
            spec = importlib.util.find_spec(".".join(parts[:n]))
            if spec is not None and spec.origin and spec.origin.endswith(".py"):
                name = owner.get(Path(spec.origin).resolve())
                assert name, f"{module}: no installed distribution holds {spec.origin}"
                imported.add(name)
                break

    def norm(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    pyproject = tomllib.loads((TESTS.parent / "pyproject.toml").read_text(encoding="utf-8"))
    declared = {norm(re.split(r"[<>=!~ \[;]", d, maxsplit=1)[0])
                for d in pyproject["project"]["dependencies"]}
    assert {norm(n) for n in imported} == declared
