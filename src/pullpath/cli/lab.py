"""``pullpath lab``: plan (offline), up, trigger, collect, down, run, list, scenarios."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

import typer

from pullpath.cli.common import (
    EXIT_FAIL_ON,
    FORMAT_HELP,
    Format,
    emit_report,
    fail,
    guard_outputs,
    literal,
    output_format,
    stderr,
    write_file,
    write_output,
)

if TYPE_CHECKING:
    from pullpath.domain.report import LabReport

lab_app = typer.Typer(
    name="lab",
    help=(
        "Measure it: deploy the design's experiment in a throw-away resource group, make it "
        "pull, read the registry's logs, compare with the prediction, delete everything.\n\n"
        "`lab plan` is offline and free; every other command uses your Azure subscription "
        "and costs money while the lab exists (see `lab plan` for the estimate)."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
)

PLAN_SCHEMA = "pullpath.lab.plan/v1"

_LOCATION = typer.Option("japaneast", "--location", "-l",
                         help="Azure region of the lab (the field report's: japaneast).")
_SCENARIO = typer.Argument("field-report",
                           help="A bundled scenario name (default: field-report, the 2024-11-25 "
                                "field report), NAME:VARIANT, or a scenario YAML file.")
_VARIANT = typer.Option(None, "--variant",
                        help="One of the scenario's variants (`pullpath lab scenarios` lists "
                             "them), e.g. trusted-off.")
_TRIGGER = typer.Option("stop-start", "--trigger",
                        help="How consumers pull again: stop-start (as in the field report), "
                             "restart (ACI restart, Container App revision restart) or "
                             "new-revision (ACI stop-start, a new Container App revision).")
_ROLE_TIMEOUT = typer.Option(900.0, "--role-timeout",
                             help="Seconds a new AcrPull assignment may take to be listed and "
                                  "effective; a consumer refused for its identity within it is "
                                  "deployed again.")
_DELIVERY_TIMEOUT = typer.Option(1800.0, "--delivery-timeout",
                                 help="Seconds the diagnostic setting may take to deliver the "
                                      "consumers' first pulls before the trigger.")
_POLL = typer.Option(30.0, "--poll", help="Seconds between two checks of every wait.")
_SUBSCRIPTION = typer.Option(None, "--subscription", "-s",
                             help="Subscription ID or name (default: AZURE_SUBSCRIPTION_ID or "
                                  "the Azure CLI's default).")
_TENANT = typer.Option(None, "--tenant", help="Entra tenant ID for the credential.")
_RUN_ID = typer.Option(..., "--run-id", help="The lab run ID (`pullpath lab list` shows them).")
_FORMAT = typer.Option(None, "--format", "-f", help="Output format (default: table).")
_REPORT_FORMAT = typer.Option(None, "--format", "-f", help=FORMAT_HELP)
_OUTPUT = typer.Option(None, "--output", "-o", help="Write the report to FILE.")


def register(app: typer.Typer) -> None:
    app.add_typer(lab_app, name="lab")


# ------------------------------------------------------------------------------ helpers


_TIME_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S%z",
                 "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S.%f%z"]
"""What --since and --after read: the click defaults, and ISO 8601 with fractions and a zone
(``Z`` too), as `lab trigger` prints its time."""


def _scenario(name: str, variant: str | None = None) -> Any:
    from pullpath.lab.scenarios import ScenarioError, load_scenario

    try:
        return load_scenario(name, variant)
    except ScenarioError as exc:
        fail(str(exc), hint="`pullpath lab scenarios` lists the bundled scenarios and variants")


def _waits(poll: float, role_timeout: float, delivery_timeout: float) -> Any:
    from pullpath.lab.runner import Waits

    if poll < 0 or role_timeout < 0 or delivery_timeout <= 0:
        fail("--poll and --role-timeout must be >= 0 and --delivery-timeout > 0")
    return Waits(poll=poll, role_timeout=role_timeout, delivery_timeout=delivery_timeout)


def _trigger_mode(value: str) -> str:
    from pullpath.lab.runner import TRIGGERS

    if value not in TRIGGERS:
        fail(f"--trigger {value!r} is not a trigger", hint=f"one of {', '.join(TRIGGERS)}")
    return value


def _run_id(value: str | None) -> str:
    from pullpath.lab.render import new_run_id, valid_run_id

    if value is None:
        return new_run_id()
    if not valid_run_id(value):
        fail(f"--run-id {value!r} is not a lab run ID",
             hint="8 lower-case letters and digits starting with a letter, e.g. k3v9x2ab")
    return value


def _progress() -> Any:
    start = time.monotonic()

    def say(message: str) -> None:
        elapsed = time.monotonic() - start
        stderr.print(f"[dim][{elapsed:6.0f}s][/] {literal(message, 600)}")

    return say


def _runner(subscription: str | None, tenant: str | None) -> Any:
    """A runner on the real Azure endpoints with DefaultAzureCredential (never prints a
    token). ``PULLPATH_ARM_ENDPOINT`` / ``PULLPATH_LOGS_ENDPOINT`` select other clouds;
    ``PULLPATH_LRO_POLLING_INTERVAL`` the seconds between polls of a long-running operation
    that names no Retry-After (the SDK's default: 30)."""
    from pullpath.lab.runner import AzureTarget, LabRunner

    try:
        from pullpath.adapters.azure.credentials import (
            CredentialError,
            make_credential,
            resolve_subscriptions,
        )
    except ImportError:  # the live-Azure adapters are not in this build
        sub = subscription or os.environ.get("AZURE_SUBSCRIPTION_ID", "")
        if not sub:
            fail("no subscription", hint="pass --subscription ID or set AZURE_SUBSCRIPTION_ID")
        from azure.identity import DefaultAzureCredential

        credential: Any = DefaultAzureCredential(exclude_interactive_browser_credential=True)
    else:
        try:
            sub = resolve_subscriptions([subscription] if subscription else [])[0]
            credential = make_credential(tenant)
        except CredentialError as exc:
            fail(str(exc))
    polling = os.environ.get("PULLPATH_LRO_POLLING_INTERVAL", "").strip()
    try:
        interval = float(polling) if polling else None
    except ValueError:
        fail(f"PULLPATH_LRO_POLLING_INTERVAL={polling!r} is not a number of seconds")
    target = AzureTarget(
        credential=credential,
        subscription_id=sub,
        arm_endpoint=os.environ.get("PULLPATH_ARM_ENDPOINT", "https://management.azure.com"),
        logs_endpoint=os.environ.get("PULLPATH_LOGS_ENDPOINT", "https://api.loganalytics.io"),
        lro_polling_interval=interval,
    )
    return LabRunner(target, progress=_progress())


def _tags(path: Path | None) -> Any:
    from pullpath.adapters.servicetags_files import load_service_tags
    from pullpath.core.servicetags import ServiceTagError

    try:
        return load_service_tags(path)
    except (ServiceTagError, OSError) as exc:
        fail(f"service tags: {exc}")


def _poll(first_delay: float, max_delay: float, timeout: float) -> Any:
    from pullpath.lab.runner import PollSettings

    if first_delay < 0 or max_delay < 0 or timeout <= 0:
        fail("--first-delay/--max-delay must be >= 0 and --collect-timeout > 0")
    return PollSettings(first_delay=first_delay, max_delay=max(max_delay, first_delay),
                        timeout=timeout)


PlainFormat = Literal["table", "json"]
ReportFormat = Literal["table", "json", "markdown", "html"]
REPORT_FORMATS = get_args(ReportFormat)


def _scenario_file(scenario: str) -> Path | None:
    """The scenario argument when it names a file (an input no output may overwrite)."""
    path = Path(scenario)
    return path if path.is_file() else None


def _emit_report(report: LabReport, fmt: Format, output: Path | None) -> None:
    from pullpath.formatters.registry import LAB_RENDERERS

    emit_report("lab", report, LAB_RENDERERS, fmt, output)


def _lab_errors() -> Any:
    from pullpath.lab.runner import LabError

    return LabError


# ------------------------------------------------------------------------------ commands


@lab_app.command("scenarios")
def scenarios_cmd() -> None:
    """List the bundled scenarios and what each expects."""
    from pullpath.lab.scenarios import list_scenarios, load_scenario

    for name in list_scenarios():
        base = load_scenario(name)
        for variant in ("", *base.variants):
            s = load_scenario(name, variant or None)
            expects = ", ".join(f"{c.key}: {c.expect.path.value}"
                                + (f" (deployment {c.expect.deployment})"
                                   if c.expect.deployment != "succeeds" else "")
                                + (f", documented {c.expect.documented.path.value}"
                                   if c.expect.documented else "")
                                for c in s.consumers)
            typer.echo(f"{s.ident}\t{s.title}\texpects {expects}")
        for dropped, reason in base.dropped_variants:
            typer.echo(f"{name}:{dropped}\tnot built\t{reason}")


@lab_app.command("plan")
def plan_cmd(
    scenario: str = _SCENARIO,
    variant: str | None = _VARIANT,
    location: str = _LOCATION,
    run_id: str | None = typer.Option(None, "--run-id", help="Run ID to plan names with "
                                      "(default: a new random one)."),
    output_dir: Path | None = typer.Option(None, "--output-dir", "-d",
                                           help="Write the templates, parameters, az CLI "
                                                "script and plan.json here."),
    format_name: PlainFormat | None = _FORMAT,
) -> None:
    """Offline: the ARM templates, the equivalent az CLI script, the resources, the estimated
    hourly cost and the prediction for a scenario. Touches no Azure API."""
    from pullpath.lab.cli_script import az_cli_script
    from pullpath.lab.cost import estimate
    from pullpath.lab.predict import predict_for_scenario
    from pullpath.lab.render import lab_names, render, would_be_resources

    fmt = output_format(format_name, None, "lab plan", get_args(PlainFormat))
    s = _scenario(scenario, variant)
    rid = _run_id(run_id)
    lab = render(s, lab_names(s, rid), location)
    base, consumers, outputs = would_be_resources(lab)
    cost = estimate(lab)
    predictions = predict_for_scenario(lab)
    script = az_cli_script(lab)
    doc: dict[str, Any] = {
        "schema": PLAN_SCHEMA,
        "scenario": {"name": s.name, "variant": s.variant, "title": s.title,
                     "question": s.question, "report": s.report,
                     "variants": list(s.variants),
                     "dropped_variants": [{"name": k, "reason": v}
                                          for k, v in s.dropped_variants]},
        "run_id": rid,
        "location": location,
        "resource_group": lab.names.resource_group,
        "steps": _plan_steps(s, lab),
        "resources": [{"step": step, "type": r.type, "name": r.name, "api_version": r.api_version}
                      for step, group in (("base", base), ("consumers", consumers))
                      for r in group],
        "cost": {"currency": cost.currency, "basis": cost.basis, "checked": cost.checked,
                 "per_hour": round(cost.per_hour, 4),
                 "lines": [{"resource": ln.resource, "price": ln.price.key,
                            "quantity": ln.quantity, "per_hour": round(ln.per_hour, 5),
                            "source": ln.price.source, "verified": ln.price.verified}
                           for ln in cost.lines],
                 "unverified_prices": list(cost.unverified)},
        "prediction": [{"consumer": p.consumer_key, "path": p.path.value, "source": p.source,
                        "rule": p.rule, "reasons": list(p.reasons)} for p in predictions],
        "expected": [{"consumer": c.key, "path": c.expect.path.value,
                      "deployment": c.expect.deployment,
                      "failure_codes": list(c.expect.failure_codes),
                      "knowledge": c.expect.knowledge, "why": c.expect.why,
                      "documented": _claim_doc(c.expect.documented),
                      "reported": _claim_doc(c.expect.reported)}
                     for c in s.consumers],
        "knowledge": [{"id": k.id, "statement": k.statement, "source": k.source,
                       "as_of": k.as_of} for k in s.knowledge],
        "outputs_planned": sorted(outputs),
    }
    if output_dir is not None:
        files = {
            "base.template.json": lab.base_template,
            "base.parameters.json": _parameters_file(lab.base_parameters()),
            "consumers.template.json": lab.consumers_template,
            "consumers.parameters.json": _parameters_file(
                lab.consumers_parameters(str(outputs["registryLoginServer"]))),
            "plan.json": doc,
        }
        texts = {fname: json.dumps(content, indent=2) + "\n" for fname, content in files.items()}
        texts["deploy.sh"] = script + "\n"
        guard_outputs([("--output-dir", output_dir / fname) for fname in texts],
                      [("scenario", _scenario_file(scenario))])
        try:
            output_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            fail(f"cannot write to {output_dir}: {exc.strerror or exc}")
        for fname, text in texts.items():
            write_file(output_dir / fname, text.encode("utf-8"))
        stderr.print(f"[dim]wrote {len(files) + 1} files to {literal(str(output_dir))}[/]")
    if fmt is Format.JSON:
        full = dict(doc)
        if output_dir is None:
            full["templates"] = {"base": lab.base_template, "consumers": lab.consumers_template}
            full["az_cli_script"] = script
        write_output(json.dumps(full, indent=2) + "\n", None)
        return
    lines = [f"pullpath lab plan {s.ident} (run {rid}, {location}): {s.title}", ""]
    if s.report:
        lines += [f"Rebuilds: {s.report}", ""]
    lines += ["Claims, stated before the run:"]
    for p, c in zip(predictions, s.consumers, strict=True):
        documented = c.expect.documented
        reported = c.expect.reported
        lines.append(f"  {c.key} ({c.kind}): documented "
                     f"{documented.path.value if documented else '(no claim)'}"
                     + (f", reported {reported.path.value} ({reported.as_of})" if reported else "")
                     + f", predicted {p.path.value} [{p.source}; {p.rule}]"
                     + (f"; deployment {c.expect.deployment}"
                        if c.expect.deployment != "succeeds" else ""))
    if s.variants and not s.variant:
        lines.append(f"  variants (--variant): {', '.join(s.variants)}")
    for dropped, reason in s.dropped_variants:
        lines.append(f"  not built: {dropped}: {reason}")
    lines += ["", "Steps:", *(f"  {i}. {step}" for i, step in enumerate(doc["steps"], 1)),
              "", "Resources:"]
    for r in doc["resources"]:
        lines.append(f"  [{r['step']}] {r['type']} {r['name']} (api {r['api_version']})")
    lines += ["", f"Estimated cost while it exists: {cost.currency} {cost.per_hour:.3f}/hour "
                  f"({cost.basis}, prices checked {cost.checked})"]
    for ln in cost.lines:
        flag = "" if ln.price.verified else " *"
        lines.append(f"  {ln.per_hour:8.4f}/h  {ln.resource}{flag}")
    if cost.unverified:
        lines.append("  * rate not verified against the pricing page: see the source in "
                     "plan.json / prices.yaml")
    if output_dir is None:
        lines += ["", "--- base.template.json ---", json.dumps(lab.base_template, indent=2),
                  "", "--- consumers.template.json ---",
                  json.dumps(lab.consumers_template, indent=2), "", "--- deploy.sh ---", script]
    write_output("\n".join(lines) + "\n", None)


def _claim_doc(claim: Any) -> dict[str, Any] | None:
    if claim is None:
        return None
    return {"path": claim.path.value, "source": claim.source, "as_of": claim.as_of,
            "says": claim.says}


def _plan_steps(s: Any, lab: Any) -> list[str]:
    from pullpath.lab.render import switches_bypass_after_import

    img = s.image
    steps = [
        "create the resource group (refused if it exists; tagged only once ARM answers 201)",
        f"deploy {lab.names.base_deployment}",
        f"import {img.source_registry}/{img.source_image} as {img.target}",
        "wait until every AcrPull assignment is listed on the registry",
        f"deploy {lab.names.consumers_deployment}"
        + (" (first the registry's bypass switched off)" if switches_bypass_after_import(s)
           else "")
        + "; a consumer refused for its identity within the role timeout is deployed again",
        "wait until the diagnostic setting delivers the consumers' first pulls",
        "trigger: stop then start each consumer (--trigger)",
        "collect: wait for each consumer's pull after the trigger",
        "audit and compare with the documentation and the prediction",
        "delete the resource group",
    ]
    return steps


def _parameters_file(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/"
                   "deploymentParameters.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {k: {"value": v} for k, v in values.items()},
    }


@lab_app.command("up")
def up_cmd(
    scenario: str = _SCENARIO,
    variant: str | None = _VARIANT,
    location: str = _LOCATION,
    run_id: str | None = typer.Option(None, "--run-id", help="Default: a new random one."),
    role_timeout: float = _ROLE_TIMEOUT,
    poll: float = _POLL,
    subscription: str | None = _SUBSCRIPTION,
    tenant: str | None = _TENANT,
    keep_on_failure: bool = typer.Option(False, "--keep-on-failure",
                                         help="Keep the resource group when a step fails."),
) -> None:
    """Create the lab: tagged resource group, base deployment, image import, the wait for the
    AcrPull assignments, consumers."""
    s = _scenario(scenario, variant)
    rid = _run_id(run_id)
    waits = _waits(poll, role_timeout, 1.0)
    runner = _runner(subscription, tenant)
    lab_error = _lab_errors()
    created = False
    try:
        runner.create_resource_group_for(s, location=location, run_id=rid)
        created = True
        state = runner.up(s, location=location, run_id=rid, group_exists=True, waits=waits)
    except lab_error as exc:
        if created and not keep_on_failure:
            runner.say("tearing down after the failure")
            try:
                runner.down(rid)
            except lab_error as down_exc:
                stderr.print(f"teardown failed: {literal(str(down_exc))}")
        fail(str(exc), hint=f"`pullpath lab down --run-id {rid}` deletes what is left")
    except KeyboardInterrupt:
        if created and not keep_on_failure:
            runner.say("interrupted: tearing down")
            runner.down(rid)
        raise
    for key, codes in state.consumer_errors.items():
        stderr.print(f"consumer {literal(key)}: deployment failed ({literal(', '.join(codes))})")
    typer.echo(rid)
    stderr.print(f"lab {literal(rid)} is up in {literal(state.resource_group)}; next: "
                 f"`pullpath lab trigger "
                 f"--run-id {rid}`, `pullpath lab collect --run-id {rid} --after TIME`, "
                 f"`pullpath lab down --run-id {rid}`")


@lab_app.command("trigger")
def trigger_cmd(
    run_id: str = _RUN_ID,
    trigger: str = _TRIGGER,
    delivery_timeout: float = _DELIVERY_TIMEOUT,
    poll: float = _POLL,
    subscription: str | None = _SUBSCRIPTION,
    tenant: str | None = _TENANT,
) -> None:
    """Make every consumer pull again (default: stop then start, as in the field report),
    once the diagnostic setting is proven to deliver (the consumers' first pulls are in the
    workspace). Prints the time it was asked: give it to `lab collect --after`."""
    rid = _run_id(run_id)
    mode = _trigger_mode(trigger)
    waits = _waits(poll, 0.0, delivery_timeout)
    runner = _runner(subscription, tenant)
    try:
        state = runner.state(rid)
        if state.consumer_ids:
            runner.wait_for_delivery(state, since=_group_start(state), waits=waits)
        asked = runner.trigger(state, mode=mode)
    except _lab_errors() as exc:
        fail(str(exc))
    typer.echo(asked.isoformat().replace("+00:00", "Z"))


@lab_app.command("collect")
def collect_cmd(
    run_id: str = _RUN_ID,
    since: datetime | None = typer.Option(None, "--since", formats=_TIME_FORMATS,
                                          help="Events from this UTC time (default: a day "
                                               "ago)."),
    after: datetime | None = typer.Option(None, "--after", formats=_TIME_FORMATS,
                                          help="Wait for each consumer's pull after this UTC "
                                               "time (the time `lab trigger` printed)."),
    collect_timeout: float = typer.Option(1800.0, "--collect-timeout",
                                          help="Give up waiting after this many seconds."),
    first_delay: float = typer.Option(60.0, "--first-delay", help="Seconds before poll 2."),
    max_delay: float = typer.Option(300.0, "--max-delay", help="Longest wait between polls."),
    service_tags: Path | None = typer.Option(None, "--service-tags",
                                             help="Service tag file (default: bundled)."),
    subscription: str | None = _SUBSCRIPTION,
    tenant: str | None = _TENANT,
    format_name: ReportFormat | None = _REPORT_FORMAT,
    output: Path | None = _OUTPUT,
) -> None:
    """Wait for the registry's events in the workspace, audit them, print the lab report."""
    from pullpath.lab.session import observe

    fmt = output_format(format_name, output, "lab collect", REPORT_FORMATS)
    guard_outputs([("--output", output)], [("--service-tags", service_tags)])
    rid = _run_id(run_id)
    settings = _poll(first_delay, max_delay, collect_timeout)
    tags = _tags(service_tags)
    runner = _runner(subscription, tenant)
    try:
        state = runner.state(rid)
        report = observe(runner, state, since=_utc(since) or _group_start(state),
                         settings=settings, tags=tags, after=_utc(after))
    except _lab_errors() as exc:
        fail(str(exc))
    _emit_report(report, fmt, output)


def _write_record(report: LabReport, path: Path) -> None:
    from pullpath.formatters.lab_record import lab_record
    from pullpath.lab.report import measured_sources

    entries = measured_sources(report)
    write_output(lab_record(report, entries), path)
    skipped = len(report.consumers) - len(entries)
    stderr.print(f"recorded {len(entries)} observation(s) in {literal(str(path))}"
                 + (f"; {skipped} consumer(s) settled on no path and were not recorded"
                    if skipped else ""))



def _utc(when: datetime | None) -> datetime | None:
    return when.replace(tzinfo=UTC) if when is not None and when.tzinfo is None else when


def _group_start(state: Any) -> datetime:
    # the state rebuilt from Azure has no creation time: look back one day
    from datetime import timedelta

    return datetime.now(UTC) - timedelta(days=1)


@lab_app.command("down")
def down_cmd(
    run_id: str = _RUN_ID,
    resource_group: str | None = typer.Option(
        None, "--resource-group", "-g",
        help="Group to delete (default rg-pullpath-lab-RUNID). Refused unless it carries "
             "pullpath's tags with this run ID."),
    no_wait: bool = typer.Option(False, "--no-wait", help="Do not wait for the deletion."),
    subscription: str | None = _SUBSCRIPTION,
    tenant: str | None = _TENANT,
) -> None:
    """Delete a lab's resource group: only one that pullpath created for this run ID."""
    rid = _run_id(run_id)
    runner = _runner(subscription, tenant)
    try:
        name = runner.down(rid, resource_group=resource_group, wait=not no_wait)
    except _lab_errors() as exc:
        fail(str(exc))
    typer.echo(name)


@lab_app.command("list")
def list_cmd(
    subscription: str | None = _SUBSCRIPTION,
    tenant: str | None = _TENANT,
    format_name: PlainFormat | None = _FORMAT,
) -> None:
    """Leftover lab resource groups (tagged pullpath-lab and created-by pullpath)."""
    fmt = output_format(format_name, None, "lab list", get_args(PlainFormat))
    runner = _runner(subscription, tenant)
    try:
        found = runner.leftovers()
    except _lab_errors() as exc:
        fail(str(exc))
    if fmt is Format.JSON:
        write_output(json.dumps([{"run_id": x.run_id, "resource_group": x.resource_group,
                                  "location": x.location, "scenario": x.scenario,
                                  "tags": dict(x.tags)} for x in found], indent=2) + "\n", None)
        return
    if not found:
        typer.echo("no pullpath lab resource groups in the subscription")
    for x in found:
        typer.echo(f"{x.run_id}\t{x.resource_group}\t{x.location}\t{x.scenario}")


@lab_app.command("run")
def run_cmd(
    scenario: str = _SCENARIO,
    variant: str | None = _VARIANT,
    location: str = _LOCATION,
    run_id: str | None = typer.Option(None, "--run-id", help="Default: a new random one."),
    keep: bool = typer.Option(False, "--keep", help="Do not delete the lab at the end."),
    trigger: str = _TRIGGER,
    role_timeout: float = _ROLE_TIMEOUT,
    delivery_timeout: float = _DELIVERY_TIMEOUT,
    poll: float = _POLL,
    collect_timeout: float = typer.Option(1800.0, "--collect-timeout",
                                          help="Give up waiting for events after N seconds."),
    first_delay: float = typer.Option(60.0, "--first-delay", help="Seconds before poll 2."),
    max_delay: float = typer.Option(300.0, "--max-delay", help="Longest wait between polls."),
    service_tags: Path | None = typer.Option(None, "--service-tags",
                                             help="Service tag file (default: bundled)."),
    fail_on_disagreement: bool = typer.Option(False, "--fail-on-disagreement",
                                              help="Exit 1 when an observation contradicts "
                                                   "the prediction, or (fails closed) when a "
                                                   "consumer's pulls were not observed or the "
                                                   "audit could not decide their path."),
    allow_partial: bool = typer.Option(False, "--allow-partial",
                                       help="With --fail-on-disagreement: pass although some "
                                            "consumers were not observed or inconclusive."),
    record: Path | None = typer.Option(None, "--record",
                                       help="Write the run's observations to FILE as "
                                            "`measured` knowledge-base sources (YAML), ready "
                                            "to add to src/pullpath/knowledge/."),
    subscription: str | None = _SUBSCRIPTION,
    tenant: str | None = _TENANT,
    format_name: ReportFormat | None = _REPORT_FORMAT,
    output: Path | None = _OUTPUT,
) -> None:
    """All of it, with honest waits: up (waits until the AcrPull assignments are listed and
    retries consumers the registry refuses while they propagate), waits until the diagnostic
    setting delivers, triggers (stop then start), collects the pulls after the trigger,
    reports; the resource group is deleted at the end (also after a failure or Ctrl-C) unless
    --keep."""
    from pullpath.lab.session import run_lab

    fmt = output_format(format_name, output, "lab run", REPORT_FORMATS)
    guard_outputs([("--output", output), ("--record", record)],
                  [("--service-tags", service_tags), ("scenario", _scenario_file(scenario))])
    s = _scenario(scenario, variant)
    rid = _run_id(run_id)
    mode = _trigger_mode(trigger)
    settings = _poll(first_delay, max_delay, collect_timeout)
    waits = _waits(poll, role_timeout, delivery_timeout)
    if record is not None and record.exists() and record.is_dir():
        fail(f"--record {record} is a directory", hint="give a file name, e.g. measured.yaml")
    tags = _tags(service_tags)
    runner = _runner(subscription, tenant)
    stderr.print(f"lab run {literal(rid)}: {literal(s.ident)} in {literal(location)}")
    outcome = run_lab(runner, s, location=location, run_id=rid, settings=settings, tags=tags,
                      keep=keep, trigger=mode, waits=waits)
    if outcome.report is not None:
        _emit_report(outcome.report, fmt, output)
        if record is not None:
            _write_record(outcome.report, record)
    if outcome.teardown_error:
        fail(f"teardown of run {rid} failed: {outcome.teardown_error}",
             hint=f"run `pullpath lab down --run-id {rid}`")
    if outcome.error:
        fail(f"lab run {rid} stopped: {outcome.error}")
    if fail_on_disagreement and outcome.report is not None:
        problems = disagreement_problems(outcome.report, allow_partial=allow_partial)
        for problem in problems:
            stderr.print(f"[bold red]--fail-on-disagreement:[/] {literal(problem)}")
        if problems:
            raise typer.Exit(EXIT_FAIL_ON)


def disagreement_problems(report: LabReport, *, allow_partial: bool = False) -> list[str]:
    """Why ``--fail-on-disagreement`` fails, one line each ([] when it passes): a consumer's
    observation contradicts the prediction, or (unless ``allow_partial``) nothing confirms it:
    its pulls were not observed or the audit could not decide their path."""
    from pullpath.lab.report import DISAGREES, INCONCLUSIVE, NOT_OBSERVED

    def names(agreement: str) -> list[str]:
        return [c.name for c in report.consumers if c.agreement == agreement]

    problems = []
    if names(DISAGREES):
        problems.append(f"{len(names(DISAGREES))} consumer(s) contradict the prediction: "
                        f"{', '.join(names(DISAGREES))}")
    unproven = [f"{name} {agreement}" for agreement in (NOT_OBSERVED, INCONCLUSIVE)
                for name in names(agreement)]
    if unproven and not allow_partial:
        problems.append(f"{len(unproven)} consumer(s) without evidence for or against the "
                        f"prediction ({', '.join(unproven)}); pass --allow-partial to accept")
    return problems
