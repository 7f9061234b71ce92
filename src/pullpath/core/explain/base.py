"""The base of :class:`~pullpath.core.explain.Explainer`: the inventory and knowledge base,
the caches, the notes, and the indexes built once per inventory (pull roles by principal,
private endpoints by registry). The fact layers build on it: :mod:`.registry`,
:mod:`.identity`, :mod:`.network`, :mod:`.dns`. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pullpath.core.explain.pairs import PairRef
from pullpath.domain.explain import Facts, KnowledgeBase, PairPrediction, PullRole
from pullpath.domain.inventory import Inventory, Registry, norm_id
from pullpath.domain.resource_id import name_of


@dataclass
class _Caches:
    registry_facts: dict[str, Facts] = field(default_factory=dict)
    predictions: dict[tuple[str, str], PairPrediction] = field(default_factory=dict)
    pair_facts: dict[tuple[str, str], Facts] = field(default_factory=dict)
    pairs: list[PairPrediction] | None = None
    refs: list[PairRef] | None = None
    by_key: dict[tuple[str, str], PairRef] | None = None


class _Base:
    """What every fact layer reads: the inventory, the knowledge base, caches and notes."""

    def __init__(self, inventory: Inventory, kb: KnowledgeBase) -> None:
        self.inv = inventory
        self.kb = kb
        self.notes: list[str] = []
        self._noted: set[str] = set()
        self._c = _Caches()
        self._pull_roles = {r.id: r for r in kb.pull_roles}
        self._registry_pes = self._index_private_endpoints()
        self._roles_by_principal: dict[str, list[tuple[str, PullRole]]] = {}
        """principal id -> [(scope, pull role)], roles the knowledge base knows only."""
        for ra in inventory.role_assignments.values():
            role = self._pull_roles.get(name_of(ra.role_definition_id).lower())
            if role is not None and ra.principal_id:
                self._roles_by_principal.setdefault(ra.principal_id, []).append(
                    (norm_id(ra.scope), role))

    def note(self, text: str) -> None:
        if text not in self._noted:  # a set beside the list: asked once per pair
            self._noted.add(text)
            self.notes.append(text)

    def _index_private_endpoints(self) -> dict[str, dict[str, str]]:
        """registry id -> {private endpoint id: connection status}, from both sides."""
        out: dict[str, dict[str, str]] = {}
        for reg in self.inv.registries.values():
            for pec in reg.private_endpoint_connections:
                if pec.private_endpoint_id:
                    out.setdefault(reg.id, {})[pec.private_endpoint_id] = pec.status
        for pe in self.inv.private_endpoints.values():
            for i, target in enumerate(pe.target_ids):
                tid = norm_id(target)
                if tid not in self.inv.registries:
                    continue
                status = pe.connection_states[i] if i < len(pe.connection_states) else ""
                known = out.setdefault(tid, {})
                if not known.get(pe.id):
                    known[pe.id] = status
        return out

    def registry_pes(self, registry: Registry) -> dict[str, str]:
        return self._registry_pes.get(registry.id, {})

    def approved_pes(self, registry: Registry) -> list[str]:
        return [pid for pid, st in self.registry_pes(registry).items()
                if st.lower() == "approved"]
