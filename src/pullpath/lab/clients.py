"""The runner's foundation: where the SDK clients go and how each is made, the errors a lab
step raises, how an ARM error is read and worded, the bounds of the waits, and the deployed
lab's state.

:class:`RunnerBase` holds what every step of :class:`pullpath.lab.runner.LabRunner` uses: the
target (:class:`AzureTarget`), the clients (each SDK package imported on first use), the
injected clock and sleep, and the progress lines (resources and durations only, never a token).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from azure.core.exceptions import HttpResponseError

from pullpath.lab.render import RenderedLab
from pullpath.lab.scenarios import Scenario

ProgressFn = Callable[[str], None]


def _resources_client() -> type:
    from azure.mgmt.resource.resources import ResourceManagementClient

    return ResourceManagementClient


def _deployments_client() -> type:
    from azure.mgmt.resource.deployments import DeploymentsMgmtClient

    return DeploymentsMgmtClient


def _registry_client() -> type:
    from azure.mgmt.containerregistry import ContainerRegistryManagementClient

    return ContainerRegistryManagementClient


def _aci_client() -> type:
    from azure.mgmt.containerinstance import ContainerInstanceManagementClient

    return ContainerInstanceManagementClient


def _aca_client() -> type:
    from azure.mgmt.appcontainers import ContainerAppsAPIClient

    return ContainerAppsAPIClient


def _network_client() -> type:
    from azure.mgmt.network import NetworkManagementClient

    return NetworkManagementClient


def _logs_client() -> type:
    from azure.monitor.query import LogsQueryClient

    return LogsQueryClient


_CLIENT_CLASSES: dict[str, Callable[[], type]] = {
    "resources": _resources_client,
    "deployments": _deployments_client,
    "registry": _registry_client,
    "aci": _aci_client,
    "aca": _aca_client,
    "network": _network_client,
    "logs": _logs_client,
}
"""The SDK client class behind each name the runner asks for. Each is imported on first use,
in a plain import: the seven SDK packages take 0.3 s to import together (measured on
2026-12-06), and a command needs them one step at a time (``lab down`` only the resource
client, ``lab plan`` none)."""

class LabError(Exception):
    """A lab step failed: the message says which step, which resource and what to do."""


class LabRefused(LabError):
    """A request pullpath refuses for safety (e.g. deleting a group it did not create)."""


@dataclass(frozen=True, slots=True)
class AzureTarget:
    """Where the SDK clients go and how they authenticate."""

    credential: Any
    """An azure-core ``TokenCredential`` (DefaultAzureCredential in the CLI)."""
    subscription_id: str
    arm_endpoint: str = "https://management.azure.com"
    logs_endpoint: str = "https://api.loganalytics.io"
    connection_verify: bool | str = True
    """False or a CA bundle path for test servers; True (verify) otherwise."""
    retry_total: int | None = None
    """Retries of the SDK retry policy (429/5xx/timeouts); None keeps the SDK default (3)."""
    lro_polling_interval: float | None = None
    """Seconds between long-running-operation polls when the service sends no Retry-After."""

    def client_kwargs(self) -> dict[str, Any]:
        kw: dict[str, Any] = {"connection_verify": self.connection_verify}
        if self.retry_total is not None:
            kw["retry_total"] = self.retry_total
        if self.lro_polling_interval is not None:
            kw["polling_interval"] = self.lro_polling_interval
        return kw


@dataclass(frozen=True, slots=True)
class Waits:
    """The bounded waits of ``lab up``/``lab run`` (seconds)."""

    poll: float = 30.0
    """Between two checks of every wait."""
    role_timeout: float = 900.0
    """How long a new AcrPull assignment may take to be listed and to become effective: a
    consumer refused by the registry for its identity within this bound is deployed again."""
    delivery_timeout: float = 1800.0
    """How long the diagnostic setting may take to deliver the consumers' first events."""


