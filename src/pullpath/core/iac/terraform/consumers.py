"""Consumer resources (what pulls images) -> ARM resource JSON: container groups, container apps
and their environments, AKS clusters and node pools, Linux and Windows web and function apps.
Transforms ``(reader, instance) -> None``: each emits what it reads. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from pullpath.core.iac.terraform.envelope import _envelope, _identity, _put
from pullpath.core.iac.terraform.plan import (
    _LOGIN_SERVER,
    _SUBNET,
    _UAI,
    _Instance,
    _is_id,
    _same_attr,
    _Unknown,
)
from pullpath.core.iac.terraform.reader import _Reader
from pullpath.domain.iac import is_unknown_value, unknown_value
from pullpath.domain.inventory import norm_id

_CONSUMER_KINDS: Final = {
    "azurerm_linux_web_app": ("app", "linux"),
    "azurerm_windows_web_app": ("app", "windows"),
    "azurerm_linux_function_app": ("functionapp", "linux"),
    "azurerm_windows_function_app": ("functionapp", "windows"),
}
"""azurerm app type -> (ARM ``kind`` start, OS); ``container`` is added when it runs one."""

_WEB_SETTINGS: Final = ("WEBSITE_PULL_IMAGE_OVER_VNET", "DOCKER_REGISTRY_SERVER_URL",
                        "DOCKER_REGISTRY_SERVER_USERNAME")
"""The only app settings carried over (no secret is ever copied)."""


def _container_group(r: _Reader, inst: _Instance) -> None:
    res = _envelope(r, inst)
    _put(res, "identity", _identity(r, inst))
    props: dict[str, Any] = {}
    _put(props, "osType", r.text(inst, "os_type"))
    _put(props, "sku", r.text(inst, "sku"))
    ip: dict[str, Any] = {}
    _put(ip, "type", r.text(inst, "ip_address_type"))
    address = r.raw(inst, "ip_address")
    if isinstance(address, str) and address:
        ip["ip"] = address
    if ip:
        props["ipAddress"] = ip
    if r.raw(inst, "subnet_ids") is not None:
        props["subnetIds"] = [{"id": s} for s in r.links_of(inst, "subnet_ids", _SUBNET)]
    for key, attr in (("containers", "container"), ("initContainers", "init_container")):
        items = [{"name": r.text(inst, f"{b}.name") or "",
                  "properties": {k: v for k, v in (("image", r.text(inst, f"{b}.image")),)
                                 if v is not None}}
                 for b in r.blocks(inst, attr)]
        if items:
            props[key] = items
    creds = []
    for b in r.blocks(inst, "image_registry_credential"):
        cred: dict[str, Any] = {}
        _put(cred, "server", r.text(inst, f"{b}.server", _LOGIN_SERVER))
        _put(cred, "identity", r.link(inst, f"{b}.user_assigned_identity_id", _UAI))
        _put(cred, "username", r.text(inst, f"{b}.username"))
        creds.append(cred)
    if creds or isinstance(r.raw(inst, "image_registry_credential"), list):
        props["imageRegistryCredentials"] = creds
    res["properties"] = props
    r.emit(inst, res)


def _environment(r: _Reader, inst: _Instance) -> None:
    res = _envelope(r, inst)
    props: dict[str, Any] = {}
    subnet = r.link(inst, "infrastructure_subnet_id", _SUBNET)
    if subnet is not None:
        vnet: dict[str, Any] = {"infrastructureSubnetId": subnet}
        _put(vnet, "internal", r.flag(inst, "internal_load_balancer_enabled"))
        props["vnetConfiguration"] = vnet
    profiles = r.raw(inst, "workload_profile")
    if isinstance(profiles, list):
        # none given: a Consumption-only environment (azurerm container_app_environment docs)
        props["workloadProfiles"] = [
            {k: v for k, v in (("name", r.text(inst, f"{b}.name")),
                               ("workloadProfileType", r.text(inst, f"{b}.workload_profile_type")))
             if v is not None}
            for b in r.blocks(inst, "workload_profile")]
    _put(props, "staticIp", _known(r.raw(inst, "static_ip_address")))
    res["properties"] = props
    r.emit(inst, res)


def _known(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _container_app(r: _Reader, inst: _Instance) -> None:
    res = _envelope(r, inst, location=False)
    env = r.target(inst, "container_app_environment_id", _is_id)
    location = r.raw(inst, "location")
    if isinstance(location, str) and location:
        res["location"] = location
    elif env is not None:  # "the same as the Environment in which it is deployed"
        _put(res, "location", _known(r.raw(env, "location")))
    _put(res, "identity", _identity(r, inst))
    props: dict[str, Any] = {}
    _put(props, "managedEnvironmentId", r.link(inst, "container_app_environment_id",
                                                 "microsoft.app/managedenvironments"))
    _put(props, "workloadProfileName", r.text(inst, "workload_profile_name"))
    registries = []
    for b in r.blocks(inst, "registry"):
        reg: dict[str, Any] = {}
        _put(reg, "server", r.text(inst, f"{b}.server", _LOGIN_SERVER))
        identity = r.raw(inst, f"{b}.identity")
        if isinstance(identity, str) and identity.lower() == "system":
            reg["identity"] = "system"
        else:
            _put(reg, "identity", r.link(inst, f"{b}.identity", _UAI))
        _put(reg, "username", r.text(inst, f"{b}.username"))
        registries.append(reg)
    props["configuration"] = {"registries": registries}
    template: dict[str, Any] = {}
    for t in r.blocks(inst, "template")[:1]:
        for key, attr in (("containers", "container"), ("initContainers", "init_container")):
            items = [{k: v for k, v in (("name", r.text(inst, f"{b}.name")),
                                        ("image", r.text(inst, f"{b}.image"))) if v is not None}
                     for b in r.blocks(inst, f"{t}.{attr}")]
            if items:
                template[key] = items
    props["template"] = template
    res["properties"] = props
    r.emit(inst, res)


def _cluster(r: _Reader, inst: _Instance) -> None:
    res = _envelope(r, inst)
    _put(res, "identity", _identity(r, inst))
    props: dict[str, Any] = {}
    pools = []
    for b in r.blocks(inst, "default_node_pool"):
        pool: dict[str, Any] = {"name": r.text(inst, f"{b}.name") or ""}
        _put(pool, "vnetSubnetID", r.link(inst, f"{b}.vnet_subnet_id", _SUBNET))
        _put(pool, "podSubnetID", r.link(inst, f"{b}.pod_subnet_id", _SUBNET))
        pools.append(pool)
    props["agentPoolProfiles"] = pools
    for b in r.blocks(inst, "network_profile")[:1]:
        net: dict[str, Any] = {}
        _put(net, "outboundType", r.text(inst, f"{b}.outbound_type"))
        props["networkProfile"] = net
    for b in r.blocks(inst, "kubelet_identity")[:1]:
        kubelet: dict[str, Any] = {}
        _put(kubelet, "resourceId", r.link(inst, f"{b}.user_assigned_identity_id", _UAI))
        _put(kubelet, "clientId", r.text(inst, f"{b}.client_id"))
        _put(kubelet, "objectId", r.text(inst, f"{b}.object_id"))
        props["identityProfile"] = {"kubeletidentity": kubelet}
    connector = r.raw(inst, "aci_connector_linux")
    if isinstance(connector, list):
        props["addonProfiles"] = {"aciConnectorLinux": {"enabled": bool(connector)}}
    for b in r.blocks(inst, "service_principal")[:1]:
        _put(props.setdefault("servicePrincipalProfile", {}), "clientId",
             r.text(inst, f"{b}.client_id"))
    res["properties"] = props
    r.emit(inst, res)


def _node_pool(r: _Reader, inst: _Instance) -> None:
    res = _envelope(r, inst, location=False)
    props: dict[str, Any] = {}
    _put(props, "vnetSubnetID", r.link(inst, "vnet_subnet_id", _SUBNET))
    _put(props, "podSubnetID", r.link(inst, "pod_subnet_id", _SUBNET))
    res["properties"] = props
    r.emit(inst, res)


def _host(url: str) -> str:
    return re.sub(r"^https?://", "", url.strip(), flags=re.IGNORECASE).rstrip("/")


def _web_image(r: _Reader, inst: _Instance, stack: str) -> str | None:
    """``DOCKER|<host>/<image>`` from ``application_stack`` (web apps: docker_image_name and
    docker_registry_url; Linux function apps: a ``docker`` block)."""
    if inst.addr.type == "azurerm_linux_function_app":
        for d in r.blocks(inst, f"{stack}.docker")[:1]:
            url = r.text(inst, f"{d}.registry_url", _LOGIN_SERVER)
            image = r.text(inst, f"{d}.image_name")
            tag = r.text(inst, f"{d}.image_tag")
            if url is None or image is None:
                return None
            if any(is_unknown_value(v) for v in (url, image, tag or "")):
                return unknown_value(f"known after apply: {inst.address}.{d}")
            return f"DOCKER|{_host(url)}/{image}{':' + tag if tag else ''}"
        return None
    image = r.text(inst, f"{stack}.docker_image_name")
    url = r.text(inst, f"{stack}.docker_registry_url", _LOGIN_SERVER)
    if image is None:
        return None
    if is_unknown_value(image) or (url is not None and is_unknown_value(url)):
        return unknown_value(f"known after apply: {inst.address}.{stack}")
    return f"DOCKER|{_host(url)}/{image}" if url else f"DOCKER|{image}"


def _web_app(r: _Reader, inst: _Instance) -> None:
    res = _envelope(r, inst)
    kind, os_name = _CONSUMER_KINDS[inst.addr.type]
    _put(res, "identity", _identity(r, inst))
    props: dict[str, Any] = {}
    site: dict[str, Any] = {}
    for b in r.blocks(inst, "site_config")[:1]:
        for s in r.blocks(inst, f"{b}.application_stack")[:1]:
            _put(site, "linuxFxVersion" if os_name == "linux" else "windowsFxVersion",
                 _web_image(r, inst, s))
        use_mi = r.flag(inst, f"{b}.container_registry_use_managed_identity")
        client = r.raw(inst, f"{b}.container_registry_managed_identity_client_id")
        if isinstance(client, str) and client:
            site["acrUserManagedIdentityID"] = client
        elif isinstance(client, _Unknown):
            target = r.target(inst, f"{b}.container_registry_managed_identity_client_id",
                              _same_attr("client_id"))
            if target is not None and target.addr.type == "azurerm_user_assigned_identity":
                # the identity's resource ID names it as well as its client ID would
                site["acrUserManagedIdentityID"] = r.id_of(target)
                r.links.add(norm_id(r.id_of(target)))
            else:
                use_mi = r.note_unknown(inst, f"{b}.container_registry_managed_identity_client_id",
                                        " (which identity pulls is unknown)")
        _put(site, "acrUseManagedIdentityCreds", use_mi)
    settings = r.raw(inst, "app_settings")
    if isinstance(settings, Mapping):
        site["appSettings"] = [{"name": k, "value": v} for k, v in settings.items()
                               if isinstance(k, str) and k.upper() in _WEB_SETTINGS
                               and isinstance(v, str)]
    props["siteConfig"] = site
    container = ",container" if site.get("linuxFxVersion") or site.get("windowsFxVersion") else ""
    res["kind"] = f"{kind}{',linux' if os_name == 'linux' else ''}{container}" + (
        ",windows" if os_name == "windows" and container else "")
    _put(props, "virtualNetworkSubnetId", r.link(inst, "virtual_network_subnet_id", _SUBNET))
    _put(props, "vnetImagePullEnabled", r.flag(inst, "vnet_image_pull_enabled"))
    res["properties"] = props
    r.emit(inst, res)
