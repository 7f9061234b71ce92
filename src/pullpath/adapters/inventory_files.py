"""Read inventory files (ARM JSON, optionally gzip-compressed) into an :class:`Inventory`.

Files and directories are accepted; directories are scanned recursively for ``*.json`` and
``*.json.gz`` in sorted order, other files are counted in ``Inventory.skipped_files``. A path
that does not exist raises :class:`InventoryError`; a file that cannot be read or decoded is
recorded as an :class:`InventoryIssue` (with the JSON error's line and column) and reading
goes on. Decoding and container unwrapping are done by :mod:`pullpath.core.inventory`.
"""

from __future__ import annotations

import codecs
import gzip
import io
import json
import os
import stat
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from pullpath.core.inventory import InventoryBuilder, InventoryError
from pullpath.domain.inventory import Inventory

__all__ = [
    "InventoryError",
    "InventoryFiles",
    "decode_json",
    "iter_inventory_files",
    "read_inventory",
    "read_inventory_files",
]

_SUFFIXES = (".json", ".json.gz")


def _is_inventory_name(path: Path) -> bool:
    return path.name.lower().endswith(_SUFFIXES)


def iter_inventory_files(paths: Sequence[Path]) -> Iterator[tuple[Path, bool]]:
    """(file, wanted) for every file under ``paths``: named files always wanted, files found in
    directories only when ``*.json`` / ``*.json.gz``. Directories are walked in sorted order,
    without following symbolic links to directories."""
    for path in paths:
        if not path.is_dir():
            yield path, True
            continue
        found: list[Path] = []
        for root, dirs, files in os.walk(path, followlinks=False):
            dirs.sort()
            found.extend(Path(root) / name for name in files)
        for file in sorted(found):
            yield file, _is_inventory_name(file)


class _DecodeError(ValueError):
    pass


def _text_bytes(raw: bytes) -> bytes:
    """UTF-8 bytes for orjson: drop a UTF-8 BOM, transcode UTF-16/32 with a BOM (PowerShell)."""
    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if raw.startswith(bom):
            try:
                return raw.decode(codec).encode("utf-8")
            except UnicodeError as exc:
                raise _DecodeError(f"not valid {codec.upper()} text: {exc}") from exc
    return raw


def decode_json(raw: bytes) -> object:
    """One JSON document; a file of JSON lines (one document per line) gives a list of them.

    Raises ``ValueError`` with the error's line and column when it is not JSON.
    """
    data = _text_bytes(raw)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        first = exc
    lines = [line for line in data.splitlines() if line.strip()]
    if len(lines) > 1:
        try:
            return [orjson.loads(line) for line in lines]
        except orjson.JSONDecodeError:
            pass
    raise _DecodeError(_describe(first))


def _describe(exc: json.JSONDecodeError) -> str:
    return f"not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"


MAX_INVENTORY_BYTES = 256 * 1024 * 1024
"""An inventory file larger than this (256 MiB, as stored or decompressed) is not read: an
issue says so. Decoding JSON takes several times its size in memory; split bigger inventories
(one file per subscription)."""


def _too_large(what: str) -> _DecodeError:
    return _DecodeError(
        f"{what} larger than {MAX_INVENTORY_BYTES >> 20} MiB: not read (split the inventory, "
        "one file per subscription)"
    )


def _read_bytes(path: Path) -> bytes:
    """The bytes of a JSON file (gzip inflated), at most ``MAX_INVENTORY_BYTES``; raises
    ``ValueError`` for what is not a regular file or too large, ``OSError`` when unreadable."""
    mode = path.stat().st_mode
    if not stat.S_ISREG(mode):
        raise _DecodeError("not a regular file (a FIFO, device or socket): not read")
    with path.open("rb") as fh:
        raw = fh.read(MAX_INVENTORY_BYTES + 1)
    if len(raw) > MAX_INVENTORY_BYTES:
        raise _too_large("file")
    if path.name.lower().endswith(".gz") or raw[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(raw), mode="rb") as gz:
                out = gz.read(MAX_INVENTORY_BYTES + 1)  # never inflates a bomb whole
        except (OSError, EOFError, zlib.error) as exc:
            raise _DecodeError(f"not a readable gzip file: {exc}") from exc
        if len(out) > MAX_INVENTORY_BYTES:
            raise _too_large("decompressed content")
        return out
    return raw


_LOG_COLUMNS = frozenset({"calleripaddress", "loginserver", "repository", "correlationid"})


def _log_csv(raw: bytes) -> bool:
    """Is ``raw`` a CSV export of the registry's log tables (a header naming OperationName and
    another of their columns; portal headers such as ``TimeGenerated [UTC]`` included)?"""
    first = raw[:4096].split(b"\n", 1)[0]
    try:
        header = _text_bytes(first).decode("utf-8", errors="replace")
    except _DecodeError:
        return False
    names = set()
    for cell in header.split(","):
        name = cell.strip().strip('"').split("[", 1)[0].strip()
        names.add(name.replace("_", "").lower())
    return "operationname" in names and bool(names & _LOG_COLUMNS)


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # a name too long, ...: cannot be an inventory
        return False


@dataclass
class InventoryFiles:
    """Inventory files read and decoded, not yet built, in the order they were found: each
    entry is a document, a skipped file or a problem. :meth:`into` hands them to an
    :class:`InventoryBuilder` in that order."""

    entries: list[tuple[str, str, object]] = field(default_factory=list)
    """(``"document"``, file, decoded JSON), (``"skipped"``, file, None) or (``"problem"``,
    file, what is wrong with it)."""

    @property
    def documents(self) -> list[tuple[str, object]]:
        return [(label, doc) for what, label, doc in self.entries if what == "document"]

    def into(self, builder: InventoryBuilder) -> None:
        for what, label, value in self.entries:
            if what == "skipped":
                builder.add_skipped_file(label)
            elif what == "problem":
                builder.add_issue(label, str(value))
            else:
                builder.add_file(label)
                builder.add_document(value, label)


def read_inventory_files(paths: Sequence[Path]) -> InventoryFiles:
    """Read and decode every inventory file under ``paths``."""
    missing = [str(p) for p in paths if not _exists(p)]
    if missing:
        raise InventoryError(f"inventory path does not exist: {', '.join(missing)}")
    out = InventoryFiles()
    for file, wanted in iter_inventory_files(paths):
        label = str(file)
        if not wanted:
            out.entries.append(("skipped", label, None))
            continue
        raw = b""
        try:
            raw = _read_bytes(file)
            doc = decode_json(raw)
        except _DecodeError as exc:
            problem = ("a CSV export of registry logs, not ARM resources: not read as "
                       "inventory (did you mean --logs?)" if _log_csv(raw) else str(exc))
            out.entries.append(("problem", label, problem))
            continue
        except OSError as exc:
            out.entries.append(("problem", label, f"cannot read file: {exc.strerror or exc}"))
            continue
        out.entries.append(("document", label, doc))
    return out


def read_inventory(paths: Sequence[Path]) -> Inventory:
    """Read every inventory file under ``paths`` into one :class:`Inventory`."""
    builder = InventoryBuilder()
    read_inventory_files(paths).into(builder)
    return builder.finish()
