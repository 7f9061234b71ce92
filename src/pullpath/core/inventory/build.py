"""The inventory builder: resources in, one linked :class:`~pullpath.domain.inventory.Inventory`
out.

``get`` is the document walk (:mod:`pullpath.core.inventory.documents`: files, Resource Graph
results, ARM lists), ``transform`` one function per resource type in the family modules
(:mod:`~pullpath.core.inventory.network`, :mod:`~pullpath.core.inventory.registry`,
:mod:`~pullpath.core.inventory.consumers`, :mod:`~pullpath.core.inventory.identity`,
:mod:`~pullpath.core.inventory.dns`), ``load`` the builder storing each record. A resource read
more than once is merged (:mod:`~pullpath.core.inventory.merge`); :meth:`InventoryBuilder.finish`
links what refers to what across resources. Pure; one bad resource costs only itself.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any, TypeVar

from pullpath.core.inventory.consumers import (
    CONSUMER_TYPES,
    PendingCredential,
    transform_agent_pool,
    transform_consumer,
    transform_environment,
    transform_ml_workspace,
)
from pullpath.core.inventory.dns import DnsZones
from pullpath.core.inventory.documents import code_hint, iter_resources, logs_hint
from pullpath.core.inventory.fields import FieldReader, has_properties, json_kind, norm_key, uniq
from pullpath.core.inventory.identity import transform_role_assignment, transform_user_identity
from pullpath.core.inventory.merge import (
    CONSEQUENCE,
    TAKEN_AS_UNKNOWN,
    Versions,
    merge_put,
    reconcile,
)
from pullpath.core.inventory.network import (
    transform_nat_gateway,
    transform_nic,
    transform_private_endpoint,
    transform_public_ip,
    transform_subnet,
    transform_vnet,
)
from pullpath.core.inventory.registry import (
    empty_registry,
    task_pool_subnet,
    transform_diagnostic_setting,
    transform_pec,
    transform_registry,
    transform_replication,
    transform_task_agent_pool,
)
from pullpath.domain.inventory import (
    ConsumerKind,
    Inventory,
    InventoryIssue,
    PrivateEndpointConnection,
    ResourceConflict,
    norm_id,
)
from pullpath.domain.resource_id import parent_of, type_of

__all__ = [
    "InventoryBuilder",
    "InventoryError",
    "build_inventory",
    "export_hint",
    "inventory_from_documents",
    "inventory_warnings",
    "without_properties_problem",
]

_D = TypeVar("_D")

_Loader = Callable[[FieldReader, Mapping[Any, object], str, str], None]


class InventoryError(ValueError):
    """An inventory input that cannot be read at all (a path that does not exist)."""


class InventoryBuilder:
    """Collects resources, then :meth:`finish` links them and returns the :class:`Inventory`."""

    def __init__(self, *, superseded: Iterable[str] = ()) -> None:
        self._superseded = frozenset(norm_id(r) for r in superseded)
        """Resource IDs whose planned version (infrastructure code) replaces the version read
        from the inventory: :meth:`add_resource` skips the inventory's and
        :meth:`add_planned` reads the code's."""
        self.superseded_read = 0
        """How many inventory resources were skipped for their planned version."""
        self._planned = False
        self._inv = Inventory()
        self._pecs: dict[str, dict[str, PrivateEndpointConnection]] = defaultdict(dict)
        self._replicas: dict[str, list[str]] = defaultdict(list)
        self._dns = DnsZones()
        self._pending_creds: list[PendingCredential] = []
        self._task_registry: dict[str, str] = {}
        self._agent_pool_subnets: dict[str, list[str]] = defaultdict(list)
        self._task_pools: dict[str, str] = {}
        """ACR task agent pool id -> its subnet ("" when it has none)."""
        self._finished = False
        self._sparse = False
        self._location = ""
        self._origin: dict[int, dict[str, str]] = defaultdict(dict)
        """Where each table's records were first read: by ``id(table)``, then resource ID."""
        self._versions: dict[tuple[int, str], Versions] = {}
        self._sparse_ids: dict[str, str] = {}
        """Resources read without their properties (``az resource list``), with where."""
        self._full_ids: set[str] = set()
        inv = self._inv
        self._what = {id(table): what for table, what in (
            (inv.vnets, "VNet"), (inv.subnets, "subnet"),
            (inv.private_endpoints, "private endpoint"), (inv.nics, "network interface"),
            (inv.public_ips, "public IP"), (inv.nat_gateways, "NAT gateway"),
            (inv.registries, "registry"), (inv.identities, "managed identity"),
            (inv.consumers, "consumer"), (inv.environments, "Container Apps environment"),
            (inv.role_assignments, "role assignment"),
            (inv.diagnostic_settings, "diagnostic setting"),
        )}
        self._loaders: dict[str, _Loader] = {
            "microsoft.network/virtualnetworks": self._vnet,
            "microsoft.network/virtualnetworks/subnets": self._subnet,
            "microsoft.network/privateendpoints": self._private_endpoint,
            "microsoft.network/networkinterfaces": self._nic,
            "microsoft.network/publicipaddresses": self._public_ip,
            "microsoft.network/natgateways": self._nat_gateway,
            "microsoft.containerregistry/registries": self._registry,
            "microsoft.containerregistry/registries/privateendpointconnections": self._registry_pec,
            "microsoft.containerregistry/registries/replications": self._replication,
            "microsoft.containerregistry/registries/agentpools": self._task_agent_pool,
            "microsoft.insights/diagnosticsettings": self._diagnostic_setting,
            "microsoft.managedidentity/userassignedidentities": self._user_identity,
            "microsoft.authorization/roleassignments": self._role_assignment,
            "microsoft.app/managedenvironments": self._environment,
            "microsoft.containerservice/managedclusters/agentpools": self._agent_pool,
            "microsoft.network/privatednszones": self._dns_zone,
            "microsoft.network/privatednszones/a": self._dns_a_record,
            "microsoft.network/privatednszones/virtualnetworklinks": self._dns_link,
            "microsoft.machinelearningservices/workspaces": self._ml_workspace,
        }
        """Resource type (lower-case) -> the family transform that reads it, and where its
        records go; consumers and private DNS zone groups are matched by :meth:`_loader`."""

    # -- input -------------------------------------------------------------------------------

    def _put(self, table: dict[str, _D], key: str, value: _D, where: str = "") -> None:
        """Store a resource's record. The same resource read again (resource IDs compare
        case-insensitively) is kept as one more version: :meth:`finish` merges the versions
        field by field whatever their order (a version without a setting, such as
        ``az resource list`` output, fills only the blanks) and reports settings they give
        different values as a conflict (``Inventory.conflicts``)."""
        location = f"{self._location} ({where.rstrip('.')})" if where else self._location
        if self._sparse:
            self._sparse_ids.setdefault(key, location)
        else:
            self._full_ids.add(key)
        origin = self._origin[id(table)]
        first = origin.get(key)
        if first is None:  # a fragment (an identity seen by its consumers) is replaced
            table[key] = value
            origin[key] = location
            return
        versions = self._versions.get((id(table), key))
        if versions is None:
            what = self._what.get(id(table), "private endpoint connection")
            versions = Versions(what, table, [(first, table[key])])
            self._versions[(id(table), key)] = versions
        versions.records.append((location, value))

    def add_issue(self, location: str, problem: str, resource_id: str = "") -> None:
        self._inv.issues.append(InventoryIssue(location, resource_id, problem))

    def add_file(self, path: str) -> None:
        self._inv.files.append(path)
        self.note_source_name(path)

    def add_skipped_file(self, path: str) -> None:
        self._inv.skipped_files.append(path)

    def note_source_name(self, name: str) -> None:
        """A file (base name) or REST operation named after role assignments or diagnostic
        settings carries that list, even when it is empty (``roleAssignments.json`` holding
        ``{"value": []}``)."""
        base = re.split(r"[\\/]", name)[-1]
        key = norm_key(base.replace(" ", "").replace(".", ""))
        if "roleassignment" in key:
            self._inv.role_assignments_present = True
        if "diagnosticsetting" in key:
            self._inv.diagnostic_settings_present = True

    def add_document(self, doc: object, location: str) -> None:
        """A decoded JSON document in any container shape."""
        if isinstance(doc, dict):
            op = doc.get("operationId")
            if isinstance(op, str):
                self.note_source_name(op)
        logs = logs_hint(doc)
        if logs:
            self.add_issue(location, f"{logs}, not ARM resources: not read as inventory (did "
                                     "you mean --logs?)")
            return
        code = code_hint(doc)
        if code:
            self.add_issue(location, code)
            return
        for loc, res in iter_resources(doc, location, self._inv.issues):
            self.add_resource(loc, res)

    def add_resource(self, location: str, res: object) -> None:
        """One resource dict (REST or SDK shape)."""
        self._inv.resources_seen += 1
        if not isinstance(res, Mapping):
            self.add_issue(location, f"not a resource: a JSON {json_kind(res)}")
            return
        ctx = FieldReader(location, "", self._inv.issues)
        rid = norm_id(ctx.s(res, "id"))
        ctx.resource_id = rid
        given = ctx.s(res, "type").lower()
        inferred = type_of(rid)
        rtype = given or inferred
        if inferred.endswith("/diagnosticsettings"):
            rtype = "microsoft.insights/diagnosticsettings"  # some examples mislabel the type
        if not rid:
            self.add_issue(
                location, f"resource without an id (type {rtype or 'unknown'}): not read"
            )
            if rtype:
                self._inv.ignored_types[rtype] += 1
            return
        if not rtype:
            self.add_issue(location, "resource without a type: not read", rid)
            self._inv.ignored_types["(no type)"] += 1
            return
        if rid in self._superseded and not self._planned:
            self.superseded_read += 1
            return
        handler = self._loader(rtype)
        self._sparse = not has_properties(res)
        self._location = location
        if handler is None:
            self._inv.ignored_types[rtype] += 1
            return
        try:
            handler(ctx, res, rid, rtype)
        except Exception as exc:  # last resort: one bad resource never stops the others
            ctx.issue(f"could not read {rtype}: {type(exc).__name__}: {exc}")


    def add_planned(self, location: str, res: object) -> None:
        """A resource as infrastructure code would deploy it: it replaces the inventory's
        version of the same ID (see ``superseded``)."""
        self._planned = True
        try:
            self.add_resource(location, res)
        finally:
            self._planned = False

    def _loader(self, rtype: str) -> _Loader | None:
        if rtype in self._loaders:
            return self._loaders[rtype]
        if rtype in CONSUMER_TYPES:
            return self._consumer
        if rtype.startswith("microsoft.network/") and rtype.endswith("/privatednszonegroups"):
            return self._dns_zone_group
        return None

    # -- load: each transform's records into the inventory ------------------------------------

    def _vnet(self, c: FieldReader, res: Mapping[Any, object], rid: str, rtype: str) -> None:
        vnet, subnets = transform_vnet(c, res, rid)
        for subnet, where in subnets:
            if subnet.id in self._superseded and not self._planned:
                self.superseded_read += 1  # the code's version of this subnet replaces it
                continue
            self._put(self._inv.subnets, subnet.id, subnet, where)
        self._put(self._inv.vnets, rid, vnet)

    def _subnet(self, c: FieldReader, res: Mapping[Any, object], rid: str, rtype: str) -> None:
        subnet = transform_subnet(c, res, "", parent_of(rid, "subnets"))
        if subnet is not None:
            self._put(self._inv.subnets, subnet.id, subnet)

    def _private_endpoint(self, c: FieldReader, res: Mapping[Any, object], rid: str,
                          rtype: str) -> None:
        self._put(self._inv.private_endpoints, rid, transform_private_endpoint(c, res, rid))

    def _nic(self, c: FieldReader, res: Mapping[Any, object], rid: str, rtype: str) -> None:
        self._put(self._inv.nics, rid, transform_nic(c, res, rid))

    def _public_ip(self, c: FieldReader, res: Mapping[Any, object], rid: str, rtype: str) -> None:
        self._put(self._inv.public_ips, rid, transform_public_ip(c, res, rid))

    def _nat_gateway(self, c: FieldReader, res: Mapping[Any, object], rid: str,
                     rtype: str) -> None:
        self._put(self._inv.nat_gateways, rid, transform_nat_gateway(c, res, rid))

    def _registry(self, c: FieldReader, res: Mapping[Any, object], rid: str, rtype: str) -> None:
        self._put(self._inv.registries, rid, transform_registry(c, res, rid))

    def _registry_pec(self, c: FieldReader, res: Mapping[Any, object], rid: str,
                      rtype: str) -> None:
        registry_id = parent_of(rid, "privateendpointconnections")
        self._put(self._pecs[registry_id], rid, transform_pec(c, res))

    def _task_agent_pool(self, c: FieldReader, res: Mapping[Any, object], rid: str,
                         rtype: str) -> None:
        self._task_pools[rid] = transform_task_agent_pool(c, res, rid)

    def _ml_workspace(self, c: FieldReader, res: Mapping[Any, object], rid: str,
                      rtype: str) -> None:
        self._inv.platform_callers[rid] = transform_ml_workspace(c, res, rid)

    def _replication(self, c: FieldReader, res: Mapping[Any, object], rid: str,
                     rtype: str) -> None:
        registry_id, location = transform_replication(c, res, rid)
        if location:
            self._replicas[registry_id].append(location)

    def _diagnostic_setting(self, c: FieldReader, res: Mapping[Any, object], rid: str,
                            rtype: str) -> None:
        self._inv.diagnostic_settings_present = True
        self._put(self._inv.diagnostic_settings, rid, transform_diagnostic_setting(c, res, rid))

    def _user_identity(self, c: FieldReader, res: Mapping[Any, object], rid: str,
                       rtype: str) -> None:
        self._put(self._inv.identities, rid, transform_user_identity(c, res, rid))

    def _role_assignment(self, c: FieldReader, res: Mapping[Any, object], rid: str,
                         rtype: str) -> None:
        if not self._planned:  # code holds only its own assignments: not the whole list
            self._inv.role_assignments_present = True
        self._put(self._inv.role_assignments, rid, transform_role_assignment(c, res, rid))

    def _consumer(self, c: FieldReader, res: Mapping[Any, object], rid: str, rtype: str) -> None:
        record = transform_consumer(c, res, rid, rtype)
        if record is None:
            self._inv.ignored_types[rtype] += 1
            return
        for identity in record.identities:
            merge_put(self._inv.identities, identity.id, identity)
        self._pending_creds.extend(record.pending)
        if record.task_registry:
            self._task_registry[rid] = record.task_registry
        self._put(self._inv.consumers, rid, record.consumer)

    def _environment(self, c: FieldReader, res: Mapping[Any, object], rid: str,
                     rtype: str) -> None:
        self._put(self._inv.environments, rid, transform_environment(c, res, rid))

    def _agent_pool(self, c: FieldReader, res: Mapping[Any, object], rid: str, rtype: str) -> None:
        cluster, subnets = transform_agent_pool(c, res, rid)
        self._agent_pool_subnets[cluster].extend(subnets)

    def _dns_zone(self, c: FieldReader, res: Mapping[Any, object], rid: str, rtype: str) -> None:
        self._dns.add_zone(c, res, rid)

    def _dns_a_record(self, c: FieldReader, res: Mapping[Any, object], rid: str,
                      rtype: str) -> None:
        self._dns.add_a_record(c, res, rid)

    def _dns_link(self, c: FieldReader, res: Mapping[Any, object], rid: str, rtype: str) -> None:
        self._dns.add_link(c, res, rid)

    def _dns_zone_group(self, c: FieldReader, res: Mapping[Any, object], rid: str,
                        rtype: str) -> None:
        self._dns.add_zone_group(c, res)

    # -- linking -----------------------------------------------------------------------------

    def finish(self) -> Inventory:
        """Link what refers to what across resources and return the inventory (once)."""
        if self._finished:
            raise RuntimeError("InventoryBuilder.finish() called twice")
        self._finished = True
        inv = self._inv
        self._reconcile_versions(inv)
        self._note_sparse(inv)
        self._link_network(inv)
        self._link_registries(inv)
        self._link_consumers(inv)
        inv.dns_zones.update(self._dns.zones())
        return inv

    def _reconcile_versions(self, inv: Inventory) -> None:
        """Every resource read more than once becomes one record (``_reconcile``); versions
        that set a field to different values are an inventory issue naming every location."""
        for (_, key), versions in self._versions.items():
            merged, clashes = reconcile(versions.records)
            versions.table[key] = merged
            if not clashes:
                inv.duplicates_merged += len(versions.records) - 1
                continue
            conflict = ResourceConflict(
                resource_id=key,
                what=versions.what,
                fields=tuple(name for name, _ in clashes),
                locations=tuple(loc for loc, _ in versions.records),
                detail="; ".join(f"{name}: {said}" for name, said in clashes[:3])
                + (f"; +{len(clashes) - 3} more setting(s)" if len(clashes) > 3 else ""),
                versions=tuple(rec for _, rec in versions.records),
            )
            inv.conflicts[key] = conflict
            consequence = CONSEQUENCE.get(versions.what, TAKEN_AS_UNKNOWN)
            inv.issues.append(InventoryIssue(versions.records[0][0], key,
                                             f"{conflict.describe()}: {consequence}"))
            if versions.table is inv.consumers and "registry credentials" in conflict.fields:
                self._pending_creds = [pc for pc in self._pending_creds if pc.consumer_id != key]

    def _note_sparse(self, inv: Inventory) -> None:
        """Resources given only without their properties: one issue for all, with the commands
        that export them whole."""
        sparse = [rid for rid in self._sparse_ids if rid not in self._full_ids]
        inv.without_properties = tuple(sparse)
        if sparse:
            inv.issues.append(InventoryIssue(self._sparse_ids[sparse[0]], "",
                                             without_properties_problem(sparse)))

    @staticmethod
    def _link_network(inv: Inventory) -> None:
        # every pass is linear: children are indexed by their parent's id first
        children: dict[str, list[str]] = defaultdict(list)
        for subnet in inv.subnets.values():
            children[subnet.vnet_id].append(subnet.id)
        for vid, vnet in list(inv.vnets.items()):
            listed = children.get(vid)
            if listed:
                inv.vnets[vid] = replace(vnet, subnet_ids=uniq([*vnet.subnet_ids, *listed]))
        for nat in inv.nat_gateways.values():
            for sid in nat.subnet_ids:
                sub = inv.subnets.get(sid)
                if sub is not None and not sub.nat_gateway_id:
                    inv.subnets[sid] = replace(sub, nat_gateway_id=nat.id)
            for pid in nat.public_ip_ids:
                pip = inv.public_ips.get(pid)
                if pip is not None and not pip.attached_to:
                    inv.public_ips[pid] = replace(pip, attached_to=nat.id)
        for sid, sub in list(inv.subnets.items()):
            parent = inv.vnets.get(sub.vnet_id)
            if parent is not None and not sub.location:
                inv.subnets[sid] = replace(sub, location=parent.location)
        pe_nics: dict[str, list[str]] = defaultdict(list)
        for nic in inv.nics.values():
            if nic.private_endpoint_id:
                pe_nics[nic.private_endpoint_id].append(nic.id)
        position = {nid: i for i, nid in enumerate(inv.nics)}
        for pid, pe in list(inv.private_endpoints.items()):
            # the NICs it names and the NICs that name it, in inventory order
            nic_ids = {*pe_nics.get(pid, ()), *(n for n in pe.nic_ids if n in inv.nics)}
            nic_ips = [
                cfg.private_ip
                for nid in sorted(nic_ids, key=position.__getitem__)
                for cfg in inv.nics[nid].ip_configurations
            ]
            if nic_ips:
                inv.private_endpoints[pid] = replace(
                    pe, private_ips=uniq([*pe.private_ips, *nic_ips])
                )

    def _link_registries(self, inv: Inventory) -> None:
        for rid in {*self._pecs, *self._replicas}:
            if rid and rid not in inv.registries:
                inv.registries[rid] = empty_registry(rid)
        for rid, pecs in self._pecs.items():
            reg = inv.registries.get(rid)
            if reg is None:
                continue
            merged = {p.id or p.private_endpoint_id: p for p in reg.private_endpoint_connections}
            merged.update(pecs)
            inv.registries[rid] = replace(reg, private_endpoint_connections=tuple(merged.values()))
        for rid, locations in self._replicas.items():
            reg = inv.registries.get(rid)
            if reg is not None:
                inv.registries[rid] = replace(
                    reg, replica_locations=uniq([*reg.replica_locations, *locations])
                )

    def _link_consumers(self, inv: Inventory) -> None:
        by_client = {i.client_id: i for i in inv.identities.values() if i.client_id}
        pending: dict[str, list[PendingCredential]] = defaultdict(list)
        for pc in self._pending_creds:
            pending[pc.consumer_id].append(pc)
        pip_addr = {p.id: p.ip_address for p in inv.public_ips.values() if p.ip_address}
        for cid, con in list(inv.consumers.items()):
            changes: dict[str, Any] = {}
            principals = list(con.principal_ids)
            clients = list(con.client_ids)
            identity_ids = list(con.identity_ids)
            creds = list(con.credentials)
            for pc in pending.get(cid, []):
                ident = by_client.get(pc.client_id)
                if ident is None:
                    continue  # the identity resource is not in the inventory
                identity_ids.append(ident.id)
                creds = [
                    replace(cr, identity_id=ident.id)
                    if (
                        cr.server == pc.server
                        and cr.method == "user-assigned-identity"
                        and not cr.identity_id
                    )
                    else cr
                    for cr in creds
                ]
            for uid in identity_ids:
                ident = inv.identities.get(uid)
                if ident is not None:
                    principals.append(ident.principal_id)
                    clients.append(ident.client_id)
            facts = dict(con.facts)
            subnet_ids = list(con.subnet_ids)
            public_ips = list(con.public_ips)
            if con.kind is ConsumerKind.ACA and con.environment_id:
                env = inv.environments.get(con.environment_id)
                if env is not None:
                    subnet_ids.append(env.infrastructure_subnet_id)
                    facts["in_vnet"] = "true" if env.infrastructure_subnet_id else "false"
                    if env.internal is not None:
                        facts["internal"] = "true" if env.internal else "false"
                    public_ips.extend(env.outbound_ips)
            if con.kind is ConsumerKind.AKS:
                subnet_ids.extend(self._agent_pool_subnets.get(cid, []))
                if any(subnet_ids) and facts.get("in_vnet") != "true":
                    facts["in_vnet"] = "true"
                public_ips.extend(pip_addr.get(p, "") for p in con.public_ip_ids)
            if con.kind is ConsumerKind.ACR_TASKS:
                subnet_ids.extend(task_pool_subnet(facts, self._task_registry.get(cid, ""),
                                                   self._task_pools))
                reg = inv.registries.get(self._task_registry.get(cid, ""))
                server = reg.login_server if reg is not None else ""
                # the task's own registry (custom registries always name their server)
                creds = [replace(cr, server=server) if not cr.server else cr for cr in creds]
            changes.update(
                principal_ids=uniq(principals),
                client_ids=uniq(clients),
                identity_ids=uniq(identity_ids),
                credentials=tuple(dict.fromkeys(creds)),
                facts=tuple(facts.items()),
                subnet_ids=uniq(subnet_ids),
                public_ips=uniq(public_ips),
            )
            inv.consumers[cid] = replace(con, **changes)


