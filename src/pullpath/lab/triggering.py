"""Triggering: make every deployed consumer pull again (:data:`TRIGGERS`): ACI stop/start or
restart, the Container App stopped and started, its revision restarted, or a new revision."""

from __future__ import annotations

from datetime import UTC, datetime

from azure.core.exceptions import HttpResponseError

from pullpath.lab.clients import LabError, LabState, RunnerBase

TRIGGERS = ("stop-start", "restart", "new-revision")
"""How ``trigger`` makes the consumers pull again. ``stop-start`` (the default, as in the field
report): ACI stop then start, Container Apps stop then start; ``restart``: ACI restart, the
Container App's active revision restarted; ``new-revision``: ACI stop then start, a new
Container App revision."""


class TriggerSteps(RunnerBase):
    """The trigger and how each consumer kind is made to pull again."""

    def trigger(self, state: LabState, *, mode: str = "stop-start") -> datetime:
        """Make every deployed consumer pull again (see :data:`TRIGGERS`). Returns when it
        was asked: the collection waits for pulls after that."""
        if mode not in TRIGGERS:
            raise LabError(f"unknown trigger {mode!r}; one of {', '.join(TRIGGERS)}")
        asked = datetime.now(UTC)
        rg = state.resource_group
        for c in state.scenario.consumers:
            if c.key not in state.consumer_ids:
                continue
            name = state.lab.names.consumer(c.key)
            try:
                if c.kind == "aci":
                    self._trigger_aci(rg, name, mode)
                elif mode == "new-revision":
                    self._new_revision(rg, name)
                elif mode == "restart":
                    self._restart_revision(rg, name)
                else:
                    self._stop_start_app(rg, name)
            except HttpResponseError as exc:
                raise LabError(self._arm_message("trigger a pull on", name, exc)) from None
        return asked

    def _trigger_aci(self, rg: str, name: str, mode: str) -> None:
        groups = self._client("aci").container_groups
        if mode == "restart":
            self._timed(f"restart container group {name}",
                        lambda: groups.begin_restart(rg, name).result())
            return
        self._timed(f"stop container group {name}", lambda: groups.stop(rg, name))
        self._timed(f"start container group {name}",
                    lambda: groups.begin_start(rg, name).result())

    def _stop_start_app(self, rg: str, name: str) -> None:
        apps = self._client("aca").container_apps
        self._timed(f"stop container app {name}", lambda: apps.begin_stop(rg, name).result())
        self._timed(f"start container app {name}", lambda: apps.begin_start(rg, name).result())

    def _restart_revision(self, rg: str, name: str) -> None:
        app = self._client("aca").container_apps.get(rg, name)
        props = getattr(app, "properties", None)
        revision = (getattr(props, "latest_ready_revision_name", None)
                    or getattr(props, "latest_revision_name", None))
        if not revision:
            raise LabError(f"container app {name} has no revision to restart")
        revisions = self._client("aca").container_apps_revisions
        self._timed(f"restart revision {revision} of container app {name}",
                    lambda: revisions.restart_revision(rg, name, revision))

    def _new_revision(self, rg: str, name: str) -> None:
        apps = self._client("aca").container_apps
        app = apps.get(rg, name)
        body = app.as_dict()
        template = body.setdefault("properties", {}).setdefault("template", {})
        template["revisionSuffix"] = "t" + datetime.now(UTC).strftime("%H%M%S")
        self._timed(f"new revision {template['revisionSuffix']} of container app {name}",
                    lambda: apps.begin_update(rg, name, body).result())
