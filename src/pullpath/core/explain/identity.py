"""Credential and identity facts: how a consumer authenticates to a registry, the principal
behind its managed identity, the pull roles that principal holds on the registry or a parent
scope (``_roles_on``), role assignments whose principal is known only after deployment, and
whether the role grants pulls in the registry's role assignment mode. Pure.
"""

from __future__ import annotations

from pullpath.core.explain.pairs import PairRef
from pullpath.core.explain.registry import _RegistryFacts
from pullpath.domain.explain import Fact, Facts, PullRole
from pullpath.domain.inventory import Consumer, RegistryCredential, RoleAssignment, norm_id
from pullpath.domain.resource_id import name_of

_MI_METHODS = ("user-assigned-identity", "system-assigned-identity", "kubelet-identity")


class _IdentityFacts(_RegistryFacts):
    """The credential facts of a pair and the pull roles of principals."""

    def _credential_facts(self, ref: PairRef) -> Facts:
        c = ref.consumer
        label = f"{c.kind.noun} {c.name}"
        cred = ref.credential
        facts: Facts = {}
        if cred is None:
            method: str | None = "none"
            why = f"{label} has no credential for {ref.login_server}"
        elif cred.method == "unknown":
            method = None
            why = f"the credential {label} uses for {ref.login_server} could not be read"
        else:
            method = cred.method
            detail = f" {name_of(cred.identity_id)}" if cred.identity_id else ""
            why = f"{label} authenticates to {ref.login_server} with {cred.method}{detail}"
        facts["credential.method"] = Fact(method, why)
        facts["credential.managed_identity"] = Fact(
            None if method is None else method in _MI_METHODS, why)
        facts["credential.has_pull_role"] = self._pull_role_fact(ref)
        return facts

    def principal_of(self, consumer: Consumer, cred: RegistryCredential | None) -> str:
        if cred is None:
            return ""
        if cred.method in ("user-assigned-identity", "kubelet-identity") and cred.identity_id:
            ident = self.inv.identities.get(cred.identity_id)
            return ident.principal_id if ident is not None else ""
        if cred.method == "system-assigned-identity":
            ident = self.inv.identities.get(consumer.id)
            return ident.principal_id if ident is not None else ""
        return ""

    def _roles_on(self, principal: str, registry_id: str) -> list[tuple[PullRole, str]]:
        """The known roles ``principal`` holds on the registry or a parent scope, with where."""
        rid = norm_id(registry_id)
        out: list[tuple[PullRole, str]] = []
        for scope, role in self._roles_by_principal.get(principal, ()):
            if (scope in ("", "/") or rid == scope or rid.startswith(scope + "/")
                    or "/providers/microsoft.management/managementgroups/" in scope):
                at = ("a management group (assumed to contain the subscription)"
                      if "managementgroups" in scope else scope or "/")
                out.append((role, at))
        return out

    def _assignments_of_unknown_principal(self, registry_id: str) -> list[RoleAssignment]:
        """Role assignments on the registry or a parent scope whose principal is not known
        (infrastructure code: "known after apply"): they may be the identity's."""
        reg = norm_id(registry_id)
        return [a for a in self.inv.role_assignments.values()
                if not a.principal_id and a.scope
                and (reg == a.scope or reg.startswith(a.scope.rstrip("/") + "/"))]

    def _role_on(self, principal: str, registry_id: str) -> str:
        """A role ``principal`` holds on the registry that grants pulls in some mode (pairing
        an AKS cluster with the registries its kubelet identity can pull from)."""
        held = self._roles_on(principal, registry_id)
        return f"{held[0][0].name} at {held[0][1]}" if held else ""

    def _pull_role_fact(self, ref: PairRef) -> Fact:
        c, cred, reg = ref.consumer, ref.credential, ref.registry
        if cred is None or cred.method not in _MI_METHODS:
            return Fact(None, "a pull role applies to managed identities only")
        if reg is None:
            return Fact(None, f"registry {ref.login_server} is not in the inventory")
        no_list = Fact(None, "the inventory has no role assignments (add az role assignment "
                             "list --all -o json)")
        principal = self.principal_of(c, cred)
        who = (f"the identity {name_of(cred.identity_id)}" if cred.identity_id
               else f"the system-assigned identity of {c.name}")
        if not principal:
            return (Fact(None, f"the principal ID of {who} is not in the inventory")
                    if self.inv.role_assignments_present else no_list)
        held = self._roles_on(principal, reg.id)
        mode = self.registry_facts(reg)["registry.role_mode"].value
        label = {"rbac": "RBAC Registry Permissions", "abac":
                 "RBAC Registry + ABAC Repository Permissions"}
        for role, at in held:
            if mode in role.modes or (mode is None and set(role.modes) >= {"rbac", "abac"}):
                return Fact(True, f"{who} holds {role.name} at {at}")
        if not self.inv.role_assignments_present:
            # a grant found proves the role; without the role assignments that exist, a
            # missing one proves nothing (infrastructure code holds only its own)
            return no_list
        wanted = (", ".join(r.name for r in self.kb.pull_roles if mode in r.modes)
                  if mode else "a pull role")
        if mode is None and held:
            return Fact(None, f"{who} holds {', '.join(r.name for r, _ in held)} on "
                              f"{reg.name}, which grants pulls in some role assignment modes "
                              f"only, and the mode of registry {reg.name} is not in the "
                              "inventory")
        undocumented = [r.name for r, _ in held if mode not in r.denied_in]
        if undocumented:
            return Fact(None, f"{who} holds {', '.join(undocumented)} on {reg.name}, whose "
                              f"effect in {label.get(str(mode), str(mode))} mode is not "
                              "documented")
        unresolved = self._assignments_of_unknown_principal(reg.id)
        if unresolved:
            return Fact(None, f"{len(unresolved)} role assignment(s) on {reg.name} or a parent "
                              f"scope name a principal not known before deployment "
                              f"({', '.join(name_of(a.id) for a in unresolved[:3])}): whether "
                              f"{who} holds a pull role is unknown")
        if held:
            return Fact(False, f"{who} (principal {principal}) holds only "
                               f"{', '.join(r.name for r, _ in held)} on {reg.name}, which "
                               f"grant(s) no pulls in {label.get(str(mode), str(mode))} mode "
                               f"(needed: {wanted})")
        return Fact(False, f"{who} (principal {principal}) holds no role that grants pulls on "
                           f"{reg.name} or a parent scope (needed: {wanted})")
