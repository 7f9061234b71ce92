"""Deploying a lab: the resource group pullpath creates itself (``If-None-Match: *``, only a
``201 Created`` makes it pullpath's), the ARM deployments, the image import, and which consumers
a failed deployment failed, and why (the registry refusing an identity, or its firewall).

The steps that read the base deployment's outputs (the wait for the role assignments, the
consumers deployment with its retries) are in :mod:`pullpath.lab.runner`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from pullpath.lab.clients import LabError, LabRefused, RunnerBase, _error_codes, _short
from pullpath.lab.render import (
    API_VERSIONS,
    CREATED_BY_TAG,
    LAB_TAG,
    SCENARIO_TAG,
    RenderedLab,
    consumer_type,
)

_AUTH_CODES = frozenset({"InaccessibleImage", "RegistryErrorResponse"})
_AUTH_TEXT = re.compile(r"unauthori[sz]ed|authentication required|not authori[sz]ed|"
                        r"insufficient_scope", re.IGNORECASE)
_FIREWALL_TEXT = re.compile(r"not allowed access|aka\.ms/acr/firewall", re.IGNORECASE)


def is_authorization_failure(codes: tuple[str, ...], message: str) -> bool:
    """A consumer's deployment failed because the registry refused its identity (its role
    assignment may not be effective yet), not because the firewall refused its address."""
    if _FIREWALL_TEXT.search(message):
        return False
    return bool(_AUTH_CODES & set(codes)) or bool(_AUTH_TEXT.search(message))


class DeploySteps(RunnerBase):
    """Create the resource group, deploy, import the image, attribute consumer failures."""

    def create_resource_group(self, lab: RenderedLab) -> None:
        """Create the lab's group, refusing any group pullpath did not create itself: the GET
        must find none, the PUT (``If-None-Match: *``, no tags) must answer 201 Created; only
        then are pullpath's tags added."""
        n = lab.names
        tags = {LAB_TAG: n.run_id, CREATED_BY_TAG[0]: CREATED_BY_TAG[1],
                SCENARIO_TAG: lab.scenario.ident}
        rg = self._client("resources").resource_groups
        try:
            existing = rg.get(n.resource_group)
        except ResourceNotFoundError:
            existing = None
        except HttpResponseError as exc:
            raise LabError(self._arm_message("read resource group", n.resource_group,
                                             exc)) from None
        if existing is not None:
            raise LabRefused(
                f"resource group {n.resource_group} already exists; pullpath only uses a group "
                "it creates itself. Choose another run ID (or let pullpath pick one)."
            )
        status: dict[str, int] = {}

        def created(pipeline_response: Any, deserialized: Any, headers: Any) -> Any:
            status["code"] = pipeline_response.http_response.status_code
            return deserialized

        try:
            self._timed(f"create resource group {n.resource_group} ({lab.location})",
                        lambda: rg.create_or_update(n.resource_group, {"location": lab.location},
                                                    headers={"If-None-Match": "*"}, cls=created))
        except HttpResponseError as exc:
            if exc.status_code == 412:
                raise LabRefused(
                    f"resource group {n.resource_group} appeared between pullpath's check and "
                    "its create (412 Precondition Failed): left untouched. Choose another run "
                    "ID.") from None
            raise LabError(self._arm_message("create resource group", n.resource_group,
                                             exc)) from None
        if status.get("code") != 201:
            raise LabRefused(
                f"resource group {n.resource_group} already existed when pullpath created it "
                f"(ARM answered {status.get('code')}, not 201 Created): it appeared between "
                "the check and the create. pullpath will not tag it, deploy into it or delete "
                "it. (A resource group PUT replaces its tags: if ARM did not honour "
                "If-None-Match, the group's own tags were cleared; pullpath added none.)"
            )
        try:
            rg.update(n.resource_group, {"tags": tags})
        except HttpResponseError as exc:
            message = self._arm_message("tag resource group", n.resource_group, exc)
            try:  # created by pullpath (201) a moment ago and still empty: remove it again
                rg.begin_delete(n.resource_group).result()
            except HttpResponseError:
                message += f"; delete the empty group {n.resource_group} yourself"
            raise LabError(message) from None

    def _deploy(self, lab: RenderedLab, name: str, template: Mapping[str, Any],
                values: Mapping[str, Any], label: str) -> dict[str, Any]:
        body = {"properties": {"mode": "Incremental", "template": template,
                               "parameters": lab.as_arm_parameters(values)}}
        client = self._client("deployments")

        def run() -> Any:
            poller = client.deployments.begin_create_or_update(
                lab.names.resource_group, name, body)
            return poller.result()

        try:
            result = self._timed(f"{label} {name}", run)
        except HttpResponseError as exc:
            raise _DeploymentFailed(_error_codes(exc), _short(exc), _error_tree(exc)) from None
        props = getattr(result, "properties", None)
        raw_state = getattr(props, "provisioning_state", None) or ""
        state = str(getattr(raw_state, "value", raw_state))
        if state not in ("Succeeded", ""):
            tree = _as_dict(getattr(props, "error", None))
            raise _DeploymentFailed((str(state), *_codes_in(tree)),
                                    f"{label} ended in state {state}", tree)
        raw = getattr(props, "outputs", None) or {}
        outputs = {k: (v.get("value") if isinstance(v, Mapping) else v) for k, v in raw.items()}
        missing = [k for k in template.get("outputs", {}) if k not in outputs]
        if missing:
            raise LabError(f"{label} {name} succeeded but returned no output(s) "
                           f"{', '.join(missing)}; check the deployment in the portal")
        return outputs

    def _consumer_id(self, lab: RenderedLab, key: str) -> str:
        c = next(c for c in lab.scenario.consumers if c.key == key)
        return (f"/subscriptions/{self.target.subscription_id}/resourceGroups/"
                f"{lab.names.resource_group}/providers/{consumer_type(c)}/"
                f"{lab.names.consumer(key)}")

    def _consumer_failures(self, lab: RenderedLab, exc: _DeploymentFailed
                           ) -> dict[str, tuple[tuple[str, ...], str]]:
        """Which consumers a failed deployment failed, with their own error codes and message:
        by the error details' ``target`` (ARM names the failed resource there), else by each
        consumer's provisioning state."""
        by_target = _errors_by_target(exc.tree)
        out: dict[str, tuple[tuple[str, ...], str]] = {}
        for c in lab.scenario.consumers:
            rid = self._consumer_id(lab, c.key).lower()
            for target, found in by_target.items():
                if target == rid or target.endswith("/" + lab.names.consumer(c.key).lower()):
                    out[c.key] = found
        if out:
            return out
        resources = self._client("resources").resources
        for c in lab.scenario.consumers:
            try:
                body = resources.get_by_id(self._consumer_id(lab, c.key),
                                           api_version=API_VERSIONS[consumer_type(c)])
                state = str((body.properties or {}).get("provisioningState", ""))
            except HttpResponseError:
                state = ""
            if state != "Succeeded":
                out[c.key] = (exc.codes, exc.message)
        return out or {c.key: (exc.codes, exc.message) for c in lab.scenario.consumers}

    def import_image(self, lab: RenderedLab) -> None:
        """Import the test image with the registry import API (an ARM operation; ACR import is
        itself a trusted-service operation): the registry's closed public endpoint is never
        touched from here."""
        img = lab.scenario.image
        body = {"source": {"registryUri": img.source_registry, "sourceImage": img.source_image},
                "targetTags": [img.target], "mode": "Force"}
        registries = self._client("registry").registries
        try:
            self._timed(
                f"import {img.source_registry}/{img.source_image} as {img.target}",
                lambda: registries.begin_import_image(lab.names.resource_group,
                                                      lab.names.registry, body).result(),
            )
        except HttpResponseError as exc:
            raise LabError(self._arm_message("import the test image into",
                                             lab.names.registry, exc)) from None


