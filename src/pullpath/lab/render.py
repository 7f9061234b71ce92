"""Render a scenario into ARM deployment templates (pure: no I/O, no Azure SDK).

A lab is deployed in two steps so that the test image exists before any consumer starts:

1. ``base``: Log Analytics workspace, registry (+ diagnostic setting ``allLogs`` to the
   workspace), VNet and subnets, one user-assigned identity per consumer with ``AcrPull`` on
   the registry, private endpoint + ``privatelink.azurecr.io`` zone + VNet link + DNS zone
   group, and the Container Apps environment, when the scenario has them;
2. the image import (``registries.begin_import_image``, an ARM call: see :mod:`.deploying`).
   Importing into a registry whose public access is disabled needs its trusted-services
   bypass, so a scenario that wants the bypass off gets a registry with it on in ``base``;
3. ``consumers``: the registry again with its final network settings (only when the bypass
   must be switched off after the import), then the ACI container groups and Container Apps
   that pull the image.

Each consumer has an identity of its own so that the registry log's ``Identity`` tells the
consumers apart: with one shared identity, a pull from a Microsoft address could be either
consumer's.

Every name carries the run ID (a random suffix); every resource type that supports tags is
tagged ``pullpath-lab: <run-id>`` and ``created-by: pullpath``. Role assignments, diagnostic
settings and DNS zone groups cannot carry tags; they live in or on the tagged resource group's
resources and go with it.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pullpath.core.iac.armexpr import ArmContext, EvaluatedResource, evaluate, evaluate_template
from pullpath.core.iac.platform import runtime_properties, with_platform_effects
from pullpath.domain.iac import PLACEHOLDER_SUBSCRIPTION
from pullpath.domain.resource_id import name_of, type_of
from pullpath.lab.scenarios import ConsumerSpec, Scenario

__all__ = [
    "ACR_PULL_ROLE_ID",
    "API_VERSIONS",
    "LAB_TAG",
    "PLACEHOLDER_SUBSCRIPTION",
    "LabNames",
    "RenderedLab",
    "lab_names",
    "new_run_id",
    "render",
    "would_be_resources",
]

LAB_TAG = "pullpath-lab"
"""The tag every lab resource group and resource carries, with the run ID as its value."""
CREATED_BY_TAG = ("created-by", "pullpath")
SCENARIO_TAG = "pullpath-scenario"
ACR_PULL_ROLE_ID = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
"""Built-in role AcrPull."""
PRIVATE_DNS_ZONE = "privatelink.azurecr.io"
TEMPLATE_SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
CONTAINER_PORT = 80

API_VERSIONS: dict[str, str] = {
    # Each is the api-version of the installed SDK's models for that type (tests check it by
    # deserialising the rendered resources into those models), except diagnostic settings.
    "Microsoft.OperationalInsights/workspaces": "2025-07-01",  # azure-mgmt-loganalytics 14.0
    "Microsoft.ContainerRegistry/registries": "2025-11-01",  # azure-mgmt-containerregistry 15.0
    # azure-mgmt-monitor 7.0.0 dropped diagnostic settings (Azure/azure-sdk-for-python#42425);
    # 2021-05-01-preview is the newest published version (azure-rest-api-specs examples).
    "Microsoft.Insights/diagnosticSettings": "2021-05-01-preview",
    "Microsoft.ManagedIdentity/userAssignedIdentities": "2024-11-30",  # azure-mgmt-msi 7.1
    "Microsoft.Authorization/roleAssignments": "2022-04-01",  # azure-mgmt-authorization 4.0
    "Microsoft.Network/virtualNetworks": "2026-03-01",  # azure-mgmt-network 33.1
    "Microsoft.Network/privateEndpoints": "2026-03-01",
    "Microsoft.Network/privateEndpoints/privateDnsZoneGroups": "2026-03-01",
    "Microsoft.Network/privateDnsZones": "2024-06-01",  # azure-mgmt-privatedns 2.0
    "Microsoft.Network/privateDnsZones/virtualNetworkLinks": "2024-06-01",
    "Microsoft.App/managedEnvironments": "2026-07-01",  # azure-mgmt-appcontainers 5.1
    "Microsoft.App/containerApps": "2026-07-01",
    # azure-mgmt-containerinstance 10.1 models are 2023-05-01 (newer service versions exist).
    "Microsoft.ContainerInstance/containerGroups": "2023-05-01",
}


def new_run_id() -> str:
    """8 random lower-case letters and digits, starting with a letter (names need that)."""
    alphabet = string.ascii_lowercase + string.digits
    return secrets.choice(string.ascii_lowercase) + "".join(
        secrets.choice(alphabet) for _ in range(7)
    )


def valid_run_id(run_id: str) -> bool:
    return (len(run_id) == 8 and run_id.isalnum() and run_id.islower() and run_id.isascii()
            and run_id[0].isalpha())


@dataclass(frozen=True, slots=True)
class LabNames:
    """Every name in one lab run; all carry the run ID."""

    run_id: str
    resource_group: str
    registry: str
    workspace: str
    vnet: str
    identities: tuple[tuple[str, str], ...]
    """(consumer key, user-assigned identity name)."""
    private_endpoint: str
    environment: str
    consumers: tuple[tuple[str, str], ...]
    """(consumer key, resource name)."""
    base_deployment: str
    consumers_deployment: str
    diagnostic_setting: str = "pullpath-lab"

    def consumer(self, key: str) -> str:
        return dict(self.consumers)[key]

    def identity(self, key: str) -> str:
        return dict(self.identities)[key]


def lab_names(scenario: Scenario, run_id: str) -> LabNames:
    if not valid_run_id(run_id):
        raise ValueError(f"run ID {run_id!r} must be 8 lower-case letters/digits starting with "
                         "a letter")
    consumers = tuple(
        (c.key, f"{'ci' if c.kind == 'aci' else 'ca'}-{c.key}-{run_id}") for c in scenario.consumers
    )
    return LabNames(
        run_id=run_id,
        resource_group=f"rg-pullpath-lab-{run_id}",
        registry=f"pplab{run_id}",
        workspace=f"log-pplab-{run_id}",
        vnet=f"vnet-pplab-{run_id}",
        identities=tuple((c.key, f"id-pplab-{run_id}-{c.key}") for c in scenario.consumers),
        private_endpoint=f"pe-pplab-{run_id}",
        environment=f"cae-pplab-{run_id}",
        consumers=consumers,
        base_deployment=f"pullpath-lab-base-{run_id}",
        consumers_deployment=f"pullpath-lab-consumers-{run_id}",
    )


@dataclass(frozen=True)
class RenderedLab:
    scenario: Scenario
    names: LabNames
    location: str
    base_template: dict[str, Any]
    consumers_template: dict[str, Any]

    def base_parameters(self) -> dict[str, Any]:
        """Parameter values of the base deployment."""
        n = self.names
        values: dict[str, Any] = {
            "location": self.location,
            "runId": n.run_id,
            "scenario": self.scenario.ident,
            "registryName": n.registry,
            "workspaceName": n.workspace,
            "vnetName": n.vnet,
        }
        for key, name in n.identities:
            values[f"{key}IdentityName"] = name
        if self.scenario.registry.private_endpoint_subnet:
            values["privateEndpointName"] = n.private_endpoint
        if _has_aca(self.scenario):
            values["environmentName"] = n.environment
        return values

    def consumers_parameters(self, registry_login_server: str) -> dict[str, Any]:
        """Parameter values of the consumers deployment (the login server is an output of the
        base deployment)."""
        n = self.names
        values: dict[str, Any] = {
            "location": self.location,
            "runId": n.run_id,
            "scenario": self.scenario.ident,
            "registryLoginServer": registry_login_server,
            "image": self.scenario.image.target,
        }
        if switches_bypass_after_import(self.scenario):
            values["registryName"] = n.registry
        if any(c.kind == "aci" and c.subnet for c in self.scenario.consumers):
            values["vnetName"] = n.vnet
        for key, name in n.identities:
            values[f"{key}IdentityName"] = name
        if _has_aca(self.scenario):
            values["environmentName"] = n.environment
        for key, name in n.consumers:
            values[f"{key}Name"] = name
        return values

    @staticmethod
    def as_arm_parameters(values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """``{"name": {"value": v}}``: the deployment request's parameters shape."""
        return {k: {"value": v} for k, v in values.items()}


