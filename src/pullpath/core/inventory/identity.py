"""Identity resources -> domain records: user-assigned managed identities, the ``identity``
block of a consumer, the registry credential a consumer names, and role assignments.

REST and SDK shapes alike (see :mod:`pullpath.core.inventory.fields`). Pure: a consumer's
identities come back as fragments the builder merges into ``Inventory.identities``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pullpath.core.inventory.fields import FieldReader, json_kind
from pullpath.domain.inventory import ManagedIdentity, RegistryCredential, RoleAssignment, norm_id
from pullpath.domain.resource_id import name_of, subscription_of

__all__ = [
    "ConsumerIdentity",
    "credential",
    "transform_consumer_identity",
    "transform_role_assignment",
    "transform_user_identity",
]

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@dataclass
class ConsumerIdentity:
    """What a consumer's ``identity`` block says."""

    principal_ids: list[str] = field(default_factory=list)
    client_ids: list[str] = field(default_factory=list)
    identity_ids: list[str] = field(default_factory=list)
    system: bool = False
    """A system-assigned identity is enabled."""
    fragments: list[ManagedIdentity] = field(default_factory=list)
    """The identities as far as the block describes them (merged into the inventory's)."""


def transform_user_identity(c: FieldReader, res: Mapping[Any, object],
                            rid: str) -> ManagedIdentity:
    return ManagedIdentity(
        id=rid,
        name=c.s(res, "name") or name_of(rid),
        principal_id=norm_id(c.s(res, "principalId")),
        client_id=norm_id(c.s(res, "clientId")),
    )


def transform_consumer_identity(c: FieldReader, res: Mapping[Any, object], rid: str,
                                name: str) -> ConsumerIdentity:
    """``identity`` of a consumer (system-assigned and user-assigned identities)."""
    out = ConsumerIdentity()
    ident = c.get(res, "identity")
    if ident is None:
        return out
    if not isinstance(ident, Mapping):
        c.issue(f"expected an object at identity, got {json_kind(ident)}")
        return out
    kind = c.s(ident, "type", "identity.").replace(" ", "").lower()
    out.system = "systemassigned" in kind
    principal = norm_id(c.s(ident, "principalId", "identity."))
    if principal:
        out.principal_ids.append(principal)
        out.fragments.append(ManagedIdentity(rid, name, principal, ""))
    uais = c.get(ident, "userAssignedIdentities", "identity.")
    if uais is not None and not isinstance(uais, Mapping):
        c.issue(f"expected an object at identity.userAssignedIdentities, got {json_kind(uais)}")
    elif isinstance(uais, Mapping):
        for key, details in uais.items():
            uid = norm_id(c.text(key, "identity.userAssignedIdentities key"))
            if not uid:
                continue
            out.identity_ids.append(uid)
            if details is not None and not isinstance(details, Mapping):
                c.issue(f"expected an object at identity.userAssignedIdentities[{key}]")
                continue
            p = norm_id(c.s(details, "principalId", "identity.userAssignedIdentities.*."))
            cl = norm_id(c.s(details, "clientId", "identity.userAssignedIdentities.*."))
            out.principal_ids.append(p)
            out.client_ids.append(cl)
            if p or cl:
                out.fragments.append(ManagedIdentity(uid, name_of(uid), p, cl))
    return out


def credential(server: str, identity: str, username: str) -> tuple[RegistryCredential, str]:
    """A credential from (server, identity, username) as consumers name them; also the
    identity's client id when it is given as one (resolved to a resource id at the end)."""
    server = server.lower()
    ident = identity.strip()
    if ident.lower() in ("system", "[system]"):
        return RegistryCredential(server, "system-assigned-identity"), ""
    if subscription_of(ident):
        return RegistryCredential(server, "user-assigned-identity", norm_id(ident)), ""
    if _GUID.match(ident):
        return RegistryCredential(server, "user-assigned-identity"), ident.lower()
    if ident:
        return RegistryCredential(server, "unknown"), ""
    if username:
        return RegistryCredential(server, "password", username=username), ""
    return RegistryCredential(server, "unknown"), ""


def transform_role_assignment(c: FieldReader, res: Mapping[Any, object],
                              rid: str) -> RoleAssignment:
    return RoleAssignment(
        id=rid,
        scope=norm_id(c.s(res, "scope")),
        role_definition_id=norm_id(c.s(res, "roleDefinitionId")),
        principal_id=norm_id(c.s(res, "principalId")),
        principal_type=c.s(res, "principalType"),
    )
