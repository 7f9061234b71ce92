"""The lab report as a table for the terminal (``--format table``)."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table
from rich.text import Text

from pullpath.domain.report import AGREES, DISAGREES, INCONCLUSIVE, NOT_OBSERVED, LabReport
from pullpath.domain.resource_id import name_of
from pullpath.formatters.common import iso, term_safe

_AGREEMENT_STYLE = {AGREES: "bold green", DISAGREES: "bold red", NOT_OBSERVED: "yellow",
                    INCONCLUSIVE: "yellow"}


def lab_table(report: LabReport, *, width: int = 140) -> str:
    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=False, highlight=False,
                      soft_wrap=False)
    s = report.scenario
    console.print(f"pullpath lab {term_safe(s.ident)} — run {report.run_id}, "
                  f"{report.resource_group} ({report.location}), {report.today.isoformat()}")
    console.print(f"question: {term_safe(s.question, 400)}")
    table = Table(title="Documentation, prediction and observation", title_justify="left")
    for heading in ("Consumer", "Documented", "Predicted", "Observed", "Caller IPs (source)",
                    "Docs held", "Agreement"):
        table.add_column(heading, overflow="fold")
    for c in report.consumers:
        evidence = []
        for e in c.evidence[:5]:
            where = e.service_tag or name_of(e.owner)
            owned = "in subscription" if e.belongs_to_subscription else "no resource of ours"
            evidence.append(f"{term_safe(e.caller_ip, 60)} {e.source_kind} {term_safe(where, 60)}"
                            f" ({owned}) {e.result} x{e.count}")
        if c.deployment_errors:
            evidence.append("deployment error: " + ", ".join(c.deployment_errors))
        table.add_row(  # Text, never str: logged values must not be parsed as rich markup
            Text(f"{c.kind} {term_safe(c.name, 60)}"),
            Text(c.documented.path.value if c.documented else "-"),
            Text(f"{c.prediction.path.value} ({c.prediction.source})"),
            Text(term_safe(c.observed, 200)),
            Text("\n".join(evidence) or "-"),
            Text(c.documentation),
            Text(c.agreement, style=_AGREEMENT_STYLE[c.agreement]),
        )
    if report.trigger:
        console.print(f"trigger: {report.trigger} at {iso(report.triggered)}")
    console.print(table)
    for c in report.consumers:
        console.print(f"- {term_safe(c.knowledge_update, 1000)}", markup=False)
    if report.unattributed:
        console.print(f"{len(report.unattributed)} flow(s) not attributed to a lab consumer:")
        for e in report.unattributed[:10]:
            console.print(f"  {term_safe(e.caller_ip, 60)} {e.source_kind} {e.path.value} "
                          f"{term_safe(e.operation, 30)} {e.result} x{e.count}", markup=False)
    col = report.collect
    if col:
        console.print(f"collect: {col.get('events', 0)} event(s) in {col.get('polls', 0)} "
                      f"poll(s), {col.get('elapsed_s', 0):.0f}s, "
                      f"{'complete' if col.get('complete') else 'incomplete'}")
        if col.get("message"):
            console.print(f"  {term_safe(str(col['message']), 600)}", markup=False)
    if report.torn_down is not None:
        console.print("teardown: " + ("resource group deleted" if report.torn_down
                                      else "KEPT (delete it with `pullpath lab down --run-id "
                                      f"{report.run_id}`)"))
    for w in report.warnings:
        console.print(f"warning: {term_safe(w, 600)}", markup=False)
    return buf.getvalue()