def export_hint(resource_ids: Iterable[str]) -> str:
    """The commands that export resources with their properties (``az resource list`` gives
    none): ``az resource show --ids`` for the first few, or Resource Graph."""
    ids = list(dict.fromkeys(resource_ids))
    shown = " ".join(ids[:3]) + (" ..." if len(ids) > 3 else "")
    return (f"export with `az graph query -q \"Resources | where id in~ (...)\"` (README: Getting "
            f"the inputs out of Azure) or `az resource show --ids {shown}`")


def without_properties_problem(resource_ids: list[str]) -> str:
    """The inventory issue for resources read only without their properties."""
    n = len(resource_ids)
    return (f"{n} resource{'s have' if n != 1 else ' has'} no properties (az resource list does "
            "not export them), so their network settings and images are unknown: "
            + export_hint(resource_ids))


def inventory_warnings(inv: Inventory) -> list[str]:
    """What a report should say up front about the inventory: resources without their
    properties and resources given more than once with different settings."""
    out: list[str] = []
    if inv.without_properties:
        out.append(without_properties_problem(list(inv.without_properties)))
    conflicts = list(inv.conflicts.values())
    for c in conflicts[:5]:
        out.append(f"{c.describe()}: {CONSEQUENCE.get(c.what, TAKEN_AS_UNKNOWN)}")
    if len(conflicts) > 5:
        out.append(f"{len(conflicts) - 5} more resource(s) are given more than once with "
                   "different settings (see the inventory issues)")
    return out


# --------------------------------------------------------------------------------------------
# entry points


def build_inventory(resources: Iterable[tuple[str, object]]) -> Inventory:
    """An inventory from (location label, resource dict) pairs, e.g. from :func:`iter_resources`."""
    builder = InventoryBuilder()
    for location, res in resources:
        builder.add_resource(location, res)
    return builder.finish()


def inventory_from_documents(documents: Iterable[tuple[str, object]]) -> Inventory:
    """An inventory from (location label, decoded JSON document) pairs in any container shape."""
    builder = InventoryBuilder()
    for location, doc in documents:
        builder.add_document(doc, location)
    return builder.finish()

