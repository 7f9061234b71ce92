"""Monitoring resources -> ARM resource JSON: diagnostic settings (where a resource's logs go)
and Log Analytics workspaces (a plain envelope). Transforms ``(reader, instance) -> None``.
Pure.
"""

from __future__ import annotations

from typing import Any

from pullpath.core.iac.terraform.envelope import _envelope, _put
from pullpath.core.iac.terraform.plan import _Instance
from pullpath.core.iac.terraform.reader import _Reader


def _diagnostic_setting(r: _Reader, inst: _Instance) -> None:
    res = _envelope(r, inst, location=False)
    props: dict[str, Any] = {}
    logs = []
    for b in r.blocks(inst, "enabled_log"):
        log: dict[str, Any] = {"enabled": True}
        _put(log, "category", r.text(inst, f"{b}.category"))
        _put(log, "categoryGroup", r.text(inst, f"{b}.category_group"))
        logs.append(log)
    for b in r.blocks(inst, "log"):  # azurerm 3.x, removed in 4.0
        log = {}
        _put(log, "enabled", r.flag(inst, f"{b}.enabled"))
        _put(log, "category", r.text(inst, f"{b}.category"))
        _put(log, "categoryGroup", r.text(inst, f"{b}.category_group"))
        logs.append(log)
    props["logs"] = logs
    _put(props, "workspaceId", r.link(inst, "log_analytics_workspace_id",
                                       "microsoft.operationalinsights/workspaces"))
    _put(props, "storageAccountId", r.link(inst, "storage_account_id"))
    _put(props, "eventHubAuthorizationRuleId", r.link(inst, "eventhub_authorization_rule_id"))
    res["properties"] = props
    r.emit(inst, res)


def _plain(r: _Reader, inst: _Instance) -> None:
    res = _envelope(r, inst)
    res["properties"] = {}
    r.emit(inst, res)