class _DeploymentFailed(LabError):
    def __init__(self, codes: tuple[str, ...], message: str,
                 tree: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.codes = codes
        self.message = message
        self.tree: Mapping[str, Any] = tree or {}


def _error_tree(exc: HttpResponseError) -> dict[str, Any]:
    """The ARM error of a failed request or long-running operation, as a plain mapping."""
    if exc.response is not None:
        try:
            body = json.loads(exc.response.text())
        except ValueError:  # body not JSON: no tree
            body = None
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            return dict(body["error"])
    error = getattr(exc, "error", None)
    if error is not None:
        return {"code": getattr(error, "code", ""), "message": getattr(error, "message", ""),
                "target": getattr(error, "target", ""),
                "details": [{"code": getattr(d, "code", ""), "message": getattr(d, "message", ""),
                             "target": getattr(d, "target", "")}
                            for d in getattr(error, "details", None) or ()]}
    return {}


def _as_dict(model: Any) -> dict[str, Any]:
    as_dict = getattr(model, "as_dict", None)
    return dict(as_dict()) if callable(as_dict) else {}


def _codes_in(tree: Mapping[str, Any], depth: int = 0) -> tuple[str, ...]:
    if not isinstance(tree, Mapping) or depth > 8:
        return ()
    codes = [str(tree["code"])] if tree.get("code") else []
    for d in tree.get("details") or ():
        codes.extend(_codes_in(d, depth + 1))
    return tuple(dict.fromkeys(codes))


def _messages_in(tree: Mapping[str, Any], depth: int = 0) -> list[str]:
    if not isinstance(tree, Mapping) or depth > 8:
        return []
    out = [str(tree["message"])] if tree.get("message") else []
    for d in tree.get("details") or ():
        out.extend(_messages_in(d, depth + 1))
    return out


def _errors_by_target(tree: Mapping[str, Any]) -> dict[str, tuple[tuple[str, ...], str]]:
    """Lower-case target (resource ID) -> (error codes, messages) of every error detail that
    names one, nested details included."""
    out: dict[str, tuple[tuple[str, ...], str]] = {}

    def walk(err: Any, depth: int) -> None:
        if not isinstance(err, Mapping) or depth > 8:
            return
        target = str(err.get("target") or "").lower()
        if target:
            out[target] = (_codes_in(err), " ".join(_messages_in(err))[:1000])
        for d in err.get("details") or ():
            walk(d, depth + 1)

    walk(tree, 0)
    return out
