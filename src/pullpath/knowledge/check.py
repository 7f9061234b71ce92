"""Validate knowledge-base files: ``python -m pullpath.knowledge.check [BEHAVIOURS] [FINDINGS]``.

Each file is checked against its JSON Schema (``schema/behaviours.schema.json``,
``schema/findings.schema.json``, sharing ``schema/common.schema.json``) and then loaded with
the checks a schema cannot say (:mod:`pullpath.knowledge.loader`: known facts and values, dates
not in the future, unique IDs, sources naming their run or date, the observation rule). Both
steps are the loader's own: what pullpath applies to a file it is given. Without arguments the
shipped files are checked, the schema included. Exit 0 when valid; 1 with one line per problem;
2 on bad usage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from pullpath.knowledge.loader import KnowledgeError, load_knowledge, read_document, schema_problems

__all__ = ["main"]


def _problems(path: Path | None, name: str) -> list[str]:
    """The file's schema problems (all of them, a line each)."""
    try:
        doc, origin = read_document(path, name, validate=False)
    except KnowledgeError as exc:
        return str(exc).splitlines()
    return schema_problems(doc, name, origin if path is not None else f"{origin} (shipped)")


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
    problems = _problems(args.behaviours, "behaviours") + _problems(args.findings, "findings")
    if not problems:
        try:
            kb = load_knowledge(args.behaviours, args.findings, validate=False)
        except KnowledgeError as exc:
            problems += str(exc).splitlines()
        else:
            print(f"valid: {len(kb.behaviours)} behaviours, {len(kb.pull_roles)} pull roles, "
                  f"{len(kb.findings)} findings")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
