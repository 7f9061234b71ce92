"""Predict each consumer's pull path from configuration (pure: no I/O, no Azure SDK).

1. **Pairs**: every consumer -> registry pair the inventory names (the consumer's images and
   registry credentials name the login server; an AKS cluster's kubelet identity names the
   registries it holds a pull role on). A login server that is not in the inventory still makes
   a pair, with the registry unknown.
2. **Facts**: for each pair, three-valued facts are derived (``consumer.in_vnet``,
   ``registry.restricted``, ``pe.reachable``...), each with the sentence that says why, or what
   is missing when it is unknown.
3. **Rules**: the knowledge base's behaviours are evaluated in order (most specific first); the
   first whose conditions all hold decides. A rule that needs an unknown fact does not match;
   if an earlier such rule would have predicted something else, the confidence is lowered and
   the missing facts are listed.

:func:`flow_expectation` gives audit the prediction for one flow; predictions are cached per
inventory, so audit can call it for every flow.

The package, layer on layer (each fact layer a base class of the next, as in
:mod:`pullpath.core.iac.terraform`):

* :mod:`.pairs`: :class:`PairRef`, ACR login servers, the credential a consumer uses;
* :mod:`.rules`: :func:`evaluate` (conditions on facts) and the decision for a pair (which
  behaviour matches; unknown with the missing facts, or lowered confidence);
* :mod:`.base`: inventory, knowledge base, caches, notes and the indexes built once;
* the facts per subject: :mod:`.registry` (firewall, private endpoints, diagnostics),
  :mod:`.identity` (credentials, principals, pull roles), :mod:`.network` (the consumer, its
  VNets, egress, IP and virtual network rules), :mod:`.dns` (private DNS zones, links,
  records);
* :mod:`.explainer`: :class:`Explainer` (pairs, notes, predictions) and the entry points
  :func:`explainer_for` and :func:`flow_expectation`.
"""

from pullpath.core.explain.explainer import Explainer, explainer_for, flow_expectation
from pullpath.core.explain.network import vnet_of_subnet
from pullpath.core.explain.pairs import PairRef, credential_for, is_acr_host
from pullpath.core.explain.registry import ACI_DELEGATION
from pullpath.core.explain.rules import downgrade, evaluate

__all__ = [
    "ACI_DELEGATION",
    "Explainer",
    "PairRef",
    "credential_for",
    "downgrade",
    "evaluate",
    "explainer_for",
    "flow_expectation",
    "is_acr_host",
    "vnet_of_subnet",
]
