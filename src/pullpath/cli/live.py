"""Live Azure commands: ``pullpath inventory``, ``pullpath service-tags update|show``, and the
live log sources of ``pullpath audit`` (``--workspace``, ``--storage-account``).

Credentials are azure-identity's ``DefaultAzureCredential`` (``--tenant`` like ``az``); retry
and timeout settings come from ``PULLPATH_*`` environment variables (README, "Live Azure").
Progress goes to stderr, data to stdout or ``--output``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import typer

from pullpath.cli.common import fail, literal, stderr, user_errors, warn, write_output

if TYPE_CHECKING:
    from pullpath.formatters.audit_doc import AuditReport

SUBSCRIPTION_HELP = "Subscription ID or name (repeatable); default: AZURE_SUBSCRIPTION_ID or az's."
TENANT_HELP = "Tenant ID or domain for the tokens (like az --tenant); default: the credential's."


def _errors() -> tuple[type[BaseException], ...]:
    from pullpath.adapters.azure.credentials import CredentialError
    from pullpath.adapters.azure.errors import LiveAzureError
    from pullpath.adapters.azure.retry import SettingsError
    from pullpath.adapters.inventory_files import InventoryError
    from pullpath.core.kql import KqlError
    from pullpath.core.servicetags import ServiceTagError

    return (LiveAzureError, CredentialError, SettingsError, KqlError, ServiceTagError,
            InventoryError)


def progress(text: str) -> None:
    """A progress line on stderr (never data, never a secret)."""
    stderr.print(f"[dim]{literal(text, 300)}[/]")


def _quiet_sdk_logging() -> None:
    """azure-identity logs each credential it tries at WARNING; pullpath reports failures
    itself, in one message, so keep the SDK loggers to errors."""
    logging.getLogger("azure").setLevel(logging.ERROR)


def credential(tenant: str | None) -> Any:
    from pullpath.adapters.azure import credentials

    _quiet_sdk_logging()
    return credentials.make_credential(tenant)


def settings() -> Any:
    from pullpath.adapters.azure.retry import ClientSettings

    return ClientSettings.from_env()


def tags_for_audit(path: Path | None) -> Any:
    """The tag index an audit uses (explicit file, newer cached Discovery API, or bundled),
    with its age printed on stderr."""
    from pullpath.adapters.azure.servicetags_api import choose_service_tags

    index, note = choose_service_tags(path)
    progress(note)
    return index


def default_service_tags(path: Path | None) -> Path | None:
    """For file audits: the cached Discovery API file when it is newer than the bundled
    snapshot (None: bundled), unless a file was given."""
    from pullpath.adapters.servicetags_files import BUNDLED_NAME, cached_discovery_tags
    from pullpath.core.servicetags import published_from_name

    if path is not None:
        return path
    cached = cached_discovery_tags("Public")
    bundled = published_from_name(BUNDLED_NAME)
    if cached is not None and bundled is not None and cached.fetched > bundled:
        return cached.path
    return None


def show_tags_age(report: AuditReport) -> None:
    tags = report.tags
    age = ""
    if tags.published:
        try:
            days = (date.today() - date.fromisoformat(tags.published)).days
            age = f", published {tags.published} ({days} day(s) ago)"
        except ValueError:
            age = f", published {tags.published}"
    progress(f"service tags: {tags.source} (cloud {tags.cloud or '?'}, changeNumber "
             f"{tags.change_number or '?'}{age})")


def live_audit(
    *,
    workspace: str | None,
    storage_account: str | None,
    since: str | None,
    start: str | None,
    end: str | None,
    registries: Sequence[str],
    operations: Sequence[str],
    kql: bool,
    tenant: str | None,
    subscriptions: Sequence[str],
    inventory_paths: Sequence[Path],
    service_tags: Path | None,
    output: Path | None,
) -> AuditReport | None:
    """Run a live audit (or print its KQL with ``--kql``: returns None)."""
    from pullpath.core.kql import parse_registry, resolve_range

    with user_errors(*_errors()):
        window = resolve_range(since=since, start=start, end=end, now=datetime.now(UTC))
        filters = [parse_registry(r) for r in registries]
        if operations and not workspace:
            fail("--operation applies to --workspace only (the archive is read whole per hour)")
        if kql:
            from pullpath.adapters.azure.loganalytics import plan_queries

            plan = plan_queries(window, registries=filters, operations=operations)
            text = "\n\n".join(plan.queries) + "\n"
            write_output(text, output)
            stderr.print(
                f"[dim]{len(plan.queries)} query(ies), one per window of at most 1 day; a window "
                "over the service limits is split in two and queried again[/]"
            )
            return None
        cfg = settings()
        cred = credential(tenant)
        try:
            inventory = _inventory(inventory_paths, subscriptions, cred, cfg)
            tags = tags_for_audit(service_tags)
            if workspace:
                from pullpath.workflows.live import audit_workspace

                return audit_workspace(
                    workspace.strip(), window, credential=cred, settings=cfg,
                    inventory=inventory, tags=tags, registries=filters,
                    operations=list(operations), progress=progress,
                )
            from pullpath.adapters.azure.storage_archive import parse_storage_target
            from pullpath.workflows.live import audit_storage

            assert storage_account is not None
            location = parse_storage_target(
                storage_account, blob_suffix=cfg.endpoints.blob_suffix
            )
            return audit_storage(
                location, window, credential=cred, settings=cfg, inventory=inventory,
                tags=tags, registries=filters, progress=progress,
            )
        finally:
            _close(cred)


def _inventory(paths: Sequence[Path], subscriptions: Sequence[str], cred: Any, cfg: Any) -> Any:
    from pullpath.workflows.audit import load_inventory

    if paths or not subscriptions:
        return load_inventory(paths)
    from pullpath.adapters.azure.credentials import resolve_subscriptions
    from pullpath.workflows.live import fetch_inventory, inventory_of

    subs = resolve_subscriptions(subscriptions)
    live = fetch_inventory(subs, credential=cred, settings=cfg, progress=progress)
    for text in live.warnings:
        warn(text)
    return inventory_of(live)


def live_inventory_for(subscriptions: Sequence[str], tenant: str | None) -> Any:
    """The inventory of ``subscriptions`` read live (Resource Graph + role assignments +
    diagnostic settings), with the same error handling as a live audit."""
    with user_errors(*_errors()):
        cfg = settings()
        cred = credential(tenant)
        try:
            return _inventory((), subscriptions, cred, cfg)
        finally:
            _close(cred)


def _close(cred: Any) -> None:
    close = getattr(cred, "close", None)
    if close is not None:
        try:
            close()
        except Exception:  # closing a credential must never hide the real outcome
            logging.getLogger(__name__).debug("closing the credential failed", exc_info=False)


def register(app: typer.Typer) -> None:
    @app.command("inventory")
    def inventory(
        subscription: list[str] = typer.Option([], "--subscription", "-s", help=SUBSCRIPTION_HELP),
        tenant: str | None = typer.Option(None, "--tenant", help=TENANT_HELP),
        output: Path | None = typer.Option(
            None, "--output", "-o", help="Write the inventory JSON here (default: stdout)."
        ),
        role_assignments: bool = typer.Option(
            True, "--role-assignments/--no-role-assignments",
            help="Also list role assignments on each registry (at and above its scope).",
        ),
        diagnostic_settings: bool = typer.Option(
            True, "--diagnostic-settings/--no-diagnostic-settings",
            help="Also list each registry's diagnostic settings.",
        ),
    ) -> None:
        """Read the inventory from Azure Resource Graph and save it for offline use.

        The file is an ARM list ({"value": [...]}) that --inventory reads back as is.

        Example:

            pullpath inventory --subscription 00000000-0000-0000-0000-000000000000 -o inv.json
        """
        from pullpath.adapters.azure.credentials import resolve_subscriptions
        from pullpath.workflows.live import fetch_inventory

        with user_errors(*_errors()):
            subs = resolve_subscriptions(subscription)
            cfg = settings()
            cred = credential(tenant)
            try:
                live = fetch_inventory(
                    subs, credential=cred, settings=cfg, role_assignments=role_assignments,
                    diagnostic_settings=diagnostic_settings, progress=progress,
                )
            finally:
                _close(cred)
        for text in live.warnings:
            warn(text)
        count = len(live.document["value"])
        stderr.print(f"[dim]{count} resource(s) from {len(subs)} subscription(s), "
                     f"{live.registries} registry(ies)[/]")
        write_output(orjson.dumps(live.document, option=orjson.OPT_INDENT_2).decode() + "\n",
                     output)

    tags_app = typer.Typer(
        help="Service tags: refresh them from the Discovery API, show which ones audit uses.",
        no_args_is_help=True,
    )

    @tags_app.command("update")
    def update(
        location: str = typer.Option(
            ..., "--location", "-l",
            help="Region the API is asked in, e.g. westeurope (tags of the whole cloud come "
                 "back whatever the region).",
        ),
        subscription: str | None = typer.Option(None, "--subscription", "-s",
                                                help="Subscription ID or name; default: az's."),
        tenant: str | None = typer.Option(None, "--tenant", help=TENANT_HELP),
    ) -> None:
        """Fetch the service tags from the Service Tag Discovery API into the local cache.

        Example:

            pullpath service-tags update --location westeurope
        """
        from pullpath.adapters.azure.credentials import resolve_subscriptions
        from pullpath.workflows.live import update_service_tags

        with user_errors(*_errors()):
            subs = resolve_subscriptions([subscription] if subscription else [])
            cfg = settings()
            cred = credential(tenant)
            try:
                result = update_service_tags(location, subs[0], credential=cred, settings=cfg,
                                             progress=progress)
            finally:
                _close(cred)
        stderr.print(
            f"service tags: cloud {result.cloud or '?'}, changeNumber "
            f"{result.change_number or '?'}, {result.tags} tags ({result.pages} page(s)) saved "
            f"to {result.path}",
            markup=False,
        )

    @tags_app.command("show")
    def show(
        service_tags: Path | None = typer.Option(
            None, "--service-tags", help="Show this file instead of the default choice."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Show which service tags audit uses (file, cached Discovery API, or the bundled
        snapshot), their changeNumber and age."""
        from pullpath.adapters.azure.servicetags_api import (
            cached_discovery_tags,
            choose_service_tags,
        )

        with user_errors(*_errors()):
            index, note = choose_service_tags(service_tags)
        cached = cached_discovery_tags("Public")
        days = (date.today() - index.published).days if index.published else None
        doc = {
            "source": index.source,
            "cloud": index.cloud,
            "change_number": index.change_number,
            "published": index.published.isoformat() if index.published else None,
            "age_days": days,
            "tags": len(index),
            "prefixes": len(index.prefix_index),
            "cached_discovery": str(cached.path) if cached else None,
        }
        if as_json:
            write_output(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n", None)
            return
        lines = [note, f"{doc['tags']} tags, {doc['prefixes']} prefixes"]
        if cached is None:
            lines.append("no cached Discovery API response "
                         "(pullpath service-tags update --location REGION)")
        elif str(cached.path) not in index.source:
            lines.append(f"cached Discovery API response not used (older than the snapshot): "
                         f"{cached.path}")
        write_output("\n".join(lines) + "\n", None)

    app.add_typer(tags_app, name="service-tags")
