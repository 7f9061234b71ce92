"""What every transform writes: the resource envelope (``id``, ``type``, ``name``,
``location``), the ``identity`` block, and :func:`_put`, which leaves out what the plan does
not give rather than defaulting it. Pure.
"""

from __future__ import annotations

from typing import Any

from pullpath.core.iac.terraform.plan import _UAI, ARM_TYPES, _Instance
from pullpath.core.iac.terraform.reader import _Reader


def _put(obj: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` unless the value is absent (None): an attribute the plan does not give is
    left out, never defaulted."""
    if value is not None:
        obj[key] = value


def _envelope(r: _Reader, inst: _Instance, *, location: bool = True) -> dict[str, Any]:
    res: dict[str, Any] = {"id": r.id_of(inst), "type": ARM_TYPES[inst.addr.type],
                           "name": r.name(inst)}
    if location:
        _put(res, "location", r.text(inst, "location"))
    return res


def _identity(r: _Reader, inst: _Instance, path: str = "identity") -> dict[str, Any] | None:
    blocks = r.blocks(inst, path)
    if not blocks:
        return None
    b = blocks[0]
    out: dict[str, Any] = {}
    _put(out, "type", r.text(inst, f"{b}.type"))
    ids = r.links_of(inst, f"{b}.identity_ids", _UAI)
    if ids:
        out["userAssignedIdentities"] = {i: {} for i in ids}
    if "systemassigned" in str(out.get("type", "")).replace(" ", "").lower():
        _put(out, "principalId", r.text(inst, f"{b}.principal_id"))
    return out