@dataclass(frozen=True)
class LabState:
    """A deployed lab, as far as the runner needs it."""

    run_id: str
    scenario: Scenario
    lab: RenderedLab
    subscription_id: str
    outputs: Mapping[str, Any]
    """Base deployment outputs: registryId, registryLoginServer, workspaceCustomerId."""
    consumer_ids: Mapping[str, str]
    """Consumer key -> resource ID, for consumers that were deployed."""
    consumer_errors: Mapping[str, tuple[str, ...]]
    """Consumer key -> ARM error codes of its failed deployment."""
    consumer_error_messages: Mapping[str, str] = field(default_factory=dict)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def resource_group(self) -> str:
        return self.lab.names.resource_group


def _error_codes(exc: HttpResponseError) -> tuple[str, ...]:
    """Every error code in an ARM error, nested details included (DeploymentFailed and the
    resource's own code, e.g. InvalidImageRegistryIdentity)."""
    codes: list[str] = []

    def walk(err: Any, depth: int = 0) -> None:
        if err is None or depth > 8:
            return
        code = getattr(err, "code", None) if not isinstance(err, Mapping) else err.get("code")
        if code:
            codes.append(str(code))
        details = (getattr(err, "details", None) if not isinstance(err, Mapping)
                   else err.get("details"))
        for d in details or ():
            walk(d, depth + 1)

    walk(getattr(exc, "error", None))
    if not codes:
        model = getattr(exc, "model", None)
        walk(getattr(model, "error", None))
    if not codes and exc.response is not None:
        try:
            body = json.loads(exc.response.text())
        except ValueError:  # body not JSON: no codes to report
            body = None
        if isinstance(body, dict):
            walk(body.get("error"))
    return tuple(dict.fromkeys(codes))


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


class RunnerBase:
    """The clients, clock, sleep and progress of :class:`pullpath.lab.runner.LabRunner`, and
    the wording of its Azure errors."""

    def __init__(self, target: AzureTarget, *, progress: ProgressFn | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.target = target
        self._progress = progress
        self._sleep = sleep
        self._clock = clock
        self._clients: dict[str, Any] = {}

    # ------------------------------------------------------------------ clients
    def _client(self, name: str) -> Any:
        client = self._clients.get(name)
        if client is not None:
            return client
        t = self.target
        cls = _CLIENT_CLASSES[name]()
        if name == "logs":  # a data-plane client: an endpoint, no subscription
            client = cls(t.credential, endpoint=t.logs_endpoint, **t.client_kwargs())
        else:
            client = cls(t.credential, t.subscription_id, base_url=t.arm_endpoint,
                         **t.client_kwargs())
        self._clients[name] = client
        return client

    def close(self) -> None:
        for client in self._clients.values():
            close = getattr(client, "close", None)
            if callable(close):
                close()
        self._clients.clear()

    def say(self, message: str) -> None:
        if self._progress is not None:
            self._progress(message)

    def _timed(self, label: str, fn: Callable[[], Any]) -> Any:
        start = self._clock()
        self.say(f"{label} ...")
        result = fn()
        self.say(f"{label}: done in {self._clock() - start:.0f}s")
        return result

    # ------------------------------------------------------------------ messages
    def _arm_message(self, action: str, what: str, exc: HttpResponseError) -> str:
        status = exc.status_code
        hint = ""
        if status == 403:
            hint = (" (permission denied: the lab needs Contributor and User Access "
                    "Administrator, or Owner, on the subscription)")
        elif status == 401:
            hint = " (not signed in: run `az login` or set AZURE_* environment variables)"
        codes = ", ".join(_error_codes(exc))
        return f"cannot {action} {what}: HTTP {status}{' ' + codes if codes else ''}: " \
               f"{_short(exc)}{hint}"

    def _logs_message(self, state: LabState, exc: HttpResponseError) -> str:
        ws = state.outputs.get("workspaceCustomerId")
        hint = (" (Log Analytics Reader on the workspace is needed)"
                if exc.status_code == 403 else "")
        return f"cannot query Log Analytics workspace {ws}: HTTP {exc.status_code}: " \
               f"{_short(exc)}{hint}"