def switches_bypass_after_import(s: Scenario) -> bool:
    """True when the registry must be created with the trusted-services bypass for the image
    import and switched to ``None`` before the consumers exist: importing into a registry whose
    public access is disabled is itself a trusted-service operation."""
    return s.registry.public_network_access == "Disabled" and not s.registry.trusted_services


def _has_aca(s: Scenario) -> bool:
    return any(c.kind == "aca" for c in s.consumers)


# ------------------------------------------------------------------------------ helpers


def _param(name: str) -> str:
    return f"[parameters('{name}')]"


def _rid(rtype: str, *name_exprs: str) -> str:
    """``resourceId('type', a, b)`` where each name is an ARM expression body or 'literal'."""
    return f"[resourceId('{rtype}', {', '.join(name_exprs)})]"


def _p(name: str) -> str:
    return f"parameters('{name}')"


REGISTRY_ID = _rid("Microsoft.ContainerRegistry/registries", _p("registryName"))
WORKSPACE_ID = _rid("Microsoft.OperationalInsights/workspaces", _p("workspaceName"))
VNET_ID = _rid("Microsoft.Network/virtualNetworks", _p("vnetName"))
PE_ID = _rid("Microsoft.Network/privateEndpoints", _p("privateEndpointName"))
ZONE_ID = _rid("Microsoft.Network/privateDnsZones", f"'{PRIVATE_DNS_ZONE}'")
ENV_ID = _rid("Microsoft.App/managedEnvironments", _p("environmentName"))
REGISTRY_SCOPE = ("[format('Microsoft.ContainerRegistry/registries/{0}', "
                  "parameters('registryName'))]")


