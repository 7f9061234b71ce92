"""Who else may be behind a pull from a Microsoft address (pure: no I/O, no Azure SDK).

A pull from Microsoft's platform that no identity ties to a consumer may come from a service
that is not a consumer: ACR import, Microsoft Defender for Cloud scanning, Azure Machine
Learning (trusted services), Microsoft-hosted Azure Pipelines agents (not trusted), or an ACI
container group of the inventory. No UserAgent, Identity or OperationName value of the
registry's logs is documented for them, so the audit never names one as the caller: it lists
the callers that are *possible* for the registry and the path, with what in the inventory shows
each (the knowledge base's ``callers``, docs/knowledge.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from pullpath.core.inventory import image_registry
from pullpath.domain.explain import TrustedCaller
from pullpath.domain.inventory import (
    ConsumerKind,
    Inventory,
    Registry,
    global_login_server,
)
from pullpath.domain.verdicts import Path

__all__ = ["CallerHints"]

_MI = ("user-assigned-identity", "system-assigned-identity")
_EVIDENCE_WHAT = {"ml-workspace": "workspace"}


class CallerHints:
    """The sentence that names the possible callers of a pull from a Microsoft address, per
    registry and path, computed once each."""

    def __init__(self, inventory: Inventory, callers: Sequence[TrustedCaller]) -> None:
        self.inv = inventory
        self.callers = tuple(callers)
        self._cache: dict[tuple[str, bool], str] = {}

    def reason(self, registry: Registry, path: Path, identity: str = "") -> str:
        """Possible callers of an unattributed pull from a Microsoft address at ``registry``
        that took ``path`` ("" when there is nothing to say: no callers known, or a path on
        which they say nothing). An ``identity`` that is the managed identity of a service of
        the inventory (a Machine Learning workspace) says so instead."""
        if not self.callers or path not in (Path.TRUSTED_SERVICE, Path.PUBLIC, Path.DENIED):
            return ""
        owner = self._identity_owner(identity)
        if owner:
            return owner
        bypass = path is Path.TRUSTED_SERVICE
        key = (registry.id, bypass)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._reason(registry, bypass)
        return found

    def _identity_owner(self, identity: str) -> str:
        ident = identity.strip().lower()
        if not ident:
            return ""
        names = {c.evidence: c.name for c in self.callers if c.evidence}
        owners = sorted(f"{names[p.evidence]} {_EVIDENCE_WHAT.get(p.evidence, p.evidence)} "
                        f"{p.name}" for p in self.inv.platform_callers.values()
                        if ident in p.principal_ids and p.evidence in names)
        if not owners:
            return ""
        return (f"identity {identity} is a managed identity of {' and '.join(owners)}: the pull "
                "is consistent with it (pullpath attributes consumers only; the log does not "
                "name the service)")

    def _reason(self, registry: Registry, bypass: bool) -> str:
        possible: list[str] = []
        absent: list[str] = []
        groups = self._aci_groups(registry, bypass)
        if groups:
            possible.append(f"container group(s) {', '.join(groups)} (Azure Container "
                            "Instances, a trusted service" + (" with a managed identity)"
                                                               if bypass else ")"))
        for c in self.callers:
            if bypass and not c.trusted:
                continue
            label = c.name + ("" if c.trusted else " (not a trusted service)")
            if not c.evidence:
                possible.append(label)
                continue
            users = sorted(p.name for p in self.inv.platform_callers.values()
                           if p.evidence == c.evidence and registry.id in p.registry_ids)
            what = _EVIDENCE_WHAT.get(c.evidence, c.evidence)
            if users:
                possible.append(f"{c.name} {what}(s) {', '.join(users)} (using this registry)")
            else:
                absent.append(f"{c.name}: no {what} in the inventory uses this registry")
        if not possible:
            return ""
        lead = ("the log does not say which trusted service passed the bypass" if bypass else
                "a Microsoft address that is none of your resources, and no identity ties it to "
                "a consumer")
        text = (f"{lead} (no UserAgent, Identity or OperationName value is documented for "
                f"them); possible callers: {'; '.join(possible)}")
        return text + (f" ({'; '.join(absent)})" if absent else "")

    def _aci_groups(self, registry: Registry, bypass: bool) -> list[str]:
        """Container groups of the inventory that pull from ``registry`` (with a managed
        identity, for the bypass)."""
        server = registry.login_server.lower()
        out: list[str] = []
        for c in self.inv.consumers.values():
            if c.kind is not ConsumerKind.ACI:
                continue
            creds = [cred for cred in c.credentials
                     if global_login_server(cred.server) == server]
            if bypass:
                if any(cred.method in _MI for cred in creds):
                    out.append(c.name)
            elif creds or any(global_login_server(image_registry(image)) == server
                              for image in c.images):
                out.append(c.name)
        return sorted(out)
