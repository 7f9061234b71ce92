"""Cleaning up: only a resource group that carries pullpath's tags and the given run ID is
deleted (anything else is refused with the reason), and the lab groups that remain are listed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from pullpath.lab.clients import LabError, LabRefused, RunnerBase
from pullpath.lab.render import CREATED_BY_TAG, LAB_TAG, SCENARIO_TAG


@dataclass(frozen=True, slots=True)
class Leftover:
    run_id: str
    resource_group: str
    location: str
    scenario: str
    tags: tuple[tuple[str, str], ...]


class CleanupSteps(RunnerBase):
    """``lab down`` and ``lab list``."""

    def _owned_group(self, name: str, run_id: str) -> Any:
        rg = self._client("resources").resource_groups
        try:
            group = rg.get(name)
        except ResourceNotFoundError:
            raise LabError(f"resource group {name} does not exist (already deleted?); "
                           "`pullpath lab list` shows the lab groups that remain") from None
        except HttpResponseError as exc:
            raise LabError(self._arm_message("read resource group", name, exc)) from None
        tags = {str(k).lower(): str(v) for k, v in (group.tags or {}).items()}
        if tags.get(CREATED_BY_TAG[0]) != CREATED_BY_TAG[1] or LAB_TAG not in tags:
            raise LabRefused(
                f"refusing to touch resource group {name}: it does not carry pullpath's tags "
                f"({LAB_TAG}=<run-id>, {CREATED_BY_TAG[0]}={CREATED_BY_TAG[1]}), so pullpath "
                "did not create it. Delete it yourself if you really mean to."
            )
        if tags[LAB_TAG] != run_id:
            raise LabRefused(
                f"refusing to touch resource group {name}: its {LAB_TAG} tag is "
                f"{tags[LAB_TAG]!r}, not the run ID {run_id!r} you gave"
            )
        return group

    def down(self, run_id: str, *, resource_group: str | None = None, wait: bool = True) -> str:
        """Delete the lab's resource group, only if it carries pullpath's tags and this run
        ID. Returns the group's name."""
        name = resource_group or f"rg-pullpath-lab-{run_id}"
        self._owned_group(name, run_id)
        rg = self._client("resources").resource_groups
        try:
            poller = rg.begin_delete(name)
            if wait:
                self._timed(f"delete resource group {name}", poller.result)
            else:
                self.say(f"deleting resource group {name} (not waiting)")
        except ResourceNotFoundError:
            self.say(f"resource group {name} is already gone")
        except HttpResponseError as exc:
            raise LabError(self._arm_message("delete resource group", name, exc)
                           + f"; retry with `pullpath lab down --run-id {run_id}`") from None
        return name

    def leftovers(self) -> list[Leftover]:
        rg = self._client("resources").resource_groups
        out: list[Leftover] = []
        try:
            groups = list(rg.list(filter=f"tagName eq '{LAB_TAG}'"))
        except HttpResponseError as exc:
            raise LabError(self._arm_message("list resource groups in subscription",
                                             self.target.subscription_id, exc)) from None
        for g in groups:
            tags = {str(k): str(v) for k, v in (g.tags or {}).items()}
            if tags.get(CREATED_BY_TAG[0]) != CREATED_BY_TAG[1]:
                continue
            out.append(Leftover(tags.get(LAB_TAG, ""), str(g.name), str(g.location),
                                tags.get(SCENARIO_TAG, ""), tuple(sorted(tags.items()))))
        return sorted(out, key=lambda x: x.resource_group)