def _identity_id(key: str) -> str:
    return _rid("Microsoft.ManagedIdentity/userAssignedIdentities", _p(f"{key}IdentityName"))


def _role_assignment_name(key: str) -> str:
    return f"guid({REGISTRY_ID[1:-1]}, {_identity_id(key)[1:-1]}, '{ACR_PULL_ROLE_ID}')"


def _subnet_id(subnet: str) -> str:
    return _rid("Microsoft.Network/virtualNetworks/subnets", _p("vnetName"), f"'{subnet}'")


def _string_param(description: str) -> dict[str, Any]:
    return {"type": "string", "metadata": {"description": description}}


def _resource(rtype: str, name: str, **fields: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": rtype, "apiVersion": API_VERSIONS[rtype], "name": name}
    out.update(fields)
    return out


def _tags() -> dict[str, Any]:
    """Every taggable resource's tags: an object (deploymentTemplate.json's resourceBase wants
    ``tags`` to be one, so not a ``[variables('tags')]`` expression)."""
    return {
        LAB_TAG: _param("runId"),
        CREATED_BY_TAG[0]: CREATED_BY_TAG[1],
        SCENARIO_TAG: _param("scenario"),
    }


LOCATION = _param("location")


# ------------------------------------------------------------------------------ templates


def render(scenario: Scenario, names: LabNames, location: str) -> RenderedLab:
    return RenderedLab(scenario, names, location, _base_template(scenario),
                       _consumers_template(scenario))


def _common_parameters() -> dict[str, Any]:
    return {
        "location": _string_param("Azure region of every lab resource."),
        "runId": _string_param("The lab run ID: the value of every pullpath-lab tag."),
        "scenario": _string_param("The lab scenario's name (pullpath-scenario tag)."),
    }


def _registry(s: Scenario, *, bypass: bool) -> dict[str, Any]:
    reg = s.registry
    return _resource(
        "Microsoft.ContainerRegistry/registries", _param("registryName"),
        location=LOCATION, tags=_tags(), sku={"name": reg.sku},
        properties={
            "adminUserEnabled": False,
            "anonymousPullEnabled": False,
            "publicNetworkAccess": reg.public_network_access,
            "networkRuleBypassOptions": "AzureServices" if bypass else "None",
            "networkRuleSet": {
                "defaultAction": "Deny" if reg.public_network_access == "Disabled" else "Allow",
                "ipRules": [],
            },
            "dataEndpointEnabled": False,
        },
    )


def _base_template(s: Scenario) -> dict[str, Any]:
    params = _common_parameters()
    params.update({
        "registryName": _string_param("Registry name (5-50 letters and digits)."),
        "workspaceName": _string_param("Log Analytics workspace receiving the registry's logs."),
        "vnetName": _string_param("Virtual network of the consumers."),
    })
    resources: list[dict[str, Any]] = []
    outputs: dict[str, Any] = {
        "registryId": {"type": "string", "value": REGISTRY_ID},
        "registryLoginServer": {"type": "string",
                                "value": f"[reference({REGISTRY_ID[1:-1]}).loginServer]"},
        "workspaceCustomerId": {"type": "string",
                                "value": f"[reference({WORKSPACE_ID[1:-1]}).customerId]"},
    }
    resources.append(_resource(
        "Microsoft.OperationalInsights/workspaces", _param("workspaceName"),
        location=LOCATION, tags=_tags(),
        properties={"sku": {"name": "PerGB2018"}, "retentionInDays": 30},
    ))
    reg = s.registry
    # the import needs the bypass while public access is disabled: see the module docstring
    resources.append(_registry(s, bypass=reg.trusted_services or switches_bypass_after_import(s)))
    resources.append(_resource(
        "Microsoft.Insights/diagnosticSettings", "pullpath-lab",
        scope=REGISTRY_SCOPE,
        properties={
            "workspaceId": WORKSPACE_ID,
            "logs": [{"categoryGroup": "allLogs", "enabled": True}],
        },
        dependsOn=[REGISTRY_ID, WORKSPACE_ID],
    ))
    subnets: list[dict[str, Any]] = []
    for sub in s.subnets:
        props: dict[str, Any] = {"addressPrefix": sub.prefix}
        if sub.delegation:
            props["delegations"] = [{"name": "delegation",
                                     "properties": {"serviceName": sub.delegation}}]
        if sub.name == reg.private_endpoint_subnet:
            props["privateEndpointNetworkPolicies"] = "Disabled"
        subnets.append({"name": sub.name, "properties": props})
    resources.append(_resource(
        "Microsoft.Network/virtualNetworks", _param("vnetName"),
        location=LOCATION, tags=_tags(),
        properties={"addressSpace": {"addressPrefixes": [s.vnet_prefix]}, "subnets": subnets},
    ))
    for c in s.consumers:
        params[f"{c.key}IdentityName"] = _string_param(
            f"User-assigned identity consumer {c.key} pulls with.")
        identity_id = _identity_id(c.key)
        resources.append(_resource(
            "Microsoft.ManagedIdentity/userAssignedIdentities", _param(f"{c.key}IdentityName"),
            location=LOCATION, tags=_tags(), properties={},  # the deployment schema requires it
        ))
        resources.append(_resource(
            "Microsoft.Authorization/roleAssignments", f"[{_role_assignment_name(c.key)}]",
            scope=REGISTRY_SCOPE,
            properties={
                "roleDefinitionId": "[subscriptionResourceId('Microsoft.Authorization/"
                                    f"roleDefinitions', '{ACR_PULL_ROLE_ID}')]",
                "principalId": f"[reference({identity_id[1:-1]}).principalId]",
                "principalType": "ServicePrincipal",
            },
            dependsOn=[REGISTRY_ID, identity_id],
        ))
        outputs[f"{c.key}RoleAssignmentId"] = {
            "type": "string",
            "value": f"[extensionResourceId({REGISTRY_ID[1:-1]}, "
                     f"'Microsoft.Authorization/roleAssignments', {_role_assignment_name(c.key)})]"}
    if reg.private_endpoint_subnet:
        params["privateEndpointName"] = _string_param("The registry's private endpoint.")
        resources.append(_resource(
            "Microsoft.Network/privateEndpoints", _param("privateEndpointName"),
            location=LOCATION, tags=_tags(),
            properties={
                "subnet": {"id": _subnet_id(reg.private_endpoint_subnet)},
                "privateLinkServiceConnections": [{
                    "name": "registry",
                    "properties": {"privateLinkServiceId": REGISTRY_ID, "groupIds": ["registry"]},
                }],
            },
            dependsOn=[VNET_ID, REGISTRY_ID],
        ))
        resources.append(_resource(
            "Microsoft.Network/privateDnsZones", PRIVATE_DNS_ZONE,
            location="global", tags=_tags(), properties={},  # the deployment schema requires it
        ))
        resources.append(_resource(
            "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
            f"[format('{{0}}/{{1}}', '{PRIVATE_DNS_ZONE}', parameters('vnetName'))]",
            location="global", tags=_tags(),
            properties={"registrationEnabled": False, "virtualNetwork": {"id": VNET_ID}},
            dependsOn=[ZONE_ID, VNET_ID],
        ))
        resources.append(_resource(
            "Microsoft.Network/privateEndpoints/privateDnsZoneGroups",
            "[format('{0}/{1}', parameters('privateEndpointName'), 'default')]",
            properties={"privateDnsZoneConfigs": [{
                # the zone group writes the A records <registry> and <registry>.<region>.data
                "name": "privatelink-azurecr-io",
                "properties": {"privateDnsZoneId": ZONE_ID},
            }]},
            dependsOn=[PE_ID, ZONE_ID],
        ))
    aca = [c for c in s.consumers if c.kind == "aca"]
    if aca:
        params["environmentName"] = _string_param("Container Apps environment (custom VNet).")
        resources.append(_resource(
            "Microsoft.App/managedEnvironments", _param("environmentName"),
            location=LOCATION, tags=_tags(),
            properties={
                "vnetConfiguration": {"infrastructureSubnetId": _subnet_id(aca[0].subnet),
                                      "internal": False},
                "workloadProfiles": [{"name": "Consumption",
                                      "workloadProfileType": "Consumption"}],
                "zoneRedundant": False,
            },
            dependsOn=[VNET_ID],
        ))
    return {
        "$schema": TEMPLATE_SCHEMA,
        "contentVersion": "1.0.0.0",
        "metadata": {"pullpath": {"scenario": s.ident, "step": "base"}},
        "parameters": params,
        "resources": resources,
        "outputs": outputs,
    }


def _consumers_template(s: Scenario) -> dict[str, Any]:
    params = _common_parameters()
    params.update({
        "registryLoginServer": _string_param("Login server of the lab registry."),
        "image": _string_param("repository:tag of the imported test image."),
    })
    resources: list[dict[str, Any]] = []
    after: list[str] = []
    if switches_bypass_after_import(s):
        # the image is in: switch the bypass off before any consumer exists
        params["registryName"] = _string_param("Registry name (its final network settings).")
        resources.append(_registry(s, bypass=False))
        after = [REGISTRY_ID]
    if any(c.kind == "aci" and c.subnet for c in s.consumers):
        params["vnetName"] = _string_param("Virtual network of the container groups.")
    if _has_aca(s):
        params["environmentName"] = _string_param("Container Apps environment.")
    outputs: dict[str, Any] = {}
    for c in s.consumers:
        params[f"{c.key}IdentityName"] = _string_param(
            f"User-assigned identity consumer {c.key} pulls with.")
        params[f"{c.key}Name"] = _string_param(f"Name of consumer {c.key}.")
        resource = _aci(c) if c.kind == "aci" else _aca(c)
        if after:
            resource["dependsOn"] = list(after)
        resources.append(resource)
        outputs[f"{c.key}Id"] = {"type": "string",
                                 "value": _rid(resource["type"], _p(f"{c.key}Name"))}
    return {
        "$schema": TEMPLATE_SCHEMA,
        "contentVersion": "1.0.0.0",
        "metadata": {"pullpath": {"scenario": s.ident, "step": "consumers"}},
        "parameters": params,
        "resources": resources,
        "outputs": outputs,
    }


IMAGE = "[format('{0}/{1}', parameters('registryLoginServer'), parameters('image'))]"


def _aci(c: ConsumerSpec) -> dict[str, Any]:
    """The report's ``az container create --acr-identity $USERID --assign-identity $USERID
    [--vnet $VNET --subnet $SUBNET] --os-type Linux --cpu 1 --memory 2``."""
    identity_id = _identity_id(c.key)
    props: dict[str, Any] = {
        "osType": "Linux",
        "sku": "Standard",
        "restartPolicy": "Always",
        "containers": [{
            "name": "pull",
            "properties": {
                "image": IMAGE,
                "resources": {"requests": {"cpu": c.cpu, "memoryInGB": float(c.memory)}},
                "ports": [{"port": CONTAINER_PORT, "protocol": "TCP"}],
            },
        }],
        "imageRegistryCredentials": [{"server": _param("registryLoginServer"),
                                      "identity": identity_id}],
    }
    if c.subnet:
        props["subnetIds"] = [{"id": _subnet_id(c.subnet)}]
        props["ipAddress"] = {"type": "Private",
                              "ports": [{"port": CONTAINER_PORT, "protocol": "TCP"}]}
    return _resource(
        "Microsoft.ContainerInstance/containerGroups", _param(f"{c.key}Name"),
        location=LOCATION, tags=_tags(),
        identity={"type": "UserAssigned", "userAssignedIdentities": {identity_id: {}}},
        properties=props,
    )


def _aca(c: ConsumerSpec) -> dict[str, Any]:
    identity_id = _identity_id(c.key)
    return _resource(
        "Microsoft.App/containerApps", _param(f"{c.key}Name"),
        location=LOCATION, tags=_tags(),
        identity={"type": "UserAssigned", "userAssignedIdentities": {identity_id: {}}},
        properties={
            "environmentId": ENV_ID,
            "workloadProfileName": "Consumption",
            "configuration": {
                "activeRevisionsMode": "Single",
                "registries": [{"server": _param("registryLoginServer"),
                                "identity": identity_id}],
            },
            "template": {
                "containers": [{
                    "name": "pull",
                    "image": IMAGE,
                    "resources": {"cpu": f"[json('{c.cpu}')]", "memory": c.memory},
                }],
                "scale": {"minReplicas": 1, "maxReplicas": 1},
            },
        },
    )


# ------------------------------------------------------------------------------ would-be


def would_be_resources(
    lab: RenderedLab, *, subscription: str = PLACEHOLDER_SUBSCRIPTION,
) -> tuple[list[EvaluatedResource], list[EvaluatedResource], dict[str, Any]]:
    """(base resources, consumer resources, base outputs) as ARM would create them, with
    the platform's stand-ins for what only Azure knows (principal IDs, the workspace's
    customer ID: :func:`pullpath.core.iac.platform.runtime_properties`)."""
    n = lab.names

    def reference(rid: str) -> Mapping[str, Any]:
        found = runtime_properties(type_of(rid), name_of(rid))
        if not found:
            raise KeyError(f"no runtime properties known for {rid}")
        return found

    base_ctx = ArmContext(subscription, n.resource_group, lab.location,
                          lab.base_parameters(), reference=reference)
    base = evaluate_template(lab.base_template, base_ctx)
    outputs = {k: evaluate(v["value"], base_ctx)
               for k, v in lab.base_template.get("outputs", {}).items()}
    cons_ctx = ArmContext(subscription, n.resource_group, lab.location,
                          lab.consumers_parameters(outputs["registryLoginServer"]),
                          reference=reference)
    consumers = evaluate_template(lab.consumers_template, cons_ctx)
    return base, consumers, outputs


def would_be_inventory_documents(
    lab: RenderedLab, *, subscription: str = PLACEHOLDER_SUBSCRIPTION,
) -> list[dict[str, Any]]:
    """The lab's resources in the ARM REST shape (``id``, ``type``, ``name``, ``properties``),
    with what the platform adds on creation (:func:`pullpath.core.iac.platform.
    with_platform_effects`: the registry's login server, the approved connection of its
    private endpoint, the zone group's A records, identities' principal and client IDs).
    Input for the would-be inventory that explain predicts from."""
    base, consumers, _ = would_be_resources(lab, subscription=subscription)
    # a resource the consumers step deploys again (the registry with its final network
    # settings) ends in that state: the later declaration wins
    final = {r.id.lower(): r for r in (*base, *consumers)}
    docs, _notes = with_platform_effects(list(final.values()))
    return docs


def consumer_type(c: ConsumerSpec) -> str:
    return ("Microsoft.ContainerInstance/containerGroups" if c.kind == "aci"
            else "Microsoft.App/containerApps")
