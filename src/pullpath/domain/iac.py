"""What infrastructure code describes, before it is deployed.

An ARM deployment template (also what ``az bicep build`` emits and what ``pullpath lab plan``
writes), a ``.bicep`` file or a Terraform plan (``terraform show -json``) is read into
:class:`IacDocument`: the ARM resources it would create or change, in the JSON shapes the
inventory reads (``id``, ``type``, ``name``, ``location``, ``identity``, ``properties``...), and
where each one is written, so a finding can point at the line that causes it.

A value that cannot be known before deployment (``reference()`` of a resource the template does
not create, ``newGuid()``, Terraform's "known after apply") is never guessed: it is written as
:func:`unknown_value`, which the inventory reads as absent and names as an issue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "PLACEHOLDER_SUBSCRIPTION",
    "UNKNOWN_MARK",
    "DeploymentScope",
    "IacDocument",
    "IacKind",
    "SourceLocation",
    "is_unknown_value",
    "unknown_reason",
    "unknown_value",
]

UNKNOWN_MARK = "[unknown("
"""Start of a value not known before deployment. It has the form of an ARM template
expression (``[fn(...)]``), so every inventory reader already treats it as absent, with an
issue, and never as a literal."""


def unknown_value(why: str) -> str:
    """A value that cannot be known before deployment, saying why (``why`` is shown to users:
    e.g. ``"known after apply: azurerm_user_assigned_identity.pull.principal_id"``)."""
    return f"{UNKNOWN_MARK}'{why.replace(chr(39), chr(39) * 2)}')]"


def is_unknown_value(value: object) -> bool:
    return isinstance(value, str) and value.startswith(UNKNOWN_MARK) and value.endswith(")]")


def unknown_reason(value: str) -> str:
    """The ``why`` an :func:`unknown_value` was made with."""
    return value[len(UNKNOWN_MARK) + 1:-3].replace("''", "'")


PLACEHOLDER_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
"""The subscription of a deployment whose target is not given (also the lab's placeholder)."""


@dataclass(frozen=True, slots=True)
class DeploymentScope:
    """Where a template would be deployed: what ``subscription()`` and ``resourceGroup()``
    return, and what the IDs of the resources it creates start with."""

    subscription: str = PLACEHOLDER_SUBSCRIPTION
    resource_group: str = "template-resource-group"
    location: str = ""
    """``resourceGroup().location``; "" when not given (an unknown value)."""

    @property
    def resource_group_id(self) -> str:
        return f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"


class IacKind(StrEnum):
    ARM = "arm"
    """An ARM deployment template (JSON), including compiled Bicep."""
    BICEP = "bicep"
    """A ``.bicep`` file, read directly."""
    TERRAFORM_PLAN = "terraform-plan"
    """``terraform show -json <planfile>`` output."""


@dataclass(frozen=True, slots=True)
class SourceLocation:
    """Where a resource is written in infrastructure code."""

    file: str
    """The file as the user named it (relative paths stay relative, ``/`` separators)."""
    line: int = 0
    """1-based line of the resource's declaration; 0 when only the file is known."""
    column: int = 0
    """1-based column of that line; 0 when unknown."""
    end_line: int = 0
    """Last line of the declaration; 0 when unknown."""
    address: str = ""
    """The name the code gives the resource: a Terraform address
    (``module.net.azurerm_subnet.aci[0]``), an ARM symbolic name or ``resources[3]``, a Bicep
    symbolic name."""


@dataclass(frozen=True)
class IacDocument:
    """One template or plan, read: the resources it describes and where they are written."""

    kind: IacKind
    path: str
    """The file as the user named it."""
    resources: tuple[Mapping[str, Any], ...] = ()
    """ARM resource JSON of every resource the code creates, changes or (Terraform
    ``prior_state``) already has, with expressions evaluated; values not known before
    deployment are :func:`unknown_value` strings."""
    locations: Mapping[str, SourceLocation] = field(default_factory=dict)
    """``norm_id(resource id)`` -> where the resource is written."""
    refers_to: tuple[str, ...] = ()
    """Resource IDs the code refers to but does not describe (ARM ``existing`` resources,
    literal IDs, Terraform data sources without state): they must come from ``--inventory``."""
    unknowns: tuple[str, ...] = ()
    """One line per value that cannot be known before deployment, naming the resource and the
    property (``"container group orders-worker: identity principalId (known after apply)"``)."""
    issues: tuple[str, ...] = ()
    """Parts that could not be read (unsupported function, unreadable resource), each with its
    place; the rest of the document is still read."""
