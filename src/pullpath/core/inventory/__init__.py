"""ARM resource JSON -> :class:`~pullpath.domain.inventory.Inventory`. Pure: no I/O, no SDK.

Read per resource family, the get -> transform -> load shape:

* :mod:`.documents` walks a decoded JSON document (a resource, a list, an ARM list, a Resource
  Graph result, a REST API example) to every resource dict in it;
* one transform per resource type turns a resource dict, in the REST shape (camelCase, fields
  in ``properties``) or the SDK shape (``as_dict()``: snake_case, ``properties`` flattened),
  into domain records: :mod:`.network` (VNets, subnets, NICs, NAT gateways, public IPs, private
  endpoints), :mod:`.registry` (registries, replications, connections, task agent pools,
  diagnostic settings), :mod:`.consumers` (ACI, Container Apps and environments, AKS, App
  Service, ACR tasks), :mod:`.identity` (managed identities, role assignments, credentials),
  :mod:`.dns` (private zones, records, links); :mod:`.fields` is their typed field access;
* :mod:`.build` stores each record, merges a resource read more than once (:mod:`.merge`) and
  links what refers to what across resources.

Nothing raises on bad input: a value of the wrong type, an unevaluated ARM template
expression or a container that holds no resources is recorded as an
:class:`~pullpath.domain.inventory.InventoryIssue` and the field is treated as absent.
"""

from pullpath.core.inventory.build import (
    InventoryBuilder,
    InventoryError,
    build_inventory,
    export_hint,
    inventory_from_documents,
    inventory_warnings,
    without_properties_problem,
)
from pullpath.core.inventory.consumers import image_registry, split_image
from pullpath.core.inventory.documents import (
    MAX_DEPTH,
    iter_resources,
    logs_hint,
    looks_like_inventory,
)
from pullpath.core.inventory.fields import is_arm_expression, norm_location

__all__ = [
    "MAX_DEPTH",
    "InventoryBuilder",
    "InventoryError",
    "build_inventory",
    "export_hint",
    "image_registry",
    "inventory_from_documents",
    "inventory_warnings",
    "is_arm_expression",
    "iter_resources",
    "logs_hint",
    "looks_like_inventory",
    "norm_location",
    "split_image",
    "without_properties_problem",
]
