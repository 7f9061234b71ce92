"""Fuzz targets for pullpath's readers (see fuzz/README.md)."""
