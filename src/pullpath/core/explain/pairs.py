"""Pairs: a consumer and a registry it pulls from (:class:`PairRef`), how a login server is
recognised as an Azure Container Registry, and which credential the consumer uses for it. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pullpath.domain.inventory import (
    Consumer,
    Registry,
    RegistryCredential,
    global_login_server,
    regional_endpoint,
)

_ACR_HOST = re.compile(r"^[a-z0-9][a-z0-9-]*\.azurecr\.(io|cn|us)$")


def is_acr_host(host: str) -> bool:
    """A login server of Azure Container Registry (public, US Government or China cloud), or a
    regional endpoint of one (``<registry>.<region>.geo.azurecr.io``)."""
    return bool(_ACR_HOST.match(global_login_server(host.lower())))


@dataclass(frozen=True, slots=True)
class PairRef:
    """A consumer and a registry it pulls from, and how pullpath knows."""

    consumer: Consumer
    login_server: str
    registry: Registry | None
    credential: RegistryCredential | None
    via: str
    """``image``, ``credential``, ``role-assignment`` or ``bootstrap`` (the private registry a
    network isolated AKS cluster bootstraps from)."""


def _serverless(consumer: Consumer) -> RegistryCredential | None:
    """A credential not tied to one login server (AKS kubelet identity or service principal)."""
    for cred in consumer.credentials:
        if not cred.server:
            return cred
    return None


def _pair_key(ref: PairRef) -> tuple[str, str]:
    """A pair's cache key: consumer and registry (a regional endpoint host apart from the
    registry's login server: its DNS records differ)."""
    if ref.registry is None:
        return ref.consumer.id, ref.login_server
    regional = regional_endpoint(ref.login_server)
    return ref.consumer.id, ref.registry.id + (f"@{regional[1]}" if regional else "")


def credential_for(consumer: Consumer, login_server: str) -> RegistryCredential | None:
    ls = login_server.lower()
    for cred in consumer.credentials:
        if cred.server == ls:
            return cred
    return _serverless(consumer)
