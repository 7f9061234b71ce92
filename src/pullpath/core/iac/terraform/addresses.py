"""Terraform addresses: a resource instance's (``module.net["a"].azurerm_subnet.s[0]``) split
into module, mode, type, name and key (:func:`parse_address`), a reference's steps, and an
attribute path's parts (``image_registry_credential[0].server``). Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["TfAddress", "parse_address"]

_STEP = re.compile(r'\.?([A-Za-z_][A-Za-z0-9_-]*)((?:\[(?:"(?:[^"\\]|\\.)*"|[0-9]+|\*)\])*)')


def _steps(address: str) -> list[tuple[str, str]] | None:
    """``module.net["a"].azurerm_subnet.s[0].id`` -> [(module, ""), (net, '["a"]'), ...]; None
    when it is not an address."""
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(address):
        m = _STEP.match(address, pos)
        if m is None or m.end() == pos or (pos > 0 and address[pos] != "."):
            return None
        out.append((m.group(1), m.group(2)))
        pos = m.end()
    return out


@dataclass(frozen=True)
class TfAddress:
    module: str
    """Module instance prefix (``module.net["a"].module.x``), "" for the root module."""
    calls: tuple[str, ...]
    """Module call names (keys dropped): where the configuration is."""
    mode: str
    type: str
    name: str
    key: str

    @property
    def local(self) -> str:
        """The address inside its module, without the key (the configuration's address)."""
        return f"{'data.' if self.mode == 'data' else ''}{self.type}.{self.name}"


def parse_address(address: str) -> TfAddress | None:
    """A resource instance address (``module.net["a"].azurerm_subnet.s[0]``,
    ``data.azurerm_client_config.current``) split into its parts; None when it is not one."""
    steps = _steps(address)
    if not steps:
        return None
    module: list[str] = []
    calls: list[str] = []
    i = 0
    while i + 1 < len(steps) and steps[i] == ("module", ""):
        name, key = steps[i + 1]
        module.append(f"module.{name}{key}")
        calls.append(name)
        i += 2
    mode = "managed"
    if i < len(steps) and steps[i] == ("data", ""):
        mode = "data"
        i += 1
    if len(steps) - i != 2 or steps[i][1]:
        return None
    return TfAddress(".".join(module), tuple(calls), mode, steps[i][0], steps[i + 1][0],
                    steps[i + 1][1])


def _path_parts(path: str) -> list[str | int]:
    """``image_registry_credential[0].server`` -> ["image_registry_credential", 0, "server"]."""
    parts: list[str | int] = []
    for m in re.finditer(r"([^.\[\]]+)|\[(\d+)\]", path):
        parts.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
    return parts
