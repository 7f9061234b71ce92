"""What a file given as infrastructure code or baseline is: an ARM template, a Bicep file, a
Terraform plan, or (``None``) an inventory of ARM resources."""

from __future__ import annotations

from pathlib import Path

from pullpath.adapters.inventory_files import decode_json, read_json_bytes
from pullpath.core.inventory.documents import code_kind_of
from pullpath.domain.iac import IacKind

__all__ = ["code_kind"]


def code_kind(path: Path) -> IacKind | None:
    """The kind of ``path`` (a folder is an inventory). A file that cannot be read or decoded
    is taken as inventory, whose reader reports the problem with its place."""
    if path.is_dir():
        return None
    if path.suffix.lower() == ".bicep":
        return IacKind.BICEP
    try:
        return code_kind_of(decode_json(read_json_bytes(path)))
    except (OSError, ValueError):
        return None
