"""Benchmarks for ``pullpath audit`` at scale (issue 7). Not part of the test suite."""
