"""Consumer and network facts: the consumer's kind, VNet, OS, image pull route, AKS egress
and isolation, Container Apps environment; its VNets and outbound public addresses; whether
the registry's IP and virtual network rules cover it and whether a private endpoint of the
registry is in its VNet. Pure.
"""

from __future__ import annotations

import ipaddress

from pullpath.core.explain.identity import _IdentityFacts
from pullpath.domain.explain import FACT_SPECS, Fact, Facts
from pullpath.domain.inventory import Consumer, ConsumerKind, Registry
from pullpath.domain.resource_id import name_of, parent_of


def vnet_of_subnet(subnet_id: str) -> str:
    return parent_of(subnet_id, "subnets")


class _NetworkFacts(_IdentityFacts):
    """The facts of a consumer and of its network path to a registry."""

    def _consumer_facts(self, c: Consumer) -> Facts:
        label = f"{c.kind.noun} {c.name}"
        facts: Facts = {}
        kind = c.kind.value if c.kind is not ConsumerKind.UNKNOWN else None
        facts["consumer.kind"] = Fact(kind, f"{label} is {c.kind.value}")
        in_vnet = c.fact("in_vnet")
        if in_vnet in ("true", "false"):
            subnets = ", ".join(name_of(s) for s in c.subnet_ids if s) or "-"
            why = (f"{label} runs in VNet subnet(s) {subnets}" if in_vnet == "true"
                   else f"{label} is not in a VNet")
            facts["consumer.in_vnet"] = Fact(in_vnet == "true", why)
        else:
            facts["consumer.in_vnet"] = Fact(None, f"whether {label} runs in a VNet is not in "
                                                   "the inventory")
        os_type = (c.fact("os") or "").lower()
        facts["consumer.os"] = (Fact(os_type, f"{label} runs {os_type} containers")
                                if os_type in ("linux", "windows")
                                else Fact(None, f"the container OS of {label} is not in the "
                                                "inventory"))
        if c.kind is ConsumerKind.APP_SERVICE:
            pull = c.fact("vnet_image_pull")
            if pull in ("true", "false"):
                why = (f"{label} routes its image pull over VNet integration" if pull == "true"
                       else f"{label} pulls its image over the public route (vnetImagePullEnabled "
                            "/ outboundVnetRouting.imagePullTraffic / "
                            "WEBSITE_PULL_IMAGE_OVER_VNET not set)")
                facts["consumer.vnet_image_pull"] = Fact(pull == "true", why)
            else:
                facts["consumer.vnet_image_pull"] = Fact(
                    None, f"whether {label} pulls its image over VNet integration is not in the "
                          "inventory")
        else:
            facts["consumer.vnet_image_pull"] = Fact(None, "image pull over VNet applies to App "
                                                           "Service only")
        facts.update(self._kind_facts(c, label))
        private_only = c.kind in (ConsumerKind.ACA, ConsumerKind.AKS, ConsumerKind.APP_SERVICE)
        facts["consumer.private_only"] = Fact(
            private_only if kind else None,
            f"{label} is {'not ' if private_only else ''}an ACR trusted service"
            if kind else f"the kind of {label} is unknown")
        return facts

    def _kind_facts(self, c: Consumer, label: str) -> Facts:
        """Facts that belong to one consumer kind (AKS egress and isolation, ACA environment)."""
        facts: Facts = {}
        if c.kind is ConsumerKind.AKS:
            outbound = (c.fact("outbound_type") or "").lower()
            spec = FACT_SPECS["consumer.outbound_type"]
            facts["consumer.outbound_type"] = (
                Fact(outbound, f"{label} has outbound type {c.fact('outbound_type')}")
                if outbound in spec.values else
                Fact(None, f"the outbound type of {label} is not in the inventory" if not outbound
                     else f"{label} has outbound type {c.fact('outbound_type')}, which pullpath "
                          "does not know"))
            isolated = c.fact("network_isolated")
            facts["consumer.network_isolated"] = (
                Fact(isolated == "true",
                     f"{label} is a network isolated cluster (bootstrap artifact source Cache)"
                     if isolated == "true" else
                     f"{label} pulls its bootstrap images directly (artifact source Direct)")
                if isolated in ("true", "false") else
                Fact(None, f"the bootstrap artifact source of {label} is not in the inventory"))
            virtual = c.fact("virtual_nodes")
            facts["consumer.virtual_nodes"] = (
                Fact(virtual == "true",
                     f"{label} has the virtual nodes add-on enabled (aciConnectorLinux): pods on "
                     "virtual nodes run in Azure Container Instances" if virtual == "true" else
                     f"{label} has the virtual nodes add-on disabled")
                if virtual in ("true", "false") else
                Fact(None, f"whether {label} has virtual nodes is not in the inventory"))
        else:
            facts["consumer.virtual_nodes"] = Fact(None, "virtual nodes apply to AKS only")
            facts["consumer.outbound_type"] = Fact(None, "the outbound type applies to AKS only")
            facts["consumer.network_isolated"] = Fact(None, "network isolation applies to AKS "
                                                            "only")
        env = self.inv.environments.get(c.environment_id) if c.environment_id else None
        kind = env.fact("environment_type") if env is not None else None
        if c.kind is not ConsumerKind.ACA:
            facts["consumer.environment_type"] = Fact(None, "environment types apply to "
                                                            "Container Apps only")
        elif kind in ("workload-profiles", "consumption-only"):
            facts["consumer.environment_type"] = Fact(
                kind, f"{label} runs in {kind} environment {env.name if env else ''}".rstrip())
        else:
            facts["consumer.environment_type"] = Fact(
                None, f"whether the environment of {label} has workload profiles is not in the "
                      "inventory")
        return facts

    def consumer_vnets(self, c: Consumer) -> list[str]:
        out: list[str] = []
        for sid in c.subnet_ids:
            sub = self.inv.subnets.get(sid)
            vnet = sub.vnet_id if sub is not None else vnet_of_subnet(sid)
            if vnet and vnet not in out:
                out.append(vnet)
        return out

    def egress_ips(self, c: Consumer) -> tuple[list[str], str]:
        """The consumer's known outbound public addresses and where they come from."""
        nat_ips: list[str] = []
        nat_unknown = False
        env = self.inv.environments.get(c.environment_id) if c.environment_id else None
        if env is not None and env.fact("environment_type") == "consumption-only":
            # a NAT gateway is used for a Container Apps environment's egress only in a
            # workload profiles environment: a consumption-only one egresses from its own IPs
            public = [ip for ip in c.public_ips if ip]
            return public, "its environment's outbound IP addresses"
        for sid in c.subnet_ids:
            sub = self.inv.subnets.get(sid)
            if sub is None or not sub.nat_gateway_id:
                continue
            nat = self.inv.nat_gateways.get(sub.nat_gateway_id)
            if nat is None:
                nat_unknown = True
                continue
            for pid in nat.public_ip_ids:
                pip = self.inv.public_ips.get(pid)
                if pip is not None and pip.ip_address:
                    nat_ips.append(pip.ip_address)
                else:
                    nat_unknown = True
            if nat.public_ip_prefix_ids:
                nat_unknown = True
        outbound = (c.fact("outbound_type") or "").lower() if c.kind is ConsumerKind.AKS else ""
        if outbound == "userdefinedrouting":
            return [], "the cluster egresses through user-defined routes (firewall address unknown)"
        if outbound == "none":
            return [], "the cluster has outbound type none (egress, if any, set up outside AKS)"
        if outbound == "block":
            return [], "the cluster blocks outbound internet traffic (outbound type block)"
        if nat_ips and not nat_unknown:
            return nat_ips, "its subnet's NAT gateway"
        if nat_unknown:
            return [], "the public IPs of its subnet's NAT gateway are not in the inventory"
        public = [ip for ip in c.public_ips if ip]
        if c.kind is ConsumerKind.ACI:
            public = []  # the image pull does not egress from the group's own address
        return public, "its outbound IP addresses"

    def _pe_in_vnet(self, c: Consumer, reg: Registry) -> Fact:
        if c.fact("in_vnet") == "false":
            return Fact(False, f"{c.name} is not in a VNet, so it cannot reach a private endpoint")
        vnets = self.consumer_vnets(c)
        if not vnets:
            return Fact(None, f"the VNet of {c.name} is not in the inventory")
        approved = self.approved_pes(reg)
        if not approved:
            if not reg.has_config and not self.registry_pes(reg):
                return Fact(None, f"the private endpoints of registry {reg.name} are not in the "
                                  "inventory")
            pending = [p for p, st in self.registry_pes(reg).items() if st.lower() != "approved"]
            extra = f" ({len(pending)} not approved)" if pending else ""
            return Fact(False, f"registry {reg.name} has no approved private endpoint{extra}")
        elsewhere: list[str] = []
        unknown: list[str] = []
        for pid in approved:
            pe = self.inv.private_endpoints.get(pid)
            if pe is None:
                unknown.append(name_of(pid))
                continue
            vnet = vnet_of_subnet(pe.subnet_id)
            if vnet in vnets:
                return Fact(True, f"private endpoint {pe.name} of registry {reg.name} is in VNet "
                                  f"{name_of(vnet)}, where {c.name} runs")
            elsewhere.append(f"{pe.name} in VNet {name_of(vnet)}")
        if unknown:
            return Fact(None, f"private endpoint(s) {', '.join(unknown)} of registry {reg.name} "
                              "are not in the inventory, so where they are is unknown")
        self.note(f"{c.name} runs in VNet {', '.join(name_of(v) for v in vnets)} but the private "
                  f"endpoint(s) of {reg.name} are elsewhere ({'; '.join(elsewhere)}): reachable "
                  "only through VNet peering or routing, which pullpath does not read")
        return Fact(None, f"the private endpoint(s) of registry {reg.name} are in another VNet "
                          f"({'; '.join(elsewhere)}); whether {c.name} reaches them through "
                          "peering is not read")

    def _ip_rule_fact(self, c: Consumer, reg: Registry) -> Fact:
        n = reg.name
        if not reg.has_config:
            return Fact(None, f"the network configuration of registry {n} is not in the inventory")
        if reg.public_network_access.lower() == "disabled":
            return Fact(False, f"registry {n} has public access Disabled: IP rules do not apply")
        if not reg.ip_rules:
            return Fact(False, f"registry {n} has no IP rules")
        ips, where = self.egress_ips(c)
        if not ips:
            return Fact(None, f"the outbound public addresses of {c.name} are not in the "
                              f"inventory ({where})")
        nets = []
        for rule in reg.ip_rules:
            try:
                nets.append(ipaddress.ip_network(rule.strip(), strict=False))
            except ValueError:
                self.note(f"registry {n}: IP rule {rule!r} is not an address or CIDR range")
        outside = []
        for ip in ips:
            try:
                addr = ipaddress.ip_address(ip)
            except ValueError:
                continue
            if not any(addr.version == net.version and addr in net for net in nets):
                outside.append(ip)
        if outside:
            return Fact(False, f"{', '.join(outside)} ({where} of {c.name}) is not in an IP rule "
                               f"of registry {n}")
        return Fact(True, f"{', '.join(ips)} ({where} of {c.name}) is inside the IP rules of "
                          f"registry {n}")

    def _vnet_rule_fact(self, c: Consumer, reg: Registry) -> Fact:
        if not reg.has_config:
            return Fact(None, f"the network configuration of registry {reg.name} is not in the "
                              "inventory")
        if not reg.vnet_rule_subnet_ids:
            return Fact(False, f"registry {reg.name} has no virtual network rules")
        if c.fact("in_vnet") == "false":
            return Fact(False, f"{c.name} is not in a VNet")
        subnets = [s for s in c.subnet_ids if s]
        if not subnets:
            return Fact(None, f"the subnets of {c.name} are not in the inventory")
        covered = [s for s in subnets if s in reg.vnet_rule_subnet_ids]
        if covered:
            return Fact(True, f"a virtual network rule of registry {reg.name} names subnet(s) "
                              f"{', '.join(name_of(s) for s in covered)} of {c.name}")
        return Fact(False, f"no virtual network rule of registry {reg.name} names a subnet of "
                           f"{c.name}")
