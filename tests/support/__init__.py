"""Builders and loopback servers shared by the tests (no test module imports another)."""

from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
"""The tests root: tests/data, tests/node, tests/.azcli live here."""
ROOT = TESTS.parent
"""The repository root."""
