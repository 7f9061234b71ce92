"""A Terraform plan (``terraform show -json <planfile>``) -> an IacDocument.

The azurerm resources that decide a pull's path are turned into the ARM REST JSON that
:mod:`pullpath.core.inventory` reads (``id``, ``type``, ``name``, ``location``, ``identity``,
``properties``, camelCase). Pure: no I/O, no environment.

* **Values** come from ``planned_values`` (root module and child modules, recursively) and, for
  resources that exist only there, ``prior_state``; a resource the plan deletes is left out.
  What ``resource_changes[].change.after_unknown`` marks is "known after apply": it becomes
  :func:`~pullpath.domain.iac.unknown_value` and a line in ``IacDocument.unknowns``, never a
  default.
* **IDs**: the known ``id`` where the plan has one (existing resources); else the ARM ID built
  from the resource's ARM type, name and resource group and the subscription.
* **References**: an unknown value is looked up in ``configuration`` (``expressions.*.references``,
  through module calls, their variables and outputs): ``subnet_ids = [azurerm_subnet.aci.id]``
  becomes the synthesized ID of that subnet, so links between resources hold. What cannot be
  resolved stays unknown.
* **Stand-ins**: where Azure fills a value on creation that the prediction needs (a registry's
  login server, a private endpoint's addresses, the A records its DNS zone group writes, the
  approval of a connection its owner creates), the value is the documented one or an address of
  the subnet, and ``unknowns`` says so.

Attribute names follow the azurerm provider documentation (website/docs/r/*.html.markdown of
hashicorp/terraform-provider-azurerm); see docs/terraform.md.

The package, in the get -> transform -> load shape of :mod:`pullpath.core.inventory`:

* :mod:`.plan` is the plan as a whole (its shape, :data:`ARM_TYPES`, resource dicts, what is
  known after apply, the records shared below); :mod:`.addresses` splits Terraform addresses;
* :mod:`.reader` reads one plan's instances, values, IDs and stand-ins; its base
  :mod:`.references` follows ``configuration`` references;
* one transform ``(reader, instance) -> None`` per azurerm type, per resource family:
  :mod:`.network` (VNets, subnets, private endpoints, public IPs, NAT gateways and their
  associations), :mod:`.registry`, :mod:`.consumers` (container groups, container apps and
  environments, AKS clusters and node pools, web and function apps), :mod:`.identity`
  (user-assigned identities, role assignments), :mod:`.dns` (zones, A records, VNet links, zone
  groups), :mod:`.monitor` (diagnostic settings, Log Analytics workspaces); :mod:`.envelope` is
  what they all write;
* :mod:`.build` holds the table of transforms and :func:`read_terraform_plan`.
"""

from pullpath.core.iac.terraform.addresses import TfAddress, parse_address
from pullpath.core.iac.terraform.build import read_terraform_plan
from pullpath.core.iac.terraform.plan import (
    ARM_TYPES,
    PLAN_HINT,
    TerraformPlanError,
    check_plan_shape,
)

__all__ = [
    "ARM_TYPES",
    "PLAN_HINT",
    "TerraformPlanError",
    "TfAddress",
    "check_plan_shape",
    "parse_address",
    "read_terraform_plan",
]
