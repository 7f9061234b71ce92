"""Azure resource IDs: the one parser every layer uses.

``/subscriptions/{sub}/resourceGroups/{rg}/providers/{Namespace}/{type}/{name}[/{child type}/
{child name}...]``, and extension resources that sit below another resource or scope
(``{scope}/providers/Microsoft.Authorization/roleAssignments/{name}``,
``/providers/Microsoft.Management/managementGroups/{name}``).

Written here rather than imported: ``azure.mgmt.core.tools.parse_resource_id`` reads the same
grammar, but it lives in an SDK package (it imports ``azure.core``) and the domain imports no
SDK. The tests check this parser against it on generated IDs (``tests/domain/test_resource_id.py``).
ARM IDs are case-insensitive: :class:`ResourceId` compares and hashes by its lower-case form.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "ResourceId",
    "name_of",
    "owner_of",
    "parent_of",
    "parse_resource_id",
    "resource_group_of",
    "subscription_of",
    "type_of",
]


@dataclass(frozen=True, slots=True)
class ResourceId:
    """The parts of one ARM resource ID, as written (compare with ``==``: case-insensitive)."""

    text: str = field(compare=False)
    """The ID as given, without surrounding blanks or a trailing slash."""
    subscription: str = field(compare=False)
    """Subscription id ("" for an ID at tenant or management group scope)."""
    resource_group: str = field(compare=False)
    """Resource group name ("" when the ID is not in one)."""
    namespace: str = field(compare=False)
    """Provider namespace of the resource itself (its last ``providers`` segment), e.g.
    ``Microsoft.Network``; "" for a subscription or resource group ID."""
    types: tuple[str, ...] = field(compare=False)
    """Type segments below the namespace: ``("virtualNetworks", "subnets")``."""
    names: tuple[str, ...] = field(compare=False)
    """Name segments, one per type (one fewer when the ID ends in a type, a collection)."""
    scope: str = field(compare=False)
    """The ID the resource's ``providers`` segment hangs below: its resource group or
    subscription, or the resource an extension resource (role assignment, diagnostic
    setting) belongs to ("" at tenant scope)."""
    key: str = field(repr=False)
    """Lower-case text: what two IDs compare by."""

    @property
    def name(self) -> str:
        """The resource's own name (the last name segment)."""
        return self.names[-1] if self.names else ""

    @property
    def type(self) -> str:
        """Full type, lower-case: ``microsoft.network/virtualnetworks/subnets``."""
        if not self.namespace or not self.types:
            return ""
        return "/".join([self.namespace, *self.types]).lower()

    def parent(self) -> ResourceId | None:
        """The resource this one belongs to: a child's parent (a subnet's VNet), a
        collection's owner, or for a top-level or extension resource its scope (resource
        group, subscription, or the resource a role assignment is on); None for a
        subscription, a resource group or an ID at tenant scope."""
        path = _interleave(self.types, self.names)
        path = path[:-2] if len(self.names) == len(self.types) else path[:-1]
        if path:
            segments = [*(s for s in self.scope.split("/") if s), "providers", self.namespace,
                        *path]
            return parse_resource_id("/" + "/".join(segments))
        if self.namespace:
            return parse_resource_id(self.scope)
        return None


def _interleave(types: tuple[str, ...], names: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for i, t in enumerate(types):
        out.append(t)
        if i < len(names):
            out.append(names[i])
    return out


def parse_resource_id(text: str | None) -> ResourceId | None:
    """The parts of an ARM resource ID; None when ``text`` is not one: it starts with
    ``/subscriptions/{id}`` or ``/providers/`` (empty segments, ``//``, are skipped)."""
    clean = (text or "").strip().rstrip("/")
    if not clean.startswith("/"):
        return None
    segments = [s for s in clean.split("/") if s]
    if not segments:
        return None
    head = segments[0].lower()
    subscription = resource_group = ""
    if head == "subscriptions":
        if len(segments) < 2:
            return None
        subscription = segments[1]
        if len(segments) > 3 and segments[2].lower() == "resourcegroups":
            resource_group = segments[3]
    elif head != "providers":
        return None
    lowered = [s.lower() for s in segments]
    try:
        at = len(lowered) - 1 - lowered[::-1].index("providers")
    except ValueError:
        return ResourceId(clean, subscription, resource_group, "", (), (), "", clean.lower())
    tail = segments[at + 1:]
    namespace = tail[0] if tail else ""
    rest = tail[1:]
    scope = "/" + "/".join(segments[:at]) if at else ""
    return ResourceId(clean, subscription, resource_group, namespace, tuple(rest[0::2]),
                      tuple(rest[1::2]), scope, clean.lower())


def name_of(text: str | None) -> str:
    """The last segment of an ID (a resource's name), as written; for display. Any text
    works: a string that is not an ID gives its last ``/`` segment."""
    return (text or "").strip().rstrip("/").rsplit("/", 1)[-1]


def type_of(text: str | None) -> str:
    """The resource type of an ID, lower-case (``microsoft.network/virtualnetworks/subnets``);
    "" when it is not an ID or names no type."""
    rid = parse_resource_id(text)
    return rid.type if rid is not None else ""


def parent_of(text: str | None, child_type: str) -> str:
    """Lower-case ID of the resource ``text`` is a ``child_type`` of (``subnets`` -> the
    VNet; ``diagnosticSettings`` -> the resource they belong to); "" when ``text`` is not an
    ID whose last type is ``child_type``."""
    rid = parse_resource_id(text)
    if (rid is None or not rid.types or len(rid.names) != len(rid.types)
            or rid.types[-1].lower() != child_type.lower()):
        return ""
    parent = rid.parent()
    return parent.key if parent is not None else ""


def owner_of(text: str | None, rtype: str) -> str:
    """Lower-case ID of the resource of type ``rtype`` (``microsoft.containerregistry/
    registries``) that ``text`` is or belongs to (a registry's private endpoint connection, its
    diagnostic setting); "" when it belongs to none."""
    rid = parse_resource_id(text)
    want = rtype.lower()
    while rid is not None:
        if rid.type == want and len(rid.names) == len(rid.types):
            return rid.key
        rid = rid.parent()
    return ""


def subscription_of(text: str | None) -> str:
    """The subscription id of an ID, as written ("" when it names none)."""
    rid = parse_resource_id(text)
    return rid.subscription if rid is not None else ""


def resource_group_of(text: str | None) -> str:
    """The resource group of an ID, as written ("" when it names none)."""
    rid = parse_resource_id(text)
    return rid.resource_group if rid is not None else ""
