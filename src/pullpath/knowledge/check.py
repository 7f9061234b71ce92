"""Validate knowledge-base files: ``python -m pullpath.knowledge.check [BEHAVIOURS] [FINDINGS]``.

Each file is checked against its JSON Schema (``schema/behaviours.schema.json``,
``schema/findings.schema.json``; needs the ``jsonschema`` package) and then loaded with the
checks pullpath itself applies (:mod:`pullpath.knowledge.loader`: known facts and values, dates
not in the future, source kinds, the observation rule). Without arguments the shipped files are
checked. Exit 0 when valid; 1 with one line per problem; 2 on bad usage or a missing
``jsonschema``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from pullpath.knowledge.loader import KnowledgeError, load_knowledge

__all__ = ["main", "schema", "schema_problems"]


def schema(name: str) -> dict[str, Any]:
    """The JSON Schema of ``behaviours`` or ``findings`` shipped with pullpath."""
    text = resources.files("pullpath.knowledge").joinpath(
        f"schema/{name}.schema.json").read_text("utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


def _plain(value: Any) -> Any:
    """YAML-loaded data as JSON data: dates (YAML timestamps) become ISO text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def schema_problems(doc: object, name: str) -> Iterator[str]:
    """Every way ``doc`` (a loaded YAML document) breaks the schema, one line each."""
    import jsonschema  # imported here: only this check needs it

    validator = jsonschema.Draft202012Validator(schema(name))
    errors = sorted(validator.iter_errors(_plain(doc)), key=lambda e: list(e.absolute_path))
    for err in errors:
        where = ".".join(str(p) for p in err.absolute_path) or "(document)"
        yield f"{where}: {err.message}"


def _check_file(path: Path | None, name: str) -> list[str]:
    label = str(path) if path is not None else f"{name}.yaml (shipped)"
    try:
        text = (path.read_text(encoding="utf-8") if path is not None else
                resources.files("pullpath.knowledge").joinpath(f"{name}.yaml").read_text("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return [f"{label}: cannot read: {exc}"]
    try:
        doc = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError) as exc:
        return [f"{label}: not valid YAML: {str(exc).splitlines()[0]}"]
    return [f"{label}: {problem}" for problem in schema_problems(doc, name)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pullpath.knowledge.check",
        description="Validate knowledge-base files against their JSON Schemas and pullpath's "
                    "own checks.")
    parser.add_argument("behaviours", nargs="?", type=Path,
                        help="behaviours file (default: the shipped behaviours.yaml)")
    parser.add_argument("findings", nargs="?", type=Path,
                        help="findings file (default: the shipped findings.yaml)")
    args = parser.parse_args(argv)
    try:
        import jsonschema  # noqa: F401
    except ImportError:
        print("error: the schema check needs the jsonschema package (hint: pip install "
              "jsonschema)", file=sys.stderr)
        return 2
    problems = _check_file(args.behaviours, "behaviours") + _check_file(args.findings,
                                                                        "findings")
    if not problems:
        try:
            kb = load_knowledge(args.behaviours, args.findings)
        except KnowledgeError as exc:
            problems.append(str(exc))
        else:
            print(f"valid: {len(kb.behaviours)} behaviours, {len(kb.pull_roles)} pull roles, "
                  f"{len(kb.findings)} findings")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
