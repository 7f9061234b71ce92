"""Live Azure commands: ``pullpath inventory``, ``pullpath service-tags update|show``, and the
live log sources of ``pullpath audit`` (``--workspace``, ``--storage-account``).

Credentials are azure-identity's ``DefaultAzureCredential`` (``--tenant`` like ``az``); retry
and timeout settings come from ``PULLPATH_*`` environment variables (docs/live-azure.md).
Progress goes to stderr, data to stdout or ``--output``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import typer

from pullpath.cli.common import fail, literal, stderr, user_errors, warn, write_output

if TYPE_CHECKING:
    from pullpath.domain.report import AuditReport

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


def tags_for_audit(path: Path | None, cloud: str = "Public") -> Any:
    """The tag index an audit uses (explicit file, else the newest cached file of ``cloud``, or
    the bundled one), with its age printed on stderr."""
    from pullpath.adapters.azure.servicetags_api import choose_service_tags

    index, note = choose_service_tags(path, cloud=cloud)
    progress(note)
    return index


def default_service_tags(path: Path | None, cloud: str = "Public") -> Path | None:
    """For file audits: the newest cached file of ``cloud`` (weekly download or Discovery
    API) when newer than the bundled snapshot or of another cloud (None: bundled), unless a
    file was given."""
    from pullpath.adapters.servicetags_files import choose_tags_file

    return choose_tags_file(path, cloud)


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
            tags = tags_for_audit(service_tags, _cloud_of(inventory, registries))
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


def _cloud_of(inventory: Any, registries: Sequence[str]) -> str:
    """The cloud a live audit's tags are chosen for: the one the inventory's registries (else
    the --registry login servers) are in, when there is exactly one; else Public."""
    from pullpath.workflows.audit import single_cloud

    servers = [r.login_server for r in inventory.registries.values()] or list(registries)
    return single_cloud(servers) or "Public"


def _fetch_live(subscriptions: Sequence[str], cred: Any, cfg: Any) -> Any:
    """Resource Graph (and each registry's role assignments and diagnostic settings) across
    ``subscriptions``, its warnings shown."""
    from pullpath.adapters.azure.credentials import resolve_subscriptions
    from pullpath.workflows.live import fetch_inventory

    subs = resolve_subscriptions(subscriptions)
    live = fetch_inventory(subs, credential=cred, settings=cfg, progress=progress)
    for text in live.warnings:
        warn(text)
    return live


def _inventory(paths: Sequence[Path], subscriptions: Sequence[str], cred: Any, cfg: Any) -> Any:
    from pullpath.workflows.audit import load_inventory

    if paths or not subscriptions:
        return load_inventory(paths)
    from pullpath.workflows.live import inventory_of

    return inventory_of(_fetch_live(subscriptions, cred, cfg))


def _with_credential(tenant: str | None, read: Callable[[Any, Any], Any]) -> Any:
    """``read(credential, settings)`` with the same error handling as a live audit, the
    credential closed afterwards."""
    with user_errors(*_errors()):
        cfg = settings()
        cred = credential(tenant)
        try:
            return read(cred, cfg)
        finally:
            _close(cred)


def live_inventory_for(subscriptions: Sequence[str], tenant: str | None) -> Any:
    """The inventory of ``subscriptions`` read live (Resource Graph + role assignments +
    diagnostic settings), with the same error handling as a live audit."""
    return _with_credential(tenant, lambda cred, cfg: _inventory((), subscriptions, cred, cfg))


def live_documents_for(subscriptions: Sequence[str], tenant: str | None
                       ) -> list[tuple[str, object]]:
    """The same live inventory as documents (what infrastructure code is explained over)."""
    from pullpath.workflows.live import inventory_documents

    docs: list[tuple[str, object]] = _with_credential(
        tenant, lambda cred, cfg: inventory_documents(_fetch_live(subscriptions, cred, cfg)))
    return docs


def _close(cred: Any) -> None:
    close = getattr(cred, "close", None)
    if close is not None:
        try:
            close()
        except Exception:  # closing a credential must never hide the real outcome
            logging.getLogger(__name__).debug("closing the credential failed", exc_info=False)


def _clouds(option: str) -> list[Any]:
    from pullpath.knowledge.clouds import cloud_by_option, clouds

    names = [p.strip().lower() for p in option.split(",") if p.strip()]
    if not names or "all" in names:
        return list(clouds())
    chosen = []
    for name in names:
        cloud = cloud_by_option(name)
        if cloud is None:
            fail(f"--cloud {name!r}: not a cloud pullpath knows",
                 hint="--cloud public, usgov, china (comma-separated) or all")
        if cloud not in chosen:
            chosen.append(cloud)
    return chosen


def _update_weekly(chosen: Sequence[Any], mirror: str | None) -> None:
    from pullpath.adapters.azure.servicetags_download import DownloadError
    from pullpath.workflows.live import update_weekly_service_tags

    with user_errors(*_errors(), DownloadError):
        results = update_weekly_service_tags(chosen, settings=settings(), mirror=mirror,
                                             progress=progress)
    failed = 0
    for r in results:
        if r.status == "failed":
            failed += 1
            stderr.print(f"[bold red]error:[/] service tags {literal(r.cloud, 40)}: "
                         f"{literal(r.message, 600)}")
        elif r.status == "current":
            stderr.print(f"service tags {r.cloud}: {r.path.name if r.path else '?'} is the "
                         f"newest and is cached already ({r.path})", markup=False)
        else:
            stderr.print(f"service tags {r.cloud}: {r.path.name if r.path else '?'} "
                         f"(changeNumber {r.change_number or '?'}, {r.tags} tags) saved to "
                         f"{r.path}", markup=False)
    if failed:
        stderr.print("[dim]hint:[/] check the network and proxy (HTTPS_PROXY); offline, pass "
                     "a downloaded file with --service-tags FILE")
        raise typer.Exit(2)


def _update_discovery(location: str, subscription: str | None, tenant: str | None) -> None:
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
        help="Service tags: keep Microsoft's weekly files current, show which ones audit uses.",
        no_args_is_help=True,
    )

    @tags_app.command("update")
    def update(
        cloud: str = typer.Option(
            "all", "--cloud",
            help="Whose weekly file to fetch: public, usgov, china (comma-separated) or all.",
        ),
        mirror: str | None = typer.Option(
            None, "--mirror", envvar="PULLPATH_SERVICE_TAGS_MIRROR", show_envvar=False,
            help="For mirrors: read the download pages (details.aspx?id=N linking the files) "
                 "from this https:// URL instead of https://www.microsoft.com/download/ "
                 "(also PULLPATH_SERVICE_TAGS_MIRROR).",
        ),
        discovery: bool = typer.Option(
            False, "--discovery",
            help="Use the Service Tag Discovery API instead (Azure credentials, --location).",
        ),
        location: str | None = typer.Option(
            None, "--location", "-l",
            help="--discovery: region the API is asked in, e.g. westeurope (tags of the whole "
                 "cloud come back whatever the region). Implies --discovery.",
        ),
        subscription: str | None = typer.Option(
            None, "--subscription", "-s",
            help="--discovery: subscription ID or name; default: az's.",
        ),
        tenant: str | None = typer.Option(None, "--tenant", help="--discovery: " + TENANT_HELP),
    ) -> None:
        """Download Microsoft's weekly service-tag files (Public, AzureGovernment, China) from
        their Microsoft Download Center pages into the local cache, without credentials. Each
        is checked (JSON, the right cloud, changeNumber, tags that parse) and saved atomically;
        audits use the newest one of their logs' cloud.

        Examples:

            pullpath service-tags update

            pullpath service-tags update --cloud usgov

            pullpath service-tags update --discovery --location westeurope
        """
        if discovery or location:
            if not location:
                fail("--discovery needs --location REGION",
                     hint="pullpath service-tags update --discovery --location westeurope")
            if cloud != "all" or mirror:
                fail("--cloud and --mirror apply to the weekly downloads; the Discovery API "
                     "returns the cloud of the subscription")
            _update_discovery(location, subscription, tenant)
            return
        if subscription or tenant:
            fail("--subscription and --tenant apply to --discovery (the weekly files need no "
                 "credentials)")
        _update_weekly(_clouds(cloud), mirror)

    @tags_app.command("show")
    def show(
        service_tags: Path | None = typer.Option(
            None, "--service-tags", help="Show this file instead of the default choice."
        ),
        cloud: str = typer.Option(
            "public", "--cloud",
            help="Show the choice for logs of this cloud: public, usgov or china.",
        ),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Show which service tags audit uses (a file, the newest cached weekly download or
        Discovery API response of the logs' cloud, or the bundled snapshot), their
        changeNumber and age."""
        from pullpath.adapters.azure.servicetags_api import (
            cached_discovery_tags,
            choose_service_tags,
        )
        from pullpath.adapters.servicetags_files import cached_weekly_tags
        from pullpath.knowledge.clouds import clouds

        picked = _clouds(cloud)
        if len(picked) != 1:
            fail(f"--cloud {cloud!r}: show takes one cloud", hint="--cloud public, usgov or china")
        chosen = picked[0]
        with user_errors(*_errors()):
            index, note = choose_service_tags(service_tags, cloud=chosen.name)
        cached = cached_discovery_tags(chosen.name)
        weekly = {c.name: cached_weekly_tags(c.name) for c in clouds()}
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
            "cached_weekly": {name: str(w.path) if w else None for name, w in weekly.items()},
        }
        if as_json:
            write_output(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n", None)
            return
        lines = [note, f"{doc['tags']} tags, {doc['prefixes']} prefixes"]
        for name, found in weekly.items():
            lines.append(f"cached weekly file, {name}: "
                         + (f"{found.path.name} ({found.path})" if found else "none"))
        if not any(weekly.values()):
            lines.append("keep them current with: pullpath service-tags update")
        if cached is not None and str(cached.path) not in index.source:
            lines.append(f"cached Discovery API response not used (older): {cached.path}")
        write_output("\n".join(lines) + "\n", None)

    app.add_typer(tags_app, name="service-tags")
