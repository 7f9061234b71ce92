"""The Azure CLI script equivalent to a rendered lab (pure text; pullpath never runs it).

It builds the same resources as the ARM templates, in the same order, in the style of the
field report's ``az container create ... --acr-identity $USERID --assign-identity $USERID
--vnet ...`` line, and waits where ``pullpath lab run`` waits, with loops bounded by the same
timeouts (never a fixed sleep in the hope that something is ready):

- after the ``AcrPull`` assignments, until each is listed on the registry;
- while a consumer's creation fails because the registry refuses its identity (the role
  assignment is not effective yet), it is retried until the role timeout has passed;
- before the trigger, until the diagnostic setting has delivered the consumers' first events;
- after the trigger, until each consumer's new pull is in the workspace.

Only commands of the Azure CLI itself are used (no extension): the log query goes through
``az rest`` to the Log Analytics query API, and Container Apps' stop and start (which the core
CLI does not have) through ``az rest`` to the Container Apps REST API. ``az container create``
takes no ``--tags``: the container group is tagged afterwards with ``az tag update``.
"""

from __future__ import annotations

from functools import lru_cache
from shlex import quote

from jinja2 import Environment, PackageLoader, StrictUndefined, Template

from pullpath.lab.render import (
    ACR_PULL_ROLE_ID,
    API_VERSIONS,
    LAB_TAG,
    PRIVATE_DNS_ZONE,
    SCENARIO_TAG,
    RenderedLab,
    switches_bypass_after_import,
)

__all__ = ["DEFAULT_TIMEOUTS", "az_cli_script"]

DEFAULT_TIMEOUTS = {"POLL": 30, "ROLE_TIMEOUT": 900, "DELIVERY_TIMEOUT": 1800,
                    "COLLECT_TIMEOUT": 1800}
"""The script's waits in seconds (the runner's defaults); each can be set in the environment."""

_LOGS_QUERY = ('az rest --method post --url "https://api.loganalytics.io/v1/workspaces/'
               '$WORKSPACE_GUID/query" --resource https://api.loganalytics.io')


def _var(key: str) -> str:
    """A consumer's prefix for its shell variables (``ACI_USERID``)."""
    return key.upper()


def _flag(value: object) -> str:
    return "true" if value else "false"


@lru_cache(maxsize=1)
def _template() -> Template:
    # a bash script, not HTML: values are quoted for the shell by the q filter (shlex.quote)
    env = Environment(loader=PackageLoader("pullpath.lab", "templates"),
                      autoescape=False,  # noqa: S701
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    env.filters["q"] = lambda value: quote(str(value))
    env.filters["var"] = _var
    return env.get_template("az_cli.sh.j2")


def az_cli_script(lab: RenderedLab) -> str:
    """The script (``lab/templates/az_cli.sh.j2``): every value from the rendered lab is
    quoted for bash (the ``q`` filter) or is a name pullpath generated and checked."""
    s = lab.scenario
    switch = switches_bypass_after_import(s)
    return _template().render(
        lab=lab, s=s, n=lab.names, reg=s.registry, switch=switch,
        # the import needs the bypass while public access is off: on now, off after the import
        bypass_now=s.registry.trusted_services or switch,
        aca=[c for c in s.consumers if c.kind == "aca"],
        timeouts=DEFAULT_TIMEOUTS, lab_tag=LAB_TAG, scenario_tag=SCENARIO_TAG,
        acr_pull=ACR_PULL_ROLE_ID, dns_zone=PRIVATE_DNS_ZONE, logs_query=_LOGS_QUERY,
        apps_api=API_VERSIONS["Microsoft.App/containerApps"], flag=_flag,
    )
