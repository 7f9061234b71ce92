"""Identity resources -> ARM resource JSON: user-assigned identities (with stand-in principal and
client IDs) and role assignments (a role named by ``role_definition_name`` becomes its
definition ID). Transforms ``(reader, instance) -> None``. Pure.
"""

from __future__ import annotations

from typing import Any

from pullpath.core.iac.terraform.envelope import _envelope, _put
from pullpath.core.iac.terraform.plan import _Instance, _principal_of_identity
from pullpath.core.iac.terraform.reader import _Reader


def _user_identity(r: _Reader, inst: _Instance) -> None:
    res = _envelope(r, inst)
    ids = r.identity_ids(inst)
    props: dict[str, Any] = {key: ids[attr] for key, attr in (
        ("principalId", "principal_id"), ("clientId", "client_id"), ("tenantId", "tenant_id"))}
    res["properties"] = props
    r.emit(inst, res)


def _role_assignment(r: _Reader, inst: _Instance) -> None:
    res = _envelope(r, inst, location=False)
    props: dict[str, Any] = {}
    _put(props, "scope", r.link(inst, "scope"))
    definition = r.raw(inst, "role_definition_id")
    role_name = r.raw(inst, "role_definition_name")
    if isinstance(definition, str) and definition:
        props["roleDefinitionId"] = definition
    elif isinstance(role_name, str) and role_name.lower() in r.role_ids:
        props["roleDefinitionId"] = (f"/subscriptions/{r.subscription}/providers/"
                                     "Microsoft.Authorization/roleDefinitions/"
                                     f"{r.role_ids[role_name.lower()]}")
    elif definition is not None:
        props["roleDefinitionId"] = r.note_unknown(inst, "role_definition_id")
    _put(props, "principalId", r.text(inst, "principal_id", accept=_principal_of_identity))
    _put(props, "principalType", r.text(inst, "principal_type"))
    res["properties"] = props
    r.emit(inst, res)
