"""Writes the field-report Terraform plans: plan.json in field-report/ (for its main.tf and
modules/network/main.tf, the source) and field-report-trusted-off/ (a copy of those .tf files
with the registry's trusted-services bypass off). Run from the repository root:
``python tests/data/iac/terraform/generate.py``.

plan.json is written by hand, not by Terraform: it follows the JSON output format
(https://developer.hashicorp.com/terraform/internals/json-format, format_version 1.2) for the
configuration below, with azurerm 4.x attribute names (hashicorp/terraform-provider-azurerm
website/docs/r/*.html.markdown). What Azure decides on creation (IDs, principal IDs, the
registry's login server) is "known after apply" (after_unknown); the resource group and VNet
exist already (prior_state) and do not change.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SUB = "4f1c2a9e-7b3d-4e58-9a61-2c0d8e5f7a13"
RG = "rg-field-report"
LOC = "westeurope"
RG_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}"
VNET_ID = f"{RG_ID}/providers/Microsoft.Network/virtualNetworks/vnet-field-report"
PROVIDER = "registry.terraform.io/hashicorp/azurerm"

BYPASS_LINE = 'network_rule_bypass_option    = "AzureServices"'
"""The line of field-report/main.tf the trusted-off variant changes (to "None")."""


def ref(*addresses: str) -> dict[str, Any]:
    """``references`` as Terraform writes them: each traversal step, longest first."""
    out: list[str] = []
    for a in addresses:
        parts = a.split(".")
        steps = [".".join(parts[:i]) for i in range(len(parts), 1, -1)]
        out.extend(steps)
        if "[" in steps[-1]:
            out.append(steps[-1].split("[", 1)[0])
    return {"references": out}


def const(value: Any) -> dict[str, Any]:
    return {"constant_value": value}


RG_NAME = ref("azurerm_resource_group.lab.name")
RG_LOC = ref("azurerm_resource_group.lab.location")
LOGIN = ref("azurerm_container_registry.acr.login_server")


class Plan:
    def __init__(self) -> None:
        self.planned: dict[str, list[dict[str, Any]]] = {}
        self.prior: dict[str, list[dict[str, Any]]] = {}
        self.changes: list[dict[str, Any]] = []
        self.config: dict[str, list[dict[str, Any]]] = {}

    def add(self, module: str, mode: str, rtype: str, name: str, values: dict[str, Any],
            unknown: dict[str, Any], *, index: Any = None, action: str = "create",
            exprs: dict[str, Any] | None = None, extra: dict[str, Any] | None = None) -> None:
        local = f"{'data.' if mode == 'data' else ''}{rtype}.{name}"
        key = "" if index is None else f"[{json.dumps(index)}]"
        address = f"{module + '.' if module else ''}{local}{key}"
        res: dict[str, Any] = {"address": address, "mode": mode, "type": rtype, "name": name}
        if index is not None:
            res["index"] = index
        res.update({"provider_name": PROVIDER, "schema_version": 0, "values": values,
                    "sensitive_values": {}})
        if mode == "managed":
            self.planned.setdefault(module, []).append(res)
        if action in ("no-op", "read"):
            self.prior.setdefault(module, []).append(dict(res))
        rc = {"address": address}
        if module:
            rc["module_address"] = module
        rc.update({k: v for k, v in res.items()
                   if k in ("mode", "type", "name", "index", "provider_name")})
        rc["change"] = {
            "actions": [action],
            "before": values if action in ("no-op", "read") else None,
            "after": values,
            "after_unknown": unknown,
            "before_sensitive": {} if action in ("no-op", "read") else False,
            "after_sensitive": {},
        }
        if mode == "managed" or action == "read":
            self.changes.append(rc)
        if exprs is not None:
            cfg_mod = module.split("[")[0]
            if not any(c["address"] == local for c in self.config.get(cfg_mod, [])):
                entry = {"address": local, "mode": mode, "type": rtype, "name": name,
                         "provider_config_key": "azurerm", "expressions": exprs,
                         "schema_version": 0}
                entry.update(extra or {})
                self.config.setdefault(cfg_mod, []).append(entry)


def build(bypass: str) -> dict[str, Any]:
    p = Plan()
    p.add("", "data", "azurerm_client_config", "current",
          {"client_id": "04b07795-8ddb-461a-bbee-02f9e1bf7b46", "id": "Y2xpZW50Q29uZmlncy8=",
           "object_id": "a3c5e7f9-1b2d-4f6a-8c0e-2d4f6a8c0e1b", "subscription_id": SUB,
           "tenant_id": "72f988bf-86f1-41af-91ab-2d7cd011db47", "timeouts": None},
          {}, action="no-op", exprs={})
    p.add("", "managed", "azurerm_resource_group", "lab",
          {"id": RG_ID, "location": LOC, "managed_by": "", "name": RG, "tags": {},
           "timeouts": None}, {}, action="no-op",
          exprs={"location": const(LOC), "name": const(RG)})
    # --- module.network
    p.add("module.network", "managed", "azurerm_virtual_network", "this",
          {"address_space": ["10.0.0.0/16"], "bgp_community": "", "ddos_protection_plan": [],
           "dns_servers": [], "edge_zone": "", "encryption": [],
           "flow_timeout_in_minutes": 0, "guid": "3b7c1d2e-9f40-4a6b-8c5d-1e2f3a4b5c6d",
           "id": VNET_ID, "ip_address_pool": [], "location": LOC,
           "name": "vnet-field-report", "private_endpoint_vnet_policies": "Disabled",
           "resource_group_name": RG, "subnet": [], "tags": {}, "timeouts": None},
          {}, action="no-op",
          exprs={"address_space": const(["10.0.0.0/16"]), "location": ref("var.location"),
                 "name": const("vnet-field-report"),
                 "resource_group_name": ref("var.resource_group_name")})
    subnets = {"aci": ("10.0.1.0/24", "Microsoft.ContainerInstance/containerGroups"),
               "aca": ("10.0.2.0/24", "Microsoft.App/environments"),
               "pe": ("10.0.3.0/24", "")}
    for key, (prefix, delegation) in subnets.items():
        deleg = ([{"name": "delegation", "service_delegation": [
            {"actions": None, "name": delegation}]}] if delegation else [])
        p.add("module.network", "managed", "azurerm_subnet", "this",
              {"address_prefixes": [prefix], "default_outbound_access_enabled": True,
               "delegation": deleg, "ip_address_pool": [], "name": key,
               "private_endpoint_network_policies": "Disabled",
               "private_link_service_network_policies_enabled": True,
               "resource_group_name": RG, "service_endpoint_policy_ids": None,
               "service_endpoints": None, "sharing_scope": None, "timeouts": None,
               "virtual_network_name": "vnet-field-report"},
              {"address_prefixes": [False], "id": True,
               "delegation": [{"service_delegation": [{"actions": True}]}] if delegation
               else []},
              index=key,
              exprs={"address_prefixes": ref("each.value.prefix"), "name": ref("each.key"),
                     "resource_group_name": ref("var.resource_group_name"),
                     "virtual_network_name": ref("azurerm_virtual_network.this.name")},
              extra={"for_each_expression": ref("var.subnets")})
    # --- root
    p.add("", "managed", "azurerm_container_registry", "acr",
          {"admin_enabled": False, "anonymous_pull_enabled": None,
           "data_endpoint_enabled": None, "encryption": [], "export_policy_enabled": True,
           "georeplications": [], "identity": [], "location": LOC, "name": "acrfieldreport",
           "network_rule_bypass_option": bypass,
           "network_rule_set": [{"default_action": "Deny", "ip_rule": []}],
           "public_network_access_enabled": False, "quarantine_policy_enabled": None,
           "resource_group_name": RG, "retention_policy_in_days": None, "sku": "Premium",
           "tags": None, "timeouts": None, "trust_policy_enabled": None,
           "zone_redundancy_enabled": False},
          {"admin_password": True, "admin_username": True, "data_endpoint_host_names": True,
           "encryption": [], "georeplications": [], "id": True, "identity": [],
           "login_server": True, "network_rule_set": [{"ip_rule": []}]},
          exprs={"admin_enabled": const(False), "location": RG_LOC,
                 "name": const("acrfieldreport"), "network_rule_bypass_option": const(bypass),
                 "network_rule_set": [{"default_action": const("Deny")}],
                 "public_network_access_enabled": const(False),
                 "resource_group_name": RG_NAME, "sku": const("Premium")})
    p.add("", "managed", "azurerm_log_analytics_workspace", "logs",
          {"allow_resource_only_permissions": True, "cmk_for_query_forced": None,
           "daily_quota_gb": -1, "identity": [], "internet_ingestion_enabled": True,
           "internet_query_enabled": True, "local_authentication_enabled": True,
           "location": LOC, "name": "log-field-report", "resource_group_name": RG,
           "retention_in_days": 30, "sku": "PerGB2018", "tags": None, "timeouts": None},
          {"id": True, "identity": [], "primary_shared_key": True,
           "secondary_shared_key": True, "workspace_id": True},
          exprs={"location": RG_LOC, "name": const("log-field-report"),
                 "resource_group_name": RG_NAME, "retention_in_days": const(30),
                 "sku": const("PerGB2018")})
    p.add("", "managed", "azurerm_monitor_diagnostic_setting", "acr",
          {"enabled_log": [{"category": "", "category_group": "allLogs"}],
           "enabled_metric": [], "eventhub_authorization_rule_id": None,
           "eventhub_name": None, "name": "acr-logs", "partner_solution_id": None,
           "storage_account_id": None, "timeouts": None},
          {"enabled_log": [{}], "enabled_metric": [], "id": True,
           "log_analytics_destination_type": True, "log_analytics_workspace_id": True,
           "target_resource_id": True},
          exprs={"enabled_log": [{"category_group": const("allLogs")}],
                 "log_analytics_workspace_id": ref("azurerm_log_analytics_workspace.logs.id"),
                 "name": const("acr-logs"),
                 "target_resource_id": ref("azurerm_container_registry.acr.id")})
    for key in ("aci", "app"):
        p.add("", "managed", "azurerm_user_assigned_identity", "pull",
              {"isolation_scope": None, "location": LOC, "name": f"id-field-report-{key}",
               "resource_group_name": RG, "tags": None, "timeouts": None},
              {"client_id": True, "id": True, "principal_id": True, "tenant_id": True},
              index=key,
              exprs={"location": RG_LOC, "name": ref("each.key"),
                     "resource_group_name": RG_NAME},
              extra={"for_each_expression": const(["aci", "app"])})
    for key in ("aci", "app"):
        p.add("", "managed", "azurerm_role_assignment", "pull",
              {"abac_condition": None, "condition": None, "condition_version": None,
               "delegated_managed_identity_resource_id": None, "description": None,
               "principal_type": "ServicePrincipal", "role_definition_name": "AcrPull",
               "skip_service_principal_aad_check": None, "timeouts": None},
              {"id": True, "name": True, "principal_id": True, "role_definition_id": True,
               "scope": True},
              index=key,
              exprs={"principal_id": ref("each.value.principal_id"),
                     "principal_type": const("ServicePrincipal"),
                     "role_definition_name": const("AcrPull"),
                     "scope": ref("azurerm_container_registry.acr.id")},
              extra={"for_each_expression": ref("azurerm_user_assigned_identity.pull")})
    p.add("", "managed", "azurerm_private_dns_zone", "acr",
          {"name": "privatelink.azurecr.io", "resource_group_name": RG, "tags": None,
           "timeouts": None},
          {"id": True, "max_number_of_record_sets": True,
           "max_number_of_virtual_network_links": True,
           "max_number_of_virtual_network_links_with_registration": True,
           "number_of_record_sets": True, "soa_record": True},
          exprs={"name": const("privatelink.azurecr.io"), "resource_group_name": RG_NAME})
    p.add("", "managed", "azurerm_private_dns_zone_virtual_network_link", "acr",
          {"name": "vnet-field-report", "private_dns_zone_name": "privatelink.azurecr.io",
           "registration_enabled": False, "resolution_policy": None,
           "resource_group_name": RG, "tags": None, "timeouts": None,
           "virtual_network_id": VNET_ID},
          {"id": True},
          index=0,
          exprs={"name": const("vnet-field-report"),
                 "private_dns_zone_name": ref("azurerm_private_dns_zone.acr.name"),
                 "resource_group_name": RG_NAME,
                 "virtual_network_id": ref("module.network.vnet_id")},
          extra={"count_expression": const(1)})
    p.add("", "managed", "azurerm_private_endpoint", "acr",
          {"custom_network_interface_name": None, "ip_configuration": [], "location": LOC,
           "name": "pe-acr-field-report",
           "private_dns_zone_group": [{"name": "default"}],
           "private_service_connection": [
               {"is_manual_connection": False, "name": "acr",
                "private_connection_resource_alias": None, "request_message": None,
                "subresource_names": ["registry"]}],
           "resource_group_name": RG, "tags": None, "timeouts": None},
          {"custom_dns_configs": True, "id": True, "ip_configuration": [],
           "network_interface": True, "private_dns_zone_configs": True,
           "private_dns_zone_group": [{"id": True, "private_dns_zone_ids": True}],
           "private_service_connection": [{"private_connection_resource_id": True,
                                           "private_ip_address": True,
                                           "subresource_names": [False]}],
           "subnet_id": True},
          exprs={"location": RG_LOC, "name": const("pe-acr-field-report"),
                 "private_dns_zone_group": [
                     {"name": const("default"),
                      "private_dns_zone_ids": ref("azurerm_private_dns_zone.acr.id")}],
                 "private_service_connection": [
                     {"is_manual_connection": const(False), "name": const("acr"),
                      "private_connection_resource_id": ref("azurerm_container_registry.acr.id"),
                      "subresource_names": const(["registry"])}],
                 "resource_group_name": RG_NAME,
                 "subnet_id": ref("module.network.pe_subnet_id")})
    aci_identity = 'azurerm_user_assigned_identity.pull["aci"].id'
    app_identity = 'azurerm_user_assigned_identity.pull["app"].id'
    p.add("", "managed", "azurerm_container_group", "orders_worker",
          {"container": [{"commands": None, "cpu": 1, "cpu_limit": 0, "environment_variables":
                          None, "image": None, "liveness_probe": [], "memory": 2,
                          "memory_limit": 0, "name": "pull",
                          "ports": [{"port": 80, "protocol": "TCP"}], "readiness_probe": [],
                          "secure_environment_variables": None, "security": [],
                          "volume": []}],
           "diagnostics": [], "dns_config": [], "dns_name_label": None,
           "dns_name_label_reuse_policy": "Unsecure", "exposed_port": None,
           "identity": [{"identity_ids": [None], "type": "UserAssigned"}],
           "image_registry_credential": [{"password": None, "server": None,
                                          "user_assigned_identity_id": None,
                                          "username": None}],
           "init_container": [], "ip_address_type": "Private",
           "key_vault_key_id": None, "key_vault_user_assigned_identity_id": None,
           "location": LOC, "name": "ci-orders-worker", "os_type": "Linux",
           "priority": None, "resource_group_name": RG, "restart_policy": "Always",
           "sku": "Standard", "subnet_ids": None, "tags": None, "timeouts": None,
           "zones": None},
          {"container": [{"image": True, "liveness_probe": [], "ports": [{}],
                          "readiness_probe": [], "security": [], "volume": []}],
           "diagnostics": [], "dns_config": [], "exposed_port": True, "fqdn": True,
           "id": True,
           "identity": [{"identity_ids": [True], "principal_id": True, "tenant_id": True}],
           "image_registry_credential": [{"server": True, "user_assigned_identity_id": True}],
           "init_container": [], "ip_address": True, "subnet_ids": True},
          exprs={"container": [{"cpu": const(1), "image": LOGIN, "memory": const(2),
                                "name": const("pull"),
                                "ports": [{"port": const(80), "protocol": const("TCP")}]}],
                 "identity": [{"identity_ids": ref(aci_identity),
                               "type": const("UserAssigned")}],
                 "image_registry_credential": [{"server": LOGIN,
                                                "user_assigned_identity_id":
                                                    ref(aci_identity)}],
                 "ip_address_type": const("Private"), "location": RG_LOC,
                 "name": const("ci-orders-worker"), "os_type": const("Linux"),
                 "resource_group_name": RG_NAME,
                 "subnet_ids": ref("module.network.aci_subnet_id")})
    p.add("", "managed", "azurerm_container_app_environment", "env",
          {"dapr_application_insights_connection_string": None,
           "infrastructure_resource_group_name": None, "internal_load_balancer_enabled": False,
           "location": LOC, "log_analytics_workspace_id": None, "logs_destination": None,
           "mutual_tls_enabled": False, "name": "cae-field-report",
           "resource_group_name": RG, "tags": None, "timeouts": None,
           "workload_profile": [{"maximum_count": 0, "minimum_count": 0,
                                 "name": "Consumption",
                                 "workload_profile_type": "Consumption"}],
           "zone_redundancy_enabled": False},
          {"custom_domain_verification_id": True, "default_domain": True,
           "docker_bridge_cidr": True, "id": True, "identity": True,
           "infrastructure_subnet_id": True, "platform_reserved_cidr": True,
           "platform_reserved_dns_ip_address": True, "static_ip_address": True,
           "workload_profile": [{}]},
          exprs={"infrastructure_subnet_id": ref("module.network.aca_subnet_id"),
                 "internal_load_balancer_enabled": const(False), "location": RG_LOC,
                 "name": const("cae-field-report"), "resource_group_name": RG_NAME,
                 "workload_profile": [{"name": const("Consumption"),
                                       "workload_profile_type": const("Consumption")}]})
    p.add("", "managed", "azurerm_container_app", "orders_api",
          {"dapr": [], "identity": [{"identity_ids": [None], "type": "UserAssigned"}],
           "ingress": [], "max_inactive_revisions": None, "name": "ca-orders-api",
           "registry": [{"identity": None, "password_secret_name": None, "server": None,
                         "username": None}],
           "resource_group_name": RG, "revision_mode": "Single", "secret": [], "tags": None,
           "template": [{"azure_queue_scale_rule": [], "container": [
               {"args": None, "command": None, "cpu": 0.25, "env": [], "image": None,
                "liveness_probe": [], "memory": "0.5Gi", "name": "pull",
                "readiness_probe": [], "startup_probe": [], "volume_mounts": []}],
               "custom_scale_rule": [], "http_scale_rule": [], "init_container": [],
               "max_replicas": 10, "min_replicas": None, "revision_suffix": None,
               "tcp_scale_rule": [], "volume": []}],
           "timeouts": None, "workload_profile_name": "Consumption"},
          {"container_app_environment_id": True, "custom_domain_verification_id": True,
           "dapr": [], "id": True, "identity": [{"identity_ids": [True], "principal_id": True,
                                                 "tenant_id": True}],
           "ingress": [], "latest_revision_fqdn": True, "latest_revision_name": True,
           "location": True, "outbound_ip_addresses": True,
           "registry": [{"identity": True, "server": True}], "secret": [],
           "template": [{"container": [{"env": [], "ephemeral_storage": True,
                                        "image": True, "liveness_probe": [],
                                        "readiness_probe": [], "startup_probe": [],
                                        "volume_mounts": []}]}]},
          exprs={"container_app_environment_id":
                     ref("azurerm_container_app_environment.env.id"),
                 "identity": [{"identity_ids": ref(app_identity),
                               "type": const("UserAssigned")}],
                 "name": const("ca-orders-api"),
                 "registry": [{"identity": ref(app_identity), "server": LOGIN}],
                 "resource_group_name": RG_NAME, "revision_mode": const("Single"),
                 "template": [{"container": [{"cpu": const(0.25), "image": LOGIN,
                                              "memory": const("0.5Gi"),
                                              "name": const("pull")}]}],
                 "workload_profile_name": const("Consumption")})

    def module(name: str, items: dict[str, list[dict[str, Any]]],
               address: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"resources": items.get(name, [])}
        if address:
            out["address"] = address
        return out

    planned_root = module("", p.planned)
    planned_root["child_modules"] = [module("module.network", p.planned, "module.network")]
    prior_root = module("", p.prior)
    prior_root["child_modules"] = [module("module.network", p.prior, "module.network")]
    network_cfg = {
        "resources": p.config["module.network"],
        "outputs": {
            "vnet_id": {"expression": ref("azurerm_virtual_network.this.id")},
            "aci_subnet_id": {"expression": ref('azurerm_subnet.this["aci"].id')},
            "aca_subnet_id": {"expression": ref('azurerm_subnet.this["aca"].id')},
            "pe_subnet_id": {"expression": ref('azurerm_subnet.this["pe"].id')},
        },
        "variables": {
            "location": {}, "resource_group_name": {},
            "subnets": {"default": {k: {"prefix": v[0], "delegation": v[1]}
                                    for k, v in subnets.items()}},
        },
    }
    return {
        "format_version": "1.2",
        "terraform_version": "1.9.8",
        "planned_values": {"root_module": planned_root},
        "resource_changes": p.changes,
        "prior_state": {"format_version": "1.0", "terraform_version": "1.9.8",
                        "values": {"root_module": prior_root}},
        "configuration": {
            "provider_config": {"azurerm": {"name": "azurerm", "full_name": PROVIDER,
                                            "version_constraint": "~> 4.0",
                                            "expressions": {"features": [{}]}}},
            "root_module": {
                "resources": p.config[""],
                "module_calls": {"network": {
                    "source": "./modules/network",
                    "expressions": {"location": RG_LOC, "resource_group_name": RG_NAME},
                    "module": network_cfg,
                }},
            },
        },
        "relevant_attributes": [],
        "timestamp": "2026-12-06T22:30:00Z",
        "applyable": True,
        "complete": True,
        "errored": False,
    }


def main() -> int:
    """field-report/*.tf are the source: the variant is them with its one change, and each
    folder gets the plan of its configuration."""
    base = HERE / "field-report"
    main_tf = (base / "main.tf").read_text(encoding="utf-8")
    network_tf = (base / "modules" / "network" / "main.tf").read_text(encoding="utf-8")
    if BYPASS_LINE not in main_tf:
        raise SystemExit(f"{base / 'main.tf'}: no line {BYPASS_LINE!r} to change")
    for folder, bypass in (("field-report", "AzureServices"),
                           ("field-report-trusted-off", "None")):
        out = HERE / folder
        (out / "modules" / "network").mkdir(parents=True, exist_ok=True)
        (out / "main.tf").write_text(
            main_tf.replace(BYPASS_LINE, BYPASS_LINE.replace("AzureServices", bypass)),
            encoding="utf-8")
        (out / "modules" / "network" / "main.tf").write_text(network_tf, encoding="utf-8")
        (out / "plan.json").write_text(json.dumps(build(bypass), indent=2) + "\n",
                                       encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
