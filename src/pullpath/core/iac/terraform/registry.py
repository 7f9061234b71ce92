"""Registry resources -> ARM resource JSON: ``azurerm_container_registry`` (its network rules,
login server, the private endpoint connections the plan's endpoints make, and one resource per
geo-replication). A transform ``(reader, instance) -> None``: it emits what it reads. Pure.
"""

from __future__ import annotations

from typing import Any

from pullpath.core.iac.terraform.envelope import _envelope, _identity, _put
from pullpath.core.iac.terraform.plan import _Instance
from pullpath.core.iac.terraform.reader import _Reader
from pullpath.domain.iac import is_unknown_value
from pullpath.domain.inventory import norm_id


def _registry(r: _Reader, inst: _Instance) -> None:
    res = _envelope(r, inst)
    sku = r.text(inst, "sku")
    if sku is not None:
        res["sku"] = {"name": sku}
    _put(res, "identity", _identity(r, inst))
    props: dict[str, Any] = {}
    _put(props, "adminUserEnabled", r.flag(inst, "admin_enabled"))
    _put(props, "anonymousPullEnabled", r.flag(inst, "anonymous_pull_enabled"))
    _put(props, "dataEndpointEnabled", r.flag(inst, "data_endpoint_enabled"))
    public = r.flag(inst, "public_network_access_enabled")
    if isinstance(public, bool):
        props["publicNetworkAccess"] = "Enabled" if public else "Disabled"
    else:
        _put(props, "publicNetworkAccess", public)
    _put(props, "networkRuleBypassOptions", r.text(inst, "network_rule_bypass_option"))
    _put(props, "networkRuleBypassAllowedForTasks",
         r.flag(inst, "network_rule_bypass_allowed_for_tasks"))
    for b in r.blocks(inst, "network_rule_set")[:1]:
        rules: dict[str, Any] = {}
        _put(rules, "defaultAction", r.text(inst, f"{b}.default_action"))
        rules["ipRules"] = [
            {k: v for k, v in (("action", r.text(inst, f"{ip}.action")),
                               ("value", r.text(inst, f"{ip}.ip_range"))) if v is not None}
            for ip in r.blocks(inst, f"{b}.ip_rule")]
        props["networkRuleSet"] = rules
    props["loginServer"] = r.login_server(inst)
    rid = res["id"]
    connections = []
    for pe in r.instances.values():
        if pe.addr.type != "azurerm_private_endpoint":
            continue
        for b in r.blocks(pe, "private_service_connection"):
            target = r.link(pe, f"{b}.private_connection_resource_id")
            if not target or norm_id(target) != norm_id(rid):
                continue
            conn: dict[str, Any] = {"privateEndpoint": {"id": r.id_of(pe)}}
            if r.flag(pe, f"{b}.is_manual_connection") is False:
                conn["privateLinkServiceConnectionState"] = {"status": "Approved"}
                if not pe.existing:
                    line = (f"{pe.address}: its connection to {inst.address} is approved "
                            "automatically (is_manual_connection false): Approved stands in "
                            "for the state Azure sets on creation")
                    if line not in r.unknowns:
                        r.unknowns.append(line)
            connections.append({"id": f"{rid}/privateEndpointConnections/{r.name(pe)}",
                                "properties": conn})
    if connections:
        props["privateEndpointConnections"] = connections
    res["properties"] = props
    r.emit(inst, res)
    for b in r.blocks(inst, "georeplications"):
        location = r.text(inst, f"{b}.location")
        if location and not is_unknown_value(location):
            r.emit(inst, {"id": f"{rid}/replications/{location}",
                          "type": "Microsoft.ContainerRegistry/registries/replications",
                          "name": location, "location": location})
